package io.shale.log.record;

import static io.shale.log.record.RawBatches.batch;
import static io.shale.log.record.RawBatches.concat;
import static io.shale.log.record.RawBatches.plainRecord;
import static io.shale.log.record.RawBatches.record;
import static io.shale.log.record.Samples.toArray;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class RecordBatchTest {

    private static ByteBuffer fullyConfiguredBatch() {
        return new RecordBatchBuilder()
                .compression(CompressionType.LZ4)
                .baseOffset(5_000_000_000L)
                .partitionLeaderEpoch(17)
                .producer(99L, (short) 3, 40)
                .transactional(true)
                .append(SimpleRecord.of(1_000L, "a".getBytes(StandardCharsets.UTF_8), "1".getBytes(StandardCharsets.UTF_8)))
                .append(SimpleRecord.of(3_000L, null, "2".getBytes(StandardCharsets.UTF_8)))
                .append(SimpleRecord.of(2_000L, "c".getBytes(StandardCharsets.UTF_8), null))
                .build();
    }

    @Test
    void wrapShouldExposeEveryHeaderField() {
        ByteBuffer bytes = fullyConfiguredBatch();
        RecordBatch b = RecordBatch.wrap(bytes);

        assertThat(b.baseOffset()).isEqualTo(5_000_000_000L);
        assertThat(b.lastOffsetDelta()).isEqualTo(2);
        assertThat(b.lastOffset()).isEqualTo(5_000_000_002L);
        assertThat(b.nextOffset()).isEqualTo(5_000_000_003L);
        assertThat(b.sizeInBytes()).isEqualTo(bytes.remaining());
        assertThat(b.partitionLeaderEpoch()).isEqualTo(17);
        assertThat(b.magic()).isEqualTo((byte) 2);
        assertThat(b.compressionType()).isEqualTo(CompressionType.LZ4);
        assertThat(b.attributes()).isEqualTo((short) (3 | 0x10));
        assertThat(b.timestampType()).isEqualTo(TimestampType.CREATE_TIME);
        assertThat(b.isTransactional()).isTrue();
        assertThat(b.isControlBatch()).isFalse();
        assertThat(b.baseTimestamp()).isEqualTo(1_000L);
        assertThat(b.maxTimestamp()).isEqualTo(3_000L);
        assertThat(b.producerId()).isEqualTo(99L);
        assertThat(b.producerEpoch()).isEqualTo((short) 3);
        assertThat(b.baseSequence()).isEqualTo(40);
        assertThat(b.recordCount()).isEqualTo(3);
        assertThat(b.isValid()).isTrue();
        assertThat(b.checksum()).isEqualTo(bytes.getInt(17) & 0xFFFFFFFFL);
    }

    @Test
    void headerFieldsShouldBeReadFromTheirDocumentedOffsets() {
        RecordBatch b = RecordBatch.wrap(batch(0x20 | 0x08, 0, new byte[0]));
        assertThat(b.baseOffset()).isEqualTo(100L);
        assertThat(b.partitionLeaderEpoch()).isEqualTo(7);
        assertThat(b.baseTimestamp()).isEqualTo(1000L);
        assertThat(b.maxTimestamp()).isEqualTo(2000L);
        assertThat(b.isControlBatch()).isTrue();
        assertThat(b.timestampType()).isEqualTo(TimestampType.LOG_APPEND_TIME);
        assertThat(b.producerId()).isEqualTo(-1L);
        assertThat(b.sizeInBytes()).isEqualTo(61);
        assertThat(b.isValid()).isTrue();
    }

    @Test
    void anEmptyBatchShouldIterateNoRecords() {
        RecordBatch b = RecordBatch.wrap(batch(0, 0, new byte[0]));
        assertThat(b.iterator().hasNext()).isFalse();
        assertThatThrownBy(() -> b.iterator().next()).isInstanceOf(NoSuchElementException.class);
    }

    @Test
    void viewShouldNotDependOnTheCallersLaterPositionOrLimitChanges() {
        ByteBuffer one = fullyConfiguredBatch();
        ByteBuffer big = ByteBuffer.allocate(one.remaining() + 30);
        big.position(10);
        big.put(one.duplicate());
        big.put(new byte[] {9, 9, 9});
        big.position(10);
        RecordBatch b = RecordBatch.wrap(big);

        big.position(0).limit(5);
        big.put(0, (byte) 1);
        assertThat(b.baseOffset()).isEqualTo(5_000_000_000L);
        assertThat(b.sizeInBytes()).isEqualTo(one.remaining());
        assertThat(b.isValid()).isTrue();
        assertThat(Samples.records(b)).hasSize(3);
        assertThat(toArray(b.buffer())).isEqualTo(toArray(one));
    }

    @Test
    void wrapShouldLeaveTheCallersPositionAlone() {
        ByteBuffer bytes = fullyConfiguredBatch();
        RecordBatch.wrap(bytes);
        assertThat(bytes.position()).isZero();
    }

    @Test
    void wrapShouldReadABigEndianBatchFromALittleEndianBuffer() {
        ByteBuffer bytes = fullyConfiguredBatch().order(ByteOrder.LITTLE_ENDIAN);
        RecordBatch b = RecordBatch.wrap(bytes);
        assertThat(b.baseOffset()).isEqualTo(5_000_000_000L);
        assertThat(b.isValid()).isTrue();
        assertThat(RecordBatch.sizeAt(bytes, 0)).isEqualTo(bytes.remaining());
    }

    @Test
    void wrapShouldIgnoreBytesPastTheBatch() {
        ByteBuffer one = fullyConfiguredBatch();
        ByteBuffer more = ByteBuffer.allocate(one.remaining() + 100);
        more.put(one.duplicate()).put(new byte[100]).flip();
        RecordBatch b = RecordBatch.wrap(more);
        assertThat(b.sizeInBytes()).isEqualTo(one.remaining());
        assertThat(b.buffer().remaining()).isEqualTo(one.remaining());
        assertThat(b.isValid()).isTrue();
    }

    @Test
    void wrapShouldRejectAHeaderShorterThan61Bytes() {
        ByteBuffer bytes = fullyConfiguredBatch();
        bytes.limit(60);
        assertCorrupt(() -> RecordBatch.wrap(bytes), "truncated record batch header");
    }

    @Test
    void wrapShouldRejectAnotherMagic() {
        ByteBuffer bytes = fullyConfiguredBatch();
        bytes.put(16, (byte) 1);
        assertCorrupt(() -> RecordBatch.wrap(bytes), "magic 1");
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 0, 48, Integer.MIN_VALUE})
    void wrapShouldRejectALengthBelowTheHeaderSize(int length) {
        ByteBuffer bytes = fullyConfiguredBatch();
        bytes.putInt(8, length);
        assertCorrupt(() -> RecordBatch.wrap(bytes), "length field " + length);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 1000, Integer.MAX_VALUE - 11, Integer.MAX_VALUE})
    void wrapShouldRejectALengthPastTheEndOfTheBuffer(int extra) {
        ByteBuffer bytes = fullyConfiguredBatch();
        int length = (int) Math.min(Integer.MAX_VALUE, (long) bytes.remaining() - 12 + extra);
        bytes.putInt(8, length);
        assertCorrupt(() -> RecordBatch.wrap(bytes), "5000000000");
    }

    @Test
    void sizeAtShouldReadTheLengthFieldWithoutMovingThePosition() {
        ByteBuffer bytes = fullyConfiguredBatch();
        ByteBuffer big = ByteBuffer.allocate(bytes.remaining() + 7);
        big.position(7);
        big.put(bytes.duplicate()).position(3);
        assertThat(RecordBatch.sizeAt(big, 7)).isEqualTo(bytes.remaining());
        assertThat(big.position()).isEqualTo(3);
    }

    @Test
    void sizeAtShouldReturnMinusOneOnlyWhenFewerThan12BytesRemain() {
        ByteBuffer bytes = fullyConfiguredBatch();
        assertThat(RecordBatch.sizeAt(bytes, bytes.limit() - 11)).isEqualTo(-1);
        assertThat(RecordBatch.sizeAt(bytes.duplicate().limit(11), 0)).isEqualTo(-1);
        bytes.putInt(8, -100);
        assertThat(RecordBatch.sizeAt(bytes, 0)).isZero();
        bytes.putInt(8, Integer.MAX_VALUE);
        assertThat(RecordBatch.sizeAt(bytes, 0)).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void setBaseOffsetAndLeaderEpochShouldStampInPlaceKeepingTheCrcValid() {
        ByteBuffer bytes = fullyConfiguredBatch();
        ByteBuffer big = ByteBuffer.allocate(bytes.remaining() + 20).order(ByteOrder.LITTLE_ENDIAN);
        big.position(20);
        big.put(bytes.duplicate()).position(1);
        long crcBefore = RecordBatch.wrap(bytes).checksum();

        RecordBatch.setBaseOffset(big, 20, 123_456_789_012L);
        RecordBatch.setPartitionLeaderEpoch(big, 20, 42);

        assertThat(big.position()).isEqualTo(1);
        RecordBatch b = RecordBatch.wrap(big.duplicate().position(20));
        assertThat(b.baseOffset()).isEqualTo(123_456_789_012L);
        assertThat(b.partitionLeaderEpoch()).isEqualTo(42);
        assertThat(b.checksum()).isEqualTo(crcBefore);
        assertThat(b.isValid()).isTrue();
        assertThat(Samples.records(b)).extracting(Record::offset)
                .containsExactly(123_456_789_012L, 123_456_789_013L, 123_456_789_014L);
    }

    @Test
    void setLogAppendTimeShouldRestampTimestampsAndRecomputeTheCrc() {
        ByteBuffer bytes = fullyConfiguredBatch();
        long crcBefore = RecordBatch.wrap(bytes).checksum();
        bytes.position(9);
        RecordBatch.setLogAppendTime(bytes, 0, 77_777L);
        assertThat(bytes.position()).isEqualTo(9);
        bytes.position(0);

        RecordBatch b = RecordBatch.wrap(bytes);
        assertThat(b.timestampType()).isEqualTo(TimestampType.LOG_APPEND_TIME);
        assertThat(b.maxTimestamp()).isEqualTo(77_777L);
        assertThat(b.checksum()).isNotEqualTo(crcBefore);
        assertThat(b.isValid()).isTrue();
        assertThat(b.compressionType()).isEqualTo(CompressionType.LZ4);
        assertThat(b.isTransactional()).isTrue();
        assertThat(b.baseTimestamp()).isEqualTo(1_000L);
        assertThat(Samples.records(b)).extracting(Record::timestamp).containsOnly(77_777L);
    }

    @Test
    void settersShouldRefuseAPositionWhereNoBatchHeaderIs() {
        ByteBuffer bytes = fullyConfiguredBatch();
        assertCorrupt(() -> RecordBatch.setBaseOffset(bytes, 1, 5), "");
        assertCorrupt(() -> RecordBatch.setPartitionLeaderEpoch(bytes, bytes.limit() - 10, 5), "truncated");
        assertCorrupt(() -> RecordBatch.setLogAppendTime(bytes, 3, 5), "");
    }

    @Test
    void settersShouldFailOnAReadOnlyBuffer() {
        ByteBuffer bytes = fullyConfiguredBatch().asReadOnlyBuffer();
        assertThatThrownBy(() -> RecordBatch.setBaseOffset(bytes, 0, 1)).isInstanceOf(ReadOnlyBufferException.class);
    }

    @Test
    void ensureValidShouldFailOnAnyFlippedByteInTheCoveredRange() {
        ByteBuffer bytes = fullyConfiguredBatch();
        for (int i = 21; i < bytes.limit(); i += 7) {
            ByteBuffer copy = ByteBuffer.wrap(toArray(bytes));
            copy.put(i, (byte) (copy.get(i) ^ 0x10));
            RecordBatch b = RecordBatch.wrap(copy);
            assertThat(b.isValid()).as("flip at %d", i).isFalse();
            assertCorrupt(b::ensureValid, "base offset 5000000000");
        }
    }

    @Test
    void crcShouldNotCoverBaseOffsetOrLeaderEpoch() {
        ByteBuffer bytes = fullyConfiguredBatch();
        bytes.putLong(0, 1L).putInt(12, 1);
        assertThat(RecordBatch.wrap(bytes).isValid()).isTrue();
    }

    @Test
    void crcShouldBeCheckedTheSameOnDirectAndReadOnlyBuffers() {
        ByteBuffer bytes = fullyConfiguredBatch();
        ByteBuffer direct = ByteBuffer.allocateDirect(bytes.remaining()).put(bytes.duplicate()).flip();
        assertThat(RecordBatch.wrap(direct).isValid()).isTrue();
        assertThat(RecordBatch.wrap(bytes.asReadOnlyBuffer()).isValid()).isTrue();
        direct.put(70, (byte) (direct.get(70) + 1));
        assertThat(RecordBatch.wrap(direct).isValid()).isFalse();
        assertThat(Samples.records(RecordBatch.wrap(bytes.asReadOnlyBuffer()))).hasSize(3);
    }

    @Test
    void bufferShouldBeAReadOnlyViewOfTheWholeBatch() {
        ByteBuffer bytes = fullyConfiguredBatch();
        ByteBuffer view = RecordBatch.wrap(bytes).buffer();
        assertThat(view.isReadOnly()).isTrue();
        assertThat(view.position()).isZero();
        assertThat(view.limit()).isEqualTo(bytes.remaining());
        bytes.put(30, (byte) 5);
        assertThat(view.get(30)).as("a view, not a copy").isEqualTo((byte) 5);
    }

    @Test
    void iterationShouldDecodeOffsetsTimestampsNullKeysAndNullValues() {
        List<Record> records = Samples.records(RecordBatch.wrap(fullyConfiguredBatch()));
        assertThat(records).extracting(Record::offset).containsExactly(5_000_000_000L, 5_000_000_001L, 5_000_000_002L);
        assertThat(records).extracting(Record::timestamp).containsExactly(1_000L, 3_000L, 2_000L);
        assertThat(records).extracting(Record::sequence).containsExactly(40, 41, 42);
        assertThat(toArray(records.get(0).key())).isEqualTo("a".getBytes(StandardCharsets.UTF_8));
        assertThat(records.get(1).key()).isNull();
        assertThat(records.get(2).value()).isNull();
        assertThat(toArray(records.get(1).value())).isEqualTo("2".getBytes(StandardCharsets.UTF_8));
        assertThat(records.get(0).headers()).isEmpty();
    }

    @Test
    void iterationShouldDecodeHeadersWithNullValuesAndNonAsciiKeys() {
        ByteBuffer bytes = new RecordBatchBuilder()
                .append(SimpleRecord.of(5L, null, new byte[] {1},
                        Header.of("ключ-\uD83D\uDE00", "v"), Header.of("", (byte[]) null), Header.of("k", new byte[0])))
                .build();
        Record r = Samples.records(RecordBatch.wrap(bytes)).get(0);
        assertThat(r.headers()).hasSize(3);
        assertThat(r.headers().get(0).key()).isEqualTo("ключ-\uD83D\uDE00");
        assertThat(r.headers().get(0).valueBytes()).isEqualTo("v".getBytes(StandardCharsets.UTF_8));
        assertThat(r.headers().get(1).key()).isEmpty();
        assertThat(r.headers().get(1).value()).isNull();
        assertThat(r.headers().get(2).valueBytes()).isEmpty();
        assertThat(r.headers()).isSameAs(r.headers());
    }

    @Test
    void uncompressedKeysAndValuesShouldBeReadOnlySlicesOfTheBatchNotCopies() {
        ByteBuffer bytes = new RecordBatchBuilder().append(SimpleRecord.of("key", "value")).build();
        RecordBatch b = RecordBatch.wrap(bytes);
        Record r = b.iterator().next();
        ByteBuffer key = r.key();
        assertThat(key.isReadOnly()).isTrue();
        assertThat(key.position()).isZero();
        int keyAt = indexOf(bytes.array(), "key".getBytes(StandardCharsets.UTF_8));
        bytes.array()[keyAt] = 'K';
        assertThat(StandardCharsets.UTF_8.decode(key).toString()).isEqualTo("Key");
        assertThat(r.value().isReadOnly()).isTrue();
    }

    @Test
    void eachAccessorCallShouldReturnAnIndependentBuffer() {
        Record r = RecordBatch.wrap(new RecordBatchBuilder().append(SimpleRecord.of("key", "value")).build()).iterator().next();
        r.key().position(2);
        assertThat(r.key().remaining()).isEqualTo(3);
    }

    @Test
    void sequencesShouldWrapAfterIntegerMaxValueAsKafkaDoes() {
        ByteBuffer bytes = new RecordBatchBuilder().producer(1L, (short) 0, Integer.MAX_VALUE - 1)
                .append(SimpleRecord.of("a", "1")).append(SimpleRecord.of("b", "2")).append(SimpleRecord.of("c", "3"))
                .build();
        assertThat(Samples.records(RecordBatch.wrap(bytes))).extracting(Record::sequence)
                .containsExactly(Integer.MAX_VALUE - 1, Integer.MAX_VALUE, 0);
    }

    @Test
    void recordsWithoutAProducerShouldHaveNoSequence() {
        ByteBuffer bytes = new RecordBatchBuilder().append(SimpleRecord.of("a", "1")).build();
        assertThat(RecordBatch.wrap(bytes).iterator().next().sequence()).isEqualTo(-1);
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void everyCodecShouldIterateTheSameRecords(CompressionType type) {
        List<SimpleRecord> in = Samples.randomRecords(new java.util.Random(type.id), 50);
        RecordBatch b = RecordBatch.wrap(Samples.build(type, in));
        assertThat(b.compressionType()).isEqualTo(type);
        assertSameRecords(Samples.records(b), in);
    }

    @Test
    void aRecordCountLargerThanTheRecordsShouldFailAsCorrupt() {
        // long enough values that 3 records could fit, so the early count check passes
        ByteBuffer bytes = batch(0, 3, concat(plainRecord(0, "a", "1234567890"), plainRecord(1, "b", "1234567890")));
        Iterator<Record> it = RecordBatch.wrap(bytes).iterator();
        it.next();
        it.next();
        assertThat(it.hasNext()).isTrue();
        assertCorrupt(it::next, "base offset 100, record 2");
    }

    @Test
    void aRecordCountThatCannotFitShouldFailBeforeIterating() {
        ByteBuffer bytes = batch(0, 1_000_000, concat(plainRecord(0, "a", "1")));
        assertCorrupt(() -> RecordBatch.wrap(bytes).iterator(), "recordsCount 1000000");
    }

    @Test
    void aNegativeRecordCountShouldFailAsCorrupt() {
        ByteBuffer bytes = batch(0, -1, concat(plainRecord(0, "a", "1")));
        assertCorrupt(() -> RecordBatch.wrap(bytes).iterator(), "recordsCount -1");
    }

    @Test
    void bytesLeftAfterTheDeclaredRecordsShouldFailAsCorrupt() {
        ByteBuffer bytes = batch(0, 1, concat(plainRecord(0, "a", "1"), plainRecord(1, "b", "2")));
        Iterator<Record> it = RecordBatch.wrap(bytes).iterator();
        it.next();
        assertCorrupt(it::hasNext, "bytes left after the 1 records");
    }

    @Test
    void aRecordLengthShorterThanItsFieldsShouldFailAsCorrupt() {
        byte[] good = plainRecord(0, "abc", "defg");
        ByteBuffer body = ByteBuffer.wrap(good, 1, good.length - 1);
        ByteBuffer bytes = batch(0, 1, RawBatches.withLength(good.length - 4, body));
        assertCorrupt(() -> RecordBatch.wrap(bytes).iterator().next(), "record 0");
    }

    @Test
    void aRecordLengthLongerThanItsFieldsShouldFailAsCorrupt() {
        byte[] good = plainRecord(0, "abc", "defg");
        ByteBuffer body = ByteBuffer.wrap(concat(java.util.Arrays.copyOfRange(good, 1, good.length), new byte[] {0, 0}));
        ByteBuffer bytes = batch(0, 1, RawBatches.withLength(good.length + 1, body));
        assertCorrupt(() -> RecordBatch.wrap(bytes).iterator().next(), "fields end 2 bytes early");
    }

    @Test
    void aRecordLengthPastTheBatchShouldFailAsCorrupt() {
        byte[] good = plainRecord(0, "abc", "defg");
        ByteBuffer body = ByteBuffer.wrap(good, 1, good.length - 1);
        ByteBuffer bytes = batch(0, 1, RawBatches.withLength(Integer.MAX_VALUE, body));
        assertCorrupt(() -> RecordBatch.wrap(bytes).iterator().next(), "exceeds");
    }

    @ParameterizedTest
    @ValueSource(ints = {-2, -1000, Integer.MIN_VALUE})
    void aKeyLengthBelowMinusOneShouldFailAsCorrupt(int keyLen) {
        ByteBuffer bytes = batch(0, 1, record(0, 0, keyLen, null, 1, new byte[] {1}, 0, null));
        assertCorrupt(() -> RecordBatch.wrap(bytes).iterator().next(), "key length " + keyLen);
    }

    @Test
    void aValueLengthPastTheRecordShouldFailAsCorrupt() {
        ByteBuffer bytes = batch(0, 1, record(0, 0, -1, null, 100, new byte[] {1, 2}, 0, null));
        assertCorrupt(() -> RecordBatch.wrap(bytes).iterator().next(), "value length 100");
    }

    @Test
    void aHugeHeaderCountShouldFailWithoutAllocatingForIt() {
        ByteBuffer bytes = batch(0, 1, record(0, 0, -1, null, -1, null, Integer.MAX_VALUE, new byte[] {2, 'k', 0}));
        assertCorrupt(() -> RecordBatch.wrap(bytes).iterator().next(), "header count " + Integer.MAX_VALUE);
    }

    @Test
    void aNegativeHeaderKeyLengthShouldFailAsCorrupt() {
        ByteBuffer bytes = batch(0, 1, record(0, 0, -1, null, -1, null, 1, new byte[] {1, 0}));
        assertCorrupt(() -> RecordBatch.wrap(bytes).iterator().next(), "header key length -1");
    }

    @ParameterizedTest
    @ValueSource(ints = {5, 6, 7})
    void anUnassignedCodecIdShouldFailAsCorrupt(int id) {
        ByteBuffer bytes = batch(id, 1, plainRecord(0, "a", "b"));
        RecordBatch b = RecordBatch.wrap(bytes);
        assertCorrupt(b::compressionType, "codec id " + id);
        assertCorrupt(b::iterator, "codec id " + id);
        assertThat(b.toString()).contains("unknown(" + id + ")");
    }

    @Test
    void compressedGarbageShouldFailAsCorruptNamingTheCodecAndOffset() {
        for (CompressionType t : new CompressionType[] {CompressionType.GZIP, CompressionType.LZ4,
                CompressionType.SNAPPY, CompressionType.ZSTD}) {
            ByteBuffer bytes = batch(t.id, 1, "definitely not compressed data".getBytes(StandardCharsets.UTF_8));
            assertCorrupt(() -> RecordBatch.wrap(bytes).iterator(), t.kafkaName);
        }
    }

    @Test
    void toStringShouldNameTheOffsetsAndCodec() {
        String s = RecordBatch.wrap(fullyConfiguredBatch()).toString();
        assertThat(s).contains("baseOffset=5000000000", "lastOffset=5000000002", "compression=lz4", "transactional=true");
    }

    @Test
    void oneViewShouldBeReadableByManyThreadsAtOnce() throws Exception {
        List<SimpleRecord> in = Samples.randomRecords(new java.util.Random(12), 200);
        for (CompressionType t : new CompressionType[] {CompressionType.NONE, CompressionType.ZSTD, CompressionType.GZIP}) {
            RecordBatch shared = RecordBatch.wrap(Samples.build(t, in));
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            try {
                List<java.util.concurrent.Future<?>> futures = new java.util.ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    futures.add(pool.submit(() -> {
                        for (int round = 0; round < 5; round++) {
                            shared.ensureValid();
                            assertSameRecords(Samples.records(shared), in);
                        }
                        return null;
                    }));
                }
                for (java.util.concurrent.Future<?> f : futures) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    static void assertSameRecords(List<Record> actual, List<SimpleRecord> expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            Record a = actual.get(i);
            SimpleRecord e = expected.get(i);
            assertThat(a.timestamp()).as("timestamp %d", i).isEqualTo(e.timestamp());
            assertThat(toArray(a.key())).as("key %d", i).isEqualTo(toArray(e.key()));
            assertThat(toArray(a.value())).as("value %d", i).isEqualTo(toArray(e.value()));
            assertThat(a.headers()).as("headers %d", i).hasSameSizeAs(e.headers());
            for (int h = 0; h < e.headers().size(); h++) {
                assertThat(a.headers().get(h).key()).isEqualTo(e.headers().get(h).key());
                assertThat(a.headers().get(h).valueBytes()).isEqualTo(e.headers().get(h).valueBytes());
            }
        }
    }

    static void assertCorrupt(ThrowingCallable call, String messagePart) {
        assertThatThrownBy(call)
                .isInstanceOfSatisfying(ShaleException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT_RECORD))
                .hasMessageContaining(messagePart);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }

}
