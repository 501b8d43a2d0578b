package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.AppendResult;
import io.shale.log.ErrorKind;
import io.shale.log.FetchResult;
import io.shale.log.ShaleException;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.record.RecordBatch;
import io.shale.log.record.RecordBatchBuilder;
import io.shale.log.record.SimpleRecord;
import io.shale.log.spi.ForwardingObjectStore;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.Payload;
import io.shale.log.spi.WalContext;
import io.shale.log.spi.WalEntry;
import io.shale.log.spi.WalReplayHandler;
import io.shale.log.spi.WriteAheadLog;
import io.shale.log.testing.InMemoryWal;
import io.shale.log.testing.SharedObjectStore;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Regression tests for the ways outsiders broke "an acknowledged append is never lost" (issue 9),
 * each through the public API where the defect can be reached that way. Every test here failed on
 * the engine before its fix.
 */
class AcknowledgedDataRegressionTest extends EngineFixture {

    private StoreEngine openWith(ObjectStore store, WriteAheadLog w, Map<String, ?> settings) {
        StoreEngine s = (StoreEngine) StoreEngine.open(store, w, clock, StoreConfig.of(QUIET).with(settings));
        opened.add(s);
        return s;
    }

    private static String big(String prefix, int size) {
        return prefix + "-" + "x".repeat(size);
    }

    // ------------------------------------------------------------------ 1. topic deletion

    /**
     * Deleting a topic released its already-uploaded batches a second time: the chunk they shared
     * with another topic's batch not yet uploaded was counted empty, evicted and recycled, and that
     * topic's acknowledged data was lost after a restart.
     */
    @Test
    void deletingATopicShouldNotLoseAnotherTopicsAcknowledgedData() {
        StoreEngine s = open(Map.of(StoreConfig.LOG_CACHE_BYTES, 1 << 20)); // 64 KiB chunks
        s.createTopic("doomed", 1);
        s.createTopic("kept", 1);
        TopicPartition doomed = TopicPartition.of("doomed", 0);
        TopicPartition kept = TopicPartition.of("kept", 0);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            append(s, doomed, big("d" + i, 2_000));
        }
        s.flush(); // uploaded: the cache released the doomed batches once
        for (int i = 0; i < 4; i++) {
            String v = big("k" + i, 2_000);
            append(s, kept, v); // same chunk, waiting for upload
            expected.add(v);
        }
        long waiting = s.cache.pendingBytes();
        s.deleteTopic("doomed");
        assertThat(s.cache.pendingBytes()).as("bytes still waiting for upload after the deletion").isEqualTo(waiting);
        // fill the cache so that chunks are evicted and recycled
        for (int i = 4; i < 1_200; i++) {
            String v = big("k" + i, 2_000);
            append(s, kept, v);
            expected.add(v);
        }
        s.flush();
        s.close();
        StoreEngine again = open();
        assertThat(again.highWatermark(kept)).isEqualTo(expected.size());
        assertThat(readAll(again, kept)).containsExactlyElementsOf(expected);
    }

    // ------------------------------------------------------------------ 2. recovery under memory pressure

    /**
     * When the log cache filled during WAL replay, what was replayed so far was uploaded: an entry
     * that had failed (but landed in the WAL) went into the manifest, and the acknowledged entry
     * that later reused its offsets was skipped.
     */
    @Test
    void recoveryWithASmallCacheShouldKeepTheAcknowledgedEntryNotTheFailedOneWithTheSameOffsets() {
        Map<String, Object> small = Map.of(StoreConfig.LOG_CACHE_BYTES, 1 << 20);
        StoreEngine s = open(); // a large cache: nothing is uploaded before the crash
        s.createTopic("t", 1);
        s.createTopic("filler", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        TopicPartition filler = TopicPartition.of("filler", 0);
        wal.failNextButKeep(1);
        CompletableFuture<AppendResult> failed = s.append(tp, List.of(rec("k", "failed-but-landed")));
        assertThatThrownBy(failed::join).hasCauseInstanceOf(ShaleException.class);
        // other data behind it, more than the cache of the next open holds
        List<String> fill = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            fill.add(big("f" + i, 4_000));
            append(s, filler, fill.get(i));
        }
        AppendResult acked = append(s, tp, "acknowledged");
        assertThat(acked.baseOffset()).as("the failed append's offset is reused").isZero();
        s.crashForTesting();
        wal.crash();
        opened.remove(s);

        StoreEngine again = open(small);
        assertThat(wal.replays).as("replayed twice: the cache could not hold the WAL").isGreaterThanOrEqualTo(2);
        assertThat(readAll(again, tp)).containsExactly("acknowledged");
        assertThat(readAll(again, filler)).containsExactlyElementsOf(fill);
    }

    // ------------------------------------------------------------------ 3. futures after fencing

    /**
     * With several WAL writes in flight, a durable batch can wait behind one that is not; fencing
     * failed only the batches that were not durable, so that durable one's future never completed,
     * not even on close.
     */
    @Test
    void everyAppendFutureShouldCompleteWhenTheWriterIsFencedWithWalWritesOutOfOrder() throws Exception {
        OutOfOrderWal ooo = new OutOfOrderWal();
        StoreEngine a = openWith(new SharedObjectStore(objects), ooo, Map.of());
        a.createTopic("t", 2);
        TopicPartition tp = TopicPartition.of("t", 0);
        ooo.hold = true;
        CompletableFuture<AppendResult> first = a.append(tp, List.of(rec("k", "first")));
        CompletableFuture<AppendResult> second = a.append(tp, List.of(rec("k", "second")));
        ooo.completeDurable(1); // the second is durable, the first still in flight
        assertThat(first).isNotDone();
        assertThat(second).isNotDone();
        ooo.hold = false;
        // a newer writer claims the store; the old one learns it at its next commit
        StoreEngine b = open();
        assertKind(() -> a.createTopic("another", 1), ErrorKind.FENCED);
        assertFailsWith(second, ErrorKind.FENCED);
        assertFailsWith(first, ErrorKind.FENCED);
        ooo.completeAll(); // the WAL answers late: nothing changes
        assertFailsWith(first, ErrorKind.FENCED);
        b.close();
    }

    @Test
    void everyAppendFutureShouldCompleteOnClose() throws Exception {
        OutOfOrderWal ooo = new OutOfOrderWal();
        ooo.failHeldOnClose = false; // a WAL that gives up without calling back
        StoreEngine a = openWith(new SharedObjectStore(objects), ooo, Map.of());
        a.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        ooo.hold = true;
        CompletableFuture<AppendResult> first = a.append(tp, List.of(rec("k", "first")));
        CompletableFuture<AppendResult> second = a.append(tp, List.of(rec("k", "second")));
        ooo.completeDurable(1);
        a.close();
        assertFailsWith(first, ErrorKind.CLOSED);
        assertFailsWith(second, ErrorKind.CLOSED);
    }

    // ------------------------------------------------------------------ 4. zombie orphan scan

    /**
     * An idle writer that a newer writer had fenced (without noticing) ran its orphan scan: it
     * deleted the newer writer's committed objects, which its own stale manifest did not know.
     */
    @Test
    void anIdleFencedWriterShouldNotDeleteTheNewWritersObjects() {
        Map<String, Object> shortGrace = Map.of(StoreConfig.OBJECT_DELETE_GRACE_MS, 1_000);
        StoreEngine a = open(shortGrace);
        a.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        append(a, tp, "from-a");
        a.flush();
        // an object the old writer wrote and never committed (a crash between PUT and commit)
        String ownOrphan = "data/" + io.shale.log.internal.util.StoreCalls.pad(1) + "-" + "9".repeat(20);
        objects.put(ownOrphan, Payload.of(new byte[8]), null).join();
        StoreEngine b = openWith(new SharedObjectStore(objects), new InMemoryWal(), shortGrace);
        append(b, tp, "from-b");
        b.flush();
        List<String> keysBefore = objects.keys();
        clock.advance(10_000);
        assertKind(() -> a.maintenance.runNow(a.maintenance::deleteOrphans), ErrorKind.FENCED);
        assertThat(objects.keys()).containsAll(keysBefore.stream().filter(k -> k.startsWith("data/")).toList());
        assertThat(a.isFenced()).as("the old writer found out before deleting anything").isTrue();
        StoreEngine reader = openReadOnly();
        assertThat(readAll(reader, tp)).containsExactly("from-a", "from-b");
        b.maintenance.runNow(b.maintenance::deleteOrphans); // the current writer may collect it
        assertThat(objects.keys()).doesNotContain(ownOrphan);
    }

    @Test
    void orphanScanShouldOnlyJudgeKeysOfItsOwnEpochOrOlder() {
        assertThat(Maintenance.writtenByThisEpochOrOlder("data/00000000000000000003-00000000000000000001", 3)).isTrue();
        assertThat(Maintenance.writtenByThisEpochOrOlder("data/00000000000000000002-c00000000000000000001", 3)).isTrue();
        assertThat(Maintenance.writtenByThisEpochOrOlder("data/00000000000000000004-00000000000000000001", 3)).isFalse();
        assertThat(Maintenance.writtenByThisEpochOrOlder("data/99999999999999999999-1", 3)).isFalse();
        assertThat(Maintenance.writtenByThisEpochOrOlder("data/0000000000000000000x-1", 3)).isFalse();
        assertThat(Maintenance.writtenByThisEpochOrOlder("data/3-1", 3)).isFalse();
        assertThat(Maintenance.writtenByThisEpochOrOlder("wal/00000000000000000001-1", 3)).isFalse();
    }

    // ------------------------------------------------------------------ 5. writer lease (local WAL)

    /**
     * With a WAL on local disk, a writer fenced by a newer one kept acknowledging appends (lost:
     * the new writer cannot see them) until its next manifest commit. Now it acknowledges only
     * within its lease, and never past the lease after the new writer's claim.
     */
    @Test
    void aFencedWriterWithALocalWalShouldStopAcknowledgingOnceItsLeaseRunsOut() {
        Map<String, Object> lease = Map.of(StoreConfig.WRITER_LEASE_MS, 5_000);
        StoreEngine a = open(lease);
        a.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        append(a, tp, "before");
        StoreEngine b = openWith(new SharedObjectStore(objects), new InMemoryWal(), lease);
        clock.advance(5_001); // the old writer's lease, confirmed no later than b's claim, has run out
        CompletableFuture<AppendResult> late = a.append(tp, List.of(rec("k", "after-lease")));
        assertFailsWith(late, ErrorKind.FENCED);
        assertKind(() -> append(a, tp, "more"), ErrorKind.FENCED);
        assertThat(readAll(b, tp)).doesNotContain("after-lease");
    }

    @Test
    void aWriterThatIsNotFencedShouldKeepAcknowledgingAcrossLeaseRenewals() {
        StoreEngine s = open(Map.of(StoreConfig.WRITER_LEASE_MS, 1_000));
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        for (int i = 0; i < 5; i++) {
            clock.advance(3_000); // far past the lease: each append waits for a renewal, which succeeds
            assertThat(append(s, tp, "v" + i).baseOffset()).isEqualTo(i);
        }
        assertThat(s.isFenced()).isFalse();
    }

    // ------------------------------------------------------------------ 6. commit's own landed delta

    /**
     * A manifest commit whose create-if-absent landed but whose retry was answered "already exists"
     * was reported FENCED without looking at the token.
     */
    @Test
    void aCommitWhoseOwnWriteLandedUnseenShouldSucceedNotBeFenced() {
        AtomicBoolean loseAnswer = new AtomicBoolean();
        ObjectStore lying = new ForwardingObjectStore(objects) {
            @Override
            public CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) {
                if (key.startsWith("manifest/deltas/") && loseAnswer.getAndSet(false)) {
                    // the write lands; the caller is told the key existed (a retry after a lost answer)
                    return objects.putIfAbsent(key, payload, token).thenApply(created -> false);
                }
                return objects.putIfAbsent(key, payload, token);
            }

            @Override
            public void close() {
            }
        };
        StoreEngine s = openWith(lying, wal, Map.of());
        loseAnswer.set(true);
        s.createTopic("t", 1);
        assertThat(s.isFenced()).isFalse();
        append(s, TopicPartition.of("t", 0), "still-the-writer");
        assertThat(openReadOnly().listTopics()).containsExactly("t");
    }

    // ------------------------------------------------------------------ 8. appendBatch edges

    /** An appendBatch over the WAL's entry limit threw IllegalArgumentException from an async method. */
    @Test
    void appendBatchOverTheWalEntryLimitShouldFailItsFutureNotThrow() {
        StoreEngine s = openWith(new SharedObjectStore(objects), new LimitedWal(wal, 64 << 20),
                Map.of(StoreConfig.LOG_CACHE_BYTES, 256L << 20));
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        ByteBuffer one = new RecordBatchBuilder().append(SimpleRecord.of(clock.millis(), null, new byte[900_000])).build();
        int copies = (65 << 20) / one.remaining() + 1;
        ByteBuffer many = ByteBuffer.allocate(one.remaining() * copies);
        for (int i = 0; i < copies; i++) {
            many.put(one.duplicate());
        }
        many.flip();
        CompletableFuture<AppendResult> f = s.appendBatch(tp, many);
        assertFailsWith(f, ErrorKind.RECORD_TOO_LARGE);
        assertThat(s.highWatermark(tp)).isZero();
    }

    @Test
    void aWalThatRejectsAnEntryShouldFailTheAppendsFutureNotThrow() {
        StoreEngine s = openWith(new SharedObjectStore(objects), new LimitedWal(wal, 100), Map.of());
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        assertFailsWith(s.append(tp, List.of(rec("k", "x".repeat(500)))), ErrorKind.INVALID_ARGUMENT);
        assertFailsWith(s.appendBatch(tp, new RecordBatchBuilder()
                .append(SimpleRecord.of(clock.millis(), null, new byte[500])).build()), ErrorKind.INVALID_ARGUMENT);
        assertThat(append(s, tp, "ok").baseOffset()).as("the rejected appends left no gap").isZero();
    }

    /**
     * appendBatch validated the caller's buffer and then copied it: bytes another thread changed in
     * between were stored unvalidated. Now the copy is what is validated.
     */
    @Test
    void appendBatchShouldStoreOnlyBytesItValidatedEvenWhenTheCallerChangesThemConcurrently() throws Exception {
        StoreEngine s = open(Map.of(StoreConfig.LOG_CACHE_BYTES, 64L << 20));
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        ByteBuffer shared = new RecordBatchBuilder()
                .append(SimpleRecord.of(clock.millis(), "k".getBytes(), new byte[16_000])).build();
        int last = shared.limit() - 1;
        AtomicBoolean stop = new AtomicBoolean();
        Thread mutator = new Thread(() -> {
            byte b = 0;
            while (!stop.get()) {
                shared.put(last, b++); // inside the CRC-covered records
            }
        });
        mutator.setDaemon(true);
        mutator.start();
        int corrupt = 0;
        try {
            for (int i = 0; i < 3_000; i++) {
                try {
                    s.appendBatch(tp, shared.duplicate()).join();
                } catch (java.util.concurrent.CompletionException e) {
                    assertThat(ShaleException.unwrap(e).kind()).isEqualTo(ErrorKind.CORRUPT_RECORD);
                    corrupt++;
                }
            }
        } finally {
            stop.set(true);
            mutator.join();
        }
        long next = s.logStartOffset(tp);
        while (next < s.highWatermark(tp)) {
            FetchResult f = s.read(tp, next, 1 << 20);
            for (RecordBatch b : f.batches()) {
                assertThat(b.isValid()).as("stored batch at offset %d", b.baseOffset()).isTrue();
            }
            next = f.nextOffset();
        }
        assertThat(corrupt + s.highWatermark(tp)).isEqualTo(3_000);
    }

    // ------------------------------------------------------------------ 10. failed open

    /**
     * A second open whose WAL was locked by the running writer claimed a new writer epoch first and
     * only then failed: the running writer was fenced by an open that never ran.
     */
    @Test
    void anOpenThatFailsOnTheWalLockShouldNotFenceTheRunningWriter() {
        StoreEngine running = open();
        running.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        append(running, tp, "a");
        WriteAheadLog locked = new LimitedWal(new InMemoryWal(), Integer.MAX_VALUE) {
            @Override
            public void open(WalContext context) {
                throw new ShaleException(ErrorKind.IN_USE, "WAL directory is locked by pid 1234");
            }
        };
        for (int i = 0; i < 3; i++) { // retried, as a caller would
            assertKind(() -> openWith(new SharedObjectStore(objects), locked, Map.of()), ErrorKind.IN_USE);
        }
        append(running, tp, "b");
        running.flush();
        assertThat(running.isFenced()).isFalse();
        assertThat(readAll(openReadOnly(), tp)).containsExactly("a", "b");
    }

    // ------------------------------------------------------------------ 11. flush under load

    /**
     * flush() chased data appended after it was called: with producers running it did not return
     * until they stopped. Here every data PUT lets one more append become durable while it runs,
     * as a steady producer would: the old flush uploaded again and again, one that covers what was
     * appended before it returns after the PUT that holds that.
     */
    @Test
    void flushShouldNotChaseAppendsMadeWhileItRuns() {
        AtomicInteger chase = new AtomicInteger();
        AtomicInteger dataPuts = new AtomicInteger();
        StoreEngine[] engine = new StoreEngine[1];
        TopicPartition tp = TopicPartition.of("t", 0);
        ObjectStore chasing = new ForwardingObjectStore(objects) {
            @Override
            public CompletableFuture<Void> put(String key, Payload payload, String token) {
                if (key.startsWith("data/")) {
                    dataPuts.incrementAndGet();
                    if (chase.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                        engine[0].append(tp, List.of(rec("k", "appended-during-upload"))).join();
                    }
                }
                return objects.put(key, payload, token);
            }

            @Override
            public void close() {
            }
        };
        engine[0] = openWith(chasing, wal, Map.of(StoreConfig.UPLOAD_MAX_IN_FLIGHT, 1));
        engine[0].createTopic("t", 1);
        append(engine[0], tp, "before-flush");
        chase.set(50);
        dataPuts.set(0);
        engine[0].flush();
        assertThat(dataPuts.get()).as("data PUTs the flush waited for").isLessThanOrEqualTo(3);
        assertThat(engine[0].partition(tp).uploadedEnd()).isGreaterThanOrEqualTo(1);
    }

    /** The same under real concurrency: producers keep appending while flushes run. */
    @Test
    void flushShouldReturnWhileAppendsContinue() throws Exception {
        SlowPuts slow = new SlowPuts(objects, 5);
        StoreEngine s = openWith(slow, wal, Map.of());
        s.createTopic("t", 4);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong acked = new AtomicLong();
        List<Thread> producers = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            TopicPartition tp = TopicPartition.of("t", p);
            Thread t = new Thread(() -> {
                while (!stop.get()) {
                    s.append(tp, List.of(rec("k", "v"))).join();
                    acked.incrementAndGet();
                }
            });
            t.setDaemon(true);
            t.start();
            producers.add(t);
        }
        try {
            while (acked.get() < 1_000) {
                Thread.sleep(1);
            }
            for (int i = 0; i < 3; i++) {
                CompletableFuture<Void> flush = CompletableFuture.runAsync(s::flush);
                // a guard against a flush that never returns, not a speed check
                flush.get(60, TimeUnit.SECONDS);
            }
        } finally {
            stop.set(true);
            for (Thread t : producers) {
                t.join();
            }
        }
    }

    @Test
    void flushShouldCoverWhatWasAppendedBeforeIt() {
        StoreEngine s = open();
        s.createTopic("t", 3);
        for (int p = 0; p < 3; p++) {
            append(s, TopicPartition.of("t", p), "a" + p, "b" + p);
        }
        s.flush();
        for (int p = 0; p < 3; p++) {
            assertThat(s.partition(TopicPartition.of("t", p)).uploadedEnd()).isEqualTo(2);
        }
    }

    @Test
    void flushShouldFailWithUnavailableWhenItsDeadlinePasses() {
        SlowPuts stuck = new SlowPuts(objects, 0);
        StoreEngine s = openWith(stuck, wal, Map.of());
        s.createTopic("t", 1);
        append(s, TopicPartition.of("t", 0), "a");
        stuck.hold.set(true);
        assertThatThrownBy(() -> s.flush(Duration.ofMillis(200))).isInstanceOfSatisfying(ShaleException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.UNAVAILABLE);
            assertThat(e.getMessage()).contains("1 partition(s) still have data");
        });
        stuck.hold.set(false);
        stuck.releaseHeld();
        s.flush();
    }

    // ------------------------------------------------------------------ 12. batches built without timestamps

    /**
     * A batch built as the README's transactions example builds it (records without a timestamp,
     * no default set) got timestamp 0 (1970): acknowledged, then dropped by the first retention
     * check after its upload under the default retention.ms of 7 days.
     */
    @Test
    void aBatchBuiltWithoutTimestampsShouldSurviveRetention() {
        clock.set(System.currentTimeMillis()); // the builder stamps such records with the wall clock
        StoreEngine s = open();
        s.createTopic("payments", 1); // default retention.ms: 7 days
        TopicPartition tp = TopicPartition.of("payments", 0);
        ByteBuffer batch = new RecordBatchBuilder().append(SimpleRecord.of("card-1", "refund")).build();
        assertThat(s.appendBatch(tp, batch).join().baseOffset()).isZero();
        s.flush();
        s.maintenance.runNow(s.maintenance::runRetention);
        assertThat(s.logStartOffset(tp)).isZero();
        assertThat(readAll(s, tp)).containsExactly("refund");
        assertThat(s.offsetForTimestamp(tp, clock.millis() - 3_600_000)).map(o -> o.offset()).contains(0L);
    }

    // ------------------------------------------------------------------ If-None-Match

    /** A store that ignores If-None-Match would let two writers fork the manifest: refuse to write on it. */
    @Test
    void openForWritingShouldRefuseAStoreThatIgnoresIfNoneMatch() {
        ObjectStore ignoring = new ForwardingObjectStore(objects) {
            @Override
            public CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) {
                return objects.put(key, payload, token).thenApply(v -> true);
            }

            @Override
            public void close() {
            }
        };
        assertThatThrownBy(() -> openWith(ignoring, wal, Map.of())).isInstanceOfSatisfying(ShaleException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
            assertThat(e.getMessage()).contains("If-None-Match");
        });
        assertThat(objects.keys()).noneMatch(k -> k.startsWith("manifest/deltas/"));
        StoreEngine honest = open(); // the same bucket with a store that honours it
        honest.createTopic("t", 1);
        assertThat(honest.isFenced()).isFalse();
    }

    // ================================================================== helpers

    private static void assertFailsWith(CompletableFuture<?> f, ErrorKind kind) {
        try {
            f.get(30, TimeUnit.SECONDS); // a guard against futures that never complete
        } catch (ExecutionException e) {
            ShaleException se = ShaleException.unwrap(e);
            assertThat(se).as("ShaleException behind %s", e).isNotNull();
            assertThat(se.kind()).isEqualTo(kind);
            return;
        } catch (Exception e) {
            throw new AssertionError("future did not complete: " + e, e);
        }
        throw new AssertionError("future completed normally, expected " + kind);
    }

    /** A WAL that holds entries and completes them in any order the test chooses. */
    private static final class OutOfOrderWal implements WriteAheadLog {
        private final List<WalEntry> held = new ArrayList<>();
        private final AtomicLong seq = new AtomicLong(1);
        volatile boolean hold;
        volatile boolean failHeldOnClose = true;

        @Override
        public void open(WalContext context) {
        }

        @Override
        public void replay(WalReplayHandler handler) {
        }

        @Override
        public synchronized long append(WalEntry entry) {
            if (hold) {
                held.add(entry);
            } else {
                entry.onDurable();
            }
            return seq.getAndIncrement();
        }

        void completeDurable(int index) {
            WalEntry e;
            synchronized (this) {
                e = held.set(index, null);
            }
            e.onDurable();
        }

        void completeAll() {
            List<WalEntry> es;
            synchronized (this) {
                es = new ArrayList<>(held);
                held.clear();
            }
            es.stream().filter(e -> e != null).forEach(WalEntry::onDurable);
        }

        @Override
        public long nextSequence() {
            return seq.get();
        }

        @Override
        public void trim(long sequence) {
        }

        @Override
        public String describe() {
            return "out-of-order-wal";
        }

        @Override
        public void close() {
            if (!failHeldOnClose) {
                return;
            }
            List<WalEntry> es;
            synchronized (this) {
                es = new ArrayList<>(held);
                held.clear();
            }
            es.stream().filter(e -> e != null)
                    .forEach(e -> e.onFailure(new ShaleException(ErrorKind.CLOSED, "closed")));
        }
    }

    /** Delegates to a WAL, rejecting entries over a size limit as the file WAL does. */
    private static class LimitedWal implements WriteAheadLog {
        private final WriteAheadLog inner;
        private final int limit;

        LimitedWal(WriteAheadLog inner, int limit) {
            this.inner = inner;
            this.limit = limit;
        }

        @Override
        public void open(WalContext context) {
            inner.open(context);
        }

        @Override
        public void replay(WalReplayHandler handler) {
            inner.replay(handler);
        }

        @Override
        public long append(WalEntry entry) {
            if (entry.payload().remaining() > limit) {
                throw new IllegalArgumentException("entry of " + entry.payload().remaining() + " bytes exceeds " + limit);
            }
            return inner.append(entry);
        }

        @Override
        public long nextSequence() {
            return inner.nextSequence();
        }

        @Override
        public void trim(long sequence) {
            inner.trim(sequence);
        }

        @Override
        public String describe() {
            return "limited(" + inner.describe() + ")";
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    /** Data-object PUTs complete after a delay on another thread, or are held until released. */
    private static final class SlowPuts extends ForwardingObjectStore {
        private final ObjectStore target;
        private final long delayMs;
        final AtomicBoolean hold = new AtomicBoolean();
        private final List<Runnable> held = new ArrayList<>();
        private final AtomicInteger puts = new AtomicInteger();

        SlowPuts(ObjectStore target, long delayMs) {
            super(target);
            this.target = target;
            this.delayMs = delayMs;
        }

        @Override
        public CompletableFuture<Void> put(String key, Payload payload, String token) {
            if (!key.startsWith("data/")) {
                return target.put(key, payload, token);
            }
            puts.incrementAndGet();
            CompletableFuture<Void> f = new CompletableFuture<>();
            Runnable write = () -> target.put(key, payload, token).whenComplete((v, e) -> {
                if (e != null) {
                    f.completeExceptionally(e);
                } else {
                    f.complete(null);
                }
            });
            if (hold.get()) {
                synchronized (held) {
                    held.add(write);
                }
                return f;
            }
            CompletableFuture.delayedExecutor(delayMs, TimeUnit.MILLISECONDS).execute(write);
            return f;
        }

        void releaseHeld() {
            List<Runnable> rs;
            synchronized (held) {
                rs = new ArrayList<>(held);
                held.clear();
            }
            rs.forEach(Runnable::run);
        }

        @Override
        public void close() {
        }
    }

    /**
     * A topic was published in the engine's view before its partitions: a thread that saw it
     * (describeTopic) could find it with no partition at all and be told UNKNOWN_TOPIC_OR_PARTITION,
     * as the data-objects contract run of a read-only tailer did once.
     */
    @Test
    void aTopicShouldNeverBeSeenWithoutItsPartitions() throws Exception {
        StoreEngine s = open();
        int topics = 400;
        java.util.concurrent.atomic.AtomicInteger created = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicReference<Throwable> seen = new java.util.concurrent.atomic.AtomicReference<>();
        Thread watcher = new Thread(() -> {
            while (created.get() < topics && seen.get() == null) {
                String name = "t" + created.get();
                try {
                    if (s.describeTopic(name).isPresent()) {
                        s.highWatermark(TopicPartition.of(name, 3));
                    }
                } catch (Throwable t) {
                    seen.set(t);
                }
            }
        });
        watcher.start();
        for (int i = 0; i < topics && seen.get() == null; i++) {
            s.createTopic("t" + i, 4);
            created.incrementAndGet();
        }
        watcher.join(60_000);
        assertThat(watcher.isAlive()).isFalse();
        assertThat(seen.get()).as("a topic seen without its partitions").isNull();
    }
}
