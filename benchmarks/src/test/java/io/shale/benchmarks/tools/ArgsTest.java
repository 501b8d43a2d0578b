package io.shale.benchmarks.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ArgsTest {

    private static Args parse(String... args) {
        return Args.parse(args, Set.of("bytes", "partitions", "stores"), Set.of("smoke"));
    }

    @Test
    void sizesShouldAcceptBinarySuffixesInEitherCase() {
        assertThat(Args.parseBytes("x", "256m")).isEqualTo(256L * 1024 * 1024);
        assertThat(Args.parseBytes("x", "1G")).isEqualTo(1L << 30);
        assertThat(Args.parseBytes("x", "16KiB")).isEqualTo(16 * 1024);
        assertThat(Args.parseBytes("x", "8MB")).isEqualTo(8L << 20);
        assertThat(Args.parseBytes("x", "4096")).isEqualTo(4096);
    }

    @Test
    void sizesShouldRejectWhatIsNotASize() {
        assertThatThrownBy(() -> Args.parseBytes("--bytes", "lots")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--bytes").hasMessageContaining("lots");
        assertThatThrownBy(() -> Args.parseBytes("--bytes", "-1m")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Args.parseBytes("--bytes", "99999999999g")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void optionsFlagsAndListsShouldBeReadWithDefaultsForWhatIsMissing() {
        Args a = parse("--smoke", "--partitions", "1,100,10_000", "--stores", "S3");
        assertThat(a.flag("smoke")).isTrue();
        assertThat(a.integers("partitions", List.of())).containsExactly(1, 100, 10_000);
        assertThat(a.words("stores", List.of("local"), Set.of("local", "s3"))).containsExactly("s3");
        assertThat(a.bytes("bytes", 7)).isEqualTo(7);
        assertThat(parse().flag("smoke")).isFalse();
    }

    @Test
    void unknownOptionsMissingValuesAndBadWordsShouldBeRejected() {
        assertThatThrownBy(() -> parse("--size", "1")).hasMessageContaining("unknown option --size");
        assertThatThrownBy(() -> parse("--bytes")).hasMessageContaining("missing value after --bytes");
        assertThatThrownBy(() -> parse("positional")).hasMessageContaining("unexpected argument");
        assertThatThrownBy(() -> parse("--stores", "local,gcs").words("stores", List.of(), Set.of("local", "s3")))
                .hasMessageContaining("gcs");
        assertThatThrownBy(() -> parse("--partitions", "1,many").integers("partitions", List.of()))
                .hasMessageContaining("1,many");
    }
}
