package io.shale.log.wal;

import static io.shale.log.wal.WalTesting.expected;
import static io.shale.log.wal.WalTesting.manualFlush;
import static io.shale.log.wal.WalTesting.replay;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.record.RecordBatchBuilder;
import io.shale.log.record.SimpleRecord;
import io.shale.log.testing.InMemoryObjectStore;
import io.shale.log.wal.TestWalContext.FenceMode;
import io.shale.log.wal.WalTesting.Replayed;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * A cluster takeover's side of the object WAL: {@link ObjectWalReader} reading a dead node's WAL
 * (read-only, only the partitions taken over, above their committed ends, superseded entries
 * dropped, damage judged as replay judges it), and the deletion rule of
 * {@link WalCommittedOffsets} in the WAL's trim. Both layouts (version 1 and data objects).
 */
class ObjectWalTakeoverTest {
    private static final String PREFIX = "nodes/x/wal/";

    private final InMemoryObjectStore store = new InMemoryObjectStore();

    /** An entry of {@code records} Kafka records from {@code base} (whole batches, as the engine appends). */
    private static RecordingEntry entry(int stream, long base, int records, String tag) {
        RecordBatchBuilder b = new RecordBatchBuilder().baseOffset(base).defaultTimestamp(1_700_000_000_000L + base);
        for (int i = 0; i < records; i++) {
            b.append(SimpleRecord.of("s" + stream + "-" + (base + i), tag + " record " + (base + i)));
        }
        return new RecordingEntry(stream, base, b.build());
    }

    /** One object node X wrote, and its entries as a replay returns them. */
    record Obj(String key, List<Replayed> entries) {
        Replayed entry(int stream, long base) {
            return entries.stream().filter(r -> r.streamId() == stream && r.baseOffset() == base).findFirst()
                    .orElseThrow(() -> new AssertionError("no entry of stream " + stream + " at " + base + " in " + key));
        }
    }

    /** Node X with one writer epoch: every {@link #object} call becomes exactly one WAL object. */
    private final class Node implements AutoCloseable {
        final TestWalContext ctx;
        final ObjectWriteAheadLog wal;
        final long epoch;

        Node(long epoch, boolean dataObjects, TestWalContext ctx) {
            this.epoch = epoch;
            this.ctx = ctx;
            this.wal = manualFlush().keyPrefix(PREFIX).dataObjects(dataObjects).build();
            wal.open(ctx);
            replay(wal);
        }

        Node(long epoch, boolean dataObjects) {
            this(epoch, dataObjects, new TestWalContext(epoch, store));
        }

        /**
         * Appends the entries into one object. Not acknowledged: the object is written but the
         * fence check cannot tell, so none of its entries is acknowledged (the engine rolls them back).
         */
        Obj object(boolean acknowledged, RecordingEntry... entries) {
            ctx.fenceMode(acknowledged ? FenceMode.OK : FenceMode.UNKNOWN);
            List<Replayed> out = new ArrayList<>();
            long first = -1;
            for (RecordingEntry e : entries) {
                long seq = wal.append(e);
                first = first < 0 ? seq : first;
                out.add(expected(seq, e));
            }
            wal.flush().join();
            for (RecordingEntry e : entries) {
                ShaleException failure = e.awaitOutcome();
                if (acknowledged) {
                    assertThat(failure).isNull();
                } else {
                    assertThat(failure).isNotNull();
                }
            }
            ctx.fenceMode(FenceMode.OK);
            String key = WalObjectKey.of(PREFIX, epoch, first).key();
            assertThat(store.keys()).contains(key);
            return new Obj(key, out);
        }

        @Override
        public void close() {
            wal.close();
            ctx.close();
        }
    }

    /** What node X left behind: two epochs, streams 1, 2 and 3, one object of epoch 1 never acknowledged. */
    private Map<String, Obj> writeTwoEpochs(boolean dataObjects) {
        Map<String, Obj> o = new LinkedHashMap<>();
        try (Node x = new Node(1, dataObjects)) {
            o.put("A", x.object(true, entry(1, 0, 2, "A"), entry(2, 0, 1, "A"), entry(3, 0, 1, "A")));
            o.put("B", x.object(true, entry(1, 2, 2, "B"), entry(2, 1, 2, "B")));
            // Written but never acknowledged: rolled back by the engine, which writes offsets 4.. again.
            o.put("C", x.object(false, entry(1, 4, 2, "C"), entry(3, 1, 1, "C")));
        }
        try (Node x = new Node(2, dataObjects)) { // X restarted: a new writer epoch
            o.put("D", x.object(true, entry(1, 4, 1, "D"), entry(2, 3, 1, "D"), entry(3, 1, 1, "D")));
            o.put("E", x.object(true, entry(1, 5, 1, "E"), entry(2, 4, 1, "E"), entry(3, 2, 2, "E")));
        }
        return o;
    }

    private ObjectWalReader reader() {
        return ObjectWalReader.builder(store, PREFIX).build();
    }

    private static List<Replayed> read(ObjectWalReader reader, Map<Integer, Long> starts,
            ObjectWalReader.Result[] result) {
        List<Replayed> out = new ArrayList<>();
        ObjectWalReader.Result r = reader.read(starts, (seq, stream, base, payload) -> {
            byte[] b = new byte[payload.remaining()];
            payload.duplicate().get(b);
            out.add(new Replayed(seq, stream, base, b));
        });
        if (result != null) {
            result[0] = r;
        }
        return out;
    }

    /** Every object's key and bytes, to show a read changed nothing. */
    private Map<String, byte[]> snapshot() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        for (String k : store.keys()) {
            m.put(k, store.bytes(k));
        }
        return m;
    }

    private void assertUnchanged(Map<String, byte[]> before, long puts, long deletes) {
        Map<String, byte[]> after = snapshot();
        assertThat(after.keySet()).containsExactlyElementsOf(before.keySet());
        for (String k : before.keySet()) {
            assertThat(Arrays.equals(after.get(k), before.get(k))).as("bytes of %s", k).isTrue();
        }
        assertThat(store.puts.get()).isEqualTo(puts);
        assertThat(store.deletes.get()).isEqualTo(deletes);
    }

    // ------------------------------------------------------------------------------------------
    // The reader

    @ParameterizedTest(name = "dataObjects={0}")
    @ValueSource(booleans = {false, true})
    void readerShouldLeaveOutAnObjectWrittenAfterANewerWriterOfThatWalClaimedIt(boolean dataObjects) {
        try (Node first = new Node(1, dataObjects)) {
            Obj acked = first.object(true, entry(1, 0, 2, "acked"));
            try (Node second = new Node(2, dataObjects)) { // claims: its record lists the epoch-1 object it saw
                // epoch 1's object lands after that claim: it continues stream 1 at 2, but was never acknowledged
                first.object(false, entry(1, 2, 1, "late"));
                List<Replayed> got = read(reader(), Map.of(1, 0L), null);
                assertThat(got).as("the late object is not the WAL's: its own next claim would not replay it")
                        .containsExactly(acked.entry(1, 0));
            }
        }
    }


    @ParameterizedTest(name = "dataObjects={0}")
    @ValueSource(booleans = {false, true})
    void readerShouldReturnExactlyTheAcknowledgedEntriesOfTheStreamsTakenOverAboveTheirOffsetsInOrder(
            boolean dataObjects) {
        Map<String, Obj> o = writeTwoEpochs(dataObjects);
        Map<String, byte[]> before = snapshot();
        long puts = store.puts.get();
        long deletes = store.deletes.get();

        // Node Y took over streams 1 and 2; the catalog has stream 1 committed up to 2, stream 2 up to 0.
        ObjectWalReader.Result[] result = new ObjectWalReader.Result[1];
        List<Replayed> got = read(reader(), Map.of(1, 2L, 2, 0L), result);

        List<Replayed> want = List.of(
                o.get("A").entry(2, 0),
                o.get("B").entry(1, 2), o.get("B").entry(2, 1),
                o.get("D").entry(1, 4), o.get("D").entry(2, 3),
                o.get("E").entry(1, 5), o.get("E").entry(2, 4));
        assertThat(got).containsExactlyElementsOf(want);
        assertThat(got).extracting(Replayed::sequence).isSorted();
        // C's entry of stream 1 at 4 was written in epoch 1 and superseded by D's (epoch 2) at the same offset.
        assertThat(got).doesNotContain(o.get("C").entry(1, 4));
        assertThat(result[0].entriesSuperseded()).isEqualTo(1);
        assertThat(result[0].entriesCommitted()).isEqualTo(1); // A's stream-1 entry ends at 2
        assertThat(result[0].objectsRead()).isEqualTo(5);
        assertThat(result[0].secondPass()).isFalse();
        assertUnchanged(before, puts, deletes);

        // The same through a second pass over the objects (nothing fits in memory): same entries.
        List<Replayed> twice = read(ObjectWalReader.builder(store, PREFIX).maxBufferedBytes(0).build(),
                Map.of(1, 2L, 2, 0L), result);
        assertThat(twice).containsExactlyElementsOf(want);
        assertThat(result[0].secondPass()).isTrue();
        assertUnchanged(before, puts, deletes);

        // Start offsets inside the WAL: stream 2 committed up to 4 leaves only E's entry.
        assertThat(read(reader(), Map.of(2, 4L), null)).containsExactly(o.get("E").entry(2, 4));
        // Stream 3 alone: C's entry at 1 was superseded by D's; E continues.
        assertThat(read(reader(), Map.of(3, 1L), null))
                .containsExactly(o.get("D").entry(3, 1), o.get("E").entry(3, 2));
        assertUnchanged(before, puts, deletes);
    }

    @Test
    void readerShouldDeliverWhatTheWalsOwnReplayWouldRecoverForThoseStreams() {
        Map<String, Obj> o = writeTwoEpochs(false);
        // The owner's own replay delivers every entry (the engine's Recovery then resolves them);
        // the reader's result is the subsequence that continues each stream from its start.
        List<Replayed> all = WalTesting.replayAll(store, 3, manualFlush().keyPrefix(PREFIX));
        List<Replayed> got = read(reader(), Map.of(1, 0L, 2, 0L, 3, 0L), null);
        assertThat(all).containsAll(got);
        assertThat(all).hasSize(got.size() + 2); // C's two entries were replaced
        assertThat(got).doesNotContain(o.get("C").entry(1, 4), o.get("C").entry(3, 1));
    }

    @Test
    void readerShouldSkipEntriesThatFollowARolledBackAppend() {
        try (Node x = new Node(1, false)) {
            x.object(true, entry(1, 0, 2, "a"));
            // [2,4) was written but never acknowledged: the engine rolled it back and wrote offset 2 again.
            x.object(false, entry(1, 2, 2, "b"));
            Obj c = x.object(true, entry(1, 2, 1, "c")); // the engine wrote offset 2 again
            ObjectWalReader.Result[] r = new ObjectWalReader.Result[1];
            List<Replayed> got = read(reader(), Map.of(1, 2L), r);
            assertThat(got).containsExactly(c.entry(1, 2));
            assertThat(r[0].entriesSuperseded()).isEqualTo(1);
        }
        // An entry beyond the end of what was kept (a gap) is never delivered.
        try (Node x = new Node(2, false)) {
            x.object(false, entry(1, 10, 1, "gap"));
            ObjectWalReader.Result[] r = new ObjectWalReader.Result[1];
            List<Replayed> got = read(reader(), Map.of(1, 2L), r);
            assertThat(got).extracting(Replayed::baseOffset).containsExactly(2L);
            assertThat(r[0].entriesRolledBack()).isEqualTo(1);
        }
    }

    @Test
    void readerShouldDiscardATornLastObjectsDamagedTailAndDeliverWhatVerifiesBeforeIt() {
        Map<String, Obj> o = writeTwoEpochs(false);
        String last = o.get("E").key();
        byte[] bytes = store.bytes(last);
        // Cut the last object in the middle of its second frame (stream 2 at 4).
        int cut = ObjectWalFormat.HEADER_LENGTH + ObjectWalFormat.FRAME_HEADER_LENGTH
                + o.get("E").entries().get(0).payload().length + 10;
        store.corrupt(last, Arrays.copyOf(bytes, cut));

        ObjectWalReader.Result[] result = new ObjectWalReader.Result[1];
        List<Replayed> got = read(reader(), Map.of(1, 2L, 2, 0L), result);
        assertThat(got).containsExactly(
                o.get("A").entry(2, 0),
                o.get("B").entry(1, 2), o.get("B").entry(2, 1),
                o.get("D").entry(1, 4), o.get("D").entry(2, 3),
                o.get("E").entry(1, 5)); // E's frame of stream 1 verified; the rest is gone
        assertThat(result[0].damagedObjects()).isEqualTo(1);
        assertThat(result[0].entriesLost()).isEqualTo(2);
        // Exactly what the WAL's own replay recovers from the same bytes.
        List<Replayed> replayed = WalTesting.replayAll(store, 3, manualFlush().keyPrefix(PREFIX));
        assertThat(replayed).contains(o.get("E").entry(1, 5)).doesNotContain(o.get("E").entry(2, 4));
    }

    @ParameterizedTest(name = "dataObjects={0}")
    @ValueSource(booleans = {false, true})
    void readerShouldFailCorruptStorageNamingACorruptMiddleObject(boolean dataObjects) {
        Map<String, Obj> o = writeTwoEpochs(dataObjects);
        String middle = o.get("B").key();
        byte[] bytes = store.bytes(middle);
        bytes[ObjectWalFormat.HEADER_ENTRY_COUNT_OFFSET] ^= 0x01; // fails the header CRC
        store.corrupt(middle, bytes);
        Map<String, byte[]> before = snapshot();
        long puts = store.puts.get();
        long deletes = store.deletes.get();

        List<Replayed> got = new ArrayList<>();
        assertThatThrownBy(() -> reader().read(Map.of(1, 0L), (s, st, b, p) -> got.add(null)))
                .isInstanceOfSatisfying(ShaleException.class, se -> {
                    assertThat(se.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE);
                    assertThat(se.getMessage()).contains("mem://" + middle).contains("header CRC");
                });
        assertThat(got).isEmpty(); // nothing is delivered before the whole WAL was judged
        // Even for streams that are not in the damaged object: replay cannot tell what it held.
        assertThatThrownBy(() -> reader().read(Map.of(3, 0L), (s, st, b, p) -> {
        })).isInstanceOfSatisfying(ShaleException.class, se -> assertThat(se.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE));
        assertUnchanged(before, puts, deletes);
    }

    @Test
    void readerShouldDeliverTheValidBlocksBeforeADamagedBlockOfADataObject() {
        Map<String, Obj> o = writeTwoEpochs(true);
        String last = o.get("E").key();
        byte[] bytes = store.bytes(last);
        // Blocks are grouped by stream: stream 1's block comes first, then stream 2's. Damage stream 2's.
        int block2 = ObjectWalFormat.HEADER_V2_LENGTH + o.get("E").entry(1, 5).payload().length;
        bytes[block2 + 20] ^= 0x10;
        store.corrupt(last, bytes);
        ObjectWalReader.Result[] result = new ObjectWalReader.Result[1];
        List<Replayed> got = read(reader(), Map.of(1, 5L, 2, 4L), result);
        assertThat(got).containsExactly(o.get("E").entry(1, 5));
        assertThat(result[0].damagedObjects()).isEqualTo(1);
    }

    @Test
    void readerShouldNotReadObjectsTheCatalogOwnsAsCommittedDataObjects() {
        Map<String, Obj> o = writeTwoEpochs(true);
        long gets = store.gets.get();
        String owned = o.get("A").key();
        List<Replayed> got = read(ObjectWalReader.builder(store, PREFIX).committedDataObjects(owned::equals).build(),
                Map.of(2, 1L), null);
        assertThat(got).startsWith(o.get("B").entry(2, 1));
        assertThat(store.gets.get() - gets).as("the 4 objects not owned, and the newest claim record").isEqualTo(5);
    }

    @Test
    void aSecondPassShouldFailCorruptStorageNamingAnObjectThatVanishedInBetween() {
        Map<String, Obj> o = writeTwoEpochs(false);
        String vanishing = o.get("D").key();
        Map<String, Integer> getsPerKey = new ConcurrentHashMap<>();
        io.shale.log.spi.ObjectStore flaky = new io.shale.log.spi.ForwardingObjectStore(store) {
            @Override
            public CompletableFuture<java.nio.ByteBuffer> get(String key, long offset, long length) {
                if (getsPerKey.merge(key, 1, Integer::sum) > 1 && key.equals(vanishing)) {
                    return CompletableFuture.failedFuture(new io.shale.log.spi.ObjectStoreException(
                            io.shale.log.spi.ObjectStoreException.Reason.NOT_FOUND, key, "deleted (test)"));
                }
                return super.get(key, offset, length);
            }
        };
        assertThatThrownBy(() -> ObjectWalReader.builder(flaky, PREFIX).maxBufferedBytes(0).build()
                .read(Map.of(1, 2L), (s, st, b, p) -> {
                })).isInstanceOfSatisfying(ShaleException.class, se -> {
                    assertThat(se.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE);
                    assertThat(se.getMessage()).contains(vanishing).contains("changed between the passes");
                });
    }

    @Test
    void readerShouldRefuseNegativeStreamsOrOffsetsAndBadPrefixes() {
        assertThatThrownBy(() -> reader().read(Map.of(1, -1L), (s, st, b, p) -> {
        })).isInstanceOfSatisfying(ShaleException.class, se -> {
            assertThat(se.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
            assertThat(se.getMessage()).contains("stream 1");
        });
        assertThatThrownBy(() -> ObjectWalReader.builder(store, "no-slash").build())
                .isInstanceOfSatisfying(ShaleException.class, se -> assertThat(se.getMessage()).contains("keyPrefix"));
    }

    // ------------------------------------------------------------------------------------------
    // The deletion rule

    /** A cluster node's context: the catalog's committed end offsets, set by the test. */
    private final class ClusterContext extends TestWalContext implements WalCommittedOffsets {
        final Map<Integer, Long> committed = new ConcurrentHashMap<>();
        final AtomicInteger queries = new AtomicInteger();
        volatile boolean failQueries;

        ClusterContext(long epoch) {
            super(epoch, store);
        }

        @Override
        public CompletableFuture<Map<Integer, Long>> committedEnds(Set<Integer> streamIds) {
            queries.incrementAndGet();
            if (failQueries) {
                return CompletableFuture.failedFuture(new ShaleException(ErrorKind.UNAVAILABLE, "catalog down (test)"));
            }
            Map<Integer, Long> out = new HashMap<>();
            for (int s : streamIds) {
                Long c = committed.get(s);
                if (c != null) {
                    out.put(s, c);
                }
            }
            return CompletableFuture.completedFuture(out);
        }
    }

    @ParameterizedTest(name = "dataObjects={0}")
    @ValueSource(booleans = {false, true})
    void trimShouldKeepAnObjectUntilEveryPartitionInItIsCommittedPastItByAnyone(boolean dataObjects) {
        ClusterContext ctx = new ClusterContext(1);
        try (Node x = new Node(1, dataObjects, ctx)) {
            Obj a = x.object(true, entry(1, 0, 2, "a"), entry(2, 0, 3, "a"));
            Obj b = x.object(true, entry(1, 2, 1, "b"));
            long past = x.wal.nextSequence();

            // X's engine committed its own partition 1 up to 3; partition 2 was taken over by Y,
            // which has not committed X's entries yet.
            ctx.committed.put(1, 3L);
            ctx.committed.put(2, 0L);
            x.wal.trimAsync(past).join();
            assertThat(WalTesting.objectKeys(store.keys())).containsExactly(a.key()); // b holds only partition 1: gone
            ctx.committed.put(2, 2L); // Y committed part of it: not enough (a's entry of 2 ends at 3)
            x.wal.trimAsync(past).join();
            assertThat(WalTesting.objectKeys(store.keys())).containsExactly(a.key());
            ctx.committed.put(2, 3L); // Y committed X's entries
            x.wal.trimAsync(past).join();
            assertThat(WalTesting.objectKeys(store.keys())).isEmpty();
            assertThat(b.key()).isNotEqualTo(a.key());
        }
    }

    @Test
    void trimShouldDeleteAnObjectWhosePartitionIsGoneAndKeepEverythingWhenTheCatalogCannotAnswer() {
        ClusterContext ctx = new ClusterContext(1);
        try (Node x = new Node(1, false, ctx)) {
            Obj a = x.object(true, entry(1, 0, 2, "a"), entry(7, 0, 1, "a"));
            long past = x.wal.nextSequence();
            ctx.committed.put(1, 2L);
            ctx.failQueries = true;
            x.wal.trimAsync(past).join();
            assertThat(WalTesting.objectKeys(store.keys())).containsExactly(a.key());
            ctx.failQueries = false;
            x.wal.trimAsync(past).join(); // partition 7 is unknown to the catalog: kept
            assertThat(WalTesting.objectKeys(store.keys())).containsExactly(a.key());
            ctx.committed.put(7, WalCommittedOffsets.GONE); // its topic was deleted
            x.wal.trimAsync(past).join();
            assertThat(WalTesting.objectKeys(store.keys())).isEmpty();
        }
    }

    @ParameterizedTest(name = "dataObjects={0}")
    @ValueSource(booleans = {false, true})
    void trimShouldReadObjectsItNeverSawToLearnTheirPartitions(boolean dataObjects) {
        Map<String, Obj> o = writeTwoEpochs(dataObjects); // by a WAL without the rule
        ClusterContext ctx = new ClusterContext(3);
        ObjectWriteAheadLog fresh = manualFlush().keyPrefix(PREFIX).dataObjects(dataObjects).build();
        try {
            fresh.open(ctx); // no replay: it knows nothing of X's objects
            ctx.committed.putAll(Map.of(1, 6L, 2, 5L, 3, 1L));
            fresh.trimAsync(3L << ObjectWriteAheadLog.EPOCH_SHIFT).join();
            // Stream 3 is committed only up to 1: A (stream 3 ends at 1) goes, C, D and E hold more of it.
            assertThat(WalTesting.objectKeys(store.keys())).containsExactly(o.get("C").key(), o.get("D").key(), o.get("E").key());
            ctx.committed.put(3, 4L);
            fresh.trimAsync(3L << ObjectWriteAheadLog.EPOCH_SHIFT).join();
            assertThat(WalTesting.objectKeys(store.keys())).isEmpty();
        } finally {
            fresh.close();
            ctx.close();
        }
    }

    @Test
    void aRestartedNodeShouldKeepItsOlderEpochsObjectsUntilTheirPartitionsAreCommittedWithoutReadingThemAgain() {
        Map<String, Obj> o = writeTwoEpochs(false);
        ClusterContext ctx = new ClusterContext(3);
        try (Node x = new Node(3, false, ctx)) { // replays A..E and learns their partitions
            long gets = store.gets.get();
            ctx.committed.putAll(Map.of(1, 6L, 2, 5L, 3, 2L));
            x.wal.trimAsync(x.wal.nextSequence()).join();
            assertThat(WalTesting.objectKeys(store.keys())).containsExactly(o.get("E").key()); // E holds stream 3 up to 4
            assertThat(store.gets.get()).isEqualTo(gets); // known from the replay, not read again
            ctx.committed.put(3, 4L);
            x.wal.trimAsync(x.wal.nextSequence()).join();
            assertThat(WalTesting.objectKeys(store.keys())).isEmpty();
        }
    }

    @Test
    void withoutTheRuleTrimShouldDeleteBySequenceAloneAsBefore() {
        try (Node x = new Node(1, false)) {
            x.object(true, entry(1, 0, 2, "a"), entry(2, 0, 3, "a"));
            x.wal.trimAsync(x.wal.nextSequence()).join();
            assertThat(WalTesting.objectKeys(store.keys())).isEmpty();
        }
    }

    @Test
    void aPayloadThatIsNotRecordBatchesHasAnUnknownEndAndIsKeptUntilItsStreamIsGone() {
        ClusterContext ctx = new ClusterContext(1);
        try (Node x = new Node(1, false, ctx)) {
            Obj a = x.object(true, RecordingEntry.of(4, 0, "not a record batch"));
            ctx.committed.put(4, Long.MAX_VALUE - 1);
            x.wal.trimAsync(x.wal.nextSequence()).join();
            assertThat(WalTesting.objectKeys(store.keys())).containsExactly(a.key());
            ctx.committed.put(4, WalCommittedOffsets.GONE);
            x.wal.trimAsync(x.wal.nextSequence()).join();
            assertThat(WalTesting.objectKeys(store.keys())).isEmpty();
        }
    }
}
