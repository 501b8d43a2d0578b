package io.shale.benchmarks.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Writes RESULTS.md and two PNG charts from a JMH JSON result file.
 *
 * <pre>
 * java -cp benchmarks.jar io.shale.benchmarks.report.ResultsReport \
 *     --json results/jmh-quick.json --out RESULTS.md --charts results \
 *     --mode quick --command "./benchmarks/run.sh quick" [--bench-dir DIR] [--note TEXT]...
 * </pre>
 *
 * <p>{@code --mode quick} marks the report as a smoke run (short iterations: the figures show the
 * suite works, they are not results). {@code --bench-dir} is where the benchmark files were (for
 * the disk description). Each {@code --note} becomes a line under "Notes". Chart links in the
 * markdown are relative to the markdown file. Exit status 2 for bad arguments or an unreadable
 * result file.
 */
public final class ResultsReport {

    /** Parsed command line. */
    record Options(Path json, Path out, Path charts, String mode, String command, Path benchDir, List<String> notes) {
        boolean smoke() {
            return !"full".equals(mode);
        }
    }

    private ResultsReport() {
    }

    public static void main(String[] args) {
        Options options;
        try {
            options = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("ResultsReport: " + e.getMessage());
            System.err.println("usage: ResultsReport --json FILE [--out RESULTS.md] [--charts DIR] [--mode quick|full]"
                    + " [--command TEXT] [--bench-dir DIR] [--note TEXT]...");
            System.exit(2);
            return;
        }
        try {
            List<Path> written = write(options);
            written.forEach(p -> System.out.println("wrote " + p));
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("ResultsReport: " + e.getMessage());
            System.exit(2);
        }
    }

    static Options parse(String[] args) {
        Path json = null;
        Path out = Paths.get("RESULTS.md");
        Path charts = null;
        String mode = "quick";
        String command = "(not given)";
        Path benchDir = Paths.get(System.getProperty("java.io.tmpdir"));
        List<String> notes = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("missing value after " + a);
            }
            String v = args[++i];
            switch (a) {
                case "--json" -> json = Paths.get(v);
                case "--out" -> out = Paths.get(v);
                case "--charts" -> charts = Paths.get(v);
                case "--mode" -> mode = v;
                case "--command" -> command = v;
                case "--bench-dir" -> benchDir = Paths.get(v);
                case "--note" -> notes.add(v);
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (json == null) {
            throw new IllegalArgumentException("--json is required");
        }
        if (!mode.equals("quick") && !mode.equals("full")) {
            throw new IllegalArgumentException("--mode must be quick or full, not " + mode);
        }
        Path outParent = out.toAbsolutePath().getParent();
        return new Options(json, out, charts != null ? charts : outParent.resolve("results"), mode, command, benchDir,
                notes);
    }

    /** Writes the markdown and the charts; returns the files written. */
    static List<Path> write(Options o) throws IOException {
        List<JmhResult> results = JmhResult.parseAll(Files.readString(o.json(), StandardCharsets.UTF_8));
        List<Row> rows = Row.merge(results);
        String titleSuffix = o.smoke() ? " — SMOKE RUN (quick mode), not results" : "";
        List<Path> written = new ArrayList<>();
        Path throughputPng = o.charts().resolve("throughput.png");
        Path latencyPng = o.charts().resolve("latency.png");
        boolean hasThroughput = false;
        boolean hasLatency = false;
        String chartError = null;
        try {
            hasThroughput = Charts.throughput(rows, "Throughput" + titleSuffix, throughputPng);
            hasLatency = Charts.latency(rows, "Latency" + titleSuffix, latencyPng);
        } catch (IOException | RuntimeException | LinkageError e) {
            // a machine without fonts or AWT libraries still gets its markdown
            chartError = e.toString();
        }
        if (hasThroughput) {
            written.add(throughputPng);
        }
        if (hasLatency) {
            written.add(latencyPng);
        }
        Optional<JmhResult.Settings> settings = results.stream().map(JmhResult::settings).findFirst();
        String md = markdown(o, results, rows, MachineInfo.describe(o.benchDir(), settings),
                hasThroughput ? relative(o.out(), throughputPng) : null,
                hasLatency ? relative(o.out(), latencyPng) : null, chartError);
        Path parent = o.out().toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Files.writeString(o.out(), md, StandardCharsets.UTF_8);
        written.add(0, o.out());
        return written;
    }

    private static String relative(Path markdown, Path file) {
        Path base = markdown.toAbsolutePath().getParent();
        return base.relativize(file.toAbsolutePath()).toString().replace('\\', '/');
    }

    static String markdown(Options o, List<JmhResult> results, List<Row> rows, Map<String, String> machine,
            String throughputPng, String latencyPng, String chartError) {
        StringBuilder md = new StringBuilder();
        md.append("# Shale benchmark results\n\n");
        if (o.smoke()) {
            md.append("> **SMOKE RUN (quick mode).** Very short iterations, often on a shared machine: these figures\n")
              .append("> only show that the suite runs end to end. They are not results; do not quote them.\n\n");
        }
        md.append("Generated ").append(Instant.now().truncatedTo(ChronoUnit.SECONDS))
          .append(" by `io.shale.benchmarks.report.ResultsReport` from `").append(o.json().getFileName())
          .append("` (").append(results.size()).append(" JMH results, ").append(rows.size())
          .append(" benchmark/parameter rows). How to read this file: benchmarks/README.md.\n\n");

        md.append("## Machine\n\n| | |\n|---|---|\n");
        machine.forEach((k, v) -> md.append("| ").append(k).append(" | ").append(cell(v)).append(" |\n"));

        md.append("\n## Command\n\n```\n").append(o.command()).append("\n```\n\n");
        Set<String> runSettings = new LinkedHashSet<>();
        Set<String> jvmArgs = new LinkedHashSet<>();
        for (JmhResult r : results) {
            runSettings.add(r.settings().summary());
            jvmArgs.add(String.join(" ", r.settings().jvmArgs()));
        }
        md.append("JMH settings: ").append(runSettings.isEmpty() ? "none" : String.join("; ", runSettings))
          .append(".  \nFork JVM arguments (per benchmark class): ");
        md.append(jvmArgs.stream().map(a -> "`" + (a.isEmpty() ? "(none)" : a) + "`")
                .reduce((a, b) -> a + ", " + b).orElse("none")).append(".\n");

        if (!o.notes().isEmpty() || chartError != null) {
            md.append("\n## Notes\n\n");
            o.notes().forEach(n -> md.append("- ").append(n).append("\n"));
            if (chartError != null) {
                md.append("- Charts could not be drawn: ").append(chartError).append("\n");
            }
        }

        Comparisons c = new Comparisons(rows);
        md.append("\n## Performance targets\n\n");
        md.append("Ratios of figures measured in this run (Shale ÷ reference). \"not measured\" means a side was not run.");
        if (o.smoke()) {
            md.append(" In a smoke run the verdicts mean nothing.");
        }
        md.append("\n\n");
        table(md, new String[] {"target", "Shale", "reference", "ratio", "goal", "verdict"}, "lrrrll", c.targets());
        md.append("\nMeasured outside JMH, by `benchmarks/measure.sh` (see [MEASUREMENTS.md](MEASUREMENTS.md)): cold")
          .append(" catch-up reads against raw ranged GETs, object-WAL append p99 against PUT p99, heap per idle")
          .append(" partition at 100,000 partitions, PUTs per GiB and metadata share.\n");

        md.append("\n## Peers and limits\n\n");
        md.append("Each workload's MB/s divided by Shale's counterpart (a peer's ÷ Shale < 1 means Shale is faster)")
          .append(" and by the machine limit that bounds it, measured in the same run.\n\n");
        table(md, new String[] {"workload", "MB/s", "p50 µs", "p99 µs", "÷ Shale", "÷ limit", "limit"}, "lrrrrrl",
                c.peersAndLimits());

        md.append("\n## All benchmarks\n\n");
        md.append("MB/s = 10^6 payload bytes (record values; raw bytes for the limits) per second, from the")
          .append(" Throughput run's `bytes` counter; records/s likewise from `records`; ops/s is JMH's score.")
          .append(" Percentiles come from the SampleTime run (per operation, per thread). Alloc is")
          .append(" `gc.alloc.rate.norm` ÷ records per operation, present only with `-prof gc`.\n\n");
        List<String[]> all = new ArrayList<>();
        for (Row r : rows) {
            all.add(new String[] {
                r.label(), r.paramText().isEmpty() ? Fmt.NONE : r.paramText(), Integer.toString(r.threads),
                Fmt.num(r.mbPerSecond(), r.mbPerSecondError()), Fmt.num(r.recordsPerSecond()), Fmt.num(r.opsPerSecond()),
                Fmt.num(r.percentileMicros("50.0")), Fmt.num(r.percentileMicros("99.0")),
                Fmt.num(r.percentileMicros("99.9")), Fmt.num(r.allocBytesPerRecord())});
        }
        table(md, new String[] {"benchmark", "parameters", "threads", "MB/s", "records/s", "ops/s", "p50 µs", "p99 µs",
            "p99.9 µs", "alloc B/record"}, "llrrrrrrrr", all);

        md.append("\n## Charts\n\n");
        if (throughputPng != null) {
            md.append("![Throughput, MB/s](").append(throughputPng).append(")\n\n");
        }
        if (latencyPng != null) {
            md.append("![Latency percentiles, µs](").append(latencyPng).append(")\n\n");
        }
        if (throughputPng == null && latencyPng == null) {
            md.append("No chart: no result had MB/s or percentiles.\n");
        }
        return md.toString();
    }

    /** A markdown table; {@code align} has one letter per column, {@code l} or {@code r}. */
    private static void table(StringBuilder md, String[] header, String align, List<String[]> rows) {
        md.append("| ").append(String.join(" | ", header)).append(" |\n|");
        for (int i = 0; i < header.length; i++) {
            md.append(align.charAt(i) == 'r' ? "---:|" : "---|");
        }
        md.append("\n");
        for (String[] r : rows) {
            md.append("|");
            for (String cell : r) {
                md.append(" ").append(cell(cell)).append(" |");
            }
            md.append("\n");
        }
    }

    private static String cell(String s) {
        return s.replace("|", "\\|").replace("\n", " ");
    }
}
