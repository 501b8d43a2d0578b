package io.shale.log.wal;

import static io.shale.log.wal.WalTesting.expected;
import static io.shale.log.wal.WalTesting.manualFlush;
import static io.shale.log.wal.WalTesting.replayAll;
import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.internal.format.BlockInfo;
import io.shale.log.internal.format.DataObjectFormat;
import io.shale.log.internal.format.DataObjectIndex;
import io.shale.log.testing.InMemoryObjectStore;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Format version 2 of the object WAL: its objects are data objects as well (RFC 0006). */
class ObjectWalDataObjectFormatTest {
    private static final long EPOCH = 5;

    /** A context that is also a data-object sink, recording what it gets. */
    private static final class SinkContext extends TestWalContext implements WalDataObjectSink {
        final List<WalDataObject> objects = new CopyOnWriteArrayList<>();
        final List<Boolean> durableBeforeSink = new CopyOnWriteArrayList<>();
        final Set<String> committed = ConcurrentHashMap.newKeySet();

        SinkContext(long epoch, InMemoryObjectStore store) {
            super(epoch, store);
        }

        @Override
        public void onDataObject(WalDataObject object) {
            for (int i = 0; i < object.blockCount(); i++) {
                durableBeforeSink.add(((RecordingEntry) object.entry(i)).isDurable());
            }
            objects.add(object);
        }

        @Override
        public boolean isCommittedDataObject(String key) {
            return committed.contains(key);
        }
    }

    /** An entry of {@code records} Kafka records (whole batches, as the engine appends), offsets from {@code base}. */
    private static RecordingEntry entry(int stream, long base, int records, int valueBytes) {
        io.shale.log.record.RecordBatchBuilder b = new io.shale.log.record.RecordBatchBuilder().baseOffset(base)
                .defaultTimestamp(1_700_000_000_000L + base);
        for (int i = 0; i < records; i++) {
            b.append(io.shale.log.record.SimpleRecord.of("k" + i, "x".repeat(valueBytes)));
        }
        return new RecordingEntry(stream, base, b.build());
    }

    /** Interleaved streams, payloads straddling the WAL's 64-byte chunks. */
    private static List<RecordingEntry> entries() {
        return List.of(entry(5, 0, 1, 100), entry(2, 0, 1, 10), entry(5, 1, 2, 70), entry(9, 7, 1, 1),
                entry(2, 1, 3, 200), entry(5, 3, 1, 3));
    }

    private static List<WalTesting.Replayed> writeOneObject(InMemoryObjectStore store, SinkContext ctx,
            List<RecordingEntry> es) {
        ObjectWriteAheadLog wal = manualFlush().chunkBytes(64).dataObjects(true).build();
        wal.open(ctx);
        wal.replay((s, i, o, p) -> {
        });
        List<WalTesting.Replayed> want = new ArrayList<>();
        for (RecordingEntry e : es) {
            want.add(expected(wal.append(e), e));
        }
        wal.flush().join();
        wal.close();
        for (RecordingEntry e : es) {
            assertThat(e.awaitOutcome()).isNull();
        }
        return want;
    }

    @Test
    void aVersion2ObjectShouldReplayEveryEntryInSequenceOrderAndBeADataObjectWithBlocksGroupedByStream() {
        InMemoryObjectStore store = new InMemoryObjectStore();
        List<RecordingEntry> es = entries();
        List<WalTesting.Replayed> want;
        try (SinkContext ctx = new SinkContext(EPOCH, store)) {
            want = writeOneObject(store, ctx, es);
            assertThat(ctx.objects).hasSize(1);
            assertThat(ctx.durableBeforeSink).as("the sink hears of the object before any entry is durable")
                    .containsOnly(false);
        }
        assertThat(WalTesting.objectKeys(store.keys())).hasSize(1);
        String key = WalTesting.objectKeys(store.keys()).get(0);
        byte[] bytes = store.bytes(key);
        ByteBuffer b = ByteBuffer.wrap(bytes);
        assertThat(b.getInt(0)).isEqualTo(ObjectWalFormat.MAGIC);
        assertThat(b.getShort(4)).isEqualTo(ObjectWalFormat.VERSION_2);

        assertThat(replayAll(store, EPOCH + 1, manualFlush())).as("replayed by a WAL of either setting")
                .isEqualTo(want);
        assertThat(replayAll(store, EPOCH + 1, manualFlush().dataObjects(true))).isEqualTo(want);

        // The data reader's view: footer, index and every block verify; blocks are grouped by stream
        // in sequence order within a stream, and hold exactly the payloads.
        long[] footer = DataObjectIndex.decodeFooter(key, ByteBuffer.wrap(bytes), bytes.length);
        DataObjectIndex idx = DataObjectIndex.decode(key,
                ByteBuffer.wrap(bytes, (int) footer[0], bytes.length - (int) footer[0]).slice(), bytes.length);
        List<BlockInfo> blocks = idx.blocks();
        int[] streams = blocks.stream().mapToInt(BlockInfo::partitionId).toArray();
        assertThat(streams).containsExactly(2, 2, 5, 5, 5, 9);
        int[] order = {1, 4, 0, 2, 5, 3}; // entries() index of each block
        for (int i = 0; i < blocks.size(); i++) {
            BlockInfo bi = blocks.get(i);
            ByteBuffer block = ByteBuffer.wrap(bytes, (int) bi.position(), bi.size()).slice();
            DataObjectIndex.verifyBlock(key, bi, block);
            assertThat(block).isEqualTo(es.get(order[i]).payload.duplicate());
        }
    }

    @Test
    void theDataLayoutRepeatedInTheWalShouldBeTheEnginesDataObjectFormat() {
        assertThat(ObjectWalFormat.DataLayout.VERSION_2).isEqualTo(DataObjectFormat.VERSION_2);
        assertThat(ObjectWalFormat.DataLayout.INDEX_MAGIC).isEqualTo(DataObjectFormat.INDEX_MAGIC);
        assertThat(ObjectWalFormat.DataLayout.INDEX_VERSION).isEqualTo(DataObjectFormat.VERSION);
        assertThat(ObjectWalFormat.DataLayout.INDEX_HEADER_SIZE).isEqualTo(DataObjectFormat.INDEX_HEADER_SIZE);
        assertThat(ObjectWalFormat.DataLayout.ENTRY_SIZE).isEqualTo(DataObjectFormat.ENTRY_SIZE);
        assertThat(new int[] {ObjectWalFormat.DataLayout.ENTRY_PARTITION_ID, ObjectWalFormat.DataLayout.ENTRY_CRC,
            ObjectWalFormat.DataLayout.ENTRY_BASE_OFFSET, ObjectWalFormat.DataLayout.ENTRY_NEXT_OFFSET,
            ObjectWalFormat.DataLayout.ENTRY_MAX_TIMESTAMP, ObjectWalFormat.DataLayout.ENTRY_POSITION,
            ObjectWalFormat.DataLayout.ENTRY_SIZE_FIELD}).containsExactly(DataObjectFormat.ENTRY_PARTITION_ID,
                DataObjectFormat.ENTRY_CRC, DataObjectFormat.ENTRY_BASE_OFFSET, DataObjectFormat.ENTRY_NEXT_OFFSET,
                DataObjectFormat.ENTRY_MAX_TIMESTAMP, DataObjectFormat.ENTRY_POSITION, DataObjectFormat.ENTRY_SIZE_FIELD);
        assertThat(ObjectWalFormat.DataLayout.INDEX_TRAILER_SIZE).isEqualTo(DataObjectFormat.INDEX_TRAILER_SIZE);
        assertThat(ObjectWalFormat.DataLayout.FOOTER_MAGIC).isEqualTo(DataObjectFormat.FOOTER_MAGIC);
        assertThat(ObjectWalFormat.DataLayout.FOOTER_SIZE).isEqualTo(DataObjectFormat.FOOTER_SIZE);
        assertThat(new int[] {ObjectWalFormat.DataLayout.FOOTER_MAGIC_OFFSET, ObjectWalFormat.DataLayout.FOOTER_VERSION_OFFSET,
            ObjectWalFormat.DataLayout.FOOTER_BLOCK_COUNT_OFFSET, ObjectWalFormat.DataLayout.FOOTER_INDEX_POSITION_OFFSET,
            ObjectWalFormat.DataLayout.FOOTER_INDEX_LENGTH_OFFSET, ObjectWalFormat.DataLayout.FOOTER_CRC_OFFSET})
                .containsExactly(DataObjectFormat.FOOTER_MAGIC_OFFSET, DataObjectFormat.FOOTER_VERSION_OFFSET,
                        DataObjectFormat.FOOTER_BLOCK_COUNT_OFFSET, DataObjectFormat.FOOTER_INDEX_POSITION_OFFSET,
                        DataObjectFormat.FOOTER_INDEX_LENGTH_OFFSET, DataObjectFormat.FOOTER_CRC_OFFSET);
        assertThat(ObjectWalFormat.DataLayout.MAX_BLOCKS).isEqualTo(DataObjectFormat.MAX_BLOCKS);
    }

    @Test
    void theSinkShouldGetEachBlocksPlaceAndChecksumAsTheIndexRecordsThem() {
        InMemoryObjectStore store = new InMemoryObjectStore();
        try (SinkContext ctx = new SinkContext(EPOCH, store)) {
            List<RecordingEntry> es = entries();
            writeOneObject(store, ctx, es);
            WalDataObject o = ctx.objects.get(0);
            byte[] bytes = store.bytes(o.key());
            assertThat(o.size()).isEqualTo(bytes.length);
            DataObjectIndex idx = DataObjectIndex.decode(o.key(),
                    ByteBuffer.wrap(bytes, (int) o.indexPosition(), bytes.length - (int) o.indexPosition()).slice(),
                    bytes.length);
            for (int i = 0; i < o.blockCount(); i++) {
                BlockInfo bi = idx.blocks().get(i);
                assertThat(o.position(i)).isEqualTo(bi.position());
                assertThat(o.blockSize(i)).isEqualTo(bi.size());
                assertThat(o.crc(i)).isEqualTo(bi.crc());
                assertThat(((RecordingEntry) o.entry(i)).streamId).isEqualTo(bi.partitionId());
            }
        }
    }

    @Test
    void damageShouldDeliverTheEntriesBeforeItAndABadIndexShouldMakeTheObjectUnreadable() {
        InMemoryObjectStore store = new InMemoryObjectStore();
        List<WalTesting.Replayed> want;
        try (SinkContext ctx = new SinkContext(EPOCH, store)) {
            want = writeOneObject(store, ctx, entries());
        }
        String key = WalTesting.objectKeys(store.keys()).get(0);
        byte[] good = store.bytes(key);
        // the third entry in sequence order (stream 5, two records) is block 3
        long[] footer = DataObjectIndex.decodeFooter(key, ByteBuffer.wrap(good), good.length);
        DataObjectIndex idx = DataObjectIndex.decode(key,
                ByteBuffer.wrap(good, (int) footer[0], good.length - (int) footer[0]).slice(), good.length);
        byte[] bad = good.clone();
        bad[(int) idx.blocks().get(3).position() + 5] ^= 1;
        List<WalTesting.Replayed> got = new ArrayList<>();
        ObjectWalFormat.DecodeResult r = ObjectWalFormat.decode(ByteBuffer.wrap(bad), EPOCH, -1,
                (seq, stream, base, payload) -> {
                    byte[] p = new byte[payload.remaining()];
                    payload.get(p);
                    got.add(new WalTesting.Replayed(seq, stream, base, p));
                });
        assertThat(r.status()).isEqualTo(ObjectWalFormat.Status.DAMAGED);
        assertThat(got).isEqualTo(want.subList(0, 2));
        assertThat(r.framesLost()).isEqualTo(4);

        byte[] badIndex = good.clone();
        badIndex[(int) footer[0] + 20] ^= 1;
        assertThat(ObjectWalFormat.decode(ByteBuffer.wrap(badIndex), EPOCH, -1, (s, i, o, p) -> {
        }).status()).isEqualTo(ObjectWalFormat.Status.UNREADABLE);
        byte[] truncated = java.util.Arrays.copyOf(good, good.length - 1);
        assertThat(ObjectWalFormat.decode(ByteBuffer.wrap(truncated), EPOCH, -1, (s, i, o, p) -> {
        }).damage()).contains("truncated");
    }

    @Test
    void version1AndVersion2ObjectsShouldReplayTogetherInSequenceOrder() {
        InMemoryObjectStore store = new InMemoryObjectStore();
        List<WalTesting.Replayed> want = new ArrayList<>();
        try (TestWalContext ctx = new TestWalContext(EPOCH, store)) {
            ObjectWriteAheadLog v1 = manualFlush().build();
            v1.open(ctx);
            v1.replay((s, i, o, p) -> {
            });
            RecordingEntry e = RecordingEntry.of(1, 0, "version one");
            want.add(expected(v1.append(e), e));
            v1.flush().join();
            v1.close();
        }
        try (SinkContext ctx = new SinkContext(EPOCH + 1, store)) {
            ObjectWriteAheadLog v2 = manualFlush().dataObjects(true).build();
            v2.open(ctx);
            assertThat(WalTesting.replay(v2)).isEqualTo(want);
            RecordingEntry e = RecordingEntry.of(1, 1, "version two");
            want.add(expected(v2.append(e), e));
            v2.flush().join();
            v2.close();
        }
        assertThat(replayAll(store, EPOCH + 2, manualFlush())).isEqualTo(want);
    }

    @Test
    void trimAndReplayShouldLeaveObjectsTheStoreCommittedAlone() {
        InMemoryObjectStore store = new InMemoryObjectStore();
        try (SinkContext ctx = new SinkContext(EPOCH, store)) {
            ObjectWriteAheadLog wal = manualFlush().dataObjects(true).build();
            wal.open(ctx);
            wal.replay((s, i, o, p) -> {
            });
            wal.append(RecordingEntry.of(1, 0, "committed"));
            wal.flush().join();
            wal.append(RecordingEntry.of(1, 1, "not committed"));
            wal.flush().join();
            assertThat(ctx.objects).hasSize(2);
            String committed = ctx.objects.get(0).key();
            String other = ctx.objects.get(1).key();
            ctx.committed.add(committed);
            // Both are below the trim point: only the one the store does not own is deleted.
            wal.trimAsync(wal.nextSequence()).join();
            assertThat(WalTesting.objectKeys(store.keys())).containsExactly(committed);
            assertThat(other).isNotEqualTo(committed);
            wal.close();
        }
        try (SinkContext ctx = new SinkContext(EPOCH + 1, store)) {
            ctx.committed.add(WalTesting.objectKeys(store.keys()).get(0));
            ObjectWriteAheadLog wal = manualFlush().dataObjects(true).build();
            wal.open(ctx);
            assertThat(WalTesting.replay(wal)).as("a committed object is not replayed").isEmpty();
            wal.close();
        }
    }
}
