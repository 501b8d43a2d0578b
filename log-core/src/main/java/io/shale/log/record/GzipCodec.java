package io.shale.log.record;

import io.shale.log.record.GrowableBytes.LimitExceededException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;

/**
 * gzip (RFC 1952) with java.util.zip, as Kafka does.
 *
 * <p>Writing: a 10-byte header (no name, no mtime, OS "unknown"), a raw deflate stream at zlib's
 * default level (Kafka's default for gzip), and the CRC-32 / ISIZE trailer, little-endian.
 * Reading: {@link GZIPInputStream}, which accepts every optional header field and concatenated
 * members; output is bounded by the caller's {@link GrowableBytes} cap.
 */
final class GzipCodec extends Codec {
    private static final int HEADER_SIZE = 10;
    private static final int TRAILER_SIZE = 8;

    GzipCodec() {
        super(CompressionType.GZIP);
    }

    @Override
    void decompress(ByteBuffer src, int from, int to, GrowableBytes out) throws IOException, LimitExceededException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteBufferInput(src, from, to), 8192)) {
            readFully(in, out);
        }
    }

    @Override
    long maxCompressedLength(int n) {
        // zlib's conservative deflateBound() plus the gzip wrapper
        return (long) n + ((n + 7L) >> 3) + ((n + 63L) >> 6) + 5 + HEADER_SIZE + TRAILER_SIZE;
    }

    @Override
    void compress(byte[] src, int length, GrowableBytes out) {
        out.ensureRoomUnchecked(HEADER_SIZE);
        byte[] a = out.array;
        int p = out.length;
        a[p] = (byte) 0x1f;
        a[p + 1] = (byte) 0x8b;
        a[p + 2] = 8; // deflate
        a[p + 3] = 0; // flags
        a[p + 4] = 0; // mtime
        a[p + 5] = 0;
        a[p + 6] = 0;
        a[p + 7] = 0;
        a[p + 8] = 0; // xfl
        a[p + 9] = (byte) 0xff; // OS unknown
        out.length += HEADER_SIZE;

        Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        try {
            deflater.setInput(src, 0, length);
            deflater.finish();
            while (!deflater.finished()) {
                if (out.free() < 512) {
                    out.ensureRoomUnchecked(Math.max(4096, length / 4));
                }
                out.length += deflater.deflate(out.array, out.length, out.free());
            }
        } finally {
            deflater.end();
        }

        CRC32 crc = new CRC32();
        crc.update(src, 0, length);
        out.ensureRoomUnchecked(TRAILER_SIZE);
        writeIntLE(out.array, out.length, (int) crc.getValue());
        writeIntLE(out.array, out.length + 4, length);
        out.length += TRAILER_SIZE;
    }

    private static void writeIntLE(byte[] a, int p, int v) {
        a[p] = (byte) v;
        a[p + 1] = (byte) (v >>> 8);
        a[p + 2] = (byte) (v >>> 16);
        a[p + 3] = (byte) (v >>> 24);
    }
}
