package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.LogStore;
import io.shale.storage.local.LocalStorage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transactions with real kafka-clients 4.4: a transactional producer (initTransactions,
 * begin/send/commit and abort), read_committed consumers, consume-transform-produce with
 * sendOffsetsToTransaction, a broker restart with a transaction open, and a fenced zombie.
 */
class TransactionsTest {
    @TempDir
    Path dir;

    private LogStore store;
    private ShaleBroker broker;
    private final List<AutoCloseable> clients = new ArrayList<>();

    private void start() {
        store = LocalStorage.open(dir);
        broker = ShaleBroker.builder(store).listen("127.0.0.1", 0).groupInitialRebalanceDelay(Duration.ZERO)
                .transactionTimeoutCheckInterval(Duration.ofMillis(200)).start();
    }

    private void stop() throws Exception {
        for (AutoCloseable c : clients) {
            c.close();
        }
        clients.clear();
        if (broker != null) {
            broker.close();
            broker = null;
        }
        if (store != null) {
            store.close();
            store = null;
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        stop();
    }

    private Admin admin() {
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrapServers());
        return Admin.create(p);
    }

    private void createTopic(String name, int partitions) throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
        }
    }

    private KafkaProducer<String, String> transactional(String txnId, Map<String, Object> extra) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txnId);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 20_000);
        p.putAll(extra);
        KafkaProducer<String, String> producer = new KafkaProducer<>(p, new org.apache.kafka.common.serialization.StringSerializer(),
                new org.apache.kafka.common.serialization.StringSerializer());
        clients.add(() -> producer.close(Duration.ofSeconds(5)));
        return producer;
    }

    private KafkaConsumer<String, String> consumer(String isolation, String groupId) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 200);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        if (groupId != null) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        }
        KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new org.apache.kafka.common.serialization.StringDeserializer(),
                new org.apache.kafka.common.serialization.StringDeserializer());
        clients.add(c);
        return c;
    }

    /** Reads {@code partitions} from the beginning up to their end offsets (at the consumer's isolation level). */
    private static List<String> readToEnd(KafkaConsumer<String, String> c, List<TopicPartition> partitions) {
        c.assign(partitions);
        c.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = c.endOffsets(partitions);
        List<String> out = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            boolean done = true;
            for (TopicPartition tp : partitions) {
                done &= c.position(tp) >= end.get(tp);
            }
            if (done) {
                break;
            }
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                out.add(r.value());
            }
        }
        return out;
    }

    private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 30 s: " + what);
            }
            Thread.sleep(50);
        }
    }

    @Test
    void readCommittedShouldSeeCommittedRecordsExactlyOnceAndNoneOfTheAborted() throws Exception {
        start();
        createTopic("t", 2);
        List<TopicPartition> tps = List.of(new TopicPartition("t", 0), new TopicPartition("t", 1));
        KafkaProducer<String, String> p = transactional("tx-1", Map.of());
        p.initTransactions();
        p.beginTransaction();
        for (int i = 0; i < 4; i++) {
            p.send(new ProducerRecord<>("t", i % 2, "k", "committed-" + i));
        }
        p.commitTransaction();
        p.beginTransaction();
        for (int i = 0; i < 3; i++) {
            p.send(new ProducerRecord<>("t", i % 2, "k", "aborted-" + i));
        }
        p.flush();
        // while the transaction is open, a read_committed consumer ends at the last stable offset
        KafkaConsumer<String, String> during = consumer("read_committed", null);
        assertThat(during.endOffsets(tps)).containsEntry(tps.get(0), 3L).containsEntry(tps.get(1), 3L); // 2 + marker
        assertThat(readToEnd(during, tps)).containsExactlyInAnyOrder("committed-0", "committed-1", "committed-2",
                "committed-3");
        p.abortTransaction();
        p.beginTransaction();
        p.send(new ProducerRecord<>("t", 0, "k", "committed-4"));
        p.commitTransaction();

        List<String> committed = readToEnd(consumer("read_committed", null), tps);
        assertThat(committed).containsExactlyInAnyOrder("committed-0", "committed-1", "committed-2", "committed-3",
                "committed-4");
        List<String> all = readToEnd(consumer("read_uncommitted", null), tps);
        assertThat(all).as("read_uncommitted sees the aborted records too").hasSize(8)
                .contains("aborted-0", "aborted-1", "aborted-2");
    }

    @Test
    void sendOffsetsToTransactionShouldCommitOffsetsOnlyWithTheTransaction() throws Exception {
        start();
        createTopic("in", 1);
        createTopic("out", 1);
        TopicPartition in = new TopicPartition("in", 0);
        KafkaProducer<String, String> plain = transactional("feeder", Map.of());
        plain.initTransactions();
        plain.beginTransaction();
        for (int i = 0; i < 6; i++) {
            plain.send(new ProducerRecord<>("in", 0, "k", "v" + i));
        }
        plain.commitTransaction();

        KafkaConsumer<String, String> source = consumer("read_committed", "ctp");
        source.subscribe(List.of("in"));
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (got.size() < 6 && System.nanoTime() < deadline) {
            source.poll(Duration.ofMillis(200)).forEach(got::add);
        }
        assertThat(got).hasSize(6);
        ConsumerGroupMetadata group = source.groupMetadata();

        KafkaProducer<String, String> p = transactional("ctp-1", Map.of());
        p.initTransactions();
        // first three: transformed and committed with their offsets
        p.beginTransaction();
        for (ConsumerRecord<String, String> r : got.subList(0, 3)) {
            p.send(new ProducerRecord<>("out", 0, r.key(), r.value().toUpperCase()));
        }
        p.sendOffsetsToTransaction(Map.of(in, new OffsetAndMetadata(3)), group);
        p.commitTransaction();
        assertThat(source.committed(java.util.Set.of(in)).get(in).offset()).isEqualTo(3);
        // the rest: aborted, so neither the output nor the offsets count
        p.beginTransaction();
        for (ConsumerRecord<String, String> r : got.subList(3, 6)) {
            p.send(new ProducerRecord<>("out", 0, r.key(), r.value().toUpperCase()));
        }
        p.sendOffsetsToTransaction(Map.of(in, new OffsetAndMetadata(6)), group);
        p.flush();
        try (Admin admin = admin()) {
            assertThat(admin.listConsumerGroupOffsets("ctp").partitionsToOffsetAndMetadata().get().get(in).offset())
                    .as("not before the commit").isEqualTo(3);
        }
        // a read_committed consumer asks for stable offsets (KIP-447): none while a transaction holds one
        assertThatThrownBy(() -> source.committed(java.util.Set.of(in), Duration.ofSeconds(1)))
                .isInstanceOf(org.apache.kafka.common.errors.TimeoutException.class);
        p.abortTransaction();
        assertThat(source.committed(java.util.Set.of(in)).get(in).offset()).as("dropped by the abort").isEqualTo(3);
        assertThat(readToEnd(consumer("read_committed", null), List.of(new TopicPartition("out", 0))))
                .containsExactly("V0", "V1", "V2");
    }

    @Test
    void aTransactionOpenAcrossABrokerRestartShouldBeAbortedWhenTheProducerReinitialises() throws Exception {
        start();
        createTopic("r", 1);
        TopicPartition tp = new TopicPartition("r", 0);
        KafkaProducer<String, String> p = transactional("restart-1", Map.of());
        p.initTransactions();
        p.beginTransaction();
        p.send(new ProducerRecord<>("r", 0, "k", "before"));
        p.commitTransaction();
        p.beginTransaction();
        p.send(new ProducerRecord<>("r", 0, "k", "open-1"));
        p.send(new ProducerRecord<>("r", 0, "k", "open-2"));
        p.flush();
        assertThat(store.lastStableOffset(io.shale.log.TopicPartition.of("r", 0))).isEqualTo(2);
        // the producer dies (a forced close sends nothing more: a graceful one would abort its
        // transaction) and the broker restarts with the transaction open
        p.close(Duration.ZERO);
        stop();

        start();
        assertThat(store.lastStableOffset(io.shale.log.TopicPartition.of("r", 0))).as("still open after the restart")
                .isEqualTo(2);
        assertThat(store.highWatermark(io.shale.log.TopicPartition.of("r", 0))).isEqualTo(4);
        KafkaProducer<String, String> again = transactional("restart-1", Map.of());
        again.initTransactions(); // aborts the transaction left open
        assertThat(store.lastStableOffset(io.shale.log.TopicPartition.of("r", 0))).isEqualTo(5)
                .isEqualTo(store.highWatermark(io.shale.log.TopicPartition.of("r", 0)));
        again.beginTransaction();
        again.send(new ProducerRecord<>("r", 0, "k", "after"));
        again.commitTransaction();
        assertThat(readToEnd(consumer("read_committed", null), List.of(tp))).containsExactly("before", "after");
    }

    @Test
    void aZombieProducerShouldBeFencedByANewInstanceWithTheSameTransactionalId() throws Exception {
        start();
        createTopic("z", 1);
        KafkaProducer<String, String> zombie = transactional("zombie-1", Map.of());
        zombie.initTransactions();
        zombie.beginTransaction();
        zombie.send(new ProducerRecord<>("z", 0, "k", "zombie"));
        zombie.flush();
        KafkaProducer<String, String> fresh = transactional("zombie-1", Map.of());
        fresh.initTransactions(); // bumps the epoch and aborts the zombie's transaction
        fresh.beginTransaction();
        fresh.send(new ProducerRecord<>("z", 0, "k", "fresh"));
        fresh.commitTransaction();
        assertThatThrownBy(zombie::commitTransaction)
                .satisfiesAnyOf(e -> assertThat(e).isInstanceOf(ProducerFencedException.class),
                        e -> assertThat(e).isInstanceOf(KafkaException.class).hasCauseInstanceOf(ProducerFencedException.class));
        assertThat(readToEnd(consumer("read_committed", null), List.of(new TopicPartition("z", 0))))
                .containsExactly("fresh");
    }

    @Test
    void aTransactionOpenLongerThanItsTimeoutShouldBeAborted() throws Exception {
        start();
        createTopic("slow", 1);
        io.shale.log.TopicPartition tp = io.shale.log.TopicPartition.of("slow", 0);
        KafkaProducer<String, String> p = transactional("slow-1", Map.of(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 1000));
        p.initTransactions();
        p.beginTransaction();
        p.send(new ProducerRecord<>("slow", 0, "k", "late"));
        p.flush();
        assertThat(store.lastStableOffset(tp)).isZero();
        eventually("the coordinator aborts the transaction", () -> store.lastStableOffset(tp) == 2);
        assertThat(readToEnd(consumer("read_committed", null), List.of(new TopicPartition("slow", 0)))).isEmpty();
        assertThatThrownBy(p::commitTransaction).isInstanceOf(KafkaException.class);
    }
}
