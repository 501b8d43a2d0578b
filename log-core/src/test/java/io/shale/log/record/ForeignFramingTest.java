package io.shale.log.record;

import static io.shale.log.record.RecordBatchTest.assertCorrupt;
import static io.shale.log.record.RecordBatchTest.assertSameRecords;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.zip.Deflater;

import com.github.luben.zstd.ZstdOutputStream;
import net.jpountz.lz4.LZ4FrameOutputStream;
import net.jpountz.lz4.LZ4FrameOutputStream.BLOCKSIZE;
import net.jpountz.lz4.LZ4FrameOutputStream.FLG.Bits;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xerial.snappy.Snappy;
import org.xerial.snappy.SnappyOutputStream;

/**
 * Compressed records sections written by other writers than Kafka's (librdkafka and other clients
 * use the full formats): the optional parts of each framing must be read, and their checks enforced.
 */
class ForeignFramingTest {

    private static List<SimpleRecord> records;
    private static ByteBuffer uncompressed;
    private static byte[] section;

    @BeforeAll
    static void recordsLargeEnoughForSeveralBlocks() {
        Random rnd = new Random(77);
        records = Samples.randomRecords(rnd, 200);
        records = new java.util.ArrayList<>(records);
        records.add(SimpleRecord.of(1_700_000_000_000L, null, new byte[150_000]));
        uncompressed = Samples.build(CompressionType.NONE, records);
        section = Arrays.copyOfRange(uncompressed.array(), 61, uncompressed.limit());
        assertThat(section.length).isGreaterThan(4 * 64 * 1024);
    }

    /** The uncompressed batch with its records section replaced by {@code payload} of codec {@code type}. */
    private static RecordBatch batchWith(CompressionType type, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(61 + payload.length);
        b.put(uncompressed.array(), 0, 61).put(payload).flip();
        b.putInt(8, b.limit() - 12);
        b.putShort(21, (short) (b.getShort(21) | type.id));
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 21, b.limit() - 21);
        b.putInt(17, (int) crc.getValue());
        RecordBatch batch = RecordBatch.wrap(b);
        batch.ensureValid();
        return batch;
    }

    private static void assertDecodesToTheRecords(CompressionType type, byte[] payload) {
        assertSameRecords(Samples.records(batchWith(type, payload)), records);
    }

    @Test
    void lz4FramesWithEveryOptionalFieldShouldDecode() throws IOException {
        for (BLOCKSIZE size : BLOCKSIZE.values()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (OutputStream lz4 = new LZ4FrameOutputStream(out, size, section.length,
                    Bits.BLOCK_INDEPENDENCE, Bits.BLOCK_CHECKSUM, Bits.CONTENT_CHECKSUM, Bits.CONTENT_SIZE)) {
                lz4.write(section);
            }
            assertDecodesToTheRecords(CompressionType.LZ4, out.toByteArray());
        }
    }

    @Test
    void lz4FramesWithDependentBlocksShouldBeRejectedAsKafkaDoes() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream lz4 = new LZ4FrameOutputStream(out, BLOCKSIZE.SIZE_64KB)) {
            lz4.write(section);
        }
        byte[] frame = out.toByteArray();
        frame[4] &= ~0x20; // clear block independence, then fix the descriptor checksum
        frame[6] = (byte) ((net.jpountz.xxhash.XXHashFactory.fastestInstance().hash32().hash(frame, 4, 2, 0) >> 8) & 0xFF);
        assertCorrupt(() -> batchWith(CompressionType.LZ4, frame).iterator(), "dependent blocks");
    }

    @Test
    void lz4ChecksumsShouldBeEnforced() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream lz4 = new LZ4FrameOutputStream(out, BLOCKSIZE.SIZE_64KB, -1L,
                Bits.BLOCK_INDEPENDENCE, Bits.BLOCK_CHECKSUM, Bits.CONTENT_CHECKSUM)) {
            lz4.write(section);
        }
        byte[] frame = out.toByteArray();
        byte[] badBlock = frame.clone();
        badBlock[20] ^= 1; // inside the first block's data
        assertCorrupt(() -> batchWith(CompressionType.LZ4, badBlock).iterator(), "block checksum");
        byte[] badContent = frame.clone();
        badContent[badContent.length - 1] ^= 1; // the content checksum is the last word
        assertCorrupt(() -> batchWith(CompressionType.LZ4, badContent).iterator(), "content checksum");
        byte[] badDescriptor = frame.clone();
        badDescriptor[6] ^= 1;
        assertCorrupt(() -> batchWith(CompressionType.LZ4, badDescriptor).iterator(), "descriptor checksum");
    }

    @Test
    void gzipMembersWithOptionalHeaderFieldsShouldDecode() {
        assertDecodesToTheRecords(CompressionType.GZIP, gzipWithAllHeaderFields(section, true));
    }

    @Test
    void gzipTrailingBytesThatAreNotAMemberShouldBeIgnoredAsTheJdkDoes() {
        byte[] member = gzipWithAllHeaderFields(section, true);
        assertDecodesToTheRecords(CompressionType.GZIP, RawBatches.concat(member, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
    }

    @Test
    void gzipConcatenatedMembersShouldDecodeToTheConcatenation() {
        int half = section.length / 2;
        byte[] a = gzipWithAllHeaderFields(Arrays.copyOfRange(section, 0, half), false);
        byte[] b = gzipWithAllHeaderFields(Arrays.copyOfRange(section, half, section.length), true);
        assertDecodesToTheRecords(CompressionType.GZIP, RawBatches.concat(a, b));
    }

    @Test
    void gzipTrailerAndHeaderChecksShouldBeEnforced() {
        byte[] member = gzipWithAllHeaderFields(section, true);
        byte[] badCrc = member.clone();
        badCrc[badCrc.length - 8] ^= 1;
        assertCorrupt(() -> batchWith(CompressionType.GZIP, badCrc).iterator(), "CRC-32");
        byte[] badSize = member.clone();
        badSize[badSize.length - 1] ^= 1;
        assertCorrupt(() -> batchWith(CompressionType.GZIP, badSize).iterator(), "ISIZE");
        byte[] truncated = Arrays.copyOf(member, member.length - 3);
        assertCorrupt(() -> batchWith(CompressionType.GZIP, truncated).iterator(), "gzip");
        byte[] badHeaderCrc = member.clone();
        badHeaderCrc[5] ^= 1; // mtime byte covered by FHCRC
        assertCorrupt(() -> batchWith(CompressionType.GZIP, badHeaderCrc).iterator(), "not in gzip format");
    }

    @Test
    void snappyStreamsWrittenBySnappyJavaShouldDecodeWithAnyBlockSize() throws IOException {
        for (int blockSize : new int[] {1024, 32 * 1024, 1 << 20}) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (SnappyOutputStream s = new SnappyOutputStream(out, blockSize)) {
                s.write(section);
            }
            assertDecodesToTheRecords(CompressionType.SNAPPY, out.toByteArray());
        }
    }

    @Test
    void concatenatedSnappyStreamsAndRawSnappyShouldDecodeAsSnappyJavaReadsThem() throws IOException {
        int half = section.length / 2;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (SnappyOutputStream s = new SnappyOutputStream(out)) {
            s.write(section, 0, half);
        }
        try (SnappyOutputStream s = new SnappyOutputStream(out)) {
            s.write(section, half, section.length - half);
        }
        assertDecodesToTheRecords(CompressionType.SNAPPY, out.toByteArray());
        assertDecodesToTheRecords(CompressionType.SNAPPY, Snappy.compress(section));
    }

    @Test
    void snappyBlocksThatDoNotDecodeShouldFailAsCorrupt() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (SnappyOutputStream s = new SnappyOutputStream(out)) {
            s.write(section);
        }
        byte[] stream = out.toByteArray();
        byte[] badLength = stream.clone();
        ByteBuffer.wrap(badLength).putInt(16, Integer.MAX_VALUE);
        assertCorrupt(() -> batchWith(CompressionType.SNAPPY, badLength).iterator(), "snappy chunk length");
        byte[] truncated = Arrays.copyOf(stream, stream.length - 5);
        assertCorrupt(() -> batchWith(CompressionType.SNAPPY, truncated).iterator(), "snappy");
    }

    @Test
    void zstdStreamsWithChecksumsAndSeveralFramesShouldDecode() throws IOException {
        int third = section.length / 3;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < 3; i++) {
            try (ZstdOutputStream z = new ZstdOutputStream(out, 1 + 5 * i)) {
                z.setChecksum(true);
                int from = i * third;
                int to = i == 2 ? section.length : from + third;
                z.write(section, from, to - from);
            }
        }
        byte[] stream = out.toByteArray();
        assertDecodesToTheRecords(CompressionType.ZSTD, stream);
        byte[] truncated = Arrays.copyOf(stream, stream.length - 2);
        assertCorrupt(() -> batchWith(CompressionType.ZSTD, truncated).iterator(), "zstd");
        byte[] badChecksum = stream.clone();
        badChecksum[badChecksum.length - 1] ^= 1;
        assertCorrupt(() -> batchWith(CompressionType.ZSTD, badChecksum).iterator(), "zstd");
    }

    /** A gzip member with FEXTRA, FNAME, FCOMMENT and (optionally) FHCRC, written by hand. */
    private static byte[] gzipWithAllHeaderFields(byte[] data, boolean headerCrc) {
        ByteBuffer out = ByteBuffer.allocate(data.length + data.length / 8 + 1024).order(ByteOrder.LITTLE_ENDIAN);
        int flags = 0x04 | 0x08 | 0x10 | (headerCrc ? 0x02 : 0);
        out.put((byte) 0x1f).put((byte) 0x8b).put((byte) 8).put((byte) flags).putInt(1_700_000_000).put((byte) 2).put((byte) 3);
        out.putShort((short) 6).put(new byte[] {'A', 'B', 2, 0, 9, 9});
        out.put("records.bin".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)).put((byte) 0);
        out.put("a comment".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)).put((byte) 0);
        if (headerCrc) {
            CRC32 hcrc = new CRC32();
            hcrc.update(out.array(), 0, out.position());
            out.putShort((short) hcrc.getValue());
        }
        Deflater d = new Deflater(9, true);
        d.setInput(data);
        d.finish();
        byte[] buf = new byte[8192];
        while (!d.finished()) {
            int n = d.deflate(buf);
            out.put(buf, 0, n);
        }
        d.end();
        CRC32 crc = new CRC32();
        crc.update(data);
        out.putInt((int) crc.getValue()).putInt(data.length);
        return Arrays.copyOf(out.array(), out.position());
    }
}
