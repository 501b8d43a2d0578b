package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.AppendResult;
import io.shale.log.ErrorKind;
import io.shale.log.FetchResult;
import io.shale.log.ShaleException;
import io.shale.log.TopicConfig;
import io.shale.log.TopicPartition;
import io.shale.log.record.Record;
import io.shale.log.record.RecordBatch;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32C;
import java.util.zip.GZIPOutputStream;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Strict appendBatch validation (append.validation=strict, the default): batches built by Kafka's
 * own client classes, then one field corrupted and the CRC fixed, so that only a semantic check can
 * catch the defect. Each must fail with CORRUPT_RECORD naming what was wrong.
 */
class AppendValidationTest extends EngineFixture {
    private static final int HEADER = 61;
    private static final int RECORDS = 3;

    private final TopicPartition tp = TopicPartition.of("t", 0);

    private StoreEngine store() {
        return store(Map.of());
    }

    private StoreEngine store(Map<String, Object> topicConfig) {
        StoreEngine s = open();
        s.createTopic("t", 1, topicConfig);
        return s;
    }

    private static Compression codec(String name) {
        switch (name) {
            case "none":
                return Compression.NONE;
            case "gzip":
                return Compression.gzip().build();
            case "snappy":
                return Compression.snappy().build();
            case "lz4":
                return Compression.lz4().build();
            case "zstd":
                return Compression.zstd().build();
            default:
                throw new AssertionError(name);
        }
    }

    /** A Kafka-built batch of {@code timestamps.length} records: key "k<i>", value "value-<i>", one header. */
    private static ByteBuffer kafkaBatch(Compression c, long producerId, short epoch, int baseSequence,
                                         boolean transactional, long... timestamps) {
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(256), (byte) 2, c,
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, 0L, -1L, producerId, epoch, baseSequence,
                transactional, -1);
        for (int i = 0; i < timestamps.length; i++) {
            b.append(timestamps[i], ("k" + i).getBytes(StandardCharsets.UTF_8),
                    ("value-" + i).getBytes(StandardCharsets.UTF_8),
                    new Header[] {new RecordHeader("h", "x".getBytes(StandardCharsets.UTF_8))});
        }
        ByteBuffer built = b.build().buffer();
        ByteBuffer out = ByteBuffer.allocate(built.remaining());
        out.put(built).flip();
        return out;
    }

    private ByteBuffer plain(String codec) {
        long now = clock.millis();
        return kafkaBatch(codec(codec), -1L, (short) -1, -1, false, now, now, now);
    }

    private static void fixCrc(ByteBuffer b) {
        CRC32C crc = new CRC32C();
        crc.update(b.duplicate().position(21).limit(b.limit()));
        b.putInt(17, (int) crc.getValue());
    }

    /** Start of record {@code i} in a plain batch from {@link #plain} (records of equal size, 1-byte lengths). */
    private static int recordStart(ByteBuffer b, int i) {
        int bodyLength = b.get(HEADER) >> 1; // zig-zag, one byte for these small records
        return HEADER + i * (1 + bodyLength);
    }

    private void assertCorrupt(StoreEngine s, ByteBuffer batch, String... messageParts) {
        assertThatThrownBy(() -> s.appendBatch(tp, batch).join()).satisfies(t -> {
            ShaleException e = ShaleException.unwrap(t);
            assertThat(e).as("ShaleException behind %s", t).isNotNull();
            assertThat(e.kind()).as("kind of %s", e.getMessage()).isEqualTo(ErrorKind.CORRUPT_RECORD);
            assertThat(e.getMessage()).contains(tp.toString()).contains("batch 0");
            for (String part : messageParts) {
                assertThat(e.getMessage()).contains(part);
            }
        });
        assertThat(s.highWatermark(tp)).as("nothing stored").isZero();
    }

    // ------------------------------------------------------------------ accepted

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
    void validKafkaBatchesInEveryCodecShouldBeAcceptedAndReadBack(String codec) {
        StoreEngine s = store();
        long now = clock.millis();
        s.appendBatch(tp, plain(codec)).join();
        s.appendBatch(tp, kafkaBatch(codec(codec), 7L, (short) 0, 0, false, now - 3, now - 1, now - 2)).join();
        s.appendBatch(tp, kafkaBatch(codec(codec), 8L, (short) 0, 0, true, now)).join();
        assertThat(readAll(s, tp)).containsExactly("value-0", "value-1", "value-2", "value-0", "value-1", "value-2",
                "value-0");
        assertThat(s.read(tp, 3, 1 << 20).batches().get(0).maxTimestamp()).isEqualTo(now - 1);
    }

    @Test
    void controlBatchesFromProducersShouldBeRefusedAsKafkaRefusesThem() {
        StoreEngine s = store();
        s.appendBatch(tp, kafkaBatch(Compression.NONE, 9L, (short) 1, 0, true, clock.millis())).join();
        assertKind(() -> s.appendBatch(tp, MemoryRecords.withEndTransactionMarker(clock.millis(), 9L, (short) 1,
                new EndTransactionMarker(ControlRecordType.COMMIT, 0)).buffer()).join(), ErrorKind.INVALID_RECORD);
        s.writeTxnMarker(tp, 9L, (short) 1, 0, true).join();
        assertThat(s.highWatermark(tp)).isEqualTo(2);
    }

    @Test
    void aWrongMaxTimestampShouldBeRewrittenFromTheRecordsWithAValidCrc() {
        StoreEngine s = store();
        ByteBuffer b = plain("none");
        long truth = b.getLong(35);
        b.putLong(35, truth + 1_000); // the producer lies about its max timestamp
        fixCrc(b);
        AppendResult r = s.appendBatch(tp, b).join();
        RecordBatch stored = s.read(tp, r.baseOffset(), 1 << 20).batches().get(0);
        assertThat(stored.maxTimestamp()).isEqualTo(truth);
        assertThat(stored.isValid()).isTrue();
    }

    @Test
    void basicValidationShouldBeSelectableAndUnknownLevelsRejected() {
        StoreEngine s = open(Map.of("append.validation", "basic"));
        s.createTopic("t", 1);
        ByteBuffer b = plain("none");
        b.putInt(57, RECORDS - 1); // recordsCount
        b.putInt(23, RECORDS - 2); // lastOffsetDelta agrees: only decoding the records can tell
        fixCrc(b);
        s.appendBatch(tp, b).join(); // basic validation does not decode records
        assertKind(() -> open(Map.of("append.validation", "paranoid")), ErrorKind.INVALID_ARGUMENT);
    }

    /**
     * The codec id is a header field: basic validation accepted ids 5-7, and the stored batch then
     * made every reader's record iteration fail with CORRUPT_RECORD.
     */
    @Test
    void basicValidationShouldRejectAnUnknownCodecId() {
        StoreEngine s = open(Map.of("append.validation", "basic"));
        s.createTopic("t", 1);
        for (short codec = 5; codec <= 7; codec++) {
            ByteBuffer b = plain("none");
            b.putShort(21, codec);
            fixCrc(b);
            assertThatThrownBy(() -> s.appendBatch(tp, b).join()).cause()
                    .isInstanceOfSatisfying(ShaleException.class, e -> {
                        assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT_RECORD);
                        assertThat(e.getMessage()).contains("t-0").contains("unknown compression codec id");
                    });
        }
        s.appendBatch(tp, plain("none")).join();
        List<Record> read = new ArrayList<>();
        s.read(tp, 0, 1 << 20).records().forEach(read::add);
        assertThat(read).hasSize(RECORDS);
    }

    // ------------------------------------------------------------------ rejected

    @Test
    void aRecordCountSmallerThanTheRecordsShouldBeRejected() {
        StoreEngine s = store();
        ByteBuffer b = plain("none");
        b.putInt(57, RECORDS - 1); // recordsCount
        b.putInt(23, RECORDS - 2); // lastOffsetDelta agrees, so only decoding the records can tell
        fixCrc(b);
        assertCorrupt(s, b, "bytes left after the 2 records the header declares");
    }

    @Test
    void aRecordCountLargerThanTheRecordsShouldBeRejected() {
        StoreEngine s = store();
        ByteBuffer b = plain("gzip");
        b.putInt(57, RECORDS + 1);
        b.putInt(23, RECORDS);
        fixCrc(b);
        assertCorrupt(s, b, "does not decode at record 3");
    }

    @ParameterizedTest
    @ValueSource(ints = {5, 6, 7})
    void anUnknownCodecIdShouldBeRejected(int id) {
        StoreEngine s = store();
        ByteBuffer b = plain("none");
        b.putShort(21, (short) (b.getShort(21) & ~7 | id));
        fixCrc(b);
        assertCorrupt(s, b, "unknown compression codec id " + id);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gzip", "snappy", "lz4", "zstd"})
    void aCorruptCompressedPayloadShouldBeRejected(String codec) {
        StoreEngine s = store();
        ByteBuffer b = plain(codec);
        for (int i = HEADER + 4; i < b.limit() - 4; i++) {
            b.put(i, (byte) 0xA5);
        }
        fixCrc(b);
        assertCorrupt(s, b, "does not decode");
    }

    @Test
    void aNegativeRecordLengthShouldBeRejected() {
        StoreEngine s = store();
        ByteBuffer b = plain("none");
        b.put(recordStart(b, 1), (byte) 9); // zig-zag -5
        fixCrc(b);
        assertCorrupt(s, b, "does not decode at record 1", "record length -5 is negative");
    }

    @Test
    void anOverlongVarintShouldBeRejected() {
        StoreEngine s = store();
        ByteBuffer b = plain("none");
        int at = recordStart(b, 0) + 3; // record 0's offset delta
        for (int i = 0; i < 6; i++) {
            b.put(at + i, (byte) 0x80);
        }
        fixCrc(b);
        assertCorrupt(s, b, "does not decode at record 0", "varint longer than 5 bytes");
    }

    @Test
    void truncatedRecordsShouldBeRejected() {
        StoreEngine s = store();
        ByteBuffer full = plain("none");
        ByteBuffer b = ByteBuffer.allocate(full.limit() - 5);
        b.put(full.duplicate().limit(b.capacity())).flip();
        b.putInt(8, b.limit() - 12); // the length field agrees with the truncated bytes
        fixCrc(b);
        assertCorrupt(s, b, "does not decode at record 2", "exceeds");
    }

    @Test
    void offsetDeltasOutOfOrderShouldBeRejected() {
        StoreEngine s = store();
        ByteBuffer b = plain("none");
        b.put(recordStart(b, 1) + 3, (byte) 4); // record 1's offset delta: 2 instead of 1
        fixCrc(b);
        assertCorrupt(s, b, "record 1 has offset delta 2, expected 1");
    }

    @Test
    void aProducerIdWithoutABaseSequenceShouldBeRejected() {
        StoreEngine s = store();
        long now = clock.millis();
        ByteBuffer b = kafkaBatch(Compression.NONE, 42L, (short) 0, 0, false, now, now);
        b.putInt(53, -1); // baseSequence = NO_SEQUENCE
        fixCrc(b);
        assertCorrupt(s, b, "producer id 42 but base sequence -1");
    }

    @Test
    void aTransactionalBatchWithoutAProducerIdShouldBeRejected() {
        StoreEngine s = store();
        ByteBuffer b = plain("none");
        b.putShort(21, (short) (b.getShort(21) | 0x10));
        fixCrc(b);
        assertCorrupt(s, b, "is transactional but has no producer id");
    }

    @Test
    void aControlBatchThatIsNotTransactionalOrHoldsSeveralRecordsShouldBeRejected() {
        StoreEngine s = store();
        ByteBuffer marker = MemoryRecords.withEndTransactionMarker(clock.millis(), 9L, (short) 1,
                new EndTransactionMarker(ControlRecordType.COMMIT, 0)).buffer();
        ByteBuffer b = ByteBuffer.allocate(marker.remaining()).put(marker.duplicate()).flip();
        b.putShort(21, (short) (b.getShort(21) & ~0x10));
        fixCrc(b);
        assertCorrupt(s, b, "control batch but is not transactional");

        ByteBuffer data = kafkaBatch(Compression.NONE, 9L, (short) 1, 0, true, clock.millis(), clock.millis());
        data.putShort(21, (short) (data.getShort(21) | 0x20)); // two data records dressed as a control batch
        fixCrc(data);
        assertCorrupt(s, data, "control batch but holds 2 records");
    }

    @Test
    void theDeleteHorizonFlagFromAProducerShouldBeRejected() {
        StoreEngine s = store();
        ByteBuffer b = plain("none");
        b.putShort(21, (short) (b.getShort(21) | 0x40));
        fixCrc(b);
        assertCorrupt(s, b, "delete-horizon");
    }

    @Test
    void aRecordTimestampOutsideTheWindowShouldBeRejectedEvenIfTheHeaderIsFine() {
        StoreEngine s = store(Map.of(TopicConfig.MESSAGE_TIMESTAMP_BEFORE_MAX_MS, 60_000));
        long now = clock.millis();
        ByteBuffer b = kafkaBatch(Compression.NONE, -1L, (short) -1, -1, false, now, now - 600_000, now);
        assertKind(() -> s.appendBatch(tp, b).join(), ErrorKind.INVALID_ARGUMENT);
        assertThat(s.highWatermark(tp)).isZero();
    }

    @Test
    void aDecompressionBombShouldBeRejectedAtTheBound() throws IOException {
        StoreEngine s = store();
        // one gzip record whose value is 65 MiB of zeros: about 64 KiB compressed, past the 64 MiB bound
        int valueLength = 65 << 20;
        ByteArrayOutputStream compressed = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(compressed, 64 * 1024)) {
            ByteArrayOutputStream prefix = new ByteArrayOutputStream();
            prefix.write(new byte[] {0, 0, 0, 1}); // attributes, timestamp delta, offset delta, key length -1
            writeVarint(prefix, valueLength);
            ByteArrayOutputStream record = new ByteArrayOutputStream();
            writeVarint(record, prefix.size() + valueLength + 1);
            prefix.writeTo(record);
            record.writeTo(gz);
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < valueLength / zeros.length; i++) {
                gz.write(zeros);
            }
            gz.write(0); // header count
        }
        long now = clock.millis();
        ByteBuffer b = ByteBuffer.allocate(HEADER + compressed.size());
        b.putLong(0L).putInt(HEADER - 12 + compressed.size()).putInt(-1).put((byte) 2).putInt(0)
                .putShort((short) 1).putInt(0).putLong(now).putLong(now).putLong(-1L).putShort((short) -1)
                .putInt(-1).putInt(1).put(compressed.toByteArray()).flip();
        fixCrc(b);
        assertCorrupt(s, b, "does not decode at record 0", "more than " + (64 << 20) + " bytes");
    }

    private static void writeVarint(ByteArrayOutputStream out, int value) {
        int v = (value << 1) ^ (value >> 31);
        while ((v & ~0x7F) != 0) {
            out.write((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.write(v);
    }

    // ------------------------------------------------------------------ fuzz

    /**
     * Seeded random mutations of real Kafka batches, CRC fixed most of the time: appendBatch either
     * fails with a ShaleException or stores a batch that both Shale's and Kafka's readers decode.
     */
    @Test
    void randomMutationsShouldBeRejectedOrStoredDecodably() {
        StoreEngine s = store();
        String[] codecs = {"none", "gzip", "snappy", "lz4", "zstd"};
        Random rnd = new Random(20261207L);
        int accepted = 0;
        int rejected = 0;
        for (int iter = 0; iter < 600; iter++) {
            long now = clock.millis();
            ByteBuffer b = kafkaBatch(codec(codecs[iter % codecs.length]), iter % 3 == 0 ? 5L : -1L, (short) 0,
                    iter % 3 == 0 ? 0 : -1, false, now, now - rnd.nextInt(1000), now);
            int mutations = 1 + rnd.nextInt(3);
            for (int m = 0; m < mutations; m++) {
                int at = 21 + rnd.nextInt(b.limit() - 21);
                switch (rnd.nextInt(3)) {
                    case 0:
                        b.put(at, (byte) (b.get(at) ^ (1 << rnd.nextInt(8))));
                        break;
                    case 1:
                        b.put(at, (byte) rnd.nextInt(256));
                        break;
                    default:
                        b.put(at, (byte) (rnd.nextBoolean() ? 0x80 : 0xFF));
                        break;
                }
            }
            if (rnd.nextInt(10) < 9) {
                fixCrc(b);
            }
            AppendResult r;
            try {
                r = s.appendBatch(tp, b).join();
            } catch (RuntimeException t) {
                ShaleException e = ShaleException.unwrap(t);
                assertThat(e).as("iteration %d: %s", iter, t).isNotNull();
                rejected++;
                continue;
            }
            accepted++;
            FetchResult f = s.read(tp, r.baseOffset(), 1 << 20);
            RecordBatch stored = f.batches().get(0);
            assertThat(stored.baseOffset()).isEqualTo(r.baseOffset());
            assertThat(stored.isValid()).as("iteration %d: CRC", iter).isTrue();
            int n = 0;
            for (Record rec : stored) {
                rec.headers();
                n++;
            }
            assertThat(n).as("iteration %d", iter).isEqualTo(stored.recordCount());
            List<String> kafkaSeen = new ArrayList<>();
            for (MutableRecordBatch kb : MemoryRecords.readableRecords(stored.buffer()).batches()) {
                kb.ensureValid();
                for (org.apache.kafka.common.record.internal.Record kr : kb) {
                    kr.headers();
                    kafkaSeen.add(String.valueOf(kr.offset()));
                }
            }
            assertThat(kafkaSeen).as("iteration %d: Kafka's reader", iter).hasSize(n);
        }
        assertThat(rejected).isPositive();
        assertThat(accepted).isPositive();
        assertThat(accepted + rejected).isEqualTo(600);
    }
}
