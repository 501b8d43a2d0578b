package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.LogStore;
import io.shale.storage.local.LocalStorage;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The broker as a program, in a child JVM: start, serve, stop on SIGTERM with the store closed. */
class BrokerMainTest {
    private static final Pattern LISTENING = Pattern.compile("Shale broker listening on (\\S+)");

    @TempDir
    Path dir;

    /** A running child broker and what it printed. */
    private static final class Child {
        final Process process;
        final String bootstrap;
        final Path stderr;

        Child(Process process, String bootstrap, Path stderr) {
            this.process = process;
            this.bootstrap = bootstrap;
            this.stderr = stderr;
        }
    }

    private Child start(Path data, String name, String... extraArgs) throws IOException, InterruptedException {
        Path stderr = dir.resolve(name + ".stderr");
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx256m");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=info");
        cmd.add(BrokerMain.class.getName());
        cmd.addAll(List.of("--data", data.toString(), "--listen", "127.0.0.1:0"));
        cmd.addAll(List.of(extraArgs));
        Process p = new ProcessBuilder(cmd).redirectError(stderr.toFile()).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine(); // blocks until the broker printed its address, or the child exited
        if (line == null) {
            p.waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("the broker exited: " + Files.readString(stderr));
        }
        Matcher m = LISTENING.matcher(line);
        assertThat(m.find()).as("first line: %s", line).isTrue();
        return new Child(p, m.group(1), stderr);
    }

    private static String stop(Child c) throws Exception {
        c.process.destroy(); // SIGTERM
        assertThat(c.process.waitFor(60, TimeUnit.SECONDS)).as("stopped within 60 s").isTrue();
        assertThat(c.process.exitValue()).isEqualTo(143); // 128 + SIGTERM, after the shutdown hook ran
        return Files.readString(c.stderr);
    }

    private static String clusterId(String bootstrap) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(p)) {
            return admin.describeCluster().clusterId().get(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void servesUntilSigtermThenClosesTheStoreAndKeepsItsClusterIdAcrossRestarts() throws Exception {
        Path data = dir.resolve("shale-data");
        Child first = start(data, "first", "--topic", "events", "--topic", "other:3");
        String clusterId;
        try {
            clusterId = clusterId(first.bootstrap);
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, first.bootstrap);
            try (Admin admin = Admin.create(p)) {
                assertThat(admin.describeTopics(List.of("events", "other")).allTopicNames().get(20, TimeUnit.SECONDS))
                        .hasEntrySatisfying("events", d -> assertThat(d.partitions()).hasSize(1))
                        .hasEntrySatisfying("other", d -> assertThat(d.partitions()).hasSize(3));
            }
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < 100; i++) {
                    producer.send(new ProducerRecord<>("events", "k" + i, "v" + i));
                }
                producer.flush();
            }
        } catch (Throwable t) {
            first.process.destroyForcibly();
            throw t;
        }
        String log = stop(first);
        assertThat(log).contains("stopped").contains("closed");

        Child second = start(data, "second", "--topic", "events:5"); // exists: left as it is
        try {
            assertThat(clusterId(second.bootstrap)).isEqualTo(clusterId);
        } finally {
            stop(second);
        }
        try (LogStore store = LocalStorage.open(data)) {
            io.shale.log.TopicPartition tp = io.shale.log.TopicPartition.of("events", 0);
            assertThat(store.highWatermark(tp)).isEqualTo(100);
            assertThat(store.describeTopic("events").orElseThrow().partitionCount()).isEqualTo(1);
            assertThat(store.read(tp, 0, 1 << 20).recordList()).hasSize(100);
        }
    }

    @Test
    void whatAcksAllAcknowledgedSurvivesSigkill() throws Exception {
        Path data = dir.resolve("killed");
        Child child = start(data, "killed", "--topic", "events:2");
        int n = 300;
        try {
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, child.bootstrap);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
                List<java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata>> acks = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    acks.add(producer.send(new ProducerRecord<>("events", i % 2, "k" + i, "v" + i)));
                }
                for (var a : acks) {
                    a.get(30, TimeUnit.SECONDS); // every record acknowledged before the kill
                }
            }
            try (Admin admin = Admin.create(p)) {
                // committed offsets, acknowledged once durable in the WAL
                admin.alterConsumerGroupOffsets("killed-group", java.util.Map.of(
                        new org.apache.kafka.common.TopicPartition("events", 0),
                        new org.apache.kafka.clients.consumer.OffsetAndMetadata(100),
                        new org.apache.kafka.common.TopicPartition("events", 1),
                        new org.apache.kafka.clients.consumer.OffsetAndMetadata(50, "m"))).all().get(30, TimeUnit.SECONDS);
            }
        } finally {
            child.process.destroyForcibly(); // SIGKILL: no shutdown hook, no upload, the WAL as it is
            assertThat(child.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(Files.readString(child.stderr)).doesNotContain("closed store");
        try (LogStore store = LocalStorage.open(data)) {
            long total = 0;
            for (int part = 0; part < 2; part++) {
                io.shale.log.TopicPartition tp = io.shale.log.TopicPartition.of("events", part);
                List<io.shale.log.record.Record> recs = store.read(tp, 0, 1 << 20).recordList();
                assertThat(recs).hasSize(n / 2);
                for (int j = 0; j < recs.size(); j++) {
                    assertThat(java.nio.charset.StandardCharsets.UTF_8.decode(recs.get(j).key()).toString())
                            .isEqualTo("k" + (j * 2 + part));
                }
                total += store.highWatermark(tp);
            }
            assertThat(total).isEqualTo(n);
            var committed = io.shale.log.ConsumerOffsets.open(store).fetch("killed-group");
            assertThat(committed).hasSize(2);
            assertThat(committed.get(io.shale.log.TopicPartition.of("events", 0)).offset()).isEqualTo(100);
            assertThat(committed.get(io.shale.log.TopicPartition.of("events", 1)).offset()).isEqualTo(50);
            assertThat(committed.get(io.shale.log.TopicPartition.of("events", 1)).metadata()).isEqualTo("m");
        }
    }

    /**
     * A transaction open when the broker is SIGKILLed: the restarted broker (a new process on the
     * same data: WAL replay, the transaction state from its internal topic) still holds it open,
     * and a new producer with the same transactional id aborts it.
     */
    @Test
    void anOpenTransactionSurvivesSigkillAndIsAbortedWhenItsProducerReinitialises() throws Exception {
        Path data = dir.resolve("txn");
        Child child = start(data, "txn-1", "--topic", "tx:1");
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, child.bootstrap);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "killed-txn");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        KafkaProducer<String, String> first = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
        try {
            first.initTransactions();
            first.beginTransaction();
            first.send(new ProducerRecord<>("tx", 0, "k", "committed-0"));
            first.commitTransaction();
            first.beginTransaction();
            first.send(new ProducerRecord<>("tx", 0, "k", "open-1"));
            first.send(new ProducerRecord<>("tx", 0, "k", "open-2"));
            first.flush(); // acknowledged, in an open transaction
        } finally {
            child.process.destroyForcibly(); // SIGKILL with the transaction open
            assertThat(child.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
            first.close(java.time.Duration.ZERO);
        }
        Child second = start(data, "txn-2");
        try {
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, second.bootstrap);
            try (KafkaProducer<String, String> again = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
                again.initTransactions(); // aborts the transaction the killed broker held open
                again.beginTransaction();
                again.send(new ProducerRecord<>("tx", 0, "k", "after"));
                again.commitTransaction();
            }
            Properties c = new Properties();
            c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, second.bootstrap);
            c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
                    new StringDeserializer())) {
                org.apache.kafka.common.TopicPartition tp = new org.apache.kafka.common.TopicPartition("tx", 0);
                consumer.assign(List.of(tp));
                consumer.seekToBeginning(List.of(tp));
                long end = consumer.endOffsets(List.of(tp)).get(tp);
                List<String> values = new ArrayList<>();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (consumer.position(tp) < end && System.nanoTime() < deadline) {
                    consumer.poll(java.time.Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
                }
                assertThat(values).containsExactly("committed-0", "after");
            }
        } finally {
            stop(second);
        }
    }

    @Test
    void badArgumentsAreNamedWithTheUsage() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(err, true, StandardCharsets.UTF_8);
        assertThat(BrokerMain.run(new String[] {"--listen", "127.0.0.1:9092"}, ps, ps)).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--data DIR is required").contains("Usage:");
        err.reset();
        assertThat(BrokerMain.run(new String[] {"--data", dir.toString(), "--listen", "nohost"}, ps, ps)).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--listen wants HOST:PORT, not 'nohost'");
        err.reset();
        assertThat(BrokerMain.run(new String[] {"--data", dir.toString(), "--bogus", "1"}, ps, ps)).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("unknown option: --bogus");
        err.reset();
        assertThat(BrokerMain.run(new String[] {"--data", dir.toString(), "--topic", "t:0"}, ps, ps)).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--topic wants NAME or NAME:PARTITIONS");
    }
}
