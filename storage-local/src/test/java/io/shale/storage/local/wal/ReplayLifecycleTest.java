package io.shale.storage.local.wal;

import static io.shale.storage.local.wal.FileWriteAheadLogTest.append;
import static io.shale.storage.local.wal.FileWriteAheadLogTest.assertSameEntries;
import static io.shale.storage.local.wal.FileWriteAheadLogTest.await;
import static io.shale.storage.local.wal.FileWriteAheadLogTest.awaitAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.WalContext;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lifecycle the engine drives: open before the writer epoch exists, replay once or more
 * before the first append, then appends. Repeated replays deliver the same entries and change no
 * file, also while the segment pool is preallocating and after a trim.
 */
class ReplayLifecycleTest {
    @TempDir
    Path dir;

    private FileWriteAheadLog.Builder builder() {
        return FileWriteAheadLog.builder(dir).segmentBytes(64 << 10).maxGroupBytes(64 << 10).spareSegments(1);
    }

    /** A delivered entry with a payload that compares by content. */
    record Delivered(long sequence, int streamId, long baseOffset, ByteBuffer payload) {
    }

    private static List<Delivered> replay(FileWriteAheadLog wal) {
        List<Delivered> out = new ArrayList<>();
        wal.replay((seq, stream, offset, payload) -> {
            Replayed r = Replayed.copy(seq, stream, offset, payload);
            out.add(new Delivered(r.sequence(), r.streamId(), r.baseOffset(), ByteBuffer.wrap(r.payload())));
        });
        return out;
    }

    private static List<Replayed> asReplayed(List<Delivered> l) {
        return l.stream().map(d -> new Replayed(d.sequence(), d.streamId(), d.baseOffset(),
                d.payload().array())).toList();
    }

    /** Every file of the directory: name, then size and CRC of the content. */
    private Map<String, String> files() throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                CRC32C crc = new CRC32C();
                crc.update(Files.readAllBytes(p));
                m.put(p.getFileName().toString(), Files.size(p) + " bytes, crc " + Long.toHexString(crc.getValue()));
            }
        }
        return m;
    }

    private List<TestEntry> writeAndClose(FileWriteAheadLog.Builder b, int count) throws Exception {
        List<TestEntry> l = new ArrayList<>();
        try (FileWriteAheadLog wal = Replayed.open(b).wal()) {
            for (int i = 0; i < count; i++) {
                l.add(append(wal, i % 3, i, 4000));
            }
            awaitAll(l);
        }
        return l;
    }

    @Test
    void repeatedReplaysShouldDeliverTheSameEntriesAfterATornTailAndChangeNoFile() throws Exception {
        List<TestEntry> written = writeAndClose(builder(), 60);
        List<SegmentFiles.Segment> segments = SegmentFiles.live(dir);
        assertThat(segments).as("sealed segments and a tail").hasSizeGreaterThanOrEqualTo(3);
        SegmentFiles.Segment newest = segments.get(segments.size() - 1);
        SegmentFiles.Frame last = newest.frames().get(newest.frames().size() - 1);
        SegmentFiles.truncate(newest.path(), last.position() + last.length() / 2);   // torn tail
        Path surplus = dir.resolve(SegmentPool.fileName(999));
        Files.write(surplus, new byte[1000]);   // a free file of the wrong size: the first pass deletes it
        List<TestEntry> survivors = written.subList(0, written.size() - 1);

        FileWriteAheadLog wal = builder().build();
        try {
            wal.open(TestContext.INSTANCE);
            List<Delivered> first = replay(wal);
            assertSameEntries(asReplayed(first), survivors);
            assertThat(surplus).as("the first replay deletes surplus free files").doesNotExist();
            // The pool has its one spare: from now on nothing may change in the directory.
            await(() -> wal.spareSegmentsReady() >= 1);
            Map<String, String> before = files();

            List<Delivered> second = replay(wal);
            List<Delivered> third = replay(wal);

            assertThat(second).isEqualTo(first);
            assertThat(third).isEqualTo(first);
            assertThat(files()).as("files after the repeated replays").isEqualTo(before);
            assertThat(wal.replayedEntries()).isEqualTo(survivors.size());

            TestEntry next = append(wal, 0, 1000, 100);
            next.done.get(30, TimeUnit.SECONDS);
            assertThatThrownBy(() -> replay(wal)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("after the first append");
            List<TestEntry> expected = new ArrayList<>(survivors);
            expected.add(next);
            wal.close();
            assertSameEntries(Replayed.replayOnly(builder()), expected);
        } finally {
            wal.close();
        }
    }

    @Test
    void aRepeatedReplayShouldNotDisturbASpareThePoolIsPreallocating() throws Exception {
        List<TestEntry> written = writeAndClose(builder().spareSegments(0), 40);
        // The first creation (the spare prepared during the first replay) goes through; the pool
        // thread's next one stalls half-way, its file created and not yet full.
        StallingChannels stalling = new StallingChannels(1);
        FileWriteAheadLog.Builder b = builder().spareSegments(2).channelFactory(stalling);
        FileWriteAheadLog wal = b.build();
        try {
            wal.open(TestContext.INSTANCE);
            List<Delivered> first = replay(wal);
            assertSameEntries(asReplayed(first), written);
            assertThat(stalling.stalled.await(30, TimeUnit.SECONDS)).as("the pool started a spare").isTrue();
            Path partial = stalling.stalledFile;
            assertThat(Files.size(partial)).isLessThan(64 << 10);
            Map<String, String> before = files();

            List<Delivered> second = replay(wal);

            assertThat(second).isEqualTo(first);
            assertThat(partial).as("the spare being preallocated").exists();
            assertThat(files()).isEqualTo(before);

            stalling.release();
            List<TestEntry> later = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                later.add(append(wal, 5, i, 4000));
            }
            awaitAll(later);
            wal.close();
            List<TestEntry> expected = new ArrayList<>(written);
            expected.addAll(later);
            assertSameEntries(Replayed.replayOnly(builder()), expected);
        } finally {
            stalling.release();
            wal.close();
        }
    }

    @Test
    void aTrimBetweenReplaysShouldFreeNothingBeforeTheFirstAppend() throws Exception {
        List<TestEntry> written = writeAndClose(builder(), 60);
        int live = SegmentFiles.live(dir).size();
        assertThat(live).isGreaterThanOrEqualTo(3);
        FileWriteAheadLog wal = builder().build();
        try {
            wal.open(TestContext.INSTANCE);
            List<Delivered> first = replay(wal);
            wal.trim(Long.MAX_VALUE);
            List<Delivered> second = replay(wal);

            assertThat(second).isEqualTo(first);
            assertSameEntries(asReplayed(second), written);
            assertThat(wal.segmentsRecycled() + wal.segmentsDeleted()).isZero();
            assertThat(wal.sealedSegments()).isEqualTo(live);

            // The trim was kept, not lost: the first append lets the pool free the segments.
            append(wal, 0, 1000, 100).done.get(30, TimeUnit.SECONDS);
            await(() -> wal.segmentsRecycled() + wal.segmentsDeleted() >= live);
        } finally {
            wal.close();
        }
    }

    @Test
    void repeatedReplaysOfRandomlyDamagedSegmentsShouldAgree() throws Exception {
        Path original = dir.resolve("original");
        FileWriteAheadLog.Builder ob = FileWriteAheadLog.builder(original).segmentBytes(64 << 10)
                .maxGroupBytes(64 << 10).spareSegments(0);
        List<TestEntry> written = new ArrayList<>();
        try (FileWriteAheadLog wal = Replayed.open(ob).wal()) {
            for (int i = 0; i < 80; i++) {
                written.add(append(wal, i % 4, i, 100 + (i * 397) % 3000));
                if (i % 9 == 0) {
                    awaitAll(written);   // vary group boundaries
                }
            }
            awaitAll(written);
        }
        List<Path> segments = SegmentFiles.files(original);
        java.util.SplittableRandom r = new java.util.SplittableRandom(20260601L);
        for (int c = 0; c < 40; c++) {
            Path copy = dir.resolve("case-" + c);
            Files.createDirectories(copy);
            for (Path p : segments) {
                Files.copy(p, copy.resolve(p.getFileName()));
            }
            Path victim = copy.resolve(segments.get(r.nextInt(segments.size())).getFileName());
            long size = Files.size(victim);
            for (int k = 1 + r.nextInt(3); k > 0; k--) {
                if (r.nextInt(4) == 0) {
                    SegmentFiles.truncate(victim, r.nextLong(size / 2, size));
                    size = Files.size(victim);
                } else {
                    SegmentFiles.flipByte(victim, r.nextLong(0, Math.min(size, 40_000)));
                }
            }
            FileWriteAheadLog wal = FileWriteAheadLog.builder(copy).segmentBytes(64 << 10).maxGroupBytes(64 << 10)
                    .spareSegments(1).tolerateDamage(true).build();
            try {
                wal.open(TestContext.INSTANCE);
                List<Delivered> first = replay(wal);
                assertThat(replay(wal)).as("case %d (%s)", c, victim.getFileName()).isEqualTo(first);
                assertThat(first.size()).isLessThanOrEqualTo(written.size());
            } finally {
                wal.close();
            }
        }
    }

    @Test
    void aSegmentChangedBetweenReplaysShouldFailTheRepeatedReplayNamingIt() throws Exception {
        writeAndClose(builder(), 60);
        SegmentFiles.Segment victim = SegmentFiles.live(dir).get(1);
        FileWriteAheadLog wal = builder().build();
        try {
            wal.open(TestContext.INSTANCE);
            replay(wal);
            SegmentFiles.flipByte(victim.path(), victim.frames().get(2).position() + 100);
            assertThatThrownBy(() -> replay(wal)).isInstanceOfSatisfying(ShaleException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE);
                assertThat(e.getMessage()).contains(victim.path().toString()).contains("changed between two replays");
            });
        } finally {
            wal.close();
        }
    }

    @Test
    void aReplayHandlerCallingBackIntoTheWalShouldBeRejectedAndEndNothing() throws Exception {
        List<TestEntry> written = writeAndClose(builder(), 30);
        FileWriteAheadLog wal = builder().build();
        try {
            wal.open(TestContext.INSTANCE);
            List<Delivered> first = replay(wal);
            List<Throwable> rejected = new ArrayList<>();
            wal.replay((seq, stream, offset, payload) -> {
                if (rejected.isEmpty()) {
                    try {
                        wal.append(TestEntry.of(9, 0, 10, 1));
                    } catch (RuntimeException e) {
                        rejected.add(e);
                    }
                    try {
                        wal.replay((s2, st2, o2, p2) -> {
                        });
                    } catch (RuntimeException e) {
                        rejected.add(e);
                    }
                }
            });
            assertThat(rejected).hasSize(2).allSatisfy(e -> assertThat(e).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("from a replay handler"));
            // The rejected append did not end the replay phase.
            assertThat(replay(wal)).isEqualTo(first);
            assertSameEntries(asReplayed(first), written);
        } finally {
            wal.close();
        }
    }

    @Test
    void replayShouldBeRejectedBeforeOpenAndAfterClose() {
        FileWriteAheadLog wal = builder().build();
        assertThatThrownBy(() -> replay(wal)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("before open");
        wal.open(TestContext.INSTANCE);
        replay(wal);
        wal.close();
        assertThatThrownBy(() -> replay(wal)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(() -> wal.open(TestContext.INSTANCE)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> wal.append(TestEntry.of(0, 0, 1, 1)))
                .isInstanceOfSatisfying(ShaleException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.CLOSED));
    }

    @Test
    void closingBetweenReplaysShouldStopTheThreadsAndLeaveEveryEntryForTheNextOpen() throws Exception {
        List<TestEntry> written = writeAndClose(builder(), 30);
        FileWriteAheadLog wal = builder().build();
        wal.open(TestContext.INSTANCE);
        replay(wal);
        wal.close();
        assertThat(Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
                .map(Thread::getName).filter(n -> n.endsWith("-" + dir.getFileName())))
                .as("WAL threads of this directory").isEmpty();
        assertSameEntries(Replayed.replayOnly(builder()), written);
    }

    /** The engine's context before the writer claim: writerEpoch() throws. This WAL never asks. */
    @Test
    void theWalShouldNeverNeedTheWriterEpoch() throws Exception {
        WalContext noEpoch = new WalContext() {
            @Override
            public long writerEpoch() {
                throw new IllegalStateException("the writer epoch is not claimed yet");
            }

            @Override
            public CompletableFuture<Void> checkNotFenced() {
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public ObjectStore objectStore() {
                throw new UnsupportedOperationException();
            }

            @Override
            public Clock clock() {
                return Clock.systemUTC();
            }

            @Override
            public ScheduledExecutorService scheduler() {
                throw new UnsupportedOperationException();
            }
        };
        List<TestEntry> l = new ArrayList<>();
        try (FileWriteAheadLog wal = builder().build()) {
            wal.open(noEpoch);
            replay(wal);
            replay(wal);
            for (int i = 0; i < 30; i++) {
                l.add(append(wal, 0, i, 4000));
            }
            awaitAll(l);
        }
        FileWriteAheadLog wal = builder().build();
        try {
            wal.open(noEpoch);
            assertSameEntries(asReplayed(replay(wal)), l);
        } finally {
            wal.close();
        }
    }
}
