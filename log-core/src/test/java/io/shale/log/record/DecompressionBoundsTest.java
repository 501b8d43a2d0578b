package io.shale.log.record;

import static io.shale.log.record.RecordBatchTest.assertCorrupt;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import com.github.luben.zstd.ZstdOutputStream;
import net.jpountz.lz4.LZ4Factory;
import org.junit.jupiter.api.Test;
import org.xerial.snappy.Snappy;

/**
 * Decompression bombs and lying sizes: a batch whose records section expands past
 * {@link Codecs#MAX_DECOMPRESSED_BYTES}, or whose fields claim sizes the bytes cannot back, must
 * fail with CORRUPT_RECORD after allocating at most a small multiple of the cap (measured on this
 * thread), never with an OutOfMemoryError and never by allocating what a field claims.
 */
class DecompressionBoundsTest {

    private static final int BOMB_SIZE = Codecs.MAX_DECOMPRESSED_BYTES + (8 << 20);
    private static final int MEMBER_SIZE = 8 << 20;
    private static final long ALLOWED = 3L * Codecs.MAX_DECOMPRESSED_BYTES;

    @Test
    void aGzipBombShouldFailAsCorruptWithinTheCap() throws IOException {
        // concatenated gzip members, each 8 MiB of zeros (readers must accept concatenation)
        ByteArrayOutputStream member = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(member, 64 * 1024)) {
            writeZeros(gz, MEMBER_SIZE);
        }
        assertBombRejected(CompressionType.GZIP, repeat(member.toByteArray(), BOMB_SIZE / MEMBER_SIZE + 1));
    }

    @Test
    void aZstdBombShouldFailAsCorruptWithinTheCap() throws IOException {
        // concatenated zstd frames, each 8 MiB of zeros, written by the streaming encoder (no content size)
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        try (ZstdOutputStream z = new ZstdOutputStream(frame, 3)) {
            writeZeros(z, MEMBER_SIZE);
        }
        assertBombRejected(CompressionType.ZSTD, repeat(frame.toByteArray(), BOMB_SIZE / MEMBER_SIZE + 1));
    }

    @Test
    void anLz4BombShouldFailAsCorruptWithinTheCap() {
        // one 4 MiB block of zeros (BD 0x70), repeated
        int block = 4 << 20;
        byte[] compressedBlock = LZ4Factory.fastestInstance().fastCompressor().compress(new byte[block]);
        ByteBuffer frame = ByteBuffer.allocate(16 + (BOMB_SIZE / block + 1) * (4 + compressedBlock.length))
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        frame.putInt(Lz4Codec.MAGIC).put((byte) 0x60).put((byte) 0x70);
        frame.put((byte) ((net.jpountz.xxhash.XXHashFactory.fastestInstance().hash32()
                .hash(new byte[] {0x60, 0x70}, 0, 2, 0) >> 8) & 0xFF));
        for (int produced = 0; produced < BOMB_SIZE; produced += block) {
            frame.putInt(compressedBlock.length).put(compressedBlock);
        }
        frame.putInt(0);
        assertBombRejected(CompressionType.LZ4, Arrays.copyOf(frame.array(), frame.position()));
    }

    @Test
    void aSnappyBombShouldFailAsCorruptWithinTheCap() throws IOException {
        byte[] chunk = Snappy.compress(new byte[SnappyCodec.BLOCK_SIZE]);
        int chunks = BOMB_SIZE / SnappyCodec.BLOCK_SIZE + 1;
        ByteBuffer stream = ByteBuffer.allocate(16 + chunks * (4 + chunk.length));
        stream.put(SnappyCodec.MAGIC).putInt(1).putInt(1);
        for (int i = 0; i < chunks; i++) {
            stream.putInt(chunk.length).put(chunk);
        }
        assertBombRejected(CompressionType.SNAPPY, stream.array());
    }

    @Test
    void aSnappyBlockClaimingAHugeLengthShouldFailBeforeAllocatingIt() {
        // raw snappy block whose varint preamble claims ~1 GiB from 6 bytes
        byte[] block = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x04, 0x00};
        ByteBuffer stream = ByteBuffer.allocate(16 + 4 + block.length);
        stream.put(SnappyCodec.MAGIC).putInt(1).putInt(1).putInt(block.length).put(block);
        assertThat(CompressionType.SNAPPY.isAvailable()).isTrue(); // loads the native library before measuring
        long allocated = allocatedBy(() -> assertCorrupt(
                () -> RecordBatch.wrap(RawBatches.batch(CompressionType.SNAPPY.id, 1, stream.array())).iterator(),
                "declares"));
        assertThat(allocated).isLessThan(1 << 20);
    }

    @Test
    void anLz4BlockLargerThanTheFramesMaximumShouldFailAsCorrupt() {
        byte[] frame = Arrays.copyOf(lz4Frame(new byte[100]), 200);
        // first block size word sits after the 7-byte frame header
        ByteBuffer.wrap(frame).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(7, 64 * 1024 + 1);
        assertCorrupt(() -> RecordBatch.wrap(RawBatches.batch(CompressionType.LZ4.id, 1, frame)).iterator(),
                "exceeds the frame's maximum");
    }

    @Test
    void aCompressedBatchWithALyingRecordCountShouldFailWithoutAllocatingForTheCount() {
        ByteBuffer real = Samples.build(CompressionType.GZIP, Samples.randomRecords(new java.util.Random(1), 3));
        real.putInt(57, Integer.MAX_VALUE);
        assertThat(CompressionType.GZIP.isAvailable()).isTrue(); // class loading is not what we measure
        long allocated = allocatedBy(() -> assertCorrupt(() -> RecordBatch.wrap(real).iterator(), "recordsCount"));
        assertThat(allocated).isLessThan(1 << 20);
        real.putInt(57, 1000);
        assertCorrupt(() -> RecordBatch.wrap(real).iterator(), "recordsCount 1000 cannot fit");
    }

    @Test
    void aLargeButLegalCompressedBatchShouldStillDecode() {
        byte[] value = new byte[6 << 20]; // 6 MiB of zeros: several lz4 blocks and snappy chunks
        for (CompressionType t : new CompressionType[] {CompressionType.GZIP, CompressionType.LZ4,
                CompressionType.SNAPPY, CompressionType.ZSTD}) {
            ByteBuffer bytes = new RecordBatchBuilder().compression(t).append(SimpleRecord.of(1L, null, value)).build();
            assertThat(bytes.remaining()).as(t.kafkaName).isLessThan(value.length / 10);
            Record r = RecordBatch.wrap(bytes).iterator().next();
            assertThat(r.value().remaining()).isEqualTo(value.length);
        }
    }

    private static void assertBombRejected(CompressionType type, byte[] payload) {
        ByteBuffer batch = RawBatches.batch(type.id, 1, payload);
        long allocated = allocatedBy(() -> assertCorrupt(() -> RecordBatch.wrap(batch).iterator(), "more than "
                + Codecs.MAX_DECOMPRESSED_BYTES + " bytes"));
        assertThat(allocated).as("bytes allocated while rejecting a %s bomb", type.kafkaName).isLessThan(ALLOWED);
    }

    private static long allocatedBy(Runnable r) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        long before = mx.getThreadAllocatedBytes(tid);
        r.run();
        return mx.getThreadAllocatedBytes(tid) - before;
    }

    private static void writeZeros(OutputStream out, int n) throws IOException {
        byte[] zeros = new byte[64 * 1024];
        for (int written = 0; written < n; written += zeros.length) {
            out.write(zeros, 0, Math.min(zeros.length, n - written));
        }
    }

    private static byte[] repeat(byte[] part, int times) {
        byte[] out = new byte[part.length * times];
        for (int i = 0; i < times; i++) {
            System.arraycopy(part, 0, out, i * part.length, part.length);
        }
        return out;
    }

    private static byte[] lz4Frame(byte[] content) {
        GrowableBytes out = new GrowableBytes(64, Integer.MAX_VALUE);
        new Lz4Codec().compress(content, content.length, out);
        return Arrays.copyOf(out.array, out.length);
    }
}
