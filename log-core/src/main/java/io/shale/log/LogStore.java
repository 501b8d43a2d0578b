package io.shale.log;

import io.shale.log.record.SimpleRecord;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A store of Kafka-style partitioned, append-only logs whose durable home is an object store.
 * Open one with {@link #builder()}.
 *
 * <p><b>Threading.</b> All methods are thread-safe. Appends to one partition are ordered by the
 * order in which their calls take the partition's lock (offsets follow that order); appends to
 * different partitions run in parallel. Futures complete on Shale's threads: dependent actions
 * must not block (use the {@code *Async} variants of {@code CompletableFuture} to hop off).
 *
 * <p><b>Durability.</b> An append's future completes only once its records are durable in the
 * store's write-ahead log; readers never see records above the high watermark (the durable end).
 * Data is then uploaded to the object store in objects that hold many partitions, compacted into
 * per-partition segments and expired by retention, all in the background.
 *
 * <p><b>Errors.</b> Failures are {@link ShaleException}s carrying an {@link ErrorKind}.
 * Synchronous methods throw them; asynchronous ones complete their future with them and never
 * throw (except {@link NullPointerException} for null arguments). After {@link #close()}, every
 * method fails with {@link ErrorKind#CLOSED}; after this writer is fenced by a newer one, writes
 * fail with {@link ErrorKind#FENCED}.
 *
 * <p><b>Admin</b> operations (create, delete, alter, add partitions, delete records) are
 * synchronous and return once committed to the store's manifest in the object store.
 */
public interface LogStore extends AutoCloseable {

    /** Kafka ListOffsets' "earliest" timestamp: {@link #offsetForTimestamp} returns the log start offset. */
    long EARLIEST_TIMESTAMP = -2L;
    /** Kafka ListOffsets' "latest" timestamp: {@link #offsetForTimestamp} returns the high watermark. */
    long LATEST_TIMESTAMP = -1L;

    /** Starts building a store from its components. */
    static LogStoreBuilder builder() {
        return new LogStoreBuilder();
    }

    // ---------------------------------------------------------------- topics

    /**
     * Creates a topic. Names follow Kafka's rules: 1 to 249 characters from {@code [a-zA-Z0-9._-]},
     * not {@code "."} or {@code ".."}.
     *
     * @throws ShaleException {@code TOPIC_ALREADY_EXISTS}, {@code INVALID_ARGUMENT} (name, count,
     *     config), {@code UNAVAILABLE} (manifest commit failed), {@code FENCED}, {@code READ_ONLY}
     */
    TopicDescription createTopic(String topic, int partitions, Map<String, ?> configs);

    /** {@link #createTopic(String, int, Map)} with the default config. */
    default TopicDescription createTopic(String topic, int partitions) {
        return createTopic(topic, partitions, Map.of());
    }

    /** Names of all topics, sorted. */
    List<String> listTopics();

    /** The topic, or empty if there is none. */
    Optional<TopicDescription> describeTopic(String topic);

    /**
     * Grows a topic to {@code totalPartitions} partitions (Kafka's CreatePartitions: the count can
     * only increase).
     *
     * @throws ShaleException {@code UNKNOWN_TOPIC_OR_PARTITION}, {@code INVALID_ARGUMENT} if not larger
     */
    TopicDescription addPartitions(String topic, int totalPartitions);

    /**
     * Applies config overrides to a topic (Kafka's incremental alter: keys not named keep their
     * values; a key mapped to {@code null} loses its override and returns to its default).
     *
     * @throws ShaleException {@code UNKNOWN_TOPIC_OR_PARTITION}, {@code INVALID_ARGUMENT} for an
     *     unknown key or a bad value (nothing is changed)
     */
    TopicDescription alterTopicConfig(String topic, Map<String, ?> configs);

    /**
     * Deletes a topic and, in the background, its data. Appends in flight and long polls waiting
     * on it fail with {@code UNKNOWN_TOPIC_OR_PARTITION}.
     */
    void deleteTopic(String topic);

    // ---------------------------------------------------------------- writes

    /**
     * Appends records as one batch, compressed with the topic's {@code compression.type}. Records
     * without a timestamp get the store clock's time.
     *
     * <p>The future completes with the assigned offsets once the batch is durable in the WAL, or
     * exceptionally with {@code UNKNOWN_TOPIC_OR_PARTITION}, {@code INVALID_ARGUMENT} (no records, a null record,
     * a timestamp outside the topic's allowed range), {@code RECORD_TOO_LARGE}, {@code UNAVAILABLE}
     * (WAL failure, or cache still full after {@code append.max.block.ms}), {@code FENCED},
     * {@code READ_ONLY}, {@code CLOSED} or {@code STORAGE_ACCESS} (an object WAL the object store
     * refuses). A failed append is not readable while this store stays
     * open, and a later append reuses its offsets. Like a timed-out Kafka produce, though, an append
     * that failed because the WAL could not confirm it (UNAVAILABLE, FENCED, CLOSED) may have
     * reached the WAL anyway: if no later append took its offsets before a crash or close, it can
     * reappear at those offsets when the store is next opened. An acknowledged append is never
     * lost or duplicated.
     *
     * <p>When the log cache is full of data not yet uploaded, this call blocks the caller for up to
     * {@code append.max.block.ms} waiting for an upload to free space (back-pressure).
     */
    CompletableFuture<AppendResult> append(TopicPartition tp, List<SimpleRecord> records);

    /**
     * Appends one or more complete Kafka v2 record batches as a broker would: each batch is
     * validated (magic, length, CRC, {@code max.message.bytes}), its base offset is stamped in
     * place (and, for LogAppendTime topics, its max timestamp and CRC), and its bytes are stored
     * as they are; the codec is kept. With {@code append.validation=strict} (the default, see
     * {@link StoreConfig}) every record is also decoded, decompressing at most 64 MiB per batch, as
     * Kafka's broker does: record count, offset deltas, lengths and varints, no trailing bytes,
     * codec id, control, transactional and producer-sequence fields, each record's timestamp; a
     * CreateTime batch whose max timestamp differs from its records' largest is stored with the
     * records' value (and a recomputed CRC), as Kafka's broker does. The store copies the bytes once into its log cache; the
     * caller keeps ownership of {@code batches} and may reuse it when this method returns.
     *
     * <p>Completion and errors as for {@link #append(TopicPartition, List)}, plus
     * {@code CORRUPT_RECORD} for a batch that fails validation, naming the batch (its index in the
     * call) and record at fault and what was wrong; nothing of the call is appended.
     *
     * <p>Batches of idempotent and transactional producers (a producer id) are deduplicated and
     * checked as a Kafka broker does (see {@link #allocateProducerId()}): a retried batch completes
     * with its original offsets and is not appended again; {@code OUT_OF_ORDER_SEQUENCE} and
     * {@code INVALID_PRODUCER_EPOCH} refuse the whole call. A transactional batch (attributes bit 4)
     * opens its producer's transaction in this partition if none is open (see
     * {@link #writeTxnMarker}). A control batch is refused with {@code INVALID_RECORD}: only
     * {@link #writeTxnMarker} writes transaction markers.
     */
    CompletableFuture<AppendResult> appendBatch(TopicPartition tp, ByteBuffer batches);

    /**
     * A {@link RecordAppender} over this store: single-record appends, grouped per partition into
     * batches by size and linger as a Kafka producer does. Each appender has its own buffer and one
     * thread; close it before the store (the store's {@link #close(Duration)} closes the appenders still
     * open, first, with half its timeout). Records without a timestamp get the store's clock's time.
     * See {@link RecordAppender}.
     *
     * @throws ShaleException {@code READ_ONLY} for a read-only store, {@code CLOSED} after close,
     *     {@code FENCED} once a newer writer took over
     */
    RecordAppender appender(AppenderOptions options);

    /** {@link #appender(AppenderOptions)} with {@link AppenderOptions#defaults()}. */
    default RecordAppender appender() {
        return appender(AppenderOptions.defaults());
    }

    /**
     * Allocates a producer id for an idempotent producer (what a Kafka broker's InitProducerId
     * hands out): unique in this store for ever, across restarts and takeovers by another writer.
     * Ids are reserved in blocks of 1000 committed to the manifest, so most calls return at once
     * and one in a thousand waits for a manifest commit; ids of a block left unused when the writer
     * closes are skipped, never reused.
     *
     * <p><b>Idempotent appends.</b> {@link #appendBatch} checks batches that carry a producer id
     * (transactional ones included; not control batches) as a Kafka broker does: per partition and producer id the store
     * keeps the producer epoch and its last five batches, persisted with the data. A batch that
     * repeats one of them (same epoch, first and last sequence) is not appended again: its future
     * completes with the original batch's offsets (once those are durable). A batch with an epoch
     * older than the producer's newest fails with {@code INVALID_PRODUCER_EPOCH}; one whose first
     * sequence does not follow the producer's last (or, in a new epoch, is not 0) fails with
     * {@code OUT_OF_ORDER_SEQUENCE}. A producer id the partition does not know (new, or expired
     * after {@code producer.id.expiration.ms}) is accepted at any sequence, as Kafka 4 does.
     *
     * @return a non-negative producer id
     * @throws ShaleException {@code UNAVAILABLE} (manifest commit failed; retry), {@code FENCED},
     *     {@code READ_ONLY}, {@code CLOSED}
     */
    long allocateProducerId();

    /**
     * Writes a transaction marker, as a Kafka broker does when a transaction coordinator ends a
     * transaction (WriteTxnMarkers): one control batch with Kafka's {@code EndTransactionMarker}
     * record (key: version 0 and type COMMIT = 1 or ABORT = 0; value: version 0 and
     * {@code coordinatorEpoch}), carrying {@code producerId} and {@code producerEpoch}. It closes the
     * producer's open transaction in this partition; after an ABORT marker the transaction's range
     * (its first offset to the marker) is listed in the {@link FetchResult#abortedTransactions()} of
     * {@link IsolationLevel#READ_COMMITTED} reads that overlap it. A marker for a producer with no
     * open transaction here is written too, and ends nothing.
     *
     * <p>Fenced by producer epoch as in Kafka: an epoch older than the newest this partition holds
     * for the producer fails with {@code INVALID_PRODUCER_EPOCH}; a newer one is accepted (a
     * coordinator aborting the transaction of a producer it bumped). The coordinator epoch is
     * stored in the marker; it is not checked.
     *
     * <p>Completes as {@link #appendBatch} does, once the marker is durable in the WAL; the
     * {@link #lastStableOffset last stable offset} moves past the transaction only then. The open
     * transactions and aborted ranges are durable with the data (committed in the manifest with
     * each upload, rebuilt from the WAL after a crash); aborted ranges wholly below the log start
     * offset are forgotten when retention or {@link #deleteRecordsBefore} move it.
     *
     * @param commit true for COMMIT, false for ABORT
     */
    CompletableFuture<AppendResult> writeTxnMarker(TopicPartition tp, long producerId, short producerEpoch,
            int coordinatorEpoch, boolean commit);

    // ---------------------------------------------------------------- reads

    /**
     * Reads whole batches from {@code offset}: from the log cache (views of the appended bytes, no
     * copy) or from the object store (views of cached blocks). See {@link FetchResult}.
     *
     * @throws ShaleException {@code OFFSET_OUT_OF_RANGE} if {@code offset} is below the log start
     *     offset or above the high watermark; {@code INVALID_ARGUMENT} for a negative
     *     {@code maxBytes}; {@code UNKNOWN_TOPIC_OR_PARTITION};
     *     {@code UNAVAILABLE} if the object store could not serve the data; {@code CORRUPT_STORAGE}
     *     if stored bytes fail their checksum
     */
    FetchResult read(TopicPartition tp, long offset, int maxBytes);

    /**
     * {@link #read(TopicPartition, long, int)} at an isolation level: with
     * {@link IsolationLevel#READ_COMMITTED} only batches below the {@link #lastStableOffset last
     * stable offset} are returned (none if {@code offset} is at or above it, which is not an error
     * up to the high watermark), with the aborted transactions overlapping them in
     * {@link FetchResult#abortedTransactions()}, as a Kafka fetch with {@code read_committed}
     * answers; {@link FetchResult#records()} then skips the aborted records.
     */
    FetchResult read(TopicPartition tp, long offset, int maxBytes, IsolationLevel isolation);

    /**
     * Long poll: completes as soon as at least one batch at or after {@code offset} is readable,
     * or with an empty result when {@code maxWait} passes first. Errors as for {@link #read}.
     */
    CompletableFuture<FetchResult> poll(TopicPartition tp, long offset, int maxBytes, Duration maxWait);

    /**
     * {@link #poll(TopicPartition, long, int, Duration)} at an isolation level: with
     * {@link IsolationLevel#READ_COMMITTED} it waits until data below the last stable offset is
     * readable (a transaction's records wait for its marker).
     */
    CompletableFuture<FetchResult> poll(TopicPartition tp, long offset, int maxBytes, Duration maxWait,
            IsolationLevel isolation);

    // ---------------------------------------------------------------- offsets

    /** The first offset still readable. */
    long logStartOffset(TopicPartition tp);

    /** One past the last durable offset: what a reader can read up to. */
    long highWatermark(TopicPartition tp);

    /**
     * Kafka's last stable offset: the first offset of the earliest transaction still open in this
     * partition (one whose COMMIT or ABORT marker is not yet durable counts as open), or the high
     * watermark if none is. What a {@code read_committed} consumer may read up to, and what Kafka's
     * ListOffsets answers for "latest" at that isolation level. At most the high watermark, and at
     * least the log start offset (a transaction open across it holds it there, as in Kafka).
     */
    long lastStableOffset(TopicPartition tp);

    /**
     * Kafka ListOffsets: for {@link #EARLIEST_TIMESTAMP} the log start offset, for
     * {@link #LATEST_TIMESTAMP} the high watermark, otherwise the first offset whose record
     * timestamp is at least {@code timestamp} (empty if there is none). Control batches
     * (transaction markers) never match a timestamp, as in Kafka.
     */
    Optional<OffsetAndTimestamp> offsetForTimestamp(TopicPartition tp, long timestamp);

    /**
     * Kafka DeleteRecords: moves the log start offset up to {@code offset} (at most the high
     * watermark; -1 means the high watermark, as in Kafka); records below become unreadable at once
     * and their storage is freed in whole segments later. A lower offset than the current log start
     * changes nothing. Returns the new log start offset.
     *
     * @throws ShaleException {@code OFFSET_OUT_OF_RANGE} if {@code offset} is above the high watermark
     */
    long deleteRecordsBefore(TopicPartition tp, long offset);

    /**
     * The partition leader epoch of every partition of this store, as a Kafka broker reports it:
     * the writer epoch this instance claimed when it opened (each open for writing claims a higher
     * one, fencing the previous writer), clamped to {@code Integer.MAX_VALUE}. Every batch appended
     * through this instance carries it in its {@code partitionLeaderEpoch} header field (stamped at
     * append like the base offset; the field is not covered by the batch CRC), so a log written by
     * several writers holds non-decreasing epochs in offset order. A read-only store answers the
     * epoch of the writer whose metadata it last read (0 if none). Cheap; safe from any thread.
     *
     * @throws ShaleException {@code CLOSED} if the store is closed
     */
    int leaderEpoch();

    // ---------------------------------------------------------------- lifecycle

    /** Whether this instance was opened read-only. */
    boolean isReadOnly();

    /**
     * Uploads every record appended before this call (waiting for those still on their way into
     * the WAL) and commits it to the manifest, returning when that is done. Appends made while it
     * runs are not waited for. Background uploads do this on their own schedule; call it before a
     * planned hand-over to another process, or in tests. Waits at most
     * {@code object.store.retry.deadline.ms} (at least 1 s); see {@link #flush(Duration)}.
     *
     * @throws ShaleException {@code UNAVAILABLE} if the object store failed or the deadline passed
     *     (the data stays in the WAL and is uploaded later), {@code FENCED}, {@code READ_ONLY},
     *     {@code CLOSED}
     */
    void flush();

    /**
     * {@link #flush()} with its own deadline. Appends that fail meanwhile (a WAL failure rolls them
     * back) are not waited for.
     *
     * @throws ShaleException {@code UNAVAILABLE} naming how many partitions still have data waiting
     *     if {@code timeout} passed first; otherwise as {@link #flush()}
     */
    void flush(Duration timeout);

    /**
     * {@link #close(Duration)} with the {@code close.timeout.ms} setting (default 30 s) as the
     * timeout.
     */
    @Override
    void close();

    /**
     * Stops accepting operations, completes or fails in-flight appends, uploads what it can within
     * {@code timeout} and releases threads, the WAL (and its lock) and the object store. Open
     * {@link RecordAppender}s are closed first (within half the timeout), so what they buffered is
     * appended.
     * Idempotent: a second call returns at once.
     *
     * <p>When the object store is slow or unreachable, this returns about {@code timeout} later
     * (plus at most a few seconds for threads to stop) whatever is still pending: retries stop,
     * object-store requests in flight are abandoned, appends not yet acknowledged and long polls
     * fail with {@code CLOSED}, flushes with {@code CLOSED} or {@code UNAVAILABLE}, and a WARN line
     * says what was left. Nothing acknowledged is lost: data not uploaded stays in the WAL and is
     * replayed and uploaded when the store is next opened (with a file WAL, on this machine).
     * A zero timeout skips the final upload.
     *
     * @throws NullPointerException if {@code timeout} is null
     */
    void close(Duration timeout);
}
