package io.shale.log.record;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Encodes records into one Kafka v2 record batch. Not thread-safe; reusable after
 * {@link #reset()} without allocating (the engine keeps one per appending thread).
 *
 * <pre>{@code
 * RecordBatchBuilder b = new RecordBatchBuilder().compression(CompressionType.LZ4);
 * b.append(SimpleRecord.of("k", "v"));
 * ByteBuffer batch = b.build();
 * }</pre>
 */
public final class RecordBatchBuilder {

    public RecordBatchBuilder() {
        throw new UnsupportedOperationException("implemented by the record codec change");
    }

    /** Codec for the records section (default none). */
    public RecordBatchBuilder compression(CompressionType type) { throw new UnsupportedOperationException(); }

    /** Timestamp type (default CreateTime). With LogAppendTime, {@link #logAppendTime} sets the max timestamp. */
    public RecordBatchBuilder timestampType(TimestampType type) { throw new UnsupportedOperationException(); }

    /** The max timestamp to write for a LogAppendTime batch. */
    public RecordBatchBuilder logAppendTime(long timestamp) { throw new UnsupportedOperationException(); }

    /** Base offset written into the header (default 0). */
    public RecordBatchBuilder baseOffset(long offset) { throw new UnsupportedOperationException(); }

    /** Producer id, epoch and base sequence (default none: -1, -1, -1). */
    public RecordBatchBuilder producer(long producerId, short producerEpoch, int baseSequence) { throw new UnsupportedOperationException(); }

    public RecordBatchBuilder transactional(boolean transactional) { throw new UnsupportedOperationException(); }

    /** Marks the batch as a control batch (transaction markers); records must then be control records. */
    public RecordBatchBuilder control(boolean control) { throw new UnsupportedOperationException(); }

    public RecordBatchBuilder partitionLeaderEpoch(int epoch) { throw new UnsupportedOperationException(); }

    /**
     * Adds a record. A record with timestamp {@link RecordBatchLayout#NO_TIMESTAMP} gets
     * {@code defaultTimestamp}.
     */
    public RecordBatchBuilder append(long timestamp, ByteBuffer key, ByteBuffer value, List<Header> headers) { throw new UnsupportedOperationException(); }

    public RecordBatchBuilder append(SimpleRecord record) { throw new UnsupportedOperationException(); }

    /** The timestamp given to records appended with {@link RecordBatchLayout#NO_TIMESTAMP} (default: 0). */
    public RecordBatchBuilder defaultTimestamp(long timestamp) { throw new UnsupportedOperationException(); }

    /** Records appended so far. */
    public int recordCount() { throw new UnsupportedOperationException(); }

    /**
     * An upper bound on {@link #writeTo}'s output size for the records appended so far (exact when
     * uncompressed).
     */
    public int sizeUpperBound() { throw new UnsupportedOperationException(); }

    /**
     * Writes the finished batch at {@code dst.position()}, advances the position past it and
     * returns its size. {@code dst} must have {@link #sizeUpperBound()} bytes remaining.
     *
     * @throws IllegalStateException if no record was appended
     */
    public int writeTo(ByteBuffer dst) { throw new UnsupportedOperationException(); }

    /** The finished batch in a new heap buffer (position 0). */
    public ByteBuffer build() { throw new UnsupportedOperationException(); }

    /** Forgets the records and settings, keeping internal buffers for reuse. */
    public RecordBatchBuilder reset() { throw new UnsupportedOperationException(); }
}
