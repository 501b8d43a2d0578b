-- Shale catalog, schema version 2: per-partition ownership with leases, for a cluster of nodes
-- sharing one store (docs/rfcs/0005-postgres-catalog-and-cluster.md, "The cluster").
-- Applied by SchemaMigrations after V1, in the same transaction; a version-1 schema is migrated
-- in place and keeps working as a single-writer store.

-- How the store's partitions are owned:
--   'writer': one writer owns every partition (schema version 1's model, the default); commits
--             are fenced on shale_store.writer_epoch and serialized on the store row.
--   'leases': a cluster of nodes; each partition has its own owner, epoch and lease, and commits
--             are fenced on the epochs of the partitions they touch, without the store row.
-- The change is one-way (writer -> leases) and bumps writer_epoch, which fences the single writer.
ALTER TABLE shale_store ADD COLUMN ownership text NOT NULL DEFAULT 'writer'
    CHECK (ownership IN ('writer', 'leases'));

-- Cluster nodes register here too (writer_epoch 0); lease_ms is the node's lease length and
-- heartbeat_at_ms its last renewal, both as the database's clock measures them.
ALTER TABLE shale_nodes ADD COLUMN lease_ms bigint CHECK (lease_ms > 0);

-- Ownership columns (added in version 1, unused by it): owner_node NULL means unowned, and then
-- there is no lease; lease_expires_at_ms is milliseconds since the epoch of the database's clock.
-- A claim sets owner_node and bumps partition_epoch; it only ever moves up.
ALTER TABLE shale_partitions ADD CONSTRAINT shale_partitions_epoch_check CHECK (partition_epoch >= 0);
ALTER TABLE shale_partitions ADD CONSTRAINT shale_partitions_lease_needs_owner
    CHECK (owner_node IS NOT NULL OR lease_expires_at_ms IS NULL);
-- Commits of the cluster path that touched the partition. They leave shale_store.version alone
-- (no store-wide row on that path), so readers reload when this column's sum moves.
ALTER TABLE shale_partitions ADD COLUMN commits bigint NOT NULL DEFAULT 0 CHECK (commits >= 0);
-- renewals and releases select a node's partitions
CREATE INDEX shale_partitions_by_owner ON shale_partitions (owner_node) WHERE owner_node IS NOT NULL;
