package io.shale.log.wal;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A lock-free histogram of durations in microseconds with power-of-two buckets: bucket {@code i}
 * counts values in {@code [2^(i-1), 2^i)} (bucket 0 counts 0). Percentiles are reported as the
 * upper bound of the bucket that holds them, so they over-estimate by at most 2x. Thread-safe.
 */
final class LatencyHistogram {
    private final AtomicLongArray buckets = new AtomicLongArray(64);
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong max = new AtomicLong();
    private volatile long last;

    void record(long micros) {
        long v = Math.max(0, micros);
        buckets.incrementAndGet(64 - Long.numberOfLeadingZeros(v));
        count.incrementAndGet();
        max.accumulateAndGet(v, Math::max);
        last = v;
    }

    long count() {
        return count.get();
    }

    long max() {
        return max.get();
    }

    long last() {
        return last;
    }

    /** The upper bound of the bucket holding the {@code p}-quantile (0 &lt; p &lt;= 1), or 0 if empty. */
    long percentile(double p) {
        long n = count.get();
        if (n == 0) {
            return 0;
        }
        long rank = Math.max(1, (long) Math.ceil(p * n));
        long seen = 0;
        for (int i = 0; i < 64; i++) {
            seen += buckets.get(i);
            if (seen >= rank) {
                return Math.min(i == 0 ? 0 : (1L << i) - 1, max.get());
            }
        }
        return max.get();
    }
}
