package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.ErrorKind;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.OffsetAndTimestamp;
import io.shale.log.ShaleException;
import io.shale.log.StoreConfig;
import io.shale.log.TopicConfig;
import io.shale.log.TopicPartition;
import io.shale.log.internal.format.BlockInfo;
import io.shale.log.internal.format.DataObjectIndex;
import io.shale.log.internal.manifest.PartitionMeta;
import io.shale.log.record.CompressionType;
import io.shale.log.record.Record;
import io.shale.log.record.RecordBatch;
import io.shale.log.record.RecordBatchBuilder;
import io.shale.log.record.RecordBatchLayout;
import io.shale.log.record.RecordBatches;
import io.shale.log.record.SimpleRecord;
import io.shale.log.spi.ForwardingObjectStore;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.Payload;
import io.shale.log.testing.SharedObjectStore;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.utils.internals.BufferSupplier;
import org.junit.jupiter.api.Test;

/**
 * Key-based compaction ({@code cleanup.policy=compact}) through the engine, driven
 * deterministically: cleaning runs on the maintenance thread when a test asks, time is the
 * injected clock, and what is in the object store is checked byte by byte.
 */
class LogCompactionTest extends EngineFixture {
    private static final long DELETE_RETENTION = 60_000;
    private static final Map<String, Object> COMPACT = Map.of(
            TopicConfig.CLEANUP_POLICY, "compact",
            TopicConfig.MIN_CLEANABLE_DIRTY_RATIO, "0.01",
            TopicConfig.DELETE_RETENTION_MS, DELETE_RETENTION);

    /** A record as a reader sees it. */
    record Rec(long offset, String key, String value) {
        @Override
        public String toString() {
            return offset + ":" + key + "=" + value;
        }
    }

    // ------------------------------------------------------------------ helpers

    private static Map<String, Object> compact(Object... more) {
        Map<String, Object> m = new LinkedHashMap<>(COMPACT);
        for (int i = 0; i < more.length; i += 2) {
            m.put((String) more[i], more[i + 1]);
        }
        return m;
    }

    private static String str(ByteBuffer b) {
        if (b == null) {
            return null;
        }
        byte[] bytes = new byte[b.remaining()];
        b.duplicate().get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Appends {key, value} pairs as one batch; returns the records with their offsets. */
    private static List<Rec> put(LogStore s, TopicPartition tp, String... kv) {
        List<SimpleRecord> rs = new ArrayList<>();
        for (int i = 0; i < kv.length; i += 2) {
            rs.add(SimpleRecord.of(kv[i], kv[i + 1]));
        }
        long base = s.append(tp, rs).join().baseOffset();
        List<Rec> out = new ArrayList<>();
        for (int i = 0; i < kv.length; i += 2) {
            out.add(new Rec(base + i / 2, kv[i], kv[i + 1]));
        }
        return out;
    }

    /** Every record from the log start to the high watermark; every read must make progress. */
    private static List<Rec> scan(LogStore s, TopicPartition tp, int maxBytes) {
        List<Rec> out = new ArrayList<>();
        long offset = s.logStartOffset(tp);
        long hw = s.highWatermark(tp);
        while (offset < hw) {
            FetchResult f = s.read(tp, offset, maxBytes);
            assertThat(f.nextOffset()).as("a read at %d makes progress", offset).isGreaterThan(offset);
            for (Record r : f.records()) {
                if (!out.isEmpty()) {
                    assertThat(r.offset()).as("offsets increase").isGreaterThan(out.get(out.size() - 1).offset());
                }
                out.add(new Rec(r.offset(), str(r.key()), str(r.value())));
            }
            offset = f.nextOffset();
        }
        return out;
    }

    private static List<Rec> scan(LogStore s, TopicPartition tp) {
        return scan(s, tp, 1 << 20);
    }

    /** What a reader of the data objects sees now (no log cache): a fresh read-only store. */
    private List<Rec> scanObjects(TopicPartition tp) {
        return scan(openReadOnly(), tp);
    }

    private static void clean(StoreEngine s) {
        s.maintenance.runNow(s.maintenance::runCompaction);
    }

    /** The key -> value a consumer ends with after applying {@code records} in order (tombstones delete). */
    private static Map<String, String> finalState(List<Rec> records) {
        Map<String, String> state = new HashMap<>();
        for (Rec r : records) {
            if (r.value() == null) {
                state.remove(r.key());
            } else {
                state.put(r.key(), r.value());
            }
        }
        return state;
    }

    /**
     * Kafka's guarantee for a compacted log read from the start: each record read is the one
     * appended at its offset, and the reader ends in the same state as the full log.
     */
    private static void assertConsistent(List<Rec> read, List<Rec> appended) {
        Map<Long, Rec> byOffset = new HashMap<>();
        appended.forEach(r -> byOffset.put(r.offset(), r));
        for (Rec r : read) {
            assertThat(byOffset.get(r.offset())).as("the record read at %d is the one appended there", r.offset())
                    .isEqualTo(r);
        }
        assertThat(finalState(read)).as("a reader from the start ends in the log's final state")
                .isEqualTo(finalState(appended));
    }

    /** The newest record of each key, in offset order (what a fully cleaned log holds, tombstones included). */
    private static List<Rec> newestPerKey(List<Rec> appended) {
        Map<String, Rec> newest = new LinkedHashMap<>();
        appended.forEach(r -> newest.put(r.key(), r));
        List<Rec> out = new ArrayList<>(newest.values());
        out.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        return out;
    }

    /** Every record of partition {@code pid} in every data object in the store, decoded from the bytes. */
    private List<Rec> recordsInObjects(int pid) {
        List<Rec> out = new ArrayList<>();
        for (String key : objects.keys()) {
            if (!key.startsWith("data/")) {
                continue;
            }
            byte[] bytes = objects.bytes(key);
            long[] footer = DataObjectIndex.decodeFooter(key, ByteBuffer.wrap(bytes), bytes.length);
            DataObjectIndex index = DataObjectIndex.decode(key,
                    ByteBuffer.wrap(bytes, (int) footer[0], bytes.length - (int) footer[0]).slice(), bytes.length);
            for (BlockInfo b : index.blocks()) {
                if (b.partitionId() != pid) {
                    continue;
                }
                ByteBuffer block = ByteBuffer.wrap(bytes, (int) b.position(), b.size()).slice();
                for (Iterator<RecordBatch> it = RecordBatches.iterate(block); it.hasNext(); ) {
                    for (Record r : it.next()) {
                        out.add(new Rec(r.offset(), str(r.key()), str(r.value())));
                    }
                }
            }
        }
        return out;
    }

    private void deleteReplacedObjects(StoreEngine s) {
        clock.advance(3_600_001); // past the grace period of QUIET
        s.maintenance.runNow(s.maintenance::deleteUnreferenced);
    }

    // ------------------------------------------------------------------ tests

    @Test
    void cleaningShouldKeepTheNewestRecordOfEachKeyAtItsOriginalOffsetAndDropOlderOnesFromObjects() {
        StoreEngine s = open();
        s.createTopic("c", 1, COMPACT);
        TopicPartition tp = TopicPartition.of("c", 0);
        List<Rec> appended = new ArrayList<>();
        appended.addAll(put(s, tp, "k0", "a0", "k1", "a1", "k2", "a2", "k3", "a3", "k4", "a4"));
        s.flush();
        appended.addAll(put(s, tp, "k0", "b0", "k1", "b1", "k2", "b2"));
        s.flush();
        appended.addAll(put(s, tp, "k0", "c0"));
        s.flush();
        assertThat(scanObjects(tp)).as("before cleaning everything is there").isEqualTo(appended);

        clean(s);

        List<Rec> survivors = newestPerKey(appended);
        assertThat(survivors).extracting(Rec::offset).containsExactly(3L, 4L, 6L, 7L, 8L);
        assertThat(scanObjects(tp)).isEqualTo(survivors);
        assertThat(s.partition(tp).meta.cleanedOffset()).isEqualTo(9);
        assertThat(s.highWatermark(tp)).as("offsets are never reused").isEqualTo(9);
        assertThat(s.partition(tp).caches(0)).as("the writer's log cache still holds the old batches").isTrue();
        assertThat(scan(s, tp)).as("but below the cleaned offset the writer reads the objects").isEqualTo(survivors);

        deleteReplacedObjects(s);
        assertThat(recordsInObjects(s.partition(tp).id)).as("older values are gone from the object store")
                .containsExactlyInAnyOrderElementsOf(survivors);

        // more writes, another cleaning: the clean part is filtered again with the new keys
        appended.addAll(put(s, tp, "k3", "d3", "k9", "d9"));
        s.flush();
        clean(s);
        assertThat(scanObjects(tp)).isEqualTo(newestPerKey(appended));
        assertThat(s.partition(tp).meta.cleanedOffset()).isEqualTo(11);
    }

    @Test
    void aTombstoneShouldStayReadableForDeleteRetentionMsAfterItWasFirstCleanedThenDisappear() {
        StoreEngine s = open();
        s.createTopic("c", 1, COMPACT);
        TopicPartition tp = TopicPartition.of("c", 0);
        List<Rec> appended = new ArrayList<>();
        appended.addAll(put(s, tp, "gone", "v1", "kept", "x"));
        appended.addAll(put(s, tp, "gone", null));
        s.flush();
        long firstCleaning = clock.millis();
        clean(s);
        List<Rec> objectView = scanObjects(tp);
        assertThat(objectView).containsExactly(new Rec(1, "kept", "x"), new Rec(2, "gone", null));
        RecordBatch tombstoneBatch = openReadOnly().read(tp, 2, 1 << 20).batches().get(0);
        assertThat(tombstoneBatch.deleteHorizonMs()).as("KIP-534: the horizon is written into the batch")
                .hasValue(firstCleaning + DELETE_RETENTION);

        // not yet: cleaning again before the horizon keeps it (and keeps its horizon)
        clock.advance(DELETE_RETENTION - 1);
        appended.addAll(put(s, tp, "kept", "y"));
        s.flush();
        clean(s);
        assertThat(scanObjects(tp)).containsExactly(new Rec(2, "gone", null), new Rec(3, "kept", "y"));
        assertThat(openReadOnly().read(tp, 2, 1 << 20).batches().get(0).deleteHorizonMs())
                .hasValue(firstCleaning + DELETE_RETENTION);

        // past the horizon: the next pass removes it even with nothing new to clean
        clock.advance(1);
        clean(s);
        assertThat(scanObjects(tp)).containsExactly(new Rec(3, "kept", "y"));
        assertThat(s.logStartOffset(tp)).as("the log start does not move").isZero();
        deleteReplacedObjects(s);
        assertThat(recordsInObjects(s.partition(tp).id)).containsExactly(new Rec(3, "kept", "y"));
        assertConsistent(scanObjects(tp), appended);
    }

    @Test
    void appendsWithoutAKeyToACompactedTopicShouldBeRejectedAndAppendNothing() {
        StoreEngine s = open();
        s.createTopic("c", 1, COMPACT);
        s.createTopic("both", 1, Map.of(TopicConfig.CLEANUP_POLICY, "delete,compact"));
        s.createTopic("plain", 1);
        ByteBuffer keyless = kafkaBatch(Compression.lz4().build(), "k", "v", null, "w");
        for (String topic : List.of("c", "both")) {
            TopicPartition tp = TopicPartition.of(topic, 0);
            assertKind(() -> s.append(tp, List.of(SimpleRecord.of("k", "v"), SimpleRecord.of(null, "w"))).join(),
                    ErrorKind.INVALID_ARGUMENT);
            assertKind(() -> s.appendBatch(tp, keyless.duplicate()).join(), ErrorKind.INVALID_ARGUMENT);
            try {
                s.append(tp, List.of(SimpleRecord.of((String) null, "w"))).join();
            } catch (RuntimeException e) {
                assertThat(ShaleException.unwrap(e).getMessage()).contains("'" + topic + "'");
            }
            assertThat(s.highWatermark(tp)).as("nothing was appended to %s", topic).isZero();
            assertThat(s.appendBatch(tp, kafkaBatch(Compression.lz4().build(), "k", "v", "k2", null)).join().baseOffset())
                    .as("keyed records, tombstones included, are fine").isZero();
        }
        TopicPartition plain = TopicPartition.of("plain", 0);
        s.append(plain, List.of(SimpleRecord.of((String) null, "w"))).join();
        s.appendBatch(plain, keyless.duplicate()).join();
        assertThat(s.highWatermark(plain)).isEqualTo(3);
    }

    /** A Kafka producer batch (no producer id) of {key, value} pairs; null keys and values allowed. */
    private static ByteBuffer kafkaBatch(Compression c, String... kv) {
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(256), c,
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, 0L);
        for (int i = 0; i < kv.length; i += 2) {
            b.append(1_700_000_000_000L, bytes(kv[i]), bytes(kv[i + 1]));
        }
        return b.build().buffer();
    }

    private static byte[] bytes(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void readsStartingInsideAGapShouldReturnTheNextBatchAndMovePastGapsBetweenAndAfterRuns() {
        StoreEngine s = open();
        s.createTopic("c", 1, compact(TopicConfig.MIN_COMPACTION_LAG_MS, 600_000));
        TopicPartition tp = TopicPartition.of("c", 0);
        put(s, tp, "a", "1", "b", "1", "c", "1"); // 0..2
        put(s, tp, "a", "2", "b", "2"); // 3..4
        put(s, tp, "x", "1", "x", null); // 5..6: x ends deleted
        s.flush();
        clock.advance(Duration.ofMinutes(11).toMillis());
        long t1 = clock.millis();
        put(s, tp, "late", "1"); // 7: newer than min.compaction.lag.ms
        s.flush();
        clean(s);
        LogStore r = openReadOnly();
        assertThat(scan(r, tp)).containsExactly(new Rec(2, "c", "1"), new Rec(3, "a", "2"), new Rec(4, "b", "2"),
                new Rec(6, "x", null), new Rec(7, "late", "1"));

        // inside a batch: offset 0 and 1 are gone, the batch holding 2 comes back
        FetchResult f = r.read(tp, 0, 1);
        assertThat(f.batches()).hasSize(1);
        assertThat(f.recordList()).extracting(Record::offset).containsExactly(2L);
        assertThat(f.nextOffset()).isEqualTo(3);
        f = r.read(tp, 5, 1);
        assertThat(f.recordList()).extracting(Record::offset).containsExactly(6L);
        assertThat(r.offsetForTimestamp(tp, 0)).as("the first record left")
                .hasValue(new OffsetAndTimestamp(2, clock.millis() - Duration.ofMinutes(11).toMillis()));

        // past the tombstone's horizon the whole first run holds nothing: a gap before the run of 7
        clock.advance(DELETE_RETENTION);
        clean(s);
        r = openReadOnly();
        assertThat(scan(r, tp)).containsExactly(new Rec(2, "c", "1"), new Rec(3, "a", "2"), new Rec(4, "b", "2"),
                new Rec(7, "late", "1"));
        f = r.read(tp, 5, 1 << 20);
        assertThat(f.recordList()).extracting(Record::offset).containsExactly(7L);
        assertThat(f.nextOffset()).isEqualTo(8);
        assertThat(r.offsetForTimestamp(tp, t1)).hasValue(new OffsetAndTimestamp(7, t1));

        // a tail that compaction emptied: an empty read whose next offset is the high watermark
        put(s, tp, "late", null); // 8
        s.flush();
        clock.advance(Duration.ofMinutes(11).toMillis());
        clean(s); // sets the tombstone's horizon; "late"=1 goes
        clock.advance(DELETE_RETENTION);
        clean(s); // the tombstone goes
        r = openReadOnly();
        assertThat(scan(r, tp)).containsExactly(new Rec(2, "c", "1"), new Rec(3, "a", "2"), new Rec(4, "b", "2"));
        f = r.read(tp, 5, 1 << 20);
        assertThat(f.batches()).isEmpty();
        assertThat(f.nextOffset()).isEqualTo(r.highWatermark(tp)).isEqualTo(9);
        assertThat(r.poll(tp, 6, 1 << 20, Duration.ofSeconds(30)).join().nextOffset())
                .as("a long poll inside the gap answers at once").isEqualTo(9);
    }

    @Test
    void aCleaningThatLeavesNothingShouldDropTheRunsAndReadsShouldSkipTheGap() {
        StoreEngine s = open();
        s.createTopic("c", 1, compact(TopicConfig.MIN_COMPACTION_LAG_MS, 600_000));
        TopicPartition tp = TopicPartition.of("c", 0);
        List<Rec> appended = new ArrayList<>(put(s, tp, "x", "1", "x", null)); // 0..1
        s.flush();
        clock.advance(Duration.ofMinutes(11).toMillis());
        appended.addAll(put(s, tp, "y", "1")); // 2: too young to clean
        s.flush();
        clean(s); // x=1 goes, the tombstone gets its horizon
        clock.advance(DELETE_RETENTION);
        clean(s); // the tombstone goes: the first run is left with nothing
        PartitionMeta meta = s.partition(tp).meta;
        assertThat(meta.ranges()).as("no run holds offsets 0..1").hasSize(1);
        assertThat(meta.ranges()[0].baseOffset()).isEqualTo(2);
        assertThat(meta.cleanedOffset()).isEqualTo(2);
        assertThat(s.logStartOffset(tp)).isZero();
        LogStore r = openReadOnly();
        FetchResult f = r.read(tp, 0, 1 << 20);
        assertThat(f.recordList()).extracting(Record::offset).containsExactly(2L);
        assertThat(scan(r, tp)).containsExactly(new Rec(2, "y", "1"));
        assertConsistent(scan(r, tp), appended);
        s.close();
        assertThat(scan(open(), tp)).as("after a restart").containsExactly(new Rec(2, "y", "1"));
    }

    @Test
    void readersFromTheStartShouldSeeAConsistentLogWhileCleaningRunsInBoundedMemory() {
        StoreEngine s = open(Map.of(StoreConfig.LOG_CACHE_BYTES, 1 << 20, StoreConfig.OBJECT_BLOCK_BYTES, 8192,
                StoreConfig.COMPACTION_MAX_SMALL_OBJECTS, 1_000));
        s.maintenance.cleaner().offsetMapBytes = 0; // 768 keys per pass
        s.maintenance.cleaner().maxObjectBytes = 64 << 10;
        s.createTopic("c", 1, compact(TopicConfig.DELETE_RETENTION_MS, 300_000));
        TopicPartition tp = TopicPartition.of("c", 0);
        Random rnd = new Random(11);
        List<Rec> appended = new ArrayList<>();
        for (int round = 0; round < 12; round++) {
            for (int batch = 0; batch < 10; batch++) {
                List<String> kv = new ArrayList<>();
                for (int i = 0; i < 30; i++) {
                    kv.add("key-" + rnd.nextInt(1_500));
                    kv.add(rnd.nextInt(10) == 0 ? null : "r" + round + "-" + "v".repeat(rnd.nextInt(600)));
                }
                appended.addAll(put(s, tp, kv.toArray(new String[0])));
            }
            s.flush();
            clock.advance(Duration.ofMinutes(1).toMillis());
            if (round % 3 == 2) {
                clean(s);
                assertConsistent(scanObjects(tp), appended);
                assertConsistent(scan(s, tp, 4096), appended); // log cache and objects mixed
            }
        }
        // the budget made each pass clean a prefix: repeat until the whole log is clean
        for (int pass = 0; pass < 20 && s.partition(tp).meta.cleanedOffset() < s.highWatermark(tp); pass++) {
            clean(s);
        }
        assertThat(s.partition(tp).meta.cleanedOffset()).isEqualTo(s.highWatermark(tp));
        List<Rec> read = scanObjects(tp);
        assertConsistent(read, appended);
        List<Rec> newest = newestPerKey(appended);
        assertThat(newest).as("the newest record of every key that still has a value is there")
                .filteredOn(r -> r.value() != null).isSubsetOf(read);
        assertThat(read).as("and nothing else: tombstones whose horizon passed are gone too").isSubsetOf(newest);
        assertThat(newest.size() - read.size()).as("some tombstones expired").isPositive();
    }

    @Test
    void aFullOffsetMapShouldCleanAPrefixAndWriteSeveralSegmentsInOneManifestDelta() {
        StoreEngine s = open(Map.of(StoreConfig.OBJECT_BLOCK_BYTES, 4096, StoreConfig.COMPACTION_MAX_SMALL_OBJECTS, 1_000));
        Cleaner cleaner = s.maintenance.cleaner();
        cleaner.offsetMapBytes = 0; // the smallest map: 768 keys
        cleaner.maxObjectBytes = 16 << 10;
        s.createTopic("c", 1, COMPACT);
        TopicPartition tp = TopicPartition.of("c", 0);
        List<Rec> appended = new ArrayList<>();
        for (int round = 0; round < 2; round++) {
            for (int b = 0; b < 20; b++) {
                List<String> kv = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    int k = b * 50 + i; // 1,000 keys, each written twice
                    kv.add("key-" + k);
                    kv.add("round" + round + "-" + "x".repeat(40));
                }
                appended.addAll(put(s, tp, kv.toArray(new String[0])));
            }
            s.flush();
        }
        int deltas = manifestDeltas();
        List<String> before = objects.keys();
        clean(s);
        long cleaned = s.partition(tp).meta.cleanedOffset();
        assertThat(cleaned).as("the map filled: only a prefix of whole batches is clean")
                .isGreaterThan(0).isLessThan(2_000).matches(o -> o % 50 == 0);
        assertThat(manifestDeltas()).as("one delta for the whole cleaning").isEqualTo(deltas + 1);
        assertThat(objects.keys().stream().filter(k -> !before.contains(k) && k.startsWith("data/")).count())
                .as("several bounded segments").isGreaterThan(1);
        assertConsistent(scanObjects(tp), appended);

        for (int pass = 0; pass < 10 && s.partition(tp).meta.cleanedOffset() < 2_000; pass++) {
            clean(s);
        }
        assertThat(s.partition(tp).meta.cleanedOffset()).isEqualTo(2_000);
        assertThat(scanObjects(tp)).isEqualTo(newestPerKey(appended)).hasSize(1_000)
                .allMatch(r -> r.value().startsWith("round1"));
    }

    private int manifestDeltas() {
        return (int) objects.keys().stream().filter(k -> k.startsWith("manifest/deltas/")).count();
    }

    @Test
    void aRestartShouldKeepTheCleanedDataAndTheCleanedOffsetAlsoFromASnapshot() {
        Map<String, Object> cfg = Map.of(StoreConfig.MANIFEST_SNAPSHOT_DELTAS, 2);
        StoreEngine s = open(cfg);
        s.createTopic("c", 2, COMPACT);
        TopicPartition tp = TopicPartition.of("c", 1);
        List<Rec> appended = new ArrayList<>();
        appended.addAll(put(s, tp, "a", "1", "b", "1"));
        appended.addAll(put(s, tp, "a", "2", "b", null));
        s.flush();
        clean(s);
        appended.addAll(put(s, tp, "c", "1")); // dirty, in the WAL and uploaded at close
        s.maintenance.runNow(s.catalog::maintain); // a snapshot holding the cleaned offset
        assertThat(objects.keys()).anyMatch(k -> k.startsWith("manifest/snapshots/"));
        s.close();

        StoreEngine again = open(cfg);
        assertThat(again.partition(tp).meta.cleanedOffset()).isEqualTo(4);
        assertThat(scan(again, tp)).containsExactly(new Rec(2, "a", "2"), new Rec(3, "b", null), new Rec(4, "c", "1"));
        assertThat(again.highWatermark(tp)).isEqualTo(5);
        assertThat(again.append(tp, List.of(SimpleRecord.of("a", "3"))).join().baseOffset()).isEqualTo(5);
        appended.add(new Rec(5, "a", "3"));
        again.flush();
        clean(again);
        assertThat(scanObjects(tp)).isEqualTo(newestPerKey(appended));
        again.close();
        StoreEngine third = open(cfg);
        assertThat(third.partition(tp).meta.cleanedOffset()).isEqualTo(6);
        assertThat(scan(third, tp)).isEqualTo(newestPerKey(appended));
    }

    /**
     * A record stored without a timestamp (-1, as Kafka allows) keeps none when the cleaner rewrites
     * its batch; the rewrite stamped it with the builder's default (0, then the current time).
     */
    @Test
    void cleaningShouldKeepARecordWithoutTimestampWithoutTimestamp() {
        StoreEngine s = open();
        s.createTopic("c", 1, COMPACT);
        TopicPartition tp = TopicPartition.of("c", 0);
        s.appendBatch(tp, new RecordBatchBuilder().defaultTimestamp(RecordBatchLayout.NO_TIMESTAMP)
                .append(SimpleRecord.of("gone", "1")).append(SimpleRecord.of("kept", "2")).build()).join();
        put(s, tp, "gone", "3");
        s.flush();

        clean(s);

        List<Record> kept = new ArrayList<>();
        openReadOnly().read(tp, 0, 1 << 20).records().forEach(kept::add);
        assertThat(kept).extracting(Record::offset).containsExactly(1L, 2L);
        assertThat(kept.get(0).timestamp()).as("the rewritten record keeps no timestamp")
                .isEqualTo(RecordBatchLayout.NO_TIMESTAMP);
    }

    @Test
    void cleaningShouldKeepEachBatchsCodecAndProducerFieldsAndWriteWhatKafkasCleanerWrites() {
        StoreEngine s = open();
        s.createTopic("c", 1, COMPACT);
        TopicPartition tp = TopicPartition.of("c", 0);
        Compression[] codecs = {Compression.NONE, Compression.lz4().build(), Compression.gzip().build(),
                Compression.snappy().build()};
        Map<String, Long> newest = new HashMap<>();
        long offset = 0;
        for (int b = 0; b < 8; b++) {
            MemoryRecordsBuilder kb = MemoryRecords.builder(ByteBuffer.allocate(1024), (byte) 2, codecs[b % codecs.length],
                    org.apache.kafka.common.record.TimestampType.CREATE_TIME, 0L, -1L, 77L, (short) 2,
                    b * 6, false, 5);
            for (int i = 0; i < 6; i++) {
                String key = "k" + ((b * 6 + i) % 9);
                String value = (b + i) % 7 == 0 ? null : "v" + b + "-" + i;
                kb.append(1_700_000_000_000L + b * 10 + i, bytes(key), bytes(value),
                        new org.apache.kafka.common.header.Header[] {new RecordHeader("h", bytes("b" + b))});
                newest.put(key, offset++);
            }
            s.appendBatch(tp, kb.build().buffer()).join();
        }
        s.flush();
        List<ByteBuffer> stored = new ArrayList<>();
        for (RecordBatch rb : openReadOnly().read(tp, 0, 1 << 20).batches()) {
            stored.add(copy(rb.buffer()));
        }
        assertThat(stored).hasSize(8);

        long now = clock.millis();
        clean(s);

        // Kafka's own cleaner step over the same stored batches, with the same decisions
        ByteBuffer input = ByteBuffer.allocate(stored.stream().mapToInt(ByteBuffer::remaining).sum());
        stored.forEach(b -> input.put(b.duplicate()));
        input.flip();
        MemoryRecords.RecordFilter filter = new MemoryRecords.RecordFilter(now, DELETE_RETENTION) {
            @Override
            protected BatchRetentionResult checkBatchRetention(org.apache.kafka.common.record.internal.RecordBatch batch) {
                return new BatchRetentionResult(BatchRetention.DELETE_EMPTY, false);
            }

            @Override
            protected boolean shouldRetainRecord(org.apache.kafka.common.record.internal.RecordBatch batch,
                    org.apache.kafka.common.record.internal.Record record) {
                return newest.get(str(record.key())) == record.offset();
            }
        };
        MemoryRecords.FilterResult result = MemoryRecords.readableRecords(input)
                .filterTo(filter, ByteBuffer.allocate(1 << 16), BufferSupplier.NO_CACHING, Integer.MAX_VALUE);
        ByteBuffer kafkaOut = result.outputBuffer().flip();
        List<MutableRecordBatch> kafkaBatches = new ArrayList<>();
        MemoryRecords.readableRecords(kafkaOut).batches().forEach(kafkaBatches::add);

        List<RecordBatch> ours = openReadOnly().read(tp, 0, 1 << 20).batches();
        assertThat(ours).hasSameSizeAs(kafkaBatches);
        for (int i = 0; i < ours.size(); i++) {
            RecordBatch o = ours.get(i);
            MutableRecordBatch k = kafkaBatches.get(i);
            k.ensureValid();
            assertThat(o.compressionType().id).as("codec kept").isEqualTo(k.compressionType().id);
            assertThat(o.producerId()).isEqualTo(77L);
            assertThat(o.lastOffset()).as("the batch's last offset is kept").isEqualTo(k.lastOffset());
            if (o.compressionType() != CompressionType.GZIP) {
                assertThat(toArray(o.buffer())).as("batch %d is byte for byte what Kafka's cleaner writes", i)
                        .isEqualTo(kafkaBytes(k));
            }
            // and Kafka decodes ours as Shale does
            MutableRecordBatch kv = MemoryRecords.readableRecords(copy(o.buffer())).batches().iterator().next();
            kv.ensureValid();
            assertThat(kv.deleteHorizonMs()).isEqualTo(k.deleteHorizonMs());
            List<String> kafkaView = new ArrayList<>();
            kv.forEach(r -> kafkaView.add(r.offset() + ":" + str(r.key()) + "=" + str(r.value()) + "@" + r.timestamp()
                    + "#" + r.sequence() + "/" + str(ByteBuffer.wrap(r.headers()[0].value()))));
            List<String> shaleView = new ArrayList<>();
            for (Record r : o) {
                shaleView.add(r.offset() + ":" + str(r.key()) + "=" + str(r.value()) + "@" + r.timestamp() + "#"
                        + r.sequence() + "/" + str(r.headers().get(0).value()));
            }
            assertThat(shaleView).isEqualTo(kafkaView).isNotEmpty();
        }
        assertThat(ours).anyMatch(b -> b.recordCount() < b.lastOffsetDelta() + 1); // gaps inside batches
        assertThat(ours).anyMatch(RecordBatch::isDeleteHorizonSet);
    }

    private static byte[] kafkaBytes(MutableRecordBatch k) {
        ByteBuffer out = ByteBuffer.allocate(k.sizeInBytes());
        k.writeTo(out);
        return out.array();
    }

    private static ByteBuffer copy(ByteBuffer b) {
        ByteBuffer out = ByteBuffer.allocate(b.remaining());
        out.put(b.duplicate()).flip();
        return out;
    }

    private static byte[] toArray(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Test
    void controlAndTransactionalBatchesShouldBeKeptAsTheyAre() {
        StoreEngine s = open();
        s.createTopic("c", 1, COMPACT);
        TopicPartition tp = TopicPartition.of("c", 0);
        put(s, tp, "x", "plain-1"); // 0
        MemoryRecordsBuilder txn = MemoryRecords.builder(ByteBuffer.allocate(256), (byte) 2, Compression.NONE,
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, 0L, -1L, 9L, (short) 1, 0,
                true, 0);
        txn.append(1_700_000_000_000L, bytes("x"), bytes("txn"));
        s.appendBatch(tp, txn.build().buffer()).join(); // 1
        s.writeTxnMarker(tp, 9L, (short) 1, 0, true).join(); // 2
        put(s, tp, "y", "plain-3"); // 3
        put(s, tp, "x", "plain-4"); // 4
        s.flush();
        List<ByteBuffer> before = new ArrayList<>();
        for (RecordBatch b : openReadOnly().read(tp, 1, 1 << 20).batches().subList(0, 2)) {
            before.add(copy(b.buffer()));
        }
        clean(s);
        List<RecordBatch> after = openReadOnly().read(tp, 0, 1 << 20).batches();
        assertThat(after).extracting(RecordBatch::baseOffset).containsExactly(1L, 2L, 3L, 4L);
        assertThat(toArray(after.get(0).buffer())).as("the transactional batch is untouched").isEqualTo(toArray(before.get(0)));
        assertThat(toArray(after.get(1).buffer())).as("the commit marker is untouched").isEqualTo(toArray(before.get(1)));
        assertThat(scanObjects(tp)).containsExactly(new Rec(1, "x", "txn"), new Rec(3, "y", "plain-3"),
                new Rec(4, "x", "plain-4"));
    }

    @Test
    void compactDeleteShouldAlsoExpireOldRunsWhileCompactAloneKeepsEverythingNewest() {
        StoreEngine s = open();
        s.createTopic("both", 1, compact(TopicConfig.CLEANUP_POLICY, "compact,delete", TopicConfig.RETENTION_MS, 60_000));
        s.createTopic("only", 1, compact(TopicConfig.RETENTION_MS, 60_000));
        assertThat(s.describeTopic("both").orElseThrow().config().cleanupPolicy())
                .isEqualTo(TopicConfig.CleanupPolicy.COMPACT_DELETE);
        TopicPartition both = TopicPartition.of("both", 0);
        TopicPartition only = TopicPartition.of("only", 0);
        for (TopicPartition tp : List.of(both, only)) {
            put(s, tp, "a", "1", "b", "1");
        }
        s.flush();
        clock.advance(Duration.ofMinutes(2).toMillis());
        for (TopicPartition tp : List.of(both, only)) {
            put(s, tp, "a", "2");
        }
        s.flush();
        clean(s);
        s.maintenance.runNow(s.maintenance::runRetention);
        assertThat(scanObjects(only)).as("compact alone: no retention by time")
                .containsExactly(new Rec(1, "b", "1"), new Rec(2, "a", "2"));
        assertThat(s.logStartOffset(only)).isZero();
        // compact,delete: the cleaned segment holds b=1 (old) and a=2 (new): retention drops whole runs
        // whose newest record is old, so the next upload's run is what expires next
        clock.advance(Duration.ofMinutes(2).toMillis());
        put(s, both, "c", "3");
        s.flush();
        s.maintenance.runNow(s.maintenance::runRetention);
        assertThat(s.logStartOffset(both)).as("the cleaned run (newest record 2 minutes old) expired").isEqualTo(3);
        assertThat(scanObjects(both)).containsExactly(new Rec(3, "c", "3"));
        assertThat(s.logStartOffset(only)).isZero();
    }

    @Test
    void minCompactionLagShouldHoldBackNewRecordsAndMaxCompactionLagShouldForceACleaningBelowTheDirtyRatio() {
        StoreEngine s = open();
        s.createTopic("lag", 1, compact(TopicConfig.MIN_COMPACTION_LAG_MS, 60_000));
        s.createTopic("max", 1, compact(TopicConfig.MIN_CLEANABLE_DIRTY_RATIO, "0.9",
                TopicConfig.MAX_COMPACTION_LAG_MS, 600_000));
        TopicPartition lag = TopicPartition.of("lag", 0);
        TopicPartition max = TopicPartition.of("max", 0);
        put(s, lag, "a", "1", "a", "2");
        s.flush();
        clean(s);
        assertThat(s.partition(lag).meta.cleanedOffset()).as("younger than min.compaction.lag.ms").isZero();
        assertThat(scanObjects(lag)).hasSize(2);
        clock.advance(60_001);
        clean(s);
        assertThat(s.partition(lag).meta.cleanedOffset()).isEqualTo(2);
        assertThat(scanObjects(lag)).containsExactly(new Rec(1, "a", "2"));

        put(s, max, "a", "1", "b", "1", "c", "1", "d", "1", "e", "1", "f", "1", "g", "1", "h", "1", "i", "1", "j", "1");
        s.flush();
        clean(s); // all dirty: ratio 1.0
        assertThat(s.partition(max).meta.cleanedOffset()).isEqualTo(10);
        put(s, max, "a", "2");
        s.flush();
        clean(s);
        assertThat(s.partition(max).meta.cleanedOffset()).as("dirty ratio far below 0.9").isEqualTo(10);
        clock.advance(600_001);
        clean(s);
        assertThat(s.partition(max).meta.cleanedOffset()).as("max.compaction.lag.ms passed").isEqualTo(11);
        assertThat(scanObjects(max)).hasSize(10).doesNotContain(new Rec(0, "a", "1"));
    }

    @Test
    void aCrashBetweenWritingCleanedSegmentsAndTheCommitShouldLeaveTheOldDataReadableAndTheOrphanDeleted()
            throws Exception {
        HoldingStore holding = new HoldingStore(new SharedObjectStore(objects));
        StoreConfig cfg = StoreConfig.of(QUIET).with(Map.of(StoreConfig.OBJECT_DELETE_GRACE_MS, 5_000));
        StoreEngine s = (StoreEngine) StoreEngine.open(holding, wal, clock, cfg);
        opened.add(s);
        s.createTopic("c", 1, COMPACT);
        TopicPartition tp = TopicPartition.of("c", 0);
        List<Rec> appended = new ArrayList<>();
        appended.addAll(put(s, tp, "a", "1", "b", "1"));
        appended.addAll(put(s, tp, "a", "2"));
        s.flush();
        List<String> before = objects.keys();

        holding.holdManifest = true; // the manifest commit never completes: the process dies meanwhile
        Future<?> cleaning = s.maintenanceExecutor.submit(s.maintenance::runCompaction);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (holding.held == 0) {
            assertThat(System.nanoTime()).as("the cleaning reaches its commit").isLessThan(deadline);
            Thread.sleep(5);
        }
        List<String> orphans = objects.keys().stream().filter(k -> !before.contains(k)).toList();
        assertThat(orphans).as("the cleaned segment was written").hasSize(1).allMatch(k -> k.startsWith("data/"));
        s.crashForTesting();
        wal.crash();
        assertThat(cleaning).isNotNull();

        StoreEngine again = open(Map.of(StoreConfig.OBJECT_DELETE_GRACE_MS, 5_000));
        assertThat(scan(again, tp)).as("the old data, all of it").isEqualTo(appended);
        assertThat(again.partition(tp).meta.cleanedOffset()).isZero();
        again.maintenance.runNow(again.maintenance::deleteOrphans);
        assertThat(objects.keys()).as("within the grace period the orphan stays").containsAll(orphans);
        clock.advance(5_001);
        again.maintenance.runNow(again.maintenance::deleteOrphans);
        assertThat(objects.keys()).doesNotContainAnyElementsOf(orphans);
        assertThat(scan(again, tp)).isEqualTo(appended);

        clean(again); // and the cleaning simply happens again
        assertThat(scanObjects(tp)).isEqualTo(newestPerKey(appended));
    }

    /** Passes everything through, except that manifest deltas are swallowed (never complete) when asked. */
    private static final class HoldingStore extends ForwardingObjectStore {
        volatile boolean holdManifest;
        volatile int held;

        HoldingStore(ObjectStore delegate) {
            super(delegate);
        }

        @Override
        public CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) {
            if (holdManifest && key.startsWith("manifest/deltas/")) {
                held++;
                return new CompletableFuture<>();
            }
            return super.putIfAbsent(key, payload, token);
        }
    }

    @Test
    void topicConfigShouldAcceptKafkasPolicyListsAndValidateTheCompactionSettings() {
        assertThat(TopicConfig.of(Map.of(TopicConfig.CLEANUP_POLICY, " Delete , compact")).cleanupPolicy())
                .isEqualTo(TopicConfig.CleanupPolicy.COMPACT_DELETE);
        TopicConfig c = TopicConfig.of(Map.of(TopicConfig.CLEANUP_POLICY, "compact"));
        assertThat(c.cleanupPolicy().compacts()).isTrue();
        assertThat(c.cleanupPolicy().deletes()).isFalse();
        assertThat(c.toMap()).containsEntry(TopicConfig.CLEANUP_POLICY, "compact")
                .containsEntry(TopicConfig.DELETE_RETENTION_MS, "86400000")
                .containsEntry(TopicConfig.MIN_COMPACTION_LAG_MS, "0")
                .containsEntry(TopicConfig.MAX_COMPACTION_LAG_MS, String.valueOf(Long.MAX_VALUE))
                .containsEntry(TopicConfig.MIN_CLEANABLE_DIRTY_RATIO, "0.5");
        assertThat(TopicConfig.of(c.overrides())).isEqualTo(c);
        for (Map<String, Object> bad : List.<Map<String, Object>>of(
                Map.of(TopicConfig.CLEANUP_POLICY, ""),
                Map.of(TopicConfig.CLEANUP_POLICY, "compact,shred"),
                Map.of(TopicConfig.MIN_CLEANABLE_DIRTY_RATIO, "1.5"),
                Map.of(TopicConfig.MIN_CLEANABLE_DIRTY_RATIO, "NaN"),
                Map.of(TopicConfig.DELETE_RETENTION_MS, -1),
                Map.of(TopicConfig.MAX_COMPACTION_LAG_MS, 0),
                Map.of(TopicConfig.MIN_COMPACTION_LAG_MS, 10, TopicConfig.MAX_COMPACTION_LAG_MS, 5))) {
            assertKind(() -> TopicConfig.of(bad), ErrorKind.INVALID_ARGUMENT);
        }
    }
}
