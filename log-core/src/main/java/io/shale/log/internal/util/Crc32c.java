package io.shale.log.internal.util;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** CRC-32C over buffer regions without moving positions or copying (java.util.zip.CRC32C is intrinsified). */
public final class Crc32c {
    private Crc32c() {
    }

    /** CRC-32C of {@code length} bytes of {@code buf} starting at absolute {@code offset}. */
    public static int compute(ByteBuffer buf, int offset, int length) {
        CRC32C crc = new CRC32C();
        update(crc, buf, offset, length);
        return (int) crc.getValue();
    }

    /** CRC-32C of the remaining bytes of {@code buf}. */
    public static int compute(ByteBuffer buf) {
        return compute(buf, buf.position(), buf.remaining());
    }

    public static void update(CRC32C crc, ByteBuffer buf, int offset, int length) {
        ByteBuffer view = buf.duplicate();
        view.limit(offset + length).position(offset);
        crc.update(view);
    }

    public static void update(CRC32C crc, ByteBuffer buf) {
        crc.update(buf.duplicate());
    }
}
