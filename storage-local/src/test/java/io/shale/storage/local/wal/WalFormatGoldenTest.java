package io.shale.storage.local.wal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The version-1 segment format against {@code src/test/resources/wal/segment-v1.bin}: a header
 * (segment id 0x0123456789ABCDEF, ordinal 7, first sequence 100, previous segment
 * 0x1111111111111111 ending at 8192), then two frames: sequence 100, stream 3, base offset 42,
 * payload "hello, shale"; sequence 101, stream 4, base offset 0, empty payload; then 64 zero bytes.
 * The field checks below use the offsets of the documented diagram, written out by hand.
 */
class WalFormatGoldenTest {
    private static final String GOLDEN = "/wal/segment-v1.bin";
    private static final long SEGMENT_ID = 0x0123456789ABCDEFL;
    private static final byte[] HELLO = "hello, shale".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    /** Encodes the golden segment with the production encoder. */
    static byte[] encodeGoldenSegment() {
        int frame1 = 4096;
        int frame2 = frame1 + 40 + HELLO.length;
        ByteBuffer buf = ByteBuffer.allocate(frame2 + 40 + 64);
        CRC32C crc = new CRC32C();
        byte[] scratch = new byte[8];
        WalFormat.writeHeader(buf, 0, SEGMENT_ID, 7, 100, 0x1111111111111111L, 8192, crc);
        buf.put(frame1 + 40, HELLO);
        WalFormat.writeFrame(buf, buf.duplicate(), frame1, frame1, 3, SEGMENT_ID, 100, 42, HELLO.length, crc, scratch);
        WalFormat.writeFrame(buf, buf.duplicate(), frame2, frame2, 4, SEGMENT_ID, 101, 0, 0, crc, scratch);
        return buf.array();
    }

    static byte[] golden() throws IOException {
        try (InputStream in = WalFormatGoldenTest.class.getResourceAsStream(GOLDEN)) {
            assertThat(in).as(GOLDEN).isNotNull();
            return in.readAllBytes();
        }
    }

    private static int crc32c(byte[]... parts) {
        CRC32C c = new CRC32C();
        for (byte[] p : parts) {
            c.update(p);
        }
        return (int) c.getValue();
    }

    @Test
    void encoderShouldProduceTheGoldenBytes() throws IOException {
        assertThat(encodeGoldenSegment()).isEqualTo(golden());
    }

    @Test
    void goldenHeaderShouldHaveTheDocumentedLayout() throws IOException {
        byte[] g = golden();
        ByteBuffer b = ByteBuffer.wrap(g);
        assertThat(new String(g, 0, 8, StandardCharsets.US_ASCII)).isEqualTo("SHALEWAL");
        assertThat(b.getShort(8)).isEqualTo((short) 1);          // version
        assertThat(b.getShort(10)).isEqualTo((short) 64);        // header length
        assertThat(b.getInt(12)).isZero();                       // flags
        assertThat(b.getLong(16)).isEqualTo(SEGMENT_ID);
        assertThat(b.getLong(24)).isEqualTo(7);                  // ordinal
        assertThat(b.getLong(32)).isEqualTo(100);                // first sequence
        assertThat(b.getLong(40)).isEqualTo(0x1111111111111111L);
        assertThat(b.getLong(48)).isEqualTo(8192);               // prev end
        assertThat(b.getInt(56)).isZero();                       // reserved
        assertThat(b.getInt(60)).isEqualTo(crc32c(Arrays.copyOfRange(g, 0, 60)));
        byte[] padding = Arrays.copyOfRange(g, 64, 4096);
        assertThat(padding).containsOnly((byte) 0);
    }

    @Test
    void goldenFramesShouldHaveTheDocumentedLayout() throws IOException {
        byte[] g = golden();
        ByteBuffer b = ByteBuffer.wrap(g);
        int f = 4096;
        assertThat(b.getInt(f + 4)).isEqualTo(12);               // length
        assertThat(g[f + 8]).isEqualTo((byte) 1);                // type ENTRY
        assertThat(g[f + 9]).isZero();                           // flags
        assertThat(b.getShort(f + 10)).isZero();                 // reserved
        assertThat(b.getInt(f + 12)).isEqualTo(3);               // stream id
        assertThat(b.getLong(f + 16)).isEqualTo(SEGMENT_ID);
        assertThat(b.getLong(f + 24)).isEqualTo(100);            // sequence
        assertThat(b.getLong(f + 32)).isEqualTo(42);             // base offset
        assertThat(Arrays.copyOfRange(g, f + 40, f + 52)).isEqualTo(HELLO);
        byte[] position = ByteBuffer.allocate(8).putLong(f).array();
        assertThat(b.getInt(f)).isEqualTo(crc32c(position, Arrays.copyOfRange(g, f + 4, f + 52)));

        int f2 = f + 52;
        assertThat(b.getInt(f2 + 4)).isZero();
        assertThat(b.getInt(f2 + 12)).isEqualTo(4);
        assertThat(b.getLong(f2 + 24)).isEqualTo(101);
        byte[] position2 = ByteBuffer.allocate(8).putLong(f2).array();
        assertThat(b.getInt(f2)).isEqualTo(crc32c(position2, Arrays.copyOfRange(g, f2 + 4, f2 + 40)));
        assertThat(Arrays.copyOfRange(g, f2 + 40, g.length)).containsOnly((byte) 0);
    }

    @Test
    void readerShouldDecodeTheGoldenSegment() throws IOException {
        byte[] g = golden();
        WalFormat.Header h = WalFormat.readHeader(ByteBuffer.wrap(g), 0, new CRC32C());
        assertThat(h).isEqualTo(new WalFormat.Header(SEGMENT_ID, 7, 100, 0x1111111111111111L, 8192));
        try (FileChannel ch = channelOver(g)) {
            FrameReader r = new FrameReader();
            r.reset(ch, g.length, SEGMENT_ID);
            assertThat(r.read(4096)).isEqualTo(52);
            assertThat(r.sequence).isEqualTo(100);
            assertThat(r.streamId).isEqualTo(3);
            assertThat(r.baseOffset).isEqualTo(42);
            assertThat(r.payload).isEqualTo(ByteBuffer.wrap(HELLO));
            assertThat(r.read(4148)).isEqualTo(40);
            assertThat(r.sequence).isEqualTo(101);
            assertThat(r.payload.remaining()).isZero();
            assertThat(r.read(4188)).as("zeroes are no frame").isEqualTo(-1);
            r.reset(ch, g.length, SEGMENT_ID + 1);
            assertThat(r.read(4096)).as("another segment id").isEqualTo(-1);
        }
    }

    @Test
    void everySingleBitFlipOfAFrameOrHeaderShouldBeRejected() throws IOException {
        byte[] g = golden();
        for (int bit = 0; bit < 64 * 8; bit++) {
            byte[] h = g.clone();
            h[bit / 8] ^= (byte) (1 << (bit % 8));
            assertThat(WalFormat.readHeader(ByteBuffer.wrap(h), 0, new CRC32C())).as("header bit %d", bit).isNull();
        }
        Path p = Files.createTempFile(dir, "segment", ".bin");
        Files.write(p, g);
        FrameReader r = new FrameReader();
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            for (int bit = 0; bit < 52 * 8; bit++) {
                byte[] frame = Arrays.copyOfRange(g, 4096, 4096 + 52);
                frame[bit / 8] ^= (byte) (1 << (bit % 8));
                ch.write(ByteBuffer.wrap(frame), 4096);
                r.reset(ch, g.length, SEGMENT_ID);
                assertThat(r.read(4096)).as("frame bit %d", bit).isEqualTo(-1);
            }
            ch.write(ByteBuffer.wrap(g, 4096, 52), 4096);
            r.reset(ch, g.length, SEGMENT_ID);
            assertThat(r.read(4096)).as("restored frame").isEqualTo(52);
        }
    }

    @Test
    void aFrameShouldNotVerifyAtAnotherPosition() throws IOException {
        byte[] g = golden();
        byte[] moved = Arrays.copyOf(g, g.length + 52);
        System.arraycopy(g, 4096, moved, 4188, 52);  // a copy of frame 1 right after frame 2
        try (FileChannel ch = channelOver(moved)) {
            FrameReader r = new FrameReader();
            r.reset(ch, moved.length, SEGMENT_ID);
            assertThat(r.read(4188)).isEqualTo(-1);
        }
    }

    @Test
    void lyingLengthsShouldBeRejectedWithoutLargeReads() throws IOException {
        byte[] g = golden();
        FrameReader r = new FrameReader();
        try (FileChannel ch = channelOver(g)) {
            for (int lie : new int[] {-1, Integer.MIN_VALUE, Integer.MAX_VALUE, WalFormat.MAX_PAYLOAD_BYTES,
                    WalFormat.MAX_PAYLOAD_BYTES + 1, 13, 100}) {
                ch.write(ByteBuffer.allocate(4).putInt(0, lie), 4096 + 4);
                r.reset(ch, g.length, SEGMENT_ID);
                assertThat(r.read(4096)).as("length %d", lie).isEqualTo(-1);
            }
        }
    }

    private FileChannel channelOver(byte[] bytes) throws IOException {
        Path p = Files.createTempFile(dir, "segment", ".bin");
        Files.write(p, bytes);
        return FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }
}
