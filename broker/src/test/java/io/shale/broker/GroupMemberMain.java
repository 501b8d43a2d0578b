package io.shale.broker;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A consumer-protocol group member in a child JVM, for tests that kill it (SIGKILL: no leave, no
 * more heartbeats). Args: bootstrap servers, group, topic. Prints "assigned N" each time its
 * assignment changes; polls until killed.
 */
public final class GroupMemberMain {
    private GroupMemberMain() {}

    public static void main(String[] args) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, args[1]);
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            c.subscribe(List.of(args[2]));
            int last = -1;
            while (true) {
                c.poll(Duration.ofMillis(100));
                if (c.assignment().size() != last) {
                    last = c.assignment().size();
                    System.out.println("assigned " + last);
                    System.out.flush();
                }
            }
        }
    }
}
