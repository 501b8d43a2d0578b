package io.shale.log;

import java.util.Objects;
import java.util.OptionalInt;

/**
 * A consumer position committed for one partition by one group (see {@link ConsumerOffsets}).
 *
 * @param offset the next offset the group will read (Kafka's convention), at least 0
 * @param metadata free text the committer attached (may be empty, never null)
 * @param leaderEpoch the leader epoch of the last record consumed, if known
 * @param commitTimestamp when the commit was made, epoch milliseconds (set by the store on commit)
 */
public record CommittedOffset(long offset, String metadata, OptionalInt leaderEpoch, long commitTimestamp) {
    public CommittedOffset {
        if (offset < 0) {
            throw new IllegalArgumentException("committed offset must not be negative: " + offset);
        }
        metadata = metadata == null ? "" : metadata;
        Objects.requireNonNull(leaderEpoch, "leaderEpoch");
    }

    /** An offset to commit, without metadata or leader epoch (the store sets the timestamp). */
    public static CommittedOffset of(long offset) {
        return new CommittedOffset(offset, "", OptionalInt.empty(), -1);
    }

    /** An offset to commit with metadata and an optional leader epoch (negative: none). */
    public static CommittedOffset of(long offset, String metadata, int leaderEpoch) {
        return new CommittedOffset(offset, metadata,
                leaderEpoch < 0 ? OptionalInt.empty() : OptionalInt.of(leaderEpoch), -1);
    }
}
