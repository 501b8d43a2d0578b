package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.AppenderOptions;
import io.shale.log.ErrorKind;
import io.shale.log.FetchResult;
import io.shale.log.RecordAppender;
import io.shale.log.RecordMetadata;
import io.shale.log.ShaleException;
import io.shale.log.StoreConfig;
import io.shale.log.TopicConfig;
import io.shale.log.TopicPartition;
import io.shale.log.internal.appender.BatchingAppender;
import io.shale.log.record.CompressionType;
import io.shale.log.record.Record;
import io.shale.log.record.RecordBatch;
import io.shale.log.record.SimpleRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link RecordAppender} over the real engine (in-memory WAL and object store, whose faults and
 * held completions make batch failures and a stuck store deterministic).
 */
class RecordAppenderTest extends EngineFixture {

    /** SimpleRecord.of("k", 64 bytes): the appender estimates it at 36 + 1 + 64 bytes. */
    static final int EST = 101;
    static final Duration HOUR = Duration.ofHours(1);

    final List<RecordAppender> appenders = new ArrayList<>();
    final List<Thread> threads = new ArrayList<>();

    @AfterEach
    void closeAppenders() throws InterruptedException {
        wal.holdCompletions(false);
        wal.maxOutstanding(Integer.MAX_VALUE);
        wal.releaseHeld();
        for (Thread t : threads) {
            t.join(10_000);
        }
        for (RecordAppender a : appenders) {
            a.close(Duration.ofSeconds(10));
        }
    }

    RecordAppender appender(StoreEngine s, AppenderOptions.Builder options) {
        RecordAppender a = s.appender(options.build());
        appenders.add(a);
        return a;
    }

    static SimpleRecord rec64(String value) {
        String v = (value + "_".repeat(64)).substring(0, 64);
        return SimpleRecord.of("k", v);
    }

    static String trimmed(String v) {
        int i = v.indexOf('_');
        return i < 0 ? v : v.substring(0, i);
    }

    static <T> T join(CompletableFuture<T> f) {
        return f.orTimeout(30, TimeUnit.SECONDS).join();
    }

    static ShaleException failure(CompletableFuture<?> f) {
        Throwable[] error = new Throwable[1];
        f.orTimeout(30, TimeUnit.SECONDS).handle((v, e) -> error[0] = e).join();
        assertThat(error[0]).as("future failed").isNotNull();
        ShaleException se = ShaleException.unwrap(error[0]);
        assertThat(se).as("ShaleException behind %s", error[0]).isNotNull();
        return se;
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as("waiting for " + what).isNegative();
            Thread.sleep(2);
        }
    }

    Thread start(Runnable r) {
        Thread t = new Thread(r, "test-producer");
        t.setDaemon(true);
        threads.add(t);
        t.start();
        return t;
    }

    // ------------------------------------------------------------------ timeouts of any length

    /**
     * Any Duration is a valid timeout. Past about 292 years (or a deadline past Long.MAX_VALUE
     * nanoseconds) Duration.toNanos overflowed: close threw ArithmeticException after marking the
     * appender closing, so its buffered record's future and every later append's never completed;
     * flush and the store's poll and flush threw it too (asynchronous poll must not throw).
     */
    @Test
    void timeoutsTooLongForNanosecondsShouldWaitAsLongAsNeededAndEveryFutureShouldComplete() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        Duration forever = Duration.ofSeconds(Long.MAX_VALUE);
        CompletableFuture<FetchResult> poll = s.poll(tp, 0, 1 << 20, forever);
        CompletableFuture<FetchResult> poll2 = s.poll(tp, 0, 1 << 20, Duration.ofDays(200_000));
        RecordAppender a = appender(s, AppenderOptions.builder().linger(HOUR).maxBlock(forever));
        CompletableFuture<RecordMetadata> first = a.append(tp, rec64("a"));
        a.flush(forever);
        assertThat(join(first).offset()).isZero();
        assertThat(join(poll).batches()).hasSize(1);
        assertThat(join(poll2).batches()).hasSize(1);
        CompletableFuture<RecordMetadata> buffered = a.append(tp, rec64("b"));
        a.close(Duration.ofDays(200_000));
        assertThat(join(buffered).offset()).isEqualTo(1);
        assertThat(failure(a.append(tp, rec64("c"))).kind()).isEqualTo(ErrorKind.CLOSED);
        s.append(tp, List.of(rec64("d"))).join();
        s.flush(forever);
        assertThat(readAll(s, tp)).extracting(RecordAppenderTest::trimmed).containsExactly("a", "b", "d");
    }

    // ------------------------------------------------------------------ ordering and offsets

    @ParameterizedTest(name = "linger {0} ms")
    @ValueSource(ints = {0, 1, 20})
    void concurrentProducersShouldKeepEachPartitionsOrderAndGetTheirOwnOffsets(int lingerMs) throws Exception {
        StoreEngine s = open();
        s.createTopic("t", 3);
        RecordAppender a = appender(s, AppenderOptions.builder().batchBytes(1_000).linger(Duration.ofMillis(lingerMs)));
        int producers = 4;
        int perProducer = 1_500;
        List<List<CompletableFuture<RecordMetadata>>> futures = new ArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < producers; t++) {
            List<CompletableFuture<RecordMetadata>> mine = new ArrayList<>();
            futures.add(mine);
            int id = t;
            ts.add(start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perProducer; i++) {
                    mine.add(a.append(TopicPartition.of("t", i % 3), rec64(id + ":" + i)));
                }
            }));
        }
        go.countDown();
        for (Thread t : ts) {
            t.join(60_000);
        }
        a.flush();

        Map<TopicPartition, Map<Long, String>> stored = new HashMap<>();
        for (int p = 0; p < 3; p++) {
            TopicPartition tp = TopicPartition.of("t", p);
            Map<Long, String> byOffset = new HashMap<>();
            long offset = 0;
            while (offset < s.highWatermark(tp)) {
                FetchResult f = s.read(tp, offset, 1 << 20);
                for (Record r : f.records()) {
                    byOffset.put(r.offset(), trimmed(value(r)));
                }
                offset = f.nextOffset();
            }
            stored.put(tp, byOffset);
        }
        int total = 0;
        for (int t = 0; t < producers; t++) {
            long[] lastOffset = {-1, -1, -1};
            for (int i = 0; i < perProducer; i++) {
                RecordMetadata md = join(futures.get(t).get(i));
                TopicPartition tp = TopicPartition.of("t", i % 3);
                assertThat(md.partition()).isEqualTo(tp);
                assertThat(stored.get(tp).get(md.offset())).as("record at %s offset %d", tp, md.offset())
                        .isEqualTo(t + ":" + i);
                assertThat(md.offset()).as("a producer's records keep their order").isGreaterThan(lastOffset[i % 3]);
                lastOffset[i % 3] = md.offset();
                total++;
            }
        }
        int storedCount = stored.values().stream().mapToInt(Map::size).sum();
        assertThat(storedCount).isEqualTo(total).isEqualTo(producers * perProducer);
        // batching happened: far fewer batches than records (1,000 estimated bytes hold 9 records)
        long batches = 0;
        for (int p = 0; p < 3; p++) {
            TopicPartition tp = TopicPartition.of("t", p);
            long offset = 0;
            while (offset < s.highWatermark(tp)) {
                FetchResult f = s.read(tp, offset, 1 << 20);
                for (RecordBatch b : f.batches()) {
                    assertThat(b.recordCount()).isLessThanOrEqualTo(1_000 / EST);
                }
                batches += f.batches().size();
                offset = f.nextOffset();
            }
        }
        if (lingerMs > 0) {
            assertThat(batches).isLessThan(total / 2);
        }
        assertThat(((BatchingAppender) a).bufferedBytes()).isZero();
    }

    // ------------------------------------------------------------------ linger and size

    @Test
    void lingerShouldSendALoneRecord() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        RecordAppender a = appender(s, AppenderOptions.builder().linger(Duration.ofMillis(20)));
        // nothing else sends it: the batch is far from full, and there is no flush or close
        RecordMetadata md = join(a.append(tp, SimpleRecord.of("k", "lonely")));
        assertThat(md.offset()).isZero();
        assertThat(readAll(s, tp)).containsExactly("lonely");
    }

    @Test
    void aRecordShouldWaitForItsLingerUnlessFlushed() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        RecordAppender a = appender(s, AppenderOptions.builder().linger(HOUR));
        CompletableFuture<RecordMetadata> f = a.append(tp, SimpleRecord.of("k", "waiting"));
        assertThat(f).isNotDone();
        assertThat(s.highWatermark(tp)).isZero();
        assertThat(((BatchingAppender) a).bufferedBytes()).isPositive();
        a.flush();
        assertThat(f).isCompleted();
        assertThat(join(f).offset()).isZero();
        assertThat(readAll(s, tp)).containsExactly("waiting");
    }

    @Test
    void aFlushWhoseDeadlinePassesShouldThrowUnavailableAndLeaveTheRecordsOnTheirWay() throws Exception {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        RecordAppender a = appender(s, AppenderOptions.builder().linger(HOUR));
        wal.holdCompletions(true);
        CompletableFuture<RecordMetadata> f = a.append(tp, SimpleRecord.of("k", "v"));
        assertThatThrownBy(() -> a.flush(Duration.ofMillis(50))).isInstanceOfSatisfying(ShaleException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.UNAVAILABLE);
            assertThat(e.getMessage()).contains("1 batch(es) not completed");
        });
        await(() -> wal.heldEntries() == 1, "the batch in the WAL");
        assertThat(f).isNotDone();
        wal.releaseHeld();
        assertThat(join(f).offset()).isZero();
    }

    @Test
    void aFullBatchShouldBeSentWithoutWaitingForLinger() throws Exception {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        RecordAppender a = appender(s, AppenderOptions.builder().linger(HOUR).batchBytes(3 * EST));
        List<CompletableFuture<RecordMetadata>> fs = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            fs.add(a.append(tp, rec64("r" + i)));
        }
        // linger is an hour: only size sent the first two batches (3 records each)
        for (int i = 0; i < 6; i++) {
            assertThat(join(fs.get(i)).offset()).isEqualTo(i);
        }
        FetchResult f = s.read(tp, 0, 1 << 20);
        assertThat(f.batches()).extracting(RecordBatch::recordCount).containsExactly(3, 3);
        assertThat(fs.get(6)).isNotDone();
        a.flush();
        assertThat(join(fs.get(6)).offset()).isEqualTo(6);
    }

    @Test
    void aRecordThatDoesNotFitShouldSealTheOpenBatchAndALargeRecordGoAlone() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        RecordAppender a = appender(s, AppenderOptions.builder().linger(HOUR).batchBytes(250));
        CompletableFuture<RecordMetadata> small = a.append(tp, rec64("small"));
        CompletableFuture<RecordMetadata> big = a.append(tp, SimpleRecord.of("k", "x".repeat(1_000)));
        CompletableFuture<RecordMetadata> after = a.append(tp, rec64("after"));
        assertThat(join(small).offset()).isZero();
        assertThat(join(big).offset()).isEqualTo(1);
        assertThat(after).isNotDone();
        a.flush();
        assertThat(join(after).offset()).isEqualTo(2);
        assertThat(s.read(tp, 0, 1 << 20).batches()).extracting(RecordBatch::recordCount).containsExactly(1, 1, 1);
    }

    // ------------------------------------------------------------------ batch failures

    @Test
    void aFailingBatchShouldFailExactlyItsRecords() throws Exception {
        StoreEngine s = open();
        s.createTopic("t", 2);
        TopicPartition p0 = TopicPartition.of("t", 0);
        TopicPartition p1 = TopicPartition.of("t", 1);
        RecordAppender a = appender(s, AppenderOptions.builder().linger(HOUR).batchBytes(3 * EST));
        wal.holdCompletions(true);
        List<CompletableFuture<RecordMetadata>> first = new ArrayList<>();
        List<CompletableFuture<RecordMetadata>> failing = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            first.add(a.append(p0, rec64("a" + i)));
        }
        await(() -> wal.heldEntries() == 1, "p0's batch in the WAL");
        for (int i = 0; i < 3; i++) {
            failing.add(a.append(p1, rec64("b" + i)));
        }
        await(() -> wal.heldEntries() == 2, "p1's batch in the WAL");
        wal.releaseHeldFailing(Set.of(1));

        ShaleException e = failure(failing.get(0));
        assertThat(e.kind()).isEqualTo(ErrorKind.UNAVAILABLE);
        assertThat(e.getMessage()).contains("injected WAL failure #1");
        for (CompletableFuture<RecordMetadata> f : failing) {
            assertThat(failure(f)).isSameAs(e);
        }
        for (int i = 0; i < 3; i++) {
            assertThat(join(first.get(i)).offset()).isEqualTo(i);
        }
        // the partition goes on: the failed batch's offsets are taken by the next one
        wal.holdCompletions(false);
        CompletableFuture<RecordMetadata> next = a.append(p1, rec64("c"));
        a.flush();
        assertThat(join(next).offset()).isZero();
        assertThat(readAll(s, p1).stream().map(RecordAppenderTest::trimmed)).containsExactly("c");
        assertThat(readAll(s, p0).stream().map(RecordAppenderTest::trimmed)).containsExactly("a0", "a1", "a2");
    }

    @Test
    void aFailedBatchShouldRollBackThePartitionsLaterBatchesStillOnTheirWay() throws Exception {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        RecordAppender a = appender(s, AppenderOptions.builder().linger(HOUR).batchBytes(2 * EST));
        wal.holdCompletions(true);
        List<CompletableFuture<RecordMetadata>> fs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            fs.add(a.append(tp, rec64("r" + i)));
        }
        await(() -> wal.heldEntries() == 2, "two batches in the WAL");
        wal.releaseHeldFailing(Set.of(0));
        assertThat(failure(fs.get(0)).getMessage()).contains("injected WAL failure #0");
        assertThat(failure(fs.get(1)).getMessage()).contains("injected WAL failure #0");
        assertThat(failure(fs.get(2)).getMessage()).contains("rolled back");
        assertThat(failure(fs.get(3)).getMessage()).contains("rolled back");
        assertThat(s.highWatermark(tp)).isZero();
    }

    @Test
    void closingTheStoreShouldCloseItsOpenAppendersFirstSoWhatTheyBufferedIsAppended() throws Exception {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        Set<Thread> before = appenderThreads();
        RecordAppender a = appender(s, AppenderOptions.builder().linger(HOUR));
        CompletableFuture<RecordMetadata> buffered = a.append(tp, SimpleRecord.of("k", "v"));
        Set<Thread> mine = appenderThreads();
        mine.removeAll(before);
        assertThat(mine).hasSize(1);
        assertThat(buffered).isNotDone();

        s.close();

        assertThat(buffered).isDone();
        assertThat(join(buffered).offset()).isEqualTo(0);
        Thread t = mine.iterator().next();
        t.join(10_000);
        assertThat(t.isAlive()).as("the appender's thread ends with the store").isFalse();
        assertThat(failure(a.append(tp, SimpleRecord.of("k", "late"))).kind()).isEqualTo(ErrorKind.CLOSED);
        a.close(); // idempotent after the store closed it
        StoreEngine reopened = open();
        assertThat(readAll(reopened, tp)).hasSize(1);
    }

    @Test
    void appendsAfterTheStoreClosedShouldFailWithClosed() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        RecordAppender a = appender(s, AppenderOptions.builder());
        s.close();
        assertThat(failure(a.append(TopicPartition.of("t", 0), SimpleRecord.of("k", "v"))).kind())
                .isEqualTo(ErrorKind.CLOSED);
    }

    // ------------------------------------------------------------------ close

    @Test
    void closeShouldSendWhatIsBufferedAndCompleteEveryFuture() {
        StoreEngine s = open();
        s.createTopic("t", 3);
        RecordAppender a = appender(s, AppenderOptions.builder().linger(HOUR));
        List<CompletableFuture<RecordMetadata>> fs = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            fs.add(a.append(TopicPartition.of("t", i % 3), rec64("r" + i)));
        }
        assertThat(fs).noneMatch(CompletableFuture::isDone);
        a.close();
        assertThat(fs).allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
        for (int p = 0; p < 3; p++) {
            assertThat(readAll(s, TopicPartition.of("t", p))).hasSize(10);
        }
        assertThat(failure(a.append(TopicPartition.of("t", 0), rec64("late"))).kind()).isEqualTo(ErrorKind.CLOSED);
        assertThatThrownBy(a::flush).isInstanceOf(ShaleException.class)
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.CLOSED));
        a.close(); // idempotent
    }

    @Test
    void closeShouldStopTheAppendersThread() throws Exception {
        StoreEngine s = open();
        s.createTopic("t", 1);
        Set<Thread> before = appenderThreads();
        RecordAppender a = s.appender(AppenderOptions.builder().linger(Duration.ofMillis(1)).build());
        join(a.append(TopicPartition.of("t", 0), SimpleRecord.of("k", "v")));
        Set<Thread> mine = appenderThreads();
        mine.removeAll(before);
        assertThat(mine).hasSize(1);
        a.close();
        Thread t = mine.iterator().next();
        t.join(10_000);
        assertThat(t.isAlive()).isFalse();
    }

    private static Set<Thread> appenderThreads() {
        Set<Thread> out = new java.util.HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("shale-appender-") && t.isAlive()) {
                out.add(t);
            }
        }
        return out;
    }

    @Test
    void closeWhoseDeadlinePassesShouldFailUnsentRecordsWithClosedAndUnacknowledgedOnesWithUnavailable()
            throws Exception {
        StoreEngine s = open();
        s.createTopic("t", 2);
        TopicPartition p0 = TopicPartition.of("t", 0);
        TopicPartition p1 = TopicPartition.of("t", 1);
        RecordAppender a = appender(s, AppenderOptions.builder().linger(HOUR).batchBytes(EST));
        // the WAL holds one entry and makes the next append wait: the store stops taking batches
        wal.holdCompletions(true);
        wal.maxOutstanding(1);
        CompletableFuture<RecordMetadata> sent = a.append(p0, rec64("sent")); // batch full: sent, held
        await(() -> wal.heldEntries() == 1, "the first batch in the WAL");
        List<CompletableFuture<RecordMetadata>> stuck = new ArrayList<>();
        Thread blocked = start(() -> stuck.add(a.append(p0, rec64("stuck")))); // blocks inside appendBatch
        await(() -> blocked.getState() == Thread.State.WAITING, "the producer to block in the store");
        List<CompletableFuture<RecordMetadata>> queued = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            queued.add(a.append(p0, rec64("queued" + i))); // sealed, but p0's sender is blocked
        }
        a.close(Duration.ofMillis(200));

        for (CompletableFuture<RecordMetadata> f : queued) {
            ShaleException e = failure(f);
            assertThat(e.kind()).isEqualTo(ErrorKind.CLOSED);
            assertThat(e.getMessage()).contains("not appended");
        }
        ShaleException e = failure(sent);
        assertThat(e.kind()).isEqualTo(ErrorKind.UNAVAILABLE);
        assertThat(e.getMessage()).contains("may still become durable");

        // let the store go: what it had (the sent and the stuck batch) becomes durable; the queued never was sent
        wal.holdCompletions(false);
        wal.releaseHeld();
        blocked.join(10_000);
        assertThat(failure(stuck.get(0)).kind()).isEqualTo(ErrorKind.UNAVAILABLE);
        await(() -> s.highWatermark(p0) == 2, "the two batches the store had");
        assertThat(readAll(s, p0).stream().map(RecordAppenderTest::trimmed)).containsExactly("sent", "stuck");
        assertThat(s.highWatermark(p1)).isZero();
    }

    // ------------------------------------------------------------------ back-pressure

    @Test
    void aFullBufferShouldBlockAppendsAndFailThemAfterMaxBlock() throws Exception {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        RecordAppender a = appender(s, AppenderOptions.builder().linger(HOUR).batchBytes(EST)
                .bufferBytes(4 * EST).maxBlock(Duration.ofMillis(100)));
        BatchingAppender ba = (BatchingAppender) a;
        wal.holdCompletions(true);
        wal.maxOutstanding(1);
        a.append(tp, rec64("held")); // sent; the store holds it
        await(() -> wal.heldEntries() == 1, "the first batch in the WAL");
        Thread blocked = start(() -> a.append(tp, rec64("stuck"))); // blocks inside appendBatch, keeps its bytes
        await(() -> blocked.getState() == Thread.State.WAITING, "the producer to block in the store");
        List<CompletableFuture<RecordMetadata>> fs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            fs.add(a.append(tp, rec64("q" + i))); // fits: 4 records' worth in all
            assertThat(ba.bufferedBytes()).isLessThanOrEqualTo(4 * EST);
        }
        assertThat(ba.bufferedBytes()).isEqualTo(4 * EST);
        CompletableFuture<RecordMetadata> over = a.append(tp, rec64("over"));
        ShaleException e = failure(over);
        assertThat(e.kind()).isEqualTo(ErrorKind.UNAVAILABLE);
        assertThat(e.getMessage()).contains("bufferBytes=" + 4 * EST).contains("maxBlock");
        assertThat(ba.bufferedBytes()).isEqualTo(4 * EST);

        wal.holdCompletions(false);
        wal.releaseHeld();
        a.flush();
        for (CompletableFuture<RecordMetadata> f : fs) {
            assertThat(join(f).offset()).isBetween(2L, 4L);
        }
        assertThat(ba.bufferedBytes()).isZero();
    }

    @Test
    void aBlockedAppendShouldProceedOnceTheStoreTakesBatchesAgain() throws Exception {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        RecordAppender a = appender(s, AppenderOptions.builder().linger(HOUR).batchBytes(EST)
                .bufferBytes(2 * EST).maxBlock(Duration.ofSeconds(30)));
        wal.holdCompletions(true);
        wal.maxOutstanding(1);
        a.append(tp, rec64("held"));
        await(() -> wal.heldEntries() == 1, "the first batch in the WAL");
        start(() -> a.append(tp, rec64("stuck")));
        await(() -> ((BatchingAppender) a).bufferedBytes() == EST, "the stuck batch's bytes");
        a.append(tp, rec64("fits"));
        List<CompletableFuture<RecordMetadata>> waiting = new ArrayList<>();
        Thread waiter = start(() -> waiting.add(a.append(tp, rec64("waits"))));
        await(() -> waiter.getState() == Thread.State.TIMED_WAITING, "the append to wait for space");
        assertThat(waiting).isEmpty();
        wal.holdCompletions(false);
        wal.releaseHeld();
        waiter.join(30_000);
        a.flush();
        assertThat(join(waiting.get(0)).offset()).isEqualTo(3);
    }

    @Test
    void aRecordLargerThanTheBufferShouldFailAtOnce() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        RecordAppender a = appender(s, AppenderOptions.builder().batchBytes(100).bufferBytes(1_000));
        ShaleException e = failure(a.append(TopicPartition.of("t", 0), SimpleRecord.of("k", "x".repeat(2_000))));
        assertThat(e.kind()).isEqualTo(ErrorKind.RECORD_TOO_LARGE);
        assertThat(e.getMessage()).contains("bufferBytes=1000");
    }

    // ------------------------------------------------------------------ bad input

    @Test
    void badInputShouldFailOnlyThatRecordWithTheStoresErrorKinds() {
        StoreEngine s = open();
        s.createTopic("t", 2);
        s.createTopic("compacted", 1, Map.of(TopicConfig.CLEANUP_POLICY, "compact"));
        TopicPartition tp = TopicPartition.of("t", 0);
        RecordAppender a = appender(s, AppenderOptions.builder().linger(HOUR));

        CompletableFuture<RecordMetadata> good1 = a.append(tp, SimpleRecord.of("k", "good1"));
        ShaleException nullRecord = failure(a.append(tp, null));
        assertThat(nullRecord.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
        assertThat(nullRecord.getMessage()).contains("record is null");
        ShaleException nullTp = failure(a.append(null, SimpleRecord.of("k", "v")));
        assertThat(nullTp.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
        assertThat(nullTp.getMessage()).contains("topic partition is null");
        ShaleException unknown = failure(a.append(TopicPartition.of("nope", 0), SimpleRecord.of("k", "v")));
        assertThat(unknown.kind()).isEqualTo(ErrorKind.UNKNOWN_TOPIC_OR_PARTITION);
        assertThat(unknown.getMessage()).contains("nope");
        ShaleException noPartition = failure(a.append(TopicPartition.of("t", 2), SimpleRecord.of("k", "v")));
        assertThat(noPartition.kind()).isEqualTo(ErrorKind.UNKNOWN_TOPIC_OR_PARTITION);
        assertThat(noPartition.getMessage()).contains("no partition 2");
        ShaleException future = failure(a.append(tp,
                SimpleRecord.of(clock.millis() + 7_200_000, "k".getBytes(), "v".getBytes())));
        assertThat(future.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
        assertThat(future.getMessage()).contains("message.timestamp.after.max.ms");
        ShaleException negative = failure(a.append(tp, SimpleRecord.of(-5, "k".getBytes(), "v".getBytes())));
        assertThat(negative.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
        assertThat(negative.getMessage()).contains("negative timestamp -5");
        CompletableFuture<RecordMetadata> good2 = a.append(tp, SimpleRecord.of("k", "good2"));

        TopicPartition ctp = TopicPartition.of("compacted", 0);
        CompletableFuture<RecordMetadata> keyed = a.append(ctp, SimpleRecord.of("k", "keyed"));
        ShaleException keyless = failure(a.append(ctp, SimpleRecord.of((byte[]) null, "v".getBytes())));
        assertThat(keyless.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
        assertThat(keyless.getMessage()).contains("needs a key");

        a.flush();
        assertThat(join(good1).offset()).isZero();
        assertThat(join(good2).offset()).isEqualTo(1);
        assertThat(join(keyed).offset()).isZero();
        assertThat(readAll(s, tp)).containsExactly("good1", "good2");
        assertThat(((BatchingAppender) a).bufferedBytes()).isZero();
    }

    @Test
    void aTopicDeletedWhileRecordsWaitShouldFailTheirBatchWithUnknownTopic() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        RecordAppender a = appender(s, AppenderOptions.builder().linger(HOUR));
        CompletableFuture<RecordMetadata> f = a.append(tp, SimpleRecord.of("k", "v"));
        s.deleteTopic("t");
        a.flush();
        assertThat(failure(f).kind()).isEqualTo(ErrorKind.UNKNOWN_TOPIC_OR_PARTITION);
        // and a re-created topic takes records again
        s.createTopic("t", 1);
        CompletableFuture<RecordMetadata> g = a.append(tp, SimpleRecord.of("k", "again"));
        a.flush();
        assertThat(join(g).offset()).isZero();
    }

    @Test
    void optionsAndReadOnlyStoresShouldBeRejectedWithClearErrors() {
        assertKind(() -> AppenderOptions.builder().batchBytes(0), ErrorKind.INVALID_ARGUMENT);
        assertThatThrownBy(() -> AppenderOptions.builder().linger(Duration.ofMillis(-1)))
                .hasMessageContaining("linger");
        assertThatThrownBy(() -> AppenderOptions.builder().batchBytes(1_000).bufferBytes(999).build())
                .hasMessageContaining("bufferBytes (999) must be at least batchBytes (1000)");
        assertThatThrownBy(() -> AppenderOptions.builder().maxBlock(null)).hasMessageContaining("maxBlock");
        StoreEngine s = open();
        s.createTopic("t", 1);
        s.flush();
        StoreEngine ro = openReadOnly();
        assertKind(ro::appender, ErrorKind.READ_ONLY);
        s.close();
        assertKind(s::appender, ErrorKind.CLOSED);
    }

    // ------------------------------------------------------------------ what is stored

    @Test
    void recordsShouldKeepTheirTimestampsAndBatchesTheTopicsCompression() {
        StoreEngine s = open();
        s.createTopic("create", 1, Map.of(TopicConfig.COMPRESSION_TYPE, "lz4"));
        s.createTopic("append", 1, Map.of(TopicConfig.MESSAGE_TIMESTAMP_TYPE, "LogAppendTime"));
        TopicPartition create = TopicPartition.of("create", 0);
        TopicPartition append = TopicPartition.of("append", 0);
        RecordAppender a = appender(s, AppenderOptions.builder().linger(HOUR));
        long now = clock.millis();
        long given = now - 1_000;
        CompletableFuture<RecordMetadata> withTs = a.append(create, SimpleRecord.of(given, "k".getBytes(), "v".getBytes()));
        CompletableFuture<RecordMetadata> withoutTs = a.append(create, SimpleRecord.of("k", "v2"));
        CompletableFuture<RecordMetadata> lat = a.append(append, SimpleRecord.of(given, "k".getBytes(), "v".getBytes()));
        clock.advance(500);
        a.flush();
        assertThat(join(withTs).timestamp()).isEqualTo(given);
        assertThat(join(withoutTs).timestamp()).isEqualTo(now);
        assertThat(join(lat).timestamp()).isEqualTo(now + 500);
        RecordBatch b = s.read(create, 0, 1 << 20).batches().get(0);
        assertThat(b.compressionType()).isEqualTo(CompressionType.LZ4);
        assertThat(s.read(create, 0, 1 << 20).recordList()).extracting(Record::timestamp).containsExactly(given, now);
        assertThat(s.read(append, 0, 1 << 20).recordList()).extracting(Record::timestamp).containsExactly(now + 500);
    }

    @Test
    void theCallersBuffersMayBeReusedOnceAppendReturns() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        RecordAppender a = appender(s, AppenderOptions.builder().linger(HOUR));
        byte[] value = "first".getBytes(StandardCharsets.UTF_8);
        a.append(tp, SimpleRecord.of("k".getBytes(), value));
        System.arraycopy("later".getBytes(StandardCharsets.UTF_8), 0, value, 0, 5);
        a.append(tp, SimpleRecord.of("k".getBytes(), value));
        a.flush();
        assertThat(readAll(s, tp)).containsExactly("first", "later");
    }

    @Test
    void storeSettingsDoNotLimitAnAppenderBeyondItsOwn() {
        // the appender caps a batch at the topic's max.message.bytes, so records that each fit never fail together
        StoreEngine s = open(Map.of(StoreConfig.APPEND_MAX_BLOCK_MS, 1_000));
        s.createTopic("t", 1, Map.of(TopicConfig.MAX_MESSAGE_BYTES, 61 + 3 * EST));
        TopicPartition tp = TopicPartition.of("t", 0);
        RecordAppender a = appender(s, AppenderOptions.builder().linger(HOUR).batchBytes(100 * EST));
        List<CompletableFuture<RecordMetadata>> fs = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            fs.add(a.append(tp, rec64("r" + i)));
        }
        a.flush();
        for (int i = 0; i < 10; i++) {
            assertThat(join(fs.get(i)).offset()).isEqualTo(i);
        }
        assertThat(s.read(tp, 0, 1 << 20).batches()).allMatch(b -> b.recordCount() <= 3);
    }

    /**
     * Records batched under one max.message.bytes, then refused by a lower one: the error said only
     * "batch of N bytes exceeds max.message.bytes", though each record was far smaller. It now says
     * why and that nothing was appended; the records fit again one by one.
     */
    @Test
    void aBatchRefusedBecauseTheLimitWasLoweredShouldSaySoAndNothingIsAppended() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        RecordAppender a = appender(s, AppenderOptions.builder().linger(HOUR));
        List<CompletableFuture<RecordMetadata>> fs = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            fs.add(a.append(tp, rec64("r" + i)));
        }
        s.alterTopicConfig("t", Map.of(TopicConfig.MAX_MESSAGE_BYTES, 2 * EST));
        a.flush();
        for (CompletableFuture<RecordMetadata> f : fs) {
            ShaleException e = failure(f);
            assertThat(e.kind()).isEqualTo(ErrorKind.RECORD_TOO_LARGE);
            assertThat(e.getMessage()).contains("batch of 10 records for t-0")
                    .contains("max.message.bytes is lower than when these records were batched")
                    .contains("none was appended");
        }
        assertThat(s.highWatermark(tp)).isZero();
        CompletableFuture<RecordMetadata> again = a.append(tp, rec64("again"));
        a.flush();
        assertThat(join(again).offset()).isZero();
    }
}
