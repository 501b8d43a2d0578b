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

    // ------------------------------------------------------------------ version 2: cleaned offsets

    /** {@link #history()} plus key-based compaction: a cleaning commit and a later one. */
    static List<List<ManifestOp>> historyWithCleaning() {
        ObjectMeta c = new ObjectMeta("data/1-c2", 2_000, 1_500, ObjectMeta.KIND_SEGMENT, 3_000);
        List<List<ManifestOp>> h = new java.util.ArrayList<>(history());
        h.add(List.of(new ManifestOp.AddObject(c, List.of(new RangeRef(c, 0, 0, 10, 900, 0, 1_500, 0, 1, 0xF00D))),
                new ManifestOp.RemoveRanges(0, List.of(new ManifestOp.RangeId("data/1-c1", 0))),
                new ManifestOp.SetCleanedOffset(0, 10)));
        h.add(List.of(new ManifestOp.SetCleanedOffset(2, 300), new ManifestOp.SetCleanedOffset(0, 7)));
        return h;
    }

    @Test
    void aDeltaWithACleanedOffsetShouldBeVersion2RoundTripAndMatchTheGoldenFile() throws Exception {
        List<List<ManifestOp>> h = historyWithCleaning();
        ByteBuffer all = ByteBuffer.allocate(1 << 12);
        for (int i = history().size(); i < h.size(); i++) {
            byte[] bytes = ManifestCodec.encodeDelta(i + 1, 1, 10_000 + i, h.get(i));
            assertThat(Short.toUnsignedInt(ByteBuffer.wrap(bytes).getShort(4))).isEqualTo(ManifestCodec.FORMAT_VERSION_2);
            ManifestCodec.Delta d = ManifestCodec.decodeDelta("d", ByteBuffer.wrap(bytes));
            assertThat(d.ops()).hasSameSizeAs(h.get(i));
            assertThat(d.ops()).filteredOn(op -> op instanceof ManifestOp.SetCleanedOffset)
                    .isEqualTo(h.get(i).stream().filter(op -> op instanceof ManifestOp.SetCleanedOffset).toList());
            assertThat(ManifestCodec.encodeDelta(i + 1, 1, 10_000 + i, d.ops())).isEqualTo(bytes);
            all.putInt(bytes.length).put(bytes);
        }
        byte[] golden = new byte[all.position()];
        all.flip().get(golden);
        Golden.check("manifest-deltas-v2.bin", golden);
    }

    @Test
    void filesWithoutCleanedOffsetsShouldStayVersion1AndTheVersion1GoldenFilesShouldStillDecode() throws Exception {
        byte[] delta = ManifestCodec.encodeDelta(1, 1, 1, List.of(new ManifestOp.ClaimEpoch(1)));
        assertThat(Short.toUnsignedInt(ByteBuffer.wrap(delta).getShort(4))).isEqualTo(ManifestCodec.FORMAT_VERSION_1);
        ByteBuffer deltas = ByteBuffer.wrap(Golden.read("manifest-deltas-v1.bin"));
        ManifestState s = new ManifestState();
        while (deltas.hasRemaining()) {
            byte[] one = new byte[deltas.getInt()];
            deltas.get(one);
            ManifestCodec.Delta d = ManifestCodec.decodeDelta("golden", ByteBuffer.wrap(one));
            s.applyDelta(d.number(), d.timestampMs(), d.ops(), null);
        }
        assertThat(ManifestCodec.encodeSnapshot(s, 1, 99)).isEqualTo(ManifestCodec.encodeSnapshot(apply(history()), 1, 99));
        ManifestState snap = ManifestCodec.decodeSnapshot("golden", ByteBuffer.wrap(Golden.read("manifest-snapshot-v1.bin")));
        assertThat(snap.version()).isEqualTo(7);
        assertThat(snap.partition(0).cleanedOffset()).isZero();
    }

    @Test
    void cleanedOffsetsShouldOnlyMoveUpAndSurviveASnapshotWhichIsThenVersion2() throws Exception {
        List<List<ManifestOp>> h = historyWithCleaning();
        ManifestState s = apply(h);
        assertThat(s.partition(0).cleanedOffset()).as("7 after 10 is ignored").isEqualTo(10);
        assertThat(s.partition(2).cleanedOffset()).isEqualTo(300);
        assertThat(s.partition(1).cleanedOffset()).isZero();
        assertThat(s.partition(0).ranges()).extracting(r -> r.object().key()).containsExactly("data/1-c2");

        byte[] bytes = ManifestCodec.encodeSnapshot(s, 1, 99);
        assertThat(Short.toUnsignedInt(ByteBuffer.wrap(bytes).getShort(4))).isEqualTo(ManifestCodec.FORMAT_VERSION_2);
        Golden.check("manifest-snapshot-v2.bin", bytes);
        ManifestState back = ManifestCodec.decodeSnapshot("s", ByteBuffer.wrap(bytes));
        assertThat(back.partition(0).cleanedOffset()).isEqualTo(10);
        assertThat(back.partition(2).cleanedOffset()).isEqualTo(300);
        assertThat(back.partition(1).cleanedOffset()).isZero();
        assertThat(ManifestCodec.encodeSnapshot(back, 1, 99)).isEqualTo(bytes);
    }

    @Test
    void aVersion1FileHoldingACleanedOffsetOpShouldBeCorrupt() {
        byte[] bytes = ManifestCodec.encodeDelta(1, 1, 1, List.of(new ManifestOp.SetCleanedOffset(0, 5)));
        ByteBuffer b = ByteBuffer.wrap(bytes);
        b.putShort(4, (short) ManifestCodec.FORMAT_VERSION_1);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(bytes, 0, bytes.length - 4);
        b.putInt(bytes.length - 4, (int) crc.getValue());
        assertCorrupt(bytes, true);
        b.putShort(4, (short) (ManifestCodec.FORMAT_VERSION + 1)); // no such version
        crc.reset();
        crc.update(bytes, 0, bytes.length - 4);
        b.putInt(bytes.length - 4, (int) crc.getValue());
        assertCorrupt(bytes, true);
    }

    @Test
    void everyBitFlipAndTruncationOfVersion2FilesShouldFailWithCorruptStorage() {
        List<List<ManifestOp>> h = historyWithCleaning();
        byte[] delta = ManifestCodec.encodeDelta(11, 1, 1, h.get(10));
        byte[] snap = ManifestCodec.encodeSnapshot(apply(h), 1, 1);
        Random r = new Random(8);
        for (byte[] good : List.of(delta, snap)) {
            boolean isDelta = good == delta;
            for (int i = 0; i < good.length; i++) {
                byte[] bad = good.clone();
                bad[i] ^= (byte) (1 << r.nextInt(8));
                assertCorrupt(bad, isDelta);
            }
            for (int cut = 0; cut < good.length; cut++) {
                assertCorrupt(java.util.Arrays.copyOf(good, cut), isDelta);
            }
        }
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

    // ------------------------------------------------------------------ version 3: idempotent producers

    private static ProducerEntry producer(long id, int epoch, int batches, long firstOffset) {
        List<ProducerEntry.Batch> bs = new java.util.ArrayList<>();
        for (int i = 0; i < batches; i++) {
            long o = firstOffset + 10L * i;
            bs.add(new ProducerEntry.Batch(3 * i, 3 * i + 2, o, o + 2, 1_700_000_000_000L + i));
        }
        return new ProducerEntry(id, (short) epoch, bs);
    }

    /** {@link #historyWithCleaning()} plus producer ids allocated and producer state of two partitions. */
    static List<List<ManifestOp>> historyWithProducers() {
        List<List<ManifestOp>> h = new java.util.ArrayList<>(historyWithCleaning());
        h.add(List.of(new ManifestOp.AllocateProducerIds(1000)));
        h.add(List.of(new ManifestOp.UpdateProducers(0, List.of(producer(7, 0, 5, 0), producer(1L << 40, 3, 1, 100)),
                List.of()), new ManifestOp.UpdateProducers(2, List.of(producer(8, 1, 2, 50)), List.of())));
        h.add(List.of(new ManifestOp.UpdateProducers(0, List.of(producer(9, 0, 1, 200)), List.of(7L)),
                new ManifestOp.AllocateProducerIds(2000)));
        return h;
    }

    @Test
    void producerStateShouldBeVersion3RoundTripAndSurviveASnapshot() {
        List<List<ManifestOp>> h = historyWithProducers();
        int first = historyWithCleaning().size();
        for (int i = first; i < h.size(); i++) {
            byte[] bytes = ManifestCodec.encodeDelta(i + 1, 1, 10_000 + i, h.get(i));
            assertThat(Short.toUnsignedInt(ByteBuffer.wrap(bytes).getShort(4))).isEqualTo(ManifestCodec.FORMAT_VERSION_3);
            ManifestCodec.Delta d = ManifestCodec.decodeDelta("d", ByteBuffer.wrap(bytes));
            assertThat(d.ops()).isEqualTo(h.get(i));
        }
        ManifestState s = apply(h);
        assertThat(s.nextProducerId()).isEqualTo(2000);
        assertThat(s.partition(0).producers()).containsOnlyKeys(1L << 40, 9L);
        assertThat(s.partition(2).producers().get(8L)).isEqualTo(producer(8, 1, 2, 50));
        byte[] snap = ManifestCodec.encodeSnapshot(s, 1, 99);
        assertThat(Short.toUnsignedInt(ByteBuffer.wrap(snap).getShort(4))).isEqualTo(ManifestCodec.FORMAT_VERSION_3);
        ManifestState back = ManifestCodec.decodeSnapshot("s", ByteBuffer.wrap(snap));
        assertThat(back.nextProducerId()).isEqualTo(2000);
        assertThat(back.partition(0).producers()).isEqualTo(s.partition(0).producers());
        assertThat(back.partition(2).producers()).isEqualTo(s.partition(2).producers());
        assertThat(back.partition(1).producers()).isEmpty();
        assertThat(back.partition(0).cleanedOffset()).isEqualTo(10);
        assertThat(ManifestCodec.encodeSnapshot(back, 1, 99)).isEqualTo(snap);
        // a store without producers keeps writing the older versions
        assertThat(Short.toUnsignedInt(ByteBuffer.wrap(ManifestCodec.encodeSnapshot(apply(historyWithCleaning()), 1, 1))
                .getShort(4))).isEqualTo(ManifestCodec.FORMAT_VERSION_2);
    }

    @Test
    void producerOpsInAVersion2FileShouldBeCorrupt() {
        for (ManifestOp op : List.of(new ManifestOp.AllocateProducerIds(5),
                new ManifestOp.UpdateProducers(0, List.of(producer(1, 0, 1, 0)), List.of()))) {
            byte[] bytes = ManifestCodec.encodeDelta(1, 1, 1, List.of(op));
            ByteBuffer b = ByteBuffer.wrap(bytes);
            b.putShort(4, (short) ManifestCodec.FORMAT_VERSION_2);
            fixCrc(bytes);
            assertCorrupt(bytes, true);
        }
    }

    /** {@link #historyWithProducers()} plus transaction state of two partitions and a log start passing an aborted range. */
    static List<List<ManifestOp>> historyWithTransactions() {
        List<List<ManifestOp>> h = new java.util.ArrayList<>(historyWithProducers());
        h.add(List.of(new ManifestOp.UpdateTransactions(0, Map.of(9L, 300L, 1L << 40, 310L),
                List.of(new io.shale.log.AbortedTransaction(7, 200, 250), new io.shale.log.AbortedTransaction(8, 260, 400))),
                new ManifestOp.UpdateTransactions(2, Map.of(), List.of(new io.shale.log.AbortedTransaction(8, 50, 51)))));
        h.add(List.of(new ManifestOp.UpdateTransactions(0, Map.of(1L << 40, 310L),
                List.of(new io.shale.log.AbortedTransaction(9, 300, 500)))));
        return h;
    }

    @Test
    void transactionStateShouldBeVersion4RoundTripBePrunedByTheLogStartAndSurviveASnapshot() {
        List<List<ManifestOp>> h = historyWithTransactions();
        int first = historyWithProducers().size();
        for (int i = first; i < h.size(); i++) {
            byte[] bytes = ManifestCodec.encodeDelta(i + 1, 1, 10_000 + i, h.get(i));
            assertThat(Short.toUnsignedInt(ByteBuffer.wrap(bytes).getShort(4))).isEqualTo(ManifestCodec.FORMAT_VERSION_4);
            assertThat(ManifestCodec.decodeDelta("d", ByteBuffer.wrap(bytes)).ops()).isEqualTo(h.get(i));
        }
        ManifestState s = apply(h);
        assertThat(s.partition(0).ongoingTransactions()).containsExactly(Map.entry(1L << 40, 310L));
        assertThat(s.partition(0).abortedTransactions()).containsExactly(new io.shale.log.AbortedTransaction(7, 200, 250),
                new io.shale.log.AbortedTransaction(8, 260, 400), new io.shale.log.AbortedTransaction(9, 300, 500));
        s.applyDelta(h.size() + 1, 1, List.of(new ManifestOp.SetLogStart(0, 300)), null);
        assertThat(s.partition(0).abortedTransactions()).as("the range below the log start is dropped")
                .containsExactly(new io.shale.log.AbortedTransaction(8, 260, 400), new io.shale.log.AbortedTransaction(9, 300, 500));
        byte[] snap = ManifestCodec.encodeSnapshot(s, 1, 99);
        assertThat(Short.toUnsignedInt(ByteBuffer.wrap(snap).getShort(4))).isEqualTo(ManifestCodec.FORMAT_VERSION_4);
        ManifestState back = ManifestCodec.decodeSnapshot("s", ByteBuffer.wrap(snap));
        assertThat(back.partition(0).ongoingTransactions()).isEqualTo(s.partition(0).ongoingTransactions());
        assertThat(back.partition(0).abortedTransactions()).isEqualTo(s.partition(0).abortedTransactions());
        assertThat(back.partition(2).abortedTransactions()).containsExactly(new io.shale.log.AbortedTransaction(8, 50, 51));
        assertThat(back.partition(0).producers()).isEqualTo(s.partition(0).producers());
        assertThat(ManifestCodec.encodeSnapshot(back, 1, 99)).isEqualTo(snap);
        // a store without transactions keeps writing version 3
        assertThat(Short.toUnsignedInt(ByteBuffer.wrap(ManifestCodec.encodeSnapshot(apply(historyWithProducers()), 1, 1))
                .getShort(4))).isEqualTo(ManifestCodec.FORMAT_VERSION_3);
        // a version 3 file holding the op is corrupt
        byte[] bytes = ManifestCodec.encodeDelta(1, 1, 1, h.get(h.size() - 1));
        ByteBuffer.wrap(bytes).putShort(4, (short) ManifestCodec.FORMAT_VERSION_3);
        fixCrc(bytes);
        assertCorrupt(bytes, true);
    }

    private static void fixCrc(byte[] bytes) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(bytes, 0, bytes.length - 4);
        ByteBuffer.wrap(bytes).putInt(bytes.length - 4, (int) crc.getValue());
    }

    /**
     * Version 3 files mutated with a valid CRC (so only the parser can catch it): each decodes to
     * something, or fails with CORRUPT_STORAGE; never another exception, never a huge allocation.
     */
    @Test
    void mutatedVersion3FilesWithAValidCrcShouldDecodeOrFailAsCorrupt() {
        mutatedFilesShouldDecodeOrFailAsCorrupt(historyWithProducers());
    }

    @Test
    void mutatedVersion4FilesWithAValidCrcShouldDecodeOrFailAsCorrupt() {
        mutatedFilesShouldDecodeOrFailAsCorrupt(historyWithTransactions());
    }

    private static void mutatedFilesShouldDecodeOrFailAsCorrupt(List<List<ManifestOp>> h) {
        byte[] delta = ManifestCodec.encodeDelta(h.size(), 1, 1, h.get(h.size() - 1));
        byte[] snap = ManifestCodec.encodeSnapshot(apply(h), 1, 1);
        Random r = new Random(11);
        int corrupt = 0;
        for (byte[] good : List.of(delta, snap)) {
            boolean isDelta = good == delta;
            for (int iter = 0; iter < 3000; iter++) {
                byte[] bad = good.clone();
                int at = ManifestCodec.HEADER_SIZE + r.nextInt(bad.length - ManifestCodec.HEADER_SIZE - 4);
                switch (r.nextInt(3)) {
                    case 0 -> bad[at] ^= (byte) (1 << r.nextInt(8));
                    case 1 -> bad[at] = (byte) r.nextInt(256);
                    default -> bad[at] = (byte) 0xFF;
                }
                fixCrc(bad);
                try {
                    if (isDelta) {
                        ManifestCodec.decodeDelta("bad", ByteBuffer.wrap(bad));
                    } else {
                        ManifestCodec.decodeSnapshot("bad", ByteBuffer.wrap(bad));
                    }
                } catch (ShaleException e) {
                    assertThat(e.kind()).as("iteration %d: %s", iter, e.getMessage()).isEqualTo(ErrorKind.CORRUPT_STORAGE);
                    corrupt++;
                }
            }
            for (int cut = 0; cut < good.length; cut++) {
                assertCorrupt(java.util.Arrays.copyOf(good, cut), isDelta);
            }
        }
        assertThat(corrupt).as("most mutations are caught").isGreaterThan(1000);
    }
}
