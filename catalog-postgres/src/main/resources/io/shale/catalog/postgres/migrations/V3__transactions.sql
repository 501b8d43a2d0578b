-- Transactions (manifest op UpdateTransactions): per partition, the open transactions as of the
-- partition's committed end (producer id -> offset of the transaction's first batch) and the
-- aborted transactions whose ABORT marker is committed (dropped once wholly below the log start).
-- Rows go with their partition.
CREATE TABLE shale_txn_ongoing (
    partition_id  integer NOT NULL REFERENCES shale_partitions (partition_id) ON DELETE CASCADE,
    producer_id   bigint  NOT NULL CHECK (producer_id >= 0),
    first_offset  bigint  NOT NULL CHECK (first_offset >= 0),
    PRIMARY KEY (partition_id, producer_id)
);

CREATE TABLE shale_txn_aborted (
    partition_id  integer NOT NULL REFERENCES shale_partitions (partition_id) ON DELETE CASCADE,
    producer_id   bigint  NOT NULL CHECK (producer_id >= 0),
    first_offset  bigint  NOT NULL CHECK (first_offset >= 0),
    last_offset   bigint  NOT NULL CHECK (last_offset >= first_offset),
    PRIMARY KEY (partition_id, last_offset)
);
