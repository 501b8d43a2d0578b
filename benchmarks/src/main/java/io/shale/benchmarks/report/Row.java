package io.shale.benchmarks.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.stream.Collectors;

/**
 * One benchmark with one parameter combination: its Throughput result (MB/s, records/s, ops/s,
 * allocation) and its SampleTime result (latency percentiles), whichever were run.
 */
final class Row {

    /** Which side of the comparison a benchmark is on, from its package. */
    enum Category {
        LIMIT("limit"), PEER("peer"), SHALE("Shale"), OTHER("other");

        final String label;

        Category(String label) {
            this.label = label;
        }
    }

    final String benchmark;
    final Map<String, String> params;
    int threads;
    JmhResult throughput;
    JmhResult sample;

    Row(String benchmark, Map<String, String> params) {
        this.benchmark = benchmark;
        this.params = params;
    }

    /** Merges results that differ only by mode into rows, keeping the file's order. */
    static List<Row> merge(List<JmhResult> results) {
        Map<String, Row> rows = new LinkedHashMap<>();
        for (JmhResult r : results) {
            String key = r.benchmark() + " " + r.params();
            Row row = rows.computeIfAbsent(key, k -> new Row(r.benchmark(), r.params()));
            row.threads = Math.max(row.threads, r.threads());
            switch (r.mode()) {
                case "thrpt" -> row.throughput = r;
                case "sample" -> row.sample = r;
                default -> {
                    // avgt and ss are not used by this suite; their rows keep what they can show
                }
            }
        }
        return new ArrayList<>(rows.values());
    }

    /** {@code Class.method}. */
    String label() {
        String[] parts = benchmark.split("\\.");
        return parts.length < 2 ? benchmark : parts[parts.length - 2] + "." + parts[parts.length - 1];
    }

    String className() {
        String[] parts = benchmark.split("\\.");
        return parts.length < 2 ? benchmark : parts[parts.length - 2];
    }

    String method() {
        return benchmark.substring(benchmark.lastIndexOf('.') + 1);
    }

    Category category() {
        if (benchmark.contains(".limits.")) {
            return Category.LIMIT;
        }
        if (benchmark.contains(".peers.")) {
            return Category.PEER;
        }
        if (benchmark.contains(".shale.")) {
            return Category.SHALE;
        }
        return Category.OTHER;
    }

    String paramText() {
        return params.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "));
    }

    /** {@code Class.method} without the "Benchmark" suffix, with the parameters that are not the suite's defaults. */
    String shortName() {
        String name = label().replace("Benchmark.", ".");
        String p = params.entrySet().stream()
                .filter(e -> !(e.getKey().equals("recordBytes") && e.getValue().equals("1024")))
                .filter(e -> !(e.getKey().equals("recordsPerBatch") && e.getValue().equals("16")))
                .map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(", "));
        return p.isEmpty() ? name : name + " [" + p + "]";
    }

    private OptionalDouble secondaryPerSecond(String name) {
        if (throughput == null) {
            return OptionalDouble.empty();
        }
        JmhResult.Metric m = throughput.secondary().get(name);
        return m == null ? OptionalDouble.empty() : OptionalDouble.of(Units.perSecond(m.score(), m.unit()));
    }

    /** Payload MB/s (10^6 bytes/s) from the {@code bytes} counter of the Throughput run. */
    OptionalDouble mbPerSecond() {
        OptionalDouble b = secondaryPerSecond("bytes");
        return b.isPresent() ? OptionalDouble.of(b.getAsDouble() / 1e6) : b;
    }

    /** The confidence half-width of {@link #mbPerSecond()}, if JMH computed one. */
    OptionalDouble mbPerSecondError() {
        if (throughput == null || !throughput.secondary().containsKey("bytes")) {
            return OptionalDouble.empty();
        }
        JmhResult.Metric m = throughput.secondary().get("bytes");
        return Double.isNaN(m.error()) ? OptionalDouble.empty()
                : OptionalDouble.of(Units.perSecond(m.error(), m.unit()) / 1e6);
    }

    OptionalDouble recordsPerSecond() {
        return secondaryPerSecond("records");
    }

    OptionalDouble opsPerSecond() {
        if (throughput == null) {
            return OptionalDouble.empty();
        }
        JmhResult.Metric m = throughput.primary();
        return OptionalDouble.of(Units.perSecond(m.score(), m.unit()));
    }

    /** A latency percentile of the SampleTime run in microseconds; {@code key} as JMH writes it ("99.0"). */
    OptionalDouble percentileMicros(String key) {
        if (sample == null) {
            return OptionalDouble.empty();
        }
        Double v = sample.primary().percentiles().get(key);
        return v == null ? OptionalDouble.empty() : OptionalDouble.of(Units.micros(v, sample.primary().unit()));
    }

    /** Bytes allocated per record: {@code gc.alloc.rate.norm} (B/op, from -prof gc) over records per op. */
    OptionalDouble allocBytesPerRecord() {
        if (throughput == null) {
            return OptionalDouble.empty();
        }
        JmhResult.Metric norm = throughput.secondary().get("gc.alloc.rate.norm");
        OptionalDouble records = recordsPerSecond();
        OptionalDouble ops = opsPerSecond();
        if (norm == null || records.isEmpty() || ops.isEmpty() || records.getAsDouble() <= 0) {
            return OptionalDouble.empty();
        }
        return OptionalDouble.of(norm.score() / (records.getAsDouble() / ops.getAsDouble()));
    }
}
