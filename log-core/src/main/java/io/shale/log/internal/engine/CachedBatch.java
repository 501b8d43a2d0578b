package io.shale.log.internal.engine;

import io.shale.log.AppendResult;
import io.shale.log.spi.WalEntry;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * One append in flight or in the log cache: a run of whole record batches of one partition,
 * living in a {@link LogCache} chunk. It is the WAL entry too, so an append allocates one object
 * for the cache, the WAL and the reader index together.
 *
 * <p>Offsets and state change under the partition's lock; {@link #data} is filled before the batch
 * is published to the partition and never changes afterwards.
 */
final class CachedBatch implements WalEntry {
    final PartitionLog log;
    /** The bytes (whole batches); a writable view used to fill it, then only read. */
    final ByteBuffer data;
    LogCache.Chunk chunk;

    // assigned under the partition lock
    long baseOffset;
    long nextOffset;
    long maxTimestamp;
    long logAppendTime;
    long walSequence = -1;
    /**
     * The object-WAL data object holding this batch as block {@link #walBlock} (set under the
     * partition lock before the batch becomes durable), or null: then an upload copies it.
     */
    io.shale.log.wal.WalDataObject walObject;
    int walBlock = -1;
    /** {@code System.nanoTime()} when the append call began, for the append latency metric (0 without metrics). */
    long appendStartNanos;
    CompletableFuture<AppendResult> future;
    /**
     * Idempotent producers (under the partition lock): the producer ids whose state this append
     * changed and their entries before it (null for a new producer), to roll it back; null if none.
     */
    long[] producerIds;
    io.shale.log.internal.manifest.ProducerEntry[] producersBefore;
    /** Transactions (under the partition lock): what this append changed in {@link TxnStates}, to roll it back; null if nothing. */
    Object txnUndo;

    // state, under the partition lock
    boolean durable;
    boolean uploaded;
    /** Rolled back after a WAL failure: its offsets were given to later appends. */
    boolean dead;
    /** Its chunk was dropped: the bytes must be read from the object store. */
    boolean evicted;
    /** No longer counted as waiting for upload (guarded by the log cache's lock, not the partition's). */
    boolean released;

    CachedBatch(PartitionLog log, ByteBuffer data) {
        this.log = log;
        this.data = data;
    }

    int sizeInBytes() {
        return data.capacity();
    }

    /** A read-only view of the bytes, position 0. */
    ByteBuffer view() {
        return data.asReadOnlyBuffer().position(0);
    }

    /**
     * A writable view of the bytes, position 0, for the engine's own readers (CRC over a writable
     * heap buffer takes the array fast path). Never handed to callers or stores.
     */
    ByteBuffer internalView() {
        return data.duplicate().clear();
    }

    /** WAL thread, before {@link #onDurable}: the batch is block {@code block} of {@code object}. */
    void locate(io.shale.log.wal.WalDataObject object, int block) {
        synchronized (log) {
            walObject = object;
            walBlock = block;
        }
    }

    // ------------------------------------------------------------------ WalEntry

    @Override
    public int streamId() {
        return log.id;
    }

    @Override
    public long baseOffset() {
        return baseOffset;
    }

    /**
     * The bytes themselves (no view object per append): the WAL contract forbids modifying them or
     * moving the position, and the engine reads them only by absolute index or through duplicates.
     */
    @Override
    public ByteBuffer payload() {
        return data;
    }

    @Override
    public void onDurable() {
        log.onDurable(this);
    }

    @Override
    public void onFailure(Throwable error) {
        log.onWalFailure(this, error);
    }

    @Override
    public String toString() {
        return "CachedBatch[" + log + " " + baseOffset + ".." + (nextOffset - 1) + ", " + sizeInBytes() + " bytes"
                + (durable ? ", durable" : "") + (uploaded ? ", uploaded" : "") + (dead ? ", dead" : "")
                + (evicted ? ", evicted" : "") + "]";
    }
}
