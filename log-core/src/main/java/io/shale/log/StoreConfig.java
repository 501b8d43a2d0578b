package io.shale.log;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Store-wide settings: memory budgets, when to upload, compact, expire and check. Immutable and
 * validated once; unknown keys and bad values fail with {@code ShaleException(INVALID_ARGUMENT)}.
 * Components (WAL, object store, clock) are given to {@link LogStoreBuilder}, not here.
 *
 * <table>
 *   <caption>Supported keys</caption>
 *   <tr><th>key</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code log.cache.bytes}</td><td>268435456 (256 MiB)</td><td>memory for appended batches; tail reads are served from it</td></tr>
 *   <tr><td>{@code append.max.block.ms}</td><td>60000</td><td>how long an append waits for cache space while the cache is full of data not yet uploaded, before failing with UNAVAILABLE</td></tr>
 *   <tr><td>{@code upload.bytes}</td><td>16777216 (16 MiB)</td><td>upload once this many bytes are waiting (the target object size)</td></tr>
 *   <tr><td>{@code upload.interval.ms}</td><td>2000</td><td>upload at least this often while any data is waiting</td></tr>
 *   <tr><td>{@code upload.max.bytes}</td><td>134217728 (128 MiB)</td><td>largest object one upload writes</td></tr>
 *   <tr><td>{@code upload.max.in.flight}</td><td>4</td><td>objects being written at once; they are committed in order, those ready together in one manifest delta</td></tr>
 *   <tr><td>{@code object.block.bytes}</td><td>1048576 (1 MiB)</td><td>target size of the data blocks inside objects (the unit of caching)</td></tr>
 *   <tr><td>{@code block.cache.bytes}</td><td>134217728 (128 MiB)</td><td>memory for blocks read back from the object store</td></tr>
 *   <tr><td>{@code readahead.max.bytes}</td><td>16777216 (16 MiB)</td><td>largest ranged GET a sequential reader grows to (at most a quarter of {@code block.cache.bytes})</td></tr>
 *   <tr><td>{@code compaction.interval.ms}</td><td>30000</td><td>how often compaction looks for work</td></tr>
 *   <tr><td>{@code compaction.max.small.objects}</td><td>16</td><td>merge multi-partition objects once more than this many exist</td></tr>
 *   <tr><td>{@code retention.check.interval.ms}</td><td>30000</td><td>how often retention runs</td></tr>
 *   <tr><td>{@code object.delete.grace.ms}</td><td>60000</td><td>how long an object no longer referenced is kept for in-flight readers</td></tr>
 *   <tr><td>{@code orphan.scan.interval.ms}</td><td>3600000</td><td>how often to look for objects written but never committed</td></tr>
 *   <tr><td>{@code manifest.snapshot.deltas}</td><td>64</td><td>write a manifest snapshot after this many deltas</td></tr>
 *   <tr><td>{@code refresh.interval.ms}</td><td>1000</td><td>read-only stores: how often to look for new manifest deltas</td></tr>
 *   <tr><td>{@code object.store.retry.deadline.ms}</td><td>60000</td><td>how long a retriable object-store operation is retried before failing</td></tr>
 *   <tr><td>{@code open.timeout.ms}</td><td>60000</td><td>how long opening may take, retries of an unreachable object store included, before it fails with UNAVAILABLE (nothing is claimed if it fails before the claim)</td></tr>
 *   <tr><td>{@code close.timeout.ms}</td><td>30000</td><td>how long {@link LogStore#close()} waits for the final upload before it releases everything anyway (see {@link LogStore#close(java.time.Duration)})</td></tr>
 *   <tr><td>{@code writer.lease.ms}</td><td>10000</td><td>with a WAL on local disk: appends are acknowledged only while the writer confirmed (one HEAD every third of this) less than this long ago that no newer writer fenced it, so a fenced writer stops acknowledging at most this long after the new writer's claim</td></tr>
 *   <tr><td>{@code append.validation}</td><td>strict</td><td>how much {@link LogStore#appendBatch} checks: {@code strict} decodes every record of every batch (decompressing, at most 64 MiB per batch) as Kafka's broker does, so that no reader ever meets a batch it cannot decode; {@code basic} checks only the header, length, CRC and size (cheaper for a trusted producer such as this library's own appender)</td></tr>
 *   <tr><td>{@code producer.id.expiration.ms}</td><td>86400000 (1 day)</td><td>idempotent producers (Kafka's setting of the same name): the state of a producer id kept per partition for duplicate detection is dropped once its newest batch was appended this long ago (store clock; Kafka compares the batch timestamp instead), so that the manifest, which persists this state, stays bounded</td></tr>
 * </table>
 */
public final class StoreConfig {
    public static final String LOG_CACHE_BYTES = "log.cache.bytes";
    public static final String APPEND_MAX_BLOCK_MS = "append.max.block.ms";
    public static final String UPLOAD_BYTES = "upload.bytes";
    public static final String UPLOAD_INTERVAL_MS = "upload.interval.ms";
    public static final String UPLOAD_MAX_BYTES = "upload.max.bytes";
    public static final String UPLOAD_MAX_IN_FLIGHT = "upload.max.in.flight";
    public static final String OBJECT_BLOCK_BYTES = "object.block.bytes";
    public static final String BLOCK_CACHE_BYTES = "block.cache.bytes";
    public static final String READAHEAD_MAX_BYTES = "readahead.max.bytes";
    public static final String COMPACTION_INTERVAL_MS = "compaction.interval.ms";
    public static final String COMPACTION_MAX_SMALL_OBJECTS = "compaction.max.small.objects";
    public static final String RETENTION_CHECK_INTERVAL_MS = "retention.check.interval.ms";
    public static final String OBJECT_DELETE_GRACE_MS = "object.delete.grace.ms";
    public static final String ORPHAN_SCAN_INTERVAL_MS = "orphan.scan.interval.ms";
    public static final String MANIFEST_SNAPSHOT_DELTAS = "manifest.snapshot.deltas";
    public static final String REFRESH_INTERVAL_MS = "refresh.interval.ms";
    public static final String OBJECT_STORE_RETRY_DEADLINE_MS = "object.store.retry.deadline.ms";
    public static final String WRITER_LEASE_MS = "writer.lease.ms";
    public static final String OPEN_TIMEOUT_MS = "open.timeout.ms";
    public static final String CLOSE_TIMEOUT_MS = "close.timeout.ms";
    public static final String APPEND_VALIDATION = "append.validation";
    public static final String PRODUCER_ID_EXPIRATION_MS = "producer.id.expiration.ms";

    private static final long MIB = 1 << 20;
    private static final ConfigDef DEF = new ConfigDef("store");
    private static final ConfigDef.Key<Long> K_LOG_CACHE =
            DEF.longKey(LOG_CACHE_BYTES, 256 * MIB, MIB, Long.MAX_VALUE, "");
    private static final ConfigDef.Key<Long> K_MAX_BLOCK =
            DEF.longKey(APPEND_MAX_BLOCK_MS, 60_000, 0, Long.MAX_VALUE, "");
    private static final ConfigDef.Key<Long> K_UPLOAD_BYTES =
            DEF.longKey(UPLOAD_BYTES, 16 * MIB, 1, Integer.MAX_VALUE, "");
    private static final ConfigDef.Key<Long> K_UPLOAD_INTERVAL =
            DEF.longKey(UPLOAD_INTERVAL_MS, 2_000, 1, Long.MAX_VALUE, "");
    private static final ConfigDef.Key<Long> K_UPLOAD_MAX =
            DEF.longKey(UPLOAD_MAX_BYTES, 128 * MIB, 1024, 4L << 30, "");
    private static final ConfigDef.Key<Integer> K_UPLOAD_IN_FLIGHT =
            DEF.intKey(UPLOAD_MAX_IN_FLIGHT, 4, 1, 64, "");
    private static final ConfigDef.Key<Integer> K_BLOCK_BYTES =
            DEF.intKey(OBJECT_BLOCK_BYTES, (int) MIB, 1024, 64 << 20, "");
    private static final ConfigDef.Key<Long> K_BLOCK_CACHE =
            DEF.longKey(BLOCK_CACHE_BYTES, 128 * MIB, 0, Long.MAX_VALUE, "");
    private static final ConfigDef.Key<Long> K_READAHEAD =
            DEF.longKey(READAHEAD_MAX_BYTES, 16 * MIB, 0, 1L << 30, "");
    private static final ConfigDef.Key<Long> K_COMPACTION_INTERVAL =
            DEF.longKey(COMPACTION_INTERVAL_MS, 30_000, 1, Long.MAX_VALUE, "");
    private static final ConfigDef.Key<Integer> K_COMPACTION_SMALL =
            DEF.intKey(COMPACTION_MAX_SMALL_OBJECTS, 16, 2, 100_000, "");
    private static final ConfigDef.Key<Long> K_RETENTION_CHECK =
            DEF.longKey(RETENTION_CHECK_INTERVAL_MS, 30_000, 1, Long.MAX_VALUE, "");
    private static final ConfigDef.Key<Long> K_DELETE_GRACE =
            DEF.longKey(OBJECT_DELETE_GRACE_MS, 60_000, 0, Long.MAX_VALUE, "");
    private static final ConfigDef.Key<Long> K_ORPHAN_SCAN =
            DEF.longKey(ORPHAN_SCAN_INTERVAL_MS, 3_600_000, 1, Long.MAX_VALUE, "");
    private static final ConfigDef.Key<Integer> K_SNAPSHOT_DELTAS =
            DEF.intKey(MANIFEST_SNAPSHOT_DELTAS, 64, 1, 1_000_000, "");
    private static final ConfigDef.Key<Long> K_REFRESH =
            DEF.longKey(REFRESH_INTERVAL_MS, 1_000, 1, Long.MAX_VALUE, "");
    private static final ConfigDef.Key<Long> K_RETRY_DEADLINE =
            DEF.longKey(OBJECT_STORE_RETRY_DEADLINE_MS, 60_000, 0, Long.MAX_VALUE, "");
    private static final ConfigDef.Key<Long> K_WRITER_LEASE =
            DEF.longKey(WRITER_LEASE_MS, 10_000, 100, 3_600_000, "");
    private static final ConfigDef.Key<Long> K_OPEN_TIMEOUT =
            DEF.longKey(OPEN_TIMEOUT_MS, 60_000, 1, Long.MAX_VALUE / 2_000_000, "");
    private static final ConfigDef.Key<Long> K_CLOSE_TIMEOUT =
            DEF.longKey(CLOSE_TIMEOUT_MS, 30_000, 0, Long.MAX_VALUE / 2_000_000, "");
    private static final ConfigDef.Key<String> K_VALIDATION =
            DEF.enumKey(APPEND_VALIDATION, "strict", Map.of("strict", "strict", "basic", "basic"), "");
    private static final ConfigDef.Key<Long> K_PRODUCER_EXPIRATION =
            DEF.longKey(PRODUCER_ID_EXPIRATION_MS, 86_400_000, 1, Long.MAX_VALUE / 2, "");

    private static final StoreConfig DEFAULTS = new StoreConfig(Map.of());

    private final Map<ConfigDef.Key<?>, Object> overrides;

    private StoreConfig(Map<ConfigDef.Key<?>, Object> overrides) {
        this.overrides = overrides;
    }

    public static StoreConfig defaults() {
        return DEFAULTS;
    }

    public static StoreConfig of(Map<String, ?> configs) {
        return DEFAULTS.with(configs);
    }

    /** This config with more settings applied. */
    public StoreConfig with(Map<String, ?> configs) {
        Objects.requireNonNull(configs, "configs");
        Map<ConfigDef.Key<?>, Object> merged = new LinkedHashMap<>(overrides);
        merged.putAll(DEF.parse(configs));
        return new StoreConfig(Map.copyOf(merged));
    }

    /** This config with one more setting applied. */
    public StoreConfig with(String key, Object value) {
        return with(Map.of(key, value));
    }

    @SuppressWarnings("unchecked")
    private <T> T get(ConfigDef.Key<T> key) {
        Object v = overrides.get(key);
        return v == null ? key.defaultValue() : (T) v;
    }

    public long logCacheBytes() {
        return get(K_LOG_CACHE);
    }

    public long appendMaxBlockMs() {
        return get(K_MAX_BLOCK);
    }

    public long uploadBytes() {
        return get(K_UPLOAD_BYTES);
    }

    public long uploadIntervalMs() {
        return get(K_UPLOAD_INTERVAL);
    }

    public long uploadMaxBytes() {
        return get(K_UPLOAD_MAX);
    }

    public int uploadMaxInFlight() {
        return get(K_UPLOAD_IN_FLIGHT);
    }

    public int objectBlockBytes() {
        return get(K_BLOCK_BYTES);
    }

    public long blockCacheBytes() {
        return get(K_BLOCK_CACHE);
    }

    public long readaheadMaxBytes() {
        return get(K_READAHEAD);
    }

    public long compactionIntervalMs() {
        return get(K_COMPACTION_INTERVAL);
    }

    public int compactionMaxSmallObjects() {
        return get(K_COMPACTION_SMALL);
    }

    public long retentionCheckIntervalMs() {
        return get(K_RETENTION_CHECK);
    }

    public long objectDeleteGraceMs() {
        return get(K_DELETE_GRACE);
    }

    public long orphanScanIntervalMs() {
        return get(K_ORPHAN_SCAN);
    }

    public int manifestSnapshotDeltas() {
        return get(K_SNAPSHOT_DELTAS);
    }

    public long refreshIntervalMs() {
        return get(K_REFRESH);
    }

    public long objectStoreRetryDeadlineMs() {
        return get(K_RETRY_DEADLINE);
    }

    public long writerLeaseMs() {
        return get(K_WRITER_LEASE);
    }

    public long openTimeoutMs() {
        return get(K_OPEN_TIMEOUT);
    }

    public long closeTimeoutMs() {
        return get(K_CLOSE_TIMEOUT);
    }

    /**
     * Whether {@code append.validation} is {@code strict} (the default): appendBatch decodes every
     * record before accepting a batch. {@code basic} checks the header, CRC and size only.
     */
    public boolean strictAppendValidation() {
        return "strict".equals(get(K_VALIDATION));
    }

    /**
     * {@code producer.id.expiration.ms}: how long after its newest batch was appended an idempotent
     * producer's state is kept per partition.
     */
    public long producerIdExpirationMs() {
        return get(K_PRODUCER_EXPIRATION);
    }

    /** Every key with its effective value. */
    public Map<String, String> toMap() {
        Map<String, String> out = new LinkedHashMap<>();
        for (ConfigDef.Key<?> k : DEF.keys().values()) {
            out.put(k.name(), String.valueOf(get(k)));
        }
        return out;
    }

    @Override
    public String toString() {
        Map<String, String> out = new LinkedHashMap<>();
        overrides.forEach((k, v) -> out.put(k.name(), String.valueOf(v)));
        return "StoreConfig" + out;
    }
}
