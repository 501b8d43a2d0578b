package io.shale.log.internal.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.internal.format.Golden;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ManifestCodecTest {
    private static final UUID TOPIC_ID = new UUID(0x1234_5678_9abc_def0L, 0x0fed_cba9_8765_4321L);

    /** Every op kind, in an order the state machine accepts. */
    static List<List<ManifestOp>> history() {
        ObjectMeta a = new ObjectMeta("data/1-1", 5_000, 4_000, ObjectMeta.KIND_MULTI, 1_000);
        ObjectMeta b = new ObjectMeta("data/1-c1", 3_000, 2_500, ObjectMeta.KIND_SEGMENT, 2_000);
        return List.of(
                List.of(new ManifestOp.ClaimEpoch(1)),
                List.of(new ManifestOp.CreateTopic("orders", TOPIC_ID, Map.of("retention.ms", "1000"), new int[] {0, 1})),
                List.of(new ManifestOp.AddPartitions("orders", new int[] {2})),
                List.of(new ManifestOp.AlterTopicConfig("orders", Map.of("retention.ms", "2000", "segment.bytes", "4096"))),
                List.of(new ManifestOp.AddObject(a, List.of(
                        new RangeRef(a, 0, 0, 10, 900, 0, 2_000, 0, 1, 0xCAFE),
                        new RangeRef(a, 1, 0, 5, 950, 2_000, 2_000, 1, 2, 0)))),
                List.of(new ManifestOp.AddObject(b, List.of(new RangeRef(b, 0, 0, 10, 900, 0, 2_500, 0, 1, 0xBEEF))),
                        new ManifestOp.RemoveRanges(0, List.of(new ManifestOp.RangeId("data/1-1", 0)))),
                List.of(new ManifestOp.SetLogStart(1, 5)),
                List.of(new ManifestOp.ObjectsDeleted(List.of("data/1-1"))),
                List.of(new ManifestOp.CreateTopic("gone", new UUID(1, 2), Map.of(), new int[] {3})),
                List.of(new ManifestOp.DeleteTopic("gone")));
    }

    static ManifestState apply(List<List<ManifestOp>> deltas) {
        ManifestState s = new ManifestState();
        long n = 1;
        for (List<ManifestOp> ops : deltas) {
            s.applyDelta(n, 10_000 + n, ops, null);
            n++;
        }
        return s;
    }

    @Test
    void deltasShouldRoundTripAndMatchTheGoldenFile() throws Exception {
        List<List<ManifestOp>> h = history();
        ByteBuffer all = ByteBuffer.allocate(1 << 16);
        for (int i = 0; i < h.size(); i++) {
            byte[] bytes = ManifestCodec.encodeDelta(i + 1, 1, 10_000 + i, h.get(i));
            ManifestCodec.Delta d = ManifestCodec.decodeDelta("d", ByteBuffer.wrap(bytes));
            assertThat(d.number()).isEqualTo(i + 1);
            assertThat(d.ops()).hasSameSizeAs(h.get(i));
            assertThat(ManifestCodec.encodeDelta(i + 1, 1, 10_000 + i, d.ops())).isEqualTo(bytes);
            all.putInt(bytes.length).put(bytes);
        }
        byte[] golden = new byte[all.position()];
        all.flip().get(golden);
        Golden.check("manifest-deltas-v1.bin", golden);
    }

    @Test
    void stateMachineShouldTrackRangesRefCountsAndPendingDeletes() {
        ManifestState s = apply(history());
        assertThat(s.version()).isEqualTo(10);
        assertThat(s.writerEpoch()).isEqualTo(1);
        assertThat(s.topics()).containsOnlyKeys("orders");
        assertThat(s.topic("orders").partitionCount()).isEqualTo(3);
        assertThat(s.topic("orders").configs()).containsEntry("segment.bytes", "4096");
        PartitionMeta p0 = s.partition(0);
        assertThat(p0.ranges()).hasSize(1);
        assertThat(p0.ranges()[0].object().key()).isEqualTo("data/1-c1");
        PartitionMeta p1 = s.partition(1);
        assertThat(p1.logStartOffset()).isEqualTo(5);
        assertThat(p1.ranges()).isEmpty(); // its only run ended at 5
        assertThat(p1.endOffset()).isEqualTo(5);
        assertThat(s.objects()).containsOnlyKeys("data/1-c1");
        assertThat(s.pendingDeletes()).isEmpty();
        assertThat(s.partition(3)).isNull();
    }

    @Test
    void snapshotShouldRoundTripTheWholeStateAndMatchTheGoldenFile() throws Exception {
        List<List<ManifestOp>> h = history();
        ManifestState s = apply(h.subList(0, 7)); // before the deletion is recorded: one pending delete
        assertThat(s.pendingDeletes()).containsKey("data/1-1");
        byte[] bytes = ManifestCodec.encodeSnapshot(s, 1, 99);
        Golden.check("manifest-snapshot-v1.bin", bytes);
        ManifestState back = ManifestCodec.decodeSnapshot("s", ByteBuffer.wrap(bytes));
        assertThat(back.version()).isEqualTo(s.version());
        assertThat(back.pendingDeletes()).isEqualTo(s.pendingDeletes());
        assertThat(back.objects().keySet()).isEqualTo(s.objects().keySet());
        assertThat(ManifestCodec.encodeSnapshot(back, 1, 99)).isEqualTo(bytes);
        // applying the rest of the history to the decoded snapshot gives the same final state
        long n = s.version() + 1;
        for (List<ManifestOp> ops : h.subList(7, h.size())) {
            back.applyDelta(n, 10_000 + n, ops, null);
            n++;
        }
        assertThat(ManifestCodec.encodeSnapshot(back, 1, 99)).isEqualTo(ManifestCodec.encodeSnapshot(apply(h), 1, 99));
    }

    @Test
    void everyBitFlipAndTruncationShouldFailWithCorruptStorage() {
        byte[] delta = ManifestCodec.encodeDelta(5, 1, 1, history().get(4));
        byte[] snap = ManifestCodec.encodeSnapshot(apply(history()), 1, 1);
        Random r = new Random(7);
        for (byte[] good : List.of(delta, snap)) {
            boolean isDelta = good == delta;
            for (int i = 0; i < good.length; i++) {
                byte[] bad = good.clone();
                bad[i] ^= (byte) (1 << r.nextInt(8));
                assertCorrupt(bad, isDelta);
            }
            for (int cut = 0; cut < good.length; cut++) {
                byte[] bad = java.util.Arrays.copyOf(good, cut);
                assertCorrupt(bad, isDelta);
            }
        }
    }

    private static void assertCorrupt(byte[] bad, boolean delta) {
        assertThatThrownBy(() -> {
            if (delta) {
                ManifestCodec.decodeDelta("bad", ByteBuffer.wrap(bad));
            } else {
                ManifestCodec.decodeSnapshot("bad", ByteBuffer.wrap(bad));
            }
        }).isInstanceOfSatisfying(ShaleException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE));
    }

    @Test
    void aDeltaOutOfSequenceShouldBeRejected() {
        ManifestState s = new ManifestState();
        assertThatThrownBy(() -> s.applyDelta(2, 0, List.of(), null)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aSecondClaimOfTheSameEpochShouldBeRejectedAsCorrupt() {
        ManifestState s = new ManifestState();
        s.applyDelta(1, 0, List.of(new ManifestOp.ClaimEpoch(3)), null);
        assertThatThrownBy(() -> s.applyDelta(2, 0, List.of(new ManifestOp.ClaimEpoch(3)), null))
                .isInstanceOfSatisfying(ShaleException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE));
    }
}
