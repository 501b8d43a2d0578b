package io.shale.log.record;

/**
 * Zig-zag variable-length integers as used inside Kafka v2 records (the protobuf encoding):
 * {@code (n << 1) ^ (n >> 31)} written seven bits at a time, least significant group first, the
 * high bit of each byte saying "more follows". An int takes 1 to 5 bytes, a long 1 to 10.
 *
 * <p>Encoding writes into caller-owned arrays (the builder's reusable buffers) so that appending a
 * record allocates nothing. Decoding is bounds-checked by {@link RecordCursor}; the helpers here
 * that decode from arrays are for tests and for trusted, already-bounded input.
 */
final class Varint {
    /** Longest encoding of a zig-zag int. */
    static final int MAX_VARINT_BYTES = 5;
    /** Longest encoding of a zig-zag long. */
    static final int MAX_VARLONG_BYTES = 10;

    private Varint() {
    }

    /** Bytes needed to encode {@code value} as a zig-zag varint. */
    static int sizeOfVarint(int value) {
        int v = (value << 1) ^ (value >> 31);
        // 1 byte per started group of 7 bits, at least one byte
        int bits = 32 - Integer.numberOfLeadingZeros(v | 1);
        return (bits + 6) / 7;
    }

    /** Bytes needed to encode {@code value} as a zig-zag varlong. */
    static int sizeOfVarlong(long value) {
        long v = (value << 1) ^ (value >> 63);
        int bits = 64 - Long.numberOfLeadingZeros(v | 1);
        return (bits + 6) / 7;
    }

    /** Writes {@code value} as a zig-zag varint at {@code pos}; returns the position after it. */
    static int writeVarint(byte[] dst, int pos, int value) {
        int v = (value << 1) ^ (value >> 31);
        while ((v & 0xFFFFFF80) != 0) {
            dst[pos++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        dst[pos++] = (byte) v;
        return pos;
    }

    /** Writes {@code value} as a zig-zag varlong at {@code pos}; returns the position after it. */
    static int writeVarlong(byte[] dst, int pos, long value) {
        long v = (value << 1) ^ (value >> 63);
        while ((v & 0xFFFFFFFFFFFFFF80L) != 0L) {
            dst[pos++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        dst[pos++] = (byte) v;
        return pos;
    }

    /** Undoes the zig-zag mapping of an int. */
    static int unzigzag(int v) {
        return (v >>> 1) ^ -(v & 1);
    }

    /** Undoes the zig-zag mapping of a long. */
    static long unzigzag(long v) {
        return (v >>> 1) ^ -(v & 1L);
    }
}
