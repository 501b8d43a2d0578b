package io.shale.log.record;

import static io.shale.log.record.KafkaInterop.assertSameView;
import static io.shale.log.record.KafkaInterop.kafkaBatch;
import static io.shale.log.record.KafkaInterop.kafkaView;
import static io.shale.log.record.Samples.toArray;
import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.record.KafkaInterop.Settings;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Shale against real Kafka 4.4 client bytes, both ways, for every codec: Kafka's builders produce,
 * Shale reads; Shale builds, Kafka's own decoder validates and reads; Shale re-stamps, Kafka
 * validates. Record sets are seeded-random (see {@link Samples#randomRecords}).
 */
class KafkaCompatibilityTest {

    private static final int ROUNDS = 25;

    /** Random batch settings: plain, idempotent or transactional producer, CreateTime or LogAppendTime. */
    private static Settings randomSettings(Random rnd, CompressionType c) {
        boolean logAppend = rnd.nextInt(3) == 0;
        int kind = rnd.nextInt(3);
        long pid = kind == 0 ? -1L : rnd.nextInt(1_000_000);
        short epoch = kind == 0 ? (short) -1 : (short) rnd.nextInt(Short.MAX_VALUE);
        int seq = kind == 0 ? -1 : (rnd.nextInt(4) == 0 ? Integer.MAX_VALUE - rnd.nextInt(10) : rnd.nextInt(1_000_000));
        return new Settings(c, logAppend ? TimestampType.LOG_APPEND_TIME : TimestampType.CREATE_TIME,
                rnd.nextInt(3) == 0 ? rnd.nextLong() >>> 2 : rnd.nextInt(10_000),
                logAppend ? 1_800_000_000_000L + rnd.nextInt(1000) : -1L,
                pid, epoch, seq, kind == 2, rnd.nextBoolean() ? -1 : rnd.nextInt(100));
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void batchesBuiltByKafkaShouldDecodeIdenticallyInShale(CompressionType c) {
        Random rnd = new Random(100 + c.id);
        for (int round = 0; round < ROUNDS; round++) {
            Settings s = randomSettings(rnd, c);
            List<SimpleRecord> records = Samples.randomRecords(rnd, 1 + rnd.nextInt(40));
            ByteBuffer bytes = kafkaBatch(s, records);
            MutableRecordBatch k = kafkaView(bytes);
            ByteBuffer input = round % 3 == 0 ? direct(bytes) : round % 3 == 1 ? bytes.asReadOnlyBuffer() : bytes;
            RecordBatch batch = RecordBatch.wrap(input);
            assertSameView(k, batch);
            batch.ensureValid();
        }
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void batchesBuiltByShaleShouldPassKafkasValidationWithIdenticalContent(CompressionType c) {
        Random rnd = new Random(200 + c.id);
        for (int round = 0; round < ROUNDS; round++) {
            Settings s = randomSettings(rnd, c);
            List<SimpleRecord> records = Samples.randomRecords(rnd, 1 + rnd.nextInt(40));
            RecordBatchBuilder b = s.shaleBuilder();
            records.forEach(b::append);
            ByteBuffer bytes = b.build();
            MutableRecordBatch k = kafkaView(bytes);
            assertSameView(k, RecordBatch.wrap(bytes));
            assertThat(k.lastSequence()).isEqualTo(s.baseSequence() < 0 ? -1
                    : RecordIterator.incrementSequence(s.baseSequence(), records.size() - 1));
        }
    }

    /**
     * For the same records and settings Shale writes the very bytes Kafka writes: always for
     * uncompressed, lz4 and snappy batches (same framing, same block compressor), and for gzip when
     * the JDK's deflater is used by both (only the gzip header's OS byte could differ).
     */
    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = {"NONE", "LZ4", "SNAPPY", "GZIP"})
    void shaleShouldWriteTheSameBytesAsKafkaForTheSameRecords(CompressionType c) {
        Random rnd = new Random(300 + c.id);
        for (int round = 0; round < ROUNDS; round++) {
            Settings s = randomSettings(rnd, c);
            List<SimpleRecord> records = Samples.randomRecords(rnd, 1 + rnd.nextInt(40));
            RecordBatchBuilder b = s.shaleBuilder();
            records.forEach(b::append);
            byte[] ours = toArray(b.build());
            byte[] theirs = toArray(kafkaBatch(s, records));
            if (c == CompressionType.GZIP) {
                // header byte 9 of the gzip member is the OS field; the JDK writes 0 or 255 by version
                int osByte = 61 + 9;
                theirs[osByte] = ours[osByte];
                ByteBuffer t = ByteBuffer.wrap(theirs);
                RawBatches.fixCrc(t);
            }
            assertThat(ours).as("round %d", round).isEqualTo(theirs);
        }
    }

    @Test
    void zstdBatchesShouldDifferFromKafkasOnlyInFramingNotContent() {
        Random rnd = new Random(400);
        List<SimpleRecord> records = Samples.randomRecords(rnd, 30);
        Settings s = Settings.plain(CompressionType.ZSTD);
        RecordBatchBuilder b = s.shaleBuilder();
        records.forEach(b::append);
        RecordBatch ours = RecordBatch.wrap(b.build());
        RecordBatch theirs = RecordBatch.wrap(kafkaBatch(s, records));
        RecordBatchTest.assertSameRecords(Samples.records(ours), records);
        RecordBatchTest.assertSameRecords(Samples.records(theirs), records);
    }

    @ParameterizedTest
    @EnumSource(value = ControlRecordType.class, names = {"COMMIT", "ABORT"})
    void endTransactionMarkersBuiltByKafkaShouldDecodeInShale(ControlRecordType type) {
        EndTransactionMarker marker = new EndTransactionMarker(type, 17);
        ByteBuffer bytes = MemoryRecords.withEndTransactionMarker(1234L, 1_700_000_000_000L, 5, 77L, (short) 3, marker)
                .buffer();
        MutableRecordBatch k = kafkaView(bytes);
        RecordBatch s = RecordBatch.wrap(bytes);
        assertSameView(k, s);
        assertThat(s.isControlBatch()).isTrue();
        assertThat(s.isTransactional()).isTrue();
        Record r = s.iterator().next();
        ByteBuffer key = r.key();
        assertThat(key.getShort(0)).as("control record version").isZero();
        assertThat(key.getShort(2)).as("control record type").isEqualTo(type.type());
    }

    @ParameterizedTest
    @EnumSource(value = ControlRecordType.class, names = {"COMMIT", "ABORT"})
    void endTransactionMarkersBuiltByShaleShouldBeReadByKafka(ControlRecordType type) {
        EndTransactionMarker marker = new EndTransactionMarker(type, 21);
        ByteBuffer bytes = new RecordBatchBuilder().baseOffset(500L).producer(77L, (short) 3, -1).transactional(true)
                .control(true).partitionLeaderEpoch(4)
                .append(1_700_000_000_000L, type.recordKey(), marker.serializeValue(), List.of())
                .build();
        MutableRecordBatch k = kafkaView(bytes);
        assertSameView(k, RecordBatch.wrap(bytes));
        assertThat(k.isControlBatch()).isTrue();
        org.apache.kafka.common.record.internal.Record kr = k.iterator().next();
        assertThat(ControlRecordType.parse(kr.key())).isEqualTo(type);
        assertThat(EndTransactionMarker.deserialize(kr)).isEqualTo(marker);
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void kafkaBatchesRestampedByShaleShouldStillPassKafkasValidation(CompressionType c) {
        Random rnd = new Random(500 + c.id);
        for (int round = 0; round < ROUNDS; round++) {
            Settings s = randomSettings(rnd, c);
            List<SimpleRecord> records = Samples.randomRecords(rnd, 1 + rnd.nextInt(20));
            ByteBuffer kafkaBytes = kafkaBatch(s, records);
            // the engine's situation: the batch sits somewhere inside a bigger buffer
            ByteBuffer log = ByteBuffer.allocate(kafkaBytes.remaining() + 40);
            log.position(17);
            log.put(kafkaBytes.duplicate());
            long newBase = 1_000_000L * round + 3;
            int newEpoch = round + 1;
            long appendTime = 1_900_000_000_000L + round;
            RecordBatch.setBaseOffset(log, 17, newBase);
            RecordBatch.setPartitionLeaderEpoch(log, 17, newEpoch);
            RecordBatch.setLogAppendTime(log, 17, appendTime);

            ByteBuffer restamped = log.duplicate().position(17).limit(17 + kafkaBytes.remaining()).slice();
            MutableRecordBatch k = kafkaView(restamped);
            assertThat(k.baseOffset()).isEqualTo(newBase);
            assertThat(k.partitionLeaderEpoch()).isEqualTo(newEpoch);
            assertThat(k.maxTimestamp()).isEqualTo(appendTime);
            assertThat(k.timestampType()).isEqualTo(org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME);
            assertThat(k.isTransactional()).isEqualTo(s.transactional());
            assertThat((int) k.compressionType().id).isEqualTo(c.id);
            List<Long> offsets = new ArrayList<>();
            k.forEach(r -> {
                assertThat(r.timestamp()).isEqualTo(appendTime);
                offsets.add(r.offset());
            });
            assertThat(offsets).first().isEqualTo(newBase);
            assertSameView(k, RecordBatch.wrap(restamped));
        }
    }

    @Test
    void kafkasOwnLogAppendTimeStampShouldMatchShales() {
        ByteBuffer ours = kafkaBatch(Settings.plain(CompressionType.LZ4), Samples.randomRecords(new Random(9), 10));
        ByteBuffer theirs = ByteBuffer.wrap(toArray(ours));
        RecordBatch.setLogAppendTime(ours, 0, 123_456L);
        kafkaView(theirs).setMaxTimestamp(org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME, 123_456L);
        assertThat(toArray(ours)).isEqualTo(toArray(theirs));
    }

    private static ByteBuffer direct(ByteBuffer heap) {
        return ByteBuffer.allocateDirect(heap.remaining()).put(heap.duplicate()).flip();
    }
}
