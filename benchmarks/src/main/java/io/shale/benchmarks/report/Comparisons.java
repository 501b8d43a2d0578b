package io.shale.benchmarks.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.Function;

/**
 * The comparisons the suite exists for: Shale's performance targets (benchmarks/README.md; Shale against a peer or a limit,
 * measured in the same run) and each peer against Shale and against the hardware limit that bounds
 * it. Rows are found by class, method and parameters; the default workload (1 KiB records, 16 per
 * batch) is assumed unless a selector names other values.
 */
final class Comparisons {

    /** Picks one row: a benchmark method with some parameter values. */
    record Selector(String className, String method, Map<String, String> params) {
        static Selector of(String className, String method, String... keyValues) {
            Map<String, String> p = new java.util.LinkedHashMap<>();
            for (int i = 0; i + 1 < keyValues.length; i += 2) {
                p.put(keyValues[i], keyValues[i + 1]);
            }
            return new Selector(className, method, p);
        }

        boolean matches(Row row) {
            if (!row.className().equals(className) || !row.method().equals(method)) {
                return false;
            }
            for (Map.Entry<String, String> e : params.entrySet()) {
                if (!e.getValue().equals(row.params.get(e.getKey()))) {
                    return false;
                }
            }
            return defaulted(row, "recordBytes", "1024") && defaulted(row, "recordsPerBatch", "16");
        }

        private boolean defaulted(Row row, String key, String value) {
            return params.containsKey(key) || !row.params.containsKey(key) || value.equals(row.params.get(key));
        }
    }

    static final Selector SHALE_APPEND = Selector.of("ShaleAppendBenchmark", "appendBatchPipelined");
    static final Selector SHALE_APPEND_ONE = Selector.of("ShaleAppendBenchmark", "appendBatchSingleProducer");
    static final Selector SHALE_CACHE_READ = Selector.of("ShaleReadBenchmark", "cacheRead");
    static final Selector KAFKA_APPEND = Selector.of("KafkaLogAppendBenchmark", "append", "flush", "false");
    static final Selector KAFKA_APPEND_FLUSH = Selector.of("KafkaLogAppendBenchmark", "append", "flush", "true");
    static final Selector KAFKA_READ = Selector.of("KafkaLogReadBenchmark", "read");
    static final Selector CHRONICLE_APPEND = Selector.of("ChronicleQueueAppendBenchmark", "append");
    static final Selector CHRONICLE_READ = Selector.of("ChronicleQueueReadBenchmark", "tailerRead");
    static final Selector RAW_PREALLOCATED_16K =
            Selector.of("FsyncLimitBenchmark", "writeAndSync", "file", "PREALLOCATED", "groupBytes", "16384");
    static final Selector RAW_GROWING_16K =
            Selector.of("FsyncLimitBenchmark", "writeAndSync", "file", "GROWING", "groupBytes", "16384");
    static final Selector MEMORY_COPY = Selector.of("MemoryLimitBenchmark", "copy");
    static final Selector MEMORY_CRC = Selector.of("MemoryLimitBenchmark", "crc32c");
    static final Selector MEMORY_COPY_CRC = Selector.of("MemoryLimitBenchmark", "copyThenCrc32c");

    private final List<Row> rows;

    Comparisons(List<Row> rows) {
        this.rows = rows;
    }

    Optional<Row> find(Selector s) {
        return rows.stream().filter(s::matches).findFirst();
    }

    private OptionalDouble value(Selector s, Function<Row, OptionalDouble> f) {
        return find(s).map(f).orElse(OptionalDouble.empty());
    }

    private static OptionalDouble p99(Row r) {
        return r.percentileMicros("99.0");
    }

    /** The preallocated-file fdatasync row with the highest MB/s: what a WAL that picks its group size can reach. */
    Optional<Row> bestRawPreallocated() {
        return rows.stream()
                .filter(r -> r.className().equals("FsyncLimitBenchmark") && "PREALLOCATED".equals(r.params.get("file")))
                .filter(r -> r.mbPerSecond().isPresent())
                .max(Comparator.comparingDouble(r -> r.mbPerSecond().getAsDouble()));
    }

    /**
     * The performance targets that this suite can measure, as table rows: target, Shale's figure, the
     * reference figure, ratio, goal, verdict.
     */
    List<String[]> targets() {
        List<String[]> out = new ArrayList<>();
        out.add(higher("Durable append (4 producers, 32 in flight each) vs Kafka append, no flush (not durable)",
                value(SHALE_APPEND, Row::mbPerSecond), value(KAFKA_APPEND, Row::mbPerSecond), "MB/s", 1.0));
        out.add(higher("Durable append (4 producers, 32 in flight each) vs Kafka append + flush per batch",
                value(SHALE_APPEND, Row::mbPerSecond), value(KAFKA_APPEND_FLUSH, Row::mbPerSecond), "MB/s", 30.0));
        out.add(lower("Durable append p99 (1 producer) vs raw fdatasync p99, preallocated, 16 KiB",
                value(SHALE_APPEND_ONE, Comparisons::p99), value(RAW_PREALLOCATED_16K, Comparisons::p99), "µs", 1.5));
        out.add(higher("Log-cache read, CRC in place, vs Chronicle tailer read, copy + CRC",
                value(SHALE_CACHE_READ, Row::mbPerSecond), value(CHRONICLE_READ, Row::mbPerSecond), "MB/s", 1.2));
        OptionalDouble alloc = value(SHALE_APPEND, Row::allocBytesPerRecord);
        out.add(new String[] {"Heap allocated per appended record (-prof gc)",
                alloc.isPresent() ? Fmt.num(alloc) + " B" : Fmt.NONE, Fmt.NONE, Fmt.NONE, "≤ 64 B",
                alloc.isEmpty() ? "not measured" : alloc.getAsDouble() <= 64 ? "met" : "not met"});
        return out;
    }

    private static String[] higher(String name, OptionalDouble shale, OptionalDouble ref, String unit, double goal) {
        return ratioRow(name, shale, ref, unit, "≥ " + Fmt.ratio(goal), r -> r >= goal);
    }

    private static String[] lower(String name, OptionalDouble shale, OptionalDouble ref, String unit, double goal) {
        return ratioRow(name, shale, ref, unit, "≤ " + Fmt.ratio(goal), r -> r <= goal);
    }

    private static String[] ratioRow(String name, OptionalDouble shale, OptionalDouble ref, String unit, String goal,
            java.util.function.DoublePredicate ok) {
        String verdict;
        if (shale.isEmpty() || ref.isEmpty() || ref.getAsDouble() == 0) {
            verdict = "not measured";
        } else {
            verdict = ok.test(shale.getAsDouble() / ref.getAsDouble()) ? "met" : "not met";
        }
        return new String[] {name, withUnit(shale, unit), withUnit(ref, unit), Fmt.ratio(shale, ref), goal, verdict};
    }

    private static String withUnit(OptionalDouble v, String unit) {
        return v.isPresent() ? Fmt.num(v) + " " + unit : Fmt.NONE;
    }

    /** One line of the peers-and-limits table. */
    private record Line(String workload, Selector subject, Selector shale, Optional<Row> limit, String limitName) {
    }

    /**
     * Each peer (and Shale) with its MB/s and latency, divided by Shale's counterpart and by the
     * limit that bounds it: workload, MB/s, p50, p99, ÷ Shale, ÷ limit, limit.
     */
    List<String[]> peersAndLimits() {
        Optional<Row> copy = find(MEMORY_COPY);
        Optional<Row> copyCrc = find(MEMORY_COPY_CRC);
        Optional<Row> crc = find(MEMORY_CRC);
        Optional<Row> growing = find(RAW_GROWING_16K);
        Optional<Row> best = bestRawPreallocated();
        String bestName = best.map(r -> "best raw fdatasync, preallocated (" + r.params.get("groupBytes") + " B groups)")
                .orElse("best raw fdatasync, preallocated");
        List<Line> lines = List.of(
                new Line("Kafka appendAsLeader 16×1 KiB, no flush (not durable)", KAFKA_APPEND, SHALE_APPEND,
                        copy, "memory copy"),
                new Line("Kafka appendAsLeader 16×1 KiB + flush per batch", KAFKA_APPEND_FLUSH, SHALE_APPEND,
                        growing, "raw fdatasync, growing file, 16 KiB"),
                new Line("Chronicle Queue append 1 KiB (mmap, no fsync)", CHRONICLE_APPEND, SHALE_APPEND,
                        copy, "memory copy"),
                new Line("Kafka UnifiedLog.read 1 MiB, copy + CRC", KAFKA_READ, SHALE_CACHE_READ,
                        copyCrc, "memory copy + CRC-32C"),
                new Line("Chronicle Queue tailer read, copy + CRC", CHRONICLE_READ, SHALE_CACHE_READ,
                        copyCrc, "memory copy + CRC-32C"),
                new Line("Shale durable append, 4 producers", SHALE_APPEND, null, best, bestName),
                new Line("Shale log-cache read, CRC in place", SHALE_CACHE_READ, null, crc, "CRC-32C in memory"));
        List<String[]> out = new ArrayList<>();
        for (Line line : lines) {
            Optional<Row> subject = find(line.subject());
            OptionalDouble mb = subject.map(Row::mbPerSecond).orElse(OptionalDouble.empty());
            OptionalDouble shaleMb = line.shale() == null ? OptionalDouble.empty() : value(line.shale(), Row::mbPerSecond);
            OptionalDouble limitMb = line.limit().map(Row::mbPerSecond).orElse(OptionalDouble.empty());
            out.add(new String[] {
                line.workload(),
                Fmt.num(mb),
                Fmt.num(subject.map(r -> r.percentileMicros("50.0")).orElse(OptionalDouble.empty())),
                Fmt.num(subject.map(r -> r.percentileMicros("99.0")).orElse(OptionalDouble.empty())),
                line.shale() == null ? Fmt.NONE : Fmt.ratio(mb, shaleMb),
                Fmt.ratio(mb, limitMb),
                line.limit().isPresent() ? line.limitName() + " (" + Fmt.num(limitMb) + " MB/s)" : line.limitName()
                        + " (not run)"});
        }
        return out;
    }
}
