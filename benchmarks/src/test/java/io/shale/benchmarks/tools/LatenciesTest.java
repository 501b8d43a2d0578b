package io.shale.benchmarks.tools;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LatenciesTest {

    @Test
    void percentilesShouldBeNearestRankValuesInMilliseconds() {
        Latencies l = new Latencies();
        // 1..10,000 ms, recorded out of order, past the initial capacity
        for (int i = 10_000; i >= 1; i--) {
            l.record(i * 1_000_000L);
        }
        Latencies.Summary s = l.summary();
        assertThat(s.count()).isEqualTo(10_000);
        assertThat(s.millis(0.5)).isEqualTo(5_000);
        assertThat(s.millis(0.99)).isEqualTo(9_900);
        assertThat(s.millis(0.999)).isEqualTo(9_990);
        assertThat(s.millis(1.0)).isEqualTo(10_000);
        assertThat(s.maxMillis()).isEqualTo(10_000);
        assertThat(s.meanMillis()).isEqualTo(5_000.5);
    }

    @Test
    void aSingleValueShouldBeEveryPercentileAndNothingShouldBeNaN() {
        Latencies l = new Latencies();
        assertThat(l.summary().millis(0.99)).isNaN();
        l.record(3_000_000);
        assertThat(l.summary().millis(0.001)).isEqualTo(3.0);
        assertThat(l.summary().millis(0.999)).isEqualTo(3.0);
        l.clear();
        assertThat(l.summary().count()).isZero();
    }
}
