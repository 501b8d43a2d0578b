package io.shale.broker;

import io.shale.log.LogStore;
import io.shale.storage.local.LocalStorage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** A store in a directory and a broker on a free port, plus real Kafka clients for it. */
final class BrokerFixture implements AutoCloseable {
    final Path dir;
    final LogStore store;
    final ShaleBroker broker;

    BrokerFixture(Path dir) {
        this.dir = dir;
        this.store = LocalStorage.open(dir);
        ShaleBroker b;
        try {
            b = ShaleBroker.builder(store).listen("127.0.0.1", 0).maxRequestBytes(1 << 20)
                    // short group timings keep the group tests short
                    .groupInitialRebalanceDelay(Duration.ZERO)
                    .groupSessionTimeouts(Duration.ofMillis(500), Duration.ofMinutes(5))
                    .consumerGroupTimeouts(Duration.ofSeconds(3), Duration.ofMillis(200)).start();
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        this.broker = b;
    }

    Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        return Admin.create(p);
    }

    KafkaProducer<String, String> producer(String acks, Properties extra) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, acks);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 20_000);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        p.putAll(extra);
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    KafkaConsumer<String, String> consumer() {
        return consumer(new Properties());
    }

    KafkaConsumer<String, String> consumer(Properties extra) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 200);
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        p.putAll(extra);
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    /** Assigns the partitions, seeks to the beginning and polls until {@code count} records came, or 30 s passed. */
    static List<ConsumerRecord<String, String>> consumeAll(KafkaConsumer<String, String> consumer,
            List<TopicPartition> partitions, int count) {
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (out.size() < count && System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(200)).forEach(out::add);
        }
        return out;
    }

    @Override
    public void close() {
        try {
            broker.close();
        } finally {
            store.close();
        }
    }
}
