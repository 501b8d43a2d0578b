package io.shale.metrics.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shale.log.AppendResult;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.record.Record;
import io.shale.log.record.RecordBatch;
import io.shale.log.record.SimpleRecord;
import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ForwardingObjectStore;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.Payload;
import io.shale.storage.local.LocalStorage;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import io.shale.storage.local.wal.FileWriteAheadLog;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A workload against a real local store (file WAL, local-directory object store) with a
 * {@link PrometheusMeterRegistry}: the scraped text must agree with the workload (records and bytes
 * appended and read) and with what a counting object store in front of the real one saw.
 */
class PrometheusScrapeTest {
    /** Nothing in the background while the test compares counts: no timed uploads, lease checks or maintenance. */
    private static final Map<String, Object> QUIET = Map.of(
            StoreConfig.UPLOAD_INTERVAL_MS, 3_600_000,
            StoreConfig.WRITER_LEASE_MS, 3_600_000,
            StoreConfig.RETENTION_CHECK_INTERVAL_MS, 3_600_000,
            StoreConfig.COMPACTION_INTERVAL_MS, 3_600_000,
            StoreConfig.ORPHAN_SCAN_INTERVAL_MS, 3_600_000,
            StoreConfig.OBJECT_DELETE_GRACE_MS, 3_600_000,
            StoreConfig.REFRESH_INTERVAL_MS, 3_600_000);

    private static final Map<String, Integer> TOPICS = new TreeMap<>(Map.of("orders", 3, "payments", 2, "audit", 1));

    @TempDir
    Path dir;

    /** Counts each call by kind (at the call, before the real store runs it), and the bytes PUT. */
    static final class CountingStore extends ForwardingObjectStore {
        final Map<String, AtomicLong> calls = new ConcurrentHashMap<>();
        final AtomicLong putBytes = new AtomicLong();
        final AtomicLong dataGets = new AtomicLong();
        final AtomicLong dataPuts = new AtomicLong();

        CountingStore(ObjectStore delegate) {
            super(delegate);
        }

        private void count(String kind) {
            calls.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
        }

        Map<String, Long> snapshot() {
            Map<String, Long> m = new TreeMap<>();
            calls.forEach((k, v) -> m.put(k, v.get()));
            m.put("putBytes", putBytes.get());
            return m;
        }

        long count(String kind, boolean unused) {
            AtomicLong v = calls.get(kind);
            return v == null ? 0 : v.get();
        }

        @Override
        public CompletableFuture<Void> put(String key, Payload payload, String token) {
            count("put");
            putBytes.addAndGet(payload.length());
            if (key.startsWith("data/")) {
                dataPuts.incrementAndGet();
            }
            return super.put(key, payload, token);
        }

        @Override
        public CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) {
            count("put_if_absent");
            putBytes.addAndGet(payload.length());
            return super.putIfAbsent(key, payload, token);
        }

        @Override
        public CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
            count("get");
            if (key.startsWith("data/")) {
                dataGets.incrementAndGet();
            }
            return super.get(key, offset, length);
        }

        @Override
        public CompletableFuture<Optional<ObjectInfo>> head(String key) {
            count("head");
            return super.head(key);
        }

        @Override
        public CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys) {
            count("list");
            return super.list(prefix, startAfter, maxKeys);
        }

        @Override
        public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
            count("delete");
            return super.delete(keys);
        }
    }

    /** What the test itself knows about the workload, per topic. */
    static final class Expected {
        long records;
        long appendCalls;
        long bytesReadBack;
        long recordsReadBack;
    }

    @Test
    void scrapeShouldAgreeWithTheWorkloadAndWithACountingObjectStore() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        CountingStore counting = new CountingStore(LocalDirectoryObjectStore.open(dir.resolve("objects")));
        Map<String, Map<TopicPartition, Long>> committed = new ConcurrentHashMap<>();
        MicrometerStoreMetrics metrics = MicrometerStoreMetrics.builder(registry)
                .tags("store", "test")
                .committedOffsets(() -> committed, Duration.ofHours(1)) // refreshed by hand below
                .build();
        Map<String, Expected> expected = new TreeMap<>();
        int n = 0;
        try (LogStore store = LogStore.builder()
                .objectStore(counting)
                .wal(FileWriteAheadLog.builder(dir.resolve("wal")).build())
                .config(QUIET)
                .metrics(metrics)
                .open()) {
            TOPICS.forEach((t, p) -> store.createTopic(t, p, Map.of()));

            // 600 append calls of 1..4 records, values of 10..200 bytes, spread over the topics' partitions
            List<CompletableFuture<AppendResult>> acks = new ArrayList<>();
            List<String> names = new ArrayList<>(TOPICS.keySet());
            for (int call = 0; call < 600; call++) {
                String topic = names.get(call % names.size());
                TopicPartition tp = TopicPartition.of(topic, (call / names.size()) % TOPICS.get(topic));
                int count = 1 + call % 4;
                List<SimpleRecord> records = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    records.add(SimpleRecord.of("key-" + n, "v".repeat(10 + (n * 37) % 191)));
                    n++;
                }
                acks.add(store.append(tp, records));
                Expected e = expected.computeIfAbsent(topic, k -> new Expected());
                e.records += count;
                e.appendCalls++;
            }
            CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).join();

            // read everything back once, from the log cache; the test's own count of batches and bytes
            for (Map.Entry<String, Integer> t : TOPICS.entrySet()) {
                for (int p = 0; p < t.getValue(); p++) {
                    TopicPartition tp = TopicPartition.of(t.getKey(), p);
                    long offset = 0;
                    while (offset < store.highWatermark(tp)) {
                        FetchResult f = store.read(tp, offset, 4096);
                        for (RecordBatch b : f.batches()) {
                            expected.get(t.getKey()).bytesReadBack += b.sizeInBytes();
                            expected.get(t.getKey()).recordsReadBack += b.recordCount();
                            for (Record r : b) {
                                assertThat(StandardCharsets.UTF_8.decode(r.key()).toString()).startsWith("key-");
                            }
                        }
                        offset = f.nextOffset();
                    }
                }
            }
            PrometheusText before = new PrometheusText(registry.scrape());
            assertThat(before.sum("shale_upload_lag_records", "store", "test")).isEqualTo(n);
            assertThat(before.sum("shale_upload_lag_bytes", "store", "test")).isPositive();
            store.flush(); // uploads everything: one data object at least

            committed.put("billing", Map.of(TopicPartition.of("orders", 0), 2L, TopicPartition.of("orders", 1), 0L));
            metrics.refreshConsumerLag();

            Map<String, Long> seen;
            PrometheusText text;
            int tries = 0;
            do { // wait for any request still completing (none expected: everything background is off)
                if (tries++ > 0) {
                    Thread.sleep(20);
                }
                seen = counting.snapshot();
                text = new PrometheusText(registry.scrape());
            } while ((!seen.equals(counting.snapshot()) || !requestsAgree(text, seen)) && tries < 500);

            // ---- records and bytes in and out, per topic and in total
            assertThat(text.sum("shale_append_records_total")).isEqualTo(n);
            assertThat(text.sum("shale_read_records_total")).isEqualTo(n);
            long allBytes = 0;
            for (Map.Entry<String, Expected> e : expected.entrySet()) {
                String topic = e.getKey();
                Expected x = e.getValue();
                assertThat(x.recordsReadBack).isEqualTo(x.records);
                assertThat(text.sum("shale_append_records_total", "topic", topic)).isEqualTo(x.records);
                assertThat(text.sum("shale_append_bytes_total", "topic", topic)).isEqualTo(x.bytesReadBack);
                assertThat(text.sum("shale_read_records_total", "topic", topic)).isEqualTo(x.records);
                assertThat(text.sum("shale_read_bytes_total", "topic", topic)).isEqualTo(x.bytesReadBack);
                // per-topic size from the manifest: every batch was uploaded once
                assertThat(text.sum("shale_topic_size_bytes", "topic", topic)).isEqualTo(x.bytesReadBack);
                allBytes += x.bytesReadBack;
            }
            assertThat(text.sum("shale_append_latency_seconds_count")).isEqualTo(600);
            assertThat(text.find("shale_append_latency_seconds_bucket")).isNotEmpty();

            // ---- the WAL: every acknowledged byte went through an fdatasync
            assertThat(text.sum("shale_wal_sync_seconds_count")).isBetween(1.0, 600.0);
            assertThat(text.sum("shale_wal_sync_bytes_total")).isGreaterThanOrEqualTo(allBytes);
            assertThat(text.sum("shale_wal_size_bytes")).isPositive();

            // ---- the object store: exactly the requests the counting store saw, by kind
            assertThat(requestsAgree(text, seen)).as("requests by kind: metrics\n%s\ncounting store %s",
                    text.find("shale_objectstore_requests_seconds_count"), seen).isTrue();
            assertThat(counting.dataPuts.get()).isPositive();
            assertThat(text.sum("shale_objectstore_requests_seconds_count", "kind", "put", "outcome", "ok"))
                    .isEqualTo((double) seen.get("put"));
            assertThat(text.sum("shale_objectstore_bytes_total", "kind", "put")
                    + text.sumOrZero("shale_objectstore_bytes_total", "kind", "put_if_absent"))
                    .isEqualTo((double) seen.get("putBytes"));
            assertThat(text.find("shale_objectstore_requests_seconds_bucket", "kind", "put")).isNotEmpty();

            // ---- caches: every read was served by the log cache
            assertThat(text.sum("shale_logcache_lookups_total", "result", "hit")).isPositive();
            assertThat(text.sum("shale_logcache_lookups_total", "result", "miss")).isZero();
            assertThat(text.sum("shale_logcache_hit_ratio")).isEqualTo(1.0);
            assertThat(text.sum("shale_blockcache_lookups_total", "result", "hit")
                    + text.sum("shale_blockcache_lookups_total", "result", "miss")).isZero();

            // ---- upload lag is gone after the flush
            assertThat(text.sum("shale_upload_lag_bytes")).isZero();
            assertThat(text.sum("shale_upload_lag_records")).isZero();
            assertThat(text.sum("shale_upload_lag_age_seconds")).isZero();

            // ---- consumer lag from the committed offsets given
            long hw0 = store.highWatermark(TopicPartition.of("orders", 0));
            long hw1 = store.highWatermark(TopicPartition.of("orders", 1));
            assertThat(hw0).isGreaterThan(2);
            assertThat(text.sum("shale_consumer_lag_records", "group", "billing", "topic", "orders"))
                    .isEqualTo(hw0 - 2 + hw1);

            // ---- every meter carries the common tag
            assertThat(text.samples).allSatisfy(s -> assertThat(s.labels()).containsEntry("store", "test"));
        }
        // closing the store removed its meters
        assertThat(new PrometheusText(registry.scrape()).find("shale_append_records_total")).isEmpty();
    }

    @Test
    void aReadOnlyStoreShouldCountBlockCacheMissesAsTheGetsItMade() {
        int records = 0;
        // default 1 MiB blocks: each partition's run is one block, so no GET reads an object's index
        try (LogStore writer = LocalStorage.builder(dir).config(QUIET).open()) {
            writer.createTopic("events", 2, Map.of());
            for (int i = 0; i < 200; i++) {
                writer.append(TopicPartition.of("events", i % 2), List.of(SimpleRecord.of("k" + i, "x".repeat(300)))).join();
                records++;
            }
            writer.flush();
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        CountingStore counting = new CountingStore(LocalDirectoryObjectStore.open(dir.resolve("objects")));
        try (LogStore reader = LogStore.builder().objectStore(counting).readOnly(true).config(QUIET)
                .metrics(MicrometerStoreMetrics.create(registry)).open()) {
            assertThat(readAll(reader)).isEqualTo(records);
            PrometheusText first = new PrometheusText(registry.scrape());
            double misses = first.sum("shale_blockcache_lookups_total", "result", "miss");
            double hits = first.sum("shale_blockcache_lookups_total", "result", "hit");
            // each miss starts one ranged GET of a data object (a block already being fetched is a
            // hit); a sequential reader's background read-ahead GETs come on top; later reads hit
            assertThat(misses).isPositive().isLessThanOrEqualTo((double) counting.dataGets.get());
            assertThat(hits).isPositive();
            assertThat(first.sum("shale_read_records_total", "topic", "events")).isEqualTo(records);
            assertThat(first.sum("shale_logcache_lookups_total", "result", "hit")
                    + first.sum("shale_logcache_lookups_total", "result", "miss")).isZero(); // read-only: no log cache
            assertThat(first.sum("shale_wal_size_bytes")).isNaN(); // read-only: no WAL
            assertThat(first.sum("shale_upload_lag_records")).isZero();

            long getsBefore = counting.dataGets.get();
            assertThat(readAll(reader)).isEqualTo(records);
            PrometheusText second = new PrometheusText(registry.scrape());
            assertThat(counting.dataGets.get()).isEqualTo(getsBefore); // all from the block cache
            assertThat(second.sum("shale_blockcache_lookups_total", "result", "miss")).isEqualTo(misses);
            double lookups = second.sum("shale_blockcache_lookups_total", "result", "hit") + misses;
            assertThat(lookups).isGreaterThan(hits + misses);
            assertThat(second.sum("shale_blockcache_hit_ratio"))
                    .isEqualTo(second.sum("shale_blockcache_lookups_total", "result", "hit") / lookups);
            assertThat(second.sum("shale_read_records_total", "topic", "events")).isEqualTo(2.0 * records);
            assertThat(second.sum("shale_objectstore_requests_seconds_count", "kind", "get"))
                    .isEqualTo((double) counting.count("get", true));
        }
    }

    private static int readAll(LogStore store) {
        int records = 0;
        for (int p = 0; p < 2; p++) {
            TopicPartition tp = TopicPartition.of("events", p);
            long offset = store.logStartOffset(tp);
            while (offset < store.highWatermark(tp)) {
                FetchResult f = store.read(tp, offset, 2048);
                for (RecordBatch b : f.batches()) {
                    records += b.recordCount();
                }
                offset = f.nextOffset();
            }
        }
        return records;
    }

    /** Whether the scraped request counts by kind equal the counting store's. */
    private static boolean requestsAgree(PrometheusText text, Map<String, Long> seen) {
        for (String kind : List.of("put", "put_if_absent", "get", "head", "list", "delete")) {
            double metric = text.sumOrZero("shale_objectstore_requests_seconds_count", "kind", kind);
            if (metric != seen.getOrDefault(kind, 0L)) {
                return false;
            }
        }
        return true;
    }
}
