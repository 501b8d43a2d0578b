package io.shale.benchmarks.tools;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TrafficTest {

    @Test
    void aSampleShouldSpreadEvenlyOverThePartitionsAndTakeAllWhenFewer() {
        int[] s = Traffic.sample(10_000, 100);
        assertThat(s).hasSize(100).startsWith(0, 100, 200).endsWith(9_900);
        assertThat(Traffic.sample(5, 100)).containsExactly(0, 1, 2, 3, 4);
        assertThat(Traffic.sample(7, 3)).containsExactly(0, 2, 4);
    }
}
