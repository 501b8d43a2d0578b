package io.shale.log.spi;

/**
 * Where a store keeps its metadata (topics, partitions, the data objects and their ranges, writer
 * epochs), chosen with {@link io.shale.log.LogStoreBuilder#catalog(CatalogFactory)}. The default,
 * when none is chosen, keeps it in the object store itself as a chain of manifest deltas and
 * snapshots: no other service to run.
 *
 * <p>This is a handle, not an interface to implement: the engine talks to its metadata through an
 * internal interface whose types may change between releases, so only factories from Shale's own
 * modules are accepted (today {@code shale-catalog-postgres}'s {@code PostgresCatalog.factory(...)}
 * and {@code PostgresCatalog.clusterNode(...)}); any other implementation is refused by
 * {@code open()} with {@code INVALID_ARGUMENT}.
 *
 * <p>A factory may be used by several stores (each open makes its own catalog instance, which the
 * store closes when it closes), except a cluster node's, which serves one writable store at a time.
 */
public interface CatalogFactory {

    /** What this catalog is, for logs and errors (for example the database and schema). */
    String describe();
}
