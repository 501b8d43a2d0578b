package io.shale.log.internal.engine;

import io.shale.log.AbortedTransaction;
import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.TopicPartition;
import io.shale.log.record.Record;
import io.shale.log.record.RecordBatch;
import io.shale.log.record.RecordBatchLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * One partition's transaction state, as Kafka's {@code ProducerStateManager} and
 * {@code TransactionIndex} keep it: the open transaction of each transactional producer (the
 * offset of its first batch in this partition), the transactions completed by a marker that is
 * not acknowledged yet (they still hold the last stable offset back), and the aborted transactions
 * (producer id, first offset, offset of the ABORT marker), oldest marker first.
 *
 * <p>A transactional data batch (attributes bit 4, a producer id) opens its producer's transaction
 * if none is open; a control batch (a transaction marker, see {@link #markerType}) closes it, and
 * an ABORT marker records it as aborted. The same rule rebuilds the state from stored batches
 * ({@link #advance}): the uploader from the committed state plus the batches it commits, recovery
 * from the manifest's state plus the WAL's batches.
 *
 * <p><b>Rollback.</b> Every append that changed the state keeps what it changed
 * ({@link CachedBatch#txnUndo}); undone newest first, as {@link ProducerStates}.
 *
 * <p>Not thread-safe: guarded by the partition's monitor.
 */
final class TxnStates {
    /** ControlRecordType ABORT (Kafka's key type 0). */
    static final short ABORT = 0;
    /** ControlRecordType COMMIT (Kafka's key type 1). */
    static final short COMMIT = 1;

    private final Map<Long, Long> ongoing = new HashMap<>();
    /** Transactions ended by a marker at or above the high watermark: {producerId, firstOffset, markerOffset}. */
    private final List<long[]> ending = new ArrayList<>(2);
    private final ArrayList<AbortedTransaction> aborted = new ArrayList<>();

    /** What one append changed, to undo it. */
    private record Change(long producerId, Long ongoingBefore, long[] ending, AbortedTransaction aborted) {
    }

    void restore(Map<Long, Long> committedOngoing, List<AbortedTransaction> committedAborted) {
        ongoing.clear();
        ongoing.putAll(committedOngoing);
        ending.clear();
        aborted.clear();
        aborted.addAll(committedAborted);
    }

    boolean isEmpty() {
        return ongoing.isEmpty() && ending.isEmpty() && aborted.isEmpty();
    }

    /** The first offset of {@code producerId}'s open transaction, or -1. */
    long ongoingFirstOffset(long producerId) {
        Long f = ongoing.get(producerId);
        return f == null ? -1 : f;
    }

    /**
     * Kafka's last stable offset: the first offset of the earliest transaction not yet completed by
     * an acknowledged marker, or the high watermark.
     */
    long lastStableOffset(long highWatermark) {
        long lso = highWatermark;
        for (long first : ongoing.values()) {
            lso = Math.min(lso, first);
        }
        for (Iterator<long[]> it = ending.iterator(); it.hasNext(); ) {
            long[] e = it.next();
            if (e[2] < highWatermark) {
                it.remove(); // the marker is acknowledged: the transaction is complete
            } else {
                lso = Math.min(lso, e[1]);
            }
        }
        return lso;
    }

    /**
     * The aborted transactions overlapping {@code [from, to)}, oldest marker first, after dropping
     * those wholly below {@code logStart} (what retention or DeleteRecords removed).
     */
    List<AbortedTransaction> abortedBetween(long from, long to, long logStart) {
        int drop = 0;
        while (drop < aborted.size() && aborted.get(drop).lastOffset() < logStart) {
            drop++;
        }
        if (drop > 0) {
            aborted.subList(0, drop).clear();
        }
        List<AbortedTransaction> out = null;
        for (AbortedTransaction t : aborted) {
            if (t.lastOffset() >= from && t.firstOffset() < to) {
                if (out == null) {
                    out = new ArrayList<>(2);
                }
                out.add(t);
            }
        }
        return out == null ? List.of() : out;
    }

    /** Whether any batch of {@code data} carries a producer id and is transactional. */
    static boolean hasTransactional(ByteBuffer data) {
        int limit = data.capacity();
        for (int pos = 0; pos < limit; pos += size(data, pos)) {
            if (transactional(data, pos)) {
                return true;
            }
        }
        return false;
    }

    private static boolean transactional(ByteBuffer data, int pos) {
        return data.getLong(pos + RecordBatchLayout.PRODUCER_ID_OFFSET) >= 0
                && (data.getShort(pos + RecordBatchLayout.ATTRIBUTES_OFFSET) & RecordBatchLayout.TRANSACTIONAL_FLAG_MASK) != 0;
    }

    private static boolean control(ByteBuffer data, int pos) {
        return (data.getShort(pos + RecordBatchLayout.ATTRIBUTES_OFFSET) & RecordBatchLayout.CONTROL_FLAG_MASK) != 0;
    }

    private static int size(ByteBuffer data, int pos) {
        return data.getInt(pos + RecordBatchLayout.LENGTH_OFFSET) + RecordBatchLayout.LOG_OVERHEAD;
    }

    /**
     * The control type of the marker batch at {@code pos} ({@link #ABORT}, {@link #COMMIT}, or
     * another type Kafka defines, which ends no transaction), read from its one record's key.
     */
    static short markerType(ByteBuffer data, int pos) {
        ByteBuffer one = data.duplicate().limit(pos + size(data, pos)).position(pos).slice();
        Iterator<Record> it = RecordBatch.wrap(one).iterator();
        if (!it.hasNext()) {
            return -1;
        }
        ByteBuffer key = it.next().key();
        if (key == null || key.remaining() < 4) {
            return -1;
        }
        return key.getShort(key.position() + 2);
    }

    /**
     * Applies the transactional batches of {@code b} (offsets stamped), the partition being at high
     * watermark {@code highWatermark}; records in {@code b} what changed, for rollback. Used by
     * appends (after their checks) and by recovery.
     */
    void apply(CachedBatch b, long highWatermark) {
        if (!ending.isEmpty()) {
            lastStableOffset(highWatermark); // forgets the completions now acknowledged: the list stays short
        }
        ByteBuffer data = b.data;
        List<Change> changes = null;
        int limit = data.capacity();
        for (int pos = 0; pos < limit; pos += size(data, pos)) {
            if (!transactional(data, pos)) {
                continue;
            }
            long pid = data.getLong(pos + RecordBatchLayout.PRODUCER_ID_OFFSET);
            long offset = data.getLong(pos + RecordBatchLayout.BASE_OFFSET_OFFSET);
            Long before = ongoing.get(pid);
            Change c;
            if (control(data, pos)) {
                short type = markerType(data, pos);
                if (type != ABORT && type != COMMIT) {
                    continue;
                }
                long first = before == null ? offset : before;
                ongoing.remove(pid);
                long[] end = new long[] {pid, first, offset};
                ending.add(end);
                AbortedTransaction a = null;
                if (type == ABORT && before != null) {
                    a = new AbortedTransaction(pid, first, offset);
                    aborted.add(a);
                }
                c = new Change(pid, before, end, a);
            } else {
                if (before != null) {
                    continue;
                }
                ongoing.put(pid, offset);
                c = new Change(pid, null, null, null);
            }
            if (changes == null) {
                changes = new ArrayList<>(1);
            }
            changes.add(c);
        }
        b.txnUndo = changes;
    }

    /** Rolls back the changes {@code b} made (the caller rolls back newer appends first). */
    @SuppressWarnings("unchecked")
    void undo(CachedBatch b) {
        List<Change> changes = (List<Change>) b.txnUndo;
        if (changes == null) {
            return;
        }
        for (int i = changes.size() - 1; i >= 0; i--) {
            Change c = changes.get(i);
            if (c.ongoingBefore() == null) {
                ongoing.remove(c.producerId());
            } else {
                ongoing.put(c.producerId(), c.ongoingBefore());
            }
            if (c.ending() != null) {
                ending.remove(c.ending());
            }
            if (c.aborted() != null) {
                for (int j = aborted.size() - 1; j >= 0; j--) {
                    if (aborted.get(j) == c.aborted()) {
                        aborted.remove(j);
                        break;
                    }
                }
            }
        }
        b.txnUndo = null;
    }

    /**
     * Checks a transaction marker for {@code producerId} and {@code epoch} against the producer's
     * state, as Kafka fences markers: an epoch older than the producer's newest is refused.
     */
    static void checkMarker(TopicPartition tp, long producerId, short epoch, io.shale.log.internal.manifest.ProducerEntry entry) {
        if (entry != null && epoch < entry.epoch()) {
            throw new ShaleException(ErrorKind.INVALID_PRODUCER_EPOCH, "transaction marker of producer " + producerId
                    + " for " + tp + " has epoch " + epoch + ", older than the producer's newest epoch " + entry.epoch());
        }
    }

    /**
     * Applies the transactional batches of {@code data} (offsets stamped) to a committed state:
     * {@code ongoing} changes in place and the aborted transactions completed are added to
     * {@code abortedOut}. Returns whether anything changed.
     */
    static boolean advance(Map<Long, Long> ongoing, List<AbortedTransaction> abortedOut, ByteBuffer data) {
        boolean changed = false;
        int limit = data.capacity();
        for (int pos = 0; pos < limit; pos += size(data, pos)) {
            if (!transactional(data, pos)) {
                continue;
            }
            long pid = data.getLong(pos + RecordBatchLayout.PRODUCER_ID_OFFSET);
            long offset = data.getLong(pos + RecordBatchLayout.BASE_OFFSET_OFFSET);
            if (control(data, pos)) {
                short type = markerType(data, pos);
                if (type != ABORT && type != COMMIT) {
                    continue;
                }
                Long first = ongoing.remove(pid);
                if (type == ABORT && first != null) {
                    abortedOut.add(new AbortedTransaction(pid, first, offset));
                }
                changed |= first != null;
            } else if (!ongoing.containsKey(pid)) {
                ongoing.put(pid, offset);
                changed = true;
            }
        }
        return changed;
    }
}
