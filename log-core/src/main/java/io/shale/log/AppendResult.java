package io.shale.log;

/**
 * What a durable append assigned.
 *
 * @param baseOffset offset of the first appended record
 * @param lastOffset offset of the last appended record
 * @param logAppendTime the store's clock when it appended the records (epoch milliseconds); the
 *     records' timestamp when the topic uses {@code message.timestamp.type=LogAppendTime}
 * @param logStartOffset the partition's log start offset after the append
 */
public record AppendResult(long baseOffset, long lastOffset, long logAppendTime, long logStartOffset) {
    /** Number of offsets the append used. */
    public long offsetCount() {
        return lastOffset - baseOffset + 1;
    }
}
