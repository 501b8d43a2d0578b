package io.shale.log.internal.engine;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.internal.format.DataObjectWriter;
import io.shale.log.internal.manifest.ManifestOp;
import io.shale.log.internal.manifest.ObjectMeta;
import io.shale.log.internal.manifest.ProducerEntry;
import io.shale.log.internal.manifest.RangeRef;
import io.shale.log.internal.util.Blocking;
import io.shale.log.internal.util.StoreCalls;
import io.shale.log.spi.Payload;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves durable data from the log cache to the object store.
 *
 * <p><b>Uploads.</b> One upload takes the durable batches not yet collected of every partition that
 * has any (up to {@code upload.max.bytes}), lays them out as ONE data object sorted by partition
 * and offset ({@link DataObjectWriter}: views of the cache, no copy) and PUTs it. The PUT count
 * per GiB therefore depends on the upload size, not on the number of partitions. Uploads start
 * when {@code upload.bytes} wait, every {@code upload.interval.ms}, on {@code flush()} and on close.
 *
 * <p><b>Pipeline.</b> Up to {@code upload.max.in.flight} objects are written at once (an S3 PUT
 * takes long enough that one at a time would cap ingest). They are committed to the manifest in
 * the order they were collected, because a partition's runs must never have a hole; every upload
 * whose PUT is done when the committer gets to it goes into the same manifest delta, so manifest
 * PUTs fall behind data PUTs as load grows. After a commit the batches are marked uploaded (the
 * cache may evict them) and the WAL is trimmed.
 *
 * <p><b>Failures.</b> A failed PUT abandons it and every upload behind it (their objects become
 * orphans for the orphan scan; their data is collected again). A commit whose outcome is unknown is
 * retried first, with the same token, so it lands once. {@code FENCED} stops uploading for good.
 *
 * <p><b>Threading.</b> Everything runs on the store's upload thread, except PUT completions,
 * which only wake it. Nothing here blocks on a PUT except {@code flush()} and close, which wait
 * for the pipeline to drain.
 */
final class Uploader {
    private static final Logger log = LoggerFactory.getLogger(Uploader.class);

    private final StoreEngine engine;
    private final int maxInFlight;
    private final AtomicBoolean triggered = new AtomicBoolean();
    private final AtomicBoolean forceNext = new AtomicBoolean();
    private final AtomicLong objectCounter = new AtomicLong();
    /** Keys being written or awaiting commit: orphan cleanup must not touch them. */
    final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    private volatile ScheduledFuture<?> timer;
    private volatile boolean stopped;
    private volatile boolean recovering;

    // metrics
    final AtomicLong uploads = new AtomicLong();
    final AtomicLong commits = new AtomicLong();
    final AtomicLong bytesUploaded = new AtomicLong();
    final AtomicLong commitFailures = new AtomicLong();
    final AtomicLong abandoned = new AtomicLong();
    /** Object-WAL objects committed as data objects (no upload). */
    final AtomicLong walObjectsCommitted = new AtomicLong();

    /**
     * One partition's batches in an upload. {@code epoch}: on a cluster node, the partition epoch
     * under which they were appended (-1 outside a cluster); they are committed only under it.
     */
    private record Collected(PartitionLog log, List<CachedBatch> batches, long end, long epoch) {
        Collected(PartitionLog log, List<CachedBatch> batches, long end) {
            this(log, batches, end, log.partitionEpoch);
        }
    }

    /** One object: being written, then waiting for its turn to commit. */
    private record Upload(String key, ObjectMeta object, List<RangeRef> ranges, List<Collected> parts, long bytes,
            CompletableFuture<Void> put, AtomicInteger passes, io.shale.log.wal.WalDataObject wal) {
    }

    /**
     * Uploads committed together in one manifest delta. {@code lost}: on a cluster node, the
     * partitions taken from it while the batch was in flight, whose runs the commit leaves out.
     */
    private record CommitBatch(List<Upload> uploads, String token, Set<PartitionLog> lost) {
        CommitBatch(List<Upload> uploads, String token) {
            this(uploads, token, new HashSet<>());
        }
    }

    // upload thread only
    private final ArrayDeque<Upload> pipeline = new ArrayDeque<>();
    private volatile long pipelineBytes;
    private CommitBatch unfinished;

    Uploader(StoreEngine engine) {
        this.engine = engine;
        this.maxInFlight = engine.config.uploadMaxInFlight();
    }

    void start() {
        long interval = engine.config.uploadIntervalMs();
        timer = engine.scheduler.scheduleWithFixedDelay(() -> trigger(true), interval, interval, TimeUnit.MILLISECONDS);
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

    /** Bytes waiting that no upload has collected yet (relaxed). */
    private long uncollectedBytes() {
        return engine.cache.pendingBytesRelaxed() - pipelineBytes;
    }

    /** Called after each append: starts an upload when enough bytes wait. Cheap. */
    void maybeTrigger() {
        if (!triggered.get() && uncollectedBytes() >= engine.config.uploadBytes()) {
            trigger(false);
        }
    }

    /** The log cache is full: upload whatever is durable now. Non-blocking. */
    void uploadSoon() {
        trigger(true);
    }

    /** Wakes the upload thread; {@code force} uploads whatever is durable, however little. */
    private void trigger(boolean force) {
        if (force) {
            forceNext.set(true);
        }
        if (stopped || !triggered.compareAndSet(false, true)) {
            return;
        }
        try {
            engine.uploadExecutor.execute(() -> {
                triggered.set(false);
                step(forceNext.getAndSet(false));
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            triggered.set(false);
        }
    }

    /** One pass of the upload thread: commit what is ready, start what is due. Never throws. */
    private void step(boolean force) {
        try {
            if (engine.isFenced() || recovering) {
                return; // recovery uploads only what it has decided is final (see Recovery)
            }
            boolean flushing = !flushes.isEmpty();
            commitReady(!recovering);
            startUploads(force || flushing);
            commitReady(!recovering); // a local store's PUT completes inline
            if (flushing) {
                settleFlushes();
            }
        } catch (ShaleException e) {
            if (e.kind() == ErrorKind.FENCED) {
                engine.onFenced(e);
            } else {
                if (engine.isClosing()) { // the close reports what it leaves behind
                    log.info("upload to {} failed while closing: {}", engine.store.describe(), e.getMessage());
                } else {
                    log.warn("upload to {} failed, will retry: {}", engine.store.describe(), e.getMessage());
                }
                failFlushes(e); // a flush reports the failure; the data stays and is uploaded later
            }
        } catch (RuntimeException e) {
            log.error("upload failed unexpectedly", e);
            failFlushes(new ShaleException(ErrorKind.UNAVAILABLE, "upload failed unexpectedly: " + e, e));
        }
    }

    // ================================================================== flush

    /**
     * One {@code flush()}: done when every partition that had data waiting when it was called has
     * committed up to the end it had then (or lost that data to a rollback or a deletion). Data
     * appended afterwards is not waited for, so a flush under a steady append load still returns.
     */
    private static final class FlushRequest {
        final Map<PartitionLog, Long> targets;
        final CompletableFuture<Void> done = new CompletableFuture<>();

        FlushRequest(Map<PartitionLog, Long> targets) {
            this.targets = targets;
        }

        /** Drops the partitions that reached their target; true when none is left. */
        boolean settle() {
            targets.entrySet().removeIf(e -> e.getKey().flushed(e.getValue()));
            return targets.isEmpty();
        }
    }

    private final ConcurrentLinkedQueue<FlushRequest> flushes = new ConcurrentLinkedQueue<>();

    /**
     * Uploads and commits what was appended before the call, waiting at most {@code timeout}
     * (LogStore.flush). Runs on the caller's thread; the upload thread does the work.
     */
    void flush(Duration timeout) {
        FlushRequest req = newFlush(false);
        if (req == null) {
            return;
        }
        awaitFlush(req, Blocking.timeoutNanos(timeout), "flush");
    }

    /**
     * Uploads and commits what was appended to {@code partitions} before the call (a cluster node's
     * planned release), waiting at most {@code timeout}. Other partitions' data goes along.
     */
    void flush(java.util.Collection<PartitionLog> partitions, Duration timeout) {
        FlushRequest req = newFlush(false, partitions);
        if (req != null) {
            awaitFlush(req, timeout.toNanos(), "upload before releasing partitions");
        }
    }

    private FlushRequest newFlush(boolean acknowledgedOnly) {
        return newFlush(acknowledgedOnly, engine.partitionsById.values());
    }

    /**
     * A request covering every partition of {@code partitions} with data not yet committed (with
     * {@code acknowledgedOnly}, only data already acknowledged), registered; null if there is none.
     */
    private FlushRequest newFlush(boolean acknowledgedOnly, java.util.Collection<PartitionLog> partitions) {
        Map<PartitionLog, Long> targets = new HashMap<>();
        for (PartitionLog p : partitions) {
            long target = p.flushTarget(acknowledgedOnly);
            if (target >= 0) {
                targets.put(p, target);
            }
        }
        if (targets.isEmpty()) {
            return null;
        }
        FlushRequest req = new FlushRequest(targets);
        flushes.add(req);
        // Not trigger(true): a step forces uploads while a flush waits (see step); a forced wake-up
        // could outlive this flush and upload the next appends before their own flush asks.
        trigger(false);
        return req;
    }

    private void awaitFlush(FlushRequest req, long timeoutNanos, String what) {
        try {
            Blocking.get(req.done, timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            flushes.remove(req);
            Thread.currentThread().interrupt();
            throw new ShaleException(ErrorKind.UNAVAILABLE, "interrupted while waiting for " + what, e);
        } catch (TimeoutException e) {
            flushes.remove(req);
            int left = req.targets.size();
            throw new ShaleException(ErrorKind.UNAVAILABLE, what + " of " + engine.store.describe() + " did not finish in "
                    + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms: " + left + " partition(s) still have data to"
                    + " upload (it stays in the WAL and is uploaded later)");
        } catch (ExecutionException e) {
            flushes.remove(req);
            ShaleException se = StoreCalls.translate(e.getCause(), what + " of " + engine.store.describe());
            if (se.kind() == ErrorKind.FENCED) {
                engine.onFenced(se);
            }
            throw se;
        }
    }

    /** Fails every flush waiting now (a flush that starts meanwhile, even woken by this, is not). */
    void failFlushes(ShaleException error) {
        List<FlushRequest> failed = new ArrayList<>(flushes);
        flushes.removeAll(failed);
        for (FlushRequest r : failed) {
            r.done.completeExceptionally(error);
        }
    }

    /** Completes the flushes whose partitions are all committed. Upload thread. */
    private void settleFlushes() {
        for (FlushRequest r : flushes) {
            if (r.settle() && flushes.remove(r)) {
                r.done.complete(null);
            }
        }
    }

    /** Called after batches were acknowledged: a flush may be waiting for them. Cheap. */
    void onAcknowledged() {
        if (!flushes.isEmpty()) {
            trigger(false); // the step forces uploads while a flush waits
        }
    }

    /**
     * Close: one last upload of what is acknowledged, bounded by {@code deadlineMs}; what is left
     * stays in the WAL (appends still on their way into the WAL are not waited for: closing the WAL
     * settles them, and the store calls this again afterwards). With {@code trimWal} the WAL is
     * trimmed below what was committed. Returns whether everything was uploaded in time; the store
     * logs what a close that did not finish leaves behind.
     */
    boolean finalUpload(long deadlineMs, boolean trimWal) {
        try {
            FlushRequest req = newFlush(true);
            if (req != null) {
                awaitFlush(req, TimeUnit.MILLISECONDS.toNanos(deadlineMs), "final upload on close");
            }
            if (trimWal) {
                CompletableFuture<Void> trimmed = new CompletableFuture<>();
                engine.uploadExecutor.execute(() -> {
                    try {
                        commitReady(true);
                        trimWal(engine.wal.nextSequence());
                        trimmed.complete(null);
                    } catch (RuntimeException e) {
                        trimmed.completeExceptionally(e);
                    }
                });
                Blocking.get(trimmed, deadlineMs, TimeUnit.MILLISECONDS);
            }
            return true;
        } catch (Exception e) {
            log.info("final upload on close did not complete: {} (the data stays in the WAL and is uploaded on reopen)",
                    e.getMessage());
            return false;
        }
    }

    /** Recovery: makes room in the cache by uploading what was replayed so far (caller's thread). */
    void uploadDuringRecovery() {
        drain();
    }

    /** Uploads everything durable and waits until it is committed; the WAL is not trimmed. Recovery only. */
    private void drain() {
        commitReady(false);
        while (true) {
            startUploads(true);
            if (pipeline.isEmpty()) {
                if (unfinished != null) {
                    commitReady(false);
                }
                return;
            }
            try {
                Blocking.get(pipeline.peek().put());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ShaleException(ErrorKind.UNAVAILABLE, "interrupted while uploading", e);
            } catch (ExecutionException e) {
                // commitReady abandons the pipeline and reports it below
            }
            Upload head = pipeline.peek();
            commitReady(false);
            if (head.put().isCompletedExceptionally()) {
                throw StoreCalls.translate(failure(head.put()), "uploading data object " + head.key());
            }
        }
    }

    // ================================================================== starting uploads

    /** Starts uploads while the pipeline has room and (forced, or) enough bytes wait. */
    private void startUploads(boolean force) {
        startWalObjects(force);
        while (pipeline.size() < maxInFlight && !engine.isFenced()) {
            if (!force && uncollectedBytes() < engine.config.uploadBytes()) {
                return;
            }
            if (startOne() == null) {
                return; // nothing durable left to collect
            }
        }
    }

    /** Collects and starts writing one object; null if nothing is ready to upload. */
    private Upload startOne() {
        TreeMap<Integer, PartitionLog> candidates = new TreeMap<>();
        for (PartitionLog p; (p = engine.dirty.poll()) != null; ) {
            candidates.put(p.id, p);
        }
        long budget = engine.config.uploadMaxBytes();
        long used = 0;
        List<Collected> parts = new ArrayList<>();
        for (PartitionLog p : candidates.values()) {
            if (!p.isDeleted() && used < budget) {
                List<CachedBatch> batches = new ArrayList<>();
                long end = p.collectForUpload(budget - used, batches);
                if (!batches.isEmpty()) {
                    for (CachedBatch b : batches) {
                        used += b.sizeInBytes();
                    }
                    parts.add(new Collected(p, batches, end));
                }
            }
            if (p.stillDirty()) {
                engine.dirty.add(p);
            }
        }
        if (parts.isEmpty()) {
            return null;
        }
        parts.sort(Comparator.comparingInt(c -> c.log().id));
        DataObjectWriter w = new DataObjectWriter(engine.config.objectBlockBytes());
        for (Collected c : parts) {
            for (CachedBatch b : c.batches()) {
                w.add(c.log().id, b.internalView());
            }
        }
        List<ByteBuffer> buffers = w.finish();
        String key = engine.dataKey(StoreCalls.pad(objectCounter.incrementAndGet()));
        ObjectMeta object = new ObjectMeta(key, w.objectSize(), w.indexPosition(), ObjectMeta.KIND_MULTI,
                engine.clock.millis());
        // Count passes over the bytes: a retried or failed PUT may leave an attempt that still reads
        // the cache's memory, which then must never be recycled.
        AtomicInteger passes = new AtomicInteger();
        Payload payload = Payload.ofStream(w.objectSize(), () -> {
            passes.incrementAndGet();
            return buffers.stream().map(ByteBuffer::duplicate).iterator();
        });
        inFlight.add(key);
        CompletableFuture<Void> put;
        try {
            put = engine.store.put(key, payload, StoreCalls.newToken());
        } catch (RuntimeException e) {
            put = CompletableFuture.failedFuture(e);
        }
        Upload u = new Upload(key, object, Ranges.fromBlocks(object, w.blocks()), parts, used, put, passes, null);
        pipeline.add(u);
        pipelineBytes += used;
        uploads.incrementAndGet();
        bytesUploaded.addAndGet(w.objectSize());
        put.whenComplete((v, e) -> trigger(false)); // wake the committer
        return u;
    }

    /**
     * Object-WAL data objects (RFC 0006): commits the object WAL's durable objects themselves as
     * data objects, so their bytes are not uploaded again. Taken in key (= sequence) order, each
     * once it is ready (every live batch in it acknowledged and next in its partition; see
     * {@link PartitionLog#collectWalObject}), stopping at the first that is not, so that a
     * partition's runs are committed in offset order. Each becomes a pipeline entry whose "PUT" is
     * already done; {@link #commitReady} commits it, with everything ready, in one manifest delta.
     * Taken only when at least {@code upload.bytes} wait (or forced: interval, flush, close), so
     * manifest commits stay few. An object none of whose batches is live any more is dropped: the
     * manifest never references it and the WAL's trim deletes it.
     */
    private void startWalObjects(boolean force) {
        if (engine.walDataObjects.isEmpty() || engine.isFenced()) {
            return;
        }
        if (!force) {
            long waiting = 0;
            for (io.shale.log.wal.WalDataObject w : engine.walDataObjects.values()) {
                waiting += w.size();
            }
            if (waiting < engine.config.uploadBytes()) {
                return;
            }
        }
        for (io.shale.log.wal.WalDataObject w : engine.walDataObjects.values()) {
            // This object's batches per partition, in block order (blocks are grouped by partition).
            LinkedHashMap<PartitionLog, List<CachedBatch>> byPartition = new LinkedHashMap<>();
            for (int i = 0; i < w.blockCount(); i++) {
                if (w.entry(i) instanceof CachedBatch b) {
                    byPartition.computeIfAbsent(b.log, q -> new ArrayList<>()).add(b);
                }
            }
            boolean ready = true;
            for (Map.Entry<PartitionLog, List<CachedBatch>> e : byPartition.entrySet()) {
                if (e.getKey().collectWalObject(e.getValue(), false, null) == -1) {
                    ready = false;
                    break;
                }
            }
            if (!ready) {
                return;
            }
            engine.walDataObjects.remove(w.key());
            List<Collected> parts = new ArrayList<>();
            long bytes = 0;
            for (Map.Entry<PartitionLog, List<CachedBatch>> e : byPartition.entrySet()) {
                List<CachedBatch> taken = new ArrayList<>();
                long end = e.getKey().collectWalObject(e.getValue(), true, taken);
                if (end >= 0 && !taken.isEmpty()) {
                    parts.add(new Collected(e.getKey(), taken, end));
                    for (CachedBatch b : taken) {
                        bytes += b.sizeInBytes();
                    }
                }
            }
            if (parts.isEmpty()) {
                continue; // nothing live: never referenced, the WAL deletes it on trim
            }
            ObjectMeta object = new ObjectMeta(w.key(), w.size(), w.indexPosition(), ObjectMeta.KIND_MULTI,
                    engine.clock.millis());
            List<RangeRef> ranges = new ArrayList<>();
            for (Collected c : parts) {
                walRanges(object, w, c, ranges);
            }
            Upload u = new Upload(w.key(), object, ranges, parts, bytes, CompletableFuture.completedFuture(null),
                    new AtomicInteger(1), w);
            pipeline.add(u);
            pipelineBytes += bytes;
        }
    }

    /** One run per stretch of consecutive blocks with contiguous offsets. */
    private static void walRanges(ObjectMeta object, io.shale.log.wal.WalDataObject w, Collected c, List<RangeRef> out) {
        List<CachedBatch> bs = c.batches();
        int start = 0;
        for (int i = 1; i <= bs.size(); i++) {
            if (i == bs.size() || bs.get(i).walBlock != bs.get(i - 1).walBlock + 1
                    || bs.get(i).baseOffset != bs.get(i - 1).nextOffset) {
                int first = bs.get(start).walBlock;
                int last = bs.get(i - 1).walBlock;
                long maxTs = Long.MIN_VALUE;
                for (int j = first; j <= last; j++) {
                    maxTs = Math.max(maxTs, w.maxTimestamp(j));
                }
                long position = w.position(first);
                long length = w.position(last) + w.blockSize(last) - position;
                int count = last - first + 1;
                out.add(new RangeRef(object, c.log().id, bs.get(start).baseOffset, bs.get(i - 1).nextOffset, maxTs,
                        position, (int) length, first, count, count == 1 ? w.crc(first) : 0));
                start = i;
            }
        }
    }

    // ================================================================== committing

    /** Commits, in order, the uploads whose PUT is done; abandons the pipeline at a failed PUT. */
    private void commitReady(boolean trimWal) {
        long walMark = engine.wal.nextSequence();
        if (unfinished != null) {
            commit(unfinished);
            finish(unfinished);
            unfinished = null;
        }
        List<Upload> ready = new ArrayList<>();
        while (!pipeline.isEmpty() && pipeline.peek().put().isDone()) {
            Upload u = pipeline.peek();
            if (u.put().isCompletedExceptionally()) {
                abandonPipeline(u);
                break;
            }
            ready.add(pipeline.poll());
        }
        if (!ready.isEmpty()) {
            io.shale.log.internal.util.CrashPoints.hit("upload.afterDataPut");
            CommitBatch batch = new CommitBatch(ready, StoreCalls.newToken());
            try {
                commit(batch);
            } catch (ShaleException e) {
                if (StoreCalls.isStoreFailure(e)) {
                    unfinished = batch; // retried first thing next time, with the same token
                } else {
                    abandon(ready);
                }
                throw e;
            }
            finish(batch);
        }
        if (trimWal && (!ready.isEmpty())) {
            trimWal(walMark);
        }
    }

    private void commit(CommitBatch batch) {
        dropLost(batch); // lost before the commit, or lost and claimed again (a newer epoch: not these batches')
        while (true) {
            List<ManifestOp> ops = new ArrayList<>(batch.uploads().size());
            for (Upload u : batch.uploads()) {
                List<RangeRef> ranges = u.ranges();
                if (!batch.lost().isEmpty()) {
                    ranges = new ArrayList<>(ranges);
                    ranges.removeIf(r -> isLost(batch, r.partitionId()));
                }
                if (!ranges.isEmpty()) { // an object left with no run stays unreferenced: an orphan of this node
                    ops.add(new ManifestOp.AddObject(u.object(), ranges));
                }
            }
            if (ops.isEmpty()) {
                log.warn("every partition of an upload was lost to other nodes while it was in flight; nothing"
                        + " to commit (its objects are left to the orphan scan)");
                return;
            }
            producerStateOps(batch, ops);
            transactionOps(batch, ops);
            long startedAt = engine.clock.millis();
            try {
                if (engine.cluster != null) {
                    Map<Integer, Long> epochs = new HashMap<>();
                    for (Upload u : batch.uploads()) {
                        for (Collected c : u.parts()) {
                            if (!batch.lost().contains(c.log())) {
                                epochs.put(c.log().id, c.epoch());
                            }
                        }
                    }
                    engine.cluster.commitUpload(ops, epochs);
                } else {
                    engine.catalog.commit(ops, batch.token());
                }
                commits.incrementAndGet();
                engine.leaseConfirmed(startedAt);
                return;
            } catch (ShaleException e) {
                commitFailures.incrementAndGet();
                if (e.kind() != ErrorKind.FENCED || !dropLost(batch)) {
                    throw e;
                }
                log.warn("commit of {} upload(s) was fenced on partitions lost to other nodes ({}); committing again"
                        + " without their runs: {}", batch.uploads().size(), batch.lost(), e.getMessage());
            }
        }
    }

    /**
     * A cluster node's commit failed {@code FENCED}: adds to {@code batch.lost} the partitions of the
     * batch this node no longer holds. Returns whether it found any (a commit without them may land).
     */
    private boolean dropLost(CommitBatch batch) {
        if (engine.cluster == null) {
            return false;
        }
        boolean more = false;
        for (Upload u : batch.uploads()) {
            for (Collected c : u.parts()) {
                PartitionLog p = c.log();
                boolean stale = !engine.cluster.holds(p.id) || engine.cluster.partitionEpoch(p.id) != c.epoch();
                if (stale && batch.lost().add(p)) {
                    more = true;
                }
            }
        }
        return more;
    }

    private static boolean isLost(CommitBatch batch, int partitionId) {
        for (PartitionLog p : batch.lost()) {
            if (p.id == partitionId) {
                return true;
            }
        }
        return false;
    }

    /**
     * Idempotent producers: the producer state of every partition in {@code batch} as of its new
     * committed end, committed with the data (see {@link ManifestOp.UpdateProducers}). Built from the
     * committed state plus exactly the batches committed now, so it never holds a batch that is not
     * durable and committed; producers idle longer than {@code producer.id.expiration.ms} are dropped.
     */
    private void producerStateOps(CommitBatch batch, List<ManifestOp> ops) {
        Map<PartitionLog, Map<Long, ProducerEntry>> states = null;
        Map<PartitionLog, Set<Long>> changed = null;
        for (Upload u : batch.uploads()) {
            for (Collected c : u.parts()) {
                PartitionLog p = c.log();
                if (batch.lost().contains(p)) {
                    continue;
                }
                boolean known = states != null && states.containsKey(p);
                if (!known && p.meta.producers().isEmpty()) {
                    boolean any = false;
                    for (CachedBatch b : c.batches()) {
                        if (ProducerStates.hasTracked(b.data)) {
                            any = true;
                            break;
                        }
                    }
                    if (!any) {
                        continue;
                    }
                }
                if (states == null) {
                    states = new LinkedHashMap<>();
                    changed = new HashMap<>();
                }
                Map<Long, ProducerEntry> state = states.computeIfAbsent(p, q -> new HashMap<>(q.meta.producers()));
                Set<Long> ids = changed.computeIfAbsent(p, q -> new HashSet<>());
                for (CachedBatch b : c.batches()) {
                    ids.addAll(ProducerStates.advance(state, b.data, b.logAppendTime));
                }
            }
        }
        if (states == null) {
            return;
        }
        long now = engine.clock.millis();
        long expiration = engine.config.producerIdExpirationMs();
        for (Map.Entry<PartitionLog, Map<Long, ProducerEntry>> e : states.entrySet()) {
            Map<Long, ProducerEntry> committed = e.getKey().meta.producers();
            Set<Long> ids = changed.get(e.getKey());
            List<ProducerEntry> entries = new ArrayList<>();
            List<Long> expired = new ArrayList<>();
            for (ProducerEntry pe : e.getValue().values()) {
                if (ProducerStates.isExpired(pe, now, expiration)) {
                    if (committed.containsKey(pe.producerId())) {
                        expired.add(pe.producerId());
                    }
                } else if (ids.contains(pe.producerId())) {
                    entries.add(pe);
                }
            }
            if (!entries.isEmpty() || !expired.isEmpty()) {
                ops.add(new ManifestOp.UpdateProducers(e.getKey().id, entries, expired));
            }
        }
    }

    /**
     * Transactions: the open transactions of every partition in {@code batch} as of its new
     * committed end and the aborted transactions its batches complete, committed with the data
     * (see {@link ManifestOp.UpdateTransactions}). Built, like the producer state, from the
     * committed state plus exactly the batches committed now.
     */
    private void transactionOps(CommitBatch batch, List<ManifestOp> ops) {
        Map<PartitionLog, Map<Long, Long>> ongoing = null;
        Map<PartitionLog, List<io.shale.log.AbortedTransaction>> aborted = null;
        Set<PartitionLog> changed = null;
        for (Upload u : batch.uploads()) {
            for (Collected c : u.parts()) {
                PartitionLog p = c.log();
                if (batch.lost().contains(p)) {
                    continue;
                }
                for (CachedBatch b : c.batches()) {
                    if (!TxnStates.hasTransactional(b.data)) {
                        continue;
                    }
                    if (ongoing == null) {
                        ongoing = new LinkedHashMap<>();
                        aborted = new HashMap<>();
                        changed = new HashSet<>();
                    }
                    Map<Long, Long> state = ongoing.computeIfAbsent(p, q -> new HashMap<>(q.meta.ongoingTransactions()));
                    List<io.shale.log.AbortedTransaction> out = aborted.computeIfAbsent(p, q -> new ArrayList<>());
                    if (TxnStates.advance(state, out, b.data)) {
                        changed.add(p);
                    }
                }
            }
        }
        if (ongoing == null) {
            return;
        }
        for (Map.Entry<PartitionLog, Map<Long, Long>> e : ongoing.entrySet()) {
            if (changed.contains(e.getKey())) {
                ops.add(new ManifestOp.UpdateTransactions(e.getKey().id, e.getValue(), aborted.get(e.getKey())));
            }
        }
    }

    private void finish(CommitBatch batch) {
        for (Upload u : batch.uploads()) {
            if (u.wal() != null) {
                engine.committedWalObjects.add(u.key()); // the store's now: the WAL neither replays nor deletes it
                walObjectsCommitted.incrementAndGet();
                for (Collected c : u.parts()) {
                    synchronized (c.log()) {
                        for (CachedBatch b : c.batches()) {
                            b.walObject = null; // committed: let the object's bookkeeping go with the upload
                        }
                    }
                }
            }
            inFlight.remove(u.key());
            pipelineBytes -= u.bytes();
            if (u.passes().get() != 1) {
                exposeAll(u.parts());
            }
            long now = engine.clock.millis();
            for (Collected c : u.parts()) {
                if (batch.lost().contains(c.log())) {
                    exposeAll(List.of(c)); // not committed: the partition restarted at its committed end
                    engine.cache.releaseAll(c.batches());
                    continue;
                }
                c.log().uploaded(c.batches(), c.end());
                c.log().expireProducers(now, engine.config.producerIdExpirationMs());
                engine.cache.releaseAll(c.batches());
            }
        }
    }

    /** The PUT of {@code failed} (the head) failed: drop it and every upload behind it. */
    private void abandonPipeline(Upload failed) {
        List<Upload> dropped = new ArrayList<>(pipeline);
        pipeline.clear();
        Throwable cause = failure(failed.put());
        if (engine.isClosing()) { // the close reports what it leaves behind
            log.info("uploading data object {} failed while closing ({}); abandoning {} upload(s), their data"
                    + " stays in the WAL", failed.key(), String.valueOf(cause), dropped.size());
        } else {
            log.warn("uploading data object {} failed ({}); abandoning {} upload(s), their data is uploaded again",
                    failed.key(), String.valueOf(cause), dropped.size());
        }
        abandon(dropped);
        failFlushes(StoreCalls.translate(cause, "uploading data object " + failed.key()));
    }

    private void abandon(List<Upload> uploads) {
        Set<PartitionLog> touched = new HashSet<>();
        for (Upload u : uploads) {
            abandoned.incrementAndGet();
            pipelineBytes -= u.bytes();
            if (u.wal() != null) {
                engine.walDataObjects.put(u.key(), u.wal()); // committed with a later delta instead
            } else {
                exposeAll(u.parts()); // an attempt may still be reading the memory
            }
            inFlight.remove(u.key()); // an object that did land is an orphan: the orphan scan deletes it
            for (Collected c : u.parts()) {
                touched.add(c.log());
            }
        }
        for (PartitionLog p : touched) {
            p.abandonCollected();
            if (p.stillDirty()) {
                engine.dirty.add(p);
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

    private static Throwable failure(CompletableFuture<?> f) {
        try {
            f.getNow(null);
            return null;
        } catch (java.util.concurrent.CompletionException e) {
            return e.getCause() == null ? e : e.getCause();
        } catch (java.util.concurrent.CancellationException e) {
            return e;
        }
    }

    /**
     * Frees WAL space: everything below both the mark (read before looking at the partitions)
     * and the first batch still not committed of any partition with data waiting or in flight.
     */
    private void trimWal(long walMark) {
        long min = walMark;
        for (PartitionLog p : engine.dirty) {
            min = Math.min(min, p.firstPendingSequence());
        }
        for (Upload u : pipeline) {
            for (Collected c : u.parts()) {
                min = Math.min(min, c.log().firstPendingSequence());
            }
        }
        if (unfinished != null) {
            for (Upload u : unfinished.uploads()) {
                for (Collected c : u.parts()) {
                    min = Math.min(min, c.log().firstPendingSequence());
                }
            }
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
