package io.shale.log.record;

import static io.shale.log.record.RecordBatchTest.assertCorrupt;
import static io.shale.log.record.Samples.toArray;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import org.junit.jupiter.api.Test;

class RecordBatchesTest {

    private static ByteBuffer threeBatches() {
        RecordBatchBuilder b = new RecordBatchBuilder();
        ByteBuffer out = ByteBuffer.allocate(4096);
        out.put(new byte[5]); // bytes before the position are not ours
        int start = out.position();
        b.baseOffset(0).append(SimpleRecord.of("a", "1")).append(SimpleRecord.of("b", "2")).writeTo(out);
        b.reset().baseOffset(2).compression(CompressionType.LZ4).append(SimpleRecord.of("c", "3")).writeTo(out);
        b.reset().baseOffset(3).append(SimpleRecord.of("d", "4")).writeTo(out);
        out.flip().position(start);
        return out;
    }

    @Test
    void splitShouldViewEveryBatchInOrder() {
        ByteBuffer buf = threeBatches();
        List<RecordBatch> batches = RecordBatches.split(buf);
        assertThat(batches).extracting(RecordBatch::baseOffset).containsExactly(0L, 2L, 3L);
        assertThat(batches).allMatch(RecordBatch::isValid);
        assertThat(buf.position()).isEqualTo(5);
    }

    @Test
    void splitOfAnEmptyBufferShouldBeEmpty() {
        assertThat(RecordBatches.split(ByteBuffer.allocate(0))).isEmpty();
    }

    @Test
    void splitShouldRejectATrailingPartialBatch() {
        ByteBuffer buf = threeBatches();
        buf.limit(buf.limit() - 1);
        assertCorrupt(() -> RecordBatches.split(buf), "after 2 whole batches");
    }

    @Test
    void splitShouldRejectAFewTrailingBytes() {
        ByteBuffer buf = threeBatches();
        ByteBuffer more = ByteBuffer.allocate(buf.remaining() + 3).put(buf.duplicate()).position(0);
        assertCorrupt(() -> RecordBatches.split(more), "3 bytes");
    }

    @Test
    void iterateShouldStopQuietlyAtATrailingPartialBatch() {
        ByteBuffer buf = threeBatches();
        int lastSize = RecordBatches.split(buf).get(2).sizeInBytes();
        for (int cut = 1; cut < lastSize; cut++) {
            ByteBuffer b = buf.duplicate();
            b.limit(buf.limit() - cut);
            List<Long> offsets = new ArrayList<>();
            RecordBatches.iterate(b).forEachRemaining(rb -> offsets.add(rb.baseOffset()));
            assertThat(offsets).as("cut %d", cut).containsExactly(0L, 2L);
        }
    }

    @Test
    void iterateShouldFailOnAMalformedHeader() {
        ByteBuffer buf = threeBatches();
        int second = buf.position() + RecordBatch.sizeAt(buf, buf.position());
        buf.putInt(second + 8, 10);
        Iterator<RecordBatch> it = RecordBatches.iterate(buf);
        it.next();
        assertCorrupt(it::hasNext, "length field 10");
    }

    @Test
    void iterateShouldFailOnAWholeBatchWithTheWrongMagic() {
        ByteBuffer buf = threeBatches();
        buf.put(buf.position() + 16, (byte) 1);
        assertCorrupt(() -> RecordBatches.iterate(buf).hasNext(), "magic 1");
    }

    @Test
    void iterateShouldSnapshotTheBufferSoLaterPositionChangesDoNotMatter() {
        ByteBuffer buf = threeBatches();
        Iterator<RecordBatch> it = RecordBatches.iterate(buf);
        buf.position(buf.limit());
        int n = 0;
        while (it.hasNext()) {
            RecordBatch rb = it.next();
            assertThat(toArray(rb.buffer())).hasSize(rb.sizeInBytes());
            n++;
        }
        assertThat(n).isEqualTo(3);
    }
}
