package io.shale.log.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.shale.log.testing.InMemoryObjectStore;

import java.io.File;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.github.benmanes.caffeine.cache.Caffeine;
import net.jpountz.lz4.LZ4Factory;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * zstd with the zstd-jni versions that Kafka users actually have on their classpath. Maven puts
 * one version on the test classpath (the parent pom's {@code zstd.version}); a user of
 * kafka-clients 4.4.0 has 1.5.7-17 instead, of 4.1.0 to 4.3.0 1.5.6-10, of 3.5.0 and 3.6.0
 * 1.5.5-1, of 3.2.0 and 3.4.0 1.5.2-1 (too old: zstd must then be unavailable, clearly). The
 * pinned version runs here too, so that every case goes through the same checks.
 *
 * <p>Each case runs {@link ZstdJniProbe} in a child JVM whose classpath is log-core's (main and
 * test classes, slf4j-api, caffeine, lz4-java) plus kafka-clients 4.4.0 and the zstd-jni jar of
 * that version, which the build copies into {@code target/zstd-jni-versions} (log-core/pom.xml,
 * property {@code shale.test.zstdJniDir}). A batch that kafka-clients builds here is written to
 * a file; the child decodes it from heap, read-only, direct and read-only direct buffers, as two
 * concatenated frames and truncated, builds and reads its own, lets Kafka read Shale's and
 * appends Kafka's to a compacted topic (whose key check decompresses the batch inside
 * {@code appendBatch}).
 */
class ZstdJniVersionsTest {
    static final String DIR_PROPERTY = "shale.test.zstdJniDir";
    /** The version the parent pom pins ({@code zstd.version}), which the other tests run with. */
    static final String PINNED_PROPERTY = "shale.test.zstdJniPinned";
    /** The oldest zstd-jni with the API Shale's zstd codec uses (the one of kafka-clients 3.5.0 and 3.6.0). */
    static final String OLDEST_SUPPORTED = "1.5.5-1";

    @TempDir
    Path tmp;

    /** Those of kafka-clients 4.4.0, 4.1.0-4.3.0 and 3.5.0-3.6.0, and the one Shale is built with. */
    static List<String> supportedVersions() {
        List<String> versions = new ArrayList<>(List.of("1.5.7-17", "1.5.6-10", OLDEST_SUPPORTED));
        String pinned = System.getProperty(PINNED_PROPERTY);
        if (pinned != null && !versions.contains(pinned)) {
            versions.add(pinned);
        }
        return versions;
    }

    @Test
    void theVersionShaleIsBuiltWithShouldAlsoRunInTheChildJvm() {
        assertThat(System.getProperty(PINNED_PROPERTY)).as("system property %s (log-core/pom.xml)", PINNED_PROPERTY)
                .isNotBlank();
        assertThat(supportedVersions()).contains(System.getProperty(PINNED_PROPERTY));
    }

    @ParameterizedTest
    @MethodSource("supportedVersions")
    void zstdShouldWorkWithTheZstdJniThatKafkaClientsBring(String version) throws Exception {
        Map<String, String> r = runProbe(version);
        String all = describe(r);
        assertThat(r.get("zstd-jni")).as(all).isEqualTo(version + " from zstd-jni-" + version + ".jar");
        assertThat(r.get("available")).as(all).isEqualTo("true");
        assertThat(r.get("kafka-batch-crc")).as(all).isEqualTo("true");
        for (String check : List.of("kafka-batch-heap", "kafka-batch-read-only-heap", "kafka-batch-direct",
                "kafka-batch-read-only-direct", "kafka-batch-concatenated-frames", "shale-round-trip",
                "kafka-reads-shale", "kafka-builds-in-this-jvm")) {
            assertThat(r.get(check)).as("%s in %s", check, all).isEqualTo("ok");
        }
        assertThat(r.get("kafka-batch-truncated")).as(all)
                .startsWith("ShaleException(CORRUPT_RECORD): corrupt record batch at base offset 100")
                .contains("zstd");
        assertThat(r.get("compacted-append")).as(all).isEqualTo("ok, base offset 0");
    }

    @Test
    void aZstdJniTooOldShouldMakeZstdUnavailableNamingTheVersionFoundAndTheOneNeeded() throws Exception {
        Map<String, String> r = runProbe("1.5.2-1");
        String all = describe(r);
        assertThat(r.get("zstd-jni")).as(all).isEqualTo("1.5.2-1 from zstd-jni-1.5.2-1.jar");
        assertThat(r.get("available")).as(all).isEqualTo("false");
        assertThat(r.get("kafka-batch-crc")).as("the header and CRC stay readable: " + all).isEqualTo("true");
        for (String check : List.of("kafka-batch-heap", "kafka-batch-direct", "shale-round-trip",
                "kafka-batch-truncated")) {
            assertThat(r.get(check)).as("%s in %s", check, all)
                    .startsWith("ShaleException(INVALID_ARGUMENT): ")
                    .contains("zstd compression is not available", "com.github.luben:zstd-jni 1.5.2-1",
                            OLDEST_SUPPORTED + " or later");
        }
        assertThat(r.get("compacted-append")).as("appendBatch must not throw: " + all)
                .startsWith("future failed with ShaleException(INVALID_ARGUMENT): ")
                .contains("com.github.luben:zstd-jni 1.5.2-1");
    }

    private Map<String, String> runProbe(String version) throws Exception {
        Path jar = zstdJniJar(version);
        Path batchFile = tmp.resolve("kafka-zstd.batch");
        ByteBuffer kafka = KafkaInterop.kafkaBatch(KafkaInterop.Settings.plain(CompressionType.ZSTD),
                ZstdJniProbe.expectedRecords());
        try (FileChannel ch = FileChannel.open(batchFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            while (kafka.hasRemaining()) {
                ch.write(kafka);
            }
        }
        List<String> classpath = new ArrayList<>();
        for (Class<?> c : new Class<?>[] {RecordBatch.class, ZstdJniProbe.class, InMemoryObjectStore.class,
                LoggerFactory.class, Caffeine.class, LZ4Factory.class, MemoryRecords.class}) {
            String entry = location(c);
            if (!classpath.contains(entry)) {
                classpath.add(entry);
            }
        }
        assertThat(classpath).as("the child must see no other zstd-jni")
                .filteredOn(e -> e.contains("zstd-jni")).isEmpty();
        classpath.add(jar.toString());
        Path tmpDir = Files.createDirectories(tmp.resolve("java-tmp"));
        Path stdout = tmp.resolve("stdout.txt");
        Path stderr = tmp.resolve("stderr.txt");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-Djava.io.tmpdir=" + tmpDir, "-cp", String.join(File.pathSeparator, classpath),
                ZstdJniProbe.class.getName(), batchFile.toString())
                .redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
        Process p = pb.start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail("the child JVM did not finish; its output so far:\n" + Files.readString(stdout));
        }
        String out = Files.readString(stdout, StandardCharsets.UTF_8);
        String err = Files.readString(stderr, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as("child JVM exit status; stdout:\n%s\nstderr:\n%s", out, err).isZero();
        Map<String, String> results = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                results.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        results.put("(stderr)", err);
        System.out.println(describe(results)); // into the surefire report, for the record
        return results;
    }

    private static Path zstdJniJar(String version) {
        String dir = System.getProperty(DIR_PROPERTY);
        if (dir == null) {
            fail("system property " + DIR_PROPERTY + " is not set: run this test through Maven (log-core/pom.xml"
                    + " copies the zstd-jni jars and sets it)");
        }
        Path jar = Path.of(dir, "zstd-jni-" + version + ".jar");
        if (!Files.isRegularFile(jar)) {
            fail(jar + " is missing: list " + version + " in log-core/pom.xml's zstd-jni-versions-for-tests");
        }
        return jar;
    }

    private static String location(Class<?> c) throws URISyntaxException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    private static String describe(Map<String, String> results) {
        StringBuilder sb = new StringBuilder("child JVM results:");
        results.forEach((k, v) -> sb.append("\n  ").append(k).append(" = ").append(v));
        return sb.toString();
    }
}
