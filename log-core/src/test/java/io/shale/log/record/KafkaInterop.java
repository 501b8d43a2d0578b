package io.shale.log.record;

import static io.shale.log.record.Samples.toArray;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.MutableRecordBatch;

/** Builds batches with Kafka's own classes and compares Kafka's and Shale's view of the same bytes. */
final class KafkaInterop {
    private KafkaInterop() {
    }

    /** Everything about a batch except its records. */
    record Settings(CompressionType compression, TimestampType timestampType, long baseOffset, long logAppendTime,
                    long producerId, short producerEpoch, int baseSequence, boolean transactional, int leaderEpoch) {

        static Settings plain(CompressionType c) {
            return new Settings(c, TimestampType.CREATE_TIME, 0L, -1L, -1L, (short) -1, -1, false, -1);
        }

        RecordBatchBuilder shaleBuilder() {
            return new RecordBatchBuilder().compression(compression).timestampType(timestampType)
                    .logAppendTime(logAppendTime).baseOffset(baseOffset).producer(producerId, producerEpoch, baseSequence)
                    .transactional(transactional).partitionLeaderEpoch(leaderEpoch);
        }
    }

    static Compression kafkaCompression(CompressionType t) {
        switch (t) {
            case NONE:
                return Compression.NONE;
            case GZIP:
                return Compression.gzip().build();
            case SNAPPY:
                return Compression.snappy().build();
            case LZ4:
                return Compression.lz4().build();
            case ZSTD:
                return Compression.zstd().build();
            default:
                throw new AssertionError(t);
        }
    }

    static org.apache.kafka.common.record.TimestampType kafkaTimestampType(TimestampType t) {
        return t == TimestampType.LOG_APPEND_TIME
                ? org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME
                : org.apache.kafka.common.record.TimestampType.CREATE_TIME;
    }

    /** One batch built by Kafka's MemoryRecordsBuilder. */
    static ByteBuffer kafkaBatch(Settings s, List<SimpleRecord> records) {
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(256), (byte) 2,
                kafkaCompression(s.compression()), kafkaTimestampType(s.timestampType()), s.baseOffset(),
                s.logAppendTime(), s.producerId(), s.producerEpoch(), s.baseSequence(), s.transactional(), false,
                s.leaderEpoch());
        for (SimpleRecord r : records) {
            b.append(r.timestamp(), dup(r.key()), dup(r.value()), kafkaHeaders(r.headers()));
        }
        return b.build().buffer();
    }

    static org.apache.kafka.common.header.Header[] kafkaHeaders(List<Header> headers) {
        org.apache.kafka.common.header.Header[] out = new org.apache.kafka.common.header.Header[headers.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = new RecordHeader(headers.get(i).key(), headers.get(i).valueBytes());
        }
        return out;
    }

    private static ByteBuffer dup(ByteBuffer b) {
        return b == null ? null : b.duplicate();
    }

    /** Kafka's single batch in {@code bytes}, validated by Kafka. */
    static MutableRecordBatch kafkaView(ByteBuffer bytes) {
        Iterator<MutableRecordBatch> it = MemoryRecords.readableRecords(bytes.duplicate()).batches().iterator();
        assertThat(it.hasNext()).as("Kafka sees a batch").isTrue();
        MutableRecordBatch k = it.next();
        assertThat(it.hasNext()).as("Kafka sees exactly one batch").isFalse();
        k.ensureValid();
        return k;
    }

    /** Asserts that Kafka and Shale read the same header fields and the same records from the bytes. */
    static void assertSameView(MutableRecordBatch k, RecordBatch s) {
        assertThat(s.baseOffset()).isEqualTo(k.baseOffset());
        assertThat(s.lastOffset()).isEqualTo(k.lastOffset());
        assertThat(s.nextOffset()).isEqualTo(k.nextOffset());
        assertThat(s.sizeInBytes()).isEqualTo(k.sizeInBytes());
        assertThat(s.magic()).isEqualTo(k.magic());
        assertThat(s.checksum()).isEqualTo(k.checksum());
        assertThat(s.isValid()).isEqualTo(k.isValid()).isTrue();
        assertThat(s.partitionLeaderEpoch()).isEqualTo(k.partitionLeaderEpoch());
        assertThat(s.compressionType().id).isEqualTo(k.compressionType().id);
        assertThat(s.timestampType().kafkaName).isEqualTo(k.timestampType().name);
        assertThat(s.isTransactional()).isEqualTo(k.isTransactional());
        assertThat(s.isControlBatch()).isEqualTo(k.isControlBatch());
        assertThat(s.maxTimestamp()).isEqualTo(k.maxTimestamp());
        assertThat(s.baseTimestamp()).isEqualTo(((DefaultRecordBatch) k).baseTimestamp());
        assertThat(s.producerId()).isEqualTo(k.producerId());
        assertThat(s.producerEpoch()).isEqualTo(k.producerEpoch());
        assertThat(s.baseSequence()).isEqualTo(k.baseSequence());
        assertThat(s.recordCount()).isEqualTo(k.countOrNull());

        List<org.apache.kafka.common.record.internal.Record> kr = new ArrayList<>();
        k.forEach(kr::add);
        List<Record> sr = Samples.records(s);
        assertThat(sr).hasSameSizeAs(kr);
        for (int i = 0; i < kr.size(); i++) {
            org.apache.kafka.common.record.internal.Record a = kr.get(i);
            Record b = sr.get(i);
            assertThat(b.offset()).as("offset of record %d", i).isEqualTo(a.offset());
            assertThat(b.timestamp()).as("timestamp of record %d", i).isEqualTo(a.timestamp());
            assertThat(b.sequence()).as("sequence of record %d", i).isEqualTo(a.sequence());
            assertThat(toArray(b.key())).as("key of record %d", i).isEqualTo(toArray(a.key()));
            assertThat(toArray(b.value())).as("value of record %d", i).isEqualTo(toArray(a.value()));
            org.apache.kafka.common.header.Header[] kh = a.headers();
            assertThat(b.headers()).as("headers of record %d", i).hasSize(kh.length);
            for (int h = 0; h < kh.length; h++) {
                assertThat(b.headers().get(h).key()).isEqualTo(kh[h].key());
                assertThat(b.headers().get(h).valueBytes()).isEqualTo(kh[h].value());
            }
        }
    }
}
