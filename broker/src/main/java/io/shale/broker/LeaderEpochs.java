package io.shale.broker;

import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.TopicPartition;
import io.shale.log.record.RecordBatch;
import org.apache.kafka.common.protocol.Errors;

/**
 * Leader epochs as Kafka clients see them. Every partition's leader epoch is the store's
 * ({@link LogStore#leaderEpoch()}: its writer epoch, higher after every reopen; in a broker cluster
 * the partition's own epoch, higher after every claim, see {@link Placement#epoch}), and every stored
 * batch carries the epoch of the writer that appended it, so epochs never decrease along a log.
 * The end offset of an epoch is found from the batches' headers by binary search (a few reads of
 * one batch each), not from a leader-epoch file of its own.
 */
final class LeaderEpochs {
    /** Kafka's "no epoch" and "no offset" ({@code UNDEFINED_EPOCH}, {@code UNDEFINED_EPOCH_OFFSET}). */
    static final int UNDEFINED_EPOCH = -1;
    static final long UNDEFINED_OFFSET = -1;

    private LeaderEpochs() {
    }

    /**
     * Kafka's check of the leader epoch a client believes current: none stated (-1) passes; older
     * than the leader's is {@code FENCED_LEADER_EPOCH} (the client's metadata is stale); newer is
     * {@code UNKNOWN_LEADER_EPOCH} (this broker's is).
     */
    static Errors check(int clientCurrentEpoch, int leaderEpoch) {
        if (clientCurrentEpoch == UNDEFINED_EPOCH) {
            return Errors.NONE;
        }
        if (clientCurrentEpoch < leaderEpoch) {
            return Errors.FENCED_LEADER_EPOCH;
        }
        if (clientCurrentEpoch > leaderEpoch) {
            return Errors.UNKNOWN_LEADER_EPOCH;
        }
        return Errors.NONE;
    }

    /** An epoch and the offset where it ended (OffsetForLeaderEpoch's answer). */
    record EpochEnd(int epoch, long endOffset) {
    }

    /**
     * Kafka's answer to OffsetForLeaderEpoch for {@code requested} (the leader's
     * {@code LeaderEpochFileCache.endOffsetFor}): the current epoch ends at the high watermark; an
     * older one at the first offset written under a later epoch, reported with the largest epoch
     * in the log not above the requested one (or the requested epoch itself when the log holds no
     * batch of an epoch that old); an undefined or future epoch gets no epoch and no offset.
     *
     * @throws io.shale.log.ShaleException as {@link LogStore#read} (e.g. the partition was deleted)
     */
    static EpochEnd endOffsetFor(LogStore store, TopicPartition tp, int requested, int current) {
        if (requested < 0 || requested > current) {
            return new EpochEnd(UNDEFINED_EPOCH, UNDEFINED_OFFSET);
        }
        long hw = store.highWatermark(tp);
        if (requested == current) {
            return new EpochEnd(current, hw);
        }
        long start = store.logStartOffset(tp);
        long end = firstOffsetAfterEpoch(store, tp, requested, start, hw);
        int floor = UNDEFINED_EPOCH;
        if (end > start) {
            FetchResult r = store.read(tp, end - 1, 1);
            if (!r.batches().isEmpty() && r.batches().get(0).baseOffset() <= end - 1) {
                floor = r.batches().get(0).partitionLeaderEpoch();
            }
        }
        return new EpochEnd(floor >= 0 && floor <= requested ? floor : requested, end);
    }

    /**
     * The first offset in [start, hw) whose batch (the first batch ending at or after it) has an
     * epoch above {@code epoch}, or {@code hw} if none has. Epochs do not decrease along the log, so
     * this predicate is monotone and a binary search over offsets finds it in O(log n) reads.
     */
    static long firstOffsetAfterEpoch(LogStore store, TopicPartition tp, int epoch, long start, long hw) {
        long lo = start;
        long hi = hw;
        while (lo < hi) {
            long mid = lo + (hi - lo) / 2;
            FetchResult r = store.read(tp, mid, 1);
            if (r.batches().isEmpty()) {
                hi = mid; // no record from mid to the high watermark (compacted away)
                continue;
            }
            RecordBatch b = r.batches().get(0);
            if (b.partitionLeaderEpoch() > epoch) {
                hi = Math.max(lo, Math.min(mid, b.baseOffset()));
            } else {
                lo = b.lastOffset() + 1;
            }
        }
        return Math.min(lo, hw);
    }

    /** The epoch of the batch holding {@code offset}, or -1 if unknown (no such batch, or an unstamped one). */
    static int epochAt(LogStore store, TopicPartition tp, long offset, int current) {
        if (offset >= store.highWatermark(tp)) {
            return current;
        }
        try {
            FetchResult r = store.read(tp, offset, 1);
            return r.batches().isEmpty() ? current : Math.max(UNDEFINED_EPOCH, r.batches().get(0).partitionLeaderEpoch());
        } catch (RuntimeException e) {
            return UNDEFINED_EPOCH;
        }
    }
}
