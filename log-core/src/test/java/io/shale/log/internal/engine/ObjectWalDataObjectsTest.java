package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.AppendResult;
import io.shale.log.ErrorKind;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.internal.manifest.ObjectMeta;
import io.shale.log.internal.manifest.PartitionMeta;
import io.shale.log.internal.manifest.RangeRef;
import io.shale.log.testing.SharedObjectStore;
import io.shale.log.wal.ObjectWriteAheadLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The object WAL in the data-object layout (RFC 0006): its objects are committed to the manifest as
 * first-level data objects, so appended bytes are PUT once before compaction.
 */
class ObjectWalDataObjectsTest extends EngineFixture {

    private StoreEngine openDataWal(Map<String, ?> settings) {
        return openDataWal(settings, Duration.ofMillis(5));
    }

    private StoreEngine openDataWal(Map<String, ?> settings, Duration flushInterval) {
        ObjectWriteAheadLog owal = ObjectWriteAheadLog.builder().flushInterval(flushInterval).dataObjects(true)
                .build();
        StoreEngine s = (StoreEngine) StoreEngine.open(new SharedObjectStore(objects), owal, clock,
                StoreConfig.of(QUIET).with(settings));
        opened.add(s);
        return s;
    }

    private StoreEngine openDataWal() {
        return openDataWal(Map.of());
    }

    private long keysUnder(String prefix) {
        return objects.keys().stream().filter(k -> k.startsWith(prefix)).count();
    }

    private static Set<String> referencedObjects(StoreEngine s) {
        Set<String> keys = new HashSet<>();
        synchronized (s.catalog.lock()) {
            for (PartitionMeta p : s.catalog.state().partitions()) {
                for (RangeRef r : p.ranges()) {
                    keys.add(r.object().key());
                }
            }
        }
        return keys;
    }

    /** Every object some range of the manifest names exists in the store. */
    private void assertReferencedObjectsExist(StoreEngine s) {
        Set<String> present = new HashSet<>(objects.keys());
        assertThat(present).as("objects the manifest references").containsAll(referencedObjects(s));
    }

    private static List<String> values(int from, int to) {
        List<String> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add("v" + i);
        }
        return out;
    }

    @Test
    void walObjectsShouldBeCommittedAsDataObjectsWithoutUploadingTheBytesAgain() {
        StoreEngine s = openDataWal();
        s.createTopic("t", 3);
        for (int i = 0; i < 60; i++) {
            append(s, TopicPartition.of("t", i % 3), "v" + i);
        }
        long putsBefore = objects.puts.get();
        s.flush();
        assertThat(keysUnder("data/")).as("no data object is uploaded: the WAL objects are the data").isZero();
        Set<String> referenced = referencedObjects(s);
        assertThat(referenced).isNotEmpty().allMatch(k -> k.startsWith("wal/"));
        synchronized (s.catalog.lock()) {
            for (String k : referenced) {
                ObjectMeta o = s.catalog.state().objects().get(k);
                assertThat(o.size()).isEqualTo(objects.bytes(k).length);
            }
        }
        // the flush cost manifest PUTs only
        assertThat(objects.puts.get() - putsBefore).isLessThanOrEqualTo(2);
        assertThat(s.uploader.walObjectsCommitted.get()).isEqualTo(referenced.size());
        // reads from the object store (a reader with no cache) see every record
        StoreEngine reader = openReadOnly();
        for (int p = 0; p < 3; p++) {
            List<String> expected = new ArrayList<>();
            for (int i = p; i < 60; i += 3) {
                expected.add("v" + i);
            }
            assertThat(readAll(reader, TopicPartition.of("t", p))).isEqualTo(expected);
        }
    }

    @Test
    void committedWalObjectsShouldNeitherBeTrimmedNorReplayedAndShouldSurviveAReopen() {
        StoreEngine s = openDataWal();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        for (int i = 0; i < 20; i++) {
            append(s, tp, "v" + i);
        }
        s.flush();
        Set<String> referenced = referencedObjects(s);
        s.close(); // a clean close trims the WAL: it must keep the objects the manifest references
        assertThat(objects.keys()).containsAll(referenced);
        StoreEngine again = openDataWal();
        assertThat(readAll(again, tp)).isEqualTo(values(0, 20));
        append(again, tp, "v20");
        again.flush();
        again.close();
        StoreEngine third = openDataWal();
        assertReferencedObjectsExist(third);
        assertThat(readAll(third, tp)).isEqualTo(values(0, 21));
    }

    @Test
    void anUncleanRestartWithDataOnlyInWalObjectsShouldLoseNothingAcknowledged() {
        StoreEngine s = openDataWal();
        s.createTopic("t", 2);
        TopicPartition a = TopicPartition.of("t", 0);
        TopicPartition b = TopicPartition.of("t", 1);
        for (int i = 0; i < 10; i++) {
            append(s, a, "v" + i);
        }
        s.flush(); // some committed as data objects...
        List<CompletableFuture<AppendResult>> acks = new ArrayList<>();
        for (int i = 10; i < 30; i++) {
            acks.add(s.append(i % 2 == 0 ? a : b, List.of(rec("k", "v" + i))));
        }
        acks.forEach(CompletableFuture::join); // ...the rest acknowledged, only in WAL objects
        s.crashForTesting();
        StoreEngine elsewhere = openDataWal();
        List<String> expectA = values(0, 10);
        List<String> expectB = new ArrayList<>();
        for (int i = 10; i < 30; i++) {
            (i % 2 == 0 ? expectA : expectB).add("v" + i);
        }
        assertThat(readAll(elsewhere, a)).isEqualTo(expectA);
        assertThat(readAll(elsewhere, b)).isEqualTo(expectB);
        elsewhere.flush();
        assertReferencedObjectsExist(elsewhere);
        elsewhere.close();
        StoreEngine third = openDataWal();
        assertReferencedObjectsExist(third);
        assertThat(readAll(third, a)).isEqualTo(expectA);
        assertThat(readAll(third, b)).isEqualTo(expectB);
    }

    @Test
    void aFencedWriterHoldingUncommittedWalObjectsShouldNeverDeleteWhatTheNewWriterReferences() throws Exception {
        StoreEngine zombie = openDataWal();
        zombie.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        for (int i = 0; i < 10; i++) {
            append(zombie, tp, "v" + i);
        }
        zombie.flush(); // committed WAL objects, referenced by the manifest
        for (int i = 10; i < 20; i++) {
            append(zombie, tp, "v" + i); // acknowledged, in WAL objects not committed yet
        }
        StoreEngine successor = openDataWal();
        assertThat(readAll(successor, tp)).isEqualTo(values(0, 20));
        append(successor, tp, "v20");
        successor.flush();
        successor.close(); // commits and trims the successor's WAL
        // the zombie learns it is fenced only now; whatever it tries, it must not delete objects
        // the successor's manifest references
        assertKind(zombie::flush, ErrorKind.FENCED);
        zombie.maintenance.runNow(zombie.maintenance::deleteUnreferenced);
        zombie.close();
        StoreEngine third = openDataWal();
        assertReferencedObjectsExist(third);
        assertThat(readAll(third, tp)).isEqualTo(values(0, 21));
    }

    @Test
    void aFencedWriterClosingWithoutKnowingItShouldNotDeleteTheWalObjectsTheManifestReferences() {
        StoreEngine zombie = openDataWal();
        zombie.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        for (int i = 0; i < 10; i++) {
            append(zombie, tp, "v" + i);
        }
        zombie.flush();
        Set<String> committed = referencedObjects(zombie);
        StoreEngine successor = openDataWal(); // fences the zombie, which does not know yet
        assertThat(referencedObjects(successor)).isEqualTo(committed);
        zombie.close(); // nothing is waiting, so its close trims its WAL below everything it appended
        assertThat(objects.keys()).containsAll(committed);
        assertThat(readAll(successor, tp)).isEqualTo(values(0, 10));
    }

    @Test
    void theSuccessorsTrimShouldKeepWalObjectsAnOlderWriterCommitted() throws Exception {
        StoreEngine first = openDataWal();
        first.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        for (int i = 0; i < 10; i++) {
            append(first, tp, "v" + i);
        }
        first.flush();
        Set<String> committed = referencedObjects(first);
        first.crashForTesting(); // its WAL objects stay; the manifest references them
        StoreEngine second = openDataWal();
        append(second, tp, "v10");
        second.flush();
        ((ObjectWriteAheadLog) second.wal).trimAsync(second.wal.nextSequence()).join();
        assertThat(objects.keys()).containsAll(committed);
        StoreEngine reader = openReadOnly();
        assertThat(readAll(reader, tp)).isEqualTo(values(0, 11));
    }

    @Test
    void deletingRecordsShouldDeleteAWalObjectOnlyOnceNoPartitionReferencesIt() {
        // the WAL seals objects only when told: both partitions' appends of a round go into one object
        StoreEngine s = openDataWal(Map.of(StoreConfig.OBJECT_DELETE_GRACE_MS, 0), Duration.ofHours(1));
        s.createTopic("t", 2);
        TopicPartition a = TopicPartition.of("t", 0);
        TopicPartition b = TopicPartition.of("t", 1);
        CompletableFuture<?> a0 = s.append(a, List.of(rec("k", "a0")));
        CompletableFuture<?> b0 = s.append(b, List.of(rec("k", "b0")));
        ((ObjectWriteAheadLog) s.wal).flush().join();
        CompletableFuture.allOf(a0, b0).join();
        s.flush();
        Set<String> first = referencedObjects(s);
        assertThat(first).as("one WAL object holds both partitions' first records").hasSize(1);
        CompletableFuture<?> a1 = s.append(a, List.of(rec("k", "a1")));
        CompletableFuture<?> b1 = s.append(b, List.of(rec("k", "b1")));
        ((ObjectWriteAheadLog) s.wal).flush().join();
        CompletableFuture.allOf(a1, b1).join();
        s.flush();
        s.deleteRecordsBefore(a, 1); // a no longer needs the first objects; b still does
        s.flush();
        s.maintenance.runNow(s.maintenance::runRetention);
        s.maintenance.runNow(s.maintenance::deleteUnreferenced);
        assertThat(objects.keys()).as("still referenced by partition 1").containsAll(first);
        s.deleteRecordsBefore(b, 1);
        s.flush();
        s.maintenance.runNow(s.maintenance::runRetention);
        s.maintenance.runNow(s.maintenance::deleteUnreferenced);
        assertThat(objects.keys()).as("referenced by no range any more").doesNotContainAnyElementsOf(first);
        assertReferencedObjectsExist(s);
        StoreEngine reader = openReadOnly();
        assertThat(readAll(reader, a)).containsExactly("a1");
        assertThat(readAll(reader, b)).containsExactly("b1");
    }

    @Test
    void compactionShouldRewriteWalObjectsAndTheirDeletionWaitsUntilNothingReferencesThem() {
        StoreEngine s = openDataWal(Map.of(StoreConfig.COMPACTION_MAX_SMALL_OBJECTS, 2,
                StoreConfig.OBJECT_DELETE_GRACE_MS, 0));
        s.createTopic("t", 2);
        for (int round = 0; round < 4; round++) {
            for (int i = 0; i < 5; i++) {
                int n = round * 5 + i;
                append(s, TopicPartition.of("t", n % 2), "v" + n);
            }
            s.flush();
        }
        Set<String> walBacked = referencedObjects(s);
        assertThat(walBacked).hasSizeGreaterThan(2).allMatch(k -> k.startsWith("wal/"));
        s.maintenance.runNow(s.maintenance::runCompaction);
        Set<String> after = referencedObjects(s);
        assertThat(after).as("compaction replaced WAL-backed runs").isNotEqualTo(walBacked);
        s.maintenance.runNow(s.maintenance::deleteUnreferenced);
        for (String k : walBacked) {
            assertThat(objects.keys().contains(k)).as(k).isEqualTo(after.contains(k));
        }
        assertReferencedObjectsExist(s);
        StoreEngine reader = openReadOnly();
        List<String> even = new ArrayList<>();
        List<String> odd = new ArrayList<>();
        for (int n = 0; n < 20; n++) {
            (n % 2 == 0 ? even : odd).add("v" + n);
        }
        assertThat(readAll(reader, TopicPartition.of("t", 0))).isEqualTo(even);
        assertThat(readAll(reader, TopicPartition.of("t", 1))).isEqualTo(odd);
    }
}
