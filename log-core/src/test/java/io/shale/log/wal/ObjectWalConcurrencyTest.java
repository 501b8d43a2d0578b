package io.shale.log.wal;

import static io.shale.log.wal.WalTesting.replayAll;
import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.wal.WalTesting.Replayed;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ObjectWalConcurrencyTest {
    private static final int THREADS = 8;
    private static final int PER_THREAD = 1500;

    @Test
    void manyThreadsAppendingShouldHaveEveryAcknowledgedEntryReplayedOnceInPerThreadOrder() throws Exception {
        ScriptedObjectStore store = new ScriptedObjectStore();
        // PUTs complete on other threads after a random short delay, so objects complete out of order.
        ExecutorService delays = Executors.newFixedThreadPool(3);
        store.completeAsyncOn(command -> delays.execute(() -> {
            sleepMicros(ThreadLocalRandom.current().nextInt(2000));
            command.run();
        }));
        List<List<RecordingEntry>> perThread = new ArrayList<>();
        List<long[]> sequences = new ArrayList<>();
        try (TestWalContext ctx = new TestWalContext(9, store)) {
            ObjectWriteAheadLog wal = ObjectWriteAheadLog.builder()
                    .flushInterval(Duration.ofMillis(5))
                    .flushBytes(16 * 1024)
                    .maxInFlightPuts(4)
                    .maxBufferedBytes(128 * 1024)
                    .chunkBytes(4096)
                    .build();
            wal.open(ctx);
            wal.replay((s, i, o, p) -> {
            });
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                List<RecordingEntry> mine = new ArrayList<>();
                long[] seqs = new long[PER_THREAD];
                perThread.add(mine);
                sequences.add(seqs);
                int thread = t;
                Thread th = new Thread(() -> {
                    await(start);
                    for (int i = 0; i < PER_THREAD; i++) {
                        ByteBuffer payload = ByteBuffer.allocate(8 + (i % 97) * 7);
                        payload.putInt(0, thread).putInt(4, i);
                        RecordingEntry e = new RecordingEntry(thread, i, payload);
                        mine.add(e);
                        seqs[i] = wal.append(e);
                        if (i == PER_THREAD / 2 && thread == 0) {
                            store.failNextPuts(1, ObjectStoreException.Reason.TRANSIENT); // one object lost mid-run
                        }
                    }
                });
                threads.add(th);
                th.start();
            }
            start.countDown();
            for (Thread th : threads) {
                th.join(TimeUnit.MINUTES.toMillis(2));
                assertThat(th.isAlive()).isFalse();
            }
            wal.close();
        } finally {
            delays.shutdown();
        }

        Map<Long, RecordingEntry> acked = new HashMap<>();
        int failed = 0;
        for (int t = 0; t < THREADS; t++) {
            long prev = -1;
            for (int i = 0; i < PER_THREAD; i++) {
                RecordingEntry e = perThread.get(t).get(i);
                long seq = sequences.get(t)[i];
                assertThat(seq).isGreaterThan(prev); // per-thread sequences increase
                prev = seq;
                assertThat(e.callbacks.get()).isEqualTo(1); // settled exactly once, close included
                ShaleException error = e.awaitOutcome();
                if (error == null) {
                    acked.put(seq, e);
                } else {
                    assertThat(error.kind()).isEqualTo(ErrorKind.UNAVAILABLE);
                    failed++;
                }
            }
        }
        assertThat(failed).isPositive(); // the scripted PUT failure hit someone
        assertThat(acked).isNotEmpty();

        List<Replayed> replayed = replayAll(store, 10, WalTesting.manualFlush());
        Set<Long> seen = new HashSet<>();
        Map<Integer, Integer> lastIndexPerThread = new HashMap<>();
        long prevSeq = -1;
        for (Replayed r : replayed) {
            assertThat(r.sequence()).isGreaterThan(prevSeq);
            prevSeq = r.sequence();
            assertThat(seen.add(r.sequence())).isTrue();
            ByteBuffer p = ByteBuffer.wrap(r.payload());
            int thread = p.getInt(0);
            int index = p.getInt(4);
            assertThat(r.streamId()).isEqualTo(thread);
            assertThat(r.baseOffset()).isEqualTo(index);
            Integer last = lastIndexPerThread.put(thread, index);
            assertThat(last == null || last < index).as("thread %d order", thread).isTrue();
        }
        assertThat(seen).containsAll(acked.keySet());
        Map<Long, Replayed> bySequence = new HashMap<>();
        replayed.forEach(r -> bySequence.put(r.sequence(), r));
        for (Map.Entry<Long, RecordingEntry> e : acked.entrySet()) {
            assertThat(bySequence.get(e.getKey())).isEqualTo(WalTesting.expected(e.getKey(), e.getValue()));
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleepMicros(long micros) {
        try {
            TimeUnit.MICROSECONDS.sleep(micros);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
