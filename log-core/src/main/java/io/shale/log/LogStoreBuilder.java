package io.shale.log;

import io.shale.log.internal.engine.StoreEngine;
import io.shale.log.internal.manifest.EngineCatalogFactory;
import io.shale.log.metrics.StoreMetrics;
import io.shale.log.spi.CatalogFactory;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.WriteAheadLog;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;

/**
 * Assembles a {@link LogStore} from its components (WAL, object store, clock) and its settings
 * ({@link StoreConfig}). The store takes ownership of the components: closing the store closes
 * them, and so does a failed {@link #open()}.
 *
 * <pre>{@code
 * try (LogStore store = LogStore.builder()
 *         .objectStore(myObjectStore)
 *         .wal(myWal)
 *         .config(StoreConfig.of(Map.of(StoreConfig.UPLOAD_INTERVAL_MS, 1000)))
 *         .open()) { ... }
 * }</pre>
 *
 * <p>{@code storage-local}'s {@code LocalStorage.builder(dir)} returns a builder with a file WAL
 * and a local-directory object store already set: the embedded default.
 */
public final class LogStoreBuilder {
    private WriteAheadLog wal;
    private ObjectStore objectStore;
    private Clock clock = Clock.systemUTC();
    private StoreConfig config = StoreConfig.defaults();
    private boolean readOnly;
    private StoreMetrics metrics = StoreMetrics.NONE;
    private CatalogFactory catalog;

    LogStoreBuilder() {
    }

    /** The write-ahead log (required unless read-only). */
    public LogStoreBuilder wal(WriteAheadLog wal) {
        this.wal = Objects.requireNonNull(wal, "wal");
        return this;
    }

    /** The object store holding the data objects, and the manifest unless a {@link #catalog} is chosen (required). */
    public LogStoreBuilder objectStore(ObjectStore objectStore) {
        this.objectStore = Objects.requireNonNull(objectStore, "objectStore");
        return this;
    }

    /** The clock for timestamps, retention and timers (default: system UTC). */
    public LogStoreBuilder clock(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        return this;
    }

    /** Store settings (default: {@link StoreConfig#defaults()}). */
    public LogStoreBuilder config(StoreConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        return this;
    }

    /** Store settings by name, applied on top of the current ones. */
    public LogStoreBuilder config(Map<String, ?> settings) {
        this.config = config.with(settings);
        return this;
    }

    /**
     * Where the store reports its metrics (default: {@link StoreMetrics#NONE}, no metrics work at
     * all). {@code MicrometerStoreMetrics.create(registry)} from {@code shale-metrics-micrometer}
     * publishes them to a Micrometer registry (Prometheus, JMX, ...). One instance per store: the
     * store binds it when it opens and closes it when it closes.
     */
    public LogStoreBuilder metrics(StoreMetrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        return this;
    }

    /**
     * Where the store keeps its metadata (default: in the object store, as a chain of manifest
     * deltas and snapshots). {@code PostgresCatalog.factory(options)} from
     * {@code shale-catalog-postgres} keeps it in PostgreSQL instead (preview), and
     * {@code PostgresCatalog.clusterNode(options, lease)} opens the store as one node of a cluster
     * whose nodes each own some partitions (writes to others fail {@link ErrorKind#NOT_OWNER}). Every instance that
     * opens one store, writers and read-only ones alike, must use the same catalog: a store's
     * metadata lives in exactly one place, and Shale does not move it from one to the other.
     *
     * @param catalog a factory from one of Shale's catalog modules (others are refused by
     *     {@link #open()} with {@code INVALID_ARGUMENT})
     */
    public LogStoreBuilder catalog(CatalogFactory catalog) {
        this.catalog = Objects.requireNonNull(catalog, "catalog");
        return this;
    }

    /**
     * Opens without claiming the writer role: no WAL, no appends or admin changes; reads see
     * data as the writer commits it to the manifest (checked every {@code refresh.interval.ms}).
     * Any number of read-only instances may share one store.
     */
    public LogStoreBuilder readOnly(boolean readOnly) {
        this.readOnly = readOnly;
        return this;
    }

    /**
     * Opens the store: reads the manifest, claims a new writer epoch (fencing any previous
     * writer), replays the WAL and starts background work, within {@code open.timeout.ms}
     * (default 60 s): retries of an unreachable object store are logged while they last and stop
     * at that deadline, and everything the open had started is released.
     *
     * @throws ShaleException {@code INVALID_ARGUMENT} if a component is missing,
     *     {@code UNAVAILABLE} if the object store cannot be reached within {@code open.timeout.ms},
     *     {@code STORAGE_ACCESS} at once if the object store refuses access (bad credentials, no
     *     permission, no such bucket or directory), {@code CORRUPT_STORAGE} if the manifest cannot be
     *     decoded, {@code IN_USE} if another live instance holds the WAL; a {@linkplain #catalog catalog}
     *     may add its own (a database that cannot be reached: {@code UNAVAILABLE})
     */
    public LogStore open() {
        if (objectStore == null) {
            closeQuietly(wal);
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "an object store is required");
        }
        if (!readOnly && wal == null) {
            closeQuietly(objectStore);
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "a WAL is required unless the store is read-only");
        }
        if (readOnly && wal != null) {
            closeQuietly(wal); // a read-only store writes nothing
        }
        if (catalog != null && !(catalog instanceof EngineCatalogFactory)) {
            closeQuietly(wal);
            closeQuietly(objectStore);
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "catalog " + catalog.getClass().getName()
                    + " is not one of Shale's catalogs (CatalogFactory is not meant to be implemented outside Shale)");
        }
        return StoreEngine.open(objectStore, readOnly ? null : wal, clock, config, metrics,
                (EngineCatalogFactory) catalog);
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // the open already failed; the original error is what matters
        }
    }
}
