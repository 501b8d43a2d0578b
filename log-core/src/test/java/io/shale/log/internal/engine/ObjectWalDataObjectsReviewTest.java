package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.internal.manifest.PartitionMeta;
import io.shale.log.internal.manifest.RangeRef;
import io.shale.log.testing.SharedObjectStore;
import io.shale.log.wal.ObjectWriteAheadLog;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Review of RFC 0006 (object-WAL objects committed as data objects): ordinary operations on WAL
 * objects shared by several partitions or topics, restarts in between, GC after the grace period.
 */
class ObjectWalDataObjectsReviewTest extends EngineFixture {

    private static final long GRACE = 3_600_000; // QUIET's object.delete.grace.ms

    private StoreEngine openWal(boolean dataObjects) {
        // objects are sealed only when the test says so: one object holds what is appended between two seals
        ObjectWriteAheadLog owal = ObjectWriteAheadLog.builder().flushInterval(Duration.ofHours(1))
                .dataObjects(dataObjects).build();
        StoreEngine s = (StoreEngine) StoreEngine.open(new SharedObjectStore(objects), owal, clock,
                StoreConfig.of(QUIET));
        opened.add(s);
        return s;
    }

    /** Appends one record to each partition, all into one WAL object, and waits for their acknowledgement. */
    private static void appendShared(StoreEngine s, Map<TopicPartition, String> values) {
        List<CompletableFuture<?>> acks = new java.util.ArrayList<>();
        values.forEach((tp, v) -> acks.add(s.append(tp, List.of(rec("k", v)))));
        ((ObjectWriteAheadLog) s.wal).flush().join();
        acks.forEach(CompletableFuture::join);
    }

    private static Set<String> referenced(StoreEngine s) {
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

    private void gcAfterGrace(StoreEngine s) {
        clock.advance(GRACE + 1);
        s.maintenance.runNow(s.maintenance::runRetention);
        s.maintenance.runNow(s.maintenance::deleteUnreferenced);
    }

    private void assertReferencedExist(StoreEngine s) {
        assertThat(new HashSet<>(objects.keys())).as("objects the manifest references").containsAll(referenced(s));
    }

    @Test
    void deletingATopicSharingACommittedWalObjectShouldKeepTheOtherTopicAcrossRestartAndGc() {
        StoreEngine s = openWal(true);
        s.createTopic("doomed", 1);
        s.createTopic("kept", 1);
        TopicPartition d = TopicPartition.of("doomed", 0);
        TopicPartition k = TopicPartition.of("kept", 0);
        appendShared(s, Map.of(d, "d0", k, "k0"));
        s.flush();
        assertThat(referenced(s)).hasSize(1).allMatch(key -> key.startsWith("wal/"));
        s.deleteTopic("doomed");
        gcAfterGrace(s);
        assertReferencedExist(s);
        s.close();
        StoreEngine again = openWal(true);
        gcAfterGrace(again);
        assertReferencedExist(again);
        assertThat(readAll(again, k)).containsExactly("k0");
        again.close();
        StoreEngine reader = openReadOnly();
        assertThat(readAll(reader, k)).containsExactly("k0");
    }

    @Test
    void deletingATopicSharingAnUncommittedWalObjectShouldKeepTheOtherTopicAcrossCrashAndGc() {
        StoreEngine s = openWal(true);
        s.createTopic("doomed", 1);
        s.createTopic("kept", 1);
        TopicPartition d = TopicPartition.of("doomed", 0);
        TopicPartition k = TopicPartition.of("kept", 0);
        appendShared(s, Map.of(d, "d0", k, "k0")); // acknowledged, in a WAL object not committed yet
        s.deleteTopic("doomed");
        gcAfterGrace(s);
        s.crashForTesting();
        StoreEngine again = openWal(true);
        assertThat(readAll(again, k)).containsExactly("k0");
        again.flush();
        gcAfterGrace(again);
        assertReferencedExist(again);
        again.close();
        StoreEngine third = openWal(true);
        gcAfterGrace(third);
        assertReferencedExist(third);
        assertThat(readAll(third, k)).containsExactly("k0");
    }

    @Test
    void deletingATopicSharingAnUncommittedWalObjectThenCommittingShouldKeepTheOtherTopic() {
        StoreEngine s = openWal(true);
        s.createTopic("doomed", 1);
        s.createTopic("kept", 1);
        TopicPartition d = TopicPartition.of("doomed", 0);
        TopicPartition k = TopicPartition.of("kept", 0);
        appendShared(s, Map.of(d, "d0", k, "k0"));
        s.deleteTopic("doomed");
        s.flush(); // commits the object with kept's block only
        gcAfterGrace(s);
        appendShared(s, Map.of(k, "k1"));
        s.flush();
        gcAfterGrace(s);
        assertReferencedExist(s);
        s.close();
        StoreEngine again = openWal(true);
        gcAfterGrace(again);
        assertReferencedExist(again);
        assertThat(readAll(again, k)).containsExactly("k0", "k1");
    }

    @Test
    void retentionOfOnePartitionOfASharedObjectShouldKeepTheOthersAcrossRestart() {
        StoreEngine s = openWal(true);
        s.createTopic("t", 2);
        TopicPartition a = TopicPartition.of("t", 0);
        TopicPartition b = TopicPartition.of("t", 1);
        appendShared(s, Map.of(a, "a0", b, "b0"));
        s.flush();
        s.deleteRecordsBefore(a, 1);
        s.flush();
        gcAfterGrace(s);
        s.crashForTesting();
        StoreEngine again = openWal(true);
        gcAfterGrace(again);
        assertReferencedExist(again);
        assertThat(readAll(again, b)).containsExactly("b0");
        assertThat(readAll(again, a)).isEmpty();
    }

    @Test
    void aStoreWrittenWithDataObjectsShouldReopenWithoutThemAndBackLosingNothing() {
        StoreEngine s = openWal(true);
        s.createTopic("t", 2);
        TopicPartition a = TopicPartition.of("t", 0);
        TopicPartition b = TopicPartition.of("t", 1);
        appendShared(s, Map.of(a, "a0", b, "b0"));
        s.flush();
        appendShared(s, Map.of(a, "a1", b, "b1")); // only in the WAL
        s.crashForTesting();
        StoreEngine plain = openWal(false);
        assertThat(readAll(plain, a)).containsExactly("a0", "a1");
        appendShared(plain, Map.of(a, "a2", b, "b2"));
        plain.flush();
        gcAfterGrace(plain);
        appendShared(plain, Map.of(a, "a3", b, "b3")); // only in a version-1 WAL object
        plain.crashForTesting();
        StoreEngine again = openWal(true);
        gcAfterGrace(again);
        assertReferencedExist(again);
        assertThat(readAll(again, a)).containsExactly("a0", "a1", "a2", "a3");
        assertThat(readAll(again, b)).containsExactly("b0", "b1", "b2", "b3");
        again.close();
        StoreEngine plain2 = openWal(false);
        gcAfterGrace(plain2);
        plain2.close();
        StoreEngine reader = openReadOnly();
        assertThat(readAll(reader, a)).containsExactly("a0", "a1", "a2", "a3");
        assertThat(readAll(reader, b)).containsExactly("b0", "b1", "b2", "b3");
    }

    @Test
    void walObjectsUnderAPrefixInsideDataShouldStillBeKeptOnceCommitted() {
        // a WAL key prefix under "data/" (accepted by the builder): its committed objects must
        // survive the next open's trim like those under the default prefix
        java.util.function.Supplier<StoreEngine> openIt = () -> {
            ObjectWriteAheadLog owal = ObjectWriteAheadLog.builder().keyPrefix("data/wal/")
                    .flushInterval(Duration.ofHours(1)).dataObjects(true).build();
            StoreEngine s = (StoreEngine) StoreEngine.open(new SharedObjectStore(objects), owal, clock,
                    StoreConfig.of(QUIET));
            opened.add(s);
            return s;
        };
        StoreEngine s = openIt.get();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        appendShared(s, Map.of(tp, "v0"));
        s.flush();
        assertThat(referenced(s)).hasSize(1).allMatch(k -> k.startsWith("data/wal/"));
        s.close();
        StoreEngine again = openIt.get();
        appendShared(again, Map.of(tp, "v1"));
        again.flush();
        again.close();
        StoreEngine reader = openReadOnly();
        assertReferencedExist(reader);
        assertThat(readAll(reader, tp)).containsExactly("v0", "v1");
    }

    @Test
    void theOrphanScanShouldNeverDeleteAcknowledgedWalObjects() {
        // a WAL whose objects are named like uploads ("data/<epoch>-<n>"): acknowledged entries
        // waiting in them are not orphans
        for (boolean dataObjects : new boolean[] {false, true}) {
            java.util.function.Supplier<StoreEngine> openIt = () -> {
                ObjectWriteAheadLog owal = ObjectWriteAheadLog.builder().keyPrefix("data/")
                        .flushInterval(Duration.ofHours(1)).dataObjects(dataObjects).build();
                StoreEngine s = (StoreEngine) StoreEngine.open(new SharedObjectStore(objects), owal, clock,
                        StoreConfig.of(QUIET));
                opened.add(s);
                return s;
            };
            StoreEngine s;
            try {
                s = openIt.get();
            } catch (io.shale.log.ShaleException e) {
                assertThat(e.kind()).isEqualTo(io.shale.log.ErrorKind.INVALID_ARGUMENT);
                assertThat(e.getMessage()).contains("data/");
                continue; // refused before touching the store: fine
            }
            String topic = "t" + dataObjects;
            s.createTopic(topic, 1);
            TopicPartition tp = TopicPartition.of(topic, 0);
            appendShared(s, Map.of(tp, "v0")); // acknowledged, only in the WAL
            clock.advance(GRACE + 1);
            s.maintenance.runNow(s.maintenance::deleteOrphans);
            s.crashForTesting();
            StoreEngine again = openIt.get();
            assertThat(readAll(again, tp)).containsExactly("v0");
            again.close();
        }
    }

    @Test
    void rollingOnePartitionOutOfASharedWalObjectShouldKeepTheObjectForTheOtherAcrossGcAndRestart() {
        StoreEngine s = openWal(true);
        s.createTopic("fast", 1, Map.of(io.shale.log.TopicConfig.SEGMENT_MS, 1_000));
        s.createTopic("slow", 1);
        TopicPartition f = TopicPartition.of("fast", 0);
        TopicPartition w = TopicPartition.of("slow", 0);
        appendShared(s, Map.of(f, "f0", w, "w0"));
        s.flush();
        appendShared(s, Map.of(f, "f1", w, "w1"));
        s.flush();
        Set<String> walObjects = referenced(s);
        assertThat(walObjects).hasSize(2).allMatch(k -> k.startsWith("wal/"));
        clock.advance(2_000);
        s.maintenance.runNow(s.maintenance::runCompaction); // rolls "fast" into a segment only
        assertThat(referenced(s)).containsAll(walObjects).anyMatch(k -> k.startsWith("data/"));
        gcAfterGrace(s);
        assertThat(objects.keys()).containsAll(walObjects);
        s.crashForTesting();
        StoreEngine again = openWal(true);
        gcAfterGrace(again);
        assertReferencedExist(again);
        again.close();
        StoreEngine reader = openReadOnly();
        assertThat(readAll(reader, f)).containsExactly("f0", "f1");
        assertThat(readAll(reader, w)).containsExactly("w0", "w1");
    }

    @Test
    void aCrashBetweenTheCommitAndTheWalTrimShouldLoseNothingAndLeaveNothingUnreferencedForever() {
        java.util.concurrent.atomic.AtomicBoolean failWalDeletes = new java.util.concurrent.atomic.AtomicBoolean(true);
        class NoWalDeletes extends io.shale.log.spi.ForwardingObjectStore {
            NoWalDeletes() {
                super(new SharedObjectStore(objects));
            }

            @Override
            public CompletableFuture<io.shale.log.spi.DeleteResult> delete(java.util.Collection<String> keys) {
                if (failWalDeletes.get() && keys.stream().anyMatch(k -> k.startsWith("wal/"))) {
                    return CompletableFuture.failedFuture(new io.shale.log.spi.ObjectStoreException(
                            io.shale.log.spi.ObjectStoreException.Reason.PERMANENT, null, "test: deletes under wal/ fail"));
                }
                return super.delete(keys);
            }
        }
        java.util.function.Supplier<StoreEngine> openIt = () -> {
            ObjectWriteAheadLog owal = ObjectWriteAheadLog.builder().flushInterval(Duration.ofHours(1))
                    .dataObjects(true).build();
            StoreEngine s = (StoreEngine) StoreEngine.open(new NoWalDeletes(), owal, clock, StoreConfig.of(QUIET));
            opened.add(s);
            return s;
        };
        StoreEngine s = openIt.get();
        s.createTopic("t", 2);
        TopicPartition a = TopicPartition.of("t", 0);
        TopicPartition b = TopicPartition.of("t", 1);
        appendShared(s, Map.of(a, "a0", b, "b0"));
        s.flush(); // committed; the WAL's trim cannot delete anything
        appendShared(s, Map.of(a, "a1"));
        s.crashForTesting();
        StoreEngine again = openIt.get();
        assertThat(readAll(again, a)).containsExactly("a0", "a1");
        failWalDeletes.set(false);
        again.flush();
        again.deleteTopic("t");
        gcAfterGrace(again);
        again.close();
        StoreEngine third = openIt.get();
        gcAfterGrace(third);
        third.close();
        assertThat(objects.keys()).as("nothing of the deleted topic is left").noneMatch(k -> (k.startsWith("wal/") && !k.startsWith("wal/claims/"))
                || k.startsWith("data/"));
    }

    @Test
    void coldReadsThroughManyWalObjectsInSeveralThreadsShouldReturnEveryRecordInOrder() throws Exception {
        StoreEngine s = openWal(true);
        int partitions = 8;
        s.createTopic("t", partitions);
        java.util.Map<TopicPartition, List<String>> expected = new java.util.HashMap<>();
        for (int round = 0; round < 30; round++) {
            java.util.Map<TopicPartition, String> values = new java.util.HashMap<>();
            for (int p = 0; p < partitions; p++) {
                if ((round + p) % 3 == 0) {
                    continue; // not every partition in every object
                }
                TopicPartition tp = TopicPartition.of("t", p);
                String v = "r" + round + "p" + p + "x".repeat(500 + 37 * p);
                values.put(tp, v);
                expected.computeIfAbsent(tp, q -> new java.util.ArrayList<>()).add(v);
            }
            appendShared(s, values);
            if (round % 5 == 4) {
                s.flush();
            }
        }
        s.flush();
        assertThat(referenced(s)).allMatch(k -> k.startsWith("wal/"));
        s.close();
        for (long cache : new long[] {0, 16 << 10, 1 << 20}) {
            StoreEngine reader = (StoreEngine) StoreEngine.open(new SharedObjectStore(objects), null, clock,
                    StoreConfig.of(QUIET).with(StoreConfig.REFRESH_INTERVAL_MS, 3_600_000)
                            .with(StoreConfig.BLOCK_CACHE_BYTES, cache));
            opened.add(reader);
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            try {
                List<java.util.concurrent.Future<?>> fs = new java.util.ArrayList<>();
                for (int p = 0; p < partitions; p++) {
                    TopicPartition tp = TopicPartition.of("t", p);
                    fs.add(pool.submit(() -> {
                        // small fetches: a reader goes block by block and walks
                        List<String> got = new java.util.ArrayList<>();
                        long offset = reader.logStartOffset(tp);
                        while (offset < reader.highWatermark(tp)) {
                            io.shale.log.FetchResult f = reader.read(tp, offset, 1);
                            got.addAll(values(f));
                            offset = f.nextOffset();
                        }
                        assertThat(got).as("%s with block.cache.bytes=%d", tp, cache).isEqualTo(expected.get(tp));
                        return null;
                    }));
                }
                for (java.util.concurrent.Future<?> f : fs) {
                    f.get(60, java.util.concurrent.TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /**
     * Seeded random operations on two topics sharing WAL objects (appends, flushes, deleteRecords,
     * topic deletion and re-creation, compaction, GC after the grace period, crashes and clean
     * restarts, data objects switched on and off): every acknowledged record not deleted is read
     * back after every restart, and by a read-only reader at the end.
     */
    @Test
    void randomOperationsShouldNeverLoseAcknowledgedRecords() {
        long seed = Long.getLong("review.seed", 7L);
        for (long round = 0; round < Long.getLong("review.rounds", 12L); round++) {
            randomRun(seed * 1000 + round);
        }
    }

    private StoreEngine openWal(boolean dataObjects, Map<String, ?> settings) {
        ObjectWriteAheadLog owal = ObjectWriteAheadLog.builder().flushInterval(Duration.ofHours(1))
                .dataObjects(dataObjects).build();
        StoreEngine s = (StoreEngine) StoreEngine.open(new SharedObjectStore(objects), owal, clock,
                StoreConfig.of(QUIET).with(settings));
        opened.add(s);
        return s;
    }

    private void randomRun(long seed) {
        java.util.Random r = new java.util.Random(seed);
        Map<String, ?> cfg = Map.of(StoreConfig.COMPACTION_MAX_SMALL_OBJECTS, 2);
        String[] topics = {"a" + seed, "b" + seed};
        StoreEngine s = openWal(true, cfg);
        java.util.Map<TopicPartition, java.util.TreeMap<Long, String>> expected = new java.util.HashMap<>();
        for (String t : topics) {
            s.createTopic(t, 2);
            for (int p = 0; p < 2; p++) {
                expected.put(TopicPartition.of(t, p), new java.util.TreeMap<>());
            }
        }
        List<TopicPartition> tps = new java.util.ArrayList<>(expected.keySet());
        tps.sort(java.util.Comparator.comparing(TopicPartition::toString));
        int n = 0;
        for (int step = 0; step < 60; step++) {
            int op = r.nextInt(100);
            String what = "seed " + seed + " step " + step;
            if (op < 45) {
                List<CompletableFuture<io.shale.log.AppendResult>> acks = new java.util.ArrayList<>();
                List<TopicPartition> to = new java.util.ArrayList<>();
                List<String> vs = new java.util.ArrayList<>();
                for (TopicPartition tp : tps) {
                    if (r.nextInt(3) > 0) {
                        String v = "v" + (n++);
                        to.add(tp);
                        vs.add(v);
                        acks.add(s.append(tp, List.of(rec("k", v))));
                    }
                }
                ((ObjectWriteAheadLog) s.wal).flush().join();
                for (int i = 0; i < acks.size(); i++) {
                    expected.get(to.get(i)).put(acks.get(i).join().baseOffset(), vs.get(i));
                }
            } else if (op < 60) {
                s.flush();
            } else if (op < 67) {
                TopicPartition tp = tps.get(r.nextInt(tps.size()));
                long hw = s.highWatermark(tp);
                long start = s.logStartOffset(tp);
                if (hw > start) {
                    long to = start + 1 + r.nextInt((int) (hw - start));
                    s.deleteRecordsBefore(tp, to);
                    expected.get(tp).headMap(to).clear();
                }
            } else if (op < 72) {
                String t = topics[r.nextInt(2)];
                s.deleteTopic(t);
                s.createTopic(t, 2);
                for (int p = 0; p < 2; p++) {
                    expected.get(TopicPartition.of(t, p)).clear();
                }
            } else if (op < 80) {
                s.flush();
                s.maintenance.runNow(s.maintenance::runCompaction);
            } else if (op < 88) {
                clock.advance(GRACE + 1);
                s.maintenance.runNow(s.maintenance::runRetention);
                s.maintenance.runNow(s.maintenance::deleteUnreferenced);
                s.maintenance.runNow(s.maintenance::deleteOrphans);
            } else {
                StoreEngine zombie = null;
                if (op < 93) {
                    s.crashForTesting();
                    opened.remove(s);
                } else if (op < 96) {
                    zombie = s; // fenced by the next open while it still runs
                } else {
                    s.close();
                    opened.remove(s);
                }
                s = openWal(r.nextInt(4) > 0, cfg);
                if (zombie != null) {
                    StoreEngine z = zombie;
                    // the fenced writer goes on: appends, flushes, GC, close; none may harm the successor
                    // (its append lands after the successor's claim record: refused with FENCED, and
                    // never replayed by any later writer)
                    TopicPartition zt = tps.get(r.nextInt(tps.size()));
                    for (Runnable action : List.<Runnable>of(() -> {
                        CompletableFuture<io.shale.log.AppendResult> f = z.append(zt, List.of(rec("k", "zombie")));
                        ((ObjectWriteAheadLog) z.wal).flush().join();
                        f.join();
                        throw new AssertionError(what + ": a fenced writer acknowledged an append");
                    }, z::flush,
                            () -> z.maintenance.runNow(z.maintenance::runRetention),
                            () -> z.maintenance.runNow(z.maintenance::deleteUnreferenced),
                            () -> z.maintenance.runNow(z.maintenance::deleteOrphans))) {
                        try {
                            action.run();
                        } catch (RuntimeException fenced) {
                            // fenced
                        }
                    }
                    z.close();
                    opened.remove(z);
                }
                for (TopicPartition tp : tps) {
                    assertThat(readAll(s, tp)).as("%s: %s after a restart", what, tp)
                            .containsExactlyElementsOf(expected.get(tp).values());
                }
            }
        }
        s.close();
        opened.remove(s);
        StoreEngine reader = openReadOnly();
        for (TopicPartition tp : tps) {
            assertThat(readAll(reader, tp)).as("seed %d: %s, read-only at the end", seed, tp)
                    .containsExactlyElementsOf(expected.get(tp).values());
        }
        reader.close();
        opened.remove(reader);
    }

    @Test
    void aSecondOpenRefusedForItsWalPrefixShouldNotFenceTheLiveWriter() {
        StoreEngine live = openWal(true);
        live.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        appendShared(live, Map.of(tp, "v0"));
        for (String prefix : new String[] {"data/", "manifest/wal/"}) {
            ObjectWriteAheadLog owal = ObjectWriteAheadLog.builder().keyPrefix(prefix).dataObjects(true).build();
            assertKind(() -> StoreEngine.open(new SharedObjectStore(objects), owal, clock, StoreConfig.of(QUIET)),
                    io.shale.log.ErrorKind.INVALID_ARGUMENT);
        }
        appendShared(live, Map.of(tp, "v1"));
        live.flush(); // not fenced
        live.close();
        StoreEngine reader = openReadOnly();
        assertThat(readAll(reader, tp)).containsExactly("v0", "v1");
    }

    /**
     * Found by the review of RFC 0006 (both WAL formats): an append a fenced writer's WAL refused
     * with FENCED (its object landed after the successor listed the WAL) was replayed as data by
     * the writer after the successor if the successor never trimmed that object. The successor's
     * claim record now says which older objects it saw; the late one is never replayed, and the
     * third writer's trim deletes it once it has committed something.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "dataObjects={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void anAppendRefusedWithFencedShouldNotAppearAfterTheSuccessorRestarts(boolean dataObjects) {
        StoreEngine zombie = openWal(dataObjects);
        zombie.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        StoreEngine successor = openWal(dataObjects);
        CompletableFuture<io.shale.log.AppendResult> late = zombie.append(tp, List.of(rec("k", "late")));
        ((ObjectWriteAheadLog) zombie.wal).flush().handle((v, e) -> null).join();
        assertKind(late::join, io.shale.log.ErrorKind.FENCED);
        Set<String> lateObjects = new HashSet<>(objects.keys());
        lateObjects.removeIf(k -> !k.startsWith("wal/0"));
        assertThat(lateObjects).as("the fenced writer's late WAL object landed").hasSize(1);
        zombie.close();
        successor.crashForTesting();
        StoreEngine third = openWal(dataObjects);
        assertThat(readAll(third, tp)).as("the append was refused with FENCED").isEmpty();
        appendShared(third, Map.of(tp, "third"));
        third.flush();
        third.crashForTesting();
        StoreEngine fourth = openWal(dataObjects);
        assertThat(readAll(fourth, tp)).containsExactly("third");
        fourth.flush();
        assertThat(objects.keys()).as("the rejected object was trimmed").doesNotContainAnyElementsOf(lateObjects);
        assertThat(referenced(fourth)).doesNotContainAnyElementsOf(lateObjects);
    }
}
