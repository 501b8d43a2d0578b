package io.shale.log.internal.manifest;

import io.shale.log.StoreConfig;
import io.shale.log.spi.CatalogFactory;
import io.shale.log.spi.ObjectStore;
import java.time.Clock;

/**
 * The engine's side of {@link CatalogFactory}: makes the {@link Catalog} of one store instance.
 * Implemented by Shale's catalog modules (not public API: {@link Catalog} and the types it uses are
 * engine internals).
 */
public interface EngineCatalogFactory extends CatalogFactory {

    /**
     * Makes the catalog of one store instance, before {@link Catalog#load}. May connect to its
     * service here (failing with {@code UNAVAILABLE} or {@code STORAGE_ACCESS}); the store closes
     * the catalog when it closes, and also when its open fails.
     *
     * @param store the store's object store (already wrapped in the engine's retry policy)
     * @param clock the store's clock
     * @param config the store's settings
     * @param readOnly whether the store opens read-only (it never calls {@link Catalog#claimWriter})
     */
    Catalog open(ObjectStore store, Clock clock, StoreConfig config, boolean readOnly);
}
