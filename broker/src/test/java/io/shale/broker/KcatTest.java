package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kcat (librdkafka) against the broker: produce with compression, consume, list offsets. Runs where
 * kcat is installed (Debian package {@code kcat}), skipped elsewhere.
 */
class KcatTest {
    @TempDir
    Path dir;
    BrokerFixture fx;

    @BeforeEach
    void start() {
        if (kcat() == null && "required".equals(System.getProperty("shale.test.kcat"))) {
            throw new AssertionError("kcat is not installed but -Dshale.test.kcat=required (Debian package kcat)");
        }
        Assumptions.assumeTrue(kcat() != null, "kcat is not installed");
        fx = new BrokerFixture(dir);
    }

    @AfterEach
    void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    private static String kcat() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, "kcat"))) {
                return Path.of(d, "kcat").toString();
            }
        }
        return null;
    }

    private String run(String input, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(kcat());
        cmd.add("-b");
        cmd.add(fx.broker.bootstrapServers());
        cmd.addAll(List.of(args));
        Path in = dir.resolve("kcat.in");
        Files.writeString(in, input, StandardCharsets.UTF_8);
        Path out = dir.resolve("kcat.out");
        Process p = new ProcessBuilder(cmd).redirectInput(in.toFile()).redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("kcat %s finished", List.of(args)).isTrue();
        assertThat(p.exitValue()).as("exit code of kcat %s", List.of(args)).isZero();
        return Files.readString(out, StandardCharsets.UTF_8);
    }

    @Test
    void kcatProducesAndConsumes() throws Exception {
        fx.store.createTopic("kc", 2);
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 500; i++) {
            lines.append("key").append(i).append(':').append("value").append(i).append('\n');
        }
        run(lines.toString(), "-P", "-t", "kc", "-K:", "-z", "zstd");
        run("plain-1\nplain-2\n", "-P", "-t", "kc", "-p", "1", "-z", "lz4");

        String p0 = run("", "-C", "-t", "kc", "-p", "0", "-o", "beginning", "-e", "-q", "-f", "%k=%s\n");
        String p1 = run("", "-C", "-t", "kc", "-p", "1", "-o", "beginning", "-e", "-q", "-f", "%k=%s\n");
        List<String> all = new ArrayList<>(p0.lines().toList());
        all.addAll(p1.lines().toList());
        assertThat(all).hasSize(502).contains("key0=value0", "key499=value499", "=plain-2");
        assertThat(p1.lines().toList()).endsWith("=plain-1", "=plain-2");

        String end = run("", "-Q", "-t", "kc:1:-1");
        assertThat(end.strip()).isEqualTo("kc [1] offset " + p1.lines().count());
        assertThat(run("", "-L")).contains("topic \"kc\" with 2 partitions");
    }

    @Test
    void kcatBalancedConsumersCommitAndResumeInAGroup() throws Exception {
        fx.store.createTopic("kg", 3);
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < 90; i++) {
            first.append("first").append(i).append('\n');
        }
        run(first.toString(), "-P", "-t", "kg");
        // librdkafka's balanced consumer: FindCoordinator, JoinGroup, SyncGroup, OffsetFetch, OffsetCommit
        String got = run("", "-C", "-G", "kg-group", "-o", "beginning", "-e", "-q", "-f", "%s\n",
                "-X", "auto.offset.reset=earliest", "-X", "session.timeout.ms=6000", "kg");
        assertThat(got.lines().toList()).hasSize(90).doesNotHaveDuplicates();
        // librdkafka commits the partitions it consumed from (keyless records may all go to one partition)
        assertThat(fx.broker.consumerOffsets().fetch("kg-group").values().stream()
                .mapToLong(io.shale.log.CommittedOffset::offset).sum()).isEqualTo(90);

        run("second-a\nsecond-b\n", "-P", "-t", "kg");
        String again = run("", "-C", "-G", "kg-group", "-e", "-q", "-f", "%s\n",
                "-X", "auto.offset.reset=earliest", "-X", "session.timeout.ms=6000", "kg");
        assertThat(again.lines().toList()).containsExactlyInAnyOrder("second-a", "second-b");
    }
}
