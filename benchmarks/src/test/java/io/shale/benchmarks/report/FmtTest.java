package io.shale.benchmarks.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

class FmtTest {

    @Test
    void numShouldKeepThreeSignificantFiguresOrTheWholeNumber() {
        assertThat(Fmt.num(1460.4)).isEqualTo("1,460");
        assertThat(Fmt.num(27.166)).isEqualTo("27.2");
        assertThat(Fmt.num(4.066)).isEqualTo("4.07");
        assertThat(Fmt.num(0.6114)).isEqualTo("0.611");
        assertThat(Fmt.num(Double.NaN)).isEqualTo(Fmt.NONE);
        assertThat(Fmt.num(OptionalDouble.empty())).isEqualTo(Fmt.NONE);
    }

    @Test
    void ratioShouldNotRoundSmallRatiosToZero() {
        assertThat(Fmt.ratio(45.04)).isEqualTo("45.0×");
        assertThat(Fmt.ratio(1.333)).isEqualTo("1.33×");
        assertThat(Fmt.ratio(0.00288)).isEqualTo("0.0029×");
        assertThat(Fmt.ratio(OptionalDouble.of(1), OptionalDouble.of(0))).isEqualTo(Fmt.NONE);
    }
}
