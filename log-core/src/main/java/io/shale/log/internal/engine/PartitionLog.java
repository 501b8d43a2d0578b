package io.shale.log.internal.engine;

import io.shale.log.AppendResult;
import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.TopicPartition;
import io.shale.log.internal.manifest.PartitionMeta;
import io.shale.log.internal.manifest.ProducerEntry;
import io.shale.log.record.RecordBatch;
import io.shale.log.record.RecordBatchLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One partition's live state: offset assignment, the index of its batches in the log cache, the
 * high watermark, and the link to what the manifest knows of it ({@link PartitionMeta}).
 *
 * <p><b>Concurrency.</b> Everything mutable is guarded by this object's monitor, held briefly:
 * publishing a batch, WAL completions, cache lookups, upload bookkeeping. A separate append lock
 * spans offset assignment and the WAL call, so a partition's WAL entries are queued in offset
 * order while completions never wait for an appender blocked by the WAL. The high watermark and
 * the manifest view are volatile for lock-free readers. Futures are completed, and log-cache
 * memory released, outside the monitor (the cache lock is taken before a partition's monitor,
 * never after).
 *
 * <p><b>High watermark.</b> Advances over the longest prefix of durable batches; an append's future
 * completes when the high watermark passes its last offset, so an acknowledged record is never
 * behind a hole.
 *
 * <p><b>WAL failure.</b> If a batch cannot be made durable, it and every later batch of the
 * partition are rolled back (their futures fail with {@code UNAVAILABLE}) and the log end offset
 * returns to the failed batch's base offset, so that the next append reuses those offsets and no
 * reader ever sees a gap. Recovery resolves the WAL's copies the same way (the later entry for an
 * offset wins).
 *
 * <p><b>Idempotent producers.</b> {@link ProducerStates} holds, per producer id, the epoch and the
 * last five batches; {@link #append} checks a call's batches against it before assigning offsets
 * (a retried batch completes with its original offsets and is not appended again) and every
 * rollback above restores the state from before the rolled-back appends. It starts from the state
 * the manifest committed with the partition's data, and WAL replay adds the rest.
 *
 * <p><b>Memory.</b> An idle partition holds no cache index array and a handful of fields.
 */
final class PartitionLog {
    private static final CachedBatch[] EMPTY = new CachedBatch[0];

    final int id;
    final TopicPartition tp;
    private final StoreEngine engine;
    volatile TopicHandle topic;
    volatile PartitionMeta meta;

    // ---- guarded by this
    private long logEndOffset;
    /** Offsets below are committed in objects. */
    private long uploadedEnd;
    /** Offsets below are committed or in an upload under way (>= uploadedEnd). */
    private long collectedEnd;
    private CachedBatch[] ring = EMPTY;
    private int head;
    private int tail;
    private boolean dirty;
    private boolean deleted;
    private List<Waiter> waiters;
    private final ProducerStates producers = new ProducerStates();
    private final TxnStates txns = new TxnStates();

    private volatile long highWatermark;

    // ---- cluster nodes (see StoreEngine, "Cluster node"); both always true outside a cluster
    /** Whether appends are accepted: this node owns the partition and is not moving it away. */
    volatile boolean accepting;
    /**
     * Whether this node serves the partition as its owner (its own log end, producer and
     * transaction state); false: it follows the partition's committed data, as a read-only store.
     */
    volatile boolean owned;
    /** The partition epoch under which this node owns the partition (the leader epoch it stamps), or -1. */
    volatile long partitionEpoch = -1;
    /** Cluster nodes: an acknowledgement retry is scheduled (waiting for a lease renewal). */
    final java.util.concurrent.atomic.AtomicBoolean ackRetryScheduled = new java.util.concurrent.atomic.AtomicBoolean();
    /** Serialises appends of this partition (offset order = WAL order); see {@link #append}. */
    private final ReentrantLock appendLock = new ReentrantLock();

    // read-ahead state of the remote read path (racy by design: a hint)
    /** One past the last offset of the last block read remotely: the next block is "sequential" if it starts here. */
    volatile long remoteNextOffset = -1;
    volatile int readaheadBlocks = 1;
    /** First offset of the last readahead window fetched (or being fetched) for this partition. */
    volatile long remoteWindowStart = -1;
    /** One past the last offset of that window: a background fetch of the next one starts half way through it. */
    volatile long remoteFetchedEnd = -1;
    /**
     * Bytes of the walk GET (through an object partition after partition) that brought the last
     * block read remotely, or 0: a reader still in a walk starts the next object's walk as big.
     */
    volatile long remoteWalkBytes;

    PartitionLog(StoreEngine engine, TopicHandle topic, PartitionMeta meta, int index) {
        this.engine = engine;
        this.topic = topic;
        this.meta = meta;
        this.id = meta.id();
        this.tp = new TopicPartition(topic.name, index);
        this.owned = engine.cluster == null;
        this.accepting = engine.cluster == null;
        // A reader's end is what is committed; a log start beyond it (records deleted that the writer
        // had not uploaded yet) makes an empty log there, as the writer's own view has it.
        long end = engine.readOnly ? Math.max(meta.endOffset(), meta.logStartOffset()) : meta.endOffset();
        this.logEndOffset = end;
        this.uploadedEnd = end;
        this.collectedEnd = end;
        this.highWatermark = end;
        this.producers.restore(meta.producers());
        this.txns.restore(meta.ongoingTransactions(), meta.abortedTransactions());
    }

    long highWatermark() {
        return highWatermark;
    }

    /**
     * The first readable offset, never above the high watermark: the manifest's log start can be
     * ahead of what a reader has seen committed (a writer may delete records it has not uploaded
     * yet), and Kafka's clients expect earliest <= latest.
     */
    long logStartOffset() {
        return Math.min(meta.logStartOffset(), highWatermark);
    }

    /**
     * After recovery: if the log start is beyond everything this writer holds (records were deleted
     * up to offsets whose data a previous writer, on another machine, acknowledged but never
     * uploaded), the log continues at the log start, as Kafka truncates a log whose start moved past
     * its end. Otherwise new appends would get offsets below the log start, unreadable.
     */
    void continueAtLogStart() {
        List<CachedBatch> dropped = new ArrayList<>();
        synchronized (this) {
            long start = meta.logStartOffset();
            if (logEndOffset >= start) {
                return;
            }
            for (int j = head; j < tail; j++) {
                ring[j].dead = true;
                dropped.add(ring[j]);
                ring[j] = null;
            }
            head = 0;
            tail = 0;
            logEndOffset = start;
            highWatermark = start;
            uploadedEnd = start;
            collectedEnd = start;
        }
        if (engine.cache != null) {
            engine.cache.releaseAll(dropped);
        }
    }

    synchronized long logEndOffset() {
        return logEndOffset;
    }

    synchronized long uploadedEnd() {
        return uploadedEnd;
    }

    synchronized boolean isDeleted() {
        return deleted;
    }

    // ================================================================== write path

    /**
     * Assigns offsets to {@code b} (whose bytes are filled), stamps them into its batches, queues
     * it to the WAL and returns the future that completes when it is durable.
     *
     * <p>The append lock (not the monitor) is held across offset assignment and the WAL call, so a
     * partition's WAL entries are queued in offset order; the monitor is held only to publish the
     * batch. WAL completions need only the monitor, so a WAL that blocks {@code append} for
     * back-pressure can always complete earlier entries.
     */
    CompletableFuture<AppendResult> append(CachedBatch b, long appendTime) {
        CompletableFuture<AppendResult> f = new CompletableFuture<>();
        CompletableFuture<AppendResult> duplicate = null;
        ShaleException refused = null;
        appendLock.lock();
        try {
            synchronized (this) {
                if (!deleted && !accepting) {
                    refused = engine.notOwner(this);
                }
                if (deleted || refused != null) {
                    b.dead = true;
                    b.chunk.expose();
                } else {
                    long base = logEndOffset;
                    try {
                        checkMarkers(b.data);
                        ProducerEntry.Batch original = producers.check(tp, b.data, base, appendTime);
                        if (original != null) {
                            duplicate = duplicateOf(original);
                        }
                    } catch (ShaleException e) {
                        refused = e;
                    }
                    if (duplicate != null || refused != null) {
                        b.dead = true;
                        b.chunk.expose();
                    } else {
                        b.baseOffset = base;
                        b.nextOffset = stampOffsets(b.data, base, engine.stampedLeaderEpoch(this));
                        b.logAppendTime = appendTime;
                        b.future = f;
                        producers.applyChecked(b);
                        txns.apply(b, highWatermark);
                        push(b);
                        logEndOffset = b.nextOffset;
                        markDirty();
                    }
                }
            }
            if (b.dead) {
                engine.cache.release(b);
                if (duplicate != null) {
                    return duplicate;
                }
                if (refused != null) {
                    throw refused;
                }
                throw new ShaleException(ErrorKind.UNKNOWN_TOPIC_OR_PARTITION, "partition " + tp + " was deleted");
            }
            long seq;
            try {
                seq = engine.wal.append(b);
            } catch (RuntimeException e) {
                boolean removed;
                synchronized (this) {
                    removed = !b.dead && tail > head && ring[tail - 1] == b;
                    if (removed) {
                        ring[--tail] = null;
                        producers.undo(b);
                        txns.undo(b);
                        b.dead = true;
                        b.chunk.expose();
                        logEndOffset = b.baseOffset;
                    }
                }
                if (removed) {
                    engine.cache.release(b);
                }
                throw e;
            }
            synchronized (this) {
                b.walSequence = seq;
            }
        } finally {
            appendLock.unlock();
        }
        return f;
    }

    /**
     * The answer to a retry of {@code original}, a batch this partition holds (caller holds the
     * monitor): its offsets at once if it is acknowledged, otherwise when its append completes (and
     * its failure if it fails: the rollback then forgets it, so a further retry is appended).
     */
    private CompletableFuture<AppendResult> duplicateOf(ProducerEntry.Batch original) {
        long first = original.firstOffset();
        long last = original.lastOffset();
        int i = indexOf(first);
        CachedBatch holder = i < 0 ? null : ring[i];
        if (last >= highWatermark && holder != null && !holder.dead && holder.future != null) {
            return holder.future.thenApply(r -> new AppendResult(first, last, r.logAppendTime(), r.logStartOffset()));
        }
        long appendTime = holder != null ? holder.logAppendTime : original.timestamp();
        return CompletableFuture.completedFuture(new AppendResult(first, last, appendTime, logStartOffset()));
    }

    /** Idempotent producers: the state of {@code producerId} in this partition now, or null (tests, diagnostics). */
    synchronized ProducerEntry producerState(long producerId) {
        return producers.get(producerId);
    }

    /**
     * Transaction markers (control batches with a producer id) in {@code data}: fenced by producer
     * epoch as Kafka fences them (caller holds the monitor).
     */
    private void checkMarkers(ByteBuffer data) {
        int limit = data.capacity();
        for (int pos = 0; pos < limit; pos += data.getInt(pos + RecordBatchLayout.LENGTH_OFFSET) + RecordBatchLayout.LOG_OVERHEAD) {
            long pid = data.getLong(pos + RecordBatchLayout.PRODUCER_ID_OFFSET);
            if (pid >= 0 && (data.getShort(pos + RecordBatchLayout.ATTRIBUTES_OFFSET) & RecordBatchLayout.CONTROL_FLAG_MASK) != 0) {
                TxnStates.checkMarker(tp, pid, data.getShort(pos + RecordBatchLayout.PRODUCER_EPOCH_OFFSET), producers.get(pid));
            }
        }
    }

    /**
     * Kafka's last stable offset: the first offset of the earliest open transaction (one whose
     * marker is not acknowledged counts as open), or the high watermark; never below the log start. A read-only store answers
     * from what the manifest committed.
     */
    synchronized long lastStableOffset() {
        long lso;
        if (engine.readOnly || !owned) {
            lso = highWatermark;
            for (long first : meta.ongoingTransactions().values()) {
                lso = Math.min(lso, first);
            }
        } else {
            lso = txns.lastStableOffset(highWatermark);
        }
        // as Kafka: an open transaction whose start the log start passed holds it back at the log start, not
        // below (a read_committed consumer resetting to "latest" would be sent out of range, again and again)
        return Math.max(lso, logStartOffset());
    }

    /** The aborted transactions overlapping {@code [from, to)}, oldest marker first. */
    synchronized List<io.shale.log.AbortedTransaction> abortedTransactions(long from, long to) {
        if (engine.readOnly || !owned) {
            List<io.shale.log.AbortedTransaction> out = new ArrayList<>();
            for (io.shale.log.AbortedTransaction t : meta.abortedTransactions()) {
                if (t.lastOffset() >= from && t.firstOffset() < to) {
                    out.add(t);
                }
            }
            return out;
        }
        return txns.abortedBetween(from, to, meta.logStartOffset());
    }

    /** The first offset of {@code producerId}'s open transaction in this partition, or -1 (tests, diagnostics). */
    synchronized long ongoingTransaction(long producerId) {
        return txns.ongoingFirstOffset(producerId);
    }

    /** Forgets producers idle longer than {@code producer.id.expiration.ms} whose batches are all acknowledged. */
    synchronized int expireProducers(long nowMs, long expirationMs) {
        return producers.expire(nowMs, expirationMs, highWatermark);
    }

    /**
     * Writes consecutive base offsets and the partition leader epoch (the store's writer epoch, see
     * {@code LogStore.leaderEpoch()}; not covered by the batch CRC) into the batches of {@code data};
     * returns the next offset.
     */
    private static long stampOffsets(ByteBuffer data, long base, int leaderEpoch) {
        long offset = base;
        int pos = 0;
        int limit = data.capacity();
        while (pos < limit) {
            RecordBatch.setBaseOffset(data, pos, offset);
            RecordBatch.setPartitionLeaderEpoch(data, pos, leaderEpoch);
            offset += data.getInt(pos + RecordBatchLayout.LAST_OFFSET_DELTA_OFFSET) + 1L;
            pos += data.getInt(pos + RecordBatchLayout.LENGTH_OFFSET) + RecordBatchLayout.LOG_OVERHEAD;
        }
        return offset;
    }

    /** Adds a batch recovered from the WAL (already durable). Returns false if it was not needed. */
    synchronized void addRecovered(CachedBatch b) {
        b.durable = true;
        if (b.logAppendTime == 0) {
            b.logAppendTime = engine.clock.millis(); // when it was recovered: its append time is not stored
        }
        producers.replay(b);
        txns.apply(b, highWatermark);
        push(b);
        logEndOffset = b.nextOffset;
        highWatermark = b.nextOffset;
        markDirty();
    }

    /** Recovery: drops recovered batches at or above {@code offset} (a later WAL entry replaces them). */
    void truncateRecovered(long offset) {
        List<CachedBatch> dropped = new ArrayList<>();
        synchronized (this) {
            while (tail > head && ring[tail - 1].baseOffset >= offset) {
                CachedBatch b = ring[--tail];
                ring[tail] = null;
                producers.undo(b);
                txns.undo(b);
                b.dead = true;
                dropped.add(b);
            }
            logEndOffset = tail > head ? ring[tail - 1].nextOffset : Math.max(uploadedEnd, offset);
            highWatermark = logEndOffset;
        }
        engine.cache.releaseAll(dropped);
    }

    /** Per completing thread (WAL threads): the batches one completion acknowledges. */
    private static final ThreadLocal<ArrayList<CachedBatch>> DONE = ThreadLocal.withInitial(() -> new ArrayList<>(16));

    /** WAL thread: {@code b} is durable. */
    void onDurable(CachedBatch b) {
        synchronized (this) {
            b.durable = true;
            if (b.dead || b.baseOffset != highWatermark) {
                return; // rolled back, or an earlier batch is not durable yet: it will carry this one forward
            }
        }
        acknowledgeDurable();
    }

    /**
     * Advances the high watermark over the durable batches at it and completes their futures, if
     * the store may acknowledge now (see the writer lease in {@link StoreEngine}); otherwise the
     * batches wait, durable, for the lease to be renewed.
     */
    void acknowledgeDurable() {
        ArrayList<CachedBatch> done = null;
        List<Waiter> wake;
        boolean leaseExpired = false;
        synchronized (this) {
            long hw = highWatermark;
            int i = indexOf(hw);
            if (i < 0 || !ring[i].durable || ring[i].dead) {
                return;
            }
            if (!engine.mayAcknowledge(this)) {
                leaseExpired = true;
                wake = null;
            } else {
                while (i >= 0 && i < tail && ring[i].durable && !ring[i].dead && ring[i].baseOffset == hw) {
                    CachedBatch d = ring[i];
                    if (done == null) {
                        done = DONE.get();
                        if (!done.isEmpty()) {
                            done = new ArrayList<>(4); // re-entered from a completion callback
                        }
                    }
                    done.add(d);
                    hw = d.nextOffset;
                    i++;
                }
                highWatermark = hw;
                wake = takeWaiters(hw);
            }
        }
        if (leaseExpired) {
            engine.waitForLease(this);
            return;
        }
        if (done != null) {
            long start = logStartOffset();
            boolean metered = engine.metricsOn;
            long now = metered ? System.nanoTime() : 0L;
            try {
                for (int i = 0, n = done.size(); i < n; i++) {
                    CachedBatch d = done.get(i);
                    if (d.future != null) {
                        if (metered) {
                            engine.metrics.appended(tp.topic(), d.nextOffset - d.baseOffset, d.sizeInBytes(),
                                    now - d.appendStartNanos);
                        }
                        d.future.complete(new AppendResult(d.baseOffset, d.nextOffset - 1, d.logAppendTime, start));
                    }
                }
            } finally {
                done.clear();
            }
            engine.onAcknowledged();
        }
        engine.wake(wake);
    }

    /** WAL thread: {@code b} could not be made durable; roll back from it. */
    void onWalFailure(CachedBatch b, Throwable error) {
        List<CachedBatch> failed = new ArrayList<>();
        synchronized (this) {
            if (b.dead || b.durable) {
                return;
            }
            int i = indexOf(b.baseOffset);
            if (i < 0 || ring[i] != b) {
                return;
            }
            for (int j = i; j < tail; j++) {
                CachedBatch d = ring[j];
                d.dead = true;
                d.chunk.expose(); // the WAL may still be writing it
                failed.add(d);
                ring[j] = null;
            }
            tail = i;
            logEndOffset = b.baseOffset;
            for (int k = failed.size() - 1; k >= 0; k--) {
                txns.undo(failed.get(k));
                producers.undo(failed.get(k)); // newest first: back to the state before b
            }
        }
        ShaleException se = error instanceof ShaleException s ? s
                : new ShaleException(ErrorKind.UNAVAILABLE, "WAL " + engine.wal.describe() + " failed to make "
                        + tp + " offsets " + b.baseOffset + ".." + (b.nextOffset - 1) + " durable: " + error, error);
        for (CachedBatch d : failed) {
            engine.cache.release(d);
            ShaleException e = d == b ? se : new ShaleException(ErrorKind.UNAVAILABLE, "append to " + tp
                    + " rolled back because an earlier append failed: " + se.getMessage(), se);
            d.future.completeExceptionally(e);
        }
        engine.onAcknowledged(); // a flush waiting for these offsets is done with them
    }

    /**
     * Fails every batch whose future has not completed: those not yet durable and those durable
     * behind one that is not (the store is closing or fenced, or the partition was deleted). With a
     * WAL that completes entries out of order (the object WAL runs several PUTs at once) a durable
     * batch can wait behind a slower one; nobody would complete its future otherwise. Batches
     * below the high watermark are acknowledged (or being acknowledged) and are left alone.
     */
    void failPending(ShaleException error) {
        List<CachedBatch> failed = new ArrayList<>();
        synchronized (this) {
            long hw = highWatermark;
            for (int j = head; j < tail; j++) {
                CachedBatch d = ring[j];
                if (!d.dead && d.baseOffset >= hw) {
                    d.dead = true;
                    d.chunk.expose(); // the WAL may still be writing it
                    failed.add(d);
                }
            }
            while (tail > head && ring[tail - 1].dead) {
                ring[--tail] = null;
            }
            for (int k = failed.size() - 1; k >= 0; k--) {
                txns.undo(failed.get(k));
                producers.undo(failed.get(k)); // newest first: back to the state before the first failed
            }
            logEndOffset = tail > head ? ring[tail - 1].nextOffset : Math.max(uploadedEnd, hw);
        }
        if (engine.cache != null) { // read-only stores have none (and nothing pending)
            engine.cache.releaseAll(failed);
        }
        for (CachedBatch d : failed) {
            if (d.future != null) {
                d.future.completeExceptionally(error);
            }
        }
    }

    // ================================================================== cache index

    private void push(CachedBatch b) {
        if (tail == ring.length) {
            int live = tail - head;
            if (head > 0 && live <= ring.length / 2) {
                System.arraycopy(ring, head, ring, 0, live);
                Arrays.fill(ring, live, tail, null);
            } else {
                CachedBatch[] grown = new CachedBatch[Math.max(4, ring.length * 2)];
                System.arraycopy(ring, head, grown, 0, live);
                ring = grown;
            }
            head = 0;
            tail = live;
        }
        ring[tail++] = b;
    }

    /** Index of the entry whose range holds {@code offset}, or -1. Caller holds the monitor. */
    private int indexOf(long offset) {
        int lo = head;
        int hi = tail - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            CachedBatch b = ring[mid];
            if (b.nextOffset <= offset) {
                lo = mid + 1;
            } else if (b.baseOffset > offset) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    /** Cache eviction: the chunk holding {@code b} was dropped. */
    synchronized void evict(CachedBatch b) {
        b.evicted = true;
        while (head < tail && (ring[head].evicted || ring[head].dead)) {
            ring[head++] = null;
        }
        if (head == tail) {
            head = 0;
            tail = 0;
            if (ring.length > 64) {
                ring = EMPTY;
            }
        }
    }

    /**
     * Adds to the cursor the cached batches from the one holding the cursor's offset, below
     * {@code limitOffset}, until the cursor is full. Returns false if the cache does not hold the
     * cursor's offset (nothing added).
     */
    synchronized boolean readCached(long limitOffset, ReadCursor c) {
        int first = indexOf(c.next);
        if (first < 0 || ring[first].evicted || ring[first].dead) {
            return false;
        }
        long expected = ring[first].baseOffset;
        for (int i = first; i < tail; i++) {
            CachedBatch b = ring[i];
            if (b.evicted || b.dead || b.baseOffset >= limitOffset || b.baseOffset != expected) {
                return true;
            }
            ByteBuffer data = b.data;
            int pos = 0;
            int limit = data.capacity();
            while (pos < limit) {
                int size = data.getInt(pos + RecordBatchLayout.LENGTH_OFFSET) + RecordBatchLayout.LOG_OVERHEAD;
                long batchBase = data.getLong(pos);
                long batchNext = batchBase + data.getInt(pos + RecordBatchLayout.LAST_OFFSET_DELTA_OFFSET) + 1;
                if (batchNext > c.next) {
                    if (batchBase >= limitOffset || !c.offer(size)) {
                        return true;
                    }
                    // A writable duplicate keeps the heap array reachable for RecordBatch's CRC (fast path);
                    // callers only ever get read-only views from RecordBatch.buffer().
                    b.chunk.expose(); // a reader holds a view now: never recycle this memory
                    c.add(RecordBatch.wrap(data.duplicate().limit(pos + size).position(pos)), size, batchNext);
                }
                pos += size;
            }
            expected = b.nextOffset;
        }
        return true;
    }

    /** The cached batch holding {@code offset}, or null (tests). */
    synchronized CachedBatch cachedAt(long offset) {
        int i = indexOf(offset);
        return i < 0 ? null : ring[i];
    }

    /** Whether the cache holds {@code offset}. */
    synchronized boolean caches(long offset) {
        int i = indexOf(offset);
        return i >= 0 && !ring[i].evicted;
    }

    /** Batches from {@code from} below the high watermark, for timestamp search. Caller must not hold the monitor. */
    synchronized List<CachedBatch> cachedFrom(long from) {
        List<CachedBatch> out = new ArrayList<>();
        for (int j = head; j < tail; j++) {
            CachedBatch b = ring[j];
            if (b.nextOffset > from && b.baseOffset < highWatermark && !b.evicted && !b.dead) {
                b.chunk.expose(); // searched outside the monitor
                out.add(b);
            }
        }
        return out;
    }

    // ================================================================== upload bookkeeping

    private void markDirty() {
        if (!dirty) {
            dirty = true;
            engine.markDirty(this);
        }
    }

    /**
     * Collects durable batches not yet collected by an upload, in offset order, up to about
     * {@code maxBytes}, and marks them collected. Returns the offset after the last one collected.
     */
    synchronized long collectForUpload(long maxBytes, List<CachedBatch> out) {
        long next = collectedEnd;
        int i = head;
        while (i < tail && ring[i].nextOffset <= collectedEnd) {
            i++;
        }
        long bytes = 0;
        for (; i < tail; i++) {
            CachedBatch b = ring[i];
            // Only acknowledged batches (below the high watermark): readers of the object store must
            // never see what this writer's own readers cannot (a durable batch may wait for an
            // earlier one, or for the writer lease).
            if (!b.durable || b.nextOffset > highWatermark || b.baseOffset != next || b.walObject != null
                    || (bytes > 0 && bytes + b.sizeInBytes() > maxBytes)) {
                // (a batch held by an object-WAL data object is committed with that object instead)
                break;
            }
            out.add(b);
            bytes += b.sizeInBytes();
            next = b.nextOffset;
        }
        collectedEnd = next;
        return next;
    }

    /**
     * The uploader commits an object-WAL data object: {@code entries} are this partition's blocks
     * of it, in block order. They are ready if the live ones (not rolled back) are acknowledged and
     * continue exactly where collection stands; then, if {@code take}, they are marked collected
     * and added to {@code out}. Returns the end after them (the collected end if none is live), or
     * -1 if not ready; {@code Long.MIN_VALUE} if the partition was deleted (nothing to commit).
     */
    synchronized long collectWalObject(List<CachedBatch> entries, boolean take, List<CachedBatch> out) {
        if (deleted) {
            return Long.MIN_VALUE;
        }
        long next = collectedEnd;
        for (CachedBatch b : entries) {
            if (b.dead) {
                continue;
            }
            if (!b.durable || b.baseOffset != next || b.nextOffset > highWatermark) {
                return -1;
            }
            next = b.nextOffset;
        }
        if (take) {
            for (CachedBatch b : entries) {
                if (!b.dead) {
                    out.add(b);
                }
            }
            collectedEnd = next;
        }
        return next;
    }

    /** The batches up to {@code newEnd} are committed in an object. */
    synchronized void uploaded(List<CachedBatch> batches, long newEnd) {
        for (CachedBatch b : batches) {
            b.uploaded = true;
        }
        uploadedEnd = Math.max(uploadedEnd, newEnd);
        collectedEnd = Math.max(collectedEnd, uploadedEnd);
    }

    /**
     * For a flush: the end to commit up to (everything appended, or with {@code acknowledgedOnly}
     * only what is acknowledged), or -1 if nothing waits to be committed.
     */
    synchronized long flushTarget(boolean acknowledgedOnly) {
        long end = acknowledgedOnly ? highWatermark : logEndOffset;
        return !deleted && end > uploadedEnd ? end : -1;
    }

    /**
     * Whether a flush that wanted {@code target} is done: committed up to it, or up to where a
     * rollback left the log, or the partition was deleted.
     */
    synchronized boolean flushed(long target) {
        return deleted || uploadedEnd >= Math.min(target, logEndOffset);
    }

    /** Uploads under way were abandoned: collect again from the committed end. */
    synchronized void abandonCollected() {
        collectedEnd = uploadedEnd;
    }

    /** Whether data waits to be collected; sets the dirty flag accordingly (re-queue if true). */
    synchronized boolean stillDirty() {
        boolean more = !deleted && logEndOffset > collectedEnd;
        dirty = more;
        return more;
    }

    /** WAL sequence of the first batch not uploaded yet, or {@code Long.MAX_VALUE}. */
    synchronized long firstPendingSequence() {
        for (int j = head; j < tail; j++) {
            CachedBatch b = ring[j];
            if (b.nextOffset > uploadedEnd && !b.dead) {
                return b.walSequence < 0 ? Long.MIN_VALUE : b.walSequence;
            }
        }
        return Long.MAX_VALUE;
    }

    /** Offsets appended and not yet committed in an object (metrics: upload lag). */
    synchronized long pendingRecords() {
        return deleted ? 0 : Math.max(0, logEndOffset - uploadedEnd);
    }

    /**
     * When the oldest batch not yet committed was appended (epoch ms), or {@code Long.MAX_VALUE} if
     * none waits; batches recovered from the WAL count as appended at {@code recoveredAt}.
     */
    synchronized long oldestPendingAppendMillis(long recoveredAt) {
        if (deleted) {
            return Long.MAX_VALUE;
        }
        for (int j = head; j < tail; j++) {
            CachedBatch b = ring[j];
            if (b.nextOffset > uploadedEnd && !b.dead) {
                return b.future == null ? recoveredAt : b.logAppendTime;
            }
        }
        return Long.MAX_VALUE;
    }

    /** Bytes of batches not yet uploaded (for retention.bytes). */
    synchronized long pendingBytes() {
        long total = 0;
        for (int j = head; j < tail; j++) {
            if (ring[j].nextOffset > uploadedEnd && !ring[j].dead) {
                total += ring[j].sizeInBytes();
            }
        }
        return total;
    }

    // ================================================================== lifecycle

    /**
     * The topic was deleted: fail everything in flight and drop the cache index. The memory of its
     * batches is never recycled (an upload in flight may still be reading it) and each batch
     * leaves the cache's pending count once, whether or not an upload already released it.
     */
    void markDeleted() {
        List<Waiter> wake;
        synchronized (this) {
            deleted = true;
            wake = waiters;
            waiters = null;
        }
        failPending(new ShaleException(ErrorKind.UNKNOWN_TOPIC_OR_PARTITION, "partition " + tp + " was deleted"));
        List<CachedBatch> dropped = new ArrayList<>();
        synchronized (this) {
            for (int j = head; j < tail; j++) {
                CachedBatch b = ring[j];
                b.chunk.expose();
                dropped.add(b);
                ring[j] = null;
            }
            head = 0;
            tail = 0;
            ring = EMPTY;
        }
        if (engine.cache != null) {
            engine.cache.releaseAll(dropped); // never under the monitor: the cache lock comes first
        }
        engine.wake(wake);
    }

    /** Cluster nodes: waits until no append is between its offset assignment and its WAL call. */
    void awaitAppendsInProgress() {
        appendLock.lock();
        appendLock.unlock();
    }

    /**
     * Cluster nodes: restarts the partition at its committed end ({@link #meta}), dropping what
     * the log cache holds of it and restoring the producer and transaction state committed with
     * it. Called with the catalog lock held, after {@link #failPending} (nothing is pending but
     * what is acknowledged): when this node claims the partition (another node may have
     * committed more since this one last held it) and when it stops owning it.
     */
    void restartAtCommitted() {
        List<CachedBatch> dropped = new ArrayList<>();
        synchronized (this) {
            for (int j = head; j < tail; j++) {
                CachedBatch b = ring[j];
                b.dead = true;
                b.chunk.expose(); // an upload in flight may still read it
                dropped.add(b);
                ring[j] = null;
            }
            head = 0;
            tail = 0;
            ring = EMPTY;
            PartitionMeta m = meta;
            long end = Math.max(m.endOffset(), m.logStartOffset());
            logEndOffset = end;
            uploadedEnd = end;
            collectedEnd = end;
            highWatermark = end;
            producers.restore(m.producers());
            txns.restore(m.ongoingTransactions(), m.abortedTransactions());
        }
        if (engine.cache != null) {
            engine.cache.releaseAll(dropped);
        }
    }

    /** Read-only stores: the manifest advanced the readable end. */
    void advanceCommitted(long end) {
        List<Waiter> wake;
        synchronized (this) {
            if (end <= highWatermark) {
                return;
            }
            highWatermark = end;
            logEndOffset = Math.max(logEndOffset, end);
            uploadedEnd = Math.max(uploadedEnd, end);
            wake = takeWaiters(end);
        }
        engine.wake(wake);
    }

    // ================================================================== long poll

    /** Registers a waiter unless data at its offset is already readable. Returns false if it is. */
    synchronized boolean addWaiter(Waiter w) {
        if (deleted || w.offset < (w.committed ? lastStableOffset() : highWatermark)) {
            return false;
        }
        if (waiters == null) {
            waiters = new ArrayList<>(2);
        }
        waiters.add(w);
        return true;
    }

    synchronized void removeWaiter(Waiter w) {
        if (waiters != null) {
            waiters.remove(w);
            if (waiters.isEmpty()) {
                waiters = null;
            }
        }
    }

    private List<Waiter> takeWaiters(long hw) {
        if (waiters == null) {
            return null;
        }
        List<Waiter> ready = null;
        long lso = -1;
        for (int j = waiters.size() - 1; j >= 0; j--) {
            Waiter w = waiters.get(j);
            if (w.committed && lso < 0) {
                lso = lastStableOffset();
            }
            if (w.offset < (w.committed ? lso : hw)) {
                if (ready == null) {
                    ready = new ArrayList<>(waiters.size());
                }
                ready.add(w);
                waiters.remove(j);
            }
        }
        if (waiters.isEmpty()) {
            waiters = null;
        }
        return ready;
    }

    synchronized List<Waiter> drainWaiters() {
        List<Waiter> w = waiters;
        waiters = null;
        return w;
    }

    /** Identity equality; the hash is the store-wide id, so sets of partitions iterate in a repeatable order. */
    @Override
    public int hashCode() {
        return id;
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public String toString() {
        return tp.toString();
    }
}
