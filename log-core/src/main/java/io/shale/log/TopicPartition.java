package io.shale.log;

import java.util.Objects;

/**
 * A partition of a topic. Printed as {@code topic-partition}, as Kafka does.
 *
 * @param topic the topic name
 * @param partition the partition index, from 0
 */
public record TopicPartition(String topic, int partition) {
    public TopicPartition {
        Objects.requireNonNull(topic, "topic");
        if (partition < 0) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT,
                    "partition index must not be negative: " + topic + "-" + partition);
        }
    }

    public static TopicPartition of(String topic, int partition) {
        return new TopicPartition(topic, partition);
    }

    @Override
    public String toString() {
        return topic + "-" + partition;
    }
}
