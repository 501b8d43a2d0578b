package io.shale.log.internal.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.record.Header;
import io.shale.log.record.RecordBatchBuilder;
import io.shale.log.record.SimpleRecord;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DataObjectFormatTest {

    static ByteBuffer batch(long baseOffset, int records, long ts, int valueSize) {
        RecordBatchBuilder b = new RecordBatchBuilder().baseOffset(baseOffset);
        for (int i = 0; i < records; i++) {
            byte[] v = new byte[valueSize];
            for (int j = 0; j < valueSize; j++) {
                v[j] = (byte) (baseOffset + i + j);
            }
            b.append(SimpleRecord.of(ts + i, ("k" + i).getBytes(), v, Header.of("h", "x")));
        }
        return b.build();
    }

    static ByteBuffer concat(ByteBuffer... parts) {
        int n = 0;
        for (ByteBuffer p : parts) {
            n += p.remaining();
        }
        ByteBuffer out = ByteBuffer.allocate(n);
        for (ByteBuffer p : parts) {
            out.put(p.duplicate());
        }
        return out.flip();
    }

    static byte[] join(List<ByteBuffer> parts) {
        return concat(parts.toArray(new ByteBuffer[0])).array();
    }

    /** A small two-partition object, the fixture of the golden test. */
    static byte[] sampleObject(DataObjectWriter w) {
        w.add(3, concat(batch(0, 2, 1_000, 10), batch(2, 1, 1_005, 10)));
        w.add(3, batch(3, 2, 1_010, 10));
        w.add(7, batch(100, 3, 2_000, 40));
        return join(w.finish());
    }

    @Test
    void objectBytesShouldMatchTheGoldenFile() throws Exception {
        Golden.check("data-object-v1.bin", sampleObject(new DataObjectWriter(200)));
    }

    @Test
    void goldenObjectShouldDecodeToTheExpectedBlocks() throws Exception {
        byte[] bytes = Golden.read("data-object-v1.bin");
        long[] footer = DataObjectIndex.decodeFooter("golden", ByteBuffer.wrap(bytes), bytes.length);
        ByteBuffer tail = ByteBuffer.wrap(bytes, (int) footer[0], bytes.length - (int) footer[0]).slice();
        DataObjectIndex idx = DataObjectIndex.decode("golden", tail, bytes.length);
        assertThat(idx.blocks()).extracting(BlockInfo::partitionId).containsExactly(3, 3, 7);
        assertThat(idx.blocks().get(0).baseOffset()).isEqualTo(0);
        assertThat(idx.blocks().get(0).nextOffset()).isEqualTo(3);
        assertThat(idx.blocks().get(1).baseOffset()).isEqualTo(3);
        assertThat(idx.blocks().get(2).nextOffset()).isEqualTo(103);
        assertThat(idx.blocks().get(2).maxTimestamp()).isEqualTo(2_002);
        for (BlockInfo b : idx.blocks()) {
            DataObjectIndex.verifyBlock("golden", b, ByteBuffer.wrap(bytes, (int) b.position(), b.size()).slice());
        }
    }

    @Test
    void writerShouldSplitBlocksAtTheTargetWithoutSplittingBatchesOrMixingPartitions() {
        DataObjectWriter w = new DataObjectWriter(1_000);
        for (int i = 0; i < 20; i++) {
            w.add(1, batch(i * 5L, 5, 10, 50));
        }
        w.add(2, batch(0, 1, 10, 3_000)); // larger than the target: a block of its own
        byte[] bytes = join(w.finish());
        assertThat(bytes.length).isEqualTo((int) w.objectSize());
        List<BlockInfo> blocks = w.blocks();
        long expectedNext = 0;
        for (BlockInfo b : blocks.subList(0, blocks.size() - 1)) {
            assertThat(b.partitionId()).isEqualTo(1);
            assertThat(b.baseOffset()).isEqualTo(expectedNext);
            assertThat(b.size()).isLessThanOrEqualTo(1_000);
            expectedNext = b.nextOffset();
        }
        assertThat(expectedNext).isEqualTo(100);
        assertThat(blocks.get(blocks.size() - 1).partitionId()).isEqualTo(2);
        assertThat(blocks.get(blocks.size() - 1).size()).isGreaterThan(1_000);
    }

    @Test
    void writerShouldRejectOutOfOrderInput() {
        DataObjectWriter w = new DataObjectWriter(1_000);
        w.add(5, batch(10, 1, 0, 1));
        assertThatThrownBy(() -> w.add(4, batch(0, 1, 0, 1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> w.add(5, batch(5, 1, 0, 1))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void decodingShouldRejectEveryCorruptionOfIndexOrFooterWithCorruptStorage() throws Exception {
        byte[] good = Golden.read("data-object-v1.bin");
        long[] footer = DataObjectIndex.decodeFooter("golden", ByteBuffer.wrap(good), good.length);
        int indexPos = (int) footer[0];
        Random random = new Random(42);
        for (int i = indexPos; i < good.length; i++) {
            byte[] bad = good.clone();
            bad[i] ^= (byte) (1 << random.nextInt(8));
            ByteBuffer tail = ByteBuffer.wrap(bad, indexPos, bad.length - indexPos).slice();
            assertThatThrownBy(() -> DataObjectIndex.decode("bad", tail, bad.length))
                    .isInstanceOfSatisfying(ShaleException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE));
        }
        for (int cut = 1; cut < good.length - indexPos; cut++) {
            ByteBuffer tail = ByteBuffer.wrap(good, indexPos + cut, good.length - indexPos - cut).slice();
            int size = good.length;
            assertThatThrownBy(() -> DataObjectIndex.decode("short", tail, size))
                    .isInstanceOf(ShaleException.class);
        }
    }

    @Test
    void aFlippedBitInABlockShouldFailItsCrc() throws Exception {
        byte[] bytes = Golden.read("data-object-v1.bin");
        long[] footer = DataObjectIndex.decodeFooter("golden", ByteBuffer.wrap(bytes), bytes.length);
        DataObjectIndex idx = DataObjectIndex.decode("golden",
                ByteBuffer.wrap(bytes, (int) footer[0], bytes.length - (int) footer[0]).slice(), bytes.length);
        BlockInfo b = idx.block(0);
        bytes[(int) b.position() + 5] ^= 0x10; // inside the batch length field: not covered by the batch CRC
        assertThatThrownBy(() -> DataObjectIndex.verifyBlock("golden", b,
                ByteBuffer.wrap(bytes, (int) b.position(), b.size()).slice()))
                .isInstanceOfSatisfying(ShaleException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE));
    }
}
