package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Kafka's own clients (kafka-clients 4.x: producer, consumer with assign(), admin) against the broker. */
class KafkaClientsTest {
    @TempDir
    Path dir;
    BrokerFixture fx;

    @BeforeEach
    void start() {
        fx = new BrokerFixture(dir);
    }

    @AfterEach
    void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    private void createTopic(String name, int partitions) throws Exception {
        try (Admin admin = fx.admin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get(20, TimeUnit.SECONDS);
        }
    }

    private static List<TopicPartition> partitions(String topic, int n) {
        List<TopicPartition> out = new ArrayList<>();
        for (int p = 0; p < n; p++) {
            out.add(new TopicPartition(topic, p));
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"all", "1", "0"})
    void producedRecordsAreConsumedBackWithTheirKeysValuesAndOffsets(String acks) throws Exception {
        String topic = "orders-acks-" + (acks.equals("all") ? "all" : acks);
        createTopic(topic, 3);
        int n = 600;
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try (KafkaProducer<String, String> producer = fx.producer(acks, new Properties())) {
            for (int i = 0; i < n; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, i % 3, "key-" + i, "value-" + i)));
            }
            producer.flush();
            for (int i = 0; i < n; i++) {
                RecordMetadata md = sent.get(i).get(30, TimeUnit.SECONDS);
                assertThat(md.partition()).isEqualTo(i % 3);
                if (!acks.equals("0")) {
                    // acknowledged offsets are the records' positions in their partition
                    assertThat(md.offset()).as("offset of record %d", i).isEqualTo(i / 3);
                }
            }
        }
        try (KafkaConsumer<String, String> consumer = fx.consumer()) {
            List<ConsumerRecord<String, String>> got = BrokerFixture.consumeAll(consumer, partitions(topic, 3), n);
            assertThat(got).hasSize(n);
            Map<Integer, List<ConsumerRecord<String, String>>> byPartition =
                    got.stream().collect(Collectors.groupingBy(ConsumerRecord::partition));
            for (int p = 0; p < 3; p++) {
                List<ConsumerRecord<String, String>> recs = byPartition.get(p);
                assertThat(recs).hasSize(n / 3);
                for (int j = 0; j < recs.size(); j++) {
                    int i = j * 3 + p;
                    assertThat(recs.get(j).offset()).isEqualTo(j);
                    assertThat(recs.get(j).key()).isEqualTo("key-" + i);
                    assertThat(recs.get(j).value()).isEqualTo("value-" + i);
                }
            }
            assertThat(consumer.endOffsets(partitions(topic, 3)).values()).containsOnly((long) n / 3);
        }
    }

    @Test
    void pipelinedProduceRequestsOnOneConnectionAreAppendedInRequestOrder() throws Exception {
        // tiny batches, no linger, five requests in flight on the producer's one connection: the broker
        // must append them in the order they arrived, as Kafka does (no retries happen here)
        String topic = "pipelined";
        createTopic(topic, 1);
        Properties extra = new Properties();
        extra.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        extra.put(ProducerConfig.BATCH_SIZE_CONFIG, 100);
        extra.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        extra.put(ProducerConfig.RETRIES_CONFIG, 0);
        int n = 1000;
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try (KafkaProducer<String, String> producer = fx.producer("all", extra)) {
            for (int i = 0; i < n; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, 0, "k" + i, "v" + i)));
            }
            producer.flush();
            for (int i = 0; i < n; i++) {
                assertThat(sent.get(i).get(30, TimeUnit.SECONDS).offset()).as("offset of record %d", i).isEqualTo(i);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gzip", "snappy", "lz4", "zstd"})
    void compressedBatchesAreServedAsTheyWereProduced(String codec) throws Exception {
        String topic = "codec-" + codec;
        createTopic(topic, 1);
        Properties extra = new Properties();
        extra.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
        extra.put(ProducerConfig.LINGER_MS_CONFIG, 50);
        int n = 200;
        try (KafkaProducer<String, String> producer = fx.producer("all", extra)) {
            for (int i = 0; i < n; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k" + i, "compressible value " + i + " ".repeat(50)));
            }
            producer.flush();
        }
        try (KafkaConsumer<String, String> consumer = fx.consumer()) {
            List<ConsumerRecord<String, String>> got = BrokerFixture.consumeAll(consumer, partitions(topic, 1), n);
            assertThat(got).hasSize(n);
            for (int i = 0; i < n; i++) {
                assertThat(got.get(i).offset()).isEqualTo(i);
                assertThat(got.get(i).key()).isEqualTo("k" + i);
            }
        }
    }

    private void produceNumbered(String topic, int partitions, int n) throws Exception {
        try (KafkaProducer<String, String> producer = fx.producer("all", new Properties())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, i % partitions, "k" + i, "value-" + i + "-" + "x".repeat(100))));
            }
            for (Future<RecordMetadata> f : sent) {
                f.get(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void smallFetchSizesStillReadEveryRecord() throws Exception {
        // responses much smaller than the data: many fetches, each within fetch.max.bytes except a first
        // batch larger than the limit, which Kafka (and this broker) returns whole so the consumer progresses
        createTopic("small-fetches", 3);
        int n = 900;
        produceNumbered("small-fetches", 3, n);
        Properties extra = new Properties();
        extra.put(org.apache.kafka.clients.consumer.ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 1024);
        extra.put(org.apache.kafka.clients.consumer.ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 2048);
        try (KafkaConsumer<String, String> consumer = fx.consumer(extra)) {
            List<ConsumerRecord<String, String>> got = BrokerFixture.consumeAll(consumer, partitions("small-fetches", 3), n);
            assertThat(got).hasSize(n);
            assertThat(got.stream().map(ConsumerRecord::key).distinct().count()).isEqualTo(n);
        }
    }

    @Test
    void aFetchWaitsForMinBytesUntilMaxWaitThenAnswersWithWhatThereIs() throws Exception {
        createTopic("min-bytes", 1);
        produceNumbered("min-bytes", 1, 10);
        Properties extra = new Properties();
        extra.put(org.apache.kafka.clients.consumer.ConsumerConfig.FETCH_MIN_BYTES_CONFIG, 10_000_000);
        extra.put(org.apache.kafka.clients.consumer.ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 300);
        try (KafkaConsumer<String, String> consumer = fx.consumer(extra)) {
            assertThat(BrokerFixture.consumeAll(consumer, partitions("min-bytes", 1), 10)).hasSize(10);
        }
    }

    @Test
    void aPositionPastTheEndIsResetByTheConsumersPolicy() throws Exception {
        createTopic("reset", 1);
        produceNumbered("reset", 1, 20);
        TopicPartition tp = new TopicPartition("reset", 0);
        try (KafkaConsumer<String, String> consumer = fx.consumer()) {
            consumer.assign(List.of(tp));
            consumer.seek(tp, 1_000); // OFFSET_OUT_OF_RANGE, then auto.offset.reset=earliest
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (got.size() < 20 && System.nanoTime() < deadline) {
                consumer.poll(java.time.Duration.ofMillis(200)).forEach(got::add);
            }
            assertThat(got).hasSize(20);
            assertThat(got.get(0).offset()).isZero();
        }
    }

    @Test
    void listOffsetsAnswersEarliestLatestAndByTimestamp() throws Exception {
        String topic = "times";
        createTopic(topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaProducer<String, String> producer = fx.producer("all", new Properties())) {
            for (int i = 0; i < 10; i++) {
                // one batch per record: timestamps 1000, 2000, ... 10000
                producer.send(new ProducerRecord<>(topic, 0, 1000L * (i + 1), "k" + i, "v" + i)).get(30, TimeUnit.SECONDS);
            }
        }
        fx.store.deleteRecordsBefore(io.shale.log.TopicPartition.of(topic, 0), 2);
        try (KafkaConsumer<String, String> consumer = fx.consumer()) {
            assertThat(consumer.beginningOffsets(List.of(tp))).containsEntry(tp, 2L);
            assertThat(consumer.endOffsets(List.of(tp))).containsEntry(tp, 10L);
            Map<TopicPartition, OffsetAndTimestamp> at = consumer.offsetsForTimes(Map.of(tp, 4500L));
            assertThat(at.get(tp).offset()).isEqualTo(4);
            assertThat(at.get(tp).timestamp()).isEqualTo(5000L);
            assertThat(consumer.offsetsForTimes(Map.of(tp, 3000L)).get(tp).offset()).isEqualTo(2);
            assertThat(consumer.offsetsForTimes(Map.of(tp, 10_001L)).get(tp)).as("after the last record").isNull();
        }
    }

    @Test
    void producingToAnUnknownTopicFailsAndCreatesNothing() throws Exception {
        Properties extra = new Properties();
        extra.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 1500);
        try (KafkaProducer<String, String> producer = fx.producer("all", extra)) {
            Future<RecordMetadata> f = producer.send(new ProducerRecord<>("no-such-topic", "k", "v"));
            assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(TimeoutException.class).hasMessageContaining("no-such-topic");
        }
        try (Admin admin = fx.admin()) {
            assertThatThrownBy(() -> admin.describeTopics(List.of("no-such-topic")).allTopicNames().get(20, TimeUnit.SECONDS))
                    .cause().isInstanceOf(UnknownTopicOrPartitionException.class);
            assertThat(admin.listTopics().names().get(20, TimeUnit.SECONDS)).doesNotContain("no-such-topic");
        }
        assertThat(fx.store.listTopics()).doesNotContain("no-such-topic");
    }

    @Test
    void adminCreatesDescribesAndDeletesTopicsAndDescribesTheCluster() throws Exception {
        try (Admin admin = fx.admin()) {
            admin.createTopics(List.of(new NewTopic("a", 4, (short) 1), new NewTopic("b", java.util.Optional.empty(),
                    java.util.Optional.empty()).configs(Map.of("retention.ms", "3600000")))).all().get(20, TimeUnit.SECONDS);
            assertThat(fx.store.describeTopic("b").orElseThrow().config().retentionMs()).isEqualTo(3_600_000L);

            assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic("a", 1, (short) 1))).all().get(20, TimeUnit.SECONDS))
                    .cause().isInstanceOf(TopicExistsException.class);
            assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic("c", 1, (short) 3))).all().get(20, TimeUnit.SECONDS))
                    .cause().isInstanceOf(InvalidReplicationFactorException.class);
            assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic("d", 1, (short) 1).configs(Map.of("no.such.config", "1"))))
                    .all().get(20, TimeUnit.SECONDS)).cause().isInstanceOf(org.apache.kafka.common.errors.InvalidConfigurationException.class);

            Map<String, TopicDescription> described = admin.describeTopics(List.of("a", "b")).allTopicNames().get(20, TimeUnit.SECONDS);
            assertThat(described.get("a").partitions()).hasSize(4);
            assertThat(described.get("b").partitions()).hasSize(1);
            assertThat(described.get("a").topicId().toString()).isNotEqualTo(described.get("b").topicId().toString());
            assertThat(described.get("a").partitions().get(0).leader().id()).isEqualTo(fx.broker.nodeId());
            assertThat(admin.listTopics().names().get(20, TimeUnit.SECONDS)).containsExactlyInAnyOrder("a", "b");

            DescribeClusterResult cluster = admin.describeCluster();
            assertThat(cluster.clusterId().get(20, TimeUnit.SECONDS)).isEqualTo(fx.broker.clusterId());
            List<Node> nodes = new ArrayList<>(cluster.nodes().get(20, TimeUnit.SECONDS));
            assertThat(nodes).hasSize(1);
            assertThat(nodes.get(0).port()).isEqualTo(fx.broker.port());

            admin.deleteTopics(List.of("a")).all().get(20, TimeUnit.SECONDS);
            assertThat(admin.listTopics().names().get(20, TimeUnit.SECONDS)).containsExactly("b");
            assertThat(fx.store.listTopics()).containsExactly("b");
            assertThatThrownBy(() -> admin.deleteTopics(List.of("a")).all().get(20, TimeUnit.SECONDS))
                    .cause().isInstanceOf(UnknownTopicOrPartitionException.class);
        }
    }

    @Test
    void aConsumerWaitingAtTheEndGetsRecordsProducedLater() throws Exception {
        String topic = "tail";
        createTopic(topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = fx.consumer();
                KafkaProducer<String, String> producer = fx.producer("all", new Properties())) {
            consumer.assign(List.of(tp));
            consumer.seekToEnd(List.of(tp));
            assertThat(consumer.position(tp)).isZero();
            assertThat(consumer.poll(java.time.Duration.ofMillis(300))).isEmpty();
            producer.send(new ProducerRecord<>(topic, 0, "late", "arrival")).get(30, TimeUnit.SECONDS);
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (got.isEmpty() && System.nanoTime() < deadline) {
                consumer.poll(java.time.Duration.ofMillis(200)).forEach(got::add);
            }
            assertThat(got).extracting(ConsumerRecord::key).containsExactly("late");
        }
    }

    @Test
    void aProducerWithDefaultSettingsIsIdempotentAndEveryRecordIsStoredOnce() throws Exception {
        String topic = "defaults";
        createTopic(topic, 3);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, fx.broker.bootstrapServers());
        // nothing else: kafka-clients 4.x defaults to enable.idempotence=true, acks=all, retries=MAX_VALUE,
        // max.in.flight.requests.per.connection=5, so it first asks for a producer id (InitProducerId)
        int n = 3000;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p,
                new org.apache.kafka.common.serialization.StringSerializer(),
                new org.apache.kafka.common.serialization.StringSerializer())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i)));
            }
            for (Future<RecordMetadata> f : sent) {
                f.get(30, TimeUnit.SECONDS);
            }
        }
        long stored = 0;
        for (int part = 0; part < 3; part++) {
            io.shale.log.TopicPartition tp = io.shale.log.TopicPartition.of(topic, part);
            stored += fx.store.highWatermark(tp);
            if (fx.store.highWatermark(tp) > 0) {
                io.shale.log.record.RecordBatch first = fx.store.read(tp, 0, 1 << 20).batches().get(0);
                assertThat(first.producerId()).as("batches carry the producer id").isNotNegative();
                assertThat(first.producerEpoch()).isZero();
            }
        }
        assertThat(stored).as("every record stored once").isEqualTo(n);
        try (KafkaConsumer<String, String> consumer = fx.consumer()) {
            List<ConsumerRecord<String, String>> got = BrokerFixture.consumeAll(consumer, partitions(topic, 3), n);
            assertThat(got).hasSize(n);
            assertThat(got.stream().map(ConsumerRecord::key).distinct().count()).isEqualTo(n);
        }
    }

    @Test
    void everythingAcknowledgedIsServedAfterARestartOnTheSameDirectory() throws Exception {
        String topic = "durable";
        createTopic(topic, 2);
        int n = 400;
        try (KafkaProducer<String, String> producer = fx.producer("all", new Properties())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, i % 2, "k" + i, "v" + i)));
            }
            for (Future<RecordMetadata> f : sent) {
                f.get(30, TimeUnit.SECONDS);
            }
        }
        fx.close();
        fx = new BrokerFixture(dir);
        try (KafkaConsumer<String, String> consumer = fx.consumer()) {
            List<ConsumerRecord<String, String>> got = BrokerFixture.consumeAll(consumer, partitions(topic, 2), n);
            assertThat(got).hasSize(n);
            got.sort(Comparator.comparing((ConsumerRecord<String, String> r) -> r.partition()).thenComparing(ConsumerRecord::offset));
            Map<String, String> values = new HashMap<>();
            got.forEach(r -> values.put(r.key(), r.value()));
            for (int i = 0; i < n; i++) {
                assertThat(values).containsEntry("k" + i, "v" + i);
            }
        }
        // and the broker keeps appending after the restart, at the next offsets
        try (KafkaProducer<String, String> producer = fx.producer("all", new Properties())) {
            RecordMetadata md = producer.send(new ProducerRecord<>(topic, 0, "after", "restart")).get(30, TimeUnit.SECONDS);
            assertThat(md.offset()).isEqualTo(n / 2);
        }
    }
}
