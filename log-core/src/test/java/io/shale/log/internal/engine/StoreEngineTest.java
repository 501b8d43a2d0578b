package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.AppendResult;
import io.shale.log.ErrorKind;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.OffsetAndTimestamp;
import io.shale.log.ShaleException;
import io.shale.log.StoreConfig;
import io.shale.log.TopicConfig;
import io.shale.log.TopicPartition;
import io.shale.log.record.CompressionType;
import io.shale.log.record.Record;
import io.shale.log.record.RecordBatch;
import io.shale.log.record.RecordBatchBuilder;
import io.shale.log.record.SimpleRecord;
import io.shale.log.testing.InMemoryObjectStore;
import io.shale.log.testing.InMemoryWal;
import io.shale.log.testing.MutableClock;
import io.shale.log.testing.SharedObjectStore;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class StoreEngineTest extends EngineFixture {
    // ------------------------------------------------------------------ basics

    @Test
    void appendShouldAssignConsecutiveOffsetsAndReadShouldReturnTheRecords() {
        StoreEngine s = open();
        s.createTopic("events", 2);
        TopicPartition tp = TopicPartition.of("events", 1);
        AppendResult a = append(s, tp, "a", "b", "c");
        AppendResult b = append(s, tp, "d");
        assertThat(a.baseOffset()).isEqualTo(0);
        assertThat(a.lastOffset()).isEqualTo(2);
        assertThat(b.baseOffset()).isEqualTo(3);
        assertThat(s.highWatermark(tp)).isEqualTo(4);
        FetchResult f = s.read(tp, 0, 1 << 20);
        assertThat(values(f)).containsExactly("a", "b", "c", "d");
        assertThat(f.nextOffset()).isEqualTo(4);
        assertThat(s.read(TopicPartition.of("events", 0), 0, 100).isEmpty()).isTrue();
    }

    @Test
    void readFromTheMiddleOfABatchShouldReturnTheWholeBatchButOnlyLaterRecords() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        append(s, tp, "a", "b", "c");
        FetchResult f = s.read(tp, 1, 1 << 20);
        assertThat(f.batches()).hasSize(1);
        assertThat(f.batches().get(0).baseOffset()).isEqualTo(0);
        assertThat(values(f)).containsExactly("b", "c");
    }

    @Test
    void readShouldRespectMaxBytesButAlwaysReturnTheFirstBatch() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        for (int i = 0; i < 10; i++) {
            append(s, tp, "v" + i);
        }
        FetchResult one = s.read(tp, 0, 1);
        assertThat(one.batches()).hasSize(1);
        int size = one.batches().get(0).sizeInBytes();
        FetchResult three = s.read(tp, 0, size * 3);
        assertThat(three.batches()).hasSize(3);
        assertThat(three.nextOffset()).isEqualTo(3);
    }

    @Test
    void tailReadsShouldBeViewsOfTheAppendedBytesNotCopies() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        append(s, tp, "x");
        RecordBatch read = s.read(tp, 0, 100).batches().get(0);
        assertThat(read.buffer().isReadOnly()).isTrue();
        // Change the byte in the log cache behind the reader's back: a view sees it, a copy would not.
        CachedBatch cached = s.partition(tp).cachedAt(0);
        int last = cached.data.capacity() - 1;
        byte before = read.buffer().get(last);
        cached.data.put(last, (byte) (before ^ 0x5A));
        assertThat(read.buffer().get(last)).isEqualTo((byte) (before ^ 0x5A));
        cached.data.put(last, before);
    }

    @Test
    void appendBatchShouldStampOffsetsAndKeepTheBatchBytes() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        append(s, tp, "first");
        ByteBuffer batch = new RecordBatchBuilder().compression(CompressionType.LZ4)
                .append(SimpleRecord.of(clock.millis(), "k".getBytes(), "v1".getBytes()))
                .append(SimpleRecord.of(clock.millis(), "k".getBytes(), "v2".getBytes()))
                .build();
        AppendResult r = s.appendBatch(tp, batch).join();
        assertThat(r.baseOffset()).isEqualTo(1);
        assertThat(r.lastOffset()).isEqualTo(2);
        FetchResult f = s.read(tp, 1, 1 << 20);
        assertThat(f.batches().get(0).compressionType()).isEqualTo(CompressionType.LZ4);
        assertThat(f.batches().get(0).isValid()).isTrue();
        assertThat(values(f)).containsExactly("v1", "v2");
        // the caller's buffer may be reused afterwards
        batch.clear();
        while (batch.hasRemaining()) {
            batch.put((byte) 0);
        }
        assertThat(values(s.read(tp, 1, 1 << 20))).containsExactly("v1", "v2");
    }

    @Test
    void logAppendTimeTopicsShouldStampTheBatchTimestampAndKeepTheCrcValid() {
        StoreEngine s = open();
        s.createTopic("t", 1, Map.of(TopicConfig.MESSAGE_TIMESTAMP_TYPE, "LogAppendTime"));
        TopicPartition tp = TopicPartition.of("t", 0);
        ByteBuffer batch = new RecordBatchBuilder()
                .append(SimpleRecord.of(clock.millis() - 5_000, null, "v".getBytes())).build();
        AppendResult r = s.appendBatch(tp, batch).join();
        assertThat(r.logAppendTime()).isEqualTo(clock.millis());
        RecordBatch stored = s.read(tp, 0, 1000).batches().get(0);
        assertThat(stored.isValid()).isTrue();
        assertThat(stored.maxTimestamp()).isEqualTo(clock.millis());
        assertThat(stored.iterator().next().timestamp()).isEqualTo(clock.millis());
    }

    // ------------------------------------------------------------------ bad input

    @Test
    void badInputShouldFailWithClearKinds() {
        StoreEngine s = open();
        s.createTopic("t", 1, Map.of(TopicConfig.MAX_MESSAGE_BYTES, 200));
        TopicPartition tp = TopicPartition.of("t", 0);
        assertKind(() -> s.createTopic("t", 1), ErrorKind.TOPIC_ALREADY_EXISTS);
        assertKind(() -> s.createTopic("../etc", 1), ErrorKind.INVALID_ARGUMENT);
        assertKind(() -> s.createTopic("..", 1), ErrorKind.INVALID_ARGUMENT);
        assertKind(() -> s.createTopic("a/b", 1), ErrorKind.INVALID_ARGUMENT);
        assertKind(() -> s.createTopic("x".repeat(250), 1), ErrorKind.INVALID_ARGUMENT);
        assertKind(() -> s.createTopic("ok", 0), ErrorKind.INVALID_ARGUMENT);
        assertKind(() -> s.createTopic("ok", 1, Map.of("retention.msx", 1)), ErrorKind.INVALID_ARGUMENT);
        assertKind(() -> s.createTopic("ok", 1, Map.of("retention.ms", "soon")), ErrorKind.INVALID_ARGUMENT);
        assertKind(() -> s.append(TopicPartition.of("nope", 0), List.of(rec("k", "v"))).join(),
                ErrorKind.UNKNOWN_TOPIC_OR_PARTITION);
        assertKind(() -> s.append(TopicPartition.of("t", 1), List.of(rec("k", "v"))).join(),
                ErrorKind.UNKNOWN_TOPIC_OR_PARTITION);
        assertKind(() -> s.append(tp, List.of(rec("k", "x".repeat(500)))).join(), ErrorKind.RECORD_TOO_LARGE);
        append(s, tp, "ok");
        assertKind(() -> s.read(tp, 5, 100), ErrorKind.OFFSET_OUT_OF_RANGE);
        assertKind(() -> s.read(tp, -1, 100), ErrorKind.OFFSET_OUT_OF_RANGE);

        ByteBuffer good = new RecordBatchBuilder().append(SimpleRecord.of(clock.millis(), null, "v".getBytes())).build();
        ByteBuffer badCrc = copy(good);
        badCrc.put(badCrc.limit() - 1, (byte) (badCrc.get(badCrc.limit() - 1) ^ 1));
        assertKind(() -> s.appendBatch(tp, badCrc).join(), ErrorKind.CORRUPT_RECORD);
        ByteBuffer badMagic = copy(good);
        badMagic.put(16, (byte) 1);
        assertKind(() -> s.appendBatch(tp, badMagic).join(), ErrorKind.CORRUPT_RECORD);
        ByteBuffer truncated = copy(good).limit(good.limit() - 3);
        assertKind(() -> s.appendBatch(tp, truncated).join(), ErrorKind.CORRUPT_RECORD);
        // nothing acknowledged was affected
        assertThat(readAll(s, tp)).containsExactly("ok");
        s.close();
        assertKind(() -> s.append(tp, List.of(rec("k", "v"))).join(), ErrorKind.CLOSED);
        assertKind(() -> s.read(tp, 0, 100), ErrorKind.CLOSED);
    }

    /**
     * A null record in the list is bad input: it failed with UNAVAILABLE ("failed unexpectedly",
     * a kind callers retry) and an ERROR log with a stack trace.
     */
    @Test
    void aNullRecordInTheListShouldFailWithInvalidArgumentNamingIt() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        List<SimpleRecord> records = new ArrayList<>(List.of(rec("k", "a")));
        records.add(null);
        assertThatThrownBy(() -> s.append(tp, records).join()).cause()
                .isInstanceOfSatisfying(ShaleException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains("t-0").contains("record 1 of 2 is null");
                });
        append(s, tp, "ok");
        assertThat(readAll(s, tp)).containsExactly("ok");
    }

    /**
     * A long poll waiting on a partition whose topic is deleted: it completed with an empty result
     * (and the deleted log's high watermark), as if the topic were alive and quiet; a consumer then
     * polled on, and after a re-creation read the new topic's records as the old one's.
     */
    @Test
    void aLongPollOnADeletedTopicShouldFailWithUnknownTopic() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        append(s, tp, "a");
        CompletableFuture<FetchResult> poll = s.poll(tp, 1, 1 << 20, Duration.ofHours(1));
        s.deleteTopic("t");
        assertThatThrownBy(() -> poll.orTimeout(30, TimeUnit.SECONDS).join()).cause()
                .isInstanceOfSatisfying(ShaleException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.UNKNOWN_TOPIC_OR_PARTITION);
                    assertThat(e.getMessage()).contains("t-0").contains("deleted");
                });
    }

    private static ByteBuffer copy(ByteBuffer b) {
        ByteBuffer c = ByteBuffer.allocate(b.remaining());
        c.put(b.duplicate()).flip();
        return c;
    }

    // ------------------------------------------------------------------ tiering

    @Test
    void flushShouldWriteOneObjectForAllPartitionsAndReadsShouldComeBackFromIt() {
        StoreEngine s = open();
        s.createTopic("t", 50);
        for (int p = 0; p < 50; p++) {
            append(s, TopicPartition.of("t", p), "p" + p + "-a", "p" + p + "-b");
        }
        long before = dataObjects();
        s.flush();
        assertThat(dataObjects() - before).isEqualTo(1);
        s.close();
        StoreEngine again = open();
        for (int p = 0; p < 50; p++) {
            TopicPartition tp = TopicPartition.of("t", p);
            assertThat(again.highWatermark(tp)).isEqualTo(2);
            assertThat(readAll(again, tp)).containsExactly("p" + p + "-a", "p" + p + "-b");
        }
        assertThat(again.remote.gets.get()).isGreaterThan(0);
    }

    @Test
    void restartAfterCrashShouldRecoverAcknowledgedRecordsExactlyOnceFromTheWal() {
        StoreEngine s = open();
        s.createTopic("t", 3);
        TopicPartition tp = TopicPartition.of("t", 1);
        append(s, tp, "a", "b");
        s.flush();
        append(s, tp, "c");
        append(s, tp, "d", "e");
        s.crashForTesting();
        wal.crash();
        StoreEngine again = open();
        assertThat(again.highWatermark(tp)).isEqualTo(5);
        assertThat(readAll(again, tp)).containsExactly("a", "b", "c", "d", "e");
        AppendResult next = append(again, tp, "f");
        assertThat(next.baseOffset()).isEqualTo(5);
        again.flush();
        again.close();
        StoreEngine third = open();
        assertThat(readAll(third, tp)).containsExactly("a", "b", "c", "d", "e", "f");
    }

    @Test
    void walFailureShouldRollBackSoNoReaderSeesAGapAndOffsetsAreReused() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        append(s, tp, "a");
        wal.holdCompletions(true);
        CompletableFuture<AppendResult> f1 = s.append(tp, List.of(rec("k", "b")));
        CompletableFuture<AppendResult> f2 = s.append(tp, List.of(rec("k", "c")));
        wal.holdCompletions(false);
        wal.releaseHeldFailing(java.util.Set.of(0));
        assertKind(f1::join, ErrorKind.UNAVAILABLE);
        assertKind(f2::join, ErrorKind.UNAVAILABLE);
        assertThat(s.highWatermark(tp)).isEqualTo(1);
        AppendResult again = append(s, tp, "d");
        assertThat(again.baseOffset()).isEqualTo(1);
        assertThat(readAll(s, tp)).containsExactly("a", "d");
        s.crashForTesting();
        wal.crash();
        // the WAL still holds "c" at offset 2 (it was written after "b" failed); recovery must not serve it
        StoreEngine after = open();
        assertThat(readAll(after, tp)).containsExactly("a", "d");
    }

    @Test
    void recoveryShouldSkipAWalEntryWrittenAfterAFailedOneWhenNothingReplacedIt() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        append(s, tp, "a");
        wal.holdCompletions(true);
        CompletableFuture<AppendResult> failed = s.append(tp, List.of(rec("k", "b")));
        CompletableFuture<AppendResult> rolledBack = s.append(tp, List.of(rec("k", "c")));
        wal.holdCompletions(false);
        wal.releaseHeldFailing(java.util.Set.of(0));
        assertKind(failed::join, ErrorKind.UNAVAILABLE);
        assertKind(rolledBack::join, ErrorKind.UNAVAILABLE);
        s.crashForTesting();
        wal.crash();
        StoreEngine after = open();
        assertThat(after.highWatermark(tp)).isEqualTo(1);
        assertThat(readAll(after, tp)).containsExactly("a");
        assertThat(append(after, tp, "d").baseOffset()).isEqualTo(1);
    }

    @Test
    @org.junit.jupiter.api.Timeout(60)
    void appendsBlockedByWalBackPressureShouldNotDeadlockWithCompletionsOfTheSamePartition() throws Exception {
        // Regression: the WAL call used to run under the partition's monitor, which the WAL's
        // completion callback also needs; a WAL that blocks append until earlier entries complete
        // then deadlocked.
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        wal.maxOutstanding(1);
        List<CompletableFuture<AppendResult>> all = new ArrayList<>();
        Thread[] producers = new Thread[4];
        for (int t = 0; t < producers.length; t++) {
            int id = t;
            producers[t] = new Thread(() -> {
                for (int i = 0; i < 200; i++) {
                    CompletableFuture<AppendResult> f = s.append(tp, List.of(rec("k", id + "-" + i)));
                    synchronized (all) {
                        all.add(f);
                    }
                }
            });
            producers[t].start();
        }
        for (Thread t : producers) {
            t.join();
        }
        for (CompletableFuture<AppendResult> f : all) {
            f.join();
        }
        assertThat(s.highWatermark(tp)).isEqualTo(800);
    }

    @Test
    void aSteadyWriteLoadShouldRecycleCacheMemoryAndStillReadEverythingBack() {
        StoreEngine s = open(Map.of(StoreConfig.LOG_CACHE_BYTES, 1 << 20)); // 64 KiB chunks
        s.createTopic("t", 2);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            String v = "value-" + i + "-" + "z".repeat(6000);
            append(s, TopicPartition.of("t", i % 2), v);
            if (i % 2 == 0) {
                expected.add(v);
            }
            if (i % 20 == 19) {
                s.flush();
            }
        }
        assertThat(s.cache.recycledChunks()).as("chunks reused instead of allocated").isGreaterThan(0);
        s.flush();
        s.close();
        assertThat(readAll(open(), TopicPartition.of("t", 0))).isEqualTo(expected);
    }

    @Test
    void memoryAReaderHoldsAViewOfShouldNeverBeRecycled() {
        StoreEngine s = open(Map.of(StoreConfig.LOG_CACHE_BYTES, 1 << 20));
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        append(s, tp, "keep-me-" + "k".repeat(3000));
        RecordBatch held = s.read(tp, 0, 1 << 20).batches().get(0);
        ByteBuffer before = copy(held.buffer());
        for (int i = 0; i < 600; i++) {
            append(s, tp, "filler-" + i + "-" + "f".repeat(3000));
            if (i % 20 == 19) {
                s.flush();
            }
        }
        assertThat(s.cache.recycledChunks()).as("the test must have forced recycling").isGreaterThan(0);
        assertThat(held.buffer()).isEqualTo(before);
        assertThat(held.isValid()).isTrue();
        assertThat(value(held.iterator().next())).startsWith("keep-me-");
    }

    @Test
    void highWatermarkShouldNotPassANonDurableBatch() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        wal.holdCompletions(true);
        CompletableFuture<AppendResult> f = s.append(tp, List.of(rec("k", "a")));
        assertThat(s.highWatermark(tp)).isEqualTo(0);
        assertThat(s.read(tp, 0, 100).isEmpty()).isTrue();
        assertThat(f).isNotDone();
        wal.holdCompletions(false);
        wal.releaseHeld();
        assertThat(f.join().baseOffset()).isEqualTo(0);
        assertThat(s.highWatermark(tp)).isEqualTo(1);
    }

    @Test
    void aNewWriterShouldFenceTheOldOneWhoseNextCommitFails() {
        StoreEngine first = open();
        first.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        append(first, tp, "a");
        first.flush();
        InMemoryWal otherWal = new InMemoryWal();
        StoreEngine second = (StoreEngine) StoreEngine.open(new SharedObjectStore(objects), otherWal, clock,
                StoreConfig.of(QUIET));
        opened.add(second);
        assertThat(second.catalog.writerEpoch()).isGreaterThan(first.catalog.writerEpoch());
        append(first, tp, "zombie");
        assertKind(first::flush, ErrorKind.FENCED);
        assertKind(() -> first.append(tp, List.of(rec("k", "late"))).join(), ErrorKind.FENCED);
        assertKind(() -> first.createTopic("other", 1), ErrorKind.FENCED);
        append(second, tp, "b");
        second.flush();
        assertThat(readAll(second, tp)).containsExactly("a", "b");
    }

    @Test
    void readOnlyOpenersShouldSeeCommittedDataAsItIsCommitted() {
        StoreEngine w = open();
        w.createTopic("t", 2);
        TopicPartition tp = TopicPartition.of("t", 0);
        append(w, tp, "a");
        w.flush();
        StoreEngine r = openReadOnly();
        assertThat(r.isReadOnly()).isTrue();
        assertThat(readAll(r, tp)).containsExactly("a");
        CompletableFuture<FetchResult> poll = r.poll(tp, 1, 1 << 20, Duration.ofSeconds(30));
        append(w, tp, "b", "c");
        assertThat(r.highWatermark(tp)).isEqualTo(1); // not committed to the manifest yet
        w.flush();
        r.maintenance.runNow(r.maintenance::refresh);
        assertThat(values(poll.orTimeout(10, TimeUnit.SECONDS).join())).containsExactly("b", "c");
        assertThat(readAll(r, tp)).containsExactly("a", "b", "c");
        assertKind(() -> r.append(tp, List.of(rec("k", "v"))).join(), ErrorKind.READ_ONLY);
        assertKind(() -> r.createTopic("x", 1), ErrorKind.READ_ONLY);
        w.createTopic("later", 1);
        r.maintenance.runNow(r.maintenance::refresh);
        assertThat(r.listTopics()).containsExactly("later", "t");
    }

    @Test
    void pollShouldCompleteWhenDataArrivesOrEmptyAfterTheTimeout() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        CompletableFuture<FetchResult> waiting = s.poll(tp, 0, 1000, Duration.ofSeconds(30));
        assertThat(waiting).isNotDone();
        append(s, tp, "x");
        assertThat(values(waiting.orTimeout(10, TimeUnit.SECONDS).join())).containsExactly("x");
        FetchResult empty = s.poll(tp, 1, 1000, Duration.ofMillis(20)).orTimeout(10, TimeUnit.SECONDS).join();
        assertThat(empty.isEmpty()).isTrue();
        assertThat(empty.nextOffset()).isEqualTo(1);
    }

    @Test
    void offsetForTimestampShouldFollowKafkaListOffsetsSemanticsInCacheAndObjects() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        long t0 = clock.millis();
        s.append(tp, List.of(SimpleRecord.of(t0 - 300, null, "a".getBytes()),
                SimpleRecord.of(t0 - 100, null, "b".getBytes()))).join();
        s.flush();
        s.append(tp, List.of(SimpleRecord.of(t0 - 200, null, "c".getBytes()),
                SimpleRecord.of(t0, null, "d".getBytes()))).join();
        assertThat(s.offsetForTimestamp(tp, LogStore.EARLIEST_TIMESTAMP)).contains(new OffsetAndTimestamp(0, -1));
        assertThat(s.offsetForTimestamp(tp, LogStore.LATEST_TIMESTAMP)).contains(new OffsetAndTimestamp(4, -1));
        assertThat(s.offsetForTimestamp(tp, t0 - 1000)).contains(new OffsetAndTimestamp(0, t0 - 300));
        assertThat(s.offsetForTimestamp(tp, t0 - 250)).contains(new OffsetAndTimestamp(1, t0 - 100));
        assertThat(s.offsetForTimestamp(tp, t0 - 50)).contains(new OffsetAndTimestamp(3, t0));
        assertThat(s.offsetForTimestamp(tp, t0 + 1)).isEqualTo(Optional.empty());
    }

    @Test
    void deleteRecordsBeforeShouldMoveTheLogStartAndMakeEarlierOffsetsOutOfRange() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        append(s, tp, "a", "b");
        s.flush();
        append(s, tp, "c", "d");
        assertThat(s.deleteRecordsBefore(tp, 3)).isEqualTo(3);
        assertThat(s.logStartOffset(tp)).isEqualTo(3);
        assertKind(() -> s.read(tp, 2, 100), ErrorKind.OFFSET_OUT_OF_RANGE);
        assertThat(values(s.read(tp, 3, 1000))).containsExactly("d");
        assertKind(() -> s.deleteRecordsBefore(tp, 10), ErrorKind.OFFSET_OUT_OF_RANGE);
    }
}
