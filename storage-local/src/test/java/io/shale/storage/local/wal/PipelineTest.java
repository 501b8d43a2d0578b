package io.shale.storage.local.wal;

import static io.shale.storage.local.wal.FileWriteAheadLogTest.append;
import static io.shale.storage.local.wal.FileWriteAheadLogTest.assertSameEntries;
import static io.shale.storage.local.wal.FileWriteAheadLogTest.await;
import static io.shale.storage.local.wal.FileWriteAheadLogTest.awaitAll;
import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The writer frames the next group while the sync thread writes and syncs the previous one. These
 * tests hold a group inside its {@code fdatasync} (a gate in {@code force}) while more entries are
 * appended, then let it return or fail: acknowledgement, order and the abandoned-segment rule must
 * hold across the hand-over. The waits only guard against hangs; nothing is timed.
 */
class PipelineTest {
    @TempDir
    Path dir;

    private final GatedChannels gated = new GatedChannels();

    private FileWriteAheadLog.Builder builder() {
        return FileWriteAheadLog.builder(dir).segmentBytes(256 << 10).maxGroupBytes(64 << 10).spareSegments(1)
                .channelFactory(gated).alwaysPipeline(true);
    }

    /** Segment channels (opened for read and write, by the writer) whose force can be held and failed. */
    static final class GatedChannels implements ChannelFactory {
        /** While set, the next force waits in {@link #entered} until {@link #release} is counted down. */
        volatile boolean armed;
        volatile boolean failReleased;
        volatile CountDownLatch entered = new CountDownLatch(1);
        volatile CountDownLatch release = new CountDownLatch(1);
        /** Positional writes to segment channels. */
        final AtomicInteger writes = new AtomicInteger();

        void arm(boolean fail) {
            entered = new CountDownLatch(1);
            release = new CountDownLatch(1);
            failReleased = fail;
            armed = true;
        }

        @Override
        public FileChannel open(Path path, OpenOption... options) throws IOException {
            FileChannel ch = FileChannel.open(path, options);
            List<OpenOption> o = Arrays.asList(options);
            if (!o.contains(StandardOpenOption.READ) || !o.contains(StandardOpenOption.WRITE)) {
                return ch;
            }
            return new DelegatingChannel(ch) {
                @Override
                public int write(ByteBuffer src, long position) throws IOException {
                    writes.incrementAndGet();
                    return d.write(src, position);
                }

                @Override
                public void force(boolean metaData) throws IOException {
                    if (armed) {
                        armed = false;
                        boolean fail = failReleased;
                        entered.countDown();
                        try {
                            if (!release.await(60, TimeUnit.SECONDS)) {
                                throw new IOException("test gate never released");
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IOException("interrupted at the test gate", e);
                        }
                        if (fail) {
                            throw new IOException("Input/output error (injected) syncing " + path);
                        }
                    }
                    d.force(metaData);
                }
            };
        }
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

    @Test
    void entriesAppendedDuringASyncShouldFormTheNextGroupAndBeAcknowledgedOnlyAfterTheirOwnSync()
            throws Exception {
        List<TestEntry> all = new ArrayList<>();
        try (FileWriteAheadLog wal = Replayed.open(builder()).wal()) {
            all.add(append(wal, 0, 0, 1000));
            awaitAll(all);
            gated.arm(false);
            TestEntry held = append(wal, 0, 1, 1000);
            all.add(held);
            assertThat(gated.entered.await(30, TimeUnit.SECONDS)).isTrue();
            int writesAtGate = gated.writes.get();
            long groupsAtGate = wal.groupsWritten();
            List<TestEntry> next = new ArrayList<>();
            for (int i = 2; i < 12; i++) {
                next.add(append(wal, i % 3, i, 1000));
            }
            all.addAll(next);
            // The writer takes (and frames) them while the sync is held; none may be written or
            // acknowledged before the held sync returns.
            Thread.sleep(200);
            assertThat(held.done).isNotDone();
            assertThat(next).noneMatch(e -> e.done.isDone());
            assertThat(gated.writes.get()).as("writes while a sync is in progress").isEqualTo(writesAtGate);
            gated.release.countDown();
            awaitAll(all);
            assertThat(all).allMatch(TestEntry::succeeded);
            // the held group, then everything appended meanwhile as one group
            await(() -> wal.groupsWritten() == groupsAtGate + 2);
            assertThat(wal.lastGroupEntries()).isEqualTo(next.size());
        }
        assertSameEntries(Replayed.replayOnly(builder()), all);
    }

    @Test
    void aGroupFramedWhileThePreviousSyncFailsShouldBeWrittenToAFreshSegment() throws Exception {
        List<TestEntry> ok = new ArrayList<>();
        TestEntry failed;
        try (FileWriteAheadLog wal = Replayed.open(builder().queueCapacity(2)).wal()) {
            for (int i = 0; i < 3; i++) {
                ok.add(append(wal, 0, i, 2000));
            }
            awaitAll(ok);
            gated.arm(true);
            failed = append(wal, 0, 3, 2000);
            assertThat(gated.entered.await(30, TimeUnit.SECONDS)).isTrue();
            // With a queue of 2, the fourth of these appends returns only after the writer took
            // (and framed, for the segment whose sync is held) at least the first two.
            List<TestEntry> framed = new ArrayList<>();
            for (int i = 4; i < 8; i++) {
                framed.add(append(wal, 1, i, 2000));
            }
            gated.release.countDown();
            ShaleException error = failureOf(failed);
            assertThat(error.kind()).isEqualTo(ErrorKind.UNAVAILABLE);
            assertThat(error.getMessage()).contains(".wal").contains("Input/output error");
            awaitAll(framed);
            assertThat(framed).allMatch(TestEntry::succeeded);
            ok.addAll(framed);
            for (int i = 8; i < 10; i++) {
                ok.add(append(wal, 0, i, 2000));
            }
            awaitAll(ok);
            assertThat(ok).allMatch(TestEntry::succeeded);
            assertThat(wal.failedGroups()).isEqualTo(1);
        }
        // The failed group's frames were written before its sync failed; the fresh segment's
        // header declares where the abandoned one's good frames end, so they are not replayed.
        assertSameEntries(Replayed.replayOnly(builder()), ok);
    }

    @Test
    void anEntryLargerThanAGroupArrivingDuringASyncShouldWaitForItAndKeepItsPlace() throws Exception {
        List<TestEntry> all = new ArrayList<>();
        try (FileWriteAheadLog wal = Replayed.open(builder()).wal()) {
            all.add(append(wal, 0, 0, 1000));
            awaitAll(all);
            gated.arm(false);
            all.add(append(wal, 0, 1, 1000));
            assertThat(gated.entered.await(30, TimeUnit.SECONDS)).isTrue();
            all.add(append(wal, 0, 2, 1000));
            all.add(append(wal, 1, 0, 100 << 10));   // larger than maxGroupBytes: written alone
            all.add(append(wal, 0, 3, 1000));
            gated.release.countDown();
            awaitAll(all);
            assertThat(all).allMatch(TestEntry::succeeded);
        }
        assertSameEntries(Replayed.replayOnly(builder()), all);
    }
}
