package io.shale.metrics.micrometer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.shale.log.TopicPartition;
import io.shale.log.metrics.CommittedOffsets;
import io.shale.log.metrics.StoreGauges;
import io.shale.log.metrics.StoreMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes a store's metrics to a Micrometer {@link MeterRegistry}: a
 * {@code PrometheusMeterRegistry} for Prometheus, a {@code JmxMeterRegistry} for JMX, or any other
 * registry (a {@code CompositeMeterRegistry} for several).
 *
 * <pre>{@code
 * PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
 * try (LogStore store = LocalStorage.builder(dir)
 *         .metrics(MicrometerStoreMetrics.create(registry))
 *         .open()) {
 *     ...
 *     String text = registry.scrape();   // Prometheus text format
 * }
 * }</pre>
 *
 * <p>The meters (names in Micrometer's dot notation; a Prometheus registry writes
 * {@code shale.append.latency} as {@code shale_append_latency_seconds}, counters with
 * {@code _total}), each with the builder's common tags:
 * <ul>
 *   <li>{@code shale.append.latency} (timer): from the {@code append}/{@code appendBatch} call to
 *       its acknowledgement (durable in the WAL); percentile histogram unless turned off.</li>
 *   <li>{@code shale.append.records}, {@code shale.append.bytes} (counters, tag {@code topic}):
 *       acknowledged records (offsets) and record-batch bytes as stored.</li>
 *   <li>{@code shale.read.records}, {@code shale.read.bytes} (counters, tag {@code topic}): records
 *       and bytes of the batches returned by {@code read} and completed {@code poll}s.</li>
 *   <li>{@code shale.wal.sync} (timer), {@code shale.wal.sync.bytes} (counter): each durable write
 *       of the WAL (file WAL: {@code fdatasync}; object WAL: the PUT of its object) and the bytes
 *       it covered (0 for the file WAL's interval syncs); {@code shale.wal.size} (gauge, bytes).</li>
 *   <li>{@code shale.objectstore.requests} (timer, tags {@code kind}: put, put_if_absent, get,
 *       head, list, delete; {@code outcome}: ok, not_found, already_exists, throttled, transient,
 *       permanent, corrupt, error): every attempt, retries included;
 *       {@code shale.objectstore.bytes} (counter, tag {@code kind}): bodies sent and received.</li>
 *   <li>{@code shale.logcache.lookups}, {@code shale.blockcache.lookups} (counters, tag
 *       {@code result}: hit, miss); {@code shale.logcache.hit.ratio},
 *       {@code shale.blockcache.hit.ratio} (gauges: hits / lookups since open, NaN before the first);
 *       {@code shale.logcache.size}, {@code shale.blockcache.size} (gauges, bytes held).</li>
 *   <li>{@code shale.upload.lag.bytes}, {@code shale.upload.lag.records}, {@code shale.upload.lag.age}
 *       (gauges): appended data not yet uploaded to the object store, and the age of its oldest batch.</li>
 *   <li>{@code shale.topic.size} (gauge, tag {@code topic}, bytes): the topic's data in the object
 *       store, from the manifest.</li>
 *   <li>{@code shale.consumer.lag} (gauge, tags {@code group}, {@code topic}): records between each
 *       group's committed offsets and the high watermarks, summed over the topic's partitions;
 *       only with {@link Builder#committedOffsets} (Shale stores no committed offsets itself).</li>
 * </ul>
 * Tags are bounded: per topic (turn off with {@link Builder#perTopic}), never per partition.
 *
 * <p><b>Threading.</b> Thread-safe: the store calls it from its own and its callers' threads
 * (see {@link StoreMetrics}). Recording an event is a counter or timer update; gauges are computed
 * when the registry is read. Consumer lag is refreshed every {@link Builder#committedOffsets
 * refresh interval} on one daemon thread that exists only when a committed-offset source was given.
 *
 * <p><b>Lifecycle.</b> One instance per store. The store binds it when it opens and closes it when
 * it closes; closing removes every meter it registered from the registry (reopening the store with
 * a new instance registers them again, counters from zero).
 */
public final class MicrometerStoreMetrics implements StoreMetrics {
    private static final Logger log = LoggerFactory.getLogger(MicrometerStoreMetrics.class);
    private static final RequestKind[] KINDS = RequestKind.values();
    private static final Outcome[] OUTCOMES = Outcome.values();

    private final MeterRegistry registry;
    private final Tags common;
    private final boolean perTopic;
    private final boolean histograms;
    private final CommittedOffsets committedOffsets;
    private final Duration lagRefresh;

    private final AtomicBoolean bound = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Every meter registered, removed on close. */
    private final ConcurrentLinkedQueue<Meter> registered = new ConcurrentLinkedQueue<>();
    private volatile StoreGauges gauges;

    private final Timer appendLatency;
    private final Timer walSync;
    private final Counter walSyncBytes;
    /** Per topic (or one entry, "", when per-topic meters are off). */
    private final ConcurrentHashMap<String, TopicMeters> topics = new ConcurrentHashMap<>();
    /** Timers by kind and outcome, created on first use. */
    private final AtomicReferenceArray<Timer> requestTimers = new AtomicReferenceArray<>(KINDS.length * OUTCOMES.length);
    private final AtomicReferenceArray<Counter> requestBytes = new AtomicReferenceArray<>(KINDS.length);
    private final LongAdder logCacheHits = new LongAdder();
    private final LongAdder logCacheMisses = new LongAdder();
    private final LongAdder blockCacheHits = new LongAdder();
    private final LongAdder blockCacheMisses = new LongAdder();
    private MultiGauge consumerLag;
    private ScheduledExecutorService lagTimer;

    private MicrometerStoreMetrics(Builder b) {
        this.registry = b.registry;
        this.common = b.tags;
        this.perTopic = b.perTopic;
        this.histograms = b.histograms;
        this.committedOffsets = b.committedOffsets;
        this.lagRefresh = b.lagRefresh;
        this.appendLatency = keep(Timer.builder("shale.append.latency")
                .description("Time from an append call to its acknowledgement (durable in the WAL)")
                .tags(common)
                .publishPercentileHistogram(histograms)
                .minimumExpectedValue(Duration.ofNanos(10_000))
                .maximumExpectedValue(Duration.ofSeconds(60))
                .register(registry));
        this.walSync = keep(Timer.builder("shale.wal.sync")
                .description("Durable writes of the WAL: fdatasync (file WAL), the PUT of a WAL object (object WAL)")
                .tags(common)
                .publishPercentileHistogram(histograms)
                .minimumExpectedValue(Duration.ofNanos(10_000))
                .maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry));
        this.walSyncBytes = keep(Counter.builder("shale.wal.sync.bytes")
                .description("Bytes made durable by WAL syncs (0 counted for syncs that do not track them)")
                .baseUnit("bytes")
                .tags(common)
                .register(registry));
        if (!perTopic) {
            topics.put("", new TopicMeters(null));
        }
    }

    /** Metrics for one store in {@code registry}, with the defaults of {@link Builder}. */
    public static MicrometerStoreMetrics create(MeterRegistry registry) {
        return builder(registry).build();
    }

    /** A builder for metrics in {@code registry}. */
    public static Builder builder(MeterRegistry registry) {
        return new Builder(registry);
    }

    private <M extends Meter> M keep(M meter) {
        registered.add(meter);
        return meter;
    }

    // ================================================================== StoreMetrics

    /**
     * Registers the store-wide gauges and, with a committed-offset source, starts the consumer-lag
     * refresh.
     *
     * @throws IllegalStateException if this instance was bound to a store before (use one per store)
     */
    @Override
    public void bind(StoreGauges g) {
        Objects.requireNonNull(g, "gauges");
        if (!bound.compareAndSet(false, true)) {
            throw new IllegalStateException("these MicrometerStoreMetrics are bound to a store already; create one per store");
        }
        this.gauges = g;
        gauge("shale.upload.lag.bytes", "Bytes appended and not yet uploaded to the object store", "bytes",
                g, StoreGauges::uploadLagBytes);
        gauge("shale.upload.lag.records", "Records appended and not yet uploaded to the object store", "records",
                g, StoreGauges::uploadLagRecords);
        keep(TimeGauge.builder("shale.upload.lag.age", g, TimeUnit.MILLISECONDS, StoreGauges::uploadLagAgeMillis)
                .description("Age of the oldest appended batch not yet uploaded (0 if none waits)")
                .tags(common)
                .register(registry));
        keep(Gauge.builder("shale.wal.size", g, x -> {
                    long v = x.walSizeBytes();
                    return v < 0 ? Double.NaN : v;
                })
                .description("Bytes the WAL occupies in its storage (NaN if the WAL does not report it)")
                .baseUnit("bytes")
                .tags(common)
                .register(registry));
        gauge("shale.logcache.size", "Bytes of memory held by the log cache", "bytes", g, StoreGauges::logCacheBytes);
        gauge("shale.blockcache.size", "Bytes of data-object blocks held by the block cache", "bytes", g,
                StoreGauges::blockCacheBytes);
        lookups("shale.logcache", "log cache (recent appends in memory)", logCacheHits, logCacheMisses);
        lookups("shale.blockcache", "block cache (blocks read from the object store)", blockCacheHits, blockCacheMisses);
        if (committedOffsets != null) {
            consumerLag = MultiGauge.builder("shale.consumer.lag")
                    .description("Records between a group's committed offsets and the high watermarks, per topic")
                    .baseUnit("records")
                    .tags(common)
                    .register(registry);
            lagTimer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "shale-metrics-consumer-lag");
                t.setDaemon(true);
                return t;
            });
            long period = lagRefresh.toMillis();
            lagTimer.scheduleWithFixedDelay(this::refreshConsumerLagQuietly, period, period, TimeUnit.MILLISECONDS);
        }
    }

    private void gauge(String name, String description, String unit, StoreGauges g,
            java.util.function.ToLongFunction<StoreGauges> f) {
        keep(Gauge.builder(name, g, x -> f.applyAsLong(x))
                .description(description)
                .baseUnit(unit)
                .tags(common)
                .register(registry));
    }

    private void lookups(String prefix, String what, LongAdder hits, LongAdder misses) {
        keep(FunctionCounter.builder(prefix + ".lookups", hits, LongAdder::sum)
                .description("Lookups in the " + what)
                .tags(common).tag("result", "hit")
                .register(registry));
        keep(FunctionCounter.builder(prefix + ".lookups", misses, LongAdder::sum)
                .description("Lookups in the " + what)
                .tags(common).tag("result", "miss")
                .register(registry));
        keep(Gauge.builder(prefix + ".hit.ratio", this, x -> {
                    double h = hits.sum();
                    double total = h + misses.sum();
                    return total == 0 ? Double.NaN : h / total;
                })
                .description("Hits / lookups in the " + what + " since the store opened")
                .tags(common)
                .register(registry));
    }

    @Override
    public void topicAdded(String topic) {
        if (perTopic && !closed.get()) {
            topicMeters(topic);
        }
    }

    @Override
    public void topicRemoved(String topic) {
        if (!perTopic) {
            return;
        }
        TopicMeters m = topics.remove(topic);
        if (m != null) {
            m.remove();
        }
    }

    @Override
    public void appended(String topic, long records, long bytes, long latencyNanos) {
        if (closed.get()) {
            return; // a completion racing with close: its meters are gone
        }
        appendLatency.record(latencyNanos, TimeUnit.NANOSECONDS);
        TopicMeters m = topicMeters(topic);
        m.appendRecords.increment(records);
        m.appendBytes.increment(bytes);
    }

    @Override
    public void read(String topic, long records, long bytes) {
        if (closed.get()) {
            return;
        }
        TopicMeters m = topicMeters(topic);
        m.readRecords.increment(records);
        m.readBytes.increment(bytes);
    }

    @Override
    public void walSynced(long bytes, long nanos) {
        walSync.record(nanos, TimeUnit.NANOSECONDS);
        walSyncBytes.increment(bytes);
    }

    @Override
    public void objectStoreRequest(RequestKind kind, Outcome outcome, long bytes, long nanos) {
        int i = kind.ordinal() * OUTCOMES.length + outcome.ordinal();
        Timer t = requestTimers.get(i);
        if (t == null) {
            if (closed.get()) {
                return; // a request racing with close: register nothing new
            }
            t = Timer.builder("shale.objectstore.requests")
                    .description("Object-store requests (each attempt), by kind and outcome")
                    .tags(common)
                    .tag("kind", kind.name().toLowerCase(Locale.ROOT))
                    .tag("outcome", outcome.name().toLowerCase(Locale.ROOT))
                    .publishPercentileHistogram(histograms)
                    .minimumExpectedValue(Duration.ofMillis(1))
                    .maximumExpectedValue(Duration.ofMinutes(2))
                    .register(registry);
            if (requestTimers.compareAndSet(i, null, t)) {
                keep(t);
            } else {
                t = requestTimers.get(i);
            }
        }
        t.record(nanos, TimeUnit.NANOSECONDS);
        if (bytes > 0) {
            Counter c = requestBytes.get(kind.ordinal());
            if (c == null) {
                if (closed.get()) {
                    return;
                }
                c = Counter.builder("shale.objectstore.bytes")
                        .description("Bytes of request bodies sent (put) and received (get)")
                        .baseUnit("bytes")
                        .tags(common)
                        .tag("kind", kind.name().toLowerCase(Locale.ROOT))
                        .register(registry);
                if (requestBytes.compareAndSet(kind.ordinal(), null, c)) {
                    keep(c);
                } else {
                    c = requestBytes.get(kind.ordinal());
                }
            }
            c.increment(bytes);
        }
    }

    @Override
    public void logCacheLookup(boolean hit) {
        (hit ? logCacheHits : logCacheMisses).increment();
    }

    @Override
    public void blockCacheLookup(boolean hit) {
        (hit ? blockCacheHits : blockCacheMisses).increment();
    }

    /** Stops the consumer-lag refresh and removes every meter registered. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        ScheduledExecutorService t = lagTimer;
        if (t != null) {
            t.shutdownNow();
        }
        if (consumerLag != null) {
            consumerLag.register(List.of(), true);
        }
        for (TopicMeters m : topics.values()) {
            m.remove();
        }
        topics.clear();
        for (Meter m; (m = registered.poll()) != null; ) {
            registry.remove(m);
        }
    }

    // ================================================================== consumer lag

    /**
     * Recomputes {@code shale.consumer.lag} now from the committed-offset source: one value per
     * group and topic the group has committed offsets for, the sum over those partitions of the
     * high watermark minus the committed offset (at least 0). Runs every refresh interval on its
     * own; callable at any time (tests, or before a scrape). Does nothing without a source.
     */
    public void refreshConsumerLag() {
        StoreGauges g = gauges;
        if (committedOffsets == null || g == null || closed.get()) {
            return;
        }
        Map<String, Map<TopicPartition, Long>> all = committedOffsets.committedOffsets();
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        for (Map.Entry<String, Map<TopicPartition, Long>> group : new TreeMap<>(all).entrySet()) {
            Map<String, Long> lagByTopic = new TreeMap<>();
            for (Map.Entry<TopicPartition, Long> e : group.getValue().entrySet()) {
                long hw = g.highWatermark(e.getKey());
                if (hw < 0) {
                    continue; // the topic or partition is gone
                }
                lagByTopic.merge(e.getKey().topic(), Math.max(0, hw - e.getValue()), Long::sum);
            }
            for (Map.Entry<String, Long> t : lagByTopic.entrySet()) {
                rows.add(MultiGauge.Row.of(Tags.of("group", group.getKey(), "topic", t.getKey()), t.getValue()));
            }
        }
        consumerLag.register(rows, true);
    }

    private void refreshConsumerLagQuietly() {
        try {
            refreshConsumerLag();
        } catch (RuntimeException e) {
            log.warn("refreshing consumer lag failed: {}", e.toString());
        }
    }

    // ================================================================== per topic

    private TopicMeters topicMeters(String topic) {
        if (!perTopic) {
            return topics.get("");
        }
        TopicMeters m = topics.get(topic);
        return m != null ? m : topics.computeIfAbsent(topic, TopicMeters::new);
    }

    /** A topic's meters (or the store's, untagged, when per-topic meters are off). */
    private final class TopicMeters {
        final Counter appendRecords;
        final Counter appendBytes;
        final Counter readRecords;
        final Counter readBytes;
        final List<Meter> meters = new ArrayList<>();

        /** {@code topic} null: the store-wide meters, without a topic tag. */
        TopicMeters(String topic) {
            Tags tags = topic == null ? common : common.and("topic", topic);
            appendRecords = counter("shale.append.records", "Records appended (acknowledged)", "records", tags);
            appendBytes = counter("shale.append.bytes", "Bytes of record batches appended (acknowledged), as stored",
                    "bytes", tags);
            readRecords = counter("shale.read.records", "Records in the batches returned by reads", "records", tags);
            readBytes = counter("shale.read.bytes", "Bytes of the batches returned by reads", "bytes", tags);
            if (topic != null) {
                meters.add(Gauge.builder("shale.topic.size", MicrometerStoreMetrics.this, x -> {
                            StoreGauges g = x.gauges;
                            long v = g == null ? -1 : g.topicStoredBytes(topic);
                            return v < 0 ? Double.NaN : v;
                        })
                        .description("Bytes of the topic's data in the object store, from the manifest")
                        .baseUnit("bytes")
                        .tags(tags)
                        .register(registry));
            }
        }

        private Counter counter(String name, String description, String unit, Tags tags) {
            Counter c = Counter.builder(name).description(description).baseUnit(unit).tags(tags).register(registry);
            meters.add(c);
            return c;
        }

        void remove() {
            for (Meter m : meters) {
                registry.remove(m);
            }
        }
    }

    // ================================================================== builder

    /** Options; {@link #build()} makes the metrics for one store. */
    public static final class Builder {
        private final MeterRegistry registry;
        private Tags tags = Tags.empty();
        private boolean perTopic = true;
        private boolean histograms = true;
        private CommittedOffsets committedOffsets;
        private Duration lagRefresh = Duration.ofSeconds(10);

        private Builder(MeterRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
        }

        /**
         * Tags added to every meter, e.g. {@code Tags.of("store", "orders")} to tell several stores in
         * one registry apart (two stores with the same tags in one registry would share meters).
         */
        public Builder tags(Iterable<Tag> tags) {
            this.tags = Tags.of(Objects.requireNonNull(tags, "tags"));
            return this;
        }

        /** Tags added to every meter, as key-value pairs. */
        public Builder tags(String... keyValues) {
            return tags(Tags.of(keyValues));
        }

        /**
         * Whether byte and record counters carry a {@code topic} tag and {@code shale.topic.size} is
         * published (default true). Turn off for stores with very many topics: the counters are then
         * store-wide.
         */
        public Builder perTopic(boolean perTopic) {
            this.perTopic = perTopic;
            return this;
        }

        /**
         * Whether timers publish percentile histograms (Prometheus {@code _bucket} series, for
         * {@code histogram_quantile}); default true. Off, timers publish count, sum and max only.
         */
        public Builder percentileHistograms(boolean histograms) {
            this.histograms = histograms;
            return this;
        }

        /**
         * Publishes {@code shale.consumer.lag} from {@code source}, refreshed every
         * {@code refreshInterval} (and by {@link MicrometerStoreMetrics#refreshConsumerLag()}). Shale
         * has no committed-offset store of its own yet: give the one your consumers commit to.
         */
        public Builder committedOffsets(CommittedOffsets source, Duration refreshInterval) {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(refreshInterval, "refreshInterval");
            if (refreshInterval.toMillis() < 1) {
                throw new IllegalArgumentException("consumer lag refreshInterval must be at least 1 ms, got "
                        + refreshInterval);
            }
            this.committedOffsets = source;
            this.lagRefresh = refreshInterval;
            return this;
        }

        public MicrometerStoreMetrics build() {
            return new MicrometerStoreMetrics(this);
        }
    }
}
