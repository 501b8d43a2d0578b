package io.shale.log.internal.engine;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.internal.format.CorruptObjectException;
import io.shale.log.record.RecordBatchLayout;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds the log cache from the WAL when a writer opens the store: every durable entry that is
 * not in an uploaded object yet comes back, exactly once, with its offsets.
 *
 * <p>Per partition, entries arrive in append order and are judged against the partition's end
 * of committed data (the manifest's end offset) and what has been recovered so far:
 * <ul>
 *   <li>wholly below the committed end: already uploaded, skipped;</li>
 *   <li>starting exactly at the recovered end: accepted;</li>
 *   <li>starting below the recovered end (but at or above the committed end): a later write of
 *       the same offsets, made after the earlier one failed and was rolled back; the recovered
 *       entries from that offset on are dropped and this one is accepted (the later entry
 *       wins);</li>
 *   <li>starting above the recovered end: written after an earlier entry that failed, and rolled
 *       back with it; never acknowledged, skipped.</li>
 * </ul>
 * Entries of partitions that no longer exist (deleted topics) are skipped.
 */
final class Recovery {
    private static final Logger log = LoggerFactory.getLogger(Recovery.class);

    private final StoreEngine engine;
    private long accepted;
    private long skipped;
    private long bytes;

    Recovery(StoreEngine engine) {
        this.engine = engine;
    }

    void replay() {
        engine.uploader.setRecovering(true);
        try {
            engine.wal.replay(this::onEntry);
        } finally {
            engine.uploader.setRecovering(false);
        }
        log.info("recovered {} WAL entries ({} bytes) from {}; skipped {}", accepted, bytes, engine.wal.describe(),
                skipped);
    }

    private void onEntry(long sequence, int streamId, long baseOffset, ByteBuffer payload) {
        PartitionLog p = engine.partitionsById.get(streamId);
        if (p == null) {
            skipped++;
            return;
        }
        long next = validate(p, baseOffset, payload);
        long committedEnd = p.uploadedEnd();
        long recoveredEnd = p.logEndOffset();
        if (next <= committedEnd) {
            skipped++;
            return;
        }
        if (baseOffset < committedEnd) {
            log.warn("WAL entry {} of {} (offsets {}..{}) overlaps data already committed up to {}; skipped",
                    sequence, p.tp, baseOffset, next - 1, committedEnd);
            skipped++;
            return;
        }
        if (baseOffset > recoveredEnd) {
            log.debug("WAL entry {} of {} at {} follows a rolled-back append (end {}); skipped", sequence, p.tp,
                    baseOffset, recoveredEnd);
            skipped++;
            return;
        }
        if (baseOffset < recoveredEnd) {
            p.truncateRecovered(baseOffset);
        }
        int size = payload.remaining();
        CachedBatch b = allocate(p, size);
        b.data.put(0, payload, payload.position(), size);
        b.baseOffset = baseOffset;
        b.nextOffset = next;
        b.walSequence = sequence;
        b.maxTimestamp = maxTimestamp(b.data);
        p.addRecovered(b);
        accepted++;
        bytes += size;
    }

    private CachedBatch allocate(PartitionLog p, int size) {
        for (int attempt = 0; ; attempt++) {
            try {
                return engine.cache.allocate(size, 0, p);
            } catch (ShaleException e) {
                if (e.kind() != ErrorKind.UNAVAILABLE || attempt >= 3) {
                    throw e;
                }
                // The cache is full of recovered data: upload it to make room.
                engine.uploader.uploadDuringRecovery();
            }
        }
    }

    /** Checks the entry is whole batches starting at {@code baseOffset}; returns the next offset. */
    private static long validate(PartitionLog p, long baseOffset, ByteBuffer payload) {
        int pos = payload.position();
        int end = payload.limit();
        long expected = baseOffset;
        while (pos < end) {
            if (end - pos < RecordBatchLayout.HEADER_SIZE) {
                throw corrupt(p, baseOffset, "ends in a partial batch");
            }
            int size = payload.getInt(pos + RecordBatchLayout.LENGTH_OFFSET) + RecordBatchLayout.LOG_OVERHEAD;
            if (size < RecordBatchLayout.HEADER_SIZE || size > end - pos) {
                throw corrupt(p, baseOffset, "has a batch of impossible length " + size);
            }
            long base = payload.getLong(pos);
            int delta = payload.getInt(pos + RecordBatchLayout.LAST_OFFSET_DELTA_OFFSET);
            if (base != expected || delta < 0) {
                throw corrupt(p, baseOffset, "has a batch at offset " + base + ", expected " + expected);
            }
            expected = base + delta + 1;
            pos += size;
        }
        if (expected == baseOffset) {
            throw corrupt(p, baseOffset, "is empty");
        }
        return expected;
    }

    private static long maxTimestamp(ByteBuffer data) {
        long max = Long.MIN_VALUE;
        int pos = 0;
        while (pos < data.capacity()) {
            max = Math.max(max, data.getLong(pos + RecordBatchLayout.MAX_TIMESTAMP_OFFSET));
            pos += data.getInt(pos + RecordBatchLayout.LENGTH_OFFSET) + RecordBatchLayout.LOG_OVERHEAD;
        }
        return max;
    }

    private static CorruptObjectException corrupt(PartitionLog p, long base, String what) {
        return new CorruptObjectException("WAL entry for " + p.tp + " at offset " + base + " " + what
                + " although its checksum matched");
    }
}
