package io.shale.benchmarks.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class UnitsTest {

    @Test
    void perSecondShouldScaleEveryJmhRateUnit() {
        assertThat(Units.perSecond(2, "ops/ns")).isCloseTo(2e9, within(1.0));
        assertThat(Units.perSecond(2, "ops/us")).isCloseTo(2e6, within(1e-6));
        assertThat(Units.perSecond(2, "ops/ms")).isCloseTo(2e3, within(1e-9));
        assertThat(Units.perSecond(2, "ops/s")).isEqualTo(2.0);
        assertThat(Units.perSecond(120, "ops/min")).isCloseTo(2.0, within(1e-12));
    }

    @Test
    void microsShouldScaleEveryJmhTimeUnit() {
        assertThat(Units.micros(1500, "ns/op")).isCloseTo(1.5, within(1e-12));
        assertThat(Units.micros(1.5, "us/op")).isCloseTo(1.5, within(1e-12));
        assertThat(Units.micros(1.5, "ms/op")).isCloseTo(1500, within(1e-9));
        assertThat(Units.micros(1.5, "s/op")).isCloseTo(1.5e6, within(1e-6));
    }

    @Test
    void unitsShouldRejectWhatTheyDoNotKnow() {
        assertThatThrownBy(() -> Units.perSecond(1, "us/op")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Units.micros(1, "ops/us")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Units.micros(1, "fortnights/op")).isInstanceOf(IllegalArgumentException.class);
    }
}
