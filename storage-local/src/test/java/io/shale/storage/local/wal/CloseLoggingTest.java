package io.shale.storage.local.wal;

import static io.shale.storage.local.wal.FileWriteAheadLogTest.append;
import static io.shale.storage.local.wal.FileWriteAheadLogTest.await;
import static io.shale.storage.local.wal.FileWriteAheadLogTest.awaitAll;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A normal open, append and close logs nothing at WARN or above; real failures still do. */
class CloseLoggingTest {
    @TempDir
    Path dir;

    @Test
    void closingWhileASpareIsBeingPreallocatedShouldLogNoWarning() throws Exception {
        // The spare prepared during replay goes through; the pool thread's next one is stuck
        // half-way when close() stops it.
        StallingChannels stalling = new StallingChannels(1);
        try (LogCapture logs = new LogCapture()) {
            FileWriteAheadLog wal = Replayed.open(FileWriteAheadLog.builder(dir).segmentBytes(64 << 10)
                    .spareSegments(2).channelFactory(stalling)).wal();
            try {
                TestEntry e = append(wal, 0, 0, 100);
                e.done.get(30, TimeUnit.SECONDS);
                assertThat(stalling.stalled.await(30, TimeUnit.SECONDS)).isTrue();
            } finally {
                wal.close();
            }
            assertThat(stalling.stalledFile).as("the partial spare is removed").doesNotExist();
            assertThat(logs.warnings()).isEmpty();
        }
    }

    @Test
    void openAppendAndCloseWithDefaultSettingsShouldLogNoWarning() throws Exception {
        try (LogCapture logs = new LogCapture()) {
            for (int round = 0; round < 3; round++) {
                List<TestEntry> l = new ArrayList<>();
                try (FileWriteAheadLog wal = Replayed.open(FileWriteAheadLog.builder(dir)).wal()) {
                    for (int i = 0; i < 20; i++) {
                        l.add(append(wal, 0, round * 20L + i, 1000));
                    }
                    awaitAll(l);
                }
            }
            assertThat(logs.warnings()).isEmpty();
        }
    }

    @Test
    void aFailingPreallocationShouldStillBeReported() throws Exception {
        FaultyChannels faulty = new FaultyChannels();
        try (LogCapture logs = new LogCapture()) {
            try (FileWriteAheadLog wal = Replayed.open(FileWriteAheadLog.builder(dir).segmentBytes(64 << 10)
                    .spareSegments(1).channelFactory(faulty)).wal()) {
                faulty.diskFull = true;
                append(wal, 0, 0, 100).done.get(30, TimeUnit.SECONDS);   // takes the spare: the pool makes one
                await(() -> !logs.warnings().isEmpty());
                faulty.diskFull = false;
            }
            assertThat(logs.warnings()).anySatisfy(w -> assertThat(w).startsWith("WARN")
                    .contains("preparing a segment").contains("No space left on device"));
        }
    }
}
