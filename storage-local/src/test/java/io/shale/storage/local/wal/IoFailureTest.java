package io.shale.storage.local.wal;

import static io.shale.storage.local.wal.FileWriteAheadLogTest.append;
import static io.shale.storage.local.wal.FileWriteAheadLogTest.assertSameEntries;
import static io.shale.storage.local.wal.FileWriteAheadLogTest.awaitAll;
import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** I/O failures injected into the segment channels: failed groups, then recovery of service. */
class IoFailureTest {
    @TempDir
    Path dir;

    private final FaultyChannels faults = new FaultyChannels();

    private FileWriteAheadLog.Builder builder() {
        return FileWriteAheadLog.builder(dir).segmentBytes(64 << 10).maxGroupBytes(64 << 10).spareSegments(1)
                .channelFactory(faults);
    }

    private static ShaleException failureOf(TestEntry e) throws Exception {
        try {
            e.done.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException ex) {
            assertThat(ex.getCause()).isInstanceOf(ShaleException.class);
            return (ShaleException) ex.getCause();
        }
        throw new AssertionError("entry " + e.sequence + " succeeded but should have failed");
    }

    private static TestEntry appendAndWait(FileWriteAheadLog wal, int stream, long offset, int size) throws Exception {
        TestEntry e = append(wal, stream, offset, size);
        try {
            e.done.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException ignored) {
            // the caller looks at the outcome
        }
        return e;
    }

    @Test
    void failedWriteShouldFailItsGroupAndLaterAppendsShouldSucceed() throws Exception {
        List<TestEntry> ok = new ArrayList<>();
        try (FileWriteAheadLog wal = Replayed.open(builder()).wal()) {
            for (int i = 0; i < 5; i++) {
                ok.add(appendAndWait(wal, 0, i, 3000));
            }
            faults.failWrites.set(1);
            TestEntry failed = appendAndWait(wal, 0, 5, 3000);
            ShaleException error = failureOf(failed);
            assertThat(error.kind()).isEqualTo(ErrorKind.UNAVAILABLE);
            assertThat(error.getMessage()).contains(dir.toString()).contains(".wal").contains("No space left");
            for (int i = 6; i < 11; i++) {
                ok.add(appendAndWait(wal, 0, i, 3000));
            }
            assertThat(ok).allMatch(TestEntry::succeeded);
            assertThat(wal.failedGroups()).isEqualTo(1);
        }
        assertSameEntries(Replayed.replayOnly(builder()), ok);
    }

    @Test
    void failedSyncShouldFailItsGroupAndItsWrittenFramesShouldNotBeReplayed() throws Exception {
        List<TestEntry> ok = new ArrayList<>();
        try (FileWriteAheadLog wal = Replayed.open(builder()).wal()) {
            for (int i = 0; i < 5; i++) {
                ok.add(appendAndWait(wal, 0, i, 3000));
            }
            faults.failForces.set(1);
            TestEntry failed = appendAndWait(wal, 0, 5, 3000);
            assertThat(failureOf(failed).getMessage()).contains("Input/output error");
            for (int i = 6; i < 11; i++) {
                ok.add(appendAndWait(wal, 0, i, 3000));
            }
        }
        // The failed group's frame is complete on disk (only the sync failed); the next segment's
        // header declares where the good frames end, so it is not replayed.
        assertSameEntries(Replayed.replayOnly(builder()), ok);
    }

    @Test
    void failureOfASegmentsFirstGroupShouldNotLeaveItsFramesBehind() throws Exception {
        List<TestEntry> ok = new ArrayList<>();
        try (FileWriteAheadLog wal = Replayed.open(builder()).wal()) {
            faults.failForces.set(1);
            TestEntry failed = appendAndWait(wal, 0, 0, 3000);
            assertThat(failureOf(failed).kind()).isEqualTo(ErrorKind.UNAVAILABLE);
            for (int i = 1; i < 4; i++) {
                ok.add(appendAndWait(wal, 0, i, 3000));
            }
        }
        assertSameEntries(Replayed.replayOnly(builder()), ok);
    }

    @Test
    void fullDiskShouldFailGroupsUntilSpaceReturns() throws Exception {
        List<TestEntry> ok = new ArrayList<>();
        try (FileWriteAheadLog wal = Replayed.open(builder().spareSegments(0)).wal()) {
            faults.diskFull = true;
            for (int i = 0; i < 3; i++) {
                ShaleException error = failureOf(appendAndWait(wal, 0, i, 3000));
                assertThat(error.kind()).isEqualTo(ErrorKind.UNAVAILABLE);
                assertThat(error.getMessage()).contains(dir.toString());
            }
            faults.diskFull = false;
            for (int i = 3; i < 40; i++) {
                ok.add(appendAndWait(wal, 0, i, 3000));
            }
            assertThat(ok).allMatch(TestEntry::succeeded);
        }
        assertSameEntries(Replayed.replayOnly(builder()), ok);
    }

    @Test
    void randomFailuresShouldNeverLoseOrResurrectEntries() throws Exception {
        SplittableRandom rnd = new SplittableRandom(7);
        List<TestEntry> ok = new ArrayList<>();
        int failures = 0;
        try (FileWriteAheadLog wal = Replayed.open(builder()).wal()) {
            for (int i = 0; i < 300; i++) {
                int dice = rnd.nextInt(10);
                if (dice == 0) {
                    faults.failWrites.set(1);
                } else if (dice == 1) {
                    faults.failForces.set(1);
                }
                TestEntry e = appendAndWait(wal, 0, i, rnd.nextInt(1, 9000));
                if (e.succeeded()) {
                    ok.add(e);
                } else {
                    failures++;
                }
            }
            assertThat(wal.failedGroups()).isEqualTo(failures);
        }
        assertThat(failures).as("test precondition").isGreaterThan(20);
        assertSameEntries(Replayed.replayOnly(builder()), ok);
    }
}
