package io.shale.log.metrics;

import io.shale.log.TopicPartition;
import java.util.Map;

/**
 * A source of committed consumer positions, from which consumer lag is computed (the high
 * watermark minus the committed offset, per partition). Shale does not store committed offsets
 * yet; this is the extension point for whatever does (an application's own offset store today, a
 * consumer-group store in Shale later): give it to a metrics implementation that supports
 * consumer lag, such as {@code MicrometerStoreMetrics.Builder#committedOffsets}.
 *
 * <p><b>Threading.</b> Called from a metrics thread, never from the store's threads; it must be
 * thread-safe and should answer from memory.
 */
@FunctionalInterface
public interface CommittedOffsets {

    /**
     * The committed offsets now, by consumer group, then by partition: each the next offset the
     * group will consume (Kafka's convention). Partitions a group has not committed are absent.
     */
    Map<String, Map<TopicPartition, Long>> committedOffsets();
}
