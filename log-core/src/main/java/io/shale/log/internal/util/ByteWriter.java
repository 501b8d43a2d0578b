package io.shale.log.internal.util;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A growable big-endian byte sink with varints, for metadata encoding (not the hot path). */
public final class ByteWriter {
    private byte[] buf;
    private int pos;

    public ByteWriter(int initialCapacity) {
        buf = new byte[Math.max(16, initialCapacity)];
    }

    private void ensure(int n) {
        if (pos + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
        }
    }

    public ByteWriter u8(int v) {
        ensure(1);
        buf[pos++] = (byte) v;
        return this;
    }

    public ByteWriter i16(int v) {
        ensure(2);
        buf[pos++] = (byte) (v >>> 8);
        buf[pos++] = (byte) v;
        return this;
    }

    public ByteWriter i32(int v) {
        ensure(4);
        for (int s = 24; s >= 0; s -= 8) {
            buf[pos++] = (byte) (v >>> s);
        }
        return this;
    }

    public ByteWriter i64(long v) {
        ensure(8);
        for (int s = 56; s >= 0; s -= 8) {
            buf[pos++] = (byte) (v >>> s);
        }
        return this;
    }

    /** Unsigned LEB128. */
    public ByteWriter uvarlong(long v) {
        ensure(10);
        while ((v & ~0x7FL) != 0) {
            buf[pos++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf[pos++] = (byte) v;
        return this;
    }

    /** Zig-zag signed varlong. */
    public ByteWriter varlong(long v) {
        return uvarlong((v << 1) ^ (v >> 63));
    }

    public ByteWriter bytes(byte[] b) {
        uvarlong(b.length);
        ensure(b.length);
        System.arraycopy(b, 0, buf, pos, b.length);
        pos += b.length;
        return this;
    }

    public ByteWriter string(String s) {
        return bytes(s.getBytes(StandardCharsets.UTF_8));
    }

    public int position() {
        return pos;
    }

    /** Overwrites a 32-bit value at an earlier position. */
    public void putI32At(int at, int v) {
        for (int i = 0; i < 4; i++) {
            buf[at + i] = (byte) (v >>> (24 - 8 * i));
        }
    }

    public byte[] array() {
        return buf;
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(buf, pos);
    }

    public ByteBuffer toBuffer() {
        return ByteBuffer.wrap(buf, 0, pos);
    }
}
