package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.FetchResult;
import io.shale.log.StoreConfig;
import io.shale.log.TopicConfig;
import io.shale.log.internal.manifest.ObjectMeta;
import io.shale.log.TopicPartition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Cold catch-up reads from objects: GETs made and bytes fetched against bytes returned. The
 * in-memory store completes calls in order, so the counts are exact for a given sequence of reads.
 */
class ColdReadTest extends EngineFixture {
    private static final String PAD = "x".repeat(1000);

    /** The returned bytes and values of reading {@code tp} to its high watermark, {@code maxBytes} per read. */
    private static long readTo(StoreEngine s, TopicPartition tp, int maxBytes, List<String> into) {
        long bytes = 0;
        long offset = s.logStartOffset(tp);
        while (offset < s.highWatermark(tp)) {
            FetchResult f = s.read(tp, offset, maxBytes);
            bytes += f.sizeInBytes();
            into.addAll(values(f));
            offset = f.nextOffset();
        }
        return bytes;
    }

    @Test
    void aSequentialCatchUpLargerThanTheBlockCacheShouldFetchAtMostATenthMoreThanItReturns() {
        // The defaults' proportions scaled down: 4 KiB blocks, readahead 64 KiB, block cache 8 x that,
        // 4 MiB of data in 16 objects: the cache fills a few times over.
        Map<String, Object> cfg = Map.of(StoreConfig.OBJECT_BLOCK_BYTES, 4096,
                StoreConfig.READAHEAD_MAX_BYTES, 64 * 1024, StoreConfig.BLOCK_CACHE_BYTES, 512 * 1024);
        StoreEngine s = open(cfg);
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        List<String> expected = new ArrayList<>();
        for (int object = 0; object < 16; object++) {
            for (int i = 0; i < 256; i++) {
                String v = "o" + object + "-" + i + "-" + PAD;
                append(s, tp, v);
                expected.add(v);
            }
            s.flush();
        }
        s.close();

        StoreEngine cold = open(cfg);
        long gets = cold.remote.gets.get();
        long fetched = cold.remote.bytesFetched.get();
        List<String> got = new ArrayList<>();
        long returned = readTo(cold, tp, 8192, got);
        gets = cold.remote.gets.get() - gets;
        fetched = cold.remote.bytesFetched.get() - fetched;

        assertThat(got).isEqualTo(expected);
        assertThat((double) fetched / returned).as("bytes fetched / bytes returned").isLessThanOrEqualTo(1.1);
        // ~4.4 MB in 64 KiB windows: 68 GETs of data, one index per object, a few while the window grows
        assertThat(gets).isLessThanOrEqualTo(4_500_000 / (64 * 1024) + 16 + 16);
    }

    /**
     * A consumer catching up on many partitions, a little of each per read and round robin (as a
     * Kafka fetch of many partitions does), over upload objects that each hold a run of every
     * partition.
     */
    @Test
    void aConsumerCatchingUpOnManyPartitionsShouldReadEachObjectWithAFewGetsNotOnePerPartition() {
        int partitions = 100;
        int objects = 8;
        StoreEngine s = open();
        s.createTopic("many", partitions);
        Map<Integer, List<String>> expected = new HashMap<>();
        for (int object = 0; object < objects; object++) {
            for (int p = 0; p < partitions; p++) {
                for (int i = 0; i < 4; i++) {
                    String v = "p" + p + "-o" + object + "-" + i + "-" + PAD;
                    append(s, TopicPartition.of("many", p), v);
                    expected.computeIfAbsent(p, k -> new ArrayList<>()).add(v);
                }
            }
            s.flush();
        }
        s.close();

        StoreEngine cold = open();
        long gets = cold.remote.gets.get();
        long fetched = cold.remote.bytesFetched.get();
        long returned = 0;
        Map<Integer, List<String>> got = new HashMap<>();
        long[] next = new long[partitions];
        boolean more = true;
        while (more) {
            more = false;
            for (int p = 0; p < partitions; p++) {
                TopicPartition tp = TopicPartition.of("many", p);
                if (next[p] >= cold.highWatermark(tp)) {
                    continue;
                }
                FetchResult f = cold.read(tp, next[p], 2048); // about two of the four batches in each object
                returned += f.sizeInBytes();
                got.computeIfAbsent(p, k -> new ArrayList<>()).addAll(values(f));
                next[p] = f.nextOffset();
                more = true;
            }
        }
        gets = cold.remote.gets.get() - gets;
        fetched = cold.remote.bytesFetched.get() - fetched;

        assertThat(got).isEqualTo(expected);
        // Before: one GET per partition per object (800). Now the first object costs a GET per
        // doubling of the partitions fetched at once (readers have no position yet) and its index,
        // every later object one GET (the other readers are positioned in it).
        assertThat(gets).isLessThanOrEqualTo(2L * objects + 10);
        assertThat((double) fetched / returned).as("bytes fetched / bytes returned").isLessThanOrEqualTo(1.1);
    }

    /** Readers that take the partitions one after another, each to its end (as the measurement tools do). */
    @Test
    void readingManyPartitionsOneAfterAnotherShouldNotCostAGetPerPartitionPerObject() {
        int partitions = 100;
        int objects = 8;
        StoreEngine s = open();
        s.createTopic("many", partitions);
        Map<Integer, List<String>> expected = new HashMap<>();
        for (int object = 0; object < objects; object++) {
            for (int p = 0; p < partitions; p++) {
                for (int i = 0; i < 2 + (p * 7 + object) % 5; i++) { // runs of unequal sizes
                    String v = "p" + p + "-o" + object + "-" + i + "-" + PAD;
                    append(s, TopicPartition.of("many", p), v);
                    expected.computeIfAbsent(p, k -> new ArrayList<>()).add(v);
                }
            }
            s.flush();
        }
        s.close();

        StoreEngine cold = open();
        long gets = cold.remote.gets.get();
        long fetched = cold.remote.bytesFetched.get();
        long returned = 0;
        for (int p = 0; p < partitions; p++) {
            List<String> got = new ArrayList<>();
            returned += readTo(cold, TopicPartition.of("many", p), 1 << 20, got);
            assertThat(got).isEqualTo(expected.get(p));
        }
        gets = cold.remote.gets.get() - gets;
        fetched = cold.remote.bytesFetched.get() - fetched;

        // Before: one GET per partition per object (800). Now, in each object, each reader that
        // continues where the previous partition's fetch ended fetches twice as many partitions:
        // log2(100) + 1 GETs per object, and its index.
        assertThat(gets).isLessThanOrEqualTo(objects * (8L + 1));
        assertThat((double) fetched / returned).as("bytes fetched / bytes returned").isLessThanOrEqualTo(1.1);
    }

    /** Four threads sharing fetches (and waiting for each other's): every partition reads back exactly what was appended. */
    @Test
    void concurrentReadersOfManyPartitionsShouldEachGetExactlyTheirRecords() throws Exception {
        int partitions = 100;
        StoreEngine s = open(Map.of(StoreConfig.OBJECT_BLOCK_BYTES, 4096));
        s.createTopic("many", partitions);
        Map<Integer, List<String>> expected = new HashMap<>();
        for (int object = 0; object < 8; object++) {
            for (int p = 0; p < partitions; p++) {
                for (int i = 0; i < 2 + (p * 7 + object) % 5; i++) {
                    String v = "p" + p + "-o" + object + "-" + i + "-" + PAD;
                    append(s, TopicPartition.of("many", p), v);
                    expected.computeIfAbsent(p, k -> new ArrayList<>()).add(v);
                }
            }
            s.flush();
        }
        s.close();

        StoreEngine cold = openReadOnly();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Map<Integer, List<String>>>> parts = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int first = t;
                parts.add(pool.submit(() -> {
                    Map<Integer, List<String>> got = new HashMap<>();
                    for (int p = first; p < partitions; p += 4) {
                        List<String> values = new ArrayList<>();
                        readTo(cold, TopicPartition.of("many", p), 3000, values);
                        got.put(p, values);
                    }
                    return got;
                }));
            }
            Map<Integer, List<String>> got = new HashMap<>();
            for (Future<Map<Integer, List<String>>> f : parts) {
                got.putAll(f.get(60, TimeUnit.SECONDS));
            }
            assertThat(got).isEqualTo(expected);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void readersOfEveryTenthPartitionShouldNotFetchThePartitionsBetweenThem() {
        int partitions = 100;
        StoreEngine s = open();
        s.createTopic("many", partitions);
        Map<Integer, List<String>> expected = new HashMap<>();
        for (int object = 0; object < 4; object++) {
            for (int p = 0; p < partitions; p++) {
                for (int i = 0; i < 4; i++) {
                    String v = "p" + p + "-o" + object + "-" + i + "-" + PAD;
                    append(s, TopicPartition.of("many", p), v);
                    expected.computeIfAbsent(p, k -> new ArrayList<>()).add(v);
                }
            }
            s.flush();
        }
        s.close();

        StoreEngine cold = open();
        long fetched = cold.remote.bytesFetched.get();
        long returned = 0;
        long[] next = new long[partitions];
        boolean more = true;
        Map<Integer, List<String>> got = new HashMap<>();
        while (more) {
            more = false;
            for (int p = 0; p < partitions; p += 10) {
                TopicPartition tp = TopicPartition.of("many", p);
                if (next[p] >= cold.highWatermark(tp)) {
                    continue;
                }
                FetchResult f = cold.read(tp, next[p], 2048);
                returned += f.sizeInBytes();
                got.computeIfAbsent(p, k -> new ArrayList<>()).addAll(values(f));
                next[p] = f.nextOffset();
                more = true;
            }
        }
        fetched = cold.remote.bytesFetched.get() - fetched;
        for (int p = 0; p < partitions; p += 10) {
            assertThat(got.get(p)).isEqualTo(expected.get(p));
        }
        assertThat((double) fetched / returned).as("bytes fetched / bytes returned").isLessThanOrEqualTo(1.1);
    }

    /**
     * The layout uploads of a round robin over many partitions leave (the measurement tools' 10,000
     * partitions, scaled down): each partition has two runs of one batch, the first in one of two
     * objects holding partitions 0-127 and 128-255, the second in one of two more; every object is
     * several readahead windows long.
     */
    private static Map<Integer, List<String>> writeTwoRunsPerPartition(StoreEngine s, int partitions) {
        s.createTopic("many", partitions);
        Map<Integer, List<String>> expected = new HashMap<>();
        for (int run = 0; run < 2; run++) {
            for (int half = 0; half < 2; half++) {
                for (int p = half * partitions / 2; p < (half + 1) * partitions / 2; p++) {
                    String a = "p" + p + "-r" + run + "-a-" + PAD;
                    String b = "p" + p + "-r" + run + "-b-" + PAD;
                    append(s, TopicPartition.of("many", p), a, b); // one batch of two records
                    expected.computeIfAbsent(p, k -> new ArrayList<>()).addAll(List.of(a, b));
                }
                s.flush();
            }
        }
        return expected;
    }

    /** Readahead window 16 KiB (8 partitions' runs), block cache 1 MiB (more than all the data). */
    private static final Map<String, Object> SMALL_WINDOW = Map.of(StoreConfig.READAHEAD_MAX_BYTES, 16 * 1024,
            StoreConfig.BLOCK_CACHE_BYTES, 1 << 20);

    /**
     * Four readers taking the partitions in turn (reader k: partitions k, k+4, ...) and out of step
     * (each reads three partitions before the next one moves), as the measurement tools' reader
     * threads do: before, a GET per partition per object for most runs (each reader alone covers a
     * quarter of what lies before its run; a span fetched before the window was not counted; the
     * runs just behind a walk were fetched one by one; every object's walk started from one run).
     */
    @Test
    void readersTakingPartitionsInTurnOutOfStepShouldReadEachObjectWithAFewGets() {
        int partitions = 256;
        Map<Integer, List<String>> expected = writeTwoRunsPerPartition(open(SMALL_WINDOW), partitions);

        StoreEngine cold = open(SMALL_WINDOW);
        long gets = cold.remote.gets.get();
        long fetched = cold.remote.bytesFetched.get();
        long returned = 0;
        Map<Integer, List<String>> got = new HashMap<>();
        int[] next = {0, 1, 2, 3};
        boolean more = true;
        while (more) {
            more = false;
            for (int reader = 0; reader < 4; reader++) {
                for (int burst = 0; burst < 3 && next[reader] < partitions; burst++) {
                    int p = next[reader];
                    List<String> values = new ArrayList<>();
                    returned += readTo(cold, TopicPartition.of("many", p), 1 << 20, values);
                    assertThat(got.put(p, values)).isNull();
                    next[reader] += 4;
                    more = true;
                }
            }
        }
        gets = cold.remote.gets.get() - gets;
        fetched = cold.remote.bytesFetched.get() - fetched;

        assertThat(got).isEqualTo(expected);
        // 4 objects of 128 runs (about 2.1 KiB each, 16 windows per object): 16 GETs of a full
        // window and an index per object at best (68); 86 now, 302 before.
        assertThat(gets).isLessThanOrEqualTo(4 * (16 + 1) + 32);
        assertThat((double) fetched / returned).as("bytes fetched / bytes returned").isLessThanOrEqualTo(1.1);
    }

    /** A reader of one partition in eight, in the same layout: walks start from no sample. */
    @Test
    void aReaderOfASampleOfPartitionsShouldFetchOnlyItsOwnRuns() {
        int partitions = 256;
        Map<Integer, List<String>> expected = writeTwoRunsPerPartition(open(SMALL_WINDOW), partitions);

        StoreEngine cold = open(SMALL_WINDOW);
        long gets = cold.remote.gets.get();
        long fetched = cold.remote.bytesFetched.get();
        long returned = 0;
        for (int p = 0; p < partitions; p += 8) {
            List<String> values = new ArrayList<>();
            returned += readTo(cold, TopicPartition.of("many", p), 1 << 20, values);
            assertThat(values).isEqualTo(expected.get(p));
        }
        gets = cold.remote.gets.get() - gets;
        fetched = cold.remote.bytesFetched.get() - fetched;

        // 32 partitions of two single-block runs: a GET per run, nothing more.
        assertThat(gets).isEqualTo(64);
        assertThat((double) fetched / returned).as("bytes fetched / bytes returned").isLessThanOrEqualTo(1.1);
    }

    /**
     * Readers walking the partitions while compaction rolls every partition's runs into segments
     * and the objects they were reading are deleted: every record is read once, in order.
     */
    @Test
    void readersWalkingPartitionsShouldReadEveryRecordOnceAcrossSegmentRollsUnderneath() {
        int partitions = 256;
        Map<String, Object> cfg = new HashMap<>(SMALL_WINDOW);
        cfg.put(StoreConfig.OBJECT_DELETE_GRACE_MS, 0);
        StoreEngine s = open(cfg);
        s.createTopic("rolled", partitions, Map.of(TopicConfig.SEGMENT_MS, 1));
        Map<Integer, List<String>> expected = new HashMap<>();
        for (int run = 0; run < 3; run++) {
            for (int p = 0; p < partitions; p++) {
                String a = "p" + p + "-r" + run + "-a-" + PAD;
                String b = "p" + p + "-r" + run + "-b-" + PAD;
                append(s, TopicPartition.of("rolled", p), a, b);
                expected.computeIfAbsent(p, k -> new ArrayList<>()).addAll(List.of(a, b));
            }
            s.flush();
        }
        StoreEngine cold = openReadOnly();
        long[] next = new long[partitions];
        Map<Integer, List<String>> got = new HashMap<>();
        // Partition after partition: the first half to their end, the rest one batch each (a walk
        // through the first object, every reader positioned in the second).
        for (int p = 0; p < partitions; p++) {
            TopicPartition tp = TopicPartition.of("rolled", p);
            do {
                FetchResult f = cold.read(tp, next[p], 1);
                got.computeIfAbsent(p, k -> new ArrayList<>()).addAll(values(f));
                next[p] = f.nextOffset();
            } while (p < partitions / 2 && next[p] < cold.highWatermark(tp));
        }
        List<String> uploaded = objects.keys().stream().filter(k -> k.startsWith("data/")).toList();
        assertThat(uploaded).hasSize(3);
        clock.advance(10);
        s.maintenance.runNow(s.maintenance::runCompaction);
        s.maintenance.runNow(s.maintenance::deleteUnreferenced);
        synchronized (s.catalog.lock()) {
            assertThat(s.catalog.state().objects().values()).allMatch(ObjectMeta::isSegment);
        }
        assertThat(objects.keys()).as("the upload objects were deleted").doesNotContainAnyElementsOf(uploaded);
        cold.maintenance.runNow(cold.maintenance::refresh);
        for (int p = 0; p < partitions; p++) {
            TopicPartition tp = TopicPartition.of("rolled", p);
            while (next[p] < cold.highWatermark(tp)) {
                FetchResult f = cold.read(tp, next[p], 1);
                got.computeIfAbsent(p, k -> new ArrayList<>()).addAll(values(f));
                next[p] = f.nextOffset();
            }
        }
        assertThat(got).isEqualTo(expected);
    }

    /**
     * Readers taking partitions one after another, each to its end, over many objects that each hold
     * a run of every partition, with a block cache of a quarter of the data: a walk through one object
     * brings the next partitions' runs, read only once the current partition is done in every
     * object. Unless walks are held to half of the block cache ahead of their readers, they fetch so
     * far ahead that the cache evicts runs before their readers come, and those are fetched again.
     */
    @Test
    void walksShouldNotFetchFurtherAheadThanTheBlockCacheKeepsUntilRead() {
        int partitions = 16;
        int objects = 32;
        Map<String, Object> cfg = Map.of(StoreConfig.READAHEAD_MAX_BYTES, 16 * 1024,
                StoreConfig.BLOCK_CACHE_BYTES, 256 * 1024);
        StoreEngine s = open(cfg);
        s.createTopic("many", partitions);
        Map<Integer, List<String>> expected = new HashMap<>();
        for (int object = 0; object < objects; object++) {
            for (int p = 0; p < partitions; p++) {
                for (int i = 0; i < 2; i++) {
                    String v = "p" + p + "-o" + object + "-" + i + "-" + PAD;
                    append(s, TopicPartition.of("many", p), v);
                    expected.computeIfAbsent(p, k -> new ArrayList<>()).add(v);
                }
            }
            s.flush();
        }
        s.close();

        StoreEngine cold = open(cfg);
        long fetched = cold.remote.bytesFetched.get();
        long returned = 0;
        for (int p = 0; p < partitions; p++) {
            List<String> got = new ArrayList<>();
            returned += readTo(cold, TopicPartition.of("many", p), 1 << 20, got);
            assertThat(got).isEqualTo(expected.get(p));
        }
        fetched = cold.remote.bytesFetched.get() - fetched;
        // 1.21 now; 3.74 with walks not held back (1.34 with a block's first use counting as a use in
        // the cache's order). The measured workloads keep at most 1.1 with a cache of half their data.
        assertThat((double) fetched / returned).as("bytes fetched / bytes returned").isLessThanOrEqualTo(1.25);
    }
}
