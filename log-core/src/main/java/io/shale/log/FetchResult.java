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
 * @param lastStableOffset the partition's last stable offset when the read was served (see
 *     {@link LogStore#lastStableOffset}); a {@link IsolationLevel#READ_COMMITTED} read returns no
 *     batch at or above it
 * @param abortedTransactions for a {@link IsolationLevel#READ_COMMITTED} read, the aborted
 *     transactions whose range overlaps the returned batches, in the order their markers were
 *     written (what a Kafka fetch response's {@code AbortedTransactions} holds); empty for a
 *     {@link IsolationLevel#READ_UNCOMMITTED} read
 */
public record FetchResult(long fetchOffset, List<RecordBatch> batches, long nextOffset, long highWatermark,
        long logStartOffset, long lastStableOffset, List<AbortedTransaction> abortedTransactions) {

    public FetchResult {
        batches = List.copyOf(Objects.requireNonNull(batches, "batches"));
        abortedTransactions = List.copyOf(Objects.requireNonNull(abortedTransactions, "abortedTransactions"));
    }

    /** A {@link IsolationLevel#READ_UNCOMMITTED} result: last stable offset = high watermark, no aborted transactions. */
    public FetchResult(long fetchOffset, List<RecordBatch> batches, long nextOffset, long highWatermark,
            long logStartOffset) {
        this(fetchOffset, batches, nextOffset, highWatermark, logStartOffset, highWatermark, List.of());
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
     * (transaction markers) are skipped, and so are the records of the {@link #abortedTransactions()}
     * (as a Kafka consumer with {@code isolation.level=read_committed} skips them: a transactional
     * batch of a producer whose aborted transaction started at or before it, up to that
     * transaction's ABORT marker).
     */
    public Iterable<Record> records() {
        return () -> new Iterator<>() {
            private final Iterator<RecordBatch> batchIt = abortedTransactions.isEmpty() ? batches.iterator()
                    : committedOnly(batches, abortedTransactions).iterator();
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

    /**
     * The batches without those of aborted transactions, as Kafka's consumer decides (its
     * {@code CompletedFetch}): walking in offset order, a producer's aborted transaction applies
     * from the first batch whose last offset reaches its first offset until the producer's ABORT
     * marker; transactional data batches of that producer in between are dropped.
     */
    private static List<RecordBatch> committedOnly(List<RecordBatch> batches, List<AbortedTransaction> aborted) {
        List<AbortedTransaction> byFirst = new ArrayList<>(aborted);
        byFirst.sort(java.util.Comparator.comparingLong(AbortedTransaction::firstOffset));
        java.util.Set<Long> abortedProducers = new java.util.HashSet<>();
        int next = 0;
        List<RecordBatch> out = new ArrayList<>(batches.size());
        for (RecordBatch b : batches) {
            while (next < byFirst.size() && byFirst.get(next).firstOffset() <= b.lastOffset()) {
                abortedProducers.add(byFirst.get(next++).producerId());
            }
            if (b.isTransactional() && b.producerId() >= 0 && abortedProducers.contains(b.producerId())) {
                if (b.isControlBatch()) {
                    if (isAbortMarker(b)) {
                        abortedProducers.remove(b.producerId());
                    }
                } else {
                    continue;
                }
            }
            out.add(b);
        }
        return out;
    }

    private static boolean isAbortMarker(RecordBatch b) {
        java.util.Iterator<Record> it = b.iterator();
        if (!it.hasNext()) {
            return false;
        }
        java.nio.ByteBuffer key = it.next().key();
        return key != null && key.remaining() >= 4 && key.getShort(key.position() + 2) == 0;
    }

    /** {@link #records()} collected into a list. */
    public List<Record> recordList() {
        List<Record> out = new ArrayList<>();
        records().forEach(out::add);
        return out;
    }
}
