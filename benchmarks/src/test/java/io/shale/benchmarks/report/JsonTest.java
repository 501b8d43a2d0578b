package io.shale.benchmarks.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void parseShouldReadNestedObjectsArraysAndScalars() {
        Object v = Json.parse("{ \"a\" : [1, -2.5e3, true, false, null], \"b\" : { \"c\" : \"x\" } }");

        assertThat(v).isInstanceOf(Map.class);
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) v;
        assertThat(m.keySet()).containsExactly("a", "b");
        @SuppressWarnings("unchecked")
        List<Object> a = (List<Object>) m.get("a");
        assertThat(a).containsExactly(1.0, -2500.0, true, false, null);
        assertThat(((Map<?, ?>) m.get("b")).get("c")).isEqualTo("x");
    }

    @Test
    void parseShouldDecodeEscapes() {
        assertThat(Json.parse("\"q\\\" b\\\\ s\\/ n\\n t\\t u\\u00e9\"")).isEqualTo("q\" b\\ s/ n\n t\t u\u00e9");
    }

    @Test
    void parseShouldKeepNanAsTheStringJmhWrites() {
        assertThat(Json.parse("{\"scoreError\" : \"NaN\"}")).isEqualTo(Map.of("scoreError", "NaN"));
    }

    @Test
    void parseShouldRejectTruncatedInput() {
        assertThatThrownBy(() -> Json.parse("[{\"a\": 1}, {\"b\": "))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("end of input");
        assertThatThrownBy(() -> Json.parse("\"unterminated"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Json.parse("\"\\u12\""))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void parseShouldRejectTrailingCommasAndGarbage() {
        assertThatThrownBy(() -> Json.parse("[1, 2, ]")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Json.parse("{\"a\": 1,}")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Json.parse("[1] x")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("after the value");
        assertThatThrownBy(() -> Json.parse("1.2.3")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bad number");
    }

    @Test
    void parseShouldRefuseDeepNestingInsteadOfOverflowingTheStack() {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);

        assertThatThrownBy(() -> Json.parse(deep))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nesting deeper");
    }

    @Test
    void parseShouldAcceptNestingUpToTheLimit() {
        String deep = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);

        assertThat(Json.parse(deep)).isInstanceOf(List.class);
    }
}
