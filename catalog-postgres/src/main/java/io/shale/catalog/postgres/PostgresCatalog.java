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
 * <p><b>What it does not do yet.</b> One writer per store, as with the default catalog. Schema
 * version 2 holds per-partition owners, epochs and leases for a cluster of nodes, and the catalog
 * side of that cluster exists, but a store cannot be opened as a cluster node yet; a writer refuses
 * a store that a cluster owns ({@code INVALID_ARGUMENT}), read-only stores read it. See
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
