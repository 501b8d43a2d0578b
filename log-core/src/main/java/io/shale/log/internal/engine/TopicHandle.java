package io.shale.log.internal.engine;

import io.shale.log.TopicConfig;
import io.shale.log.TopicDescription;
import java.util.UUID;

/** A topic's live view: its parsed config and its partitions. Replaced fields are volatile. */
final class TopicHandle {
    final String name;
    final UUID topicId;
    volatile TopicConfig config;
    volatile PartitionLog[] partitions;

    TopicHandle(String name, UUID topicId, TopicConfig config) {
        this.name = name;
        this.topicId = topicId;
        this.config = config;
        this.partitions = new PartitionLog[0];
    }

    TopicDescription describe() {
        return new TopicDescription(name, topicId, partitions.length, config);
    }
}
