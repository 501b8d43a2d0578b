package io.shale.reliability.crash;

import io.shale.log.LogStore;
import io.shale.log.ShaleException;
import io.shale.log.TopicPartition;
import io.shale.log.internal.util.CrashPoints;
import io.shale.reliability.crash.AckVerifier.Ack;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/*
 * Design rationale.
 *
 * A crash test is only as good as where its kills land. Each cycle starts a child JVM
 * (CrashChild) on the same directory and ends it one of three ways, chosen from the seed:
 *   - SIGKILL (Process.destroyForcibly) at a random moment while producers run: most kills land
 *     in WAL writes and fsyncs, uploads and commits, because that is where the time goes;
 *   - SIGKILL during startup, before the child reports READY: recovery itself is interrupted
 *     (WAL replay, the writer claim, the first uploads of replayed data);
 *   - a crash point (-Dshale.crashpoint, see CrashPoints) that halts the child at its N-th pass
 *     through a narrow window: a data object PUT but not committed, a manifest delta created but
 *     not applied, a snapshot written but old manifest files not yet collected, a compacted
 *     object PUT but not committed, unreferenced objects about to be or just deleted.
 * The child prints each acknowledged append (partition, offsets, content hash) and flushes before
 * the next, so what the parent read is a subset of what was acknowledged. After a seeded share of
 * the cycles (and always after the last) the parent opens the store itself and checks every
 * acknowledgement of every cycle so far; the other cycles leave the crashed state to the next
 * child, so recovery also runs on top of recovery. To bound the directory in long runs, the
 * verifier moves each partition's log start up once it holds more than a window of records.
 */

/** The parent side of the crash-consistency test. See the design note above. */
public final class CrashHarness {
    static final String[] CRASH_POINTS = {"upload.afterDataPut", "manifest.afterDeltaCreated", "manifest.afterSnapshotPut",
            "compaction.afterPut", "maintenance.beforeDelete", "maintenance.afterDelete"};

    /** Settings of one run. */
    public record Settings(Path dir, long seed, int cycles, int producers, int partitions, int maxValue,
            double verifyShare, long maxKillDelayMs, long keepRecords, String wal) {
        public static Settings of(Path dir, long seed, int cycles) {
            return new Settings(dir, seed, cycles, 3, 8, 200, 0.5, 1_500, 20_000, "file");
        }

        /** The same with the object WAL writing data objects (RFC 0006). */
        public Settings withObjectWalDataObjects() {
            return new Settings(dir, seed, cycles, producers, partitions, maxValue, verifyShare, maxKillDelayMs,
                    keepRecords, "object-data");
        }

        /** The same with the object WAL (in the bucket) instead of the file WAL. */
        public Settings withObjectWal() {
            return new Settings(dir, seed, cycles, producers, partitions, maxValue, verifyShare, maxKillDelayMs,
                    keepRecords, "object");
        }
    }


    /** What a run did. */
    public static final class Stats {
        public int cycles;
        public int randomKills;
        public int startupKills;
        public int crashPointRuns;
        public int crashPointHits;
        public int cleanExits;
        public int verifications;
        public long acknowledgedAppends;
        public long recordsVerified;
        public final Map<String, Integer> hitsByPoint = new TreeMap<>();

        @Override
        public String toString() {
            return cycles + " cycles: " + randomKills + " random kills, " + startupKills + " kills during startup, "
                    + crashPointRuns + " crash-point runs (" + crashPointHits + " halted there " + hitsByPoint + "), "
                    + cleanExits + " clean exits; " + verifications + " verifications of " + acknowledgedAppends
                    + " acknowledged appends (" + recordsVerified + " records read)";
        }
    }

    private final Settings s;
    private final Consumer<String> log;
    private final Map<Integer, NavigableMap<Long, Ack>> acks = new HashMap<>();
    private final Stats stats = new Stats();

    public CrashHarness(Settings settings, Consumer<String> log) {
        this.s = settings;
        this.log = log;
    }

    /** Runs every cycle; throws AssertionError with the seed and cycle at the first violation. */
    public Stats run() throws IOException, InterruptedException {
        Files.createDirectories(s.dir());
        SplittableRandom rnd = new SplittableRandom(s.seed());
        log.accept("crash run: seed " + s.seed() + " (-Dshale.crash.seed=" + s.seed() + "), " + s.cycles()
                + " cycles, " + s.wal() + " WAL, directory " + s.dir());
        for (int cycle = 0; cycle < s.cycles(); cycle++) {
            long cycleSeed = rnd.nextLong();
            double mode = rnd.nextDouble();
            String point = null;
            long after = 0;
            long delay;
            boolean startupKill = false;
            if (mode < 0.35) {
                point = CRASH_POINTS[rnd.nextInt(CRASH_POINTS.length)];
                // uploads and commits pass their points many times a second; snapshots and
                // deletions about once a second
                after = 1 + rnd.nextInt(point.startsWith("upload") || point.equals("manifest.afterDeltaCreated")
                        ? 40 : point.startsWith("compaction") ? 8 : 2);
                delay = -1;
            } else if (mode < 0.45) {
                startupKill = true;
                delay = 150 + rnd.nextLong(1_000);
            } else {
                delay = 50 + rnd.nextLong(s.maxKillDelayMs());
            }
            boolean verify = cycle == s.cycles() - 1 || rnd.nextDouble() < s.verifyShare();
            String what = point != null ? "crash point " + point + " #" + after
                    : startupKill ? "SIGKILL " + delay + " ms after start" : "SIGKILL " + delay + " ms after READY";
            try {
                runCycle(cycle, cycleSeed, point, after, delay, startupKill);
                if (verify) {
                    verify();
                }
            } catch (AssertionError e) {
                throw new AssertionError("seed " + s.seed() + ", cycle " + cycle + " (" + what + "): " + e.getMessage()
                        + "\nchild stderr: " + s.dir().resolveSibling(s.dir().getFileName() + "-child.err"), e);
            }
            stats.cycles++;
            if ((cycle + 1) % 50 == 0 || cycle == s.cycles() - 1) {
                log.accept("after cycle " + cycle + ": " + stats);
            }
        }
        return stats;
    }

    private void runCycle(int cycle, long cycleSeed, String point, long after, long delay, boolean startupKill)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx256m");
        cmd.add("-XX:TieredStopAtLevel=1"); // start fast: each cycle is a new JVM
        String logback = System.getProperty("logback.configurationFile");
        if (logback != null) {
            cmd.add("-Dlogback.configurationFile=" + logback);
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        if (point != null) {
            cmd.add("-D" + CrashPoints.PROPERTY + "=" + point);
            cmd.add("-D" + CrashPoints.AFTER_PROPERTY + "=" + after);
        }
        cmd.add(CrashChild.class.getName());
        cmd.add(s.dir().toString());
        cmd.add(Integer.toString(cycle));
        cmd.add(Long.toString(cycleSeed));
        cmd.add(Integer.toString(s.producers()));
        cmd.add(Integer.toString(s.partitions()));
        cmd.add(Integer.toString(s.maxValue()));
        cmd.add(Long.toString(point != null ? 5_000 : 120_000));
        cmd.add(s.wal());
        Path err = s.dir().resolveSibling(s.dir().getFileName() + "-child.err");
        Process child = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        CountDownLatch ready = new CountDownLatch(1);
        boolean[] done = new boolean[1];
        List<Ack> reported = new ArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.US_ASCII))) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (line.equals("READY")) {
                        ready.countDown();
                    } else if (line.equals("DONE")) {
                        done[0] = true;
                    } else if (line.startsWith("A ")) {
                        Ack a = Ack.parse(line, cycle); // a line cut by the kill is not an acknowledgement we know
                        if (a != null) {
                            reported.add(a);
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                // the pipe closes when the child dies
            }
        }, "crash-child-reader");
        reader.setDaemon(true);
        reader.start();

        if (startupKill) {
            Thread.sleep(delay);
            child.destroyForcibly();
            stats.startupKills++;
        } else if (point != null) {
            stats.crashPointRuns++;
            if (!child.waitFor(90, TimeUnit.SECONDS)) {
                child.destroyForcibly();
                throw new AssertionError("child with crash point " + point + " did not exit within 90 s");
            }
            if (child.exitValue() == CrashPoints.EXIT_STATUS) {
                stats.crashPointHits++;
                stats.hitsByPoint.merge(point, 1, Integer::sum);
            }
        } else {
            if (!ready.await(60, TimeUnit.SECONDS)) {
                child.destroyForcibly();
                throw new AssertionError("child did not open the store within 60 s (exit "
                        + (child.isAlive() ? "none" : child.exitValue()) + ")");
            }
            Thread.sleep(delay);
            child.destroyForcibly();
            stats.randomKills++;
        }
        child.waitFor(60, TimeUnit.SECONDS);
        reader.join(10_000);
        int exit = child.exitValue();
        if (done[0]) {
            stats.cleanExits++;
        }
        if (exit != 0 && exit != CrashPoints.EXIT_STATUS) { // 137 is also what SIGKILL gives
            throw new AssertionError("child exited with status " + exit + " (not a kill): see its stderr");
        }
        if (exit == 0 && !done[0]) {
            throw new AssertionError("child exited normally without finishing");
        }
        for (Ack a : reported) {
            NavigableMap<Long, Ack> mine = acks.computeIfAbsent(a.partition(), k -> new TreeMap<>());
            Map.Entry<Long, Ack> before = mine.floorEntry(a.last());
            if (before != null && before.getValue().last() >= a.base()) {
                throw new AssertionError("partition " + a.partition() + " offsets " + a.base() + ".." + a.last()
                        + " (cycle " + a.cycle() + ") were already acknowledged in cycle " + before.getValue().cycle()
                        + " as " + before.getValue().base() + ".." + before.getValue().last());
            }
            mine.put(a.base(), a);
        }
        stats.acknowledgedAppends += reported.size();
    }

    /** Opens the store in this JVM and checks every acknowledgement so far; then trims long partitions. */
    void verify() {
        LogStore store;
        try {
            store = CrashLog.openStore(s.dir(), s.wal(), java.util.Map.of());
        } catch (ShaleException e) {
            throw new AssertionError("the store does not open after the crash: " + e, e);
        }
        try {
            for (int p = 0; p < s.partitions(); p++) {
                TopicPartition tp = new TopicPartition(CrashLog.TOPIC, p);
                if (store.describeTopic(CrashLog.TOPIC).isEmpty()) {
                    if (!acks.isEmpty()) {
                        throw new AssertionError("the topic is gone but appends to it were acknowledged");
                    }
                    return;
                }
                verifyPartition(store, tp);
            }
            stats.verifications++;
        } finally {
            store.close();
        }
    }

    private void verifyPartition(LogStore store, TopicPartition tp) {
        NavigableMap<Long, Ack> mine = acks.computeIfAbsent(tp.partition(), k -> new TreeMap<>());
        int maxProducer = (stats.cycles + 1) * s.producers();
        stats.recordsVerified += AckVerifier.verify(store, tp, mine, s.maxValue(), producer -> producer < maxProducer);
        long start = store.logStartOffset(tp);
        long hw = store.highWatermark(tp);
        if (hw - start > s.keepRecords() * 3 / 2) {
            long newStart = store.deleteRecordsBefore(tp, hw - s.keepRecords());
            mine.headMap(newStart, false).clear();
        }
    }
}
