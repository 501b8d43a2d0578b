package io.shale.log.record;

import java.nio.ByteBuffer;
import java.util.Iterator;

/**
 * A read-only view of one Kafka v2 record batch. Creating a view checks the header's sanity
 * (magic, length) but not the CRC; {@link #isValid()} / {@link #ensureValid()} check the CRC.
 * Views are cheap (no copy) and immutable; they are safe to share between threads.
 *
 * <p>Every decoder here assumes its bytes may be corrupt: a lying length, an impossible record
 * count or varint fails with {@code ShaleException(CORRUPT_RECORD)}, never with another exception
 * and never with an allocation sized by an unchecked field.
 */
public final class RecordBatch implements Iterable<Record> {

    private RecordBatch() {
    }

    /**
     * A view of the batch that starts at {@code buffer.position()}. The buffer must hold the whole
     * batch (12 + length bytes from its position); bytes past the batch are ignored.
     *
     * @throws io.shale.log.ShaleException of kind {@code CORRUPT_RECORD} if the header is truncated,
     *     the magic is not 2, or the length field is out of range
     */
    public static RecordBatch wrap(ByteBuffer buffer) {
        throw new UnsupportedOperationException("implemented by the record codec change");
    }

    /**
     * The total size (12 + length) of the batch starting at {@code position}, or -1 if fewer than
     * 12 bytes are available. Does not validate beyond reading the length field.
     */
    public static int sizeAt(ByteBuffer buffer, int position) {
        throw new UnsupportedOperationException("implemented by the record codec change");
    }

    /** Overwrites the base offset of the batch starting at {@code position} (CRC unaffected). */
    public static void setBaseOffset(ByteBuffer buffer, int position, long baseOffset) {
        throw new UnsupportedOperationException("implemented by the record codec change");
    }

    /** Overwrites the partition leader epoch of the batch starting at {@code position} (CRC unaffected). */
    public static void setPartitionLeaderEpoch(ByteBuffer buffer, int position, int epoch) {
        throw new UnsupportedOperationException("implemented by the record codec change");
    }

    /**
     * Marks the batch at {@code position} as LogAppendTime with the given max timestamp, and
     * recomputes its CRC (Kafka's broker does the same).
     */
    public static void setLogAppendTime(ByteBuffer buffer, int position, long timestamp) {
        throw new UnsupportedOperationException("implemented by the record codec change");
    }

    public long baseOffset() { throw new UnsupportedOperationException(); }
    public int lastOffsetDelta() { throw new UnsupportedOperationException(); }
    /** {@code baseOffset + lastOffsetDelta}. */
    public long lastOffset() { throw new UnsupportedOperationException(); }
    /** {@code lastOffset + 1}. */
    public long nextOffset() { throw new UnsupportedOperationException(); }
    /** Total bytes of the batch, header included (12 + length). */
    public int sizeInBytes() { throw new UnsupportedOperationException(); }
    public int partitionLeaderEpoch() { throw new UnsupportedOperationException(); }
    public byte magic() { throw new UnsupportedOperationException(); }
    /** The stored CRC-32C as an unsigned value. */
    public long checksum() { throw new UnsupportedOperationException(); }
    public short attributes() { throw new UnsupportedOperationException(); }
    public CompressionType compressionType() { throw new UnsupportedOperationException(); }
    public TimestampType timestampType() { throw new UnsupportedOperationException(); }
    public boolean isTransactional() { throw new UnsupportedOperationException(); }
    public boolean isControlBatch() { throw new UnsupportedOperationException(); }
    public long baseTimestamp() { throw new UnsupportedOperationException(); }
    public long maxTimestamp() { throw new UnsupportedOperationException(); }
    public long producerId() { throw new UnsupportedOperationException(); }
    public short producerEpoch() { throw new UnsupportedOperationException(); }
    public int baseSequence() { throw new UnsupportedOperationException(); }
    /** The recordsCount field. */
    public int recordCount() { throw new UnsupportedOperationException(); }

    /** Whether the stored CRC matches the bytes. */
    public boolean isValid() { throw new UnsupportedOperationException(); }

    /** @throws io.shale.log.ShaleException of kind {@code CORRUPT_RECORD} naming the offsets if the CRC does not match */
    public void ensureValid() { throw new UnsupportedOperationException(); }

    /** The batch's bytes: a read-only buffer, position 0, limit {@link #sizeInBytes()}. No copy. */
    public ByteBuffer buffer() { throw new UnsupportedOperationException(); }

    /**
     * Iterates the records, decompressing if needed. Fails with {@code CORRUPT_RECORD} on
     * malformed records (including a record count that does not match).
     */
    @Override
    public Iterator<Record> iterator() { throw new UnsupportedOperationException(); }

    @Override
    public String toString() { throw new UnsupportedOperationException(); }
}
