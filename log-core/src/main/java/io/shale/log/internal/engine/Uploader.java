package io.shale.log.internal.engine;

import static io.shale.log.internal.util.StoreCalls.await;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.internal.format.DataObjectWriter;
import io.shale.log.internal.manifest.ManifestOp;
import io.shale.log.internal.manifest.ObjectMeta;
import io.shale.log.internal.manifest.RangeRef;
import io.shale.log.internal.util.StoreCalls;
import io.shale.log.spi.Payload;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves durable data from the log cache to the object store, on one thread.
 *
 * <p>One upload takes the durable, not yet uploaded batches of every partition that has any
 * (up to {@code upload.max.bytes}), lays them out as ONE data object sorted by partition and
 * offset ({@link DataObjectWriter}: views of the cache, no copy), PUTs it, commits it to the
 * manifest, marks the batches uploaded (so the cache may evict them) and trims the WAL. The PUT
 * count per GiB therefore depends on the upload size, not on the number of partitions.
 *
 * <p>Triggers: {@code upload.bytes} waiting, {@code upload.interval.ms} elapsed, {@code
 * LogStore.flush()} and close.
 *
 * <p>Failures: a failed PUT or commit leaves the batches pending (they stay in the cache and
 * the WAL) and is retried at the next trigger; a commit retried after an unknown outcome reuses
 * its token, so it lands once. {@code FENCED} stops uploading for good.
 */
final class Uploader {
    private static final Logger log = LoggerFactory.getLogger(Uploader.class);

    private final StoreEngine engine;
    private final AtomicBoolean triggered = new AtomicBoolean();
    private final AtomicLong objectCounter = new AtomicLong();
    /** Keys PUT but not yet committed: orphan cleanup must not touch them. */
    final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    private volatile ScheduledFuture<?> timer;
    private volatile boolean stopped;
    private volatile boolean recovering;

    // metrics
    final AtomicLong uploads = new AtomicLong();
    final AtomicLong bytesUploaded = new AtomicLong();
    final AtomicLong commitFailures = new AtomicLong();

    /** An upload whose object is written but whose commit has not succeeded yet. */
    private record Prepared(String key, ObjectMeta object, List<RangeRef> ranges, String commitToken,
            List<Collected> parts) {
    }

    private record Collected(PartitionLog log, List<CachedBatch> batches, long end) {
    }

    private Prepared unfinished;

    Uploader(StoreEngine engine) {
        this.engine = engine;
    }

    void start() {
        long interval = engine.config.uploadIntervalMs();
        timer = engine.scheduler.scheduleWithFixedDelay(this::trigger, interval, interval, TimeUnit.MILLISECONDS);
    }

    void stop() {
        stopped = true;
        ScheduledFuture<?> t = timer;
        if (t != null) {
            t.cancel(false);
        }
    }

    void setRecovering(boolean recovering) {
        this.recovering = recovering;
    }

    /** Called after each append: starts an upload when enough bytes wait. Cheap. */
    void maybeTrigger() {
        if (!triggered.get() && engine.cache.pendingBytesRelaxed() >= engine.config.uploadBytes()) {
            trigger();
        }
    }

    private void trigger() {
        if (stopped || !triggered.compareAndSet(false, true)) {
            return;
        }
        try {
            engine.uploadExecutor.execute(() -> {
                triggered.set(false);
                runUntilDrained(false);
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            triggered.set(false);
        }
    }

    /** Uploads everything durable now and waits (LogStore.flush). */
    void uploadAllNow() {
        Future<?> f = engine.uploadExecutor.submit(() -> runUntilDrained(true));
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShaleException(ErrorKind.UNAVAILABLE, "interrupted while flushing", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw StoreCalls.translate(e.getCause(), "flushing to " + engine.store.describe());
        }
    }

    /** Close: one last drain on the caller's thread (the upload thread may be busy; wait for it). */
    void finalUpload(boolean trimWal) {
        try {
            Future<?> f = engine.uploadExecutor.submit(() -> runUntilDrained(trimWal));
            f.get(Math.max(1_000, engine.config.objectStoreRetryDeadlineMs()), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            log.warn("final upload on close did not complete: {} (the data stays in the WAL and is uploaded on reopen)",
                    e.toString());
        }
    }

    /** Recovery: makes room in the cache by uploading what was replayed so far. */
    void uploadDuringRecovery() {
        runOnce(false);
    }

    private void runUntilDrained(boolean throwOnFailure) {
        try {
            while (!stopped || engine.isClosing()) {
                if (!runOnce(!recovering)) {
                    return;
                }
            }
        } catch (ShaleException e) {
            if (e.kind() == ErrorKind.FENCED) {
                engine.onFenced(e);
            } else {
                log.warn("upload to {} failed, will retry: {}", engine.store.describe(), e.getMessage());
            }
            if (throwOnFailure) {
                throw e;
            }
        } catch (RuntimeException e) {
            log.error("upload failed unexpectedly", e);
            if (throwOnFailure) {
                throw e;
            }
        }
    }

    /**
     * One upload. Returns whether another should follow at once (more data waits than fitted).
     */
    boolean runOnce(boolean trimWal) {
        if (engine.isFenced()) {
            return false;
        }
        if (unfinished != null) {
            commit(unfinished);
            finish(unfinished);
            unfinished = null;
        }
        long walMark = engine.wal.nextSequence();
        TreeMap<Integer, PartitionLog> candidates = new TreeMap<>();
        for (PartitionLog p; (p = engine.dirty.poll()) != null; ) {
            candidates.put(p.id, p);
        }
        long budget = engine.config.uploadMaxBytes();
        long used = 0;
        List<Collected> parts = new ArrayList<>();
        List<PartitionLog> skipped = new ArrayList<>();
        for (PartitionLog p : candidates.values()) {
            if (p.isDeleted()) {
                continue;
            }
            if (used >= budget) {
                skipped.add(p);
                continue;
            }
            List<CachedBatch> batches = new ArrayList<>();
            long end = p.collectForUpload(budget - used, batches);
            if (batches.isEmpty()) {
                skipped.add(p);
                continue;
            }
            for (CachedBatch b : batches) {
                used += b.sizeInBytes();
            }
            parts.add(new Collected(p, batches, end));
        }
        for (PartitionLog p : skipped) {
            if (p.stillDirty()) {
                engine.dirty.add(p);
            }
        }
        if (parts.isEmpty()) {
            if (trimWal) {
                trimWal(walMark);
            }
            return false;
        }
        Prepared prepared = write(parts);
        commit(prepared);
        finish(prepared);
        if (trimWal) {
            trimWal(walMark);
        }
        return used >= budget || engine.cache.pendingBytesRelaxed() >= engine.config.uploadBytes();
    }

    private Prepared write(List<Collected> parts) {
        parts.sort(Comparator.comparingInt(c -> c.log().id));
        DataObjectWriter w = new DataObjectWriter(engine.config.objectBlockBytes());
        for (Collected c : parts) {
            for (CachedBatch b : c.batches()) {
                w.add(c.log().id, b.internalView());
            }
        }
        List<ByteBuffer> buffers = w.finish();
        String key = "data/" + StoreCalls.pad(engine.catalog.writerEpoch()) + "-"
                + StoreCalls.pad(objectCounter.incrementAndGet());
        inFlight.add(key);
        // Count passes over the bytes: a retried or failed PUT may leave an attempt that still reads
        // the cache's memory, which then must never be recycled.
        AtomicInteger passes = new AtomicInteger();
        Payload payload = Payload.ofStream(w.objectSize(), () -> {
            passes.incrementAndGet();
            return buffers.stream().map(ByteBuffer::duplicate).iterator();
        });
        try {
            await(engine.store.put(key, payload, StoreCalls.newToken()), "uploading data object " + key);
        } catch (RuntimeException e) {
            exposeAll(parts);
            inFlight.remove(key);
            requeue(parts);
            throw e;
        }
        if (passes.get() != 1) {
            exposeAll(parts);
        }
        ObjectMeta object = new ObjectMeta(key, w.objectSize(), w.indexPosition(), ObjectMeta.KIND_MULTI,
                engine.clock.millis());
        List<RangeRef> ranges = Ranges.fromBlocks(object, w.blocks());
        uploads.incrementAndGet();
        bytesUploaded.addAndGet(w.objectSize());
        return new Prepared(key, object, ranges, StoreCalls.newToken(), parts);
    }

    private void commit(Prepared p) {
        try {
            engine.catalog.commit(List.of(new ManifestOp.AddObject(p.object(), p.ranges())), p.commitToken());
        } catch (ShaleException e) {
            commitFailures.incrementAndGet();
            if (e.kind() == ErrorKind.UNAVAILABLE) {
                unfinished = p; // retried first thing next time, with the same token
            } else {
                inFlight.remove(p.key());
                requeue(p.parts());
            }
            throw e;
        }
    }

    private void finish(Prepared p) {
        inFlight.remove(p.key());
        for (Collected c : p.parts()) {
            boolean more = c.log().uploaded(c.batches(), c.end());
            engine.cache.releaseAll(c.batches());
            if (more) {
                engine.dirty.add(c.log());
            }
        }
    }

    private static void exposeAll(List<Collected> parts) {
        for (Collected c : parts) {
            for (CachedBatch b : c.batches()) {
                b.chunk.expose();
            }
        }
    }

    private void requeue(List<Collected> parts) {
        for (Collected c : parts) {
            if (c.log().stillDirty()) {
                engine.dirty.add(c.log());
            }
        }
    }

    /** Frees WAL space: everything below both the mark and the first batch still waiting. */
    private void trimWal(long walMark) {
        long min = walMark;
        for (PartitionLog p : engine.dirty) {
            min = Math.min(min, p.firstPendingSequence());
        }
        if (min == Long.MIN_VALUE) {
            return;
        }
        try {
            engine.wal.trim(min);
        } catch (RuntimeException e) {
            log.warn("trimming WAL {} below sequence {} failed: {}", engine.wal.describe(), min, e.toString());
        }
    }
}
