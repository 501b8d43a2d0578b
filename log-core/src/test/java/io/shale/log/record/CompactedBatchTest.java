package io.shale.log.record;

import static io.shale.log.record.KafkaInterop.assertSameView;
import static io.shale.log.record.KafkaInterop.kafkaCompression;
import static io.shale.log.record.KafkaInterop.kafkaHeaders;
import static io.shale.log.record.KafkaInterop.kafkaTimestampType;
import static io.shale.log.record.KafkaInterop.kafkaView;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.utils.internals.ByteBufferOutputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * Batches as a log cleaner writes them: records at explicit offsets with gaps, the original last
 * offset kept, and the delete horizon of KIP-534. Checked against Kafka's own builder and reader.
 */
class CompactedBatchTest {
    private static final long BASE = 1_000;
    private static final long HORIZON = 1_800_000_000_000L;

    /** Every third record of {@code all} survives, at its original offset (BASE + index). */
    private static List<Integer> survivors(int n) {
        List<Integer> out = new ArrayList<>();
        for (int i = 1; i < n; i += 3) {
            out.add(i);
        }
        return out;
    }

    private static RecordBatchBuilder shale(CompressionType c, TimestampType type, long horizon, int lastDelta) {
        return new RecordBatchBuilder().compression(c).timestampType(type)
                .logAppendTime(type == TimestampType.LOG_APPEND_TIME ? 1_750_000_000_000L : -1)
                .baseOffset(BASE).producer(42L, (short) 3, 100).partitionLeaderEpoch(7)
                .deleteHorizon(horizon).lastOffsetDelta(lastDelta);
    }

    private static ByteBuffer kafka(CompressionType c, TimestampType type, long horizon, int lastDelta,
            List<SimpleRecord> all, List<Integer> keep) {
        MemoryRecordsBuilder b = new MemoryRecordsBuilder(new ByteBufferOutputStream(256), (byte) 2,
                kafkaCompression(c), kafkaTimestampType(type), BASE,
                type == TimestampType.LOG_APPEND_TIME ? 1_750_000_000_000L : -1, 42L, (short) 3, 100, false, false, 7,
                1 << 24, horizon);
        for (int i : keep) {
            SimpleRecord r = all.get(i);
            b.appendWithOffset(BASE + i, r.timestamp(), dup(r.key()), dup(r.value()), kafkaHeaders(r.headers()));
        }
        b.overrideLastOffset(BASE + lastDelta);
        return b.build().buffer();
    }

    private static ByteBuffer dup(ByteBuffer b) {
        return b == null ? null : b.duplicate();
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = {"NONE", "LZ4", "SNAPPY"})
    void aBatchWithGapsAndADeleteHorizonShouldBeByteForByteWhatKafkasCleanerBuilds(CompressionType c) {
        List<SimpleRecord> all = Samples.randomRecords(new Random(31), 40);
        List<Integer> keep = survivors(all.size());
        for (TimestampType type : TimestampType.values()) {
            for (long horizon : new long[] {-1, HORIZON}) {
                RecordBatchBuilder b = shale(c, type, horizon, all.size() - 1);
                for (int i : keep) {
                    SimpleRecord r = all.get(i);
                    b.appendWithOffset(BASE + i, r.timestamp(), r.key(), r.value(), r.headers());
                }
                ByteBuffer ours = b.build();
                ByteBuffer theirs = kafka(c, type, horizon, all.size() - 1, all, keep);
                assertThat(Samples.toArray(ours)).as("%s %s horizon %d", c, type, horizon)
                        .isEqualTo(Samples.toArray(theirs));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = {"NONE", "GZIP", "LZ4", "SNAPPY", "ZSTD"})
    void kafkaShouldDecodeAShaleBatchWithGapsAsShaleDoes(CompressionType c) {
        List<SimpleRecord> all = Samples.randomRecords(new Random(32), 25);
        List<Integer> keep = survivors(all.size());
        RecordBatchBuilder b = shale(c, TimestampType.CREATE_TIME, HORIZON, all.size() - 1);
        for (int i : keep) {
            SimpleRecord r = all.get(i);
            b.appendWithOffset(BASE + i, r.timestamp(), r.key(), r.value(), r.headers());
        }
        ByteBuffer ours = b.build();
        MutableRecordBatch k = kafkaView(ours);
        RecordBatch s = RecordBatch.wrap(ours);
        assertSameView(k, s);
        assertThat(k.deleteHorizonMs()).hasValue(HORIZON);
        assertThat(s.deleteHorizonMs()).hasValue(HORIZON);
        assertThat(s.isDeleteHorizonSet()).isTrue();
        assertThat(k.lastOffset()).as("the original last offset survives").isEqualTo(BASE + all.size() - 1);
        assertThat(s.recordCount()).isEqualTo(keep.size());

        List<Record> records = Samples.records(s);
        for (int j = 0; j < keep.size(); j++) {
            SimpleRecord original = all.get(keep.get(j));
            Record r = records.get(j);
            assertThat(r.offset()).isEqualTo(BASE + keep.get(j));
            assertThat(r.timestamp()).as("timestamps survive the horizon in the base timestamp field")
                    .isEqualTo(original.timestamp());
            assertThat(r.sequence()).as("sequence = base sequence + offset delta").isEqualTo(100 + keep.get(j));
            assertThat(Samples.toArray(r.value())).isEqualTo(Samples.toArray(original.value()));
        }
    }

    @Test
    void aBatchWithoutExplicitOffsetsShouldBeUnchangedByTheNewSettings() {
        List<SimpleRecord> all = Samples.randomRecords(new Random(33), 10);
        RecordBatchBuilder plain = new RecordBatchBuilder().baseOffset(5);
        RecordBatchBuilder defaults = new RecordBatchBuilder().baseOffset(5).deleteHorizon(-1).lastOffsetDelta(-1);
        all.forEach(plain::append);
        all.forEach(defaults::append);
        RecordBatch b = RecordBatch.wrap(plain.build());
        assertThat(Samples.toArray(defaults.build())).isEqualTo(Samples.toArray(plain.build()));
        assertThat(b.lastOffsetDelta()).isEqualTo(9);
        assertThat(b.isDeleteHorizonSet()).isFalse();
        assertThat(b.deleteHorizonMs()).isEmpty();
    }

    @Test
    void appendAfterAnExplicitOffsetShouldContinueFromIt() {
        RecordBatchBuilder b = new RecordBatchBuilder().baseOffset(10);
        b.appendWithOffset(14, 1, null, null, null);
        b.append(SimpleRecord.of("k", "v"));
        List<Record> rs = Samples.records(RecordBatch.wrap(b.build()));
        assertThat(rs).extracting(Record::offset).containsExactly(14L, 15L);
    }

    @Test
    void offsetsThatDoNotGrowOrLieOutsideTheBatchShouldBeRejected() {
        RecordBatchBuilder b = new RecordBatchBuilder().baseOffset(100);
        assertKind(() -> b.appendWithOffset(99, 1, null, null, null));
        b.appendWithOffset(103, 1, null, null, null);
        assertKind(() -> b.appendWithOffset(103, 1, null, null, null));
        assertKind(() -> b.appendWithOffset(102, 1, null, null, null));
        assertKind(() -> b.appendWithOffset(100L + Integer.MAX_VALUE + 1, 1, null, null, null));
        b.lastOffsetDelta(2);
        assertKind(b::build); // the last offset cannot be below the last record's
        b.lastOffsetDelta(3);
        assertThat(RecordBatch.wrap(b.build()).lastOffset()).isEqualTo(103);
        assertKind(() -> b.lastOffsetDelta(-2));
        assertThatThrownBy(() -> b.deleteHorizon(5)).isInstanceOf(IllegalStateException.class);
        assertKind(() -> new RecordBatchBuilder().deleteHorizon(-5));
    }

    private static void assertKind(Runnable r) {
        assertThatThrownBy(r::run).isInstanceOfSatisfying(ShaleException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT));
    }
}
