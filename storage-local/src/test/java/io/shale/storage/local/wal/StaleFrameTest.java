package io.shale.storage.local.wal;

import static io.shale.storage.local.wal.FileWriteAheadLogTest.append;
import static io.shale.storage.local.wal.FileWriteAheadLogTest.assertSameEntries;
import static io.shale.storage.local.wal.FileWriteAheadLogTest.awaitAll;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A recycled segment file still holds the frames of its previous life; they must never be replayed. */
class StaleFrameTest {
    @TempDir
    Path dir;

    private FileWriteAheadLog.Builder builder() {
        return FileWriteAheadLog.builder(dir).segmentBytes(64 << 10).maxGroupBytes(64 << 10).spareSegments(1);
    }

    @Test
    void staleFramesOfARecycledSegmentShouldNotBeReplayed() throws Exception {
        List<TestEntry> first = new ArrayList<>();
        try (FileWriteAheadLog wal = Replayed.open(builder()).wal()) {
            for (int i = 0; i < 60; i++) {
                first.add(append(wal, 0, i, 4000));
            }
            awaitAll(first);
        }
        List<SegmentFiles.Segment> segments = SegmentFiles.live(dir);
        assertThat(segments).hasSizeGreaterThanOrEqualTo(4);
        SegmentFiles.Segment recycled = segments.get(1);
        long oldId = recycled.header().segmentId();
        int oldFrames = recycled.frames().size();
        assertThat(oldFrames).isGreaterThan(5);
        // Recycle it the way the WAL does (zero the header sector), and leave it as the only free
        // file so that the next activation must reuse it.
        SegmentFiles.overwrite(recycled.path(), 0, new byte[WalFormat.FIRST_FRAME_OFFSET]);
        for (Path p : SegmentFiles.files(dir)) {
            if (segments.stream().noneMatch(s -> s.path().equals(p))) {
                Files.delete(p);
            }
        }
        long lostFrom = recycled.frames().get(0).sequence();
        long lostTo = recycled.frames().get(oldFrames - 1).sequence();

        // Same-sized entries: the new frames end exactly where an old frame begins.
        List<TestEntry> second = new ArrayList<>();
        try (FileWriteAheadLog wal = Replayed.open(builder()).wal()) {
            for (int i = 0; i < 3; i++) {
                second.add(append(wal, 1, i, 4000));
            }
            awaitAll(second);
        }
        SegmentFiles.Segment reused = SegmentFiles.newest(dir);
        assertThat(reused.path()).as("the recycled file was reactivated").isEqualTo(recycled.path());
        assertThat(reused.frames()).hasSize(3);
        // Precondition: behind the new frames lies an intact old frame, valid under the old id.
        try (FileChannel ch = FileChannel.open(reused.path(), StandardOpenOption.READ)) {
            FrameReader r = new FrameReader();
            r.reset(ch, ch.size(), oldId);
            SegmentFiles.Frame end = reused.frames().get(2);
            assertThat(r.read(end.position() + end.length())).isPositive();
            assertThat(r.sequence).isEqualTo(recycled.frames().get(3).sequence());
        }

        List<TestEntry> expected = new ArrayList<>(first.stream()
                .filter(e -> e.sequence < lostFrom || e.sequence > lostTo).toList());
        expected.addAll(second);
        assertSameEntries(Replayed.replayOnly(builder()), expected);
    }

    @Test
    void preallocatedZeroesShouldEndASegment() throws Exception {
        List<TestEntry> l = new ArrayList<>();
        try (FileWriteAheadLog wal = Replayed.open(builder()).wal()) {
            l.add(append(wal, 0, 0, 100));
            awaitAll(l);
            assertThat(wal.unpreallocatedSegments()).as("the first segment was preallocated").isZero();
        }
        SegmentFiles.Segment s = SegmentFiles.newest(dir);
        assertThat(Files.size(s.path())).isEqualTo(64 << 10);
        assertThat(s.frames()).hasSize(1);
        assertSameEntries(Replayed.replayOnly(builder()), l);
    }
}
