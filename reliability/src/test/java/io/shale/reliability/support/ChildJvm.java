package io.shale.reliability.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM running a main class of the test class path; its stdout lines are collected as they
 * arrive (so a child killed by SIGKILL has reported exactly what it flushed), its stderr goes to a file.
 */
public final class ChildJvm {
    private final Process process;
    private final Thread reader;
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final CountDownLatch ready = new CountDownLatch(1);
    public final Path stderr;

    private ChildJvm(Process process, Path stderr) {
        this.process = process;
        this.stderr = stderr;
        this.reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.US_ASCII))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                    if (line.equals("READY") || line.startsWith("READY ")) {
                        ready.countDown();
                    }
                }
            } catch (IOException e) {
                // the pipe closes when the child dies
            }
        }, "child-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts {@code mainClass} with this JVM's class path. */
    public static ChildJvm start(Class<?> mainClass, List<String> jvmArgs, List<String> args, Path stderr)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx256m");
        String logback = System.getProperty("logback.configurationFile");
        if (logback != null) {
            cmd.add("-Dlogback.configurationFile=" + logback);
        }
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass.getName());
        cmd.addAll(args);
        return new ChildJvm(new ProcessBuilder(cmd).redirectError(stderr.toFile()).start(), stderr);
    }

    /** Waits for the child's READY line; fails if it exits or times out first. */
    public void awaitReady(long seconds) throws InterruptedException {
        if (!ready.await(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("child did not report READY within " + seconds + " s (alive: " + process.isAlive()
                    + "); see " + stderr);
        }
    }

    /** Waits for the child to exit and for its output to be read; returns the exit status. */
    public int awaitExit(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("child did not exit within " + seconds + " s; see " + stderr);
        }
        reader.join(10_000);
        return process.exitValue();
    }

    /** SIGKILL. */
    public void kill() {
        process.destroyForcibly();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Lines so far. */
    public List<String> lines() {
        return List.copyOf(lines);
    }

    public long count(String prefix) {
        return lines.stream().filter(l -> l.startsWith(prefix)).count();
    }
}
