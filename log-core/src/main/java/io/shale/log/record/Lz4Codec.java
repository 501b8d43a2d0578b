package io.shale.log.record;

import io.shale.log.record.GrowableBytes.LimitExceededException;

import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import net.jpountz.xxhash.XXHash32;
import net.jpountz.xxhash.XXHashFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * LZ4 in the standard LZ4 frame format (v1.5.1 of the frame spec), which is what Kafka writes
 * for magic-2 batches, with lz4-java.
 *
 * <pre>
 * frame:  magic 0x184D2204 (u32 LE) | FLG | BD | [content size u64 LE] | HC | block* | end mark (u32 LE 0) | [content checksum u32 LE]
 * FLG:    bits 7-6 version (=01), bit 5 block independence, bit 4 block checksum, bit 3 content size,
 *         bit 2 content checksum, bits 1-0 reserved (=0; bit 0 is "dictionary id" in later specs)
 * BD:     bits 6-4 block max size id (4=64 KiB, 5=256 KiB, 6=1 MiB, 7=4 MiB), other bits 0
 * HC:     (xxHash32(FLG..last descriptor byte, seed 0) >> 8) &amp; 0xFF
 * block:  size u32 LE (bit 31 set = stored uncompressed) | data | [block checksum u32 LE = xxHash32(data)]
 * </pre>
 *
 * <p>Writing matches Kafka's writer: FLG 0x60 (version 1, independent blocks, no checksums), BD
 * 0x40 (64 KiB blocks), the fast compressor, and a block that does not shrink is stored raw.
 * Reading accepts what Kafka's reader accepts: independent blocks only, any block size id 4-7,
 * optional content size, block checksums and content checksum (all verified, except the content
 * size, which is only a hint); bytes after the end mark are ignored, as Kafka does.
 */
final class Lz4Codec extends Codec {
    static final int MAGIC = 0x184D2204;
    static final int FLG_WRITTEN = 0x60;
    static final int BD_WRITTEN = 0x40;
    static final int BLOCK_SIZE_WRITTEN = 64 * 1024;
    static final int UNCOMPRESSED_FLAG = 0x80000000;
    /** LZ4's worst case expansion: 255 output bytes per input byte of a run-length sequence. */
    private static final int MAX_RATIO = 255;

    private static final LZ4Compressor COMPRESSOR = LZ4Factory.fastestInstance().fastCompressor();
    private static final LZ4SafeDecompressor DECOMPRESSOR = LZ4Factory.fastestInstance().safeDecompressor();
    private static final XXHash32 XXHASH = XXHashFactory.fastestInstance().hash32();

    Lz4Codec() {
        super(CompressionType.LZ4, "at.yawk.lz4:lz4-java " + Codecs.libraryVersion(LZ4Factory.class, "lz4-java"));
    }

    @Override
    void decompress(ByteBuffer src, int from, int to, GrowableBytes out) throws IOException, LimitExceededException {
        ByteBuffer in = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int p = from;
        if (to - p < 7) {
            throw new IOException("lz4 frame shorter than its 7-byte header");
        }
        int magic = in.getInt(p);
        if (magic != MAGIC) {
            throw new IOException("lz4 frame magic is 0x" + Integer.toHexString(magic) + ", expected 0x184d2204");
        }
        p += 4;
        int descriptorStart = p;
        int flg = in.get(p++) & 0xFF;
        int bd = in.get(p++) & 0xFF;
        if ((flg >>> 6) != 1) {
            throw new IOException("lz4 frame version " + (flg >>> 6) + " is not supported");
        }
        if ((flg & 0x03) != 0) {
            throw new IOException("lz4 frame has reserved FLG bits set (0x" + Integer.toHexString(flg) + ")");
        }
        if ((flg & 0x20) == 0) {
            throw new IOException("lz4 frame uses dependent blocks, which Kafka does not support");
        }
        boolean blockChecksum = (flg & 0x10) != 0;
        boolean contentSize = (flg & 0x08) != 0;
        boolean contentChecksum = (flg & 0x04) != 0;
        if ((bd & 0x8F) != 0) {
            throw new IOException("lz4 frame has reserved BD bits set (0x" + Integer.toHexString(bd) + ")");
        }
        int blockSizeId = (bd >>> 4) & 7;
        if (blockSizeId < 4) {
            throw new IOException("lz4 frame block size id " + blockSizeId + " is not one of 4-7");
        }
        int maxBlockSize = 1 << (2 * blockSizeId + 8);
        if (contentSize) {
            if (to - p < 8) {
                throw new IOException("lz4 frame truncated in its content size");
            }
            p += 8;
        }
        if (p >= to) {
            throw new IOException("lz4 frame truncated before its header checksum");
        }
        int expectedHc = (XXHASH.hash(in, descriptorStart, p - descriptorStart, 0) >> 8) & 0xFF;
        int hc = in.get(p++) & 0xFF;
        if (hc != expectedHc) {
            throw new IOException("lz4 frame descriptor checksum mismatch");
        }

        int contentStart = out.length;
        while (true) {
            if (to - p < 4) {
                throw new IOException("lz4 frame truncated: no end mark");
            }
            int word = in.getInt(p);
            p += 4;
            if (word == 0) {
                break;
            }
            boolean stored = (word & UNCOMPRESSED_FLAG) != 0;
            int size = word & ~UNCOMPRESSED_FLAG;
            if (size > maxBlockSize) {
                throw new IOException("lz4 block of " + size + " bytes exceeds the frame's maximum of " + maxBlockSize);
            }
            if (size > to - p - (blockChecksum ? 4 : 0)) {
                throw new IOException("lz4 block of " + size + " bytes runs past the end of the frame");
            }
            if (blockChecksum) {
                int expected = XXHASH.hash(in, p, size, 0);
                if (expected != in.getInt(p + size)) {
                    throw new IOException("lz4 block checksum mismatch");
                }
            }
            if (stored) {
                out.ensureRoom(size);
                in.get(p, out.array, out.length, size);
                out.length += size;
            } else {
                int room = (int) Math.min(maxBlockSize, Math.min((long) size * MAX_RATIO + 64, out.cap() - out.length));
                if (room <= 0) {
                    throw new LimitExceededException("lz4 output exceeds the limit of " + out.cap() + " bytes");
                }
                out.ensureRoom(room);
                int n = DECOMPRESSOR.decompress(in, p, size, ByteBuffer.wrap(out.array), out.length, room);
                out.length += n;
            }
            p += size + (blockChecksum ? 4 : 0);
        }
        if (contentChecksum) {
            if (to - p < 4) {
                throw new IOException("lz4 frame truncated in its content checksum");
            }
            int expected = XXHASH.hash(out.array, contentStart, out.length - contentStart, 0);
            if (expected != in.getInt(p)) {
                throw new IOException("lz4 content checksum mismatch");
            }
        }
    }

    @Override
    long maxCompressedLength(int n) {
        long blocks = Math.max(1, (n + (long) BLOCK_SIZE_WRITTEN - 1) / BLOCK_SIZE_WRITTEN);
        // header (7) + per block size word (4) + stored-or-smaller data + end mark (4)
        return 7 + blocks * 4 + n + 4;
    }

    @Override
    void compress(byte[] src, int length, GrowableBytes out) {
        out.ensureRoomUnchecked(7);
        byte[] a = out.array;
        int p = out.length;
        writeIntLE(a, p, MAGIC);
        a[p + 4] = (byte) FLG_WRITTEN;
        a[p + 5] = (byte) BD_WRITTEN;
        a[p + 6] = (byte) ((XXHASH.hash(a, p + 4, 2, 0) >> 8) & 0xFF);
        out.length += 7;

        int maxBlockBound = COMPRESSOR.maxCompressedLength(BLOCK_SIZE_WRITTEN);
        for (int off = 0; off < length; off += BLOCK_SIZE_WRITTEN) {
            int blockLen = Math.min(BLOCK_SIZE_WRITTEN, length - off);
            out.ensureRoomUnchecked(4 + maxBlockBound);
            int sizePos = out.length;
            int dataPos = sizePos + 4;
            int n = COMPRESSOR.compress(src, off, blockLen, out.array, dataPos, out.array.length - dataPos);
            if (n >= blockLen) {
                System.arraycopy(src, off, out.array, dataPos, blockLen);
                writeIntLE(out.array, sizePos, blockLen | UNCOMPRESSED_FLAG);
                n = blockLen;
            } else {
                writeIntLE(out.array, sizePos, n);
            }
            out.length = dataPos + n;
        }
        out.ensureRoomUnchecked(4);
        writeIntLE(out.array, out.length, 0);
        out.length += 4;
    }

    static void writeIntLE(byte[] a, int p, int v) {
        a[p] = (byte) v;
        a[p + 1] = (byte) (v >>> 8);
        a[p + 2] = (byte) (v >>> 16);
        a[p + 3] = (byte) (v >>> 24);
    }
}
