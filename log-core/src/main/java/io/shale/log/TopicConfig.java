package io.shale.log;

import io.shale.log.record.CompressionType;
import io.shale.log.record.TimestampType;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A topic's configuration, with Kafka's names and defaults. Immutable and validated once; unknown
 * keys and bad values fail with {@code ShaleException(INVALID_ARGUMENT)} naming the key.
 *
 * <table>
 *   <caption>Supported keys</caption>
 *   <tr><th>key</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code retention.ms}</td><td>604800000 (7 days)</td><td>delete whole segments whose newest record is older; -1 keeps forever</td></tr>
 *   <tr><td>{@code retention.bytes}</td><td>-1</td><td>delete the oldest whole segments while the partition is larger; -1 = no limit</td></tr>
 *   <tr><td>{@code segment.bytes}</td><td>1073741824</td><td>size at which compaction closes a per-partition segment object</td></tr>
 *   <tr><td>{@code segment.ms}</td><td>604800000</td><td>age at which compaction closes a segment even if smaller</td></tr>
 *   <tr><td>{@code max.message.bytes}</td><td>1048588</td><td>largest batch (12-byte log overhead included) an append accepts</td></tr>
 *   <tr><td>{@code message.timestamp.type}</td><td>CreateTime</td><td>CreateTime or LogAppendTime</td></tr>
 *   <tr><td>{@code message.timestamp.before.max.ms}</td><td>Long.MAX_VALUE</td><td>CreateTime only: reject records older than now minus this</td></tr>
 *   <tr><td>{@code message.timestamp.after.max.ms}</td><td>3600000</td><td>CreateTime only: reject records newer than now plus this</td></tr>
 *   <tr><td>{@code compression.type}</td><td>producer</td><td>codec for {@code append(records)}: producer (= none there), uncompressed, gzip, snappy, lz4, zstd; {@code appendBatch} keeps the batch's codec</td></tr>
 *   <tr><td>{@code cleanup.policy}</td><td>delete</td><td>delete (retention by time and size), compact (key-based
 *       compaction: the newest record of each key is kept), or both ({@code compact,delete})</td></tr>
 *   <tr><td>{@code delete.retention.ms}</td><td>86400000 (1 day)</td><td>compacted topics: how long a tombstone
 *       (a record with a null value) stays readable after the cleaning that first passed it</td></tr>
 *   <tr><td>{@code min.compaction.lag.ms}</td><td>0</td><td>compacted topics: records newer than this are not
 *       cleaned</td></tr>
 *   <tr><td>{@code max.compaction.lag.ms}</td><td>Long.MAX_VALUE</td><td>compacted topics: clean data older than this
 *       even if the log is not dirty enough</td></tr>
 *   <tr><td>{@code min.cleanable.dirty.ratio}</td><td>0.5</td><td>compacted topics: clean once the bytes written since
 *       the last cleaning are this share of the cleanable bytes</td></tr>
 * </table>
 *
 * <p>Appends to a topic whose policy includes {@code compact} must give every record a key (as in
 * Kafka); a record without one fails the append with {@code INVALID_ARGUMENT}.
 */
public final class TopicConfig {
    public static final String RETENTION_MS = "retention.ms";
    public static final String RETENTION_BYTES = "retention.bytes";
    public static final String SEGMENT_BYTES = "segment.bytes";
    public static final String SEGMENT_MS = "segment.ms";
    public static final String MAX_MESSAGE_BYTES = "max.message.bytes";
    public static final String MESSAGE_TIMESTAMP_TYPE = "message.timestamp.type";
    public static final String MESSAGE_TIMESTAMP_BEFORE_MAX_MS = "message.timestamp.before.max.ms";
    public static final String MESSAGE_TIMESTAMP_AFTER_MAX_MS = "message.timestamp.after.max.ms";
    public static final String COMPRESSION_TYPE = "compression.type";
    public static final String CLEANUP_POLICY = "cleanup.policy";
    public static final String DELETE_RETENTION_MS = "delete.retention.ms";
    public static final String MIN_COMPACTION_LAG_MS = "min.compaction.lag.ms";
    public static final String MAX_COMPACTION_LAG_MS = "max.compaction.lag.ms";
    public static final String MIN_CLEANABLE_DIRTY_RATIO = "min.cleanable.dirty.ratio";

    /**
     * Cleanup policies. Kafka's value is a list: {@code compact,delete} and {@code delete,compact}
     * both name {@link #COMPACT_DELETE}.
     */
    public enum CleanupPolicy {
        /** Retention by time and size drops whole runs of old data. */
        DELETE("delete", false, true),
        /** Key-based compaction keeps the newest record of each key; no retention by time or size. */
        COMPACT("compact", true, false),
        /** Both: compaction, and retention by time and size. */
        COMPACT_DELETE("compact,delete", true, true);

        public final String kafkaName;
        private final boolean compact;
        private final boolean delete;

        CleanupPolicy(String kafkaName, boolean compact, boolean delete) {
            this.kafkaName = kafkaName;
            this.compact = compact;
            this.delete = delete;
        }

        /** Whether key-based compaction applies. */
        public boolean compacts() {
            return compact;
        }

        /** Whether retention by time and size applies. */
        public boolean deletes() {
            return delete;
        }
    }

    private static final ConfigDef DEF = new ConfigDef("topic");
    private static final ConfigDef.Key<Long> K_RETENTION_MS =
            DEF.longKey(RETENTION_MS, 604_800_000L, -1, Long.MAX_VALUE, "retention by age");
    private static final ConfigDef.Key<Long> K_RETENTION_BYTES =
            DEF.longKey(RETENTION_BYTES, -1L, -1, Long.MAX_VALUE, "retention by size");
    private static final ConfigDef.Key<Integer> K_SEGMENT_BYTES =
            DEF.intKey(SEGMENT_BYTES, 1 << 30, 1024, Integer.MAX_VALUE, "segment object size");
    private static final ConfigDef.Key<Long> K_SEGMENT_MS =
            DEF.longKey(SEGMENT_MS, 604_800_000L, 1, Long.MAX_VALUE, "segment roll age");
    private static final ConfigDef.Key<Integer> K_MAX_MESSAGE_BYTES =
            DEF.intKey(MAX_MESSAGE_BYTES, 1_048_588, 0, 64 << 20, "largest batch");
    private static final ConfigDef.Key<TimestampType> K_TIMESTAMP_TYPE =
            DEF.enumKey(MESSAGE_TIMESTAMP_TYPE, TimestampType.CREATE_TIME,
                    Map.of("createtime", TimestampType.CREATE_TIME, "logappendtime", TimestampType.LOG_APPEND_TIME),
                    "timestamp type");
    private static final ConfigDef.Key<Long> K_BEFORE_MAX_MS =
            DEF.longKey(MESSAGE_TIMESTAMP_BEFORE_MAX_MS, Long.MAX_VALUE, 0, Long.MAX_VALUE, "oldest accepted timestamp");
    private static final ConfigDef.Key<Long> K_AFTER_MAX_MS =
            DEF.longKey(MESSAGE_TIMESTAMP_AFTER_MAX_MS, 3_600_000L, 0, Long.MAX_VALUE, "newest accepted timestamp");
    private static final ConfigDef.Key<String> K_COMPRESSION = DEF.define(COMPRESSION_TYPE, "producer", s -> {
        String v = s.trim().toLowerCase(Locale.ROOT);
        switch (v) {
            case "producer":
            case "uncompressed":
                return v;
            default:
                CompressionType.forName(v);
                return v;
        }
    }, "codec");
    private static final ConfigDef.Key<CleanupPolicy> K_CLEANUP =
            DEF.define(CLEANUP_POLICY, CleanupPolicy.DELETE, TopicConfig::parsePolicy, "cleanup policy");
    private static final ConfigDef.Key<Long> K_DELETE_RETENTION_MS =
            DEF.longKey(DELETE_RETENTION_MS, 86_400_000L, 0, Long.MAX_VALUE, "tombstone retention");
    private static final ConfigDef.Key<Long> K_MIN_COMPACTION_LAG_MS =
            DEF.longKey(MIN_COMPACTION_LAG_MS, 0L, 0, Long.MAX_VALUE, "minimum age before cleaning");
    private static final ConfigDef.Key<Long> K_MAX_COMPACTION_LAG_MS =
            DEF.longKey(MAX_COMPACTION_LAG_MS, Long.MAX_VALUE, 1, Long.MAX_VALUE, "maximum age before cleaning");
    private static final ConfigDef.Key<Double> K_MIN_CLEANABLE_DIRTY_RATIO =
            DEF.doubleKey(MIN_CLEANABLE_DIRTY_RATIO, 0.5, 0.0, 1.0, "dirty share that triggers cleaning");

    private static final TopicConfig DEFAULTS = new TopicConfig(Map.of());

    private final Map<ConfigDef.Key<?>, Object> overrides;
    // parsed once: these are read on every append
    private final long retentionMs;
    private final long retentionBytes;
    private final int segmentBytes;
    private final long segmentMs;
    private final int maxMessageBytes;
    private final TimestampType timestampType;
    private final long beforeMaxMs;
    private final long afterMaxMs;
    private final CompressionType compression;
    private final CleanupPolicy cleanupPolicy;
    private final long deleteRetentionMs;
    private final long minCompactionLagMs;
    private final long maxCompactionLagMs;
    private final double minCleanableDirtyRatio;

    private TopicConfig(Map<ConfigDef.Key<?>, Object> overrides) {
        this.overrides = overrides;
        this.retentionMs = get(K_RETENTION_MS);
        this.retentionBytes = get(K_RETENTION_BYTES);
        this.segmentBytes = get(K_SEGMENT_BYTES);
        this.segmentMs = get(K_SEGMENT_MS);
        this.maxMessageBytes = get(K_MAX_MESSAGE_BYTES);
        this.timestampType = get(K_TIMESTAMP_TYPE);
        this.beforeMaxMs = get(K_BEFORE_MAX_MS);
        this.afterMaxMs = get(K_AFTER_MAX_MS);
        String codec = get(K_COMPRESSION);
        this.compression = codec.equals("producer") || codec.equals("uncompressed") ? CompressionType.NONE
                : CompressionType.forName(codec);
        this.cleanupPolicy = get(K_CLEANUP);
        this.deleteRetentionMs = get(K_DELETE_RETENTION_MS);
        this.minCompactionLagMs = get(K_MIN_COMPACTION_LAG_MS);
        this.maxCompactionLagMs = get(K_MAX_COMPACTION_LAG_MS);
        this.minCleanableDirtyRatio = get(K_MIN_CLEANABLE_DIRTY_RATIO);
        if (minCompactionLagMs > maxCompactionLagMs) {
            throw DEF.bad(MIN_COMPACTION_LAG_MS, String.valueOf(minCompactionLagMs), "must not exceed "
                    + MAX_COMPACTION_LAG_MS + "=" + maxCompactionLagMs);
        }
    }

    /** Kafka's list syntax: "delete", "compact", or both in either order. */
    private static CleanupPolicy parsePolicy(String s) {
        boolean compact = false;
        boolean delete = false;
        for (String part : s.split(",", -1)) {
            switch (part.trim().toLowerCase(Locale.ROOT)) {
                case "compact":
                    compact = true;
                    break;
                case "delete":
                    delete = true;
                    break;
                default:
                    throw DEF.bad(CLEANUP_POLICY, s, "must be delete, compact, or compact,delete");
            }
        }
        return compact && delete ? CleanupPolicy.COMPACT_DELETE : compact ? CleanupPolicy.COMPACT : CleanupPolicy.DELETE;
    }

    /** Kafka's defaults. */
    public static TopicConfig defaults() {
        return DEFAULTS;
    }

    /** Defaults overridden by {@code configs} (Kafka names; values as strings or numbers). */
    public static TopicConfig of(Map<String, ?> configs) {
        return DEFAULTS.with(configs);
    }

    /**
     * This config with more overrides applied (used by {@link LogStore#alterTopicConfig}). A key
     * mapped to {@code null} loses its override and returns to its default (Kafka's DELETE of an
     * incremental alter).
     */
    public TopicConfig with(Map<String, ?> configs) {
        Objects.requireNonNull(configs, "configs");
        Map<ConfigDef.Key<?>, Object> merged = new LinkedHashMap<>(overrides);
        Map<String, Object> set = new LinkedHashMap<>();
        Map<String, Object> removed = new LinkedHashMap<>();
        for (Map.Entry<String, ?> e : configs.entrySet()) {
            (e.getValue() == null ? removed : set).put(e.getKey(), e.getValue());
        }
        for (String name : removed.keySet()) {
            ConfigDef.Key<?> k = DEF.keys().get(name);
            if (k == null) {
                DEF.parse(Map.of(name, "")); // fails naming the unknown key and the known ones
            }
            merged.remove(k);
        }
        merged.putAll(DEF.parse(set));
        return new TopicConfig(Map.copyOf(merged));
    }

    @SuppressWarnings("unchecked")
    private <T> T get(ConfigDef.Key<T> key) {
        Object v = overrides.get(key);
        return v == null ? key.defaultValue() : (T) v;
    }

    public long retentionMs() {
        return retentionMs;
    }

    public long retentionBytes() {
        return retentionBytes;
    }

    public int segmentBytes() {
        return segmentBytes;
    }

    public long segmentMs() {
        return segmentMs;
    }

    public int maxMessageBytes() {
        return maxMessageBytes;
    }

    public TimestampType messageTimestampType() {
        return timestampType;
    }

    public long messageTimestampBeforeMaxMs() {
        return beforeMaxMs;
    }

    public long messageTimestampAfterMaxMs() {
        return afterMaxMs;
    }

    /** The codec {@code append(records)} uses ("producer" and "uncompressed" mean none). */
    public CompressionType compressionType() {
        return compression;
    }

    public CleanupPolicy cleanupPolicy() {
        return cleanupPolicy;
    }

    /** Compacted topics: how long a tombstone stays readable after the cleaning that first passed it. */
    public long deleteRetentionMs() {
        return deleteRetentionMs;
    }

    /** Compacted topics: records newer than this are not cleaned. */
    public long minCompactionLagMs() {
        return minCompactionLagMs;
    }

    /** Compacted topics: data older than this is cleaned whatever the dirty ratio. */
    public long maxCompactionLagMs() {
        return maxCompactionLagMs;
    }

    /** Compacted topics: the share of dirty bytes at which a partition is cleaned. */
    public double minCleanableDirtyRatio() {
        return minCleanableDirtyRatio;
    }

    /** Only the keys that were set explicitly, as strings (what the manifest stores). */
    public Map<String, String> overrides() {
        Map<String, String> out = new LinkedHashMap<>();
        overrides.forEach((k, v) -> out.put(k.name(), render(v)));
        return out;
    }

    /** Every key with its effective value, as strings. */
    public Map<String, String> toMap() {
        Map<String, String> out = new LinkedHashMap<>();
        for (ConfigDef.Key<?> k : DEF.keys().values()) {
            out.put(k.name(), render(get(k)));
        }
        return out;
    }

    private static String render(Object v) {
        if (v instanceof TimestampType t) {
            return t.kafkaName;
        }
        if (v instanceof CleanupPolicy p) {
            return p.kafkaName;
        }
        return String.valueOf(v);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TopicConfig other && new HashMap<>(toMap()).equals(other.toMap());
    }

    @Override
    public int hashCode() {
        return toMap().hashCode();
    }

    @Override
    public String toString() {
        return "TopicConfig" + overrides();
    }
}
