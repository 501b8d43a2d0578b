package io.shale.log.internal.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Regression: a snapshot whose runs point at object-table entries with an index larger than the
 * bytes left after them was rejected as corrupt ("count N exceeds the M remaining bytes"): the
 * decoder read the index with the bounds check meant for counts. Every snapshot of a store with
 * enough objects hit it, and the store then failed to open with CORRUPT_STORAGE. Found by
 * {@code ObjectStoreFaultTest} (every scenario that reopened after a snapshot).
 */
class SnapshotObjectIndexTest {

    @Test
    void snapshotWithObjectIndexesLargerThanTheRemainingBytesShouldDecode() {
        ManifestState s = new ManifestState();
        int partitions = 3;
        int[] ids = {0, 1, 2};
        s.applyDelta(1, 1L, List.of(new ManifestOp.ClaimEpoch(1),
                new ManifestOp.CreateTopic("t", new UUID(1, 2), Map.of(), ids)), null);
        long version = 1;
        long[] next = new long[partitions];
        // 300 objects; the last partitions' runs point at objects with indexes near 300, written
        // a few bytes before the end of the snapshot.
        for (int o = 0; o < 300; o++) {
            int p = o % partitions;
            ObjectMeta meta = new ObjectMeta(String.format("data/%05d", o), 1000, 900, ObjectMeta.KIND_MULTI, o);
            RangeRef r = new RangeRef(meta, p, next[p], next[p] + 5, o, 0, 900, 0, 1, o);
            next[p] += 5;
            s.applyDelta(++version, 2L, List.of(new ManifestOp.AddObject(meta, List.of(r))), null);
        }
        // and one pending deletion, whose object index is also read near the end
        s.applyDelta(++version, 3L, List.of(new ManifestOp.SetLogStart(2, 5)), null);

        byte[] bytes = ManifestCodec.encodeSnapshot(s, 1, 4L);
        ManifestState decoded = ManifestCodec.decodeSnapshot("manifest/snapshots/x", ByteBuffer.wrap(bytes));

        assertThat(decoded.version()).isEqualTo(s.version());
        assertThat(decoded.objects().keySet()).isEqualTo(s.objects().keySet());
        assertThat(decoded.pendingDeletes()).isEqualTo(s.pendingDeletes());
        for (int p = 0; p < partitions; p++) {
            List<String> expected = new ArrayList<>();
            for (RangeRef r : s.partition(p).ranges()) {
                expected.add(r.toString());
            }
            List<String> actual = new ArrayList<>();
            for (RangeRef r : decoded.partition(p).ranges()) {
                actual.add(r.toString());
            }
            assertThat(actual).isEqualTo(expected);
        }
    }
}
