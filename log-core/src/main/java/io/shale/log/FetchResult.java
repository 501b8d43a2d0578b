package io.shale.log;

import io.shale.log.record.Record;
import io.shale.log.record.RecordBatch;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * What a read returned: whole record batches as read-only views of the stored bytes (no copy),
 * and where to read next.
 *
 * <p>As in a Kafka fetch, the first batch may start before the requested offset (it is the batch
 * that contains it); {@link #records()} skips those earlier records. At most {@code maxBytes} are
 * returned, except that the first batch is returned whole even if it is larger, so that a reader
 * always makes progress. An empty result means the requested offset is the high watermark, or, in a
 * compacted topic ({@code cleanup.policy=compact}), that compaction removed every record from it to
 * the high watermark; {@link #nextOffset()} then says where to continue.
 *
 * @param fetchOffset the offset that was asked for
 * @param batches the batches, in offset order; each {@link RecordBatch#buffer()} is a view of the
 *     store's memory or of a cached object block
 * @param nextOffset the offset to read next: one past the last returned batch, or
 *     {@code fetchOffset} if no batch was returned; in a compacted topic it also moves past offsets
 *     whose records compaction removed (so it can exceed {@code fetchOffset} with no batch)
 * @param highWatermark the partition's durable end when the read was served
 * @param logStartOffset the partition's log start offset when the read was served
 */
public record FetchResult(long fetchOffset, List<RecordBatch> batches, long nextOffset, long highWatermark,
        long logStartOffset) {

    public FetchResult {
        batches = List.copyOf(Objects.requireNonNull(batches, "batches"));
    }

    public boolean isEmpty() {
        return batches.isEmpty();
    }

    /** Total bytes of the returned batches. */
    public long sizeInBytes() {
        long total = 0;
        for (RecordBatch b : batches) {
            total += b.sizeInBytes();
        }
        return total;
    }

    /**
     * The data records at or after {@link #fetchOffset}, decompressing as needed; control batches
     * (transaction markers) are skipped.
     */
    public Iterable<Record> records() {
        return () -> new Iterator<>() {
            private final Iterator<RecordBatch> batchIt = batches.iterator();
            private Iterator<Record> recordIt = null;
            private Record next = null;

            @Override
            public boolean hasNext() {
                while (next == null) {
                    if (recordIt != null && recordIt.hasNext()) {
                        Record r = recordIt.next();
                        if (r.offset() >= fetchOffset) {
                            next = r;
                        }
                    } else if (batchIt.hasNext()) {
                        RecordBatch b = batchIt.next();
                        recordIt = b.isControlBatch() || b.lastOffset() < fetchOffset ? null : b.iterator();
                    } else {
                        return false;
                    }
                }
                return true;
            }

            @Override
            public Record next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                Record r = next;
                next = null;
                return r;
            }
        };
    }

    /** {@link #records()} collected into a list. */
    public List<Record> recordList() {
        List<Record> out = new ArrayList<>();
        records().forEach(out::add);
        return out;
    }
}
