package io.shale.log.internal.manifest;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/** One change recorded in a manifest delta. Applied in order by {@link ManifestState#apply}. */
public sealed interface ManifestOp {

    /** A writer claimed the store with this epoch; older epochs are fenced. */
    record ClaimEpoch(long epoch) implements ManifestOp {
    }

    record CreateTopic(String name, UUID topicId, Map<String, String> configs, int[] partitionIds)
            implements ManifestOp {
    }

    record AddPartitions(String name, int[] partitionIds) implements ManifestOp {
    }

    /** Replaces the topic's config overrides with {@code configs}. */
    record AlterTopicConfig(String name, Map<String, String> configs) implements ManifestOp {
    }

    record DeleteTopic(String name) implements ManifestOp {
    }

    /** A new data object and the partition runs it holds. */
    record AddObject(ObjectMeta object, List<RangeRef> ranges) implements ManifestOp {
    }

    /** Identifies one run: the object holding it and its base offset. */
    record RangeId(String objectKey, long baseOffset) {
    }

    /** Removes the named runs of a partition (compaction replaced them). Runs already gone are ignored. */
    record RemoveRanges(int partitionId, List<RangeId> ranges) implements ManifestOp {
    }

    /** Moves the log start offset up; runs wholly below it are dropped. */
    record SetLogStart(int partitionId, long offset) implements ManifestOp {
    }

    /**
     * Key-based compaction cleaned the partition up to {@code offset} (exclusive): every record
     * below it was cleaned at least once; the offsets at and above it are the dirty part. Only moves
     * up. Committed in the same delta as the cleaned segments, so it is exactly as durable as they are.
     */
    record SetCleanedOffset(int partitionId, long offset) implements ManifestOp {
    }

    /** Unreferenced objects were deleted from the object store after their grace period. */
    record ObjectsDeleted(List<String> keys) implements ManifestOp {
    }

    /**
     * Idempotent producers: the producer state of a partition as of its committed end, committed in
     * the same delta as the data it describes. {@code entries} replace the entries of their producer
     * ids; the producers in {@code expired} are forgotten (idle longer than
     * {@code producer.id.expiration.ms}). Format version 3.
     */
    record UpdateProducers(int partitionId, List<ProducerEntry> entries, List<Long> expired) implements ManifestOp {
    }

    /**
     * Transactions: the partition's transaction state as of its committed end, committed in the
     * same delta as the data it describes. {@code ongoing} replaces the set of open transactions
     * (producer id to the offset of the transaction's first batch); {@code aborted} are added to
     * the aborted transactions (those whose ABORT marker is in the committed data). Aborted
     * transactions wholly below the log start are dropped when it moves ({@link SetLogStart}).
     * Format version 4.
     */
    record UpdateTransactions(int partitionId, Map<Long, Long> ongoing, List<io.shale.log.AbortedTransaction> aborted)
            implements ManifestOp {
        public UpdateTransactions {
            ongoing = Map.copyOf(ongoing);
            aborted = List.copyOf(aborted);
        }
    }

    /**
     * Producer ids below {@code next} are handed out (or reserved by a writer that may hand them
     * out): no writer ever allocates them again. Only moves up. Format version 3.
     */
    record AllocateProducerIds(long next) implements ManifestOp {
    }
}
