package io.shale.log.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.AppendResult;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.metrics.StoreMetrics.RequestKind;
import io.shale.log.record.RecordBatch;
import io.shale.log.record.SimpleRecord;
import io.shale.log.testing.InMemoryObjectStore;
import io.shale.log.testing.InMemoryWal;
import io.shale.log.testing.MutableClock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The engine's metrics hooks, with no metrics library at all: log-core's test classpath has no
 * Micrometer (the enforcer bans it from this module), so these tests also show that a store runs,
 * with and without metrics, when Micrometer is absent.
 */
class StoreMetricsHooksTest {
    private static final Map<String, Object> QUIET = Map.of(
            StoreConfig.UPLOAD_INTERVAL_MS, 3_600_000,
            StoreConfig.WRITER_LEASE_MS, 3_600_000,
            StoreConfig.RETENTION_CHECK_INTERVAL_MS, 3_600_000,
            StoreConfig.COMPACTION_INTERVAL_MS, 3_600_000,
            StoreConfig.ORPHAN_SCAN_INTERVAL_MS, 3_600_000,
            StoreConfig.OBJECT_DELETE_GRACE_MS, 3_600_000);

    private final MutableClock clock = new MutableClock(1_700_000_000_000L);

    /** Records every event, as a metrics implementation would. */
    static final class Recording implements StoreMetrics {
        volatile StoreGauges gauges;
        final List<String> topicEvents = new CopyOnWriteArrayList<>();
        final AtomicLong appendedRecords = new AtomicLong();
        final AtomicLong appendedBytes = new AtomicLong();
        final AtomicLong appends = new AtomicLong();
        final AtomicLong readRecords = new AtomicLong();
        final AtomicLong readBytes = new AtomicLong();
        final AtomicLong logHits = new AtomicLong();
        final AtomicLong logMisses = new AtomicLong();
        final Map<RequestKind, AtomicLong> requests = new ConcurrentHashMap<>();
        volatile boolean closed;

        @Override
        public void bind(StoreGauges gauges) {
            this.gauges = gauges;
        }

        @Override
        public void topicAdded(String topic) {
            topicEvents.add("+" + topic);
        }

        @Override
        public void topicRemoved(String topic) {
            topicEvents.add("-" + topic);
        }

        @Override
        public void appended(String topic, long records, long bytes, long latencyNanos) {
            assertThat(latencyNanos).isNotNegative();
            appends.incrementAndGet();
            appendedRecords.addAndGet(records);
            appendedBytes.addAndGet(bytes);
        }

        @Override
        public void read(String topic, long records, long bytes) {
            readRecords.addAndGet(records);
            readBytes.addAndGet(bytes);
        }

        @Override
        public void objectStoreRequest(RequestKind kind, Outcome outcome, long bytes, long nanos) {
            requests.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
        }

        @Override
        public void logCacheLookup(boolean hit) {
            (hit ? logHits : logMisses).incrementAndGet();
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void micrometerShouldNotBeOnLogCoresClasspath() {
        assertThatThrownBy(() -> Class.forName("io.micrometer.core.instrument.MeterRegistry"))
                .isInstanceOf(ClassNotFoundException.class);
    }

    @Test
    void theStoreShouldReportEveryAppendReadAndObjectStoreRequest() {
        InMemoryObjectStore objects = new InMemoryObjectStore(clock);
        Recording m = new Recording();
        long bytesReadBack = 0;
        try (LogStore store = LogStore.builder().objectStore(objects).wal(new InMemoryWal()).clock(clock)
                .config(QUIET).metrics(m).open()) {
            assertThat(m.gauges).isNotNull();
            store.createTopic("a", 2, Map.of());
            store.createTopic("b", 1, Map.of());
            List<AppendResult> acks = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                acks.add(store.append(TopicPartition.of(i % 2 == 0 ? "a" : "b", 0),
                        List.of(SimpleRecord.of("k" + i, "v" + i), SimpleRecord.of("x", "y"))).join());
            }
            assertThat(m.gauges.uploadLagRecords()).isEqualTo(60);
            assertThat(m.gauges.uploadLagBytes()).isPositive();
            clock.advance(5_000);
            assertThat(m.gauges.uploadLagAgeMillis()).isEqualTo(5_000);
            for (String t : List.of("a", "b")) {
                TopicPartition tp = TopicPartition.of(t, 0);
                FetchResult f = store.read(tp, 0, Integer.MAX_VALUE);
                for (RecordBatch b : f.batches()) {
                    bytesReadBack += b.sizeInBytes();
                }
            }
            store.flush();
            assertThat(m.gauges.uploadLagRecords()).isZero();
            assertThat(m.gauges.uploadLagBytes()).isZero();
            assertThat(m.gauges.uploadLagAgeMillis()).isZero();
            assertThat(m.gauges.topicStoredBytes("a") + m.gauges.topicStoredBytes("b")).isEqualTo(bytesReadBack);
            assertThat(m.gauges.topicStoredBytes("nope")).isEqualTo(-1);
            assertThat(m.gauges.highWatermark(TopicPartition.of("a", 0))).isEqualTo(30);
            assertThat(m.gauges.highWatermark(TopicPartition.of("a", 2))).isEqualTo(-1);
            assertThat(m.gauges.topics()).containsExactly("a", "b");
            assertThat(m.gauges.walSizeBytes()).isEqualTo(-1); // the in-memory WAL does not report it
            store.deleteTopic("b");

            assertThat(m.appends.get()).isEqualTo(30);
            assertThat(m.appendedRecords.get()).isEqualTo(60);
            assertThat(m.appendedBytes.get()).isEqualTo(bytesReadBack);
            assertThat(m.readRecords.get()).isEqualTo(60);
            assertThat(m.readBytes.get()).isEqualTo(bytesReadBack);
            assertThat(m.logHits.get()).isEqualTo(2);
            assertThat(m.logMisses.get()).isZero();
            // every request the store made (the in-memory store counts puts of both kinds)
            long puts = m.requests.getOrDefault(RequestKind.PUT, new AtomicLong()).get()
                    + m.requests.getOrDefault(RequestKind.PUT_IF_ABSENT, new AtomicLong()).get();
            assertThat(puts).isEqualTo(objects.puts.get());
            assertThat(m.requests.getOrDefault(RequestKind.GET, new AtomicLong()).get()).isEqualTo(objects.gets.get());
            assertThat(m.topicEvents).containsExactly("+a", "+b", "-b");
            assertThat(m.closed).isFalse();
        }
        assertThat(m.closed).isTrue();
    }

    @Test
    void aMetricsImplementationThatThrowsShouldNotDisturbTheStore() {
        StoreMetrics broken = new StoreMetrics() {
            @Override
            public void bind(StoreGauges gauges) {
                throw new IllegalStateException("broken bind");
            }

            @Override
            public void appended(String topic, long records, long bytes, long latencyNanos) {
                throw new IllegalStateException("broken appended");
            }

            @Override
            public void read(String topic, long records, long bytes) {
                throw new IllegalStateException("broken read");
            }

            @Override
            public void objectStoreRequest(RequestKind kind, Outcome outcome, long bytes, long nanos) {
                throw new IllegalStateException("broken request");
            }
        };
        try (LogStore store = LogStore.builder().objectStore(new InMemoryObjectStore(clock)).wal(new InMemoryWal())
                .clock(clock).config(QUIET).metrics(broken).open()) {
            store.createTopic("t", 1, Map.of());
            TopicPartition tp = TopicPartition.of("t", 0);
            assertThat(store.append(tp, List.of(SimpleRecord.of("k", "v"))).join().baseOffset()).isZero();
            assertThat(store.read(tp, 0, 1024).batches()).hasSize(1);
            store.flush();
        }
    }

    @Test
    void aStoreWithoutMetricsShouldOpenAndCloseAsBefore() {
        try (LogStore store = LogStore.builder().objectStore(new InMemoryObjectStore(clock)).wal(new InMemoryWal())
                .clock(clock).config(QUIET).open()) {
            store.createTopic("t", 1, Map.of());
            TopicPartition tp = TopicPartition.of("t", 0);
            store.append(tp, List.of(SimpleRecord.of("k", "v"))).join();
            store.flush();
            assertThat(store.read(tp, 0, 1024).batches()).hasSize(1);
        }
        assertThatThrownBy(() -> LogStore.builder().metrics(null)).isInstanceOf(NullPointerException.class);
    }
}
