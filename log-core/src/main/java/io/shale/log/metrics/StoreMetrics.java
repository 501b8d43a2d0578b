package io.shale.log.metrics;

/**
 * Where a store reports what it does, for metrics: appends, reads, WAL syncs, object-store
 * requests and cache lookups, plus a live view of its sizes and lags ({@link StoreGauges}) handed
 * over once when the store opens. Give one to {@link io.shale.log.LogStoreBuilder#metrics}; the
 * module {@code shale-metrics-micrometer} provides one that publishes to a Micrometer
 * {@code MeterRegistry} (and so to Prometheus, JMX and the other registries Micrometer supports).
 * Any other metrics library can be bridged by implementing this interface: every method has a
 * no-op default, so an implementation overrides only what it records.
 *
 * <p><b>Cost.</b> A store opened without metrics uses {@link #NONE} and does no metrics work at
 * all: it does not even read the clock for latencies. With metrics, each event is one call.
 *
 * <p><b>Threading.</b> Methods are called from any thread, often many at once: appenders'
 * threads, the WAL's writer thread, object-store I/O threads, the store's upload and maintenance
 * threads, readers' threads. Implementations must be thread-safe, fast and non-blocking, and must
 * not call back into the store (some calls are made while the store holds internal locks). An
 * exception thrown by a method is caught and logged once by the store, and otherwise ignored.
 *
 * <p><b>Lifecycle.</b> One instance serves one store: {@link #bind} once when the store opens
 * (before it reads its manifest), then events, then {@link #close} when the store closes or its
 * open fails. Events may still arrive while {@link #close} runs (completions of requests in
 * flight); they may be dropped.
 */
public interface StoreMetrics {

    /** Records nothing; the store skips all metrics work when given this one (the default). */
    StoreMetrics NONE = new StoreMetrics() {
    };

    /** Kinds of object-store request ({@link io.shale.log.spi.ObjectStore}'s methods). */
    enum RequestKind {
        /** {@code put}: an unconditional write. */
        PUT,
        /** {@code putIfAbsent}: a create-if-absent write ({@code If-None-Match: *}). */
        PUT_IF_ABSENT,
        /** {@code get}: a whole or ranged read. */
        GET,
        /** {@code head}. */
        HEAD,
        /** {@code list}: one page. */
        LIST,
        /** {@code delete}: one call, for any number of keys. */
        DELETE
    }

    /** How an object-store request ended, as the store classified it. */
    enum Outcome {
        /** Succeeded. */
        OK,
        /** A {@code get} of a missing object, or a {@code head} that found none. */
        NOT_FOUND,
        /** A {@code putIfAbsent} that found the key taken (completed with {@code false}). */
        ALREADY_EXISTS,
        /** Failed: the store asked to slow down (retried). */
        THROTTLED,
        /** Failed: a transient fault, a 5xx, a connection fault, a timeout (retried). */
        TRANSIENT,
        /** Failed: access denied, bad request, missing bucket (not retried). */
        PERMANENT,
        /** Failed: the object's bytes were not what was written. */
        CORRUPT,
        /** Failed with an exception that is not an {@code ObjectStoreException} (an invalid argument, a closed store). */
        ERROR
    }

    /**
     * The store opened (or is opening) and gives its live view; called once, before any other
     * method. A store whose open then fails calls {@link #close} next.
     */
    default void bind(StoreGauges gauges) {
    }

    /** A topic now exists in the store (at open, for every existing topic; then on creation). */
    default void topicAdded(String topic) {
    }

    /** A topic was deleted. */
    default void topicRemoved(String topic) {
    }

    /**
     * An append was acknowledged (durable in the WAL): {@code records} records (offsets) in
     * {@code bytes} bytes of record batches as stored (after compression), {@code latencyNanos}
     * after the {@code append} or {@code appendBatch} call began. Failed appends are not reported.
     */
    default void appended(String topic, long records, long bytes, long latencyNanos) {
    }

    /**
     * A read ({@code read}, or a completed {@code poll}) returned batches holding {@code records}
     * records in {@code bytes} bytes. Empty reads are reported too (zero records).
     */
    default void read(String topic, long records, long bytes) {
    }

    /**
     * The WAL made {@code bytes} bytes durable in one sync that took {@code nanos}: an
     * {@code fdatasync} of the file WAL, the PUT of an object WAL's object. Reported by the WAL
     * through {@link io.shale.log.spi.WalContext#recordSync}; a WAL that does not report leaves
     * this silent.
     */
    default void walSynced(long bytes, long nanos) {
    }

    /**
     * One request to the object store finished (each attempt counts: a request the store retried
     * is reported once per attempt). {@code bytes} is the body sent ({@code put},
     * {@code putIfAbsent}) or received ({@code get}), 0 otherwise.
     */
    default void objectStoreRequest(RequestKind kind, Outcome outcome, long bytes, long nanos) {
    }

    /**
     * A read looked for its next batch in the log cache (recent appends held in memory), and
     * found it or not (then the read goes to the object store, through the block cache).
     */
    default void logCacheLookup(boolean hit) {
    }

    /** The read path looked for a block of a data object in the block cache, and found it or not (then one GET fetches it). */
    default void blockCacheLookup(boolean hit) {
    }

    /** The store closed (or failed to open): release what {@link #bind} registered. */
    default void close() {
    }
}
