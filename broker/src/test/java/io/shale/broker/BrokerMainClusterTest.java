package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.storage.testkit.PostgresServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;

/** Three brokers started as the README says (BrokerMain's cluster options), over one real PostgreSQL. */
@ExtendWith({PostgresServer.Extension.class, BrokerMainClusterTest.Server.class})
class BrokerMainClusterTest {
    @TempDir
    Path dir;

    PostgresServer server;

    static final class Server implements org.junit.jupiter.api.extension.BeforeEachCallback {
        @Override
        public void beforeEach(ExtensionContext context) {
            ((BrokerMainClusterTest) context.getRequiredTestInstance()).server = PostgresServer.get(context);
        }
    }

    @Test
    void threeBrokersFromTheCommandLineServeOneTopicSpreadOverThem() throws Exception {
        int[] ports = new int[3];
        List<String> spec = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                ports[i] = s.getLocalPort();
            }
            spec.add(i + "@127.0.0.1:" + ports[i]);
        }
        String schema = TestCatalogs.freshOptions(server).build().schema();
        List<BrokerMain.Launched> launched = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                launched.add(BrokerMain.launch(new String[] {"--data", dir.toString(), "--node-id", String.valueOf(i),
                        "--cluster-brokers", String.join(",", spec), "--postgres-url", server.jdbcUrl(),
                        "--postgres-schema", schema, "--lease-ms", "3000", "--topic", "greetings:3"}));
            }
            // the same cluster id on every broker
            assertThat(launched).extracting(l -> l.broker.clusterId()).containsOnly(launched.get(0).broker.clusterId());
            Properties a = new Properties();
            a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + ports[1]);
            try (Admin admin = Admin.create(a)) {
                assertThat(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS)).extracting(Node::port)
                        .containsExactlyInAnyOrder(ports[0], ports[1], ports[2]);
                BrokerClusterTest.await("greetings led by three brokers", Duration.ofSeconds(60), () -> {
                    try {
                        TopicDescription d = admin.describeTopics(List.of("greetings")).allTopicNames()
                                .get(30, TimeUnit.SECONDS).get("greetings");
                        return d.partitions().stream().map(TopicPartitionInfo::leader)
                                .allMatch(n -> n != null) && d.partitions().stream().map(p -> p.leader().id())
                                .distinct().count() == 3;
                    } catch (Exception e) {
                        return false;
                    }
                });
            }
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + ports[2]);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                    new StringSerializer())) {
                for (int i = 0; i < 30; i++) {
                    producer.send(new ProducerRecord<>("greetings", i % 3, null, "hello " + i)).get(60, TimeUnit.SECONDS);
                }
            }
            Properties c = new Properties();
            c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + ports[0]);
            c.put(ConsumerConfig.GROUP_ID_CONFIG, "readers");
            c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            List<String> read = new ArrayList<>();
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
                    new StringDeserializer())) {
                consumer.subscribe(List.of("greetings"));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (read.size() < 30 && System.nanoTime() < deadline) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        read.add(r.value());
                    }
                }
            }
            assertThat(read).hasSize(30).doesNotHaveDuplicates();
        } finally {
            for (BrokerMain.Launched l : launched) {
                l.close();
            }
        }
    }

    @Test
    void clusterOptionsThatDoNotFitAreNamed() throws IOException {
        assertThatThrownBy(() -> BrokerMain.launch(new String[] {"--data", dir.toString(), "--cluster-brokers",
                "0@127.0.0.1:9092"})).hasMessageContaining("--cluster-brokers and --postgres-url go together");
        assertThatThrownBy(() -> BrokerMain.launch(new String[] {"--data", dir.toString(), "--node-id", "3",
                "--cluster-brokers", "0@127.0.0.1:9092", "--postgres-url", server.jdbcUrl()}))
                .hasMessageContaining("does not name this broker's --node-id 3");
        assertThatThrownBy(() -> BrokerMain.launch(new String[] {"--data", dir.toString(), "--cluster-brokers",
                "0@127.0.0.1", "--postgres-url", server.jdbcUrl()})).hasMessageContaining("id@host:port");
    }
}
