package io.shale.log.internal.manifest;

import java.util.Arrays;

/**
 * What the manifest knows of one partition: its log start offset, the end of its committed
 * data, and the runs of its batches in data objects, sorted by offset.
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
    private volatile RangeRef[] ranges = NO_RANGES;

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

    /** The runs in offset order (a snapshot array; do not modify). */
    public RangeRef[] ranges() {
        return ranges;
    }

    /** The run holding {@code offset}, or null. */
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
        return null;
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
    }

    void setEndOffset(long offset) {
        this.endOffset = offset;
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
