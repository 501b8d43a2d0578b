package io.shale.storage.local.objectstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The golden files were written by an independent encoder of the documented layout (a short
 * Python script with its own CRC-32C), not by {@link ObjectMetadata}.
 */
class ObjectMetadataTest {
    private static byte[] resource(String name) throws IOException {
        try (InputStream in = ObjectMetadataTest.class.getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Test
    void recordShouldMatchTheGoldenFile() throws Exception {
        byte[] golden = resource("object-metadata-v1.bin");
        ObjectMetadata meta = new ObjectMetadata(1_234_567, 1_700_000_000_000L, "golden-token_01");

        assertThat(bytes(meta.encode())).isEqualTo(golden);
        ObjectMetadata decoded = ObjectMetadata.decode(ByteBuffer.wrap(golden));
        assertThat(decoded.contentLength).isEqualTo(1_234_567);
        assertThat(decoded.lastModifiedMillis).isEqualTo(1_700_000_000_000L);
        assertThat(decoded.token).isEqualTo("golden-token_01");
    }

    @Test
    void recordWithoutTokenShouldMatchTheGoldenFile() throws Exception {
        byte[] golden = resource("object-metadata-v1-no-token.bin");
        assertThat(bytes(new ObjectMetadata(0, 1_700_000_000_001L, null).encode())).isEqualTo(golden);
        ObjectMetadata decoded = ObjectMetadata.decode(ByteBuffer.wrap(golden));
        assertThat(decoded.token).isNull();
        assertThat(decoded.lastModifiedMillis).isEqualTo(1_700_000_000_001L);
    }

    @Test
    void emptyTokenShouldStayDistinctFromNoToken() throws Exception {
        assertThat(ObjectMetadata.decode(new ObjectMetadata(5, 6, "").encode()).token).isEmpty();
        assertThat(ObjectMetadata.decode(new ObjectMetadata(5, 6, null).encode()).token).isNull();
    }

    @Test
    void trailerShouldMatchTheGoldenFile() throws Exception {
        byte[] golden = resource("object-trailer-v1.bin");
        assertThat(golden).hasSize(ObjectMetadata.TRAILER_BYTES);
        assertThat(bytes(new ObjectMetadata(1_234_567, 1_700_000_000_000L, "golden-token_01").encodeTrailer())).isEqualTo(golden);
        assertThat(ObjectMetadata.decodeTrailer(ByteBuffer.wrap(golden)).token).isEqualTo("golden-token_01");
    }

    @Test
    void everySingleBitFlipShouldBeReportedAsCorruption() throws Exception {
        byte[] golden = resource("object-trailer-v1.bin");
        for (int bit = 0; bit < golden.length * 8; bit++) {
            byte[] damaged = golden.clone();
            damaged[bit / 8] ^= (byte) (1 << (bit % 8));
            int flipped = bit;
            assertThatThrownBy(() -> ObjectMetadata.decodeTrailer(ByteBuffer.wrap(damaged)))
                    .as("bit %d", flipped).isInstanceOf(CorruptObjectException.class);
        }
    }

    @Test
    void arbitraryBytesShouldOnlyEverFailAsCorruption() {
        SplittableRandom random = new SplittableRandom(3);
        int decoded = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] junk = new byte[random.nextInt(ObjectMetadata.TRAILER_BYTES + 10)];
            random.nextBytes(junk);
            if (i % 3 == 0 && junk.length > 4) {
                junk[0] = 1; // make it past the version check more often
                junk[2] = (byte) random.nextInt(80);
            }
            for (boolean trailer : new boolean[] {false, true}) {
                try {
                    if (trailer) {
                        ObjectMetadata.decodeTrailer(ByteBuffer.wrap(junk));
                    } else {
                        ObjectMetadata.decode(ByteBuffer.wrap(junk));
                    }
                    decoded++;
                } catch (CorruptObjectException expected) {
                    // the only failure allowed
                }
            }
        }
        assertThat(decoded).as("random bytes that passed the CRC").isLessThan(3);
    }

    @Test
    void lyingTokenLengthShouldBeCorruptionNotAnOverread() {
        byte[] record = Arrays.copyOf(new byte[] {1, 1, (byte) 200, 0}, ObjectMetadata.MAX_RECORD_BYTES);
        assertThatThrownBy(() -> ObjectMetadata.decode(ByteBuffer.wrap(record))).isInstanceOf(CorruptObjectException.class);
        byte[] trailer = new byte[ObjectMetadata.TRAILER_BYTES];
        trailer[ObjectMetadata.TOKEN_LENGTH_OFFSET] = (byte) 255;
        ByteBuffer.wrap(trailer).putInt(ObjectMetadata.TRAILER_MAGIC_OFFSET, ObjectMetadata.TRAILER_MAGIC);
        assertThatThrownBy(() -> ObjectMetadata.decodeTrailer(ByteBuffer.wrap(trailer))).isInstanceOf(CorruptObjectException.class);
    }
}
