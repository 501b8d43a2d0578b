package io.shale.log;

/**
 * Where a record appended through a {@link RecordAppender} was stored, once it is durable.
 *
 * @param partition the partition it was appended to
 * @param offset the record's own offset
 * @param timestamp the record's timestamp as stored: its create time (the one it carried, or the
 *     appender's clock when it carried none) or, for topics with
 *     {@code message.timestamp.type=LogAppendTime}, the time the store appended its batch
 */
public record RecordMetadata(TopicPartition partition, long offset, long timestamp) {
}
