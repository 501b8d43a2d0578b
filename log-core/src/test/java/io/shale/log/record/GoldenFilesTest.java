package io.shale.log.record;

import static io.shale.log.record.Samples.toArray;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Fixed batches checked in under {@code src/test/resources/record/}. The encoder must reproduce
 * them byte for byte, the decoder must read the documented content from them, and Kafka's decoder
 * must accept them. If an intended format change breaks these tests, regenerate the files with
 * <pre>
 * mvn -B -o -pl log-core test -Dtest=GoldenFilesTest#regenerateGoldenFiles -Dshale.golden.regenerate=true
 * </pre>
 * and review the binary diff. (The lz4 file also depends on lz4-java's block compressor: a new
 * lz4-java version that compresses differently changes it.)
 */
class GoldenFilesTest {

    private static final Path DIR = Path.of("src/test/resources/record");

    /** Three records covering a key, a null key, a null value, headers and a null header value. */
    private static List<SimpleRecord> goldenRecords() {
        return List.of(
                SimpleRecord.of(1_700_000_000_000L, bytes("key-1"), bytes("value-1"),
                        Header.of("trace-id", "abc123"), Header.of("empty", (byte[]) null)),
                SimpleRecord.of(1_700_000_000_500L, null, bytes("value without key")),
                SimpleRecord.of(1_699_999_999_000L, bytes("tombstone"), null, Header.of("ключ", new byte[] {0, 1, 2})));
    }

    private static RecordBatchBuilder goldenBuilder(CompressionType c) {
        RecordBatchBuilder b = new RecordBatchBuilder().compression(c).baseOffset(1000L).partitionLeaderEpoch(3)
                .producer(4242L, (short) 7, 100);
        goldenRecords().forEach(b::append);
        return b;
    }

    private static ByteBuffer goldenControlBatch() {
        return new RecordBatchBuilder().baseOffset(1003L).partitionLeaderEpoch(3).producer(4242L, (short) 7, -1)
                .transactional(true).control(true)
                .append(1_700_000_001_000L, ControlRecordType.COMMIT.recordKey(),
                        new EndTransactionMarker(ControlRecordType.COMMIT, 9).serializeValue(), List.of())
                .build();
    }

    @Test
    void encoderShouldReproduceTheUncompressedGoldenBatch() throws IOException {
        assertThat(toArray(goldenBuilder(CompressionType.NONE).build())).isEqualTo(golden("uncompressed-headers.bin"));
    }

    @Test
    void encoderShouldReproduceTheLz4GoldenBatch() throws IOException {
        assertThat(toArray(goldenBuilder(CompressionType.LZ4).build())).isEqualTo(golden("lz4.bin"));
    }

    @Test
    void encoderShouldReproduceTheControlGoldenBatch() throws IOException {
        assertThat(toArray(goldenControlBatch())).isEqualTo(golden("control-commit.bin"));
    }

    @Test
    void decoderShouldReadTheDocumentedContentOfTheDataGoldenBatches() throws IOException {
        for (String name : new String[] {"uncompressed-headers.bin", "lz4.bin"}) {
            ByteBuffer bytes = ByteBuffer.wrap(golden(name));
            RecordBatch b = RecordBatch.wrap(bytes);
            b.ensureValid();
            assertThat(b.baseOffset()).isEqualTo(1000L);
            assertThat(b.lastOffset()).isEqualTo(1002L);
            assertThat(b.partitionLeaderEpoch()).isEqualTo(3);
            assertThat(b.producerId()).isEqualTo(4242L);
            assertThat(b.producerEpoch()).isEqualTo((short) 7);
            assertThat(b.baseSequence()).isEqualTo(100);
            assertThat(b.baseTimestamp()).isEqualTo(1_700_000_000_000L);
            assertThat(b.maxTimestamp()).isEqualTo(1_700_000_000_500L);
            assertThat(b.compressionType()).isEqualTo(name.startsWith("lz4") ? CompressionType.LZ4 : CompressionType.NONE);
            RecordBatchTest.assertSameRecords(Samples.records(b), goldenRecords());
            assertThat(Samples.records(b)).extracting(Record::sequence).containsExactly(100, 101, 102);
            KafkaInterop.assertSameView(KafkaInterop.kafkaView(bytes), b);
        }
    }

    @Test
    void decoderShouldReadTheControlGoldenBatchAsACommitMarker() throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(golden("control-commit.bin"));
        RecordBatch b = RecordBatch.wrap(bytes);
        b.ensureValid();
        assertThat(b.isControlBatch()).isTrue();
        assertThat(b.isTransactional()).isTrue();
        assertThat(b.baseOffset()).isEqualTo(1003L);
        Record r = b.iterator().next();
        assertThat(r.key().getShort(2)).isEqualTo(ControlRecordType.COMMIT.type());
        org.apache.kafka.common.record.internal.Record kr = KafkaInterop.kafkaView(bytes).iterator().next();
        assertThat(EndTransactionMarker.deserialize(kr)).isEqualTo(new EndTransactionMarker(ControlRecordType.COMMIT, 9));
    }

    /** Writes the golden files. Run only on purpose (see the class comment). */
    @Test
    @EnabledIfSystemProperty(named = "shale.golden.regenerate", matches = "true")
    void regenerateGoldenFiles() throws IOException {
        Files.createDirectories(DIR);
        Files.write(DIR.resolve("uncompressed-headers.bin"), toArray(goldenBuilder(CompressionType.NONE).build()));
        Files.write(DIR.resolve("lz4.bin"), toArray(goldenBuilder(CompressionType.LZ4).build()));
        Files.write(DIR.resolve("control-commit.bin"), toArray(goldenControlBatch()));
    }

    private static byte[] golden(String name) throws IOException {
        try (InputStream in = GoldenFilesTest.class.getResourceAsStream("/record/" + name)) {
            assertThat(in).as("golden file %s", name).isNotNull();
            return in.readAllBytes();
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
