package io.shale.log.wal;

import static io.shale.log.wal.WalTesting.manualFlush;
import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.testing.InMemoryObjectStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

class ObjectWalFormatTest {
    private static final String GOLDEN = "/wal/object-v1-epoch5.bin";
    private static final long EPOCH = 5;
    private static final long FIRST = EPOCH << 40;

    /**
     * The golden object: written by the real WAL (epoch 5, nothing replayed) from three entries.
     * Regenerate with -Dshale.wal.writeGolden=true only when the format version changes.
     */
    private static byte[] writeGoldenObject() {
        InMemoryObjectStore store = new InMemoryObjectStore();
        try (TestWalContext ctx = new TestWalContext(EPOCH, store)) {
            ObjectWriteAheadLog wal = manualFlush().chunkBytes(64).build();
            wal.open(ctx);
            wal.replay((s, i, o, p) -> {
            });
            wal.append(RecordingEntry.of(3, 100, "hello, shale"));
            wal.append(new RecordingEntry(7, 0, ByteBuffer.allocate(0)));
            byte[] ramp = new byte[40];
            for (int i = 0; i < ramp.length; i++) {
                ramp[i] = (byte) i;
            }
            wal.append(new RecordingEntry(3, 101, ByteBuffer.wrap(ramp)));
            wal.close();
        }
        assertThat(WalTesting.objectKeys(store.keys())).containsExactly("wal/00000000000000000005-00000005497558138880");
        return store.bytes(WalTesting.objectKeys(store.keys()).get(0));
    }

    private static byte[] golden() throws IOException {
        try (InputStream in = ObjectWalFormatTest.class.getResourceAsStream(GOLDEN)) {
            assertThat(in).as("golden file " + GOLDEN).isNotNull();
            return in.readAllBytes();
        }
    }

    @Test
    void objectWrittenByTheWalShouldMatchTheGoldenFileByteForByte() throws IOException {
        byte[] written = writeGoldenObject();
        if (Boolean.getBoolean("shale.wal.writeGolden")) {
            Files.write(Path.of("src/test/resources" + GOLDEN), written);
        }
        assertThat(written).isEqualTo(golden());
    }

    @Test
    void goldenFileShouldFollowTheDocumentedLayout() throws IOException {
        ByteBuffer b = ByteBuffer.wrap(golden());
        // Header, read at the offsets of the diagram, not through the decoder.
        assertThat(new String(golden(), 0, 4, StandardCharsets.US_ASCII)).isEqualTo("SWAL");
        assertThat(b.getShort(4)).isEqualTo((short) 1);
        assertThat(b.getShort(6)).isEqualTo((short) 40);
        assertThat(b.getLong(8)).isEqualTo(5L);
        assertThat(b.getLong(16)).isEqualTo(5_497_558_138_880L);
        assertThat(b.getLong(24)).isEqualTo(5_497_558_138_882L);
        assertThat(b.getInt(32)).isEqualTo(3);
        assertThat(b.getInt(36)).isEqualTo(crc(b, 0, 36));

        int pos = 40;
        int[] streams = {3, 7, 3};
        long[] bases = {100, 0, 101};
        int[] lengths = {12, 0, 40};
        for (int i = 0; i < 3; i++) {
            assertThat(b.getInt(pos + 4)).isEqualTo(lengths[i]);
            assertThat(b.getLong(pos + 8)).isEqualTo(5_497_558_138_880L + i);
            assertThat(b.getInt(pos + 16)).isEqualTo(streams[i]);
            assertThat(b.getLong(pos + 20)).isEqualTo(bases[i]);
            assertThat(b.getInt(pos)).isEqualTo(crc(b, pos + 4, 24 + lengths[i]));
            pos += 28 + lengths[i];
        }
        assertThat(new String(golden(), 40 + 28, 12, StandardCharsets.US_ASCII)).isEqualTo("hello, shale");

        assertThat(b.capacity()).isEqualTo(pos + 20);
        assertThat(new String(golden(), pos, 4, StandardCharsets.US_ASCII)).isEqualTo("SWEN");
        assertThat(b.getInt(pos + 4)).isEqualTo(3);
        assertThat(b.getLong(pos + 8)).isEqualTo(b.capacity());
        assertThat(b.getInt(pos + 16)).isEqualTo(crc(b, pos, 16));
    }

    @Test
    void decoderShouldReadTheGoldenFile() throws IOException {
        List<String> frames = new ArrayList<>();
        ObjectWalFormat.DecodeResult r = ObjectWalFormat.decode(ByteBuffer.wrap(golden()), EPOCH, FIRST,
                (seq, stream, base, payload) -> frames.add((seq - FIRST) + ":" + stream + ":" + base + ":" + payload.remaining()));
        assertThat(r.status()).isEqualTo(ObjectWalFormat.Status.COMPLETE);
        assertThat(frames).containsExactly("0:3:100:12", "1:7:0:0", "2:3:101:40");
        assertThat(r.header()).isEqualTo(new ObjectWalFormat.Header(EPOCH, FIRST, FIRST + 2, 3));
    }

    @Test
    void decoderShouldReportAnObjectWhoseHeaderDisagreesWithItsKeyAsUnreadable() throws IOException {
        ObjectWalFormat.DecodeResult r = ObjectWalFormat.decode(ByteBuffer.wrap(golden()), EPOCH, FIRST + 1,
                (seq, stream, base, payload) -> {
                    throw new AssertionError("no frame may be delivered");
                });
        assertThat(r.status()).isEqualTo(ObjectWalFormat.Status.UNREADABLE);
        assertThat(r.damage()).contains("key");
    }

    @Test
    void decoderShouldRejectAnUnknownVersion() throws IOException {
        byte[] bytes = golden();
        bytes[5] = 2;
        ObjectWalFormat.DecodeResult r = ObjectWalFormat.decode(ByteBuffer.wrap(bytes), -1, -1, (s, i, o, p) -> {
        });
        assertThat(r.status()).isEqualTo(ObjectWalFormat.Status.UNREADABLE);
        assertThat(r.damage()).contains("version 2");
    }

    @Test
    void lyingPayloadLengthShouldBeReportedWithoutAllocatingOrThrowing() throws IOException {
        byte[] bytes = golden();
        ByteBuffer.wrap(bytes).putInt(40 + 4, Integer.MAX_VALUE);
        ObjectWalFormat.DecodeResult r = ObjectWalFormat.decode(ByteBuffer.wrap(bytes), -1, -1, (s, i, o, p) -> {
        });
        assertThat(r.status()).isEqualTo(ObjectWalFormat.Status.UNREADABLE);
        assertThat(r.damage()).contains("declares a payload of " + Integer.MAX_VALUE);
    }

    @Test
    void decoderShouldNeverThrowNorDeliverAFrameThatWasNotWrittenWhateverTheDamage() throws IOException {
        byte[] original = golden();
        List<String> originalFrames = frames(original);
        Random random = new Random(20261125L);
        for (int round = 0; round < 5000; round++) {
            byte[] damaged = mutate(original, random);
            List<String> delivered = new ArrayList<>();
            ObjectWalFormat.DecodeResult r = ObjectWalFormat.decode(ByteBuffer.wrap(damaged), -1, -1,
                    (seq, stream, base, payload) -> delivered.add(describe(seq, stream, base, payload)));
            assertThat(originalFrames.subList(0, delivered.size())).as("round %d", round).isEqualTo(delivered);
            assertThat(r.framesDelivered()).isEqualTo(delivered.size());
            if (r.status() == ObjectWalFormat.Status.COMPLETE) {
                assertThat(delivered).isEqualTo(originalFrames);
            }
        }
    }

    @Test
    void keysShouldSortLexicographicallyInSequenceOrderAndParseBack() {
        Random random = new Random(7);
        List<WalObjectKey> keys = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            long epoch = random.nextInt(3) == 0 ? random.nextInt(12) : (long) random.nextInt((int) ObjectWriteAheadLog.MAX_EPOCH);
            long counter = random.nextBoolean() ? random.nextInt(1000) : (random.nextLong() >>> 24);
            WalObjectKey k = WalObjectKey.of("wal/", epoch, (epoch << 40) | counter);
            assertThat(WalObjectKey.parse("wal/", k.key())).isEqualTo(k);
            keys.add(k);
        }
        List<WalObjectKey> byKey = new ArrayList<>(keys);
        byKey.sort(Comparator.comparing(WalObjectKey::key));
        List<WalObjectKey> bySequence = new ArrayList<>(keys);
        bySequence.sort(Comparator.comparingLong(WalObjectKey::firstSequence));
        assertThat(byKey).isEqualTo(bySequence);
        assertThat(WalObjectKey.parse("wal/", "wal/README")).isNull();
        assertThat(WalObjectKey.parse("wal/", "wal/00000000000000000005-00000000000000000001")).isNull(); // epoch mismatch
        assertThat(WalObjectKey.parse("wal/", "wal/99999999999999999999-99999999999999999999")).isNull(); // overflow
    }

    private static List<String> frames(byte[] object) {
        List<String> out = new ArrayList<>();
        ObjectWalFormat.decode(ByteBuffer.wrap(object), -1, -1, (seq, stream, base, payload) -> out.add(describe(seq, stream, base, payload)));
        return out;
    }

    private static String describe(long seq, int stream, long base, ByteBuffer payload) {
        byte[] b = new byte[payload.remaining()];
        payload.duplicate().get(b);
        return seq + "/" + stream + "/" + base + "/" + Arrays.toString(b);
    }

    private static byte[] mutate(byte[] original, Random random) {
        byte[] b;
        switch (random.nextInt(4)) {
            case 0: // truncate
                return Arrays.copyOf(original, random.nextInt(original.length));
            case 1: // flip bits
                b = original.clone();
                for (int i = 0, n = 1 + random.nextInt(3); i < n; i++) {
                    b[random.nextInt(b.length)] ^= (byte) (1 << random.nextInt(8));
                }
                return b;
            case 2: // overwrite an int with a random or extreme value (lengths, counts)
                b = original.clone();
                int at = random.nextInt(b.length - 3);
                int[] extremes = {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, random.nextInt()};
                ByteBuffer.wrap(b).putInt(at, extremes[random.nextInt(extremes.length)]);
                return b;
            default: // append garbage
                b = Arrays.copyOf(original, original.length + 1 + random.nextInt(64));
                for (int i = original.length; i < b.length; i++) {
                    b[i] = (byte) random.nextInt();
                }
                return b;
        }
    }

    private static int crc(ByteBuffer b, int offset, int length) {
        CRC32C c = new CRC32C();
        c.update(b.array(), offset, length);
        return (int) c.getValue();
    }
}
