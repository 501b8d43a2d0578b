/**
 * A store's metadata in PostgreSQL (preview): {@link io.shale.catalog.postgres.PostgresCatalog}
 * makes a {@link io.shale.log.spi.CatalogFactory} for
 * {@link io.shale.log.LogStoreBuilder#catalog(io.shale.log.spi.CatalogFactory)} from
 * {@link io.shale.catalog.postgres.PostgresCatalogOptions}. Design: docs/rfcs/0005 in the repository.
 */
package io.shale.catalog.postgres;
