package io.shale.log.record;

import static io.shale.log.record.RecordBatchTest.assertSameRecords;
import static io.shale.log.record.Samples.toArray;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class RecordBatchBuilderTest {

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void everyCodecShouldRoundTripRandomRecordSets(CompressionType type) {
        Random rnd = new Random(1000 + type.id);
        RecordBatchBuilder b = new RecordBatchBuilder();
        for (int round = 0; round < 30; round++) {
            List<SimpleRecord> in = Samples.randomRecords(rnd, 1 + rnd.nextInt(60));
            b.reset().compression(type).baseOffset(round * 1000L);
            in.forEach(b::append);
            ByteBuffer bytes = b.build();
            RecordBatch batch = RecordBatch.wrap(bytes);
            batch.ensureValid();
            assertThat(batch.compressionType()).isEqualTo(type);
            assertThat(batch.recordCount()).isEqualTo(in.size());
            assertThat(batch.lastOffsetDelta()).isEqualTo(in.size() - 1);
            assertThat(batch.sizeInBytes()).isEqualTo(bytes.remaining()).isLessThanOrEqualTo(b.sizeUpperBound());
            List<Record> out = Samples.records(batch);
            assertSameRecords(out, in);
            for (int i = 0; i < out.size(); i++) {
                assertThat(out.get(i).offset()).isEqualTo(round * 1000L + i);
            }
        }
    }

    @Test
    void baseTimestampShouldBeTheFirstRecordsAndMaxTheLargestAsInKafka() {
        ByteBuffer bytes = new RecordBatchBuilder()
                .append(SimpleRecord.of(500L, null, null))
                .append(SimpleRecord.of(100L, null, null))
                .append(SimpleRecord.of(900L, null, null))
                .append(SimpleRecord.of(700L, null, null))
                .build();
        RecordBatch b = RecordBatch.wrap(bytes);
        assertThat(b.baseTimestamp()).isEqualTo(500L);
        assertThat(b.maxTimestamp()).isEqualTo(900L);
        assertThat(Samples.records(b)).extracting(Record::timestamp).containsExactly(500L, 100L, 900L, 700L);
    }

    @Test
    void recordsWithoutTimestampShouldGetTheDefaultTimestamp() {
        ByteBuffer bytes = new RecordBatchBuilder().defaultTimestamp(4242L)
                .append(SimpleRecord.of("k", "v"))
                .append(SimpleRecord.of(10L, null, null))
                .build();
        assertThat(Samples.records(RecordBatch.wrap(bytes))).extracting(Record::timestamp).containsExactly(4242L, 10L);
    }

    @Test
    void recordsWithoutTimestampShouldGetTheCurrentTimeWhenNoDefaultIsSet() {
        // It was 0 (1970): a batch built the README's way was older than any retention.ms and
        // retention dropped it right after its upload.
        long before = System.currentTimeMillis();
        RecordBatchBuilder builder = new RecordBatchBuilder();
        ByteBuffer first = builder.append(SimpleRecord.of("k", "v")).build();
        ByteBuffer second = builder.reset().defaultTimestamp(7L).reset().append(SimpleRecord.of("k", "v")).build();
        long after = System.currentTimeMillis();
        for (ByteBuffer bytes : List.of(first, second)) {
            RecordBatch b = RecordBatch.wrap(bytes);
            assertThat(b.maxTimestamp()).isBetween(before, after);
            assertThat(b.iterator().next().timestamp()).isBetween(before, after);
        }
    }

    @Test
    void aDefaultTimestampOfMinusOneShouldWriteRecordsWithoutTimestamp() {
        ByteBuffer bytes = new RecordBatchBuilder().defaultTimestamp(-1L).append(SimpleRecord.of("k", "v")).build();
        RecordBatch b = RecordBatch.wrap(bytes);
        assertThat(b.maxTimestamp()).isEqualTo(-1L);
        assertThat(b.iterator().next().timestamp()).isEqualTo(-1L);
    }

    @Test
    void logAppendTimeShouldSetTheMaxTimestampAndEveryRecordsTimestamp() {
        ByteBuffer bytes = new RecordBatchBuilder().timestampType(TimestampType.LOG_APPEND_TIME).logAppendTime(99_000L)
                .append(SimpleRecord.of(5L, null, null)).append(SimpleRecord.of(7L, null, null)).build();
        RecordBatch b = RecordBatch.wrap(bytes);
        assertThat(b.timestampType()).isEqualTo(TimestampType.LOG_APPEND_TIME);
        assertThat(b.maxTimestamp()).isEqualTo(99_000L);
        assertThat(b.baseTimestamp()).isEqualTo(5L);
        assertThat(Samples.records(b)).extracting(Record::timestamp).containsOnly(99_000L);
    }

    @Test
    void producerTransactionalControlAndEpochSettingsShouldReachTheHeader() {
        ByteBuffer bytes = new RecordBatchBuilder().producer(12L, (short) 2, -1).transactional(true).control(true)
                .partitionLeaderEpoch(9)
                .append(0L, ByteBuffer.wrap(new byte[] {0, 0, 0, 1}), ByteBuffer.wrap(new byte[6]), List.of())
                .build();
        RecordBatch b = RecordBatch.wrap(bytes);
        assertThat(b.producerId()).isEqualTo(12L);
        assertThat(b.producerEpoch()).isEqualTo((short) 2);
        assertThat(b.baseSequence()).isEqualTo(-1);
        assertThat(b.isTransactional()).isTrue();
        assertThat(b.isControlBatch()).isTrue();
        assertThat(b.partitionLeaderEpoch()).isEqualTo(9);
    }

    @Test
    void defaultsShouldBeKafkasNoProducerValues() {
        RecordBatch b = RecordBatch.wrap(new RecordBatchBuilder().append(SimpleRecord.of("k", "v")).build());
        assertThat(b.producerId()).isEqualTo(-1L);
        assertThat(b.producerEpoch()).isEqualTo((short) -1);
        assertThat(b.baseSequence()).isEqualTo(-1);
        assertThat(b.partitionLeaderEpoch()).isEqualTo(-1);
        assertThat(b.baseOffset()).isZero();
        assertThat(b.compressionType()).isEqualTo(CompressionType.NONE);
        assertThat(b.timestampType()).isEqualTo(TimestampType.CREATE_TIME);
        assertThat(b.isTransactional()).isFalse();
        assertThat(b.isControlBatch()).isFalse();
    }

    @Test
    void sizeUpperBoundShouldBeExactWhenUncompressed() {
        RecordBatchBuilder b = new RecordBatchBuilder();
        Random rnd = new Random(3);
        for (SimpleRecord r : Samples.randomRecords(rnd, 40)) {
            b.append(r);
            assertThat(b.build().remaining()).isEqualTo(b.sizeUpperBound());
        }
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void sizeUpperBoundShouldHoldForIncompressibleData(CompressionType type) {
        Random rnd = new Random(5);
        RecordBatchBuilder b = new RecordBatchBuilder().compression(type);
        for (int i = 0; i < 20; i++) {
            byte[] v = new byte[rnd.nextInt(70_000)];
            rnd.nextBytes(v);
            b.append(SimpleRecord.of(1L, null, v));
            ByteBuffer dst = ByteBuffer.allocate(b.sizeUpperBound());
            int n = b.writeTo(dst);
            assertThat(n).isEqualTo(dst.position()).isLessThanOrEqualTo(b.sizeUpperBound());
        }
    }

    @Test
    void writeToShouldWriteAtThePositionAndAdvanceIt() {
        RecordBatchBuilder b = new RecordBatchBuilder().append(SimpleRecord.of("k", "v"));
        ByteBuffer dst = ByteBuffer.allocate(200).order(ByteOrder.LITTLE_ENDIAN);
        dst.position(13);
        int n = b.writeTo(dst);
        assertThat(dst.position()).isEqualTo(13 + n);
        ByteBuffer built = b.build();
        assertThat(toArray(dst.duplicate().position(13).limit(13 + n))).isEqualTo(toArray(built));
        dst.position(13);
        assertThat(RecordBatch.wrap(dst).isValid()).isTrue();
    }

    @Test
    void writeToShouldWriteIntoDirectBuffers() {
        RecordBatchBuilder b = new RecordBatchBuilder().compression(CompressionType.LZ4).append(SimpleRecord.of("k", "v"));
        ByteBuffer dst = ByteBuffer.allocateDirect(b.sizeUpperBound());
        b.writeTo(dst);
        dst.flip();
        assertThat(toArray(dst)).isEqualTo(toArray(b.build()));
    }

    @Test
    void writeToShouldRefuseADestinationThatIsTooSmall() {
        RecordBatchBuilder b = new RecordBatchBuilder().append(SimpleRecord.of("k", "v"));
        ByteBuffer dst = ByteBuffer.allocate(b.sizeUpperBound() - 1);
        assertThatThrownBy(() -> b.writeTo(dst)).isInstanceOfSatisfying(ShaleException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT));
        assertThat(dst.position()).isZero();
    }

    @Test
    void writingAnEmptyBatchShouldBeAnIllegalState() {
        assertThatThrownBy(() -> new RecordBatchBuilder().build()).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> new RecordBatchBuilder().writeTo(ByteBuffer.allocate(100))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void resetShouldForgetRecordsAndSettings() {
        RecordBatchBuilder b = new RecordBatchBuilder().compression(CompressionType.GZIP).baseOffset(9).producer(1, (short) 1, 1)
                .transactional(true).partitionLeaderEpoch(3).timestampType(TimestampType.LOG_APPEND_TIME)
                .append(SimpleRecord.of("k", "v"));
        b.reset().append(SimpleRecord.of("x", "y"));
        ByteBuffer fresh = new RecordBatchBuilder().append(SimpleRecord.of("x", "y")).build();
        assertThat(b.recordCount()).isEqualTo(1);
        assertThat(toArray(b.build())).isEqualTo(toArray(fresh));
    }

    @Test
    void appendShouldNotMoveTheCallersBuffers() {
        ByteBuffer key = ByteBuffer.wrap("key".getBytes(StandardCharsets.UTF_8));
        ByteBuffer value = ByteBuffer.wrap("--value".getBytes(StandardCharsets.UTF_8)).position(2);
        ByteBuffer hv = ByteBuffer.wrap(new byte[] {1, 2, 3});
        RecordBatchBuilder b = new RecordBatchBuilder().append(1L, key, value, List.of(new Header("h", hv)));
        assertThat(key.position()).isZero();
        assertThat(value.position()).isEqualTo(2);
        Record r = RecordBatch.wrap(b.build()).iterator().next();
        assertThat(StandardCharsets.UTF_8.decode(r.value()).toString()).isEqualTo("value");
    }

    @Test
    void nullHeadersListShouldMeanNoHeaders() {
        Record r = RecordBatch.wrap(new RecordBatchBuilder().append(1L, null, null, null).build()).iterator().next();
        assertThat(r.headers()).isEmpty();
    }

    @Test
    void headerKeysWithUnpairedSurrogatesShouldEncodeAsStringGetBytesDoes() {
        String key = "a\uD800b\uDC00c\uD83D";
        Record r = RecordBatch.wrap(new RecordBatchBuilder().append(SimpleRecord.of(1L, null, null, Header.of(key, "v"))).build())
                .iterator().next();
        assertThat(r.headers().get(0).key()).isEqualTo(new String(key.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
        assertThat(Utf8.encodedLength(key)).isEqualTo(key.getBytes(StandardCharsets.UTF_8).length);
    }

    @Test
    void negativeTimestampsOtherThanMinusOneShouldBeRejected() {
        assertThatThrownBy(() -> new RecordBatchBuilder().append(SimpleRecord.of(-2L, null, null)))
                .isInstanceOfSatisfying(ShaleException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT));
    }

    @Test
    void controlBatchRecordsNeedAControlKey() {
        assertThatThrownBy(() -> new RecordBatchBuilder().control(true).append(SimpleRecord.of("k", "v")))
                .isInstanceOfSatisfying(ShaleException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT));
    }

    @Test
    void producerSettingsKafkaRejectsShouldBeRejected() {
        assertInvalid(new RecordBatchBuilder().transactional(true).append(SimpleRecord.of("k", "v")));
        assertInvalid(new RecordBatchBuilder().producer(5L, (short) -1, 0).append(SimpleRecord.of("k", "v")));
        assertInvalid(new RecordBatchBuilder().producer(5L, (short) 0, -1).append(SimpleRecord.of("k", "v")));
    }

    private static void assertInvalid(RecordBatchBuilder b) {
        assertThatThrownBy(b::build).isInstanceOfSatisfying(ShaleException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT));
    }

    @Test
    void theSameRecordsShouldBeWritableAgainWithAnotherBaseOffset() {
        RecordBatchBuilder b = new RecordBatchBuilder().append(SimpleRecord.of("k", "v"));
        ByteBuffer first = b.build();
        ByteBuffer second = b.baseOffset(50).build();
        assertThat(RecordBatch.wrap(first).baseOffset()).isZero();
        assertThat(RecordBatch.wrap(second).baseOffset()).isEqualTo(50);
        assertThat(RecordBatch.wrap(second).checksum()).isEqualTo(RecordBatch.wrap(first).checksum());
    }

    /**
     * The engine's budget: at most 64 bytes allocated per appended record at 16 records per batch,
     * with a reused builder and destination. Measured over many batches so that a one-off growth of
     * the builder's array does not count; the records to append are made before measuring.
     */
    @Test
    void appendingAndWritingUncompressedBatchesShouldStayWithinTheAllocationBudget() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        org.junit.jupiter.api.Assumptions.assumeTrue(mx.isThreadAllocatedMemorySupported() && mx.isThreadAllocatedMemoryEnabled());
        Random rnd = new Random(11);
        List<SimpleRecord> records = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            records.add(SimpleRecord.of(1_700_000_000_000L + i, Samples.bytes(rnd, 16), Samples.bytes(rnd, 1024),
                    Header.of("trace", "abc")));
        }
        RecordBatchBuilder b = new RecordBatchBuilder();
        ByteBuffer dst = ByteBuffer.allocateDirect(64 * 1024);
        int batches = 2_000;
        for (int warm = 0; warm < 200; warm++) {
            appendBatch(b, records, dst);
        }
        long tid = Thread.currentThread().getId();
        long before = mx.getThreadAllocatedBytes(tid);
        for (int i = 0; i < batches; i++) {
            appendBatch(b, records, dst);
        }
        long allocated = mx.getThreadAllocatedBytes(tid) - before;
        double perRecord = (double) allocated / (batches * 16);
        System.out.printf("builder: %.2f bytes allocated per appended record (16 x 1 KiB records per batch)%n", perRecord);
        assertThat(perRecord).as("bytes allocated per appended record").isLessThanOrEqualTo(64.0);
    }

    private static void appendBatch(RecordBatchBuilder b, List<SimpleRecord> records, ByteBuffer dst) {
        b.reset();
        for (int i = 0; i < records.size(); i++) {
            b.append(records.get(i));
        }
        dst.clear();
        b.writeTo(dst);
    }
}
