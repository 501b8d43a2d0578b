package io.shale.log.record;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * One record read from a batch. Buffers are read-only views (of the stored batch when it is not
 * compressed, of the decompressed bytes otherwise), valid as long as the caller holds them.
 */
public interface Record {
    /** The record's absolute offset (batch base offset + offset delta). */
    long offset();

    /**
     * The record's timestamp: the batch's max timestamp if the batch uses LogAppendTime, else
     * base timestamp + timestamp delta.
     */
    long timestamp();

    /** The key, or {@code null}. */
    ByteBuffer key();

    /** The value, or {@code null} (a tombstone in a compacted topic). */
    ByteBuffer value();

    /** The headers, possibly empty, never null. */
    List<Header> headers();

    /** The producer sequence of this record, or -1 if the batch has none. */
    int sequence();
}
