package io.shale.storage.local.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash recovery with real processes: a child JVM ({@link WalCrashChild}) appends from several
 * threads and reports every acknowledged entry; it is killed with SIGKILL
 * ({@code destroyForcibly}) at a random moment, restarted on the same directory, killed again.
 * After each kill the parent replays the WAL and checks that every acknowledged entry not trimmed
 * is present exactly once with its bytes, that each stream's entries come in append order, and
 * that nothing replayed before disappears later.
 */
class WalCrashTest {
    private static final int THREADS = 4;

    @TempDir
    Path tmp;

    private record Key(int stream, long offset) {
    }

    private record Ack(int size, long sequence) {
    }

    @Test
    void acknowledgedEntriesShouldSurviveSigkillOfTheWritingProcess() throws Exception {
        run(20260501L, 2, 3);
    }

    /** Also runnable with -Dwal.crash.seed, -Dwal.crash.iterations, -Dwal.crash.cycles (via argLine). */
    @Test
    @Tag("slow")
    void acknowledgedEntriesShouldSurviveManySigkills() throws Exception {
        run(Long.getLong("wal.crash.seed", 777L), Integer.getInteger("wal.crash.iterations", 10),
                Integer.getInteger("wal.crash.cycles", 5));
    }

    private void run(long seed, int iterations, int cycles) throws Exception {
        Random random = new Random(seed);
        for (int iteration = 0; iteration < iterations; iteration++) {
            Path dir = tmp.resolve("wal-" + iteration);
            Files.createDirectories(dir);
            Map<Key, Ack> acked = new HashMap<>();
            Map<Key, Long> replayedBefore = new HashMap<>();
            long maxTrim = Long.MIN_VALUE;
            long totalAcked = 0;
            for (int cycle = 0; cycle < cycles; cycle++) {
                long entrySeed = seed + iteration;
                int killAfter = 150 + random.nextInt(750);
                List<String> lines = runChildAndKill(dir, entrySeed, cycle, killAfter);
                for (String line : lines) {
                    String[] f = line.split(" ");
                    if (f[0].equals("@A")) {
                        Key k = new Key(Integer.parseInt(f[1]), Long.parseLong(f[2]));
                        Ack previous = acked.put(k, new Ack(Integer.parseInt(f[3]), Long.parseLong(f[4])));
                        assertThat(previous).as("acknowledged twice: %s", k).isNull();
                        totalAcked++;
                    } else if (f[0].equals("@T")) {
                        maxTrim = Math.max(maxTrim, Long.parseLong(f[1]));
                    }
                }
                try {
                    replayedBefore = check(dir, entrySeed, acked, replayedBefore, maxTrim,
                            "iteration " + iteration + " cycle " + cycle);
                } catch (AssertionError e) {
                    dumpSegments(dir);
                    throw e;
                }
            }
            assertThat(totalAcked).as("the children acknowledged entries (iteration %d)", iteration)
                    .isGreaterThan(cycles * 10L);
        }
    }

    private List<String> runChildAndKill(Path dir, long seed, int cycle, int killAfterMillis) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), WalCrashChild.class.getName(),
                dir.toString(), Long.toString(seed), Integer.toString(cycle), Integer.toString(THREADS));
        ProcessBuilder pb = new ProcessBuilder(command);
        // Output goes to a file, read after the child is dead: a pipe read racing with the
        // process's exit can lose the last lines (and a lost "@T" would make a legitimately
        // trimmed entry look lost).
        Path out = tmp.resolve("child-" + dir.getFileName() + "-" + cycle + ".out");
        pb.redirectOutput(out.toFile());
        pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        Process child = pb.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.readString(out, StandardCharsets.US_ASCII).contains("@READY")) {
                assertThat(child.isAlive()).as("child exited before it was ready").isTrue();
                assertThat(System.nanoTime()).as("child ready within 60 s").isLessThan(deadline);
                Thread.sleep(5);
            }
            // While the child runs, the directory is locked against this process too.
            try (FileWriteAheadLog other = WalCrashChild.builder(dir).build()) {
                assertThatThrownBy(() -> other.open(TestContext.INSTANCE))
                        .isInstanceOfSatisfying(ShaleException.class, e -> {
                            assertThat(e.kind()).isEqualTo(ErrorKind.IN_USE);
                            assertThat(e.getMessage()).contains("pid " + child.pid() + " ");
                        });
            }
            Thread.sleep(killAfterMillis);
            assertThat(child.isAlive()).as("child still running when killed").isTrue();
        } finally {
            child.destroyForcibly();
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("child died").isTrue();
        }
        String text = Files.readString(out, StandardCharsets.US_ASCII);
        // A line the kill cut short was never completed, so it promised nothing: drop it.
        text = text.substring(0, text.lastIndexOf('\n') + 1);
        List<String> lines = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("@READY")) {
                System.out.println("child " + cycle + " " + line);
            } else if (line.startsWith("@")) {
                lines.add(line);
            } else if (line.contains("WARN") || line.contains("ERROR")) {
                System.out.println("child: " + line);
            }
        }
        return lines;
    }

    private static void dumpSegments(Path dir) throws IOException {
        for (Path p : SegmentFiles.files(dir)) {
            System.out.printf("file %s size %d%n", p.getFileName(), Files.size(p));
        }
        for (SegmentFiles.Segment s : SegmentFiles.live(dir)) {
            WalFormat.Header h = s.header();
            System.out.printf("%s ordinal %d id %x first %d prev %x prevEnd %d frames %d (seq %s..%s, end %s)%n",
                    s.path().getFileName(), h.ordinal(), h.segmentId(), h.firstSequence(), h.prevSegmentId(),
                    h.prevEnd(), s.frames().size(),
                    s.frames().isEmpty() ? "-" : s.frames().get(0).sequence(),
                    s.frames().isEmpty() ? "-" : s.frames().get(s.frames().size() - 1).sequence(),
                    s.frames().isEmpty() ? "-" : s.frames().get(s.frames().size() - 1).position()
                            + s.frames().get(s.frames().size() - 1).length());
        }
    }

    /** Replays the directory and checks it against what the children acknowledged. */
    private Map<Key, Long> check(Path dir, long seed, Map<Key, Ack> acked, Map<Key, Long> replayedBefore,
            long maxTrim, String where) {
        List<Replayed> replayed = Replayed.replayOnly(WalCrashChild.builder(dir));
        System.out.printf("%s: %d acknowledged so far, %d replayed, trim point %d%n", where, acked.size(),
                replayed.size(), maxTrim);
        Map<Key, Long> seen = new HashMap<>();
        Map<Integer, Long> lastOffset = new HashMap<>();
        long lastSequence = Long.MIN_VALUE;
        for (Replayed r : replayed) {
            Key k = new Key(r.streamId(), r.baseOffset());
            assertThat(r.sequence()).as("%s: sequences increase", where).isGreaterThan(lastSequence);
            lastSequence = r.sequence();
            assertThat(seen.put(k, r.sequence())).as("%s: %s replayed twice", where, k).isNull();
            Long before = lastOffset.put(r.streamId(), r.baseOffset());
            if (before != null) {
                assertThat(r.baseOffset()).as("%s: stream %d in append order", where, r.streamId())
                        .isGreaterThan(before);
            }
            // Acknowledged or not, every replayed entry must be one that was appended, byte for byte.
            assertThat(r.payload()).as("%s: bytes of %s", where, k)
                    .isEqualTo(TestEntry.bytes(r.streamId(), r.baseOffset(), r.payload().length, seed));
            Ack ack = acked.get(k);
            if (ack != null) {
                assertThat(r.payload().length).as("%s: size of %s", where, k).isEqualTo(ack.size());
                assertThat(r.sequence()).as("%s: sequence of %s", where, k).isEqualTo(ack.sequence());
            }
        }
        for (Map.Entry<Key, Ack> a : acked.entrySet()) {
            if (a.getValue().sequence() >= maxTrim) {
                assertThat(seen).as("%s: acknowledged %s (sequence %d, trim point %d) is replayed", where,
                        a.getKey(), a.getValue().sequence(), maxTrim).containsKey(a.getKey());
            }
        }
        for (Map.Entry<Key, Long> b : replayedBefore.entrySet()) {
            if (b.getValue() >= maxTrim) {
                assertThat(seen.get(b.getKey())).as("%s: %s (sequence %d) replayed by the previous recovery is "
                        + "still there", where, b.getKey(), b.getValue()).isEqualTo(b.getValue());
            }
        }
        return seen;
    }
}
