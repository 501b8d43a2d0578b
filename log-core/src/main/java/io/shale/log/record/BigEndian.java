package io.shale.log.record;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Absolute big-endian access to a caller's buffer whatever its {@link ByteBuffer#order()}, and the
 * batch CRC. The static {@link RecordBatch} helpers work on buffers the engine owns, which may be
 * little-endian; the batch format is big-endian. Nothing here moves a buffer's position.
 */
final class BigEndian {
    private BigEndian() {
    }

    static int getInt(ByteBuffer b, int index) {
        int v = b.getInt(index);
        return b.order() == ByteOrder.BIG_ENDIAN ? v : Integer.reverseBytes(v);
    }

    static long getLong(ByteBuffer b, int index) {
        long v = b.getLong(index);
        return b.order() == ByteOrder.BIG_ENDIAN ? v : Long.reverseBytes(v);
    }

    static short getShort(ByteBuffer b, int index) {
        short v = b.getShort(index);
        return b.order() == ByteOrder.BIG_ENDIAN ? v : Short.reverseBytes(v);
    }

    static void putInt(ByteBuffer b, int index, int v) {
        b.putInt(index, b.order() == ByteOrder.BIG_ENDIAN ? v : Integer.reverseBytes(v));
    }

    static void putLong(ByteBuffer b, int index, long v) {
        b.putLong(index, b.order() == ByteOrder.BIG_ENDIAN ? v : Long.reverseBytes(v));
    }

    static void putShort(ByteBuffer b, int index, short v) {
        b.putShort(index, b.order() == ByteOrder.BIG_ENDIAN ? v : Short.reverseBytes(v));
    }

    /** Big-endian writes into an array (the builder's header scratch). */
    static void putInt(byte[] a, int p, int v) {
        a[p] = (byte) (v >>> 24);
        a[p + 1] = (byte) (v >>> 16);
        a[p + 2] = (byte) (v >>> 8);
        a[p + 3] = (byte) v;
    }

    static void putLong(byte[] a, int p, long v) {
        putInt(a, p, (int) (v >>> 32));
        putInt(a, p + 4, (int) v);
    }

    static void putShort(byte[] a, int p, short v) {
        a[p] = (byte) (v >>> 8);
        a[p + 1] = (byte) v;
    }

    /**
     * CRC-32C of {@code b[from, to)}. Uses the backing array when there is one, otherwise a slice
     * (direct buffers go to the intrinsic without copying; a read-only heap buffer is copied in
     * 4 KiB chunks by the JDK, since it hides its array).
     */
    static long crc32c(ByteBuffer b, int from, int to) {
        CRC32C crc = new CRC32C();
        if (b.hasArray()) {
            crc.update(b.array(), b.arrayOffset() + from, to - from);
        } else {
            crc.update(b.slice(from, to - from));
        }
        return crc.getValue();
    }
}
