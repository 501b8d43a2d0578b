package io.shale.log.record;

import io.shale.log.record.GrowableBytes.LimitExceededException;

import org.xerial.snappy.Snappy;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Snappy in snappy-java's stream framing ("xerial" framing), which is what Kafka writes. Only
 * loaded when {@code org.xerial.snappy:snappy-java} is on the classpath (see {@link Codecs}).
 *
 * <pre>
 * stream: header | chunk*
 * header: 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00 | version (i32 BE, 1) | compatible version (i32 BE, 1)
 * chunk:  compressed length (i32 BE) | raw snappy block (itself starting with a varint uncompressed length)
 * </pre>
 *
 * <p>Writing matches Kafka's {@code SnappyOutputStream(out, 32 KiB)}: one chunk per 32 KiB of input.
 * Reading also accepts what snappy-java's reader accepts: a header repeated mid-stream
 * (concatenated streams) and, when the stream does not start with the magic, a single raw snappy
 * block. Every block's declared uncompressed length is checked before anything is allocated:
 * against the output cap and against Snappy's maximum expansion (a 3-byte copy element yields at
 * most 64 bytes), so a lying length cannot make us allocate more than ~22 times the input.
 */
final class SnappyCodec extends Codec {
    static final byte[] MAGIC = {(byte) 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
    static final int HEADER_SIZE = 16;
    static final int BLOCK_SIZE = 32 * 1024;
    /** First four magic bytes as a big-endian int: how a repeated header shows up in a chunk length. */
    private static final int MAGIC_HEAD = 0x82534E41;

    SnappyCodec() {
        super(CompressionType.SNAPPY,
                "org.xerial.snappy:snappy-java " + Codecs.libraryVersion(Snappy.class, "snappy-java"));
        // Loads the native library now, so that a platform without it reports the codec unavailable.
        Snappy.maxCompressedLength(BLOCK_SIZE);
    }

    @Override
    void decompress(ByteBuffer src, int from, int to, GrowableBytes out) throws IOException, LimitExceededException {
        if (!hasMagic(src, from, to)) {
            uncompressBlock(src, from, to - from, out);
            return;
        }
        int p = from + HEADER_SIZE;
        while (p < to) {
            if (to - p < 4) {
                throw new IOException("snappy chunk length truncated");
            }
            int len = src.getInt(p);
            if (len == MAGIC_HEAD && hasMagic(src, p, to)) {
                p += HEADER_SIZE;
                continue;
            }
            p += 4;
            if (len < 0 || len > to - p) {
                throw new IOException("snappy chunk length " + len + " is invalid with " + (to - p) + " bytes left");
            }
            uncompressBlock(src, p, len, out);
            p += len;
        }
    }

    private static boolean hasMagic(ByteBuffer src, int from, int to) {
        if (to - from < HEADER_SIZE) {
            return false;
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (src.get(from + i) != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    private static void uncompressBlock(ByteBuffer src, int off, int len, GrowableBytes out)
            throws IOException, LimitExceededException {
        byte[] in;
        int inOff;
        if (src.hasArray()) {
            in = src.array();
            inOff = src.arrayOffset() + off;
        } else {
            in = new byte[len];
            src.get(off, in, 0, len);
            inOff = 0;
        }
        int n = Snappy.uncompressedLength(in, inOff, len);
        if (n < 0 || n > (long) len * 22 + 16) {
            throw new IOException("snappy block declares " + n + " uncompressed bytes from " + len + " compressed bytes");
        }
        out.ensureRoom(n);
        int written = Snappy.uncompress(in, inOff, len, out.array, out.length);
        if (written != n) {
            throw new IOException("snappy block produced " + written + " bytes, declared " + n);
        }
        out.length += n;
    }

    @Override
    long maxCompressedLength(int n) {
        long blocks = Math.max(1, (n + (long) BLOCK_SIZE - 1) / BLOCK_SIZE);
        return HEADER_SIZE + blocks * (4 + Snappy.maxCompressedLength(BLOCK_SIZE));
    }

    @Override
    void compress(byte[] src, int length, GrowableBytes out) throws IOException {
        out.ensureRoomUnchecked(HEADER_SIZE);
        byte[] a = out.array;
        int p = out.length;
        System.arraycopy(MAGIC, 0, a, p, MAGIC.length);
        writeIntBE(a, p + 8, 1);
        writeIntBE(a, p + 12, 1);
        out.length += HEADER_SIZE;
        int bound = Snappy.maxCompressedLength(BLOCK_SIZE);
        for (int off = 0; off < length; off += BLOCK_SIZE) {
            int blockLen = Math.min(BLOCK_SIZE, length - off);
            out.ensureRoomUnchecked(4 + bound);
            int n = Snappy.compress(src, off, blockLen, out.array, out.length + 4);
            writeIntBE(out.array, out.length, n);
            out.length += 4 + n;
        }
    }

    private static void writeIntBE(byte[] a, int p, int v) {
        a[p] = (byte) (v >>> 24);
        a[p + 1] = (byte) (v >>> 16);
        a[p + 2] = (byte) (v >>> 8);
        a[p + 3] = (byte) v;
    }
}
