package io.shale.log.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.shale.log.internal.format.BlockInfo;
import io.shale.log.internal.format.CorruptObjectException;
import io.shale.log.internal.format.DataObjectFormat;
import io.shale.log.internal.format.DataObjectIndex;
import io.shale.log.record.RecordBatchBuilder;
import io.shale.log.record.SimpleRecord;
import io.shale.log.testing.InMemoryObjectStore;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Version-2 objects whose header, sequence table, index or footer say anything at all, with every
 * checksum made to match (a writer bug, or bytes forged): the WAL's decoder never throws, and the
 * data-object reader either refuses the object as corrupt or accepts only blocks that lie inside it.
 */
class ObjectWalV2FuzzTest {
    private static final long EPOCH = 3;

    private static RecordingEntry entry(int stream, long base, int records) {
        RecordBatchBuilder b = new RecordBatchBuilder().baseOffset(base).defaultTimestamp(1_700_000_000_000L + base);
        for (int i = 0; i < records; i++) {
            b.append(SimpleRecord.of("k" + i, "v".repeat(20 + i)));
        }
        return new RecordingEntry(stream, base, b.build());
    }

    private static byte[] goodObject() {
        InMemoryObjectStore store = new InMemoryObjectStore();
        try (TestWalContext ctx = new TestWalContext(EPOCH, store)) {
            ObjectWriteAheadLog wal = WalTesting.manualFlush().chunkBytes(64).dataObjects(true).build();
            wal.open(ctx);
            wal.replay((s, i, o, p) -> {
            });
            for (RecordingEntry e : List.of(entry(4, 0, 1), entry(1, 0, 2), entry(4, 1, 3), entry(7, 5, 1))) {
                wal.append(e);
            }
            wal.flush().join();
            wal.close();
        }
        return store.bytes(WalTesting.objectKeys(store.keys()).get(0));
    }

    /** Recomputes every checksum of a version-2 object laid out as {@code good} is. */
    private static void reseal(byte[] b, byte[] good) {
        ByteBuffer g = ByteBuffer.wrap(good);
        ByteBuffer w = ByteBuffer.wrap(b);
        int count = g.getInt(ObjectWalFormat.HEADER_ENTRY_COUNT_OFFSET);
        int t = (int) g.getLong(ObjectWalFormat.HEADER_V2_TABLE_POSITION_OFFSET);
        int ix = (int) g.getLong(ObjectWalFormat.HEADER_V2_INDEX_POSITION_OFFSET);
        int indexLength = DataObjectFormat.INDEX_HEADER_SIZE + count * DataObjectFormat.ENTRY_SIZE
                + DataObjectFormat.INDEX_TRAILER_SIZE;
        w.putInt(ObjectWalFormat.HEADER_V2_CRC_OFFSET, ObjectWalFormat.crc(b, 0, ObjectWalFormat.HEADER_V2_CRC_OFFSET));
        w.putInt(t + 8 * count, ObjectWalFormat.crc(b, t, 8 * count));
        w.putInt(ix + indexLength - DataObjectFormat.INDEX_TRAILER_SIZE,
                ObjectWalFormat.crc(b, ix, indexLength - DataObjectFormat.INDEX_TRAILER_SIZE));
        int f = b.length - DataObjectFormat.FOOTER_SIZE;
        w.putInt(f + DataObjectFormat.FOOTER_CRC_OFFSET, ObjectWalFormat.crc(b, f, DataObjectFormat.FOOTER_CRC_OFFSET));
    }

    private static void decodeBoth(byte[] bad) {
        String key = "wal/fuzz";
        assertThatCode(() -> ObjectWalFormat.decode(ByteBuffer.wrap(bad), EPOCH, -1, (s, i, o, p) -> {
            p.get(new byte[p.remaining()]);
        })).as("the WAL decoder").doesNotThrowAnyException();
        try {
            long[] footer = DataObjectIndex.decodeFooter(key, ByteBuffer.wrap(bad), bad.length);
            DataObjectIndex idx = DataObjectIndex.decode(key,
                    ByteBuffer.wrap(bad, (int) footer[0], bad.length - (int) footer[0]).slice(), bad.length);
            for (BlockInfo bi : idx.blocks()) {
                assertThat(bi.position()).as("block position").isBetween(0L, (long) bad.length);
                assertThat(bi.position() + bi.size()).as("block end").isBetween(0L, idx.indexPosition());
            }
        } catch (CorruptObjectException expected) {
            // refused: fine
        }
    }

    @Test
    void aBlockPositionNearTheLongLimitShouldBeRefusedNotOverflow() {
        byte[] good = goodObject();
        ByteBuffer g = ByteBuffer.wrap(good);
        int count = g.getInt(ObjectWalFormat.HEADER_ENTRY_COUNT_OFFSET);
        int ix = (int) g.getLong(ObjectWalFormat.HEADER_V2_INDEX_POSITION_OFFSET);
        int last = ix + DataObjectFormat.INDEX_HEADER_SIZE + (count - 1) * DataObjectFormat.ENTRY_SIZE;
        byte[] bad = good.clone();
        ByteBuffer.wrap(bad).putLong(last + DataObjectFormat.ENTRY_POSITION, Long.MAX_VALUE - 2);
        reseal(bad, good);
        decodeBoth(bad);
    }

    @Test
    void anyFieldOfHeaderTableIndexOrFooterShouldNeverMakeADecoderThrowOrAcceptABlockOutsideTheObject() {
        byte[] good = goodObject();
        ByteBuffer g = ByteBuffer.wrap(good);
        int t = (int) g.getLong(ObjectWalFormat.HEADER_V2_TABLE_POSITION_OFFSET);
        long[] special = {0, -1, 1, Long.MAX_VALUE, Long.MIN_VALUE, Integer.MAX_VALUE, Integer.MIN_VALUE,
                Long.MAX_VALUE - 2, good.length, good.length - 1, t, ObjectWalFormat.HEADER_V2_LENGTH};
        long seed = Long.getLong("fuzz.seed", 20261208L);
        Random random = new Random(seed);
        for (int round = 0; round < 20_000; round++) {
            byte[] bad = good.clone();
            ByteBuffer w = ByteBuffer.wrap(bad);
            int mutations = 1 + random.nextInt(3);
            for (int m = 0; m < mutations; m++) {
                // anywhere but the magic and version, and outside the payloads
                int at = random.nextBoolean() ? 6 + random.nextInt(ObjectWalFormat.HEADER_V2_CRC_OFFSET - 6)
                        : t + random.nextInt(good.length - t);
                long v = random.nextBoolean() ? special[random.nextInt(special.length)] : random.nextLong();
                if (random.nextBoolean() && at + 8 <= bad.length) {
                    w.putLong(at, v);
                } else if (at + 4 <= bad.length) {
                    w.putInt(at, (int) v);
                }
            }
            reseal(bad, good);
            int r = round;
            assertThatCode(() -> decodeBoth(bad)).as("round %d of seed %d", r, seed).doesNotThrowAnyException();
        }
    }
}
