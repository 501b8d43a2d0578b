package io.shale.benchmarks.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One entry of JMH's JSON result file: one benchmark method, one mode, one parameter combination.
 *
 * @param benchmark the fully qualified method name ({@code io.shale...Class.method})
 * @param mode JMH's short mode name: {@code thrpt}, {@code avgt}, {@code sample}, {@code ss}
 * @param threads worker threads
 * @param params the {@code @Param} values, in file order
 * @param primary the benchmark's score
 * @param secondary secondary metrics by name (aux counters such as {@code bytes}, profiler output
 *     such as {@code gc.alloc.rate.norm}, percentiles {@code p0.99} in sample mode)
 * @param settings how the run was configured
 */
record JmhResult(String benchmark, String mode, int threads, Map<String, String> params, Metric primary,
        Map<String, Metric> secondary, Settings settings) {

    /** A score with its unit; error is NaN when JMH could not compute one. */
    record Metric(double score, double error, String unit, Map<String, Double> percentiles) {
    }

    /** The run configuration JMH records with each result. */
    record Settings(String jdkVersion, String vmName, String vmVersion, List<String> jvmArgs, int warmupIterations,
            String warmupTime, int measurementIterations, String measurementTime, int forks) {

        String summary() {
            return "warmup " + warmupIterations + " x " + warmupTime + ", measurement " + measurementIterations
                    + " x " + measurementTime + ", forks " + forks;
        }
    }

    /** Every result in a JMH JSON file (a top-level array). */
    static List<JmhResult> parseAll(String json) {
        Object root = Json.parse(json);
        if (!(root instanceof List<?> list)) {
            throw new IllegalArgumentException("JMH results: expected a JSON array at the top");
        }
        List<JmhResult> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            try {
                out.add(of(map(list.get(i), "result")));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("JMH results: entry " + i + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    private static JmhResult of(Map<String, Object> m) {
        Map<String, String> params = new LinkedHashMap<>();
        Object p = m.get("params");
        if (p != null) {
            map(p, "params").forEach((k, v) -> params.put(k, String.valueOf(v)));
        }
        Map<String, Metric> secondary = new LinkedHashMap<>();
        Object s = m.get("secondaryMetrics");
        if (s != null) {
            map(s, "secondaryMetrics").forEach((k, v) -> secondary.put(k, metric(map(v, k))));
        }
        List<String> jvmArgs = new ArrayList<>();
        if (m.get("jvmArgs") instanceof List<?> args) {
            args.forEach(a -> jvmArgs.add(String.valueOf(a)));
        }
        Settings settings = new Settings(str(m, "jdkVersion"), str(m, "vmName"), str(m, "vmVersion"), jvmArgs,
                integer(m, "warmupIterations"), str(m, "warmupTime"), integer(m, "measurementIterations"),
                str(m, "measurementTime"), integer(m, "forks"));
        return new JmhResult(required(m, "benchmark"), required(m, "mode"), integer(m, "threads"), params,
                metric(map(m.get("primaryMetric"), "primaryMetric")), secondary, settings);
    }

    private static Metric metric(Map<String, Object> m) {
        Map<String, Double> percentiles = new LinkedHashMap<>();
        Object p = m.get("scorePercentiles");
        if (p != null) {
            map(p, "scorePercentiles").forEach((k, v) -> percentiles.put(k, number(v)));
        }
        return new Metric(number(m.get("score")), number(m.get("scoreError")), required(m, "scoreUnit"), percentiles);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o, String what) {
        if (!(o instanceof Map)) {
            throw new IllegalArgumentException(what + " is not an object");
        }
        return (Map<String, Object>) o;
    }

    /** JMH writes NaN and infinities as strings. */
    private static double number(Object o) {
        if (o instanceof Double d) {
            return d;
        }
        if (o instanceof String s) {
            try {
                return Double.parseDouble(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a number: " + s);
            }
        }
        throw new IllegalArgumentException("not a number: " + o);
    }

    private static String required(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof String s)) {
            throw new IllegalArgumentException("missing string '" + key + "'");
        }
        return s;
    }

    private static String str(Map<String, Object> m, String key) {
        return Objects.toString(m.get(key), "?");
    }

    private static int integer(Map<String, Object> m, String key) {
        Object v = m.get(key);
        return v instanceof Double d ? d.intValue() : 0;
    }
}
