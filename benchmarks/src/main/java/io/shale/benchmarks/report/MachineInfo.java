package io.shale.benchmarks.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Describes the machine the figures came from: CPU, memory, OS, JVM, and the disk that held the
 * benchmark files (from {@code df} and the block device's queue settings in /sys, notably its
 * write-cache mode, which decides what fdatasync costs). Anything it cannot find reads "unknown";
 * it never fails the report. Used by {@link ResultsReport} and by the measurement tools
 * ({@code io.shale.benchmarks.tools}).
 */
public final class MachineInfo {
    private MachineInfo() {
    }

    /** CPU, memory, OS, this JVM, and the disk holding {@code benchDir} (for tools that run outside JMH). */
    public static Map<String, String> describe(Path benchDir) {
        return describe(benchDir, Optional.empty());
    }

    static Map<String, String> describe(Path benchDir, Optional<JmhResult.Settings> jvm) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("CPU", cpu());
        out.put("Memory", memory());
        out.put("OS", System.getProperty("os.name") + " " + System.getProperty("os.version") + " ("
                + System.getProperty("os.arch") + ")");
        out.put("JVM", jvm.map(s -> s.vmName() + " " + s.vmVersion() + " (JDK " + s.jdkVersion() + ")")
                .orElse(System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version")));
        out.put("Disk (benchmark files)", disk(benchDir));
        return out;
    }

    private static String cpu() {
        String model = lines(Paths.get("/proc/cpuinfo")).stream()
                .filter(l -> l.startsWith("model name"))
                .map(l -> l.substring(l.indexOf(':') + 1).trim())
                .findFirst().orElse("unknown model");
        return model + ", " + Runtime.getRuntime().availableProcessors() + " CPUs available to the JVM";
    }

    private static String memory() {
        return lines(Paths.get("/proc/meminfo")).stream()
                .filter(l -> l.startsWith("MemTotal:"))
                .map(l -> l.replaceAll("[^0-9]", ""))
                .filter(s -> !s.isEmpty())
                .map(kb -> String.format(Locale.ROOT, "%.1f GiB", Long.parseLong(kb) / 1024.0 / 1024.0))
                .findFirst().orElse("unknown");
    }

    private static String disk(Path dir) {
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return "unknown";
        }
        String df = run("df", "-PhT", existing.toString());
        String[] lines = df.split("\n");
        if (lines.length < 2) {
            return "unknown (df gave no answer for " + existing + ")";
        }
        String[] f = lines[1].trim().split("\\s+");
        if (f.length < 7) {
            return lines[1].trim();
        }
        StringBuilder sb = new StringBuilder();
        sb.append(f[0]).append(" (").append(f[1]).append("), ").append(f[2]).append(" total, ").append(f[4])
                .append(" free, mounted on ").append(f[6]).append("; files in ").append(existing);
        if (f[0].startsWith("/dev/")) {
            queue(f[0].substring(5)).ifPresent(q -> sb.append("; ").append(q));
        }
        return sb.toString();
    }

    /** rotational, write cache and scheduler of the device or, for a partition, of its disk. */
    private static Optional<String> queue(String device) {
        String[] candidates = {device, device.replaceAll("p?[0-9]+$", "")};
        for (String name : candidates) {
            Path q = Paths.get("/sys/block", name, "queue");
            if (Files.isDirectory(q)) {
                return Optional.of(name + ": rotational=" + first(q.resolve("rotational"))
                        + ", write cache=" + first(q.resolve("write_cache"))
                        + ", scheduler=" + first(q.resolve("scheduler")));
            }
        }
        return Optional.empty();
    }

    private static String first(Path file) {
        List<String> l = lines(file);
        return l.isEmpty() ? "unknown" : l.get(0).trim();
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    private static String run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readNBytes(64 * 1024);
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroy();
                return "";
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }
}
