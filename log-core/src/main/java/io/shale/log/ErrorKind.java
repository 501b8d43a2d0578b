package io.shale.log;

/**
 * The coarse kinds of failure that the public API reports, one per way a caller would react.
 *
 * <p>Every {@link ShaleException} carries exactly one kind. The kinds are part of the API: new
 * kinds may be added in a minor release, existing ones keep their meaning.
 */
public enum ErrorKind {
    /** An argument was malformed: a bad topic name, an unknown config key, a negative size. */
    INVALID_ARGUMENT(false),
    /** The topic or partition does not exist (or was deleted). */
    UNKNOWN_TOPIC_OR_PARTITION(false),
    /** {@code createTopic} named a topic that already exists. */
    TOPIC_ALREADY_EXISTS(false),
    /** A read or offset lookup named an offset below the log start or above the high watermark. */
    OFFSET_OUT_OF_RANGE(false),
    /** A batch is larger than the topic's {@code max.message.bytes}. */
    RECORD_TOO_LARGE(false),
    /** A caller-supplied batch failed validation: wrong magic, bad CRC, inconsistent length. */
    CORRUPT_RECORD(false),
    /** Bytes read back from the WAL, an object or the manifest failed verification. */
    CORRUPT_STORAGE(false),
    /**
     * The store could not complete the operation now but may if it is retried later: the object
     * store or the WAL is failing (throttling, network, disk full), or the log cache stayed full
     * of data not yet uploaded for longer than {@code append.max.block.ms}.
     */
    UNAVAILABLE(true),
    /**
     * Another process opened the same store for writing and claimed a newer writer epoch. This
     * instance accepts no more writes; reopen it to continue.
     */
    FENCED(false),
    /**
     * The storage refused the operation in a way that repeating it will not fix: access denied,
     * invalid credentials or a signature mismatch (S3 403 {@code AccessDenied},
     * {@code InvalidAccessKeyId}, {@code SignatureDoesNotMatch}), a bucket or store directory that
     * does not exist ({@code NoSuchBucket}, a mistyped path), a request the store rejects as
     * malformed (other 4xx), or a directory this process may not write. Fails at once, without
     * retries; the message names the bucket or directory and the key. Fix the configuration
     * (credentials, permissions, bucket name, path) and open the store again.
     */
    STORAGE_ACCESS(false),
    /** The store was closed. */
    CLOSED(false),
    /** The store was opened read-only and the operation writes. */
    READ_ONLY(false),
    /**
     * Another live store instance, in this process or another one, holds a lock this open needs
     * (a file WAL's directory). Nothing was claimed and no running writer was disturbed. The
     * message names the holder; opening again succeeds only after that instance closed.
     */
    IN_USE(false),
    /**
     * Idempotent producers: a batch's first sequence number does not follow the last one this
     * partition holds for its producer id and epoch (a batch was lost between them, or the
     * producer's new epoch does not start at sequence 0). Nothing of the call is appended. Kafka's
     * {@code OUT_OF_ORDER_SEQUENCE_NUMBER}. A batch that repeats one of the producer's last five
     * batches is not an error: the append completes with the original batch's offsets.
     */
    OUT_OF_ORDER_SEQUENCE(false),
    /**
     * Idempotent producers: a batch carries a producer epoch older than the newest this partition
     * has seen for its producer id (another producer with the same id and a newer epoch took
     * over). Nothing of the call is appended. Kafka's {@code INVALID_PRODUCER_EPOCH}.
     */
    INVALID_PRODUCER_EPOCH(false),
    /**
     * A batch is well formed but not allowed: a control batch (transaction marker) given to
     * {@code appendBatch}, which only {@link LogStore#writeTxnMarker} may write, as Kafka's broker
     * refuses control records from producers. Nothing of the call is appended. Kafka's
     * {@code INVALID_RECORD}.
     */
    INVALID_RECORD(false),
    /**
     * A store opened as a node of a cluster (several nodes on one bucket, partition ownership in a
     * shared catalog) was asked to write to a partition it does not own: another node owns it, or
     * nobody does, or this node lost it (its lease ran out, or it was moved) while the append was
     * in flight. Nothing of the call is acknowledged. The message names the partition and, when
     * known, its owner. Retriable: find the owner (or wait for the partition to be claimed) and
     * send the write there. Kafka's {@code NOT_LEADER_OR_FOLLOWER}. Reads are served by every node
     * and never fail with this kind.
     */
    NOT_OWNER(true);

    private final boolean retriable;

    ErrorKind(boolean retriable) {
        this.retriable = retriable;
    }

    /** Whether repeating the same call later may succeed without any change by the caller. */
    public boolean isRetriable() {
        return retriable;
    }
}
