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

    /** Removes the partition's runs that live in the named objects (compaction replaced them). */
    record RemoveRanges(int partitionId, List<String> objectKeys) implements ManifestOp {
    }

    /** Moves the log start offset up; runs wholly below it are dropped. */
    record SetLogStart(int partitionId, long offset) implements ManifestOp {
    }

    /** Unreferenced objects were deleted from the object store after their grace period. */
    record ObjectsDeleted(List<String> keys) implements ManifestOp {
    }
}
