package io.shale.storage.local.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileWriteAheadLogTest {
    private static final long SEED = 42;

    @TempDir
    Path dir;

    private FileWriteAheadLog.Builder builder() {
        return FileWriteAheadLog.builder(dir).segmentBytes(64 << 10).maxGroupBytes(64 << 10).spareSegments(1);
    }

    static TestEntry append(FileWriteAheadLog wal, int stream, long offset, int size) {
        TestEntry e = TestEntry.of(stream, offset, size, SEED);
        e.sequence = wal.append(e);
        return e;
    }

    static void awaitAll(List<TestEntry> entries) throws Exception {
        for (TestEntry e : entries) {
            e.done.get(30, TimeUnit.SECONDS);
        }
    }

    static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not reached within 30 s");
            }
            Thread.sleep(5);
        }
    }

    private static int filesIn(Path dir) {
        try {
            return SegmentFiles.files(dir).size();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static void assertSameEntries(List<Replayed> replayed, List<TestEntry> expected) {
        assertThat(replayed).hasSize(expected.size());
        for (int i = 0; i < expected.size(); i++) {
            Replayed r = replayed.get(i);
            TestEntry e = expected.get(i);
            assertThat(r.sequence()).as("sequence of entry %d", i).isEqualTo(e.sequence);
            assertThat(r.streamId()).isEqualTo(e.streamId);
            assertThat(r.baseOffset()).isEqualTo(e.baseOffset);
            assertThat(ByteBuffer.wrap(r.payload())).as("payload of entry %d", i).isEqualTo(e.payload);
        }
    }

    @Test
    void appendedEntriesShouldBeReplayedInSequenceOrderWithTheirBytes() throws Exception {
        SplittableRandom rnd = new SplittableRandom(SEED);
        List<TestEntry> appended = new ArrayList<>();
        long[] offsets = new long[5];
        try (FileWriteAheadLog wal = Replayed.open(builder()).wal()) {
            for (int i = 0; i < 200; i++) {
                int stream = rnd.nextInt(5);
                appended.add(append(wal, stream, offsets[stream]++, rnd.nextInt(0, 6000)));
            }
            awaitAll(appended);
            assertThat(wal.entriesWritten()).isEqualTo(200);
        }
        assertThat(SegmentFiles.live(dir)).as("entries span several segments").hasSizeGreaterThan(3);

        assertSameEntries(Replayed.replayOnly(builder()), appended);
        // A second recovery sees exactly the same.
        assertSameEntries(Replayed.replayOnly(builder()), appended);
    }

    @Test
    void sequencesShouldIncreaseAndContinueAboveReplayedOnesAfterReopen() throws Exception {
        List<TestEntry> first = new ArrayList<>();
        try (FileWriteAheadLog wal = Replayed.open(builder()).wal()) {
            for (int i = 0; i < 10; i++) {
                first.add(append(wal, 1, i, 100));
            }
            awaitAll(first);
        }
        for (int i = 1; i < first.size(); i++) {
            assertThat(first.get(i).sequence).isGreaterThan(first.get(i - 1).sequence);
        }
        Replayed.Opened reopened = Replayed.open(builder());
        try (FileWriteAheadLog wal = reopened.wal()) {
            assertSameEntries(reopened.entries(), first);
            long last = first.get(first.size() - 1).sequence;
            assertThat(wal.nextSequence()).isGreaterThan(last);
            TestEntry next = append(wal, 1, 10, 100);
            assertThat(next.sequence).isGreaterThan(last);
            next.done.get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void sequencesShouldContinueEvenAfterEverySegmentWasTrimmed() throws Exception {
        long lastSequence;
        try (FileWriteAheadLog wal = Replayed.open(builder()).wal()) {
            List<TestEntry> l = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                l.add(append(wal, 0, i, 4000));
            }
            awaitAll(l);
            lastSequence = l.get(l.size() - 1).sequence;
            wal.trim(Long.MAX_VALUE);
            await(() -> wal.sealedSegments() == 0);
        }
        for (int round = 0; round < 3; round++) {
            Replayed.Opened o = Replayed.open(builder());
            try (FileWriteAheadLog wal = o.wal()) {
                // Everything was trimmed: replay may still return entries (space is freed by whole
                // segments), but numbering must go on above every sequence ever handed out.
                TestEntry e = append(wal, 0, 1000 + round, 10);
                assertThat(e.sequence).isGreaterThan(lastSequence);
                e.done.get(30, TimeUnit.SECONDS);
                lastSequence = e.sequence;
                wal.trim(Long.MAX_VALUE);
                await(() -> wal.sealedSegments() == 0);
            }
        }
    }

    @Test
    void concurrentAppendersShouldFindTheirEntriesReplayedInOrderExactlyOnce() throws Exception {
        int threads = 8;
        int perThread = 300;
        List<List<TestEntry>> byThread = new ArrayList<>();
        // A tiny queue makes producers wait for the writer and wrap around the ring many times.
        FileWriteAheadLog.Builder b = builder().queueCapacity(8).segmentBytes(1 << 20).maxGroupBytes(256 << 10);
        try (FileWriteAheadLog wal = Replayed.open(b).wal()) {
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> workers = new ArrayList<>();
            List<Throwable> errors = new CopyOnWriteArrayList<>();
            for (int t = 0; t < threads; t++) {
                List<TestEntry> mine = new ArrayList<>();
                byThread.add(mine);
                int stream = t;
                Thread w = new Thread(() -> {
                    SplittableRandom rnd = new SplittableRandom(SEED + stream);
                    try {
                        start.await();
                        for (int i = 0; i < perThread; i++) {
                            mine.add(append(wal, stream, i, rnd.nextInt(1, 20_000)));
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                });
                w.start();
                workers.add(w);
            }
            start.countDown();
            for (Thread w : workers) {
                w.join();
            }
            assertThat(errors).isEmpty();
            for (List<TestEntry> mine : byThread) {
                awaitAll(mine);
                for (int i = 1; i < mine.size(); i++) {
                    assertThat(mine.get(i).sequence).isGreaterThan(mine.get(i - 1).sequence);
                }
            }
        }
        for (List<TestEntry> mine : byThread) {
            for (TestEntry e : mine) {
                assertThat(e.callbacks.get()).as("callbacks of sequence %d", e.sequence).isEqualTo(1);
            }
        }

        List<Replayed> replayed = Replayed.replayOnly(b);
        assertThat(replayed).hasSize(threads * perThread);
        Map<Long, TestEntry> bySequence = new HashMap<>();
        byThread.forEach(l -> l.forEach(e -> bySequence.put(e.sequence, e)));
        assertThat(bySequence).hasSize(threads * perThread);
        long previous = Long.MIN_VALUE;
        long[] nextOffset = new long[threads];
        for (Replayed r : replayed) {
            assertThat(r.sequence()).isGreaterThan(previous);
            previous = r.sequence();
            TestEntry e = bySequence.get(r.sequence());
            assertThat(e).as("an appended entry has sequence %d", r.sequence()).isNotNull();
            assertThat(r.streamId()).isEqualTo(e.streamId);
            assertThat(r.baseOffset()).as("stream %d in append order", r.streamId())
                    .isEqualTo(nextOffset[r.streamId()]++);
            assertThat(ByteBuffer.wrap(r.payload())).isEqualTo(e.payload);
        }
    }

    @Test
    void closeShouldCompleteEveryQueuedEntryAndRejectLaterAppends() throws Exception {
        List<TestEntry> accepted = new CopyOnWriteArrayList<>();
        List<Throwable> unexpected = new CopyOnWriteArrayList<>();
        FileWriteAheadLog wal = Replayed.open(builder().queueCapacity(64)).wal();
        List<Thread> workers = new ArrayList<>();
        CountDownLatch running = new CountDownLatch(4);
        for (int t = 0; t < 4; t++) {
            int stream = t;
            Thread w = new Thread(() -> {
                running.countDown();
                for (long i = 0; ; i++) {
                    TestEntry e = TestEntry.of(stream, i, 2000, SEED);
                    try {
                        e.sequence = wal.append(e);
                        accepted.add(e);
                    } catch (ShaleException ex) {
                        if (ex.kind() != ErrorKind.CLOSED) {
                            unexpected.add(ex);
                        }
                        return;
                    } catch (Throwable ex) {
                        unexpected.add(ex);
                        return;
                    }
                }
            });
            w.start();
            workers.add(w);
        }
        running.await();
        await(() -> accepted.size() > 200);
        wal.close();
        for (Thread w : workers) {
            w.join();
        }
        assertThat(unexpected).isEmpty();
        // close() returned: every entry append() accepted already had exactly one callback.
        for (TestEntry e : accepted) {
            assertThat(e.callbacks.get()).as("callbacks of sequence %d", e.sequence).isEqualTo(1);
            assertThat(e.succeeded()).isTrue();
        }
        assertThatThrownBy(() -> wal.append(TestEntry.of(0, 0, 1, SEED)))
                .isInstanceOfSatisfying(ShaleException.class, ex -> assertThat(ex.kind()).isEqualTo(ErrorKind.CLOSED));
        wal.close();

        Set<Long> replayed = new HashSet<>();
        Replayed.replayOnly(builder()).forEach(r -> replayed.add(r.sequence()));
        Set<Long> acceptedSequences = new HashSet<>();
        accepted.forEach(e -> acceptedSequences.add(e.sequence));
        assertThat(replayed).isEqualTo(acceptedSequences);
    }

    @Test
    void appendBeforeReplayShouldBeRejected() {
        try (FileWriteAheadLog wal = builder().build()) {
            wal.open(TestContext.INSTANCE);
            assertThatThrownBy(() -> wal.append(TestEntry.of(0, 0, 1, SEED))).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void secondWalOnTheSameDirectoryShouldBeRejectedUntilTheFirstIsClosed() {
        FileWriteAheadLog first = Replayed.open(builder()).wal();
        try (FileWriteAheadLog second = builder().build()) {
            assertThatThrownBy(() -> second.open(TestContext.INSTANCE))
                    .isInstanceOfSatisfying(ShaleException.class, ex -> {
                        assertThat(ex.kind()).isEqualTo(ErrorKind.IN_USE);
                        assertThat(ex.getMessage()).contains(dir.toString()).contains("in use")
                                .contains("pid " + ProcessHandle.current().pid() + " ");
                    });
        }
        first.close();
        first.close();
        Replayed.open(builder()).wal().close();
    }

    @Test
    void entryLargerThanTheMaximumShouldBeRejectedWithoutTakingASequence() {
        try (FileWriteAheadLog wal = Replayed.open(builder()).wal()) {
            long before = wal.nextSequence();
            TestEntry huge = new TestEntry(0, 0, ByteBuffer.allocate(FileWriteAheadLog.MAX_ENTRY_BYTES + 1));
            assertThatThrownBy(() -> wal.append(huge)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(String.valueOf(FileWriteAheadLog.MAX_ENTRY_BYTES));
            assertThat(wal.nextSequence()).isEqualTo(before);
        }
    }

    @Test
    void entriesLargerThanAGroupOrASegmentShouldRoundTrip() throws Exception {
        List<TestEntry> appended = new ArrayList<>();
        try (FileWriteAheadLog wal = Replayed.open(builder()).wal()) {
            appended.add(append(wal, 0, 0, 100));
            appended.add(append(wal, 0, 1, 50_000));                 // fits a segment, near a group
            appended.add(append(wal, 0, 2, 100_000));                // larger than group and segment
            appended.add(append(wal, 0, 3, 10));
            appended.add(append(wal, 0, 4, FileWriteAheadLog.MAX_ENTRY_BYTES));
            appended.add(append(wal, 0, 5, 0));
            awaitAll(appended);
        }
        assertSameEntries(Replayed.replayOnly(builder()), appended);
    }

    @Test
    void payloadPositionShouldBeRespectedAndLeftUntouched() throws Exception {
        ByteBuffer buf = ByteBuffer.allocateDirect(100);
        for (int i = 0; i < 100; i++) {
            buf.put(i, (byte) i);
        }
        buf.position(10).limit(60);
        TestEntry e = new TestEntry(3, 7, buf);
        try (FileWriteAheadLog wal = Replayed.open(builder()).wal()) {
            e.sequence = wal.append(e);
            e.done.get(30, TimeUnit.SECONDS);
        }
        assertThat(buf.position()).isEqualTo(10);
        assertThat(buf.limit()).isEqualTo(60);
        List<Replayed> r = Replayed.replayOnly(builder());
        assertThat(r).hasSize(1);
        assertThat(ByteBuffer.wrap(r.get(0).payload())).isEqualTo(buf);
    }

    @Test
    void trimShouldFreeOnlySegmentsWhoseEntriesAreAllBelowTheTrimPoint() throws Exception {
        List<TestEntry> appended = new ArrayList<>();
        FileWriteAheadLog.Builder b = builder().spareSegments(2);
        try (FileWriteAheadLog wal = Replayed.open(b).wal()) {
            for (int i = 0; i < 100; i++) {
                appended.add(append(wal, 0, i, 4000));
            }
            awaitAll(appended);
            long trimPoint = appended.get(50).sequence;
            List<SegmentFiles.Segment> before = SegmentFiles.live(dir);
            long freeable = before.stream()
                    .filter(s -> s.frames().get(s.frames().size() - 1).sequence() < trimPoint).count();
            assertThat(freeable).as("test precondition").isGreaterThanOrEqualTo(2);
            wal.trim(trimPoint);
            await(() -> wal.segmentsRecycled() + wal.segmentsDeleted() == freeable);
            assertThat(wal.segmentsRecycled()).as("trimmed segments are recycled, not deleted").isPositive();
            List<SegmentFiles.Segment> after = SegmentFiles.live(dir);
            assertThat(after).hasSize((int) (before.size() - freeable));
            assertThat(after.get(0).frames().get(0).sequence()).isLessThanOrEqualTo(trimPoint);
        }
        List<Replayed> replayed = Replayed.replayOnly(b);
        // A contiguous run of sequences ending with the last append and starting at or below the
        // trim point, but above the first append: whole segments below the trim point are gone.
        long first = replayed.get(0).sequence();
        assertThat(first).isGreaterThan(appended.get(0).sequence).isLessThanOrEqualTo(appended.get(50).sequence);
        List<TestEntry> expected = appended.stream().filter(e -> e.sequence >= first).toList();
        assertSameEntries(replayed, expected);
    }

    @Test
    void aTrimThatFreesManySegmentsShouldKeepThemAllAsSparesInsteadOfDeletingSome() throws Exception {
        // spareSegments(1) keeps 2 spares at least; a trim that frees more keeps as many as it
        // freed, so that the writer refills them instead of zero-filling new files.
        FileWriteAheadLog.Builder b = builder().spareSegments(1);
        try (FileWriteAheadLog wal = Replayed.open(b).wal()) {
            List<TestEntry> l = new ArrayList<>();
            for (int i = 0; i < 120; i++) {
                l.add(append(wal, 0, i, 4000));
            }
            awaitAll(l);
            long trimPoint = l.get(l.size() - 1).sequence;
            long freeable = SegmentFiles.live(dir).stream()
                    .filter(s -> s.frames().get(s.frames().size() - 1).sequence() < trimPoint).count();
            assertThat(freeable).as("test precondition").isGreaterThanOrEqualTo(5);
            long deletedBefore = wal.segmentsDeleted();
            long recycledBefore = wal.segmentsRecycled();
            wal.trim(trimPoint);
            await(() -> wal.segmentsRecycled() + wal.segmentsDeleted() - recycledBefore - deletedBefore == freeable);
            assertThat(wal.segmentsDeleted() - deletedBefore).as("segments deleted by the trim").isZero();
            assertThat(wal.spareSegmentsReady()).isGreaterThanOrEqualTo((int) freeable);
            long createdBefore = wal.segmentsCreated();
            List<TestEntry> more = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                more.add(append(wal, 0, 120 + i, 4000));
            }
            awaitAll(more);
            assertThat(wal.segmentsCreated() - createdBefore).as("segment files created after the trim").isZero();
        }
    }

    @Test
    void steadyTrimmingShouldReuseTheSameSegmentFiles() throws Exception {
        FileWriteAheadLog.Builder b = builder().spareSegments(1);
        List<TestEntry> recent = new ArrayList<>();
        try (FileWriteAheadLog wal = Replayed.open(b).wal()) {
            for (int round = 0; round < 20; round++) {
                List<TestEntry> l = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    l.add(append(wal, 0, round * 16L + i, 4000));
                }
                awaitAll(l);
                wal.trim(l.get(0).sequence);
                recent = l;
            }
            await(() -> wal.sealedSegments() <= 2);
            assertThat(wal.segmentsRecycled()).isPositive();
            // 20 segments' worth was written through fewer files than segments (how many fewer
            // depends on how fast the background thread recycles, so the bound is loose).
            assertThat(wal.segmentsCreated()).isLessThan(20);
            // at most two sealed, the active one, one spare and one the background thread is
            // still recycling or deleting; it settles there (waiting, not sampling once: a sample
            // taken while a trimmed file is being renamed into a spare can see one more)
            await(() -> filesIn(dir) <= 2 + 2 + 1);
        }
        List<Replayed> replayed = Replayed.replayOnly(b);
        long previous = Long.MIN_VALUE;
        for (Replayed r : replayed) {
            assertThat(r.sequence()).isGreaterThan(previous);
            previous = r.sequence();
            assertThat(ByteBuffer.wrap(r.payload()))
                    .isEqualTo(ByteBuffer.wrap(TestEntry.bytes(0, r.baseOffset(), 4000, SEED)));
        }
        assertThat(replayed.stream().map(Replayed::sequence).toList())
                .containsAll(recent.stream().map(e -> e.sequence).toList());
    }

    @Test
    void intervalPolicyShouldAcknowledgeAfterWriteWithoutWaitingForSync() throws Exception {
        FileWriteAheadLog.Builder b = builder().segmentBytes(1 << 20)
                .fsyncPolicy(FileWriteAheadLog.FsyncPolicy.interval(Duration.ofHours(1)));
        List<TestEntry> appended = new ArrayList<>();
        FileWriteAheadLog wal = Replayed.open(b).wal();
        for (int i = 0; i < 50; i++) {
            appended.add(append(wal, 0, i, 100));
        }
        awaitAll(appended);
        assertThat(wal.groupsWritten()).isPositive();
        assertThat(wal.fsyncCount()).as("acknowledged before any sync").isZero();
        wal.close();
        assertThat(wal.fsyncCount()).as("close syncs").isEqualTo(1);
        assertSameEntries(Replayed.replayOnly(b), appended);
    }

    /** An interval too long for a long of nanoseconds threw ArithmeticException from build (not a ShaleException). */
    @Test
    void anIntervalTooLongForNanosecondsShouldActAsNeverUntilClose() throws Exception {
        FileWriteAheadLog.Builder b = builder().segmentBytes(1 << 20)
                .fsyncPolicy(FileWriteAheadLog.FsyncPolicy.interval(Duration.ofSeconds(Long.MAX_VALUE)));
        List<TestEntry> appended = new ArrayList<>();
        FileWriteAheadLog wal = Replayed.open(b).wal();
        for (int i = 0; i < 5; i++) {
            appended.add(append(wal, 0, i, 100));
        }
        awaitAll(appended);
        assertThat(wal.fsyncCount()).as("acknowledged before any sync").isZero();
        wal.close();
        assertThat(wal.fsyncCount()).as("close syncs").isEqualTo(1);
        assertSameEntries(Replayed.replayOnly(b), appended);
    }

    @Test
    void intervalPolicyShouldSyncOnceTheIntervalHasPassed() throws Exception {
        FileWriteAheadLog.Builder b = builder()
                .fsyncPolicy(FileWriteAheadLog.FsyncPolicy.interval(Duration.ofMillis(20)));
        try (FileWriteAheadLog wal = Replayed.open(b).wal()) {
            TestEntry e = append(wal, 0, 0, 100);
            e.done.get(30, TimeUnit.SECONDS);
            // The writer is idle now; the pending sync must still happen.
            await(() -> wal.fsyncCount() >= 1);
        }
    }

    @Test
    void appendingShouldStayWithinTheEnginesAllocationBudget() throws Exception {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        org.junit.jupiter.api.Assumptions.assumeTrue(mx instanceof com.sun.management.ThreadMXBean
                && ((com.sun.management.ThreadMXBean) mx).isThreadAllocatedMemorySupported());
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) mx;
        int n = 20_000;
        ByteBuffer payload = ByteBuffer.allocateDirect(1024);
        FileWriteAheadLog.Builder b = builder().segmentBytes(4 << 20).maxGroupBytes(1 << 20).queueCapacity(n)
                .fsyncPolicy(FileWriteAheadLog.FsyncPolicy.interval(Duration.ofMillis(10)));
        try (FileWriteAheadLog wal = Replayed.open(b).wal()) {
            Thread writer = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("shale-wal-writer-" + dir.getFileName())).findFirst()
                    .orElseThrow();
            for (int round = 0; round < 3; round++) {
                List<TestEntry> entries = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    entries.add(new TestEntry(0, i, payload));
                }
                long producerBefore = threads.getThreadAllocatedBytes(Thread.currentThread().getId());
                long writerBefore = threads.getThreadAllocatedBytes(writer.getId());
                for (TestEntry e : entries) {
                    wal.append(e);
                }
                long producerBytes = threads.getThreadAllocatedBytes(Thread.currentThread().getId()) - producerBefore;
                awaitAll(entries);
                long writerBytes = threads.getThreadAllocatedBytes(writer.getId()) - writerBefore;
                wal.trim(wal.nextSequence());
                if (round > 0) {   // round 0 warms up (class loading, JIT, growing the group arrays)
                    assertThat(producerBytes / (double) n).as("bytes allocated per append").isLessThan(64);
                    assertThat(writerBytes / (double) n).as("bytes allocated by the writer per entry")
                            .isLessThan(64);
                }
            }
        }
    }

    @Test
    void anEntryWhosePayloadFailsShouldFailAloneAndTheWalContinue() throws Exception {
        List<TestEntry> good = new ArrayList<>();
        TestEntry broken;
        try (FileWriteAheadLog wal = Replayed.open(builder()).wal()) {
            good.add(append(wal, 0, 0, 100));
            awaitAll(good);
            // Breaks the WalEntry contract: the payload is fine when append() looks, then throws.
            java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
            broken = new TestEntry(0, 1, ByteBuffer.allocate(10)) {
                @Override
                public ByteBuffer payload() {
                    if (calls.incrementAndGet() > 1) {
                        throw new IllegalStateException("broken entry");
                    }
                    return super.payload();
                }
            };
            broken.sequence = wal.append(broken);
            for (int i = 2; i < 6; i++) {
                good.add(append(wal, 0, i, 100));
            }
            awaitAll(good);
            assertThatThrownBy(() -> broken.done.get(30, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(ShaleException.class)
                    .cause().hasMessageContaining("broken entry");
            assertThat(broken.callbacks.get()).isEqualTo(1);
        }
        assertSameEntries(Replayed.replayOnly(builder()), good);
    }

    @Test
    void builderShouldRejectInvalidSettings() {
        assertThatThrownBy(() -> FileWriteAheadLog.builder(dir).segmentBytes(1000).build())
                .isInstanceOf(io.shale.log.ShaleException.class).hasMessageContaining("segmentBytes");
        assertThatThrownBy(() -> FileWriteAheadLog.builder(dir).maxGroupBytes(10).build())
                .isInstanceOf(io.shale.log.ShaleException.class).hasMessageContaining("maxGroupBytes");
        assertThatThrownBy(() -> FileWriteAheadLog.builder(dir).queueCapacity(0).build())
                .isInstanceOf(io.shale.log.ShaleException.class).hasMessageContaining("queueCapacity");
        assertThatThrownBy(() -> FileWriteAheadLog.FsyncPolicy.interval(Duration.ZERO))
                .isInstanceOf(io.shale.log.ShaleException.class);
    }
}
