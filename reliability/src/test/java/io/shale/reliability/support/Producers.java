package io.shale.reliability.support;

import io.shale.log.AppendResult;
import io.shale.log.ErrorKind;
import io.shale.log.LogStore;
import io.shale.log.ShaleException;
import io.shale.log.TopicPartition;
import io.shale.log.record.SimpleRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Producer threads appending deterministic records ({@link Payloads}) to random partitions, with
 * a bounded number of appends in flight per thread. Every attempt is recorded in the
 * {@link Ledger} before the call, every acknowledgement after it.
 */
public final class Producers {
    /** Told about each acknowledged append (on a store thread; must not block). */
    @FunctionalInterface
    public interface AckListener {
        void onAck(TopicPartition tp, long[] ids, AppendResult result);
    }

    private final LogStore store;
    private final List<TopicPartition> partitions;
    private final int threads;
    private final int firstProducer;
    private final long seed;
    private final int maxValueLen;
    private final int maxRecordsPerAppend;
    private final int inFlightPerThread;
    private final Ledger ledger;
    private final AckListener listener;
    private final List<Thread> running = new ArrayList<>();
    private volatile boolean stop;
    public final AtomicLong appends = new AtomicLong();
    public final Map<ErrorKind, AtomicLong> failures = new ConcurrentHashMap<>();
    private volatile long appendLimit = Long.MAX_VALUE;
    /** Threads whose appends did not all complete within 2 minutes of stopping (a hang). */
    public final AtomicLong hung = new AtomicLong();

    public Producers(LogStore store, List<TopicPartition> partitions, int threads, int firstProducer, long seed,
            int maxValueLen, int maxRecordsPerAppend, int inFlightPerThread, Ledger ledger, AckListener listener) {
        this.store = store;
        this.partitions = partitions;
        this.threads = threads;
        this.firstProducer = firstProducer;
        this.seed = seed;
        this.maxValueLen = maxValueLen;
        this.maxRecordsPerAppend = maxRecordsPerAppend;
        this.inFlightPerThread = inFlightPerThread;
        this.ledger = ledger;
        this.listener = listener;
    }

    /** Each thread stops after this many appends (default: until {@link #stop()}). */
    public Producers limit(long appendsPerThread) {
        this.appendLimit = appendsPerThread;
        return this;
    }

    public Producers start() {
        for (int t = 0; t < threads; t++) {
            int producer = firstProducer + t;
            Thread th = new Thread(() -> run(producer), "producer-" + producer);
            th.setDaemon(true);
            running.add(th);
            th.start();
        }
        return this;
    }

    /** Whether every thread has finished (its limit reached, or stopped). */
    public boolean finished() {
        return running.stream().noneMatch(Thread::isAlive);
    }

    /** Stops the threads and waits for every append in flight to complete. */
    public void stop() {
        stop = true;
        join();
    }

    /** Waits for the threads to finish (after {@link #limit} appends or {@link #stop()}). */
    public void join() {
        for (Thread t : running) {
            try {
                t.join(TimeUnit.MINUTES.toMillis(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (t.isAlive()) {
                throw new AssertionError(t.getName() + " did not finish within 2 minutes");
            }
        }
    }

    public long failures(ErrorKind kind) {
        AtomicLong c = failures.get(kind);
        return c == null ? 0 : c.get();
    }

    private void run(int producer) {
        SplittableRandom rnd = new SplittableRandom(seed ^ ((long) producer * 0x9E3779B97F4A7C15L));
        Semaphore inFlight = new Semaphore(inFlightPerThread);
        long attempt = 0;
        for (long n = 0; n < appendLimit && !stop; n++) {
            TopicPartition tp = partitions.get(rnd.nextInt(partitions.size()));
            int count = 1 + rnd.nextInt(maxRecordsPerAppend);
            long[] ids = new long[count];
            List<SimpleRecord> records = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                ids[i] = Payloads.id(producer, attempt++);
                records.add(Payloads.record(ids[i], maxValueLen));
            }
            try {
                inFlight.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            ledger.attempt(ids);
            appends.incrementAndGet();
            store.append(tp, records).whenComplete((r, e) -> {
                inFlight.release();
                if (e == null) {
                    ledger.ack(tp, ids, r);
                    if (listener != null) {
                        listener.onAck(tp, ids, r);
                    }
                    return;
                }
                ledger.failedAppends.incrementAndGet();
                ShaleException se = ShaleException.unwrap(e);
                ErrorKind kind = se == null ? null : se.kind();
                if (kind == null) {
                    failures.computeIfAbsent(ErrorKind.INVALID_ARGUMENT, k -> new AtomicLong()).incrementAndGet();
                    System.err.println("append failed with a non-Shale exception: " + e);
                    return;
                }
                failures.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
                if (kind == ErrorKind.CLOSED || kind == ErrorKind.FENCED) {
                    stop = true;
                }
            });
        }
        try {
            if (!inFlight.tryAcquire(inFlightPerThread, 2, TimeUnit.MINUTES)) {
                hung.incrementAndGet();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
