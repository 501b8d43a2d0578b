package io.shale.log;

/**
 * A transaction that ended with an ABORT marker: what a Kafka {@code read_committed} fetch
 * response lists so that a consumer can skip the aborted records (Kafka's
 * {@code FetchResponse.AbortedTransaction}, plus the offset of the marker).
 *
 * @param producerId the transactional producer's id
 * @param firstOffset the offset of the transaction's first batch in the partition (the marker's
 *     own offset if the transaction wrote nothing to the partition)
 * @param lastOffset the offset of the ABORT marker that ended it
 */
public record AbortedTransaction(long producerId, long firstOffset, long lastOffset) {
    public AbortedTransaction {
        if (producerId < 0 || firstOffset < 0 || lastOffset < firstOffset) {
            throw new IllegalArgumentException("aborted transaction of producer " + producerId + " from offset "
                    + firstOffset + " to " + lastOffset);
        }
    }
}
