package io.shale.log.record;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * A record to append: timestamp, key, value and headers. Immutable; buffers are read from their
 * position to their limit and not modified.
 *
 * @param timestamp the create time in epoch milliseconds, or {@link RecordBatchLayout#NO_TIMESTAMP}:
 *     {@code LogStore.append} and {@code RecordAppender} then use the store's clock, and
 *     {@link RecordBatchBuilder} its default timestamp or else the current time
 * @param key the key or {@code null}
 * @param value the value or {@code null}
 * @param headers the headers, never null
 */
public record SimpleRecord(long timestamp, ByteBuffer key, ByteBuffer value, List<Header> headers) {
    public SimpleRecord {
        headers = List.copyOf(Objects.requireNonNull(headers, "headers"));
        key = key == null ? null : key.asReadOnlyBuffer();
        value = value == null ? null : value.asReadOnlyBuffer();
    }

    public static SimpleRecord of(byte[] key, byte[] value) {
        return new SimpleRecord(RecordBatchLayout.NO_TIMESTAMP, wrap(key), wrap(value), List.of());
    }

    public static SimpleRecord of(String key, String value) {
        return of(utf8(key), utf8(value));
    }

    public static SimpleRecord of(long timestamp, byte[] key, byte[] value, Header... headers) {
        return new SimpleRecord(timestamp, wrap(key), wrap(value), List.of(headers));
    }

    /** The same record with another timestamp. */
    public SimpleRecord withTimestamp(long newTimestamp) {
        return new SimpleRecord(newTimestamp, key, value, headers);
    }

    private static ByteBuffer wrap(byte[] b) {
        return b == null ? null : ByteBuffer.wrap(b);
    }

    private static byte[] utf8(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }
}
