-- Shale catalog, schema version 1 (docs/rfcs/0005-postgres-catalog-and-cluster.md).
-- Applied by SchemaMigrations inside one transaction, in the schema named by
-- PostgresCatalogOptions.schema (the connection's search_path); one schema holds one store.

-- The store: one row. version counts commits (the engine's manifest version); writer_epoch is
-- the newest claimed writer epoch. Every commit updates this row first, conditioned on its
-- writer's epoch: that is the fencing check, in the commit's own transaction.
CREATE TABLE shale_store (
    id                 smallint PRIMARY KEY CHECK (id = 1),
    -- written into the bucket (manifest/deltas/external-catalog) by the first writer: ties the
    -- bucket to this catalog, so neither a wrong catalog nor the default manifest opens it
    store_id           uuid     NOT NULL DEFAULT gen_random_uuid(),
    version            bigint   NOT NULL CHECK (version >= 0),
    writer_epoch       bigint   NOT NULL CHECK (writer_epoch >= 0),
    writer_node        text,
    next_partition_id  integer  NOT NULL CHECK (next_partition_id >= 0),
    -- producer ids below this were handed out (idempotent producers); only moves up
    next_producer_id   bigint   NOT NULL DEFAULT 0 CHECK (next_producer_id >= 0),
    last_commit_token  text,
    last_commit_at_ms  bigint   NOT NULL
);
INSERT INTO shale_store (id, version, writer_epoch, next_partition_id, last_commit_at_ms)
    VALUES (1, 0, 0, 0, 0);

-- Nodes that claimed the store (the writer registry; lease renewals of the cluster step).
CREATE TABLE shale_nodes (
    node_id          text   PRIMARY KEY,
    writer_epoch     bigint NOT NULL,
    claimed_at_ms    bigint NOT NULL,
    heartbeat_at_ms  bigint NOT NULL
);

CREATE TABLE shale_topics (
    name           text    PRIMARY KEY,
    topic_id       uuid    NOT NULL UNIQUE,
    config_keys    text[]  NOT NULL,
    config_values  text[]  NOT NULL,
    CHECK (cardinality(config_keys) = cardinality(config_values))
);

-- One row per partition. owner_node, partition_epoch and lease_expires_at_ms are the cluster
-- step's ownership columns: in schema version 1 the single writer owns every partition
-- (partition_epoch = its writer epoch, no lease expiry), and commits are fenced on the store row.
CREATE TABLE shale_partitions (
    partition_id         integer PRIMARY KEY CHECK (partition_id >= 0),
    topic_name           text    NOT NULL REFERENCES shale_topics (name),
    partition_index      integer NOT NULL CHECK (partition_index >= 0),
    log_start_offset     bigint  NOT NULL DEFAULT 0 CHECK (log_start_offset >= 0),
    end_offset           bigint  NOT NULL DEFAULT 0 CHECK (end_offset >= 0),
    cleaned_offset       bigint  NOT NULL DEFAULT 0 CHECK (cleaned_offset >= 0),
    owner_node           text,
    partition_epoch      bigint  NOT NULL DEFAULT 0,
    lease_expires_at_ms  bigint,
    UNIQUE (topic_name, partition_index)
);

-- Data objects. unreferenced_since_ms is set when no range points at the object any more: it
-- waits for the deletion grace period, then the writer deletes it and the row goes.
CREATE TABLE shale_objects (
    object_key            text     PRIMARY KEY,
    size_bytes            bigint   NOT NULL CHECK (size_bytes >= 0),
    index_position        bigint   NOT NULL CHECK (index_position >= 0),
    kind                  smallint NOT NULL CHECK (kind IN (0, 1)),
    created_at_ms         bigint   NOT NULL,
    unreferenced_since_ms bigint
);

-- The runs of one partition inside one object.
CREATE TABLE shale_ranges (
    partition_id      integer NOT NULL REFERENCES shale_partitions (partition_id),
    object_key        text    NOT NULL REFERENCES shale_objects (object_key),
    base_offset       bigint  NOT NULL CHECK (base_offset >= 0),
    next_offset       bigint  NOT NULL,
    max_timestamp     bigint  NOT NULL,
    byte_position     bigint  NOT NULL CHECK (byte_position >= 0),
    byte_length       integer NOT NULL CHECK (byte_length >= 0),
    first_block       integer NOT NULL CHECK (first_block >= 0),
    block_count       integer NOT NULL CHECK (block_count >= 0),
    single_block_crc  integer NOT NULL,
    PRIMARY KEY (partition_id, object_key, base_offset),
    CHECK (next_offset > base_offset)
);
CREATE INDEX shale_ranges_by_object ON shale_ranges (object_key);

-- Idempotent producers: per partition and producer id, the newest epoch and the last (at most
-- five) batches of that epoch, as of the partition's committed end. The batches travel as
-- parallel arrays, oldest first. Rows go with their partition.
CREATE TABLE shale_producers (
    partition_id   integer  NOT NULL REFERENCES shale_partitions (partition_id) ON DELETE CASCADE,
    producer_id    bigint   NOT NULL CHECK (producer_id >= 0),
    epoch          smallint NOT NULL CHECK (epoch >= 0),
    first_seqs     integer[] NOT NULL,
    last_seqs      integer[] NOT NULL,
    first_offsets  bigint[]  NOT NULL,
    last_offsets   bigint[]  NOT NULL,
    timestamps     bigint[]  NOT NULL,
    PRIMARY KEY (partition_id, producer_id),
    CHECK (cardinality(first_seqs) BETWEEN 1 AND 5
           AND cardinality(last_seqs) = cardinality(first_seqs)
           AND cardinality(first_offsets) = cardinality(first_seqs)
           AND cardinality(last_offsets) = cardinality(first_seqs)
           AND cardinality(timestamps) = cardinality(first_seqs))
);
