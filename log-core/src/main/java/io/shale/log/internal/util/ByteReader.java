package io.shale.log.internal.util;

import io.shale.log.internal.format.CorruptObjectException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Bounds-checked reader for metadata decoding. Every read that would run past the end, every
 * varint longer than 10 bytes and every length that exceeds the remaining bytes fails with
 * {@link CorruptObjectException} naming {@code what}; nothing is allocated from an unchecked length.
 */
public final class ByteReader {
    private final ByteBuffer buf;
    private final String what;

    public ByteReader(ByteBuffer buf, String what) {
        this.buf = buf.duplicate();
        this.what = what;
    }

    public int remaining() {
        return buf.remaining();
    }

    public int position() {
        return buf.position();
    }

    private void need(int n) {
        if (buf.remaining() < n) {
            throw corrupt("truncated: needed " + n + " more bytes at " + buf.position());
        }
    }

    public int u8() {
        need(1);
        return buf.get() & 0xFF;
    }

    public int i16() {
        need(2);
        return buf.getShort();
    }

    public int i32() {
        need(4);
        return buf.getInt();
    }

    public long i64() {
        need(8);
        return buf.getLong();
    }

    public long uvarlong() {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            int b = u8();
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        throw corrupt("varint longer than 10 bytes at " + buf.position());
    }

    public long varlong() {
        long z = uvarlong();
        return (z >>> 1) ^ -(z & 1);
    }

    /** A non-negative count or length that must fit in the remaining bytes times {@code minBytesEach}. */
    public int count(int minBytesEach) {
        long n = uvarlong();
        if (n < 0 || n > Integer.MAX_VALUE || n * Math.max(1, minBytesEach) > buf.remaining()) {
            throw corrupt("count " + n + " exceeds the " + buf.remaining() + " remaining bytes at " + buf.position());
        }
        return (int) n;
    }

    public byte[] bytes() {
        int n = count(1);
        byte[] out = new byte[n];
        buf.get(out);
        return out;
    }

    public String string() {
        byte[] b = bytes();
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw corrupt("invalid UTF-8 string at " + buf.position());
        }
    }

    public CorruptObjectException corrupt(String why) {
        return new CorruptObjectException(what + ": " + why);
    }
}
