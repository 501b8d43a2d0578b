package io.shale.benchmarks.tools;

import io.shale.benchmarks.BenchDirs;
import io.shale.benchmarks.report.MachineInfo;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * What every measurement tool shares: the common options, a scratch directory, the section heading
 * (time, duration, machine, command, JVM flags), printing the section and storing it in
 * MEASUREMENTS.md, and exit statuses (0 done, 1 the measurement failed, 2 bad arguments).
 *
 * <p>Common options: {@code --smoke} (tiny sizes, for CI: the figures are not results),
 * {@code --out FILE} (default {@code benchmarks/MEASUREMENTS.md} when run from the repository
 * root; {@code -} prints only) and {@code --command TEXT} (the command line to show, set by
 * measure.sh).
 */
abstract class Tool {
    static final Set<String> COMMON_OPTIONS = Set.of("out", "command");

    static {
        // before anything logs: storage-s3's test-jar on the class path carries a chattier logback-test.xml
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "shale-measure-logback.xml");
        }
    }
    static final Set<String> COMMON_FLAGS = Set.of("smoke");

    /** Section id in MEASUREMENTS.md. */
    abstract String id();

    /** Section title. */
    abstract String title();

    /** Tool-specific options that take a value. */
    abstract Set<String> options();

    /** Usage text (options and defaults). */
    abstract String usage();

    /**
     * Runs the measurement with scratch directory {@code dir} and fills {@code out}. Throws on any
     * failure: a tool never prints partial figures as if they were complete.
     */
    abstract void run(Args args, boolean smoke, Path dir, Section out) throws Exception;

    /** Parses, runs and reports; exits the JVM with the tool's status. */
    final void execute(String[] argv) {
        Set<String> options = new HashSet<>(options());
        options.addAll(COMMON_OPTIONS);
        Args args;
        try {
            args = Args.parse(argv, options, COMMON_FLAGS);
        } catch (IllegalArgumentException e) {
            System.err.println(getClass().getSimpleName() + ": " + e.getMessage());
            System.err.println(usage());
            System.exit(2);
            return;
        }
        boolean smoke = args.flag("smoke");
        String command = args.string("command",
                "java -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/measure-lib/*' " + getClass().getName()
                        + (argv.length == 0 ? "" : " " + String.join(" ", argv)));
        Path dir = BenchDirs.create("shale-measure-" + id());
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        Section section = new Section();
        int status = 0;
        try {
            run(args, smoke, dir, section);
        } catch (IllegalArgumentException e) {
            System.err.println(getClass().getSimpleName() + ": " + e.getMessage());
            System.err.println(usage());
            status = 2;
        } catch (Exception | AssertionError e) {
            System.err.println(getClass().getSimpleName() + " failed: " + e);
            e.printStackTrace();
            status = 1;
        } finally {
            try {
                BenchDirs.delete(dir);
            } catch (RuntimeException e) {
                System.err.println("could not delete scratch directory " + dir + ": " + e);
            }
        }
        if (status == 0) {
            double seconds = (System.nanoTime() - t0) / 1e9;
            String markdown = heading(smoke, started, seconds, command, dir) + section.body();
            System.out.println();
            System.out.print(markdown);
            System.out.flush();
            String out = args.string("out", Files.isDirectory(Paths.get("benchmarks")) ? "benchmarks/MEASUREMENTS.md" : "-");
            if (!out.equals("-")) {
                try {
                    MeasurementsFile.write(Paths.get(out), id(), markdown);
                    System.out.println("wrote section '" + id() + "' of " + out);
                } catch (IOException e) {
                    System.err.println("could not write " + out + ": " + e);
                    status = 1;
                }
            }
        }
        // S3Proxy's and the SDK's non-daemon threads must not keep the JVM alive
        System.exit(status);
    }

    private String heading(boolean smoke, Instant started, double seconds, String command, Path dir) {
        StringBuilder md = new StringBuilder();
        md.append("## ").append(title()).append("\n\n");
        if (smoke) {
            md.append("> **SMOKE RUN (`--smoke`).** Tiny sizes, often on a shared machine: these figures only show\n")
              .append("> that the tool runs end to end. They are not results; do not quote them.\n\n");
        }
        md.append("Run at ").append(started.truncatedTo(ChronoUnit.SECONDS)).append(", took ")
          .append(Section.num(seconds)).append(" s.\n\n");
        md.append("```\n").append(command).append("\n```\n\n");
        md.append("JVM flags: `").append(String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()))
          .append("`.\n\n");
        md.append("| machine | |\n|---|---|\n");
        for (Map.Entry<String, String> e : MachineInfo.describe(dir.getParent()).entrySet()) {
            md.append("| ").append(e.getKey()).append(" | ").append(e.getValue().replace("|", "\\|")).append(" |\n");
        }
        md.append('\n');
        return md.toString();
    }
}
