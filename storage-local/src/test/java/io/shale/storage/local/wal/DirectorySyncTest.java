package io.shale.storage.local.wal;

import static io.shale.storage.local.wal.FileWriteAheadLogTest.append;
import static io.shale.storage.local.wal.FileWriteAheadLogTest.assertSameEntries;
import static io.shale.storage.local.wal.FileWriteAheadLogTest.await;
import static io.shale.storage.local.wal.FileWriteAheadLogTest.awaitAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every creation and deletion of a file in the WAL directory (and every directory the WAL
 * creates) is followed by an fsync of the directory that holds the entry. Observed through the
 * channel-factory seam: each directory sync is recorded with the names the directory held then.
 */
class DirectorySyncTest {
    @TempDir
    Path tmp;

    /** One fsync of a directory and what the directory contained at that moment. */
    record Sync(Path dir, Set<String> names) {
    }

    /** Records directory syncs; can make the next ones fail. */
    static final class RecordingChannels implements ChannelFactory {
        final List<Sync> syncs = new CopyOnWriteArrayList<>();
        final AtomicInteger failDirectorySyncs = new AtomicInteger();

        @Override
        public FileChannel open(Path path, OpenOption... options) throws IOException {
            FileChannel ch = FileChannel.open(path, options);
            if (!Files.isDirectory(path) || !List.of(options).equals(List.of(StandardOpenOption.READ))) {
                return ch;
            }
            return new DelegatingChannel(ch) {
                @Override
                public void force(boolean metaData) throws IOException {
                    if (failDirectorySyncs.getAndUpdate(v -> v > 0 ? v - 1 : 0) > 0) {
                        throw new IOException("Input/output error (injected) syncing directory " + path);
                    }
                    super.force(metaData);
                    syncs.add(new Sync(path, names(path)));
                }
            };
        }

        /** Whether a sync of {@code dir} at index {@code from} or later no longer listed {@code name}. */
        boolean syncedWithout(Path dir, String name, int from) {
            return syncs.subList(from, syncs.size()).stream()
                    .anyMatch(s -> s.dir().equals(dir) && !s.names().contains(name));
        }

        boolean syncedWith(Path dir, String name) {
            return syncs.stream().anyMatch(s -> s.dir().equals(dir) && s.names().contains(name));
        }
    }

    static Set<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return new TreeSet<>(s.map(p -> p.getFileName().toString()).toList());
        }
    }

    private static Set<String> segmentNames(Path dir) throws IOException {
        Set<String> n = names(dir);
        n.removeIf(x -> !x.endsWith(".wal"));
        return n;
    }

    @Test
    void deletingTrimmedSegmentsShouldSyncTheDirectoryAfterEachDeletion() throws Exception {
        Path dir = tmp.resolve("wal");
        RecordingChannels channels = new RecordingChannels();
        // No spares: every trimmed segment is deleted rather than recycled.
        FileWriteAheadLog.Builder b = FileWriteAheadLog.builder(dir).segmentBytes(64 << 10).maxGroupBytes(64 << 10)
                .spareSegments(0).channelFactory(channels);
        try (FileWriteAheadLog wal = Replayed.open(b).wal()) {
            List<TestEntry> l = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                l.add(append(wal, 0, i, 4000));
            }
            awaitAll(l);
            Set<String> before = segmentNames(dir);
            assertThat(before).hasSizeGreaterThanOrEqualTo(4);
            int from = channels.syncs.size();
            wal.trim(Long.MAX_VALUE);
            await(() -> wal.segmentsDeleted() >= before.size() - 1);
            Set<String> deleted = new TreeSet<>(before);
            deleted.removeAll(segmentNames(dir));
            assertThat(deleted).hasSize(before.size() - 1);
            for (String name : deleted) {
                assertThat(channels.syncedWithout(dir, name, from))
                        .as("a sync of the directory after %s was deleted", name).isTrue();
            }
        }
    }

    @Test
    void recoveryShouldSyncTheDirectoryAfterDeletingSurplusFreeFiles() throws Exception {
        Path dir = tmp.resolve("wal");
        Files.createDirectories(dir);
        String surplus = SegmentPool.fileName(7);
        Files.write(dir.resolve(surplus), new byte[5000]);   // free, and not of the segment size
        RecordingChannels channels = new RecordingChannels();
        FileWriteAheadLog.Builder b = FileWriteAheadLog.builder(dir).segmentBytes(64 << 10).spareSegments(0)
                .channelFactory(channels);
        Replayed.open(b).wal().close();
        assertThat(dir.resolve(surplus)).doesNotExist();
        assertThat(channels.syncedWithout(dir, surplus, 0)).as("a sync after the deletion").isTrue();
    }

    @Test
    void openShouldSyncTheParentOfEveryDirectoryItCreates() throws Exception {
        Path dir = tmp.resolve("a").resolve("b").resolve("wal");
        RecordingChannels channels = new RecordingChannels();
        Replayed.open(FileWriteAheadLog.builder(dir).segmentBytes(64 << 10).spareSegments(0)
                .channelFactory(channels)).wal().close();
        assertThat(channels.syncedWith(tmp, "a")).isTrue();
        assertThat(channels.syncedWith(tmp.resolve("a"), "b")).isTrue();
        assertThat(channels.syncedWith(tmp.resolve("a").resolve("b"), "wal")).isTrue();
    }

    @Test
    void aSegmentCreatedWithoutADurableDirectoryEntryShouldNotBeUsed() throws Exception {
        Path dir = tmp.resolve("wal");
        RecordingChannels channels = new RecordingChannels();
        FileWriteAheadLog.Builder b = FileWriteAheadLog.builder(dir).segmentBytes(64 << 10).spareSegments(0)
                .channelFactory(channels);
        List<TestEntry> good = new ArrayList<>();
        try (FileWriteAheadLog wal = Replayed.open(b).wal()) {
            channels.failDirectorySyncs.set(1);
            TestEntry lost = append(wal, 0, 0, 100);
            assertThatThrownBy(() -> lost.done.get(30, TimeUnit.SECONDS)).cause()
                    .isInstanceOfSatisfying(ShaleException.class, e -> {
                        assertThat(e.kind()).isEqualTo(ErrorKind.UNAVAILABLE);
                        assertThat(e.getMessage()).contains("syncing directory");
                    });
            assertThat(segmentNames(dir)).as("the file whose entry was not synced is gone").isEmpty();
            good.add(append(wal, 0, 1, 100));
            awaitAll(good);
        }
        assertSameEntries(Replayed.replayOnly(b), good);
    }
}
