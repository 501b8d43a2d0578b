package io.shale.log;

import java.util.Objects;
import java.util.UUID;

/**
 * A topic as the store knows it.
 *
 * @param name the topic name
 * @param topicId a unique id given at creation (a re-created topic gets a new one)
 * @param partitionCount number of partitions
 * @param config the topic's configuration, defaults filled in
 */
public record TopicDescription(String name, UUID topicId, int partitionCount, TopicConfig config) {
    public TopicDescription {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(topicId, "topicId");
        Objects.requireNonNull(config, "config");
    }
}
