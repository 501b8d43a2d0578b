package io.shale.log.internal.manifest;

import io.shale.log.AbortedTransaction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What the manifest knows of one partition: its log start offset, the end of its committed
 * data, how far key-based compaction has cleaned it, and the runs of its batches in data objects,
 * sorted by offset. Runs of a compacted partition may leave gaps between them (offsets whose
 * records were all removed), and a run's batches need not fill its offset range.
 *
 * <p>Written only by the thread applying manifest changes (under the catalog's lock); read
 * lock-free by readers through the volatile fields, each change publishing a new array.
 */
public final class PartitionMeta {
    private static final RangeRef[] NO_RANGES = new RangeRef[0];

    private final int id;
    private final String topic;
    private final int index;
    private volatile long logStartOffset;
    private volatile long endOffset;
    private volatile long cleanedOffset;
    private volatile RangeRef[] ranges = NO_RANGES;
    private volatile Map<Long, ProducerEntry> producers = Map.of();
    private volatile Map<Long, Long> ongoingTxns = Map.of();
    private volatile List<AbortedTransaction> abortedTxns = List.of();

    public PartitionMeta(int id, String topic, int index) {
        this.id = id;
        this.topic = topic;
        this.index = index;
    }

    public int id() {
        return id;
    }

    public String topic() {
        return topic;
    }

    public int index() {
        return index;
    }

    public long logStartOffset() {
        return logStartOffset;
    }

    /** One past the last offset committed to an object (0 if none). Never decreases. */
    public long endOffset() {
        return endOffset;
    }

    /**
     * Key-based compaction: offsets below this were cleaned at least once (0 if never). May be below
     * the log start offset.
     */
    public long cleanedOffset() {
        return cleanedOffset;
    }

    /**
     * Idempotent producers: each producer's state as of {@link #endOffset()} (only batches committed
     * in objects), by producer id. An unmodifiable snapshot map; empty if no idempotent producer
     * wrote to the partition (or all expired).
     */
    public Map<Long, ProducerEntry> producers() {
        return producers;
    }

    /**
     * Transactions: the open transactions as of {@link #endOffset()}, producer id to the offset of
     * the transaction's first batch. An unmodifiable snapshot map.
     */
    public Map<Long, Long> ongoingTransactions() {
        return ongoingTxns;
    }

    /**
     * Transactions: the aborted transactions whose ABORT marker is committed and not wholly below
     * the log start offset, in marker order. An unmodifiable snapshot list.
     */
    public List<AbortedTransaction> abortedTransactions() {
        return abortedTxns;
    }

    /** The runs in offset order (a snapshot array; do not modify). */
    public RangeRef[] ranges() {
        return ranges;
    }

    /**
     * The run holding {@code offset}, or null.
     *
     * <p>Binary search first. While a delta that replaces runs is being applied (compaction adds
     * the new runs, then removes the old ones), runs overlap for a moment and the search can miss;
     * so a miss is confirmed by a scan, which also serves reads into the gaps of a compacted
     * partition (rare, and bounded by the partition's run count).
     */
    public RangeRef find(long offset) {
        RangeRef[] rs = ranges;
        int lo = 0;
        int hi = rs.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            RangeRef r = rs[mid];
            if (r.nextOffset() <= offset) {
                lo = mid + 1;
            } else if (r.baseOffset() > offset) {
                hi = mid - 1;
            } else {
                return r;
            }
        }
        for (RangeRef r : rs) {
            if (r.contains(offset)) {
                return r;
            }
        }
        return null;
    }

    /**
     * For an offset no run holds (a gap left by key-based compaction): the first offset above it
     * that a run holds, or -1 if no run starts above it.
     */
    public long nextHeldOffset(long offset) {
        long best = -1;
        for (RangeRef r : ranges) {
            if (r.contains(offset)) {
                return offset;
            }
            if (r.baseOffset() > offset && (best < 0 || r.baseOffset() < best)) {
                best = r.baseOffset();
            }
        }
        return best;
    }

    /** The first run whose data ends after {@code offset} (holds it or starts after it), or null. */
    public RangeRef findAtOrAfter(long offset) {
        RangeRef[] rs = ranges;
        int lo = 0;
        int hi = rs.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (rs[mid].nextOffset() <= offset) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo < rs.length ? rs[lo] : null;
    }

    /** Total bytes of the runs. */
    public long storedBytes() {
        long total = 0;
        for (RangeRef r : ranges) {
            total += r.length();
        }
        return total;
    }

    // ------------------------------------------------------------ mutation (manifest thread only)

    void setLogStartOffset(long offset) {
        this.logStartOffset = offset;
        List<AbortedTransaction> aborted = abortedTxns;
        if (!aborted.isEmpty() && aborted.get(0).lastOffset() < offset) {
            List<AbortedTransaction> keep = new ArrayList<>(aborted.size());
            for (AbortedTransaction t : aborted) {
                if (t.lastOffset() >= offset) {
                    keep.add(t);
                }
            }
            this.abortedTxns = List.copyOf(keep);
        }
    }

    void setTransactions(Map<Long, Long> ongoing, List<AbortedTransaction> aborted) {
        this.ongoingTxns = Map.copyOf(ongoing);
        List<AbortedTransaction> keep = new ArrayList<>(aborted.size());
        for (AbortedTransaction t : aborted) {
            if (t.lastOffset() >= logStartOffset) {
                keep.add(t);
            }
        }
        this.abortedTxns = List.copyOf(keep);
    }

    void setEndOffset(long offset) {
        this.endOffset = offset;
    }

    void setCleanedOffset(long offset) {
        this.cleanedOffset = offset;
    }

    void setProducers(Map<Long, ProducerEntry> newProducers) {
        this.producers = newProducers.isEmpty() ? Map.of() : java.util.Collections.unmodifiableMap(newProducers);
    }

    void setRanges(RangeRef[] newRanges) {
        this.ranges = newRanges.length == 0 ? NO_RANGES : newRanges;
    }

    void addRange(RangeRef r) {
        RangeRef[] rs = ranges;
        RangeRef[] out = Arrays.copyOf(rs, rs.length + 1);
        int i = rs.length;
        while (i > 0 && out[i - 1].baseOffset() > r.baseOffset()) {
            out[i] = out[i - 1];
            i--;
        }
        out[i] = r;
        ranges = out;
    }

    @Override
    public String toString() {
        return topic + "-" + index + "(id " + id + ", start " + logStartOffset + ", end " + endOffset + ", "
                + ranges.length + " ranges)";
    }
}
