/**
 * A store's metadata in PostgreSQL (preview): {@link io.shale.catalog.postgres.PostgresCatalog}
 * makes a {@link io.shale.log.spi.CatalogFactory} for
 * {@link io.shale.log.LogStoreBuilder#catalog(io.shale.log.spi.CatalogFactory)} from
 * {@link io.shale.catalog.postgres.PostgresCatalogOptions}, and
 * {@link io.shale.catalog.postgres.PostgresCatalog#clusterNode} opens a store as one node of a
 * cluster of nodes sharing the bucket and the database
 * ({@link io.shale.catalog.postgres.PostgresClusterNode}). Design: docs/rfcs/0005 in the repository.
 */
package io.shale.catalog.postgres;
