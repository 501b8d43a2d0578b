package io.shale.log.internal.engine;

import io.shale.log.ErrorKind;
import io.shale.log.FetchResult;
import io.shale.log.OffsetAndTimestamp;
import io.shale.log.ShaleException;
import io.shale.log.internal.format.BlockInfo;
import io.shale.log.internal.manifest.PartitionMeta;
import io.shale.log.internal.manifest.RangeRef;
import io.shale.log.internal.util.StoreCalls;
import io.shale.log.record.Record;
import io.shale.log.record.RecordBatch;
import io.shale.log.record.RecordBatches;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;

/**
 * Reads: the log cache first, then the object store. Every batch returned is a read-only view,
 * never a copy. Stateless; the partition and the engine hold the state.
 *
 * <p><b>Gaps.</b> In a compacted topic ({@code cleanup.policy=compact}) offsets whose records were
 * removed belong to no batch: inside a run, the block walk returns the next batch after them; between
 * runs (or after the last one), the read moves on to where data exists again. As in Kafka, a read
 * at a removed offset returns the next batch, and the result's next offset is past the gap even when
 * nothing is left before the high watermark.
 *
 * <p><b>Cleaned data and the log cache.</b> The cache keeps batches as they were appended. Offsets
 * below a partition's cleaned offset are read from the objects only, so a reader never mixes a
 * record that compaction removed (an old value, say) with the cleaned rest (where the tombstone that
 * deleted it may be gone too). At and above the cleaned offset the objects hold the batches as
 * appended, the same bytes the cache holds.
 */
final class ReadPath {
    private ReadPath() {
    }

    static FetchResult read(StoreEngine engine, PartitionLog p, long offset, int maxBytes) {
        return read(engine, p, offset, maxBytes, false);
    }

    /**
     * A read; with {@code committed} (Kafka's read_committed) only batches below the last stable
     * offset, with the aborted transactions they overlap.
     */
    static FetchResult read(StoreEngine engine, PartitionLog p, long offset, int maxBytes, boolean committed) {
        for (int attempt = 0; ; attempt++) {
            long lso = committed ? p.lastStableOffset() : -1;
            long hw = p.highWatermark();
            long start = p.logStartOffset();
            if (offset < start || offset > hw) {
                throw new ShaleException(ErrorKind.OFFSET_OUT_OF_RANGE, "offset " + offset + " of " + p.tp
                        + " is out of range [" + start + ", " + hw + "]");
            }
            ReadCursor c = new ReadCursor(offset, maxBytes);
            try {
                if (!committed) {
                    fill(engine, p, hw, c);
                    return new FetchResult(offset, c.out, c.next, hw, start);
                }
                lso = Math.min(lso, hw);
                fill(engine, p, lso, c);
                return new FetchResult(offset, c.out, c.next, hw, start, lso,
                        c.out.isEmpty() ? List.of() : p.abortedTransactions(offset, c.next));
            } catch (ShaleException e) {
                // An object may have been compacted away or expired between looking it up and
                // reading it; the manifest then already says where the data is now.
                if (StoreCalls.isNotFound(e)) {
                    if (attempt < 2) {
                        if (engine.readOnly || !p.owned) { // a cluster node follows other owners' commits too
                            engine.catalog.refresh();
                        }
                        continue;
                    }
                    // The up-to-date manifest still points at an object that is gone: it will not
                    // come back by retrying.
                    String key = io.shale.log.spi.ObjectStoreException.find(e).key();
                    throw new ShaleException(ErrorKind.CORRUPT_STORAGE, "data object '" + key + "' holding "
                            + p.tp + " at offset " + offset + " is referenced by the manifest but missing from "
                            + engine.store.describe(), e);
                }
                throw e;
            }
        }
    }

    private static void fill(StoreEngine engine, PartitionLog p, long hw, ReadCursor c) {
        while (c.next < hw && !c.full) {
            long before = c.next;
            // Below a compacted partition's cleaned offset the cache holds the batches as appended,
            // which cleaning has since rewritten: serve those offsets from the objects only.
            if (!engine.readOnly && p.owned && c.next >= p.meta.cleanedOffset()) {
                boolean hit = p.readCached(hw, c);
                if (engine.metricsOn) {
                    engine.metrics.logCacheLookup(hit);
                }
                if (hit) {
                    if (c.next == before && !c.full) {
                        break;
                    }
                    continue;
                }
            }
            PartitionMeta meta = p.meta;
            RangeRef r = meta.find(c.next);
            if (r == null) {
                if (c.next < p.logStartOffset()) {
                    throw new ShaleException(ErrorKind.OFFSET_OUT_OF_RANGE, "offset " + c.next + " of " + p.tp
                            + " was deleted while being read; the log now starts at " + p.logStartOffset());
                }
                long skipTo = gapEnd(meta, c.next, hw);
                if (skipTo > c.next) {
                    c.next = skipTo; // key-based compaction removed every record up to there (Kafka: next batch)
                    continue;
                }
                if (!c.out.isEmpty()) {
                    break; // the rest will be readable from the cache or the next refresh
                }
                throw new ShaleException(ErrorKind.UNAVAILABLE, "offset " + c.next + " of " + p.tp
                        + " is below the high watermark " + hw + " but neither cached nor in any object");
            }
            engine.remote.read(p, r, hw, c);
            if (c.next == before && !c.full) {
                break;
            }
        }
    }

    /**
     * Where the gap at {@code offset} ends: the start of the next run, or (no run above it) the
     * committed end, at most {@code hw}. Offsets below the committed end that no run holds had all
     * their records removed by key-based compaction; without compaction runs are contiguous, and this
     * returns {@code offset} (no gap) unless the data is above the committed end.
     */
    private static long gapEnd(PartitionMeta meta, long offset, long hw) {
        long next = meta.nextHeldOffset(offset);
        long end = next >= 0 ? next : meta.endOffset();
        return Math.min(Math.max(end, offset), hw);
    }

    /** Kafka ListOffsets by timestamp: the first offset whose record timestamp is >= {@code ts}. */
    static Optional<OffsetAndTimestamp> offsetForTimestamp(StoreEngine engine, PartitionLog p, long ts) {
        long hw = p.highWatermark();
        long start = p.logStartOffset();
        PartitionMeta meta = p.meta;
        for (RangeRef r : meta.ranges()) {
            if (r.nextOffset() <= start || r.maxTimestamp() < ts) {
                continue;
            }
            if (r.baseOffset() >= hw) {
                break;
            }
            for (int i = 0; i < r.blockCount(); i++) {
                BlockInfo b = engine.remote.block(r, i);
                if (b.maxTimestamp() < ts || b.nextOffset() <= start) {
                    continue;
                }
                Optional<OffsetAndTimestamp> found = search(engine.remote.blockBytesNoReadahead(r, i), ts, start, hw);
                if (found.isPresent()) {
                    return found;
                }
            }
        }
        if (!engine.readOnly && p.owned) {
            for (CachedBatch b : p.cachedFrom(Math.max(start, meta.endOffset()))) {
                if (b.maxTimestamp < ts) {
                    continue;
                }
                Optional<OffsetAndTimestamp> found = search(b.view(), ts, start, hw);
                if (found.isPresent()) {
                    return found;
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<OffsetAndTimestamp> search(ByteBuffer batches, long ts, long start, long hw) {
        for (Iterator<RecordBatch> it = RecordBatches.iterate(batches); it.hasNext(); ) {
            RecordBatch batch = it.next();
            if (batch.nextOffset() <= start || batch.maxTimestamp() < ts || batch.isControlBatch()) {
                continue;
            }
            if (batch.baseOffset() >= hw) {
                break;
            }
            for (Record r : batch) {
                if (r.offset() >= start && r.offset() < hw && r.timestamp() >= ts) {
                    return Optional.of(new OffsetAndTimestamp(r.offset(), r.timestamp()));
                }
            }
        }
        return Optional.empty();
    }
}
