package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.ErrorKind;
import io.shale.log.StoreConfig;
import io.shale.log.TopicConfig;
import io.shale.log.TopicPartition;
import io.shale.log.internal.manifest.ObjectMeta;
import io.shale.log.internal.manifest.RangeRef;
import io.shale.log.record.SimpleRecord;
import io.shale.log.spi.Payload;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Upload, retention, compaction, object deletion and orphans against the in-memory store. */
class TieringTest extends EngineFixture {

    private static List<SimpleRecord> records(long ts, int n, String prefix) {
        List<SimpleRecord> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(SimpleRecord.of(ts, null, (prefix + i).getBytes()));
        }
        return out;
    }

    @Test
    void tenThousandPartitionsWithALittleDataEachShouldMakeOneObjectPerUploadNotPerPartition() {
        StoreEngine s = open();
        s.createTopic("many", 10_000);
        for (int p = 0; p < 10_000; p++) {
            append(s, TopicPartition.of("many", p), "v" + p);
        }
        long puts = objects.puts.get();
        long before = dataObjects();
        s.flush();
        assertThat(dataObjects() - before).isEqualTo(1);
        // one data object plus one manifest delta
        assertThat(objects.puts.get() - puts).isEqualTo(2);
        s.close();
        StoreEngine again = open();
        for (int p = 0; p < 10_000; p += 997) {
            assertThat(readAll(again, TopicPartition.of("many", p))).containsExactly("v" + p);
        }
    }

    @Test
    void readsAfterTheLogCacheIsColdShouldComeFromObjectsWithReadahead() {
        StoreEngine s = open(Map.of(StoreConfig.OBJECT_BLOCK_BYTES, 4096));
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            append(s, tp, "value-" + i + "-" + "x".repeat(200));
            expected.add("value-" + i + "-" + "x".repeat(200));
        }
        s.flush();
        s.close();
        StoreEngine cold = open(Map.of(StoreConfig.OBJECT_BLOCK_BYTES, 4096));
        long getsBefore = cold.remote.gets.get();
        List<String> got = new ArrayList<>();
        long offset = 0;
        while (offset < cold.highWatermark(tp)) {
            var f = cold.read(tp, offset, 8192);
            got.addAll(values(f));
            offset = f.nextOffset();
        }
        assertThat(got).isEqualTo(expected);
        long gets = cold.remote.gets.get() - getsBefore;
        // ~60 KB in 4 KiB blocks: readahead must need far fewer GETs than blocks (index + doubling runs)
        assertThat(gets).isLessThan(10);
    }

    @Test
    void aSequentialReaderShouldKeepItsReadaheadAcrossObjects() {
        StoreEngine s = open(Map.of(StoreConfig.OBJECT_BLOCK_BYTES, 2048));
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        int blocks = 0;
        for (int object = 0; object < 8; object++) {
            for (int i = 0; i < 16; i++) {
                append(s, tp, "o" + object + "-" + i + "-" + "x".repeat(1500));
            }
            s.flush();
            blocks += s.partition(tp).meta.ranges()[object].blockCount();
        }
        s.close();
        StoreEngine cold = open(Map.of(StoreConfig.OBJECT_BLOCK_BYTES, 2048));
        long before = cold.remote.gets.get();
        assertThat(readAll(cold, tp)).hasSize(128);
        long gets = cold.remote.gets.get() - before;
        // one index read per object, then data: far fewer GETs than blocks once the window is open
        assertThat(blocks).isGreaterThanOrEqualTo(8 * 8);
        assertThat(gets).isLessThanOrEqualTo(8 + 8 + 4);
    }

    @Test
    void retentionByTimeShouldDropWholeUploadedRunsOnly() {
        StoreEngine s = open(Map.of(StoreConfig.OBJECT_DELETE_GRACE_MS, 0));
        s.createTopic("t", 1, Map.of(TopicConfig.RETENTION_MS, 60_000));
        TopicPartition tp = TopicPartition.of("t", 0);
        s.append(tp, records(clock.millis(), 3, "old")).join();
        s.flush();
        clock.advance(30_000);
        s.append(tp, records(clock.millis(), 2, "mid")).join();
        s.flush();
        clock.advance(40_000); // the first run is now 70 s old, the second 40 s
        s.append(tp, records(clock.millis(), 1, "new")).join(); // not uploaded: never expired
        s.maintenance.runNow(s.maintenance::runRetention);
        assertThat(s.logStartOffset(tp)).isEqualTo(3);
        assertThat(readAll(s, tp)).containsExactly("mid0", "mid1", "new0");
        clock.advance(60_000);
        s.maintenance.runNow(s.maintenance::runRetention);
        assertThat(s.logStartOffset(tp)).isEqualTo(5);
        assertThat(readAll(s, tp)).containsExactly("new0");
        // both expired objects are unreferenced; with no grace they are deleted
        long before = dataObjects();
        s.maintenance.runNow(s.maintenance::deleteUnreferenced);
        assertThat(dataObjects()).isEqualTo(before - 2);
    }

    @Test
    void retentionBySizeShouldKeepTheNewestRunsWithinTheLimit() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        long runBytes = 0;
        for (int i = 0; i < 5; i++) {
            s.append(tp, records(clock.millis(), 10, "r" + i + "-")).join();
            s.flush();
        }
        for (RangeRef r : s.partition(tp).meta.ranges()) {
            runBytes = Math.max(runBytes, r.length());
        }
        s.alterTopicConfig("t", Map.of(TopicConfig.RETENTION_BYTES, 2 * runBytes + 1));
        s.maintenance.runNow(s.maintenance::runRetention);
        // Kafka's rule: delete the oldest segment while size - its size >= retention.bytes
        assertThat(s.logStartOffset(tp)).isEqualTo(20);
        assertThat(readAll(s, tp)).hasSize(30);
    }

    @Test
    void compactionShouldRollSegmentsAndMergeSmallObjectsPreservingEveryOffset() {
        StoreEngine s = open(Map.of(StoreConfig.COMPACTION_MAX_SMALL_OBJECTS, 4, StoreConfig.OBJECT_DELETE_GRACE_MS, 0));
        s.createTopic("big", 1, Map.of(TopicConfig.SEGMENT_BYTES, 8192));
        s.createTopic("small", 20);
        TopicPartition big = TopicPartition.of("big", 0);
        List<String> expectedBig = new ArrayList<>();
        for (int round = 0; round < 12; round++) {
            List<SimpleRecord> rs = records(clock.millis(), 5, "b" + round + "-" + "y".repeat(300) + "-");
            s.append(big, rs).join();
            for (int i = 0; i < 5; i++) {
                expectedBig.add("b" + round + "-" + "y".repeat(300) + "-" + i);
            }
            for (int p = round; p < 20; p += 12) {
                append(s, TopicPartition.of("small", p), "s" + p);
            }
            s.flush();
        }
        long multiBefore = countKind(s, ObjectMeta.KIND_MULTI);
        assertThat(multiBefore).isEqualTo(12);
        s.maintenance.runNow(s.maintenance::runCompaction);
        assertThat(countKind(s, ObjectMeta.KIND_SEGMENT)).isGreaterThanOrEqualTo(1);
        assertThat(countKind(s, ObjectMeta.KIND_MULTI)).isLessThan(multiBefore);
        s.maintenance.runNow(s.maintenance::deleteUnreferenced);
        s.close();
        StoreEngine again = open();
        assertThat(readAll(again, big)).isEqualTo(expectedBig);
        for (int p = 0; p < 20; p++) {
            assertThat(readAll(again, TopicPartition.of("small", p))).containsExactly("s" + p);
        }
        assertThat(again.highWatermark(big)).isEqualTo(60);
    }

    private long countKind(StoreEngine s, int kind) {
        synchronized (s.catalog.lock()) {
            return s.catalog.state().objects().values().stream()
                    .filter(o -> o.kind() == kind && s.catalog.state().refCount(o.key()) > 0).count();
        }
    }

    @Test
    void unreferencedObjectsShouldSurviveTheGracePeriodThenBeDeleted() {
        StoreEngine s = open(Map.of(StoreConfig.OBJECT_DELETE_GRACE_MS, 10_000));
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        append(s, tp, "a");
        s.flush();
        s.deleteRecordsBefore(tp, 1);
        long before = dataObjects();
        s.maintenance.runNow(s.maintenance::deleteUnreferenced);
        assertThat(dataObjects()).isEqualTo(before);
        clock.advance(10_001);
        s.maintenance.runNow(s.maintenance::deleteUnreferenced);
        assertThat(dataObjects()).isEqualTo(before - 1);
    }

    @Test
    void anObjectWrittenButNeverCommittedShouldBeDeletedAsAnOrphanAfterTheGracePeriod() {
        StoreEngine s = open(Map.of(StoreConfig.OBJECT_DELETE_GRACE_MS, 5_000));
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        append(s, tp, "a");
        s.flush();
        // what a crash between PUT and commit leaves behind
        objects.put("data/00000000000000000001-99999999999999999999", Payload.of(new byte[] {1, 2, 3}), "t").join();
        s.maintenance.runNow(s.maintenance::deleteOrphans);
        assertThat(objects.keys()).contains("data/00000000000000000001-99999999999999999999");
        clock.advance(5_001);
        s.maintenance.runNow(s.maintenance::deleteOrphans);
        assertThat(objects.keys()).doesNotContain("data/00000000000000000001-99999999999999999999");
        assertThat(readAll(s, tp)).containsExactly("a");
    }

    @Test
    void aCrashBetweenPutAndCommitShouldReuploadFromTheWalWithoutDuplicates() {
        StoreEngine s = open();
        s.createTopic("t", 2);
        TopicPartition tp = TopicPartition.of("t", 0);
        append(s, tp, "a", "b");
        // the PUT lands but the manifest commit never happens: simulate by writing an object the
        // manifest does not know and crashing before any commit
        objects.put("data/00000000000000000001-00000000000000000077", Payload.of(new byte[16]), "x").join();
        s.crashForTesting();
        wal.crash();
        StoreEngine again = open();
        assertThat(readAll(again, tp)).containsExactly("a", "b");
        again.flush();
        again.close();
        StoreEngine third = open();
        assertThat(readAll(third, tp)).containsExactly("a", "b");
        assertThat(third.partition(tp).meta.ranges()).hasSize(1);
    }

    @Test
    void manifestSnapshotsShouldLetAReopenSkipOldDeltas() {
        StoreEngine s = open(Map.of(StoreConfig.MANIFEST_SNAPSHOT_DELTAS, 3, StoreConfig.OBJECT_DELETE_GRACE_MS, 1_000));
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        for (int i = 0; i < 10; i++) {
            append(s, tp, "v" + i);
            s.flush();
        }
        s.catalog.maintain();
        clock.advance(2_000);
        s.catalog.maintain();
        long deltas = objects.keys().stream().filter(k -> k.startsWith("manifest/deltas/")).count();
        assertThat(deltas).isLessThan(11);
        assertThat(objects.keys().stream().filter(k -> k.startsWith("manifest/snapshots/")).count())
                .isBetween(1L, 2L);
        s.close();
        StoreEngine again = open();
        assertThat(readAll(again, tp)).hasSize(10);
    }

    @Test
    void aCorruptedObjectShouldBeReportedAsCorruptStorageNotServed() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        append(s, tp, "important");
        s.flush();
        s.close();
        String key = objects.keys().stream().filter(k -> k.startsWith("data/")).findFirst().orElseThrow();
        byte[] bytes = objects.bytes(key);
        bytes[70] ^= 0x01; // inside the first batch's records
        objects.corrupt(key, bytes);
        StoreEngine again = open();
        assertKind(() -> again.read(tp, 0, 1000), ErrorKind.CORRUPT_STORAGE);
    }
}
