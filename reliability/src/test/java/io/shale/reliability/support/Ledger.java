package io.shale.reliability.support;

import io.shale.log.AppendResult;
import io.shale.log.TopicPartition;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What producers tried and what the store acknowledged: every attempted record id, and for every
 * acknowledged append the offset each of its ids got. Thread-safe.
 */
public final class Ledger {
    private final Set<Long> attempted = ConcurrentHashMap.newKeySet();
    private final Map<TopicPartition, NavigableMap<Long, Long>> acked = new ConcurrentHashMap<>();
    public final AtomicLong ackedRecords = new AtomicLong();
    public final AtomicLong failedAppends = new AtomicLong();

    /** Call before handing the records to the store. */
    public void attempt(long[] ids) {
        for (long id : ids) {
            attempted.add(id);
        }
    }

    /** Call when the append of {@code ids} (in order) was acknowledged with {@code r}. */
    public void ack(TopicPartition tp, long[] ids, AppendResult r) {
        if (r.lastOffset() - r.baseOffset() + 1 != ids.length) {
            throw new AssertionError(tp + ": append of " + ids.length + " records was acknowledged with offsets "
                    + r.baseOffset() + ".." + r.lastOffset());
        }
        ack(tp, r.baseOffset(), ids);
    }

    /** Records that offsets {@code base, base+1, ...} hold {@code ids}. */
    public void ack(TopicPartition tp, long base, long[] ids) {
        NavigableMap<Long, Long> m = acked.computeIfAbsent(tp, k -> new ConcurrentSkipListMap<>());
        for (int i = 0; i < ids.length; i++) {
            Long prev = m.putIfAbsent(base + i, ids[i]);
            if (prev != null && prev != ids[i]) {
                throw new AssertionError(tp + " offset " + (base + i) + " was acknowledged twice: id " + Long.toHexString(prev)
                        + " and id " + Long.toHexString(ids[i]));
            }
        }
        ackedRecords.addAndGet(ids.length);
    }

    public boolean wasAttempted(long id) {
        return attempted.contains(id);
    }

    public void markAttempted(long id) {
        attempted.add(id);
    }

    /** Acknowledged offset to id, per partition (live views). */
    public Map<TopicPartition, NavigableMap<Long, Long>> acked() {
        return acked;
    }

    public NavigableMap<Long, Long> acked(TopicPartition tp) {
        return acked.computeIfAbsent(tp, k -> new ConcurrentSkipListMap<>());
    }
}
