package io.shale.log.record;

import static io.shale.log.record.RecordBatchLayout.ATTRIBUTES_OFFSET;
import static io.shale.log.record.RecordBatchLayout.BASE_OFFSET_OFFSET;
import static io.shale.log.record.RecordBatchLayout.BASE_SEQUENCE_OFFSET;
import static io.shale.log.record.RecordBatchLayout.BASE_TIMESTAMP_OFFSET;
import static io.shale.log.record.RecordBatchLayout.COMPRESSION_CODEC_MASK;
import static io.shale.log.record.RecordBatchLayout.CONTROL_FLAG_MASK;
import static io.shale.log.record.RecordBatchLayout.CRC_COVERED_START;
import static io.shale.log.record.RecordBatchLayout.CRC_OFFSET;
import static io.shale.log.record.RecordBatchLayout.DELETE_HORIZON_FLAG_MASK;
import static io.shale.log.record.RecordBatchLayout.HEADER_SIZE;
import static io.shale.log.record.RecordBatchLayout.LAST_OFFSET_DELTA_OFFSET;
import static io.shale.log.record.RecordBatchLayout.LENGTH_OFFSET;
import static io.shale.log.record.RecordBatchLayout.LOG_OVERHEAD;
import static io.shale.log.record.RecordBatchLayout.MAGIC;
import static io.shale.log.record.RecordBatchLayout.MAGIC_OFFSET;
import static io.shale.log.record.RecordBatchLayout.MAX_TIMESTAMP_OFFSET;
import static io.shale.log.record.RecordBatchLayout.PARTITION_LEADER_EPOCH_OFFSET;
import static io.shale.log.record.RecordBatchLayout.PRODUCER_EPOCH_OFFSET;
import static io.shale.log.record.RecordBatchLayout.PRODUCER_ID_OFFSET;
import static io.shale.log.record.RecordBatchLayout.RECORDS_COUNT_OFFSET;
import static io.shale.log.record.RecordBatchLayout.TIMESTAMP_TYPE_MASK;
import static io.shale.log.record.RecordBatchLayout.TRANSACTIONAL_FLAG_MASK;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.record.GrowableBytes.LimitExceededException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.OptionalLong;

/*
 * Design:
 *
 * Flyweight. A view is one slice of the caller's buffer (position 0, limit = batch size, big-endian)
 * plus its size; every accessor is an absolute get on that slice. Slicing at wrap time makes the
 * view independent of the caller's later position/limit changes, and only absolute operations are
 * used afterwards, so concurrent readers never disturb each other. The slice is not made read-only
 * internally: a writable heap slice exposes its array, which lets CRC-32C and the snappy decoder
 * work on the bytes without copying; {@link #buffer()} hands out read-only views only. (A caller
 * that wraps a read-only heap buffer gets correct results, but the JDK's CRC32C then copies the
 * bytes in 4 KiB chunks, because such a buffer hides its array: the engine should wrap its own
 * writable or direct buffers.)
 *
 * Iteration. Uncompressed batches are decoded in place: records hold positions into a read-only
 * view of the batch, keys and values are slices of it. Compressed batches are decompressed once
 * per iterator() call into one array (capped at Codecs.MAX_DECOMPRESSED_BYTES, grown only as
 * output is produced), and records slice that array. recordsCount is checked against the bytes
 * available (at least 7 per record) before iterating, and the iterator fails when the records do
 * not exactly fill the section, as Kafka's reader does.
 *
 * Errors. Malformed bytes: ShaleException(CORRUPT_RECORD) naming the base offset and what was
 * wrong. A codec whose library is absent or unusable (an incompatible version, or a LinkageError
 * out of it): ShaleException(INVALID_ARGUMENT) naming the artifact (see Codecs).
 *
 * Static helpers (sizeAt, setBaseOffset, ...) work on the engine's own buffers at absolute
 * positions, in any byte order, without moving the position.
 */
/**
 * A read-only view of one Kafka v2 record batch. Creating a view checks the header's sanity
 * (magic, length) but not the CRC; {@link #isValid()} / {@link #ensureValid()} check the CRC.
 * Views are cheap (no copy) and immutable; they are safe to share between threads.
 *
 * <p>Every decoder here assumes its bytes may be corrupt: a lying length, an impossible record
 * count or varint fails with {@code ShaleException(CORRUPT_RECORD)}, never with another exception
 * and never with an allocation sized by an unchecked field.
 *
 * <p>Pure in-memory decoding, no I/O. The static setters change the caller's bytes in place and
 * are idempotent (stamping the same value twice leaves the same bytes). Iterating a compressed batch
 * decompresses it (at most 64 MiB) on every {@link #iterator()} call; iterating an uncompressed
 * one copies nothing. A batch whose codec library is missing, or present in a version Shale cannot
 * use, fails with {@code ShaleException(INVALID_ARGUMENT)} on iteration only; the header and CRC
 * stay readable.
 */
public final class RecordBatch implements Iterable<Record> {

    /** Smallest legal value of the length field: the header after the length field. */
    private static final int MIN_LENGTH = HEADER_SIZE - LOG_OVERHEAD;

    private final ByteBuffer buf;
    private final int size;

    private RecordBatch(ByteBuffer buf, int size) {
        this.buf = buf;
        this.size = size;
    }

    /**
     * A view of the batch that starts at {@code buffer.position()}. The buffer must hold the whole
     * batch (12 + length bytes from its position); bytes past the batch are ignored.
     *
     * @throws io.shale.log.ShaleException of kind {@code CORRUPT_RECORD} if the header is truncated,
     *     the magic is not 2, or the length field is out of range
     */
    public static RecordBatch wrap(ByteBuffer buffer) {
        int pos = buffer.position();
        int size = checkHeader(buffer, pos, buffer.limit());
        return new RecordBatch(buffer.slice(pos, size), size);
    }

    /**
     * Checks that a sane v2 header starts at {@code pos} and the whole batch lies before
     * {@code limit}; returns the batch size.
     */
    private static int checkHeader(ByteBuffer b, int pos, int limit) {
        int available = limit - pos;
        if (pos < 0 || available < HEADER_SIZE) {
            String where = available >= LOG_OVERHEAD
                    ? "batch at base offset " + BigEndian.getLong(b, pos + BASE_OFFSET_OFFSET) + ", position " + pos
                    : "position " + pos;
            throw new ShaleException(ErrorKind.CORRUPT_RECORD, "truncated record batch header at " + where
                    + ": " + Math.max(available, 0) + " bytes, a v2 header needs " + HEADER_SIZE);
        }
        long baseOffset = BigEndian.getLong(b, pos + BASE_OFFSET_OFFSET);
        int length = BigEndian.getInt(b, pos + LENGTH_OFFSET);
        byte magic = b.get(pos + MAGIC_OFFSET);
        if (magic != MAGIC) {
            throw new ShaleException(ErrorKind.CORRUPT_RECORD, "record batch at base offset " + baseOffset
                    + ", position " + pos + " has magic " + magic + ", expected " + MAGIC);
        }
        if (length < MIN_LENGTH) {
            throw new ShaleException(ErrorKind.CORRUPT_RECORD, "record batch at base offset " + baseOffset
                    + ", position " + pos + " has length field " + length + ", below the minimum " + MIN_LENGTH);
        }
        if ((long) LOG_OVERHEAD + length > available) {
            throw new ShaleException(ErrorKind.CORRUPT_RECORD, "record batch at base offset " + baseOffset
                    + ", position " + pos + " has length field " + length + " but only " + (available - LOG_OVERHEAD)
                    + " bytes follow it");
        }
        return LOG_OVERHEAD + length;
    }

    /**
     * The total size (12 + length) of the batch starting at {@code position}, or -1 if fewer than
     * 12 bytes are available. Does not validate beyond reading the length field: a corrupt length
     * gives a value below {@link RecordBatchLayout#HEADER_SIZE} (0 when 12 + length would be
     * negative, so -1 always means "fewer than 12 bytes") or one larger than the buffer, capped at
     * {@link Integer#MAX_VALUE}.
     */
    public static int sizeAt(ByteBuffer buffer, int position) {
        if (position < 0 || buffer.limit() - position < LOG_OVERHEAD) {
            return -1;
        }
        long size = (long) LOG_OVERHEAD + BigEndian.getInt(buffer, position + LENGTH_OFFSET);
        return (int) Math.max(0, Math.min(size, Integer.MAX_VALUE));
    }

    /**
     * Overwrites the base offset of the batch starting at {@code position} (CRC unaffected).
     *
     * @throws io.shale.log.ShaleException of kind {@code CORRUPT_RECORD} if no sane v2 batch header
     *     (as {@link #wrap} checks it) lies at {@code position}
     * @throws java.nio.ReadOnlyBufferException if the buffer is read-only
     */
    public static void setBaseOffset(ByteBuffer buffer, int position, long baseOffset) {
        checkHeader(buffer, position, buffer.limit());
        BigEndian.putLong(buffer, position + BASE_OFFSET_OFFSET, baseOffset);
    }

    /**
     * Overwrites the partition leader epoch of the batch starting at {@code position} (CRC unaffected).
     *
     * @throws io.shale.log.ShaleException of kind {@code CORRUPT_RECORD} if no sane v2 batch header
     *     lies at {@code position}
     * @throws java.nio.ReadOnlyBufferException if the buffer is read-only
     */
    public static void setPartitionLeaderEpoch(ByteBuffer buffer, int position, int epoch) {
        checkHeader(buffer, position, buffer.limit());
        BigEndian.putInt(buffer, position + PARTITION_LEADER_EPOCH_OFFSET, epoch);
    }

    /**
     * Marks the batch at {@code position} as LogAppendTime with the given max timestamp, and
     * recomputes its CRC (Kafka's broker does the same). Other attribute bits are kept. Does not
     * check the old CRC: validate first if the bytes are untrusted, or a corrupt batch becomes one
     * with a valid CRC.
     *
     * @throws io.shale.log.ShaleException of kind {@code CORRUPT_RECORD} if no sane v2 batch (as
     *     {@link #wrap} checks it) lies at {@code position}
     * @throws java.nio.ReadOnlyBufferException if the buffer is read-only
     */
    public static void setLogAppendTime(ByteBuffer buffer, int position, long timestamp) {
        int size = checkHeader(buffer, position, buffer.limit());
        short attributes = BigEndian.getShort(buffer, position + ATTRIBUTES_OFFSET);
        BigEndian.putShort(buffer, position + ATTRIBUTES_OFFSET, (short) (attributes | TIMESTAMP_TYPE_MASK));
        BigEndian.putLong(buffer, position + MAX_TIMESTAMP_OFFSET, timestamp);
        long crc = BigEndian.crc32c(buffer, position + CRC_COVERED_START, position + size);
        BigEndian.putInt(buffer, position + CRC_OFFSET, (int) crc);
    }

    /**
     * Sets the max timestamp of the CreateTime batch at {@code position} and recomputes its CRC, as
     * Kafka's broker does when the producer's value differs from its records' largest timestamp.
     * Does not check the old CRC (validate first). Idempotent.
     *
     * @throws io.shale.log.ShaleException of kind {@code CORRUPT_RECORD} if no sane v2 batch lies at
     *     {@code position}
     * @throws java.nio.ReadOnlyBufferException if the buffer is read-only
     */
    public static void setMaxTimestamp(ByteBuffer buffer, int position, long timestamp) {
        int size = checkHeader(buffer, position, buffer.limit());
        BigEndian.putLong(buffer, position + MAX_TIMESTAMP_OFFSET, timestamp);
        long crc = BigEndian.crc32c(buffer, position + CRC_COVERED_START, position + size);
        BigEndian.putInt(buffer, position + CRC_OFFSET, (int) crc);
    }

    public long baseOffset() {
        return buf.getLong(BASE_OFFSET_OFFSET);
    }

    public int lastOffsetDelta() {
        return buf.getInt(LAST_OFFSET_DELTA_OFFSET);
    }

    /** {@code baseOffset + lastOffsetDelta}. */
    public long lastOffset() {
        return baseOffset() + lastOffsetDelta();
    }

    /** {@code lastOffset + 1}. */
    public long nextOffset() {
        return lastOffset() + 1;
    }

    /** Total bytes of the batch, header included (12 + length). */
    public int sizeInBytes() {
        return size;
    }

    public int partitionLeaderEpoch() {
        return buf.getInt(PARTITION_LEADER_EPOCH_OFFSET);
    }

    public byte magic() {
        return buf.get(MAGIC_OFFSET);
    }

    /** The stored CRC-32C as an unsigned value. */
    public long checksum() {
        return buf.getInt(CRC_OFFSET) & 0xFFFFFFFFL;
    }

    public short attributes() {
        return buf.getShort(ATTRIBUTES_OFFSET);
    }

    /**
     * The codec named by attributes bits 0-2.
     *
     * @throws io.shale.log.ShaleException of kind {@code CORRUPT_RECORD} for the unassigned ids 5-7
     */
    public CompressionType compressionType() {
        int id = attributes() & COMPRESSION_CODEC_MASK;
        if (id > CompressionType.ZSTD.id) {
            throw new ShaleException(ErrorKind.CORRUPT_RECORD, "record batch at base offset " + baseOffset()
                    + " has unknown compression codec id " + id);
        }
        return CompressionType.forId(id);
    }

    public TimestampType timestampType() {
        return (attributes() & TIMESTAMP_TYPE_MASK) != 0 ? TimestampType.LOG_APPEND_TIME : TimestampType.CREATE_TIME;
    }

    public boolean isTransactional() {
        return (attributes() & TRANSACTIONAL_FLAG_MASK) != 0;
    }

    public boolean isControlBatch() {
        return (attributes() & CONTROL_FLAG_MASK) != 0;
    }

    /**
     * The base timestamp field: the first record's timestamp, or the delete horizon when
     * {@link #isDeleteHorizonSet()} (record timestamps are relative to it either way).
     */
    public long baseTimestamp() {
        return buf.getLong(BASE_TIMESTAMP_OFFSET);
    }

    /**
     * Whether attributes bit 6 is set: a log cleaner wrote this batch and its base timestamp is the
     * time after which its tombstones may be removed (Kafka's KIP-534).
     */
    public boolean isDeleteHorizonSet() {
        return (attributes() & DELETE_HORIZON_FLAG_MASK) != 0;
    }

    /** The delete horizon (epoch ms) if {@link #isDeleteHorizonSet()}, as Kafka's {@code deleteHorizonMs()}. */
    public OptionalLong deleteHorizonMs() {
        return isDeleteHorizonSet() ? OptionalLong.of(baseTimestamp()) : OptionalLong.empty();
    }

    public long maxTimestamp() {
        return buf.getLong(MAX_TIMESTAMP_OFFSET);
    }

    public long producerId() {
        return buf.getLong(PRODUCER_ID_OFFSET);
    }

    public short producerEpoch() {
        return buf.getShort(PRODUCER_EPOCH_OFFSET);
    }

    public int baseSequence() {
        return buf.getInt(BASE_SEQUENCE_OFFSET);
    }

    /** The recordsCount field. */
    public int recordCount() {
        return buf.getInt(RECORDS_COUNT_OFFSET);
    }

    /** Whether the stored CRC matches the bytes. */
    public boolean isValid() {
        return computeChecksum() == checksum();
    }

    private long computeChecksum() {
        return BigEndian.crc32c(buf, CRC_COVERED_START, size);
    }

    /** @throws io.shale.log.ShaleException of kind {@code CORRUPT_RECORD} naming the offsets if the CRC does not match */
    public void ensureValid() {
        long computed = computeChecksum();
        long stored = checksum();
        if (computed != stored) {
            throw new ShaleException(ErrorKind.CORRUPT_RECORD, "record batch at base offset " + baseOffset()
                    + " (last offset " + lastOffset() + ", " + size + " bytes) failed its CRC-32C check: stored 0x"
                    + Long.toHexString(stored) + ", computed 0x" + Long.toHexString(computed));
        }
    }

    /** The batch's bytes: a read-only buffer, position 0, limit {@link #sizeInBytes()}. No copy. */
    public ByteBuffer buffer() {
        return buf.asReadOnlyBuffer();
    }

    /**
     * Iterates the records, decompressing if needed. Fails with {@code CORRUPT_RECORD} on
     * malformed records (including a record count that does not match).
     *
     * <p>For a compressed batch this call decompresses the whole records section (at most 64 MiB;
     * more fails as CORRUPT_RECORD) and may fail with {@code ShaleException(INVALID_ARGUMENT)} if the
     * codec's library is not on the classpath or is a version Shale cannot use. Records of an
     * uncompressed batch are slices of this batch's bytes. The iterator is for one thread; call
     * {@code iterator()} again for another.
     */
    @Override
    public Iterator<Record> iterator() {
        CompressionType type = compressionType();
        int count = recordCount();
        if (count < 0) {
            throw corrupt("recordsCount " + count + " is negative");
        }
        if (type == CompressionType.NONE) {
            int available = size - HEADER_SIZE;
            checkCount(count, available, "");
            return new RecordIterator(this, buf.asReadOnlyBuffer(), HEADER_SIZE, size, count);
        }
        Codec codec;
        try {
            codec = Codecs.get(type);
        } catch (ShaleException e) {
            throw new ShaleException(e.kind(), "cannot read record batch at base offset " + baseOffset() + ": "
                    + e.getMessage(), e);
        }
        return iterator(codec);
    }

    /**
     * {@link #iterator()} of a compressed batch with a given codec (tests pass one that fails). A
     * {@link LinkageError} out of the codec (its library lacks a method, class or native symbol)
     * becomes {@code ShaleException(INVALID_ARGUMENT)}, as for a missing library: the bytes may be
     * fine, so they must not be reported corrupt.
     */
    Iterator<Record> iterator(Codec codec) {
        CompressionType type = codec.type;
        int count = recordCount();
        checkCount(count, Codecs.MAX_DECOMPRESSED_BYTES, " (the decompression limit)");
        int compressed = size - HEADER_SIZE;
        GrowableBytes out = new GrowableBytes((int) Math.min((long) compressed * 4 + 64, 1 << 20),
                Codecs.MAX_DECOMPRESSED_BYTES);
        try {
            codec.decompress(buf, HEADER_SIZE, size, out);
        } catch (LimitExceededException e) {
            throw corrupt("decompressing its " + type.kafkaName + " records section produced more than "
                    + Codecs.MAX_DECOMPRESSED_BYTES + " bytes (a decompression bomb or corrupt data)");
        } catch (IOException | RuntimeException e) {
            throw new ShaleException(ErrorKind.CORRUPT_RECORD, "corrupt record batch at base offset " + baseOffset()
                    + ": its " + type.kafkaName + " records section (" + compressed + " bytes) does not decompress: "
                    + e, e);
        } catch (LinkageError e) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "cannot read record batch at base offset "
                    + baseOffset() + ": " + Codecs.linkageFailure(codec, e), e);
        }
        checkCount(count, out.length, " decompressed");
        ByteBuffer records = ByteBuffer.wrap(out.array, 0, out.length).slice().asReadOnlyBuffer();
        return new RecordIterator(this, records, 0, out.length, count);
    }

    private void checkCount(int count, int available, String what) {
        if (count > available / RecordIterator.MIN_RECORD_SIZE) {
            throw corrupt("recordsCount " + count + " cannot fit in " + available + what
                    + " bytes (each record takes at least " + RecordIterator.MIN_RECORD_SIZE + ")");
        }
    }

    private ShaleException corrupt(String what) {
        return new ShaleException(ErrorKind.CORRUPT_RECORD, "corrupt record batch at base offset " + baseOffset()
                + ": " + what);
    }

    @Override
    public String toString() {
        int attributes = attributes();
        int codecId = attributes & COMPRESSION_CODEC_MASK;
        String codec = codecId <= CompressionType.ZSTD.id ? CompressionType.forId(codecId).kafkaName : "unknown(" + codecId + ")";
        return "RecordBatch(baseOffset=" + baseOffset() + ", lastOffset=" + lastOffset() + ", count=" + recordCount()
                + ", size=" + size + ", compression=" + codec + ", timestampType=" + timestampType().kafkaName
                + ", baseTimestamp=" + baseTimestamp() + ", maxTimestamp=" + maxTimestamp()
                + ", producerId=" + producerId() + ", producerEpoch=" + producerEpoch()
                + ", baseSequence=" + baseSequence() + ", partitionLeaderEpoch=" + partitionLeaderEpoch()
                + ", transactional=" + isTransactional() + ", control=" + isControlBatch()
                + (isDeleteHorizonSet() ? ", deleteHorizonMs=" + baseTimestamp() : "")
                + ", crc=0x" + Long.toHexString(checksum()) + ")";
    }
}
