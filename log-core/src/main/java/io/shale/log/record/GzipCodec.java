package io.shale.log.record;

import io.shale.log.record.GrowableBytes.LimitExceededException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * gzip (RFC 1952) with java.util.zip's zlib, as Kafka does.
 *
 * <pre>
 * member:  1f 8b | CM=8 | FLG | MTIME (4) | XFL | OS | [FEXTRA: XLEN (u16 LE) + data] | [FNAME\0] | [FCOMMENT\0]
 *          | [FHCRC: u16 LE] | raw deflate data | CRC-32 of the data (u32 LE) | ISIZE = size mod 2^32 (u32 LE)
 * stream:  member+ (concatenated members decode to the concatenation)
 * </pre>
 *
 * <p>Writing: one member with a 10-byte header (no name, no mtime, OS 255 "unknown", as the JDK
 * writes it), zlib's default level (Kafka's default for gzip). Reading accepts every optional
 * header field and concatenated members, and checks each member's CRC-32 and ISIZE; like the JDK's
 * {@code GZIPInputStream} (Kafka's reader), bytes after the last member that do not start a valid
 * member header are ignored. Inflaters and deflaters are pooled: creating one costs more than
 * decoding a small batch.
 */
final class GzipCodec extends Codec {
    private static final int HEADER_SIZE = 10;
    private static final int TRAILER_SIZE = 8;
    private static final int FHCRC = 0x02;
    private static final int FEXTRA = 0x04;
    private static final int FNAME = 0x08;
    private static final int FCOMMENT = 0x10;

    private static final SmallPool<Inflater> INFLATERS =
            new SmallPool<>(SmallPool.defaultSlots(), () -> new Inflater(true), Inflater::end);
    private static final SmallPool<Deflater> DEFLATERS =
            new SmallPool<>(SmallPool.defaultSlots(), () -> new Deflater(Deflater.DEFAULT_COMPRESSION, true), Deflater::end);

    GzipCodec() {
        super(CompressionType.GZIP, "the JDK's java.util.zip");
    }

    @Override
    void decompress(ByteBuffer src, int from, int to, GrowableBytes out) throws IOException, LimitExceededException {
        int p = from;
        int dataStart = parseHeader(src, p, to);
        if (dataStart < 0) {
            throw new IOException("not in gzip format");
        }
        Inflater inflater = INFLATERS.borrow();
        try {
            while (true) {
                p = inflateMember(inflater, src, dataStart, to, out);
                if (to - p < HEADER_SIZE) {
                    return;
                }
                dataStart = parseHeader(src, p, to);
                if (dataStart < 0) {
                    return; // trailing bytes that are not a member: ignored, as GZIPInputStream does
                }
            }
        } finally {
            inflater.reset();
            INFLATERS.release(inflater);
        }
    }

    /** Returns where the deflate data of the member at {@code p} starts, or -1 if no valid header is there. */
    private static int parseHeader(ByteBuffer src, int p, int to) {
        int start = p;
        if (to - p < HEADER_SIZE || (src.get(p) & 0xFF) != 0x1f || (src.get(p + 1) & 0xFF) != 0x8b
                || src.get(p + 2) != 8) {
            return -1;
        }
        int flags = src.get(p + 3) & 0xFF;
        p += HEADER_SIZE;
        if ((flags & FEXTRA) != 0) {
            if (to - p < 2) {
                return -1;
            }
            int xlen = (src.get(p) & 0xFF) | (src.get(p + 1) & 0xFF) << 8;
            p += 2;
            if (to - p < xlen) {
                return -1;
            }
            p += xlen;
        }
        if ((flags & FNAME) != 0) {
            p = skipZeroTerminated(src, p, to);
        }
        if (p >= 0 && (flags & FCOMMENT) != 0) {
            p = skipZeroTerminated(src, p, to);
        }
        if (p >= 0 && (flags & FHCRC) != 0) {
            if (to - p < 2) {
                return -1;
            }
            CRC32 crc = new CRC32();
            crc.update(src.slice(start, p - start));
            int expected = (src.get(p) & 0xFF) | (src.get(p + 1) & 0xFF) << 8;
            if (((int) crc.getValue() & 0xFFFF) != expected) {
                return -1;
            }
            p += 2;
        }
        return p;
    }

    private static int skipZeroTerminated(ByteBuffer src, int p, int to) {
        while (p < to) {
            if (src.get(p++) == 0) {
                return p;
            }
        }
        return -1;
    }

    /** Inflates one member's data and checks its trailer; returns the position after the member. */
    private static int inflateMember(Inflater inflater, ByteBuffer src, int dataStart, int to, GrowableBytes out)
            throws IOException, LimitExceededException {
        inflater.reset();
        inflater.setInput(src.slice(dataStart, to - dataStart));
        int memberStart = out.length;
        try {
            while (!inflater.finished()) {
                if (out.free() == 0) {
                    if (out.length >= out.cap()) {
                        // at the cap: only "the stream ends exactly here" is acceptable
                        byte[] one = new byte[1];
                        if (inflater.inflate(one) > 0) {
                            throw new LimitExceededException("gzip output exceeds the limit of " + out.cap() + " bytes");
                        }
                        if (inflater.finished()) {
                            break;
                        }
                        checkStalled(inflater);
                        continue;
                    }
                    out.ensureRoom(1);
                }
                int n = inflater.inflate(out.array, out.length, out.free());
                out.length += n;
                if (n == 0) {
                    checkStalled(inflater);
                }
            }
        } catch (DataFormatException e) {
            throw new IOException("invalid deflate data: " + e.getMessage(), e);
        }
        long consumed = inflater.getBytesRead();
        if (consumed > to - dataStart - TRAILER_SIZE) {
            throw new IOException("gzip member truncated: no room for its 8-byte trailer");
        }
        int trailer = dataStart + (int) consumed;
        CRC32 crc = new CRC32();
        crc.update(out.array, memberStart, out.length - memberStart);
        if ((int) crc.getValue() != readIntLE(src, trailer)) {
            throw new IOException("gzip CRC-32 mismatch");
        }
        if ((out.length - memberStart) != readIntLE(src, trailer + 4)) {
            throw new IOException("gzip ISIZE does not match the decompressed size");
        }
        return trailer + TRAILER_SIZE;
    }

    private static void checkStalled(Inflater inflater) throws IOException {
        if (inflater.needsDictionary()) {
            throw new IOException("deflate data needs a preset dictionary");
        }
        if (inflater.needsInput()) {
            throw new IOException("gzip member truncated: deflate data ends early");
        }
    }

    private static int readIntLE(ByteBuffer b, int p) {
        return (b.get(p) & 0xFF) | (b.get(p + 1) & 0xFF) << 8 | (b.get(p + 2) & 0xFF) << 16 | (b.get(p + 3) & 0xFF) << 24;
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

        Deflater deflater = DEFLATERS.borrow();
        try {
            deflater.reset();
            deflater.setInput(src, 0, length);
            deflater.finish();
            while (!deflater.finished()) {
                if (out.free() < 512) {
                    out.ensureRoomUnchecked(Math.max(4096, length / 4));
                }
                out.length += deflater.deflate(out.array, out.length, out.free());
            }
        } finally {
            deflater.reset();
            DEFLATERS.release(deflater);
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
