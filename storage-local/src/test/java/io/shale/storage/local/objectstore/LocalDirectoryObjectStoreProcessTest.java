package io.shale.storage.local.objectstore;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real child JVMs: a putIfAbsent race between processes, and a writer killed with SIGKILL. */
class LocalDirectoryObjectStoreProcessTest {
    @TempDir
    Path tmp;

    private static Process start(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("-Xmx256m");
        command.add(ChildProcessWriter.class.getName());
        command.addAll(Arrays.asList(args));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static BufferedReader stdout(Process p) {
        return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    }

    /** Reads the child's stdout lines that start with {@code tag}, until it exits or {@code enough} of them arrived. */
    private static List<String> linesOf(BufferedReader in, String tag, int enough) throws IOException {
        List<String> lines = new ArrayList<>();
        String line;
        while (lines.size() < enough && (line = in.readLine()) != null) {
            if (line.startsWith(tag)) {
                lines.add(line.substring(tag.length()));
            }
        }
        return lines;
    }

    @Test
    void putIfAbsentShouldHaveExactlyOneWinnerAcrossProcesses() throws Exception {
        Path root = tmp.resolve("bucket");
        Path go = tmp.resolve("go");
        int keys = 150;
        Process p1 = start("race", root.toString(), "proc-1", String.valueOf(keys), go.toString());
        Process p2 = start("race", root.toString(), "proc-2", String.valueOf(keys), go.toString());
        try {
            BufferedReader out1 = stdout(p1);
            BufferedReader out2 = stdout(p2);
            assertThat(linesOf(out1, "READY", 1)).hasSize(1);
            assertThat(linesOf(out2, "READY", 1)).hasSize(1);
            Files.createFile(go);
            List<String> r1 = linesOf(out1, "RESULT ", keys);
            List<String> r2 = linesOf(out2, "RESULT ", keys);
            assertThat(p1.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p2.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p1.exitValue()).isZero();
            assertThat(p2.exitValue()).isZero();
            assertThat(r1).hasSize(keys);
            assertThat(r2).hasSize(keys);

            int winsOf1 = 0;
            try (LocalDirectoryObjectStore store = LocalDirectoryObjectStore.open(root)) {
                for (int i = 0; i < keys; i++) {
                    boolean won1 = r1.get(i).equals(i + " true");
                    boolean won2 = r2.get(i).equals(i + " true");
                    assertThat(won1 ^ won2).as("exactly one winner for key %d: %s / %s", i, r1.get(i), r2.get(i)).isTrue();
                    String winner = won1 ? "proc-1" : "proc-2";
                    winsOf1 += won1 ? 1 : 0;
                    ObjectInfo info = store.head("race/" + i).join().orElseThrow();
                    assertThat(info.token()).isEqualTo(winner);
                    assertThat(bytes(store.get("race/" + i).join())).isEqualTo(ChildProcessWriter.raceContent(winner, i));
                }
            }
            // Not asserted (it depends on scheduling), but useful when reading the test's output.
            System.out.println("proc-1 won " + winsOf1 + " of " + keys + " keys");
        } finally {
            p1.destroyForcibly();
            p2.destroyForcibly();
        }
    }

    /**
     * A writer is killed with SIGKILL in the middle of writing: every acknowledged write must be
     * there, every object that is there must be whole with its own token, temp files must stay
     * invisible and be swept. (A process kill keeps the page cache; it exercises publication by
     * rename/link, not fsync, which only an OS crash or power loss could.)
     */
    @Test
    void objectsShouldBeWholeAfterTheWriterIsKilledMidWrite() throws Exception {
        Path root = tmp.resolve("bucket");
        Process writer = start("crash", root.toString());
        List<String> acks;
        try {
            acks = linesOf(stdout(writer), "ACK ", 30);
        } finally {
            writer.destroyForcibly(); // SIGKILL on POSIX
        }
        assertThat(writer.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(acks).hasSize(30);

        try (LocalDirectoryObjectStore store = LocalDirectoryObjectStore.open(root)) {
            Map<String, ObjectInfo> listed = new HashMap<>();
            String after = null;
            do {
                ListPage page = store.list("crash/", after, 50).join();
                page.objects().forEach(o -> listed.put(o.key(), o));
                after = page.nextStartAfter();
            } while (after != null);

            for (String ack : acks) {
                String[] parts = ack.split(" ");
                int i = Integer.parseInt(parts[1]);
                String key = switch (parts[0]) {
                    case "put" -> "crash/" + i;
                    case "create" -> "crash/c-" + i;
                    default -> "crash/flip";
                };
                assertThat(listed).as("acknowledged %s", ack).containsKey(key);
            }
            for (String key : listed.keySet()) {
                ObjectInfo head = store.head(key).join().orElseThrow();
                byte[] content = bytes(store.get(key).join());
                if (key.equals("crash/flip")) {
                    boolean b = "flip-b".equals(head.token());
                    assertThat(content).as(key).isEqualTo(ChildProcessWriter.flipContent(b));
                } else if (key.startsWith("crash/c-")) {
                    int i = Integer.parseInt(key.substring("crash/c-".length()));
                    assertThat(head.token()).isEqualTo("c-" + i);
                    assertThat(content).as(key).isEqualTo(ChildProcessWriter.crashContent(i + 1));
                } else {
                    int i = Integer.parseInt(key.substring("crash/".length()));
                    assertThat(head.token()).isEqualTo("t-" + i);
                    assertThat(content).as(key).isEqualTo(ChildProcessWriter.crashContent(i));
                }
                assertThat(head.size()).isEqualTo(content.length);
            }

            List<Path> temps = tempFiles(root);
            System.out.println("temp files left by the killed writer: " + temps.size());
            assertThat(store.deleteStaleTempFiles(Duration.ZERO)).isEqualTo(temps.size());
            assertThat(tempFiles(root)).isEmpty();
        }
    }

    private static List<Path> tempFiles(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> p.getFileName().toString().startsWith(ObjectKeys.TEMP_PREFIX)).collect(Collectors.toList());
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
