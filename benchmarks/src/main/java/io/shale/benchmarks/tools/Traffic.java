package io.shale.benchmarks.tools;

import io.shale.benchmarks.shale.ShaleBatches;
import io.shale.log.AppendResult;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.TopicPartition;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The load the tools put on a store: pipelined durable appends of one prepared Kafka v2 batch
 * (16 x 1 KiB records by default) round-robin over partitions with a bounded number in flight, and
 * catch-up reads of whole partitions.
 *
 * <p>One thread issues appends (appendBatch copies the batch before it returns, so the same buffer
 * serves every call); completions arrive on the store's threads. Not thread-safe.
 */
final class Traffic {
    /** How long draining in-flight appends may take before the tool gives up. */
    private static final long DRAIN_SECONDS = 300;

    private final LogStore store;
    private final TopicPartition[] partitions;
    private final ByteBuffer batch;
    private final int batchBytes;
    private final long payloadPerBatch;

    /** Appends of one {@code recordsPerBatch} x {@code recordBytes} batch to partitions 0..n-1 of {@code topic}. */
    Traffic(LogStore store, String topic, int partitionCount, int recordsPerBatch, int recordBytes) {
        this.store = store;
        this.partitions = new TopicPartition[partitionCount];
        for (int i = 0; i < partitionCount; i++) {
            partitions[i] = TopicPartition.of(topic, i);
        }
        this.batch = ShaleBatches.batch(recordsPerBatch, recordBytes);
        this.batchBytes = batch.remaining();
        this.payloadPerBatch = (long) recordsPerBatch * recordBytes;
    }

    int batchBytes() {
        return batchBytes;
    }

    long payloadPerBatch() {
        return payloadPerBatch;
    }

    /**
     * What an append run did.
     *
     * @param batches appends that completed (durable)
     * @param batchBytes bytes of those batches (Kafka v2 batches as stored)
     * @param seconds from the first append to the last completion
     * @param windowBatchBytes batch bytes completed inside the measurement window
     * @param windowSeconds length of the measurement window (0 if there was none)
     */
    record Appended(long batches, long batchBytes, double seconds, long windowBatchBytes, double windowSeconds) {
    }

    /**
     * Appends until {@code totalBatchBytes} have been sent, keeping {@code inFlight} appends in
     * flight, and waits for all of them. Throws the first append failure.
     */
    Appended appendBytes(int inFlight, long totalBatchBytes) throws InterruptedException {
        long batches = Math.max(1, (totalBatchBytes + batchBytes - 1) / batchBytes);
        return run(inFlight, batches, Long.MAX_VALUE, Long.MAX_VALUE, null);
    }

    /**
     * Appends for {@code warmupNanos} and then {@code measureNanos}, keeping {@code inFlight}
     * appends in flight. The latency (call to completion) of every append started in the
     * measurement window goes to {@code latencies}; the window's throughput counts batches
     * completed inside it. {@code onWindowStart} runs once when the window opens (e.g. to reset
     * store counters).
     */
    Appended appendTimed(int inFlight, long warmupNanos, long measureNanos, Latencies latencies, Runnable onWindowStart)
            throws InterruptedException {
        return run(inFlight, Long.MAX_VALUE, warmupNanos, measureNanos, new Window(latencies, onWindowStart));
    }

    private record Window(Latencies latencies, Runnable onStart) {
    }

    private Appended run(int inFlight, long maxBatches, long warmupNanos, long measureNanos, Window window)
            throws InterruptedException {
        Semaphore permits = new Semaphore(inFlight);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong completed = new AtomicLong();
        AtomicLong windowBytes = new AtomicLong();
        long start = System.nanoTime();
        long windowStart = window == null ? Long.MAX_VALUE : start + warmupNanos;
        long end = window == null ? Long.MAX_VALUE : windowStart + measureNanos;
        // read by completions: the window is [windowStart, windowEnd) and closes when issuing stops
        AtomicLong windowEnd = new AtomicLong(Long.MAX_VALUE);
        boolean windowOpen = false;
        AtomicLong lastCompletion = new AtomicLong(start);
        int next = 0;
        long sent = 0;
        while (sent < maxBatches && failure.get() == null) {
            long now = System.nanoTime();
            if (now >= end) {
                break;
            }
            if (!windowOpen && now >= windowStart) {
                windowOpen = true;
                if (window.onStart() != null) {
                    window.onStart().run();
                }
            }
            permits.acquire();
            TopicPartition tp = partitions[next];
            next = next + 1 == partitions.length ? 0 : next + 1;
            long t0 = System.nanoTime();
            boolean record = windowOpen;
            CompletableFuture<AppendResult> f;
            try {
                f = store.appendBatch(tp, batch.position(0));
            } catch (RuntimeException e) {
                permits.release();
                failure.compareAndSet(null, e);
                break;
            }
            sent++;
            f.whenComplete((r, t) -> {
                long done = System.nanoTime();
                if (t != null) {
                    failure.compareAndSet(null, t);
                } else {
                    completed.incrementAndGet();
                    lastCompletion.accumulateAndGet(done, Math::max);
                    if (record) {
                        window.latencies().record(done - t0);
                    }
                    if (done >= windowStart && done < windowEnd.get()) {
                        windowBytes.addAndGet(batchBytes);
                    }
                }
                permits.release();
            });
        }
        long stoppedAt = System.nanoTime();
        windowEnd.set(stoppedAt);
        if (!permits.tryAcquire(inFlight, DRAIN_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException("appends still in flight after " + DRAIN_SECONDS + " s");
        }
        Throwable t = failure.get();
        if (t != null) {
            throw new IllegalStateException("an append failed: " + t, t);
        }
        long n = completed.get();
        double windowSeconds = window == null ? 0 : Math.max(0, stoppedAt - windowStart) / 1e9;
        return new Appended(n, n * batchBytes, (lastCompletion.get() - start) / 1e9, windowBytes.get(), windowSeconds);
    }

    /**
     * Reads every partition of {@code topic} from its log start offset to its high watermark with
     * {@code read(tp, offset, maxBytes)}, partitions spread over {@code threads} threads. Returns
     * the bytes of the batches returned. Batches are not checked again here: the store verified the
     * CRC of every block it fetched.
     */
    static long readAll(LogStore store, String topic, int partitionCount, int maxBytes, int threads)
            throws InterruptedException {
        int[] all = new int[partitionCount];
        for (int i = 0; i < partitionCount; i++) {
            all[i] = i;
        }
        return read(store, topic, all, maxBytes, threads);
    }

    /** The partitions {@code i * count / sample} for i below {@code sample}: an evenly spaced sample (all if fewer). */
    static int[] sample(int count, int sample) {
        int n = Math.min(count, sample);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = (int) ((long) i * count / n);
        }
        return out;
    }

    /** As {@link #readAll}, for the given partitions of {@code topic}. */
    static long read(LogStore store, String topic, int[] partitions, int maxBytes, int threads)
            throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "measure-reader");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Long>> parts = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                int first = i;
                parts.add(pool.submit(() -> {
                    long bytes = 0;
                    for (int p = first; p < partitions.length; p += threads) {
                        bytes += readPartition(store, TopicPartition.of(topic, partitions[p]), maxBytes);
                    }
                    return bytes;
                }));
            }
            long total = 0;
            for (Future<Long> f : parts) {
                try {
                    total += f.get();
                } catch (ExecutionException e) {
                    throw new IllegalStateException("a read failed: " + e.getCause(), e.getCause());
                }
            }
            return total;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Reads one partition from its log start offset to its high watermark; returns the batch bytes. */
    static long readPartition(LogStore store, TopicPartition tp, int maxBytes) {
        long offset = store.logStartOffset(tp);
        long end = store.highWatermark(tp);
        long bytes = 0;
        while (offset < end) {
            FetchResult r = store.read(tp, offset, maxBytes);
            if (r.isEmpty()) {
                throw new IllegalStateException("read of " + tp + " at " + offset + " returned nothing below the high watermark "
                        + end);
            }
            bytes += r.sizeInBytes();
            offset = r.nextOffset();
        }
        return bytes;
    }
}
