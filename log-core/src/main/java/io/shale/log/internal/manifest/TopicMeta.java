package io.shale.log.internal.manifest;

import java.util.Map;
import java.util.UUID;

/**
 * A topic as recorded in the manifest. Immutable; replaced on change.
 *
 * @param name topic name
 * @param topicId unique id
 * @param configs explicit config overrides (Kafka names)
 * @param partitionIds store-wide partition id of each partition index
 */
public record TopicMeta(String name, UUID topicId, Map<String, String> configs, int[] partitionIds) {
    public TopicMeta {
        configs = Map.copyOf(configs);
        partitionIds = partitionIds.clone();
    }

    public int partitionCount() {
        return partitionIds.length;
    }

    @Override
    public int[] partitionIds() {
        return partitionIds.clone();
    }

    public int partitionId(int index) {
        return partitionIds[index];
    }
}
