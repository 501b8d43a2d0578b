package io.shale.benchmarks.tools;

import java.util.Arrays;

/**
 * Every recorded duration, kept exactly (the tools record at most a few million), so that
 * percentiles are exact nearest-rank values rather than bucket bounds. Thread-safe: completions
 * of appends and store calls record from the store's own threads.
 */
final class Latencies {
    private long[] nanos = new long[4096];
    private int count;

    synchronized void record(long durationNanos) {
        if (count == nanos.length) {
            nanos = Arrays.copyOf(nanos, nanos.length * 2);
        }
        nanos[count++] = durationNanos;
    }

    synchronized void clear() {
        count = 0;
    }

    synchronized int count() {
        return count;
    }

    synchronized Summary summary() {
        long[] sorted = Arrays.copyOf(nanos, count);
        Arrays.sort(sorted);
        return new Summary(sorted);
    }

    /** Percentiles of a sorted copy of the recorded durations. */
    static final class Summary {
        private final long[] sorted;

        Summary(long[] sorted) {
            this.sorted = sorted;
        }

        int count() {
            return sorted.length;
        }

        /**
         * The nearest-rank {@code p}-quantile in milliseconds ({@code 0 < p <= 1}): the smallest
         * recorded value with at least {@code p * count} values at or below it; NaN if nothing was
         * recorded.
         */
        double millis(double p) {
            if (sorted.length == 0) {
                return Double.NaN;
            }
            int rank = (int) Math.ceil(p * sorted.length);
            return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)] / 1e6;
        }

        double maxMillis() {
            return sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1] / 1e6;
        }

        double meanMillis() {
            if (sorted.length == 0) {
                return Double.NaN;
            }
            double sum = 0;
            for (long v : sorted) {
                sum += v;
            }
            return sum / sorted.length / 1e6;
        }
    }
}
