-- Takeover with the object WAL (RFC 0005, "What each WAL guarantees on takeover"): per partition,
-- the nodes whose WALs may hold its acknowledged entries above its committed end, oldest owner
-- first. A claim appends the claimer (if absent); the new owner, once it has replayed those WALs
-- and committed what it found, sets it to itself alone; a release after a drain (everything
-- committed) empties it.
ALTER TABLE shale_partitions ADD COLUMN wal_nodes text[] NOT NULL DEFAULT '{}';
