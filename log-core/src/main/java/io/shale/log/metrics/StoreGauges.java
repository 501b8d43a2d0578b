package io.shale.log.metrics;

import io.shale.log.TopicPartition;
import java.util.List;

/**
 * A live, read-only view of a store's sizes and lags, given to {@link StoreMetrics#bind} for
 * gauges. Every method is thread-safe and cheap enough to call at every scrape (some walk the
 * store's partitions, none does I/O except {@link #walSizeBytes()} for WALs that list their files),
 * and never throws: before the store has finished opening and after it closed, the values are
 * whatever the store holds then (zero, or -1 where a value is unknown).
 */
public interface StoreGauges {

    /** Whether the store was opened read-only (it then has no WAL, no log cache and no uploads). */
    boolean readOnly();

    /** The store's topics now, sorted. */
    List<String> topics();

    /**
     * Bytes of the topic's data in the object store, as the manifest records it (every run of every
     * partition, committed so far; data still only in the WAL is not counted), or -1 if there is no
     * such topic.
     */
    long topicStoredBytes(String topic);

    /** The high watermark of a partition, or -1 if there is no such partition. */
    long highWatermark(TopicPartition tp);

    /** Bytes appended (in the log cache) and not yet uploaded to the object store. */
    long uploadLagBytes();

    /** Records (offsets) appended and not yet uploaded, summed over partitions. */
    long uploadLagRecords();

    /** How long ago the oldest batch not yet uploaded was appended, in ms; 0 if nothing waits. */
    long uploadLagAgeMillis();

    /** Bytes the WAL occupies in its storage ({@link io.shale.log.spi.WriteAheadLog#sizeBytes()}), or -1 if unknown. */
    long walSizeBytes();

    /** Bytes of memory the log cache holds (batches waiting for upload, and uploaded ones kept for reads). */
    long logCacheBytes();

    /** Bytes of blocks the block cache holds (data read back from the object store). */
    long blockCacheBytes();
}
