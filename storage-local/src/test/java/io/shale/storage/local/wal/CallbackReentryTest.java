package io.shale.storage.local.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * WAL callbacks run on the writer thread; what they call on the WAL must never wait for that
 * thread. The timeouts here only guard against a deadlock (a hung test); nothing is timed.
 */
class CallbackReentryTest {
    private static final Duration DEADLOCK_GUARD = Duration.ofSeconds(120);

    @TempDir
    Path dir;

    private FileWriteAheadLog.Builder builder() {
        return FileWriteAheadLog.builder(dir).segmentBytes(64 << 10).maxGroupBytes(64 << 10).spareSegments(1);
    }

    @Test
    void anAppendFromACallbackThatFindsTheQueueFullShouldFailInsteadOfWaitingForItsOwnThread() {
        int fromCallback = 5;   // the queue holds 2
        List<TestEntry> accepted = new CopyOnWriteArrayList<>();
        List<TestEntry> rejected = new CopyOnWriteArrayList<>();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        assertTimeoutPreemptively(DEADLOCK_GUARD, () -> {
            FileWriteAheadLog wal = Replayed.open(builder().queueCapacity(2)).wal();
            try {
                TestEntry trigger = new TestEntry(0, 0, ByteBuffer.wrap(new byte[100])) {
                    @Override
                    public void onDurable() {
                        for (int i = 0; i < fromCallback; i++) {
                            TestEntry e = TestEntry.of(1, i, 100, 7);
                            try {
                                e.sequence = wal.append(e);
                                accepted.add(e);
                            } catch (ShaleException ex) {
                                rejected.add(e);
                                errors.add(ex);
                            } catch (Throwable t) {
                                errors.add(t);
                            }
                        }
                        super.onDurable();
                    }
                };
                trigger.sequence = wal.append(trigger);
                trigger.done.get(60, TimeUnit.SECONDS);
                for (TestEntry e : accepted) {
                    e.done.get(60, TimeUnit.SECONDS);
                }
                assertThat(trigger.callbacks.get()).isEqualTo(1);
            } finally {
                wal.close();
            }
        });
        assertThat(accepted).as("appends that found room").hasSize(2);
        assertThat(rejected).hasSize(fromCallback - 2);
        assertThat(errors).hasSize(fromCallback - 2).allSatisfy(t -> {
            assertThat(t).isInstanceOf(ShaleException.class).hasMessageContaining("WAL callback")
                    .hasMessageContaining("queue full");
            assertThat(((ShaleException) t).kind()).isEqualTo(ErrorKind.UNAVAILABLE);
        });
        for (TestEntry e : accepted) {
            assertThat(e.callbacks.get()).as("callbacks of sequence %d", e.sequence).isEqualTo(1);
            assertThat(e.succeeded()).isTrue();
        }
        for (TestEntry e : rejected) {
            assertThat(e.callbacks.get()).as("a rejected entry gets no callback").isZero();
        }
        // What was accepted is durable, after the entry that triggered it.
        List<Replayed> replayed = Replayed.replayOnly(builder());
        assertThat(replayed).hasSize(1 + accepted.size());
        assertThat(replayed.subList(1, replayed.size())).extracting(Replayed::sequence)
                .containsExactlyElementsOf(accepted.stream().map(e -> e.sequence).toList());
    }

    @Test
    void aCallbackReadingMetricsWhileCloseWaitsForTheWriterShouldNotDeadlock() {
        assertTimeoutPreemptively(DEADLOCK_GUARD, () -> {
            FileWriteAheadLog wal = Replayed.open(builder()).wal();
            long[] seen = new long[2];
            Thread closer = new Thread(wal::close, "closer");
            TestEntry e = new TestEntry(0, 0, ByteBuffer.wrap(new byte[100])) {
                @Override
                public void onDurable() {
                    // Runs on the writer thread; wait until close() holds the WAL and joins this thread.
                    while (closer.getState() != Thread.State.WAITING) {
                        Thread.onSpinWait();
                    }
                    seen[0] = wal.replayedEntries();
                    seen[1] = wal.corruptSegmentsFound();
                    super.onDurable();
                }
            };
            e.sequence = wal.append(e);
            closer.start();
            closer.join();
            assertThat(e.callbacks.get()).isEqualTo(1);
            assertThat(e.succeeded()).isTrue();
        });
    }
}
