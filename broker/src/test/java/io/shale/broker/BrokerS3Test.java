package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker started as {@code java -jar shale-broker.jar --config broker.properties} does
 * ({@link BrokerMain#launch}) on S3 (S3Proxy in-process), with credentials from the AWS default
 * chain (system properties here, as a user would export them), with the object WAL and with a file
 * WAL; real Kafka clients produce and consume, across a restart.
 */
class BrokerS3Test {
    private static final String BUCKET = "broker";

    @TempDir
    Path dir;
    private static InProcessS3 s3;
    private final List<BrokerMain.Launched> running = new ArrayList<>();

    @BeforeAll
    static void startS3AndSetCredentialsAsTheDefaultChainReadsThem() throws Exception {
        s3 = new InProcessS3();
        s3.createBucket(BUCKET);
        System.setProperty("aws.accessKeyId", InProcessS3.ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", InProcessS3.SECRET_KEY);
    }

    @AfterAll
    static void stopS3() throws Exception {
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
        if (s3 != null) {
            s3.close();
        }
    }

    @AfterEach
    void stopAll() {
        for (BrokerMain.Launched l : running) {
            l.close();
        }
    }

    private Path config(String prefix, String... more) throws Exception {
        List<String> lines = new ArrayList<>(List.of(
                "# a broker on S3",
                "store=s3",
                "s3.bucket=" + BUCKET,
                "s3.prefix=" + prefix,
                "s3.endpoint=" + s3.endpoint,
                "s3.region=us-east-1",
                "s3.path-style=true",
                "s3.allow-http=true",
                "config.upload.interval.ms=200"));
        lines.addAll(List.of(more));
        Path file = dir.resolve(prefix.replace('/', '-') + "broker.properties");
        Files.write(file, lines, StandardCharsets.UTF_8);
        return file;
    }

    private BrokerMain.Launched launch(Path config) throws Exception {
        BrokerMain.Launched l = BrokerMain.launch(new String[] {"--config", config.toString(), "--listen", "127.0.0.1:0",
                "--topic", "orders:2"});
        running.add(l);
        return l;
    }

    private static void produce(String bootstrap, int from, int count) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 20_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            for (int i = from; i < from + count; i++) {
                sent.add(producer.send(new ProducerRecord<>("orders", i % 2, "k" + i, "v" + i)));
            }
            for (java.util.concurrent.Future<?> f : sent) {
                f.get(30, TimeUnit.SECONDS);
            }
        }
    }

    private static List<String> consumeAll(String bootstrap, int count) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 200);
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> tps = List.of(new TopicPartition("orders", 0), new TopicPartition("orders", 1));
            return BrokerFixture.consumeAll(c, tps, count).stream().map(ConsumerRecord::value).sorted().toList();
        }
    }

    private static List<String> values(int count) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add("v" + i);
        }
        return out.stream().sorted().toList();
    }

    private List<String> keysUnder(String prefix) {
        return s3.keys(BUCKET, prefix);
    }

    @Test
    void onS3WithTheObjectWalClientsProduceAndConsumeAcrossARestart() throws Exception {
        Path config = config("object-wal/", "wal=object");
        BrokerMain.Launched first = launch(config);
        assertThat(first.where.describe()).contains("s3://broker/object-wal/").contains("object WAL")
                .doesNotContain(InProcessS3.SECRET_KEY).doesNotContain(InProcessS3.ACCESS_KEY);
        String clusterId = first.broker.clusterId();
        produce(first.broker.bootstrapServers(), 0, 40);
        assertThat(consumeAll(first.broker.bootstrapServers(), 40)).isEqualTo(values(40));
        assertThat(keysUnder("object-wal/")).as("the WAL and the data are in the bucket").isNotEmpty();
        assertThat(Files.list(dir).filter(Files::isDirectory).toList()).as("nothing on local disk").isEmpty();

        // SIGKILL-like: the first broker stops serving without closing its store (nothing uploaded at
        // close); the second start takes over the prefix, fences the first and replays its object WAL
        first.broker.close();
        BrokerMain.Launched second = launch(config);
        assertThat(second.broker.clusterId()).as("derived from bucket and prefix").isEqualTo(clusterId);
        assertThat(second.store.leaderEpoch()).isGreaterThan(first.store.leaderEpoch());
        produce(second.broker.bootstrapServers(), 40, 20);
        assertThat(consumeAll(second.broker.bootstrapServers(), 60)).isEqualTo(values(60));
    }

    @Test
    void onS3WithAFileWalClientsProduceAndConsumeAcrossARestart() throws Exception {
        Path wal = dir.resolve("wal");
        Path config = config("file-wal/", "wal=file", "wal.dir=" + wal);
        BrokerMain.Launched first = launch(config);
        assertThat(first.where.describe()).contains("s3://broker/file-wal/").contains("file WAL in " + wal);
        produce(first.broker.bootstrapServers(), 0, 30);
        assertThat(Files.list(wal).toList()).as("the file WAL").isNotEmpty();
        running.remove(first);
        first.close();
        assertThat(keysUnder("file-wal/")).as("closing uploaded the data to the bucket").isNotEmpty();

        BrokerMain.Launched second = launch(config);
        assertThat(consumeAll(second.broker.bootstrapServers(), 30)).isEqualTo(values(30));
    }

    @Test
    void badConfigurationsAreNamedAndCredentialsAreRefused() throws Exception {
        assertThat(fails(config("bad/", "s3.secret-access-key=abc"))).contains("looks like a credential")
                .contains("AWS default credential chain").doesNotContain("abc");
        assertThat(fails(config("bad/", "wal=file"))).contains("wal=file needs wal.dir");
        assertThat(fails(config("bad/", "wal=disk"))).contains("wal must be object or file");
        assertThat(fails(config("bad/", "s3.bukket=x"))).contains("unknown key 's3.bukket'");
        assertThat(fails(config("bad/", "s3.path-style=yes"))).contains("s3.path-style must be true or false");
        assertThat(fails(config("bad/", "config.upload.interval.ms=soon"))).contains("upload.interval.ms");
        assertThat(fails(config("bad/", "config.no.such=1"))).contains("unknown store config 'no.such'");
        Path noBucket = dir.resolve("nobucket.properties");
        Files.writeString(noBucket, "store=s3\n");
        assertThat(fails(noBucket)).contains("store=s3 needs s3.bucket");
        Path http = dir.resolve("http.properties");
        Files.writeString(http, "s3.bucket=bucket\ns3.endpoint=http://127.0.0.1:1\n");
        assertThat(fails(http)).contains("s3.allow-http=true");
        Path shortName = dir.resolve("short.properties");
        Files.writeString(shortName, "s3.bucket=b\n");
        assertThat(fails(shortName)).contains("short.properties").contains("bucket name");
        assertThat(fails(dir.resolve("missing.properties"))).contains("cannot read the config file");

        // a bucket that does not exist: exit code 1, the store named, no credentials printed
        Path missingBucket = dir.resolve("missing-bucket.properties");
        Files.writeString(missingBucket, String.join("\n", "s3.bucket=no-such-bucket", "s3.endpoint=" + s3.endpoint,
                "s3.region=us-east-1", "s3.path-style=true", "s3.allow-http=true", "config.open.timeout.ms=5000", ""));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        assertThat(BrokerMain.run(new String[] {"--config", missingBucket.toString(), "--listen", "127.0.0.1:0"}, ps, ps))
                .isEqualTo(1);
        assertThat(bytes.toString(StandardCharsets.UTF_8)).contains("s3://no-such-bucket/")
                .doesNotContain(InProcessS3.SECRET_KEY);
    }

    /** Runs the program with the config; it must refuse to start (exit code 2); returns what it printed. */
    private static String fails(Path config) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        assertThat(BrokerMain.run(new String[] {"--config", config.toString(), "--listen", "127.0.0.1:0"}, ps, ps))
                .as("exit code").isEqualTo(2);
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
