package io.shale.storage.local.wal;

import io.shale.log.ShaleException;
import io.shale.log.ErrorKind;
import static io.shale.storage.local.wal.FileWriteAheadLogTest.append;
import static io.shale.storage.local.wal.FileWriteAheadLogTest.assertSameEntries;
import static io.shale.storage.local.wal.FileWriteAheadLogTest.awaitAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damage to the newest segment (a torn tail) and to older segments (corruption), made by editing
 * real segment files between runs.
 */
class TornTailTest {
    @TempDir
    Path dir;

    private FileWriteAheadLog.Builder builder() {
        return FileWriteAheadLog.builder(dir).segmentBytes(256 << 10).maxGroupBytes(64 << 10).spareSegments(1);
    }

    private List<TestEntry> writeAndClose(int count, int size, long firstOffset) throws Exception {
        Replayed.Opened o = Replayed.open(builder());
        List<TestEntry> l = new ArrayList<>();
        try (FileWriteAheadLog wal = o.wal()) {
            for (int i = 0; i < count; i++) {
                l.add(append(wal, 0, firstOffset + i, size));
            }
            awaitAll(l);
        }
        return l;
    }

    /**
     * After the damage, recovery must return exactly {@code survivors}; appends made then are
     * replayed after them by every later recovery, and nothing behind the damage ever reappears.
     */
    private void assertRecoversTo(List<TestEntry> survivors) throws Exception {
        List<TestEntry> later = new ArrayList<>();
        Replayed.Opened o = Replayed.open(builder());
        try (FileWriteAheadLog wal = o.wal()) {
            assertSameEntries(o.entries(), survivors);
            for (int i = 0; i < 5; i++) {
                later.add(append(wal, 0, 1000 + i, 700));
            }
            awaitAll(later);
        }
        List<TestEntry> expected = new ArrayList<>(survivors);
        expected.addAll(later);
        assertSameEntries(Replayed.replayOnly(builder()), expected);
        assertSameEntries(Replayed.replayOnly(builder()), expected);
    }

    @Test
    void replayShouldStopAtATruncatedLastFrame() throws Exception {
        List<TestEntry> written = writeAndClose(20, 1000, 0);
        SegmentFiles.Segment newest = SegmentFiles.newest(dir);
        SegmentFiles.Frame last = newest.frames().get(newest.frames().size() - 1);
        assertThat(last.sequence()).isEqualTo(written.get(19).sequence);
        SegmentFiles.truncate(newest.path(), last.position() + last.length() / 2);

        assertRecoversTo(written.subList(0, 19));
    }

    @Test
    void replayShouldStopAtALastFrameWithFlippedBits() throws Exception {
        List<TestEntry> written = writeAndClose(20, 1000, 0);
        SegmentFiles.Segment newest = SegmentFiles.newest(dir);
        SegmentFiles.Frame last = newest.frames().get(newest.frames().size() - 1);
        SegmentFiles.flipByte(newest.path(), last.position() + WalFormat.FRAME_HEADER_LENGTH + 500);

        assertRecoversTo(written.subList(0, 19));
    }

    @Test
    void replayShouldStopWhereTheTailWasZeroed() throws Exception {
        List<TestEntry> written = writeAndClose(20, 1000, 0);
        SegmentFiles.Segment newest = SegmentFiles.newest(dir);
        SegmentFiles.Frame frame = newest.frames().get(15);
        SegmentFiles.overwrite(newest.path(), frame.position() + 3, new byte[20 * 1040]);

        assertRecoversTo(written.subList(0, 15));
    }

    @Test
    void validFramesBehindACorruptFrameOfTheNewestSegmentShouldNeverBeReplayed() throws Exception {
        List<TestEntry> written = writeAndClose(20, 1000, 0);
        SegmentFiles.Segment newest = SegmentFiles.newest(dir);
        SegmentFiles.flipByte(newest.path(), newest.frames().get(10).position() + 100);

        // Frames 11..19 stay on disk, intact but unreachable; the new appends reuse their
        // sequence numbers (they were never delivered) and must be the ones replayed.
        assertRecoversTo(written.subList(0, 10));
    }

    @Test
    void corruptionInsideASealedSegmentShouldFailTheOpenUnlessToleratedThenReplayLaterSegments() throws Exception {
        Replayed.Opened o = Replayed.open(builder().segmentBytes(64 << 10));
        List<TestEntry> written = new ArrayList<>();
        try (FileWriteAheadLog wal = o.wal()) {
            for (int i = 0; i < 60; i++) {
                written.add(append(wal, 0, i, 4000));
            }
            awaitAll(written);
        }
        List<SegmentFiles.Segment> segments = SegmentFiles.live(dir);
        assertThat(segments).hasSizeGreaterThanOrEqualTo(4);
        SegmentFiles.Segment victim = segments.get(1);
        SegmentFiles.Frame bad = victim.frames().get(3);
        SegmentFiles.flipByte(victim.path(), bad.position() + 2000);
        long lostFrom = bad.sequence();
        long lostTo = victim.frames().get(victim.frames().size() - 1).sequence();

        // By default the open fails, naming the segment: acknowledged entries are lost.
        assertThatThrownBy(() -> Replayed.open(builder().segmentBytes(64 << 10)))
                .isInstanceOfSatisfying(ShaleException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE);
                    assertThat(e.getMessage()).contains(victim.path().getFileName().toString());
                });
        // An operator who accepts the loss opens with tolerateDamage: what is readable comes back.
        Replayed.Opened reopened = Replayed.open(builder().segmentBytes(64 << 10).tolerateDamage(true));
        try (FileWriteAheadLog wal = reopened.wal()) {
            assertThat(wal.corruptSegmentsFound()).isEqualTo(1);
            List<TestEntry> expected = written.stream()
                    .filter(e -> e.sequence < lostFrom || e.sequence > lostTo).toList();
            assertSameEntries(reopened.entries(), expected);
        }
    }

    @Test
    void cleanShutdownShouldReportNoCorruption() throws Exception {
        writeAndClose(300, 1000, 0);
        Replayed.Opened o = Replayed.open(builder());
        try (FileWriteAheadLog wal = o.wal()) {
            assertThat(o.entries()).hasSize(300);
            assertThat(wal.corruptSegmentsFound()).isZero();
        }
    }
}
