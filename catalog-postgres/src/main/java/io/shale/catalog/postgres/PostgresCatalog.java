package io.shale.catalog.postgres;

import io.shale.log.StoreConfig;
import io.shale.log.internal.manifest.Catalog;
import io.shale.log.internal.manifest.EngineCatalogFactory;
import io.shale.log.spi.CatalogFactory;
import io.shale.log.spi.ObjectStore;
import java.time.Clock;
import java.util.Objects;

/**
 * A store's metadata in PostgreSQL instead of the bucket's manifest chain (preview). Data
 * objects and the WAL stay where they were; what moves to the database is the catalog: topics,
 * partitions, the data objects and their per-partition ranges, and the writer epoch.
 *
 * <pre>{@code
 * LogStore store = LocalStorage.builder(dir)
 *         .catalog(PostgresCatalog.factory(PostgresCatalogOptions.builder("jdbc:postgresql://db/shale")
 *                 .user("shale").password(secret).build()))
 *         .open();
 * }</pre>
 *
 * <p><b>What it does.</b> Each open makes a small connection pool (HikariCP) and brings the
 * schema up to date (versioned SQL files, recorded in {@code schema_version}). A writer claims a
 * new epoch in one transaction; every commit is one transaction that first updates the store row
 * on the condition that the epoch is still the writer's, so a fenced writer's commit fails
 * {@code FENCED} and changes nothing. Read-only stores reload the metadata when the store row
 * shows a newer version.
 *
 * <p><b>Cluster.</b> {@link #factory} opens a store with one writer, as the default catalog does.
 * {@link #clusterNode} opens it as one node of a cluster: several nodes share the bucket and the
 * database, each owning some partitions under leases (see {@link PostgresClusterNode}). A store is
 * one or the other: a single writer refuses a store a cluster owns ({@code INVALID_ARGUMENT}), a
 * cluster node refuses one a single writer ran; read-only stores read both. See
 * docs/rfcs/0005-postgres-catalog-and-cluster.md.
 *
 * <p><b>Errors.</b> A database that cannot be reached within the connect timeout fails the open
 * (or the call) with {@code UNAVAILABLE}; refused credentials or a missing database with
 * {@code STORAGE_ACCESS}; rows that contradict each other, or a schema newer than this version
 * of Shale knows, with {@code CORRUPT_STORAGE}.
 *
 * <p>Thread-safe.
 */
public final class PostgresCatalog {
    private PostgresCatalog() {
    }

    /** A catalog factory for {@link io.shale.log.LogStoreBuilder#catalog(CatalogFactory)}. */
    public static CatalogFactory factory(PostgresCatalogOptions options) {
        return new Factory(Objects.requireNonNull(options, "options"));
    }

    /**
     * A node of a cluster sharing the store of {@code options} (its node id is
     * {@link PostgresCatalogOptions#nodeId()}, unique among live nodes, of letters, digits,
     * {@code .}, {@code _} and {@code -}): give it to
     * {@link io.shale.log.LogStoreBuilder#catalog(CatalogFactory)} to open the store as that node,
     * then claim and release partitions with it. See {@link PostgresClusterNode}.
     *
     * @param lease how long a claim or renewal holds a partition (300 ms to 10 min): a node that
     *     stops renewing loses its partitions after this long, and stops acknowledging before
     * @throws io.shale.log.ShaleException {@code INVALID_ARGUMENT} for a lease out of range or a
     *     node id that cannot name object keys
     */
    public static PostgresClusterNode clusterNode(PostgresCatalogOptions options, java.time.Duration lease) {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(lease, "lease");
        if (lease.toMillis() < 300 || lease.toMillis() > 600_000) {
            throw new io.shale.log.ShaleException(io.shale.log.ErrorKind.INVALID_ARGUMENT, "a partition lease must be"
                    + " between 300 ms and 10 minutes, got " + lease);
        }
        if (!options.nodeId().matches("[A-Za-z0-9._-]{1,100}") || options.nodeId().matches("\\.+")) {
            throw new io.shale.log.ShaleException(io.shale.log.ErrorKind.INVALID_ARGUMENT, "cluster node id '"
                    + options.nodeId() + "' must be 1 to 100 characters of [A-Za-z0-9._-], not only dots (it names"
                    + " the node's object keys)");
        }
        return new ClusterNodeHandle(options, lease);
    }

    private record Factory(PostgresCatalogOptions options) implements EngineCatalogFactory {
        @Override
        public Catalog open(ObjectStore store, Clock clock, StoreConfig config, boolean readOnly) {
            return PgCatalog.open(options, store, clock, readOnly);
        }

        @Override
        public String describe() {
            return options.describe();
        }
    }
}
