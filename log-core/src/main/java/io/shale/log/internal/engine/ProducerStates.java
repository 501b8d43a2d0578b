package io.shale.log.internal.engine;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.TopicPartition;
import io.shale.log.internal.manifest.ProducerEntry;
import io.shale.log.record.RecordBatchLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One partition's idempotent-producer state, as Kafka's {@code ProducerStateManager} keeps it: per
 * producer id the newest epoch and the last {@value ProducerEntry#MAX_BATCHES} batches. Checked and
 * updated under the partition's monitor while an append is placed (before offsets are assigned), so
 * that a retried batch is answered with its original offsets instead of being appended again.
 *
 * <p>Only data batches with a producer id take part, transactional ones included (as in Kafka);
 * control batches (transaction markers, see {@link TxnStates}) do not.
 *
 * <p><b>Rollback.</b> Every append that changed an entry keeps the entries it replaced
 * ({@link CachedBatch#producersBefore}); the engine rolls back a suffix of appends (a WAL failure,
 * a close, a recovered entry a later one replaces) newest first, restoring exactly the state before
 * them, so a producer's retry of a failed batch is appended rather than taken for a duplicate of
 * a batch that does not exist.
 *
 * <p>Not thread-safe: guarded by the partition's monitor.
 */
final class ProducerStates {
    private final Map<Long, ProducerEntry> entries = new HashMap<>();
    /** What the last {@link #check} found the append would change, for {@link #applyChecked}; usually null. */
    private Map<Long, ProducerEntry> checked;

    /** Loads the state committed in the manifest (as of the partition's committed end). */
    void restore(Map<Long, ProducerEntry> committed) {
        entries.clear();
        entries.putAll(committed);
    }

    ProducerEntry get(long producerId) {
        return entries.get(producerId);
    }

    int size() {
        return entries.size();
    }

    /** Whether batch header bytes at {@code pos} describe a batch whose producer state is tracked. */
    static boolean tracked(ByteBuffer data, int pos) {
        if (data.getLong(pos + RecordBatchLayout.PRODUCER_ID_OFFSET) < 0) {
            return false;
        }
        int attributes = data.getShort(pos + RecordBatchLayout.ATTRIBUTES_OFFSET);
        return (attributes & RecordBatchLayout.CONTROL_FLAG_MASK) == 0;
    }

    /** Whether any batch of {@code data} is tracked. */
    static boolean hasTracked(ByteBuffer data) {
        int limit = data.capacity();
        for (int pos = 0; pos < limit; pos += size(data, pos)) {
            if (tracked(data, pos)) {
                return true;
            }
        }
        return false;
    }

    /** Kafka's last sequence of a batch: the base sequence plus the last offset delta, wrapping at {@code Integer.MAX_VALUE}. */
    static int lastSequence(int baseSequence, int lastOffsetDelta) {
        long last = (long) baseSequence + lastOffsetDelta;
        return last > Integer.MAX_VALUE ? (int) (last - Integer.MAX_VALUE - 1) : (int) last;
    }

    private static int size(ByteBuffer data, int pos) {
        return data.getInt(pos + RecordBatchLayout.LENGTH_OFFSET) + RecordBatchLayout.LOG_OVERHEAD;
    }

    /**
     * Checks the batches of one append that would start at offset {@code base} against the state,
     * in order, as Kafka's {@code UnifiedLog} and {@code ProducerAppendInfo} do. Returns the original
     * batch if the call repeats one of a producer's cached batches (Kafka answers the whole produce
     * with that batch's offsets and appends nothing); otherwise null, and {@link #applyChecked}
     * makes the entries the append changes the state. Nothing is allocated for batches without a
     * producer id.
     *
     * @throws ShaleException {@code INVALID_PRODUCER_EPOCH} for an epoch older than the producer's
     *     newest; {@code OUT_OF_ORDER_SEQUENCE} for a sequence that does not follow the producer's last
     */
    ProducerEntry.Batch check(TopicPartition tp, ByteBuffer data, long base, long appendTime) {
        checked = null;
        Map<Long, ProducerEntry> updates = null;
        long offset = base;
        int limit = data.capacity();
        for (int pos = 0; pos < limit; pos += size(data, pos)) {
            int lastDelta = data.getInt(pos + RecordBatchLayout.LAST_OFFSET_DELTA_OFFSET);
            long first = offset;
            offset += lastDelta + 1L;
            if (!tracked(data, pos)) {
                continue;
            }
            long pid = data.getLong(pos + RecordBatchLayout.PRODUCER_ID_OFFSET);
            short epoch = data.getShort(pos + RecordBatchLayout.PRODUCER_EPOCH_OFFSET);
            int firstSeq = data.getInt(pos + RecordBatchLayout.BASE_SEQUENCE_OFFSET);
            int lastSeq = lastSequence(firstSeq, lastDelta);
            if (epoch < 0 || firstSeq < 0) {
                throw new ShaleException(ErrorKind.CORRUPT_RECORD, "batch of producer " + pid + " to " + tp
                        + " has epoch " + epoch + " and base sequence " + firstSeq + "; both must be non-negative");
            }
            ProducerEntry current = entries.get(pid);
            ProducerEntry updated = updates == null ? null : updates.get(pid);
            // Kafka looks for a duplicate in the state before the call (UnifiedLog's
            // analyzeAndValidateProducerState); the first duplicate answers the whole call
            ProducerEntry.Batch dup = current == null ? null : current.find(epoch, firstSeq, lastSeq);
            if (dup != null) {
                return dup;
            }
            ProducerEntry latest = updated != null ? updated : current;
            if (latest != null) {
                checkEpochAndSequence(tp, pid, latest, epoch, firstSeq, first);
            }
            // An unknown producer id is accepted at any sequence: since KIP-360, Kafka's
            // ProducerAppendInfo.checkSequence (Kafka 4.x) accepts any sequence when it holds no epoch
            // for the producer ("possibly because all producer records have been deleted due to
            // retention or the DeleteRecords API"); UNKNOWN_PRODUCER_ID is no longer returned.
            ProducerEntry.Batch b = new ProducerEntry.Batch(firstSeq, lastSeq, first, first + lastDelta, appendTime);
            if (updates == null) {
                updates = new LinkedHashMap<>();
            }
            updates.put(pid, latest == null ? ProducerEntry.first(pid, epoch, b) : latest.with(epoch, b));
        }
        checked = updates;
        return null;
    }

    /**
     * Makes what the last {@link #check} (which returned null) found the state, recording in
     * {@code b} what it replaced, for rollback. Nothing to do for batches without a producer id.
     */
    void applyChecked(CachedBatch b) {
        Map<Long, ProducerEntry> updates = checked;
        checked = null;
        if (updates != null) {
            apply(updates, b);
        }
    }

    private static void checkEpochAndSequence(TopicPartition tp, long pid, ProducerEntry latest, short epoch,
            int firstSeq, long offset) {
        if (epoch < latest.epoch()) {
            throw new ShaleException(ErrorKind.INVALID_PRODUCER_EPOCH, "epoch " + epoch + " of producer " + pid
                    + " at offset " + offset + " in " + tp + " is older than its newest epoch " + latest.epoch());
        }
        if (epoch != latest.epoch()) {
            if (firstSeq != 0) {
                throw new ShaleException(ErrorKind.OUT_OF_ORDER_SEQUENCE, "new epoch " + epoch + " of producer " + pid
                        + " in " + tp + " starts at sequence " + firstSeq + " instead of 0 (previous epoch "
                        + latest.epoch() + ")");
            }
            return;
        }
        int lastSeq = latest.last().lastSeq();
        boolean inSequence = firstSeq == lastSeq + 1L || (firstSeq == 0 && lastSeq == Integer.MAX_VALUE);
        if (!inSequence) {
            throw new ShaleException(ErrorKind.OUT_OF_ORDER_SEQUENCE, "out of order sequence of producer " + pid
                    + " (epoch " + epoch + ") in " + tp + ": batch starts at sequence " + firstSeq
                    + ", the last appended ended at " + lastSeq);
        }
    }

    /** Makes {@code updates} the state; records in {@code b} what they replaced, for rollback. */
    private void apply(Map<Long, ProducerEntry> updates, CachedBatch b) {
        long[] ids = new long[updates.size()];
        ProducerEntry[] before = new ProducerEntry[ids.length];
        int i = 0;
        for (Map.Entry<Long, ProducerEntry> e : updates.entrySet()) {
            ids[i] = e.getKey();
            before[i] = entries.put(e.getKey(), e.getValue());
            i++;
        }
        b.producerIds = ids;
        b.producersBefore = before;
    }

    /**
     * Recovery: applies the batches of {@code b} (offsets stamped, accepted when first appended)
     * without checks, recording what they replace. A batch the state already holds is not added again.
     */
    void replay(CachedBatch b) {
        Map<Long, ProducerEntry> updates = null;
        ByteBuffer data = b.data;
        int limit = data.capacity();
        for (int pos = 0; pos < limit; pos += size(data, pos)) {
            if (!tracked(data, pos)) {
                continue;
            }
            if (updates == null) {
                updates = new LinkedHashMap<>();
            }
            long pid = data.getLong(pos + RecordBatchLayout.PRODUCER_ID_OFFSET);
            ProducerEntry latest = updates.containsKey(pid) ? updates.get(pid) : entries.get(pid);
            ProducerEntry next = next(latest, data, pos, b.logAppendTime);
            if (next != latest) {
                updates.put(pid, next);
            }
        }
        if (updates != null && !updates.isEmpty()) {
            apply(updates, b);
        }
    }

    /**
     * The entry after the batch at {@code pos} of {@code data} (offsets stamped), or {@code latest}
     * itself if it already holds that batch. Used to rebuild state from stored batches.
     */
    static ProducerEntry next(ProducerEntry latest, ByteBuffer data, int pos, long appendTime) {
        long pid = data.getLong(pos + RecordBatchLayout.PRODUCER_ID_OFFSET);
        short epoch = data.getShort(pos + RecordBatchLayout.PRODUCER_EPOCH_OFFSET);
        int firstSeq = data.getInt(pos + RecordBatchLayout.BASE_SEQUENCE_OFFSET);
        int lastDelta = data.getInt(pos + RecordBatchLayout.LAST_OFFSET_DELTA_OFFSET);
        long first = data.getLong(pos + RecordBatchLayout.BASE_OFFSET_OFFSET);
        if (epoch < 0 || firstSeq < 0) {
            return latest; // not checked by an older version of this store; nothing to remember
        }
        int lastSeq = lastSequence(firstSeq, lastDelta);
        if (latest != null) {
            ProducerEntry.Batch same = latest.find(epoch, firstSeq, lastSeq);
            if (same != null && same.firstOffset() == first) {
                return latest;
            }
            if (epoch < latest.epoch()) {
                return latest; // cannot have been accepted after the newer epoch; keep the newer state
            }
        }
        ProducerEntry.Batch b = new ProducerEntry.Batch(firstSeq, lastSeq, first, first + lastDelta, appendTime);
        return latest == null ? ProducerEntry.first(pid, epoch, b) : latest.with(epoch, b);
    }

    /** Applies every tracked batch of {@code data} (offsets stamped) to {@code state}; returns the ids changed. */
    static List<Long> advance(Map<Long, ProducerEntry> state, ByteBuffer data, long appendTime) {
        List<Long> changed = null;
        int limit = data.capacity();
        for (int pos = 0; pos < limit; pos += size(data, pos)) {
            if (!tracked(data, pos)) {
                continue;
            }
            long pid = data.getLong(pos + RecordBatchLayout.PRODUCER_ID_OFFSET);
            ProducerEntry latest = state.get(pid);
            ProducerEntry next = next(latest, data, pos, appendTime);
            if (next != latest) {
                state.put(pid, next);
                if (changed == null) {
                    changed = new ArrayList<>(2);
                }
                changed.add(pid);
            }
        }
        return changed == null ? List.of() : changed;
    }

    /** Rolls back the changes {@code b} made (the caller rolls back newer appends first). */
    void undo(CachedBatch b) {
        long[] ids = b.producerIds;
        if (ids == null) {
            return;
        }
        ProducerEntry[] before = b.producersBefore;
        for (int i = ids.length - 1; i >= 0; i--) {
            if (before[i] == null) {
                entries.remove(ids[i]);
            } else {
                entries.put(ids[i], before[i]);
            }
        }
        b.producerIds = null;
        b.producersBefore = null;
    }

    /**
     * Forgets producers whose newest batch was appended at least {@code expirationMs} before
     * {@code nowMs} ({@code producer.id.expiration.ms}) and ends below
     * {@code acknowledgedEnd} (a pending append may still be rolled back onto it). Returns how many.
     */
    int expire(long nowMs, long expirationMs, long acknowledgedEnd) {
        int n = 0;
        for (Iterator<ProducerEntry> it = entries.values().iterator(); it.hasNext(); ) {
            ProducerEntry e = it.next();
            if (isExpired(e, nowMs, expirationMs) && e.last().lastOffset() < acknowledgedEnd) {
                it.remove();
                n++;
            }
        }
        return n;
    }

    /**
     * Kafka's rule, {@code now - lastTimestamp >= producer.id.expiration.ms}, except that the
     * timestamp is when this store appended the batch (its clock) where Kafka takes the batch's max
     * timestamp: a producer writing old CreateTime timestamps (a mirror replaying history) would
     * otherwise lose duplicate detection as soon as it is checked.
     */
    static boolean isExpired(ProducerEntry e, long nowMs, long expirationMs) {
        return nowMs - e.lastTimestamp() >= expirationMs;
    }
}
