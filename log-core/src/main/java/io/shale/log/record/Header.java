package io.shale.log.record;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A record header: a UTF-8 key and a nullable binary value.
 *
 * @param key the header key, never null
 * @param value the value as a read-only buffer (position 0), or {@code null}
 */
public record Header(String key, ByteBuffer value) {
    public Header {
        Objects.requireNonNull(key, "header key");
        value = value == null ? null : value.asReadOnlyBuffer();
    }

    public static Header of(String key, byte[] value) {
        return new Header(key, value == null ? null : ByteBuffer.wrap(value));
    }

    public static Header of(String key, String value) {
        return of(key, value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    /** A copy of the value, or {@code null}. */
    public byte[] valueBytes() {
        if (value == null) {
            return null;
        }
        byte[] out = new byte[value.remaining()];
        value.duplicate().get(out);
        return out;
    }
}
