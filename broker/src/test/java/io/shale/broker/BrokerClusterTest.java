package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.catalog.postgres.PostgresCatalog;
import io.shale.catalog.postgres.PostgresClusterNode;
import io.shale.log.LogStore;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import io.shale.storage.local.wal.FileWriteAheadLog;
import io.shale.storage.testkit.PostgresServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three brokers in one JVM as one Kafka cluster: each over a store opened as a cluster node of one
 * real PostgreSQL catalog (a throwaway server, {@link PostgresServer}) and one local-directory
 * object store, each with its own file WAL; real kafka-clients.
 */
@ExtendWith({PostgresServer.Extension.class, BrokerClusterTest.Server.class})
class BrokerClusterTest {
    static final String TOPIC = "events";
    static final Duration LEASE = Duration.ofSeconds(3);

    @TempDir
    Path dir;

    PostgresServer server;
    String schema;
    final List<AutoCloseable> toClose = new ArrayList<>();
    final List<Member> members = new ArrayList<>();
    String brokersSpec;
    int[] ports;

    static final class Server implements org.junit.jupiter.api.extension.BeforeEachCallback {
        @Override
        public void beforeEach(ExtensionContext context) {
            ((BrokerClusterTest) context.getRequiredTestInstance()).server = PostgresServer.get(context);
        }
    }

    record Member(int id, PostgresClusterNode node, LogStore store, ShaleBroker broker) {
    }

    /** How often the brokers run their ownership policy (tests of unowned partitions: never after the start). */
    Duration ownershipInterval = Duration.ofMillis(300);

    @BeforeEach
    void start(org.junit.jupiter.api.TestInfo info) throws IOException {
        if (info.getTestMethod().map(m -> m.getName().startsWith("unownedPartitions")).orElse(false)) {
            ownershipInterval = Duration.ofHours(1);
        }
        schema = TestCatalogs.freshOptions(server).build().schema();
        ports = new int[3];
        List<String> spec = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                ports[i] = s.getLocalPort();
            }
            spec.add(i + "@127.0.0.1:" + ports[i]);
        }
        brokersSpec = String.join(",", spec);
        for (int i = 0; i < 3; i++) {
            members.add(startMember(i));
        }
    }

    Member startMember(int id) {
        PostgresClusterNode node = PostgresCatalog.clusterNode(
                TestCatalogs.freshOptions(server).schema(schema).nodeId(String.valueOf(id)).build(), LEASE);
        LogStore store = LogStore.builder()
                .objectStore(LocalDirectoryObjectStore.open(dir.resolve("bucket")))
                .wal(FileWriteAheadLog.builder(dir.resolve("wal-" + id)).build())
                .catalog(node)
                .config(Map.of("upload.interval.ms", 200, "refresh.interval.ms", 50))
                .open();
        toClose.add(store);
        ShaleBroker broker = ShaleBroker.builder(store).nodeId(id).listen("127.0.0.1", ports[id])
                .cluster(node, brokersSpec).ownershipInterval(ownershipInterval)
                .groupInitialRebalanceDelay(Duration.ZERO)
                .groupSessionTimeouts(Duration.ofMillis(500), Duration.ofMinutes(5)).start();
        toClose.add(broker);
        return new Member(id, node, store, broker);
    }

    @AfterEach
    void closeAll() {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            try {
                toClose.get(i).close();
            } catch (Exception e) {
                // closed by the test already
            }
        }
    }

    String bootstrap() {
        return "127.0.0.1:" + ports[0] + ",127.0.0.1:" + ports[1];
    }

    Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        return Admin.create(p);
    }

    KafkaProducer<String, String> producer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 20_000);
        p.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 50);
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    KafkaConsumer<String, String> consumer(String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 200);
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    /** Partitions of {@link #TOPIC} each broker's node owns. */
    Map<Integer, Integer> ownedCounts() {
        Map<Integer, Integer> counts = new HashMap<>();
        for (Member m : members) {
            if (m == null) {
                continue; // stopped
            }
            int n = 0;
            for (io.shale.log.TopicPartition tp : m.node.ownedPartitions().keySet()) {
                if (tp.topic().equals(TOPIC)) {
                    n++;
                }
            }
            counts.put(m.id, n);
        }
        return counts;
    }

    void createSpreadTopic(Admin admin) throws Exception {
        admin.createTopics(List.of(new NewTopic(TOPIC, 6, (short) 1))).all().get(30, TimeUnit.SECONDS);
        await("6 partitions spread 2-2-2", Duration.ofSeconds(60),
                () -> ownedCounts().equals(Map.of(0, 2, 1, 2, 2, 2)));
        // and Metadata names each partition's owner as its leader, with the partition epoch
        await("metadata of every broker", Duration.ofSeconds(30), () -> {
            try {
                TopicDescription d = admin.describeTopics(List.of(TOPIC)).allTopicNames().get(30, TimeUnit.SECONDS)
                        .get(TOPIC);
                for (TopicPartitionInfo p : d.partitions()) {
                    Node leader = p.leader();
                    if (leader == null) {
                        return false;
                    }
                    Member owner = members.get(leader.id());
                    if (owner == null || !owner.node.ownedPartitions().containsKey(new io.shale.log.TopicPartition(TOPIC, p.partition()))
                            || leader.port() != ports[leader.id()] || !p.replicas().equals(List.of(leader))) {
                        return false;
                    }
                }
                return true;
            } catch (Exception e) {
                return false;
            }
        });
    }

    @Test
    void topicSpreadOverThreeBrokersProducedAndConsumedInAGroupExactlyOnce() throws Exception {
        try (Admin admin = admin()) {
            createSpreadTopic(admin);
            assertThat(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS)).extracting(Node::id)
                    .containsExactlyInAnyOrder(0, 1, 2);
        }
        int n = 3_000;
        Set<String> acked = ConcurrentHashMap.newKeySet();
        try (KafkaProducer<String, String> producer = producer()) {
            List<java.util.concurrent.Future<?>> sends = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String v = "r" + i;
                sends.add(producer.send(new ProducerRecord<>(TOPIC, "k" + i, v), (md, e) -> {
                    if (e == null) {
                        acked.add(v);
                    }
                }));
            }
            for (java.util.concurrent.Future<?> f : sends) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
        assertThat(acked).hasSize(n);
        List<String> read = consumeAll("g1", acked);
        assertThat(read).hasSize(n).doesNotHaveDuplicates();
        assertThat(new HashSet<>(read)).isEqualTo(acked);
        // the group coordinator is the owner of the offsets partition; the group committed there, and
        // a second consumer of the group starts after the committed offsets (nothing more to read)
        try (KafkaConsumer<String, String> again = consumer("g1")) {
            again.subscribe(List.of(TOPIC));
            int more = 0;
            for (int i = 0; i < 10; i++) {
                more += again.poll(Duration.ofMillis(300)).count();
            }
            assertThat(more).isZero();
        }
    }

    /** Reads through a consumer group until every one of {@code expected} came, committing as it goes. */
    List<String> consumeAll(String group, Collection<String> expected) throws InterruptedException {
        List<String> read = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        try (KafkaConsumer<String, String> c = consumer(group)) {
            c.subscribe(List.of(TOPIC));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (!seen.containsAll(expected)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("read " + seen.size() + " of " + expected.size() + " records in 90 s");
                }
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    read.add(r.value());
                    seen.add(r.value());
                }
                c.commitSync(Duration.ofSeconds(30));
            }
            // and nothing beyond
            for (int i = 0; i < 5; i++) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    read.add(r.value());
                }
            }
            c.commitSync(Duration.ofSeconds(30));
        }
        return read;
    }

    @Test
    void plannedMovesWhileProducingLoseNothingAndDuplicateNothing() throws Exception {
        try (Admin admin = admin()) {
            createSpreadTopic(admin);
        }
        Set<String> acked = ConcurrentHashMap.newKeySet();
        AtomicInteger failed = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger sent = new AtomicInteger();
        Thread producing = new Thread(() -> {
            try (KafkaProducer<String, String> producer = producer()) {
                int i = 0;
                while (!stop.get()) {
                    String v = "m" + i;
                    producer.send(new ProducerRecord<>(TOPIC, "k" + i, v), (md, e) -> {
                        if (e == null) {
                            acked.add(v);
                        } else {
                            failed.incrementAndGet();
                        }
                    });
                    i++;
                    if (i % 50 == 0) {
                        try {
                            Thread.sleep(5);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }
                sent.set(i);
                producer.flush();
            }
        }, "producing");
        producing.start();
        try {
            await("some records acknowledged", Duration.ofSeconds(30), () -> acked.size() > 500);
            // planned moves: the owner releases a partition (uploads, then releases), another broker claims it;
            // the ownership policy then moves one back to restore 2-2-2. The clients follow NOT_LEADER_OR_FOLLOWER.
            int moves = 0;
            for (int round = 0; round < 4; round++) {
                for (int p = 0; p < 6; p += 2) {
                    io.shale.log.TopicPartition tp = new io.shale.log.TopicPartition(TOPIC, p);
                    Member from = null;
                    for (Member m : members) {
                        if (m != null && m.node.ownedPartitions().containsKey(tp)) {
                            from = m;
                        }
                    }
                    if (from == null) {
                        continue;
                    }
                    Member to = members.get((from.id + 1) % 3);
                    Set<io.shale.log.TopicPartition> released;
                    try {
                        released = from.node.release(List.of(tp), Duration.ofSeconds(30));
                    } catch (io.shale.log.ShaleException e) {
                        continue; // the ownership policy moved it meanwhile
                    }
                    if (released.contains(tp) && to.node.claim(List.of(tp)).containsKey(tp)) {
                        moves++;
                    }
                    int before = acked.size();
                    await("records acknowledged after a move", Duration.ofSeconds(60), () -> acked.size() > before + 100);
                }
            }
            assertThat(moves).isGreaterThan(3);
        } finally {
            stop.set(true);
            producing.join(180_000);
        }
        assertThat(producing.isAlive()).isFalse();
        assertThat(failed.get()).as("records the producer gave up on").isZero();
        assertThat(acked).hasSize(sent.get());
        List<String> read = consumeAll("g-moves", acked);
        assertThat(read).doesNotHaveDuplicates();
        assertThat(new HashSet<>(read)).isEqualTo(acked);
        // the policy restored the spread
        await("6 partitions spread 2-2-2 again", Duration.ofSeconds(60),
                () -> ownedCounts().equals(Map.of(0, 2, 1, 2, 2, 2)));
    }

    List<String> produce(String prefix, int n) throws Exception {
        Set<String> acked = ConcurrentHashMap.newKeySet();
        try (KafkaProducer<String, String> producer = producer()) {
            List<java.util.concurrent.Future<?>> sends = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String v = prefix + i;
                sends.add(producer.send(new ProducerRecord<>(TOPIC, "k" + i, v), (md, e) -> {
                    if (e == null) {
                        acked.add(v);
                    }
                }));
            }
            for (java.util.concurrent.Future<?> f : sends) {
                f.get(120, TimeUnit.SECONDS);
            }
        }
        return new ArrayList<>(acked);
    }

    /**
     * The broker that coordinates the groups stops without releasing anything (its store closed, as
     * at a crash of the process after its last upload): after the lease the other two claim its
     * partitions (3-3), the group coordinator is loaded on the new owner of the offsets partition
     * with the group's committed offsets, the producer carries on, and the group reads exactly the
     * records acknowledged after the stop. (A store that is closed uploads what it holds first; a
     * process killed with a file WAL would lose what it acknowledged after its last upload, see
     * docs/rfcs/0005: that is not what this test shows.)
     */
    @Test
    void aBrokerThatStopsWithoutReleasingIsReplacedAfterTheLeaseAndTheGroupCarriesOn() throws Exception {
        try (Admin admin = admin()) {
            createSpreadTopic(admin);
        }
        List<String> first = produce("a", 1_000);
        assertThat(first).hasSize(1_000);
        assertThat(consumeAll("g", first)).hasSize(1_000).doesNotHaveDuplicates();

        io.shale.log.TopicPartition offsets = new io.shale.log.TopicPartition(io.shale.log.ConsumerOffsets.TOPIC, 0);
        Member victim = null;
        for (Member m : members) {
            if (m.node.ownedPartitions().containsKey(offsets)) {
                victim = m;
            }
        }
        assertThat(victim).as("the group coordinator's broker").isNotNull();
        victim.broker.close();
        victim.store.close();
        members.set(victim.id, null);

        List<String> second = produce("b", 1_000);
        assertThat(second).hasSize(1_000);
        await("the stopped broker's partitions taken over, 3-3", Duration.ofSeconds(60),
                () -> ownedCounts().values().stream().mapToInt(Integer::intValue).sum() == 6
                        && ownedCounts().values().stream().allMatch(c -> c == 3));
        List<String> read = consumeAll("g", second);
        assertThat(read).doesNotHaveDuplicates();
        assertThat(new HashSet<>(read)).as("only what came after the committed offsets").isEqualTo(new HashSet<>(second));
    }

    // ---------------------------------------------------------------- the protocol, request by request

    private static org.apache.kafka.common.requests.AbstractResponse call(int port, org.apache.kafka.common.protocol.ApiKeys key,
            short version, org.apache.kafka.common.protocol.ApiMessage body) throws IOException {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            org.apache.kafka.common.message.RequestHeaderData h = new org.apache.kafka.common.message.RequestHeaderData()
                    .setRequestApiKey(key.id).setRequestApiVersion(version).setClientId("raw").setCorrelationId(9);
            java.nio.ByteBuffer b = org.apache.kafka.common.requests.RequestUtils.serialize(h,
                    key.requestHeaderVersion(version), body, version);
            java.io.DataOutputStream out = new java.io.DataOutputStream(s.getOutputStream());
            out.writeInt(b.remaining());
            out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
            out.flush();
            java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
            byte[] frame = new byte[in.readInt()];
            in.readFully(frame);
            java.nio.ByteBuffer r = java.nio.ByteBuffer.wrap(frame);
            assertThat(org.apache.kafka.common.requests.ResponseHeader.parse(r, key.responseHeaderVersion(version))
                    .correlationId()).isEqualTo(9);
            return org.apache.kafka.common.requests.AbstractResponse.parseResponse(key, new org.apache.kafka.common.protocol.ByteBufferAccessor(r), version);
        }
    }

    private org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition metadataOf(int port, int p)
            throws IOException {
        org.apache.kafka.common.message.MetadataResponseData m = ((org.apache.kafka.common.requests.MetadataResponse) call(
                port, org.apache.kafka.common.protocol.ApiKeys.METADATA, (short) 12,
                new org.apache.kafka.common.message.MetadataRequestData().setTopics(List.of(
                        new org.apache.kafka.common.message.MetadataRequestData.MetadataRequestTopic().setName(TOPIC)))))
                .data();
        assertThat(m.brokers()).extracting(b -> b.port()).containsExactlyInAnyOrder(ports[0], ports[1], ports[2]);
        return m.topics().find(TOPIC).partitions().stream().filter(x -> x.partitionIndex() == p).findFirst().orElseThrow();
    }

    /**
     * With the ownership policy idle after the start: a new topic's partitions are unowned
     * (LEADER_NOT_AVAILABLE, leader -1, on every broker); once claimed, each is led by its owner at
     * its partition epoch; a produce elsewhere gets NOT_LEADER_OR_FOLLOWER naming the current
     * leader (KIP-951); fetches check the partition epoch; coordinator requests to another broker
     * than the coordinator's get NOT_COORDINATOR, and FindCoordinator names the coordinator.
     */
    @Test
    void unownedPartitionsWrongBrokersAndStaleEpochsAreAnsweredAsKafkaDoes() throws Exception {
        members.get(0).store.createTopic(TOPIC, 3, Map.of());
        for (int port : ports) {
            await("the new topic seen by the broker on " + port, Duration.ofSeconds(30), () -> {
                try {
                    return metadataOf(port, 0).errorCode() == org.apache.kafka.common.protocol.Errors.LEADER_NOT_AVAILABLE.code();
                } catch (Exception e) {
                    return false;
                }
            });
            assertThat(metadataOf(port, 0).leaderId()).isEqualTo(-1);
        }
        io.shale.log.TopicPartition tp0 = new io.shale.log.TopicPartition(TOPIC, 0);
        long epoch = members.get(1).node.claim(List.of(tp0)).get(tp0);
        await("the claim seen by broker 2", Duration.ofSeconds(30),
                () -> members.get(2).node.owner(tp0).map(o -> "1".equals(o.nodeId())).orElse(false));
        for (int port : ports) {
            org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition mp = metadataOf(port, 0);
            assertThat(mp.errorCode()).isZero();
            assertThat(mp.leaderId()).isEqualTo(1);
            assertThat(mp.leaderEpoch()).isEqualTo((int) epoch);
            assertThat(mp.replicaNodes()).containsExactly(1);
            assertThat(mp.isrNodes()).containsExactly(1);
        }

        // a produce to broker 2: not the leader; the answer names broker 1 and its address
        org.apache.kafka.common.message.ProduceRequestData produce = new org.apache.kafka.common.message.ProduceRequestData()
                .setAcks((short) -1).setTimeoutMs(10_000);
        produce.topicData().add(new org.apache.kafka.common.message.ProduceRequestData.TopicProduceData().setName(TOPIC)
                .setPartitionData(List.of(new org.apache.kafka.common.message.ProduceRequestData.PartitionProduceData()
                        .setIndex(0).setRecords(org.apache.kafka.common.record.internal.MemoryRecords.withRecords(
                                org.apache.kafka.common.compress.Compression.NONE,
                                new org.apache.kafka.common.record.internal.SimpleRecord("x".getBytes()))))));
        org.apache.kafka.common.message.ProduceResponseData wrong = ((org.apache.kafka.common.requests.ProduceResponse) call(
                ports[2], org.apache.kafka.common.protocol.ApiKeys.PRODUCE, (short) 11, produce)).data();
        org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse pr =
                wrong.responses().iterator().next().partitionResponses().get(0);
        assertThat(pr.errorCode()).isEqualTo(org.apache.kafka.common.protocol.Errors.NOT_LEADER_OR_FOLLOWER.code());
        assertThat(pr.currentLeader().leaderId()).isEqualTo(1);
        assertThat(pr.currentLeader().leaderEpoch()).isEqualTo((int) epoch);
        assertThat(wrong.nodeEndpoints().find(1).port()).isEqualTo(ports[1]);
        // and to broker 1: appended
        org.apache.kafka.common.message.ProduceResponseData right = ((org.apache.kafka.common.requests.ProduceResponse) call(
                ports[1], org.apache.kafka.common.protocol.ApiKeys.PRODUCE, (short) 11, produce)).data();
        assertThat(right.responses().iterator().next().partitionResponses().get(0).errorCode()).isZero();

        // fetch: the partition epoch is checked, on the leader and elsewhere
        for (int port : new int[] {ports[1], ports[2]}) {
            assertThat(fetchError(port, (int) epoch - 1)).isEqualTo(org.apache.kafka.common.protocol.Errors.FENCED_LEADER_EPOCH);
            assertThat(fetchError(port, (int) epoch + 1)).isEqualTo(org.apache.kafka.common.protocol.Errors.UNKNOWN_LEADER_EPOCH);
        }
        assertThat(fetchError(ports[1], (int) epoch)).isEqualTo(org.apache.kafka.common.protocol.Errors.NONE);

        // coordinators: FindCoordinator names the owner of the offsets partition; other brokers refuse
        io.shale.log.TopicPartition offsets = new io.shale.log.TopicPartition(io.shale.log.ConsumerOffsets.TOPIC, 0);
        await("the offsets partition owned", Duration.ofSeconds(30),
                () -> members.stream().anyMatch(m -> m.node.ownedPartitions().containsKey(offsets)));
        int coordinator = members.stream().filter(m -> m.node.ownedPartitions().containsKey(offsets)).findFirst()
                .orElseThrow().id;
        int other = (coordinator + 1) % 3;
        await("broker " + other + " seeing the offsets partition's owner", Duration.ofSeconds(30),
                () -> members.get(other).node.owner(offsets).map(o -> String.valueOf(coordinator).equals(o.nodeId()))
                        .orElse(false));
        org.apache.kafka.common.message.FindCoordinatorResponseData fc =
                ((org.apache.kafka.common.requests.FindCoordinatorResponse) call(ports[other],
                        org.apache.kafka.common.protocol.ApiKeys.FIND_COORDINATOR, (short) 4,
                        new org.apache.kafka.common.message.FindCoordinatorRequestData().setKeyType((byte) 0)
                                .setCoordinatorKeys(List.of("g")))).data();
        assertThat(fc.coordinators().get(0).errorCode()).isZero();
        assertThat(fc.coordinators().get(0).nodeId()).isEqualTo(coordinator);
        assertThat(fc.coordinators().get(0).port()).isEqualTo(ports[coordinator]);
        await("the coordinator loaded on broker " + coordinator, Duration.ofSeconds(30), () -> {
            try {
                return heartbeatError(ports[coordinator]) != org.apache.kafka.common.protocol.Errors.NOT_COORDINATOR;
            } catch (IOException e) {
                return false;
            }
        });
        assertThat(heartbeatError(ports[coordinator])).isEqualTo(org.apache.kafka.common.protocol.Errors.UNKNOWN_MEMBER_ID);
        assertThat(heartbeatError(ports[other])).isEqualTo(org.apache.kafka.common.protocol.Errors.NOT_COORDINATOR);
    }

    private org.apache.kafka.common.protocol.Errors fetchError(int port, int currentLeaderEpoch) throws IOException {
        org.apache.kafka.common.message.FetchRequestData f = new org.apache.kafka.common.message.FetchRequestData()
                .setReplicaId(-1).setMaxWaitMs(0).setMinBytes(0).setMaxBytes(1 << 20).setSessionEpoch(-1)
                .setTopics(List.of(new org.apache.kafka.common.message.FetchRequestData.FetchTopic().setTopic(TOPIC)
                        .setPartitions(List.of(new org.apache.kafka.common.message.FetchRequestData.FetchPartition()
                                .setPartition(0).setCurrentLeaderEpoch(currentLeaderEpoch).setFetchOffset(0)
                                .setPartitionMaxBytes(1 << 16)))));
        org.apache.kafka.common.message.FetchResponseData r = ((org.apache.kafka.common.requests.FetchResponse) call(port,
                org.apache.kafka.common.protocol.ApiKeys.FETCH, (short) 12, f)).data();
        return org.apache.kafka.common.protocol.Errors.forCode(r.responses().get(0).partitions().get(0).errorCode());
    }

    private org.apache.kafka.common.protocol.Errors heartbeatError(int port) throws IOException {
        org.apache.kafka.common.message.HeartbeatResponseData r = ((org.apache.kafka.common.requests.HeartbeatResponse) call(
                port, org.apache.kafka.common.protocol.ApiKeys.HEARTBEAT, (short) 4,
                new org.apache.kafka.common.message.HeartbeatRequestData().setGroupId("g").setMemberId("m")
                        .setGenerationId(1))).data();
        return org.apache.kafka.common.protocol.Errors.forCode(r.errorCode());
    }
}
