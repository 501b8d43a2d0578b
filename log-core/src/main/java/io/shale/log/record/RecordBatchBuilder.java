package io.shale.log.record;

import static io.shale.log.record.RecordBatchLayout.ATTRIBUTES_OFFSET;
import static io.shale.log.record.RecordBatchLayout.BASE_OFFSET_OFFSET;
import static io.shale.log.record.RecordBatchLayout.BASE_SEQUENCE_OFFSET;
import static io.shale.log.record.RecordBatchLayout.BASE_TIMESTAMP_OFFSET;
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
import static io.shale.log.record.RecordBatchLayout.NO_PARTITION_LEADER_EPOCH;
import static io.shale.log.record.RecordBatchLayout.NO_PRODUCER_EPOCH;
import static io.shale.log.record.RecordBatchLayout.NO_PRODUCER_ID;
import static io.shale.log.record.RecordBatchLayout.NO_SEQUENCE;
import static io.shale.log.record.RecordBatchLayout.NO_TIMESTAMP;
import static io.shale.log.record.RecordBatchLayout.PARTITION_LEADER_EPOCH_OFFSET;
import static io.shale.log.record.RecordBatchLayout.PRODUCER_EPOCH_OFFSET;
import static io.shale.log.record.RecordBatchLayout.PRODUCER_ID_OFFSET;
import static io.shale.log.record.RecordBatchLayout.RECORDS_COUNT_OFFSET;
import static io.shale.log.record.RecordBatchLayout.TIMESTAMP_TYPE_MASK;
import static io.shale.log.record.RecordBatchLayout.TRANSACTIONAL_FLAG_MASK;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;
import java.util.zip.CRC32C;

/*
 * Design:
 *
 * Records are encoded on append, uncompressed, into one reusable array (offset delta = index,
 * timestamp delta against the first record's timestamp, as Kafka's MemoryRecordsBuilder does), so
 * the uncompressed sizeUpperBound() is exact at every moment. writeTo() fills a reusable 61-byte
 * header array, computes CRC-32C over its covered part and the records array with one reusable
 * CRC32C, and copies both into dst: appending and writing an uncompressed batch allocate nothing
 * once the arrays have grown to the working size. With a codec, writeTo() compresses the records
 * array into a second reusable array first; sizeUpperBound() then uses the codec's worst case.
 *
 * Kafka compatibility: the header is what MemoryRecordsBuilder writes for the same inputs
 * (baseTimestamp = first record's timestamp, maxTimestamp = the largest record timestamp or the
 * log append time, lastOffsetDelta = count - 1), so an uncompressed, lz4 or snappy batch is byte
 * for byte the one Kafka builds (tested); gzip and zstd differ only in codec framing details.
 *
 * Compacted batches (what Kafka's log cleaner writes, and Shale's): records at explicit offsets
 * with gaps (appendWithOffset = MemoryRecordsBuilder.appendWithOffset), the original batch's last
 * offset kept (lastOffsetDelta = overrideLastOffset) so the producer's last sequence survives, and
 * the delete horizon of KIP-534 (attributes bit 6; baseTimestamp holds the horizon and timestamp
 * deltas are taken against it, so every record keeps its timestamp).
 */
/**
 * Encodes records into one Kafka v2 record batch. Not thread-safe; reusable after
 * {@link #reset()} without allocating (the engine keeps one per appending thread).
 *
 * <pre>{@code
 * RecordBatchBuilder b = new RecordBatchBuilder().compression(CompressionType.LZ4);
 * b.append(SimpleRecord.of("k", "v"));
 * ByteBuffer batch = b.build();
 * }</pre>
 *
 * <p>Settings may be changed at any time before {@link #writeTo}/{@link #build}, except
 * {@link #control}, which must be set before appending (append checks control-record keys). The
 * builder keeps its records after {@code writeTo}/{@code build}, so the same batch can be written
 * again (for example with another base offset); {@link #reset()} starts a new one.
 *
 * <p>Errors: arguments Kafka would reject (a negative timestamp other than -1, a transactional
 * batch without producer id, a producer id without epoch or sequence) and a codec whose library is
 * missing fail with {@code ShaleException(INVALID_ARGUMENT)}.
 */
public final class RecordBatchBuilder {

    private final GrowableBytes records = new GrowableBytes(1024, Integer.MAX_VALUE);
    private final byte[] header = new byte[HEADER_SIZE];
    private final CRC32C crc = new CRC32C();
    private GrowableBytes compressed;

    private CompressionType compression;
    private Codec codec;
    private TimestampType timestampType;
    private long logAppendTime;
    private long baseOffset;
    private long producerId;
    private short producerEpoch;
    private int baseSequence;
    private boolean transactional;
    private boolean control;
    private int partitionLeaderEpoch;
    private long defaultTimestamp;
    /** Whether {@link #defaultTimestamp(long)} was called since the last reset; if not, the wall clock is used. */
    private boolean defaultTimestampSet;
    private long deleteHorizonMs;
    private int lastOffsetDeltaOverride;

    private int count;
    private int lastOffsetDelta;
    private long firstTimestamp;
    private long maxTimestamp;

    public RecordBatchBuilder() {
        reset();
    }

    /**
     * Codec for the records section (default none).
     *
     * @throws io.shale.log.ShaleException of kind {@code INVALID_ARGUMENT} if the codec's library is not
     *     on the classpath ({@link CompressionType#isAvailable()})
     */
    public RecordBatchBuilder compression(CompressionType type) {
        Objects.requireNonNull(type, "compression type");
        this.codec = type == CompressionType.NONE ? null : Codecs.get(type);
        this.compression = type;
        return this;
    }

    /** Compresses with {@code codec} (tests pass one that fails); {@link #compression} for everyone else. */
    RecordBatchBuilder codec(Codec codec) {
        this.codec = codec;
        this.compression = codec.type;
        return this;
    }

    /** Timestamp type (default CreateTime). With LogAppendTime, {@link #logAppendTime} sets the max timestamp. */
    public RecordBatchBuilder timestampType(TimestampType type) {
        this.timestampType = Objects.requireNonNull(type, "timestamp type");
        return this;
    }

    /**
     * The max timestamp to write for a LogAppendTime batch. If a LogAppendTime batch is written
     * without one, the largest record timestamp is used.
     */
    public RecordBatchBuilder logAppendTime(long timestamp) {
        this.logAppendTime = timestamp;
        return this;
    }

    /** Base offset written into the header (default 0). */
    public RecordBatchBuilder baseOffset(long offset) {
        this.baseOffset = offset;
        return this;
    }

    /** Producer id, epoch and base sequence (default none: -1, -1, -1). */
    public RecordBatchBuilder producer(long producerId, short producerEpoch, int baseSequence) {
        this.producerId = producerId;
        this.producerEpoch = producerEpoch;
        this.baseSequence = baseSequence;
        return this;
    }

    public RecordBatchBuilder transactional(boolean transactional) {
        this.transactional = transactional;
        return this;
    }

    /**
     * Marks the batch as a control batch (transaction markers); records must then be control records.
     * Set it before appending: appends to a control batch must have a key of at least 4 bytes
     * (control record version and type, as Kafka's {@code ControlRecordType} writes them).
     */
    public RecordBatchBuilder control(boolean control) {
        this.control = control;
        return this;
    }

    /** Partition leader epoch written into the header (default -1, as Kafka producers write it). */
    public RecordBatchBuilder partitionLeaderEpoch(int epoch) {
        this.partitionLeaderEpoch = epoch;
        return this;
    }

    /**
     * Adds a record. A record with timestamp {@link RecordBatchLayout#NO_TIMESTAMP} gets the
     * {@link #defaultTimestamp(long) default timestamp}, or the current time if none was set. Key, value and header values are read from their position to their
     * limit without moving it; {@code headers} may be null (no headers). Allocates nothing once the
     * builder's buffer has grown to the working size.
     *
     * @throws io.shale.log.ShaleException of kind {@code INVALID_ARGUMENT} for a timestamp below -1,
     *     a control batch record without a 4-byte key, or a batch that would pass 2 GiB
     */
    public RecordBatchBuilder append(long timestamp, ByteBuffer key, ByteBuffer value, List<Header> headers) {
        return appendAtDelta(lastOffsetDelta + 1, timestamp, key, value, headers);
    }

    /**
     * Adds a record at an explicit offset, as Kafka's log cleaner writes compacted batches: offsets
     * must grow but may leave gaps. Set {@link #baseOffset} first (the record's offset delta is
     * {@code offset - baseOffset}). Otherwise as {@link #append(long, ByteBuffer, ByteBuffer, List)}.
     *
     * @throws io.shale.log.ShaleException of kind {@code INVALID_ARGUMENT} if {@code offset} is not
     *     above the previous record's, is below the base offset, or is more than
     *     {@code Integer.MAX_VALUE} above it; and in the cases {@code append} fails
     */
    public RecordBatchBuilder appendWithOffset(long offset, long timestamp, ByteBuffer key, ByteBuffer value,
            List<Header> headers) {
        long delta = offset - baseOffset;
        if (offset < baseOffset || delta > Integer.MAX_VALUE || delta <= lastOffsetDelta) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "record offset " + offset + " must be above "
                    + (baseOffset + lastOffsetDelta) + " and within 2^31-1 of the base offset " + baseOffset);
        }
        return appendAtDelta((int) delta, timestamp, key, value, headers);
    }

    private RecordBatchBuilder appendAtDelta(int offsetDelta, long timestamp, ByteBuffer key, ByteBuffer value,
            List<Header> headers) {
        long ts = timestamp != NO_TIMESTAMP ? timestamp
                : defaultTimestampSet ? defaultTimestamp : System.currentTimeMillis();
        if (ts < 0 && ts != NO_TIMESTAMP) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "invalid negative record timestamp " + ts);
        }
        if (control && (key == null || key.remaining() < 4)) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT,
                    "a control batch record needs a key of at least 4 bytes (version, type)");
        }
        if (count == 0) {
            firstTimestamp = deleteHorizonMs != NO_TIMESTAMP ? deleteHorizonMs : ts;
        }
        long timestampDelta = ts - firstTimestamp;

        int keyLen = key == null ? -1 : key.remaining();
        int valueLen = value == null ? -1 : value.remaining();
        int headerCount = headers == null ? 0 : headers.size();
        long bodySize = 1 + Varint.sizeOfVarlong(timestampDelta) + Varint.sizeOfVarint(offsetDelta)
                + fieldSize(keyLen) + fieldSize(valueLen) + Varint.sizeOfVarint(headerCount);
        for (int i = 0; i < headerCount; i++) {
            Header h = headers.get(i);
            int klen = Utf8.encodedLength(h.key());
            ByteBuffer hv = h.value();
            bodySize += Varint.sizeOfVarint(klen) + klen + fieldSize(hv == null ? -1 : hv.remaining());
        }
        long recordSize = bodySize + Varint.sizeOfVarint((int) Math.min(bodySize, Integer.MAX_VALUE));
        if (HEADER_SIZE + records.length + recordSize > Integer.MAX_VALUE - 64) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "record batch would be larger than 2 GiB");
        }
        records.ensureRoomUnchecked((int) recordSize);

        byte[] a = records.array;
        int p = Varint.writeVarint(a, records.length, (int) bodySize);
        a[p++] = 0; // record attributes: unused
        p = Varint.writeVarlong(a, p, timestampDelta);
        p = Varint.writeVarint(a, p, offsetDelta);
        p = writeField(a, p, key, keyLen);
        p = writeField(a, p, value, valueLen);
        p = Varint.writeVarint(a, p, headerCount);
        for (int i = 0; i < headerCount; i++) {
            Header h = headers.get(i);
            String k = h.key();
            p = Varint.writeVarint(a, p, Utf8.encodedLength(k));
            p = Utf8.encode(k, a, p);
            ByteBuffer hv = h.value();
            p = writeField(a, p, hv, hv == null ? -1 : hv.remaining());
        }
        records.length = p;
        count++;
        lastOffsetDelta = offsetDelta;
        if (ts > maxTimestamp) {
            maxTimestamp = ts;
        }
        return this;
    }

    private static int fieldSize(int len) {
        return len < 0 ? 1 : Varint.sizeOfVarint(len) + len;
    }

    private static int writeField(byte[] a, int p, ByteBuffer src, int len) {
        p = Varint.writeVarint(a, p, len);
        if (len > 0) {
            src.get(src.position(), a, p, len);
            p += len;
        }
        return p;
    }

    public RecordBatchBuilder append(SimpleRecord record) {
        return append(record.timestamp(), record.key(), record.value(), record.headers());
    }

    /**
     * The timestamp given to records appended with {@link RecordBatchLayout#NO_TIMESTAMP} from now
     * on. Without it (and after {@link #reset()}) such a record gets the current time
     * ({@code System.currentTimeMillis()}) when it is appended, as a Kafka producer stamps a record
     * without a timestamp: a record stamped 0 (1970) would be older than any {@code retention.ms}
     * and dropped by the store's first retention check after its upload. {@code -1} writes records
     * without a timestamp.
     */
    public RecordBatchBuilder defaultTimestamp(long timestamp) {
        this.defaultTimestamp = timestamp;
        this.defaultTimestampSet = true;
        return this;
    }

    /**
     * Sets the delete horizon (Kafka's KIP-534, written by log cleaners into batches holding
     * tombstones): attributes bit 6 is set and the base timestamp field holds {@code deleteHorizonMs};
     * records keep their timestamps (their deltas are taken against it). {@code -1} (the default)
     * writes none. Set it before appending.
     *
     * @throws IllegalStateException if records were appended already
     * @throws io.shale.log.ShaleException of kind {@code INVALID_ARGUMENT} for a negative value other than -1
     */
    public RecordBatchBuilder deleteHorizon(long deleteHorizonMs) {
        if (count > 0) {
            throw new IllegalStateException("set the delete horizon before appending records");
        }
        if (deleteHorizonMs < 0 && deleteHorizonMs != NO_TIMESTAMP) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "invalid negative delete horizon " + deleteHorizonMs);
        }
        this.deleteHorizonMs = deleteHorizonMs;
        return this;
    }

    /**
     * Overrides the header's lastOffsetDelta (default: the last record's offset delta), as Kafka's
     * cleaner keeps a compacted batch's original last offset so that the producer's last sequence
     * survives. {@code -1} restores the default. Checked when the batch is written: it must not be
     * below the last record's offset delta.
     */
    public RecordBatchBuilder lastOffsetDelta(int delta) {
        if (delta < -1) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "invalid lastOffsetDelta " + delta);
        }
        this.lastOffsetDeltaOverride = delta;
        return this;
    }

    /** Records appended so far. */
    public int recordCount() {
        return count;
    }

    /**
     * An upper bound on {@link #writeTo}'s output size for the records appended so far (exact when
     * uncompressed).
     */
    public int sizeUpperBound() {
        if (codec == null) {
            return HEADER_SIZE + records.length;
        }
        return (int) Math.min(Integer.MAX_VALUE, HEADER_SIZE + codec.maxCompressedLength(records.length));
    }

    /**
     * Writes the finished batch at {@code dst.position()}, advances the position past it and
     * returns its size. {@code dst} must have {@link #sizeUpperBound()} bytes remaining. Any byte
     * order; the batch is written big-endian as the format requires.
     *
     * @throws IllegalStateException if no record was appended
     * @throws io.shale.log.ShaleException of kind {@code INVALID_ARGUMENT} if {@code dst} has less room
     *     than the batch needs, or the producer settings are ones Kafka rejects
     */
    public int writeTo(ByteBuffer dst) {
        int bodyLength = prepare();
        int size = HEADER_SIZE + bodyLength;
        if (dst.remaining() < size) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "destination has " + dst.remaining()
                    + " bytes remaining, the batch needs " + size);
        }
        dst.put(header, 0, HEADER_SIZE);
        dst.put(body(), 0, bodyLength);
        return size;
    }

    /** The finished batch in a new heap buffer (position 0). */
    public ByteBuffer build() {
        int bodyLength = prepare();
        ByteBuffer out = ByteBuffer.allocate(HEADER_SIZE + bodyLength);
        out.put(header, 0, HEADER_SIZE);
        out.put(body(), 0, bodyLength);
        return out.flip();
    }

    private byte[] body() {
        return codec == null ? records.array : compressed.array;
    }

    /** Compresses if needed and fills the header (CRC included); returns the records section length. */
    private int prepare() {
        if (count == 0) {
            throw new IllegalStateException("no record was appended to the batch");
        }
        validateProducerState();
        byte[] body;
        int bodyLength;
        if (codec == null) {
            body = records.array;
            bodyLength = records.length;
        } else {
            if (compressed == null) {
                compressed = new GrowableBytes(Math.max(1024, records.length / 2), Integer.MAX_VALUE);
            }
            compressed.clear();
            try {
                codec.compress(records.array, records.length, compressed);
            } catch (IOException | RuntimeException e) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, compression.kafkaName + " compression of "
                        + records.length + " bytes failed: " + e, e);
            } catch (LinkageError e) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, Codecs.linkageFailure(codec, e), e);
            }
            body = compressed.array;
            bodyLength = compressed.length;
        }
        if ((long) HEADER_SIZE + bodyLength > Integer.MAX_VALUE - 64) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "record batch would be larger than 2 GiB");
        }
        int lastDelta = lastOffsetDelta;
        if (lastOffsetDeltaOverride >= 0) {
            if (lastOffsetDeltaOverride < lastOffsetDelta) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "lastOffsetDelta " + lastOffsetDeltaOverride
                        + " is below the last record's offset delta " + lastOffsetDelta);
            }
            lastDelta = lastOffsetDeltaOverride;
        }
        int attributes = compression.id;
        if (timestampType == TimestampType.LOG_APPEND_TIME) {
            attributes |= TIMESTAMP_TYPE_MASK;
        }
        if (transactional) {
            attributes |= TRANSACTIONAL_FLAG_MASK;
        }
        if (control) {
            attributes |= CONTROL_FLAG_MASK;
        }
        if (deleteHorizonMs != NO_TIMESTAMP) {
            attributes |= DELETE_HORIZON_FLAG_MASK;
        }
        long max = timestampType == TimestampType.LOG_APPEND_TIME && logAppendTime != NO_TIMESTAMP
                ? logAppendTime : maxTimestamp;
        byte[] h = header;
        BigEndian.putLong(h, BASE_OFFSET_OFFSET, baseOffset);
        BigEndian.putInt(h, LENGTH_OFFSET, HEADER_SIZE - LOG_OVERHEAD + bodyLength);
        BigEndian.putInt(h, PARTITION_LEADER_EPOCH_OFFSET, partitionLeaderEpoch);
        h[MAGIC_OFFSET] = MAGIC;
        BigEndian.putShort(h, ATTRIBUTES_OFFSET, (short) attributes);
        BigEndian.putInt(h, LAST_OFFSET_DELTA_OFFSET, lastDelta);
        BigEndian.putLong(h, BASE_TIMESTAMP_OFFSET, firstTimestamp);
        BigEndian.putLong(h, MAX_TIMESTAMP_OFFSET, max);
        BigEndian.putLong(h, PRODUCER_ID_OFFSET, producerId);
        BigEndian.putShort(h, PRODUCER_EPOCH_OFFSET, producerEpoch);
        BigEndian.putInt(h, BASE_SEQUENCE_OFFSET, baseSequence);
        BigEndian.putInt(h, RECORDS_COUNT_OFFSET, count);
        crc.reset();
        crc.update(h, CRC_COVERED_START, HEADER_SIZE - CRC_COVERED_START);
        crc.update(body, 0, bodyLength);
        BigEndian.putInt(h, CRC_OFFSET, (int) crc.getValue());
        return bodyLength;
    }

    /** Kafka's MemoryRecordsBuilder rules, so that a batch we write is one Kafka accepts. */
    private void validateProducerState() {
        if (transactional && producerId == NO_PRODUCER_ID) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "a transactional batch needs a producer id");
        }
        if (producerId != NO_PRODUCER_ID) {
            if (producerEpoch == NO_PRODUCER_EPOCH) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT,
                        "producer id " + producerId + " set without a producer epoch");
            }
            if (baseSequence < 0 && !control) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT,
                        "producer id " + producerId + " set with negative base sequence " + baseSequence);
            }
        }
    }

    /** Forgets the records and settings, keeping internal buffers for reuse. */
    public RecordBatchBuilder reset() {
        records.clear();
        count = 0;
        lastOffsetDelta = -1;
        lastOffsetDeltaOverride = -1;
        deleteHorizonMs = NO_TIMESTAMP;
        firstTimestamp = NO_TIMESTAMP;
        maxTimestamp = NO_TIMESTAMP;
        compression = CompressionType.NONE;
        codec = null;
        timestampType = TimestampType.CREATE_TIME;
        logAppendTime = NO_TIMESTAMP;
        baseOffset = 0;
        producerId = NO_PRODUCER_ID;
        producerEpoch = NO_PRODUCER_EPOCH;
        baseSequence = NO_SEQUENCE;
        transactional = false;
        control = false;
        partitionLeaderEpoch = NO_PARTITION_LEADER_EPOCH;
        defaultTimestamp = NO_TIMESTAMP;
        defaultTimestampSet = false;
        return this;
    }
}
