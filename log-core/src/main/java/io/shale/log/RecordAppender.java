package io.shale.log;

import io.shale.log.record.SimpleRecord;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Appends records one at a time and groups them, per partition, into batches, as a Kafka producer
 * does: the simple call is also the fast one. Get one from {@link LogStore#appender(AppenderOptions)}.
 *
 * <pre>{@code
 * try (RecordAppender appender = store.appender(AppenderOptions.defaults())) {
 *     appender.append(tp, SimpleRecord.of("customer-7", "{...}"))
 *             .whenComplete((md, error) -> ...);   // md.offset(): this record's offset
 * }   // close() sends what is buffered and completes every future
 * }</pre>
 *
 * <p><b>Batching.</b> Each partition has at most one open batch. A record joins its partition's
 * open batch; the batch is handed to the store ({@link LogStore#appendBatch}, one Kafka v2 batch
 * compressed with the topic's {@code compression.type}) when the next record would not fit in
 * {@link AppenderOptions#batchBytes()}, when {@link AppenderOptions#linger()} has passed since its
 * first record, or on {@link #flush()} and {@link #close()}. The record's bytes are copied before
 * {@code append} returns: the caller may reuse its buffers at once.
 *
 * <p><b>Threading.</b> Thread-safe: any number of threads may append, to the same or different
 * partitions. Records of one partition are stored in the order their {@code append} calls took
 * the partition's lock (for one thread: call order), and batches of one partition reach the store
 * in order. The appender adds ONE thread, whatever the number of partitions ({@code
 * shale-appender-N}, a daemon): it sends batches whose linger passed and works for
 * {@code flush}/{@code close}. Full batches are sent by the appending thread that filled them.
 * Futures complete on Shale's threads (the store's, the appender's, or the appending thread's when
 * the store fails a batch at once): dependent actions must not block, and must not call
 * {@link #flush()} or {@link #close()}.
 *
 * <p><b>Durability.</b> A record's future completes with its {@link RecordMetadata} (its own
 * offset) only when the batch it went into is durable in the store's write-ahead log, exactly as
 * for {@link LogStore#append}. Records still buffered in the appender are in memory only: a crash
 * loses them (their futures never completed, so nothing acknowledged is lost).
 *
 * <p><b>Errors.</b> {@code append} never throws; its future fails with a {@link ShaleException}:
 * <ul>
 *   <li>before buffering: {@code INVALID_ARGUMENT} (null partition or record, a negative
 *       timestamp, a timestamp outside the topic's allowed range, no key on a compacted topic),
 *       {@code UNKNOWN_TOPIC_OR_PARTITION}, {@code RECORD_TOO_LARGE} (a record larger than
 *       {@link AppenderOptions#bufferBytes()}), {@code CLOSED} (after {@link #close()}, or the store
 *       is closed), {@code UNAVAILABLE} (no buffer space within {@link AppenderOptions#maxBlock()},
 *       or the thread was interrupted while waiting). Only that record fails.</li>
 *   <li>with its batch: whatever {@link LogStore#appendBatch} fails the batch with
 *       ({@code UNAVAILABLE}, {@code FENCED}, {@code CLOSED}, {@code RECORD_TOO_LARGE},
 *       {@code UNKNOWN_TOPIC_OR_PARTITION} if the topic was deleted meanwhile, ...). Every record of
 *       that batch fails with the same exception, and no other record fails because of it, except
 *       that the store rolls back a partition's later appends that were still on their way to the
 *       WAL when an earlier one failed (they fail with {@code UNAVAILABLE}, "rolled back"). Later
 *       batches of the partition are appended normally; so a caller that retries failed records
 *       may store them after later ones. As for {@link LogStore#append}, a batch that failed with
 *       {@code UNAVAILABLE}, {@code FENCED} or {@code CLOSED} may still have reached the WAL.</li>
 * </ul>
 *
 * <p><b>Closing.</b> Close the appender before its store. An appender still open when its store
 * closes is closed by the store first, with half the store's close timeout: what it buffered is sent
 * while the store still takes it, and its thread ends. Appends after that fail with {@code CLOSED}.
 * Every future completes on every path:
 * {@link #close(Duration)} sends what is buffered, waits until the store has completed every batch
 * or the deadline passes, then fails what is left: records never handed to the store with
 * {@code CLOSED} (they were not appended), records handed to the store but not yet acknowledged with
 * {@code UNAVAILABLE} (they may still become durable).
 */
public interface RecordAppender extends AutoCloseable {

    /**
     * Buffers one record for {@code tp}. Returns at once, except when the appender already holds
     * {@link AppenderOptions#bufferBytes()}: then it waits for space (a partition's batch being
     * handed to the store frees it) at most {@link AppenderOptions#maxBlock()}, and fails the
     * future with {@code UNAVAILABLE} if none came. Records without a timestamp get the
     * store's clock's time at this call.
     *
     * @return completes with the record's offset once its batch is durable; see the class comment
     *     for failures
     */
    CompletableFuture<RecordMetadata> append(TopicPartition tp, SimpleRecord record);

    /**
     * Sends every record appended before this call at once (linger is not waited for), and waits
     * until the store has completed their futures (with success or failure), at most
     * {@link AppenderOptions#maxBlock()}. Failed records do not make it throw: their futures carry
     * the errors.
     *
     * @throws ShaleException {@code UNAVAILABLE} if the deadline passed first (the records stay on
     *     their way; their futures complete later), {@code CLOSED} after {@link #close()}
     */
    void flush();

    /** {@link #flush()} with its own deadline. */
    void flush(Duration timeout);

    /** {@link #close(Duration)} with {@link AppenderOptions#maxBlock()}. */
    @Override
    void close();

    /**
     * Stops accepting records (later appends fail with {@code CLOSED}), sends every buffered record,
     * waits at most {@code timeout} for the store to complete their batches, fails what is left (see
     * the class comment) and stops the appender's thread. Returns within {@code timeout} (plus the
     * time to fail what is left) with every future completed. Idempotent: a second call returns at
     * once. Does not close the store.
     */
    void close(Duration timeout);
}
