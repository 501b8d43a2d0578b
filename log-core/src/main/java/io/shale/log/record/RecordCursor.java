package io.shale.log.record;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;

import java.nio.ByteBuffer;

/**
 * A bounds-checked reader over the records section of one batch (the stored bytes, or the
 * decompressed bytes). Every read checks against {@link #limit} and fails with
 * {@code ShaleException(CORRUPT_RECORD)} naming the batch and record index, so that no
 * {@code IndexOutOfBoundsException} or {@code BufferUnderflowException} can escape a decoder.
 *
 * <p>Uses absolute gets only: the underlying buffer's position is never touched, so a cursor over a
 * shared read-only view is safe while other threads read the same view. One cursor is used by one
 * thread.
 */
final class RecordCursor {
    final ByteBuffer buf;
    int pos;
    int limit;
    private final long baseOffset;
    /** Index of the record being decoded, for messages. */
    int recordIndex;

    RecordCursor(ByteBuffer buf, int pos, int limit, long baseOffset) {
        this.buf = buf;
        this.pos = pos;
        this.limit = limit;
        this.baseOffset = baseOffset;
    }

    int remaining() {
        return limit - pos;
    }

    byte readByte(String field) {
        if (pos >= limit) {
            throw corrupt(field + " runs past the end of the record");
        }
        return buf.get(pos++);
    }

    /** Reads a zig-zag varint; at most 5 bytes, like Kafka's reader. */
    int readVarint(String field) {
        int raw = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            if (pos >= limit) {
                throw corrupt(field + " (varint) runs past the end of the record");
            }
            int b = buf.get(pos++);
            raw |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return Varint.unzigzag(raw);
            }
        }
        throw corrupt(field + " is a varint longer than 5 bytes");
    }

    /** Reads a zig-zag varlong; at most 10 bytes, like Kafka's reader. */
    long readVarlong(String field) {
        long raw = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            if (pos >= limit) {
                throw corrupt(field + " (varlong) runs past the end of the record");
            }
            long b = buf.get(pos++);
            raw |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return Varint.unzigzag(raw);
            }
        }
        throw corrupt(field + " is a varlong longer than 10 bytes");
    }

    /**
     * Reads a length field for a nullable byte string and checks that many bytes follow.
     * Returns -1 for null. Lengths below -1 are corrupt (Kafka writes only -1 for null).
     */
    int readNullableLength(String field) {
        int len = readVarint(field + " length");
        if (len < -1) {
            throw corrupt(field + " length " + len + " is negative");
        }
        if (len > limit - pos) {
            throw corrupt(field + " length " + len + " exceeds the " + (limit - pos) + " bytes left in the record");
        }
        return len;
    }

    void skip(int n) {
        // callers check n against remaining() first
        pos += n;
    }

    ShaleException corrupt(String what) {
        return corrupt(what, baseOffset, recordIndex);
    }

    static ShaleException corrupt(String what, long baseOffset, int recordIndex) {
        return new ShaleException(ErrorKind.CORRUPT_RECORD,
                "corrupt record batch at base offset " + baseOffset + ", record " + recordIndex + ": " + what);
    }
}
