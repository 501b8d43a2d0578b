package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.FetchResult;
import io.shale.log.StoreConfig;
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
}
