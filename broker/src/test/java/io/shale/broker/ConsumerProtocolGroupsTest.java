package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.LogStore;
import io.shale.storage.local.LocalStorage;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
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
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.SubscriptionPattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.errors.InconsistentGroupProtocolException;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Consumer groups of the KIP-848 {@code consumer} protocol with kafka-clients 4.x consumers
 * ({@code group.protocol=consumer}): the broker assigns, members reconcile through heartbeats,
 * leave, time out, subscribe by regex; classic members are refused from such a group.
 */
class ConsumerProtocolGroupsTest {
    private static final Duration DEADLINE = Duration.ofSeconds(40);

    @TempDir
    Path dir;
    BrokerFixture fx;
    final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeEach
    void start() {
        fx = new BrokerFixture(dir);
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : toClose) {
            try {
                c.close();
            } catch (RuntimeException e) {
                // already closed by the test
            }
        }
        if (fx != null) {
            fx.close();
        }
    }

    private void createTopic(String name, int partitions) throws Exception {
        try (Admin admin = fx.admin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
        }
    }

    private void produce(String topic, int partitions, String prefix, int count) throws Exception {
        try (KafkaProducer<String, String> p = fx.producer("all", new Properties())) {
            for (int i = 0; i < count; i++) {
                p.send(new ProducerRecord<>(topic, i % partitions, "k" + i, prefix + i));
            }
            p.flush();
        }
    }

    private static void produceTo(String bootstrap, String prefix) {
        try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap, "acks", "all"),
                new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 50; i++) {
                p.send(new ProducerRecord<>("restart", i % 2, "k", prefix + i));
            }
        }
    }

    private KafkaConsumer<String, String> member(String group, String protocol) {
        Properties p = new Properties();
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
        p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 20_000);
        p.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 500);
        if (protocol.equals("classic")) {
            p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 3_000);
            p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 200);
        }
        KafkaConsumer<String, String> c = fx.consumer(p);
        toClose.add(c);
        return c;
    }

    private KafkaConsumer<String, String> member(String group) {
        return member(group, "consumer");
    }

    /** Polls each consumer in turn (committing what it returned) until {@code done} holds. */
    private static void pollUntil(BooleanSupplier done, Map<KafkaConsumer<String, String>, List<ConsumerRecord<String, String>>> sinks,
            List<KafkaConsumer<String, String>> consumers) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime()).as("deadline passed").isLessThan(deadline);
            for (KafkaConsumer<String, String> c : consumers) {
                var records = c.poll(Duration.ofMillis(50));
                if (!records.isEmpty()) {
                    if (sinks != null) {
                        records.forEach(sinks.computeIfAbsent(c, x -> new ArrayList<>())::add);
                    }
                    c.commitSync();
                }
            }
        }
    }

    private static Set<Integer> partitions(Collection<TopicPartition> tps) {
        Set<Integer> out = new HashSet<>();
        tps.forEach(tp -> out.add(tp.partition()));
        return out;
    }

    private static int total(Map<?, List<ConsumerRecord<String, String>>> sinks) {
        return sinks.values().stream().mapToInt(List::size).sum();
    }

    @Test
    void threeMembersShareATopicAndALeavingMembersPartitionsMoveWithNoRecordLostOrReadTwice() throws Exception {
        createTopic("kip848", 6);
        KafkaConsumer<String, String> a = member("g848");
        KafkaConsumer<String, String> b = member("g848");
        KafkaConsumer<String, String> c = member("g848");
        List<KafkaConsumer<String, String>> all = List.of(a, b, c);
        all.forEach(x -> x.subscribe(List.of("kip848")));
        pollUntil(() -> all.stream().allMatch(x -> x.assignment().size() == 2), null, all);
        Set<Integer> union = new HashSet<>();
        all.forEach(x -> union.addAll(partitions(x.assignment())));
        assertThat(union).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5);

        try (Admin admin = fx.admin()) {
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of("g848")).all().get().get("g848");
            assertThat(d.type()).isEqualTo(GroupType.CONSUMER);
            assertThat(d.groupState()).isEqualTo(GroupState.STABLE);
            assertThat(d.members()).hasSize(3);
            Set<TopicPartition> described = new HashSet<>();
            for (MemberDescription m : d.members()) {
                described.addAll(m.assignment().topicPartitions());
            }
            assertThat(described).hasSize(6);
            Collection<GroupListing> listed = admin.listGroups().all().get();
            assertThat(listed).anySatisfy(g -> {
                assertThat(g.groupId()).isEqualTo("g848");
                assertThat(g.type()).contains(GroupType.CONSUMER);
            });
        }

        produce("kip848", 6, "first-", 600);
        Map<KafkaConsumer<String, String>, List<ConsumerRecord<String, String>>> got = new HashMap<>();
        pollUntil(() -> total(got) >= 600, got, all);
        for (KafkaConsumer<String, String> x : all) {
            Set<Integer> mine = partitions(x.assignment());
            assertThat(got.get(x)).isNotEmpty().allMatch(r -> mine.contains(r.partition()));
        }

        Set<Integer> leaving = partitions(c.assignment());
        c.close(); // committed all it read; leaves with epoch -1
        pollUntil(() -> a.assignment().size() + b.assignment().size() == 6, null, List.of(a, b));
        Set<Integer> moved = new HashSet<>(partitions(a.assignment()));
        moved.addAll(partitions(b.assignment()));
        assertThat(moved).containsAll(leaving);

        produce("kip848", 6, "second-", 600);
        pollUntil(() -> total(got) >= 1200, got, List.of(a, b));
        // a moment more: anything read twice would show up now
        pollUntil(() -> true, got, List.of(a, b));
        for (int i = 0; i < 5; i++) {
            a.poll(Duration.ofMillis(100)).forEach(got.get(a)::add);
            b.poll(Duration.ofMillis(100)).forEach(got.get(b)::add);
        }
        List<String> values = new ArrayList<>();
        got.values().forEach(l -> l.forEach(r -> values.add(r.value())));
        assertThat(values).hasSize(1200).doesNotHaveDuplicates();

        try (Admin admin = fx.admin()) {
            Map<TopicPartition, OffsetAndMetadata> committed =
                    admin.listConsumerGroupOffsets("g848").partitionsToOffsetAndMetadata().get();
            assertThat(committed).hasSize(6).allSatisfy((tp, o) -> assertThat(o.offset()).isEqualTo(200));
        }
    }

    @Test
    void aKilledMemberIsRemovedAfterTheSessionTimeoutAndItsPartitionsMove() throws Exception {
        createTopic("killed", 4);
        // the member to kill runs in a child JVM: SIGKILL stops it with no leave and no more heartbeats
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                GroupMemberMain.class.getName(), fx.broker.bootstrapServers(), "gk", "killed");
        Process child = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        toClose.add(child::destroyForcibly);
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        String line;
        do {
            line = out.readLine();
            assertThat(line).as("child's output").isNotNull();
        } while (!line.equals("assigned 4"));

        KafkaConsumer<String, String> a = member("gk");
        a.subscribe(List.of("killed"));
        pollUntil(() -> a.assignment().size() == 2, null, List.of(a));
        do {
            line = out.readLine();
            assertThat(line).as("child's output").isNotNull();
        } while (!line.equals("assigned 2"));

        child.destroyForcibly().waitFor();
        long killedAt = System.nanoTime();
        try (Admin admin = fx.admin()) {
            assertThat(admin.describeConsumerGroups(List.of("gk")).all().get().get("gk").members()).hasSize(2);
        }
        pollUntil(() -> a.assignment().size() == 4, null, List.of(a));
        // not before the session timeout (3 s in BrokerFixture) has passed since the last heartbeat
        assertThat(System.nanoTime() - killedAt).isGreaterThan(Duration.ofMillis(2_500).toNanos());
        try (Admin admin = fx.admin()) {
            assertThat(admin.describeConsumerGroups(List.of("gk")).all().get().get("gk").members()).hasSize(1);
        }
    }

    @Test
    void aRegexSubscriptionPicksUpANewTopic() throws Exception {
        createTopic("rx-a", 2);
        KafkaConsumer<String, String> byClient = member("g-rx-client");
        byClient.subscribe(Pattern.compile("rx-.*"));
        KafkaConsumer<String, String> byBroker = member("g-rx-broker");
        byBroker.subscribe(new SubscriptionPattern("rx-.*"));
        pollUntil(() -> byClient.assignment().size() == 2 && byBroker.assignment().size() == 2, null,
                List.of(byClient, byBroker));

        createTopic("rx-b", 3);
        createTopic("other", 1);
        pollUntil(() -> byClient.assignment().size() == 5 && byBroker.assignment().size() == 5, null,
                List.of(byClient, byBroker));
        assertThat(byBroker.assignment()).extracting(TopicPartition::topic).containsOnly("rx-a", "rx-b");
        assertThat(byClient.assignment()).extracting(TopicPartition::topic).containsOnly("rx-a", "rx-b");

        produce("rx-b", 3, "new-", 30);
        Map<KafkaConsumer<String, String>, List<ConsumerRecord<String, String>>> got = new HashMap<>();
        pollUntil(() -> got.getOrDefault(byBroker, List.of()).size() == 30, got, List.of(byBroker));
    }

    @Test
    void theRangeAssignorCanBeChosenByTheMembers() throws Exception {
        createTopic("ra", 4);
        createTopic("rb", 4);
        List<KafkaConsumer<String, String>> all = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Properties p = new Properties();
            p.put(ConsumerConfig.GROUP_ID_CONFIG, "g-range");
            p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
            p.put(ConsumerConfig.GROUP_REMOTE_ASSIGNOR_CONFIG, "range");
            KafkaConsumer<String, String> c = fx.consumer(p);
            toClose.add(c);
            c.subscribe(List.of("ra", "rb"));
            all.add(c);
        }
        pollUntil(() -> all.stream().allMatch(c -> c.assignment().size() == 4), null, all);
        for (KafkaConsumer<String, String> c : all) {
            Set<Integer> ra = new HashSet<>();
            Set<Integer> rb = new HashSet<>();
            c.assignment().forEach(tp -> (tp.topic().equals("ra") ? ra : rb).add(tp.partition()));
            assertThat(ra).as("co-partitioned").isEqualTo(rb).hasSize(2);
            assertThat(ra).isIn(Set.of(0, 1), Set.of(2, 3));
        }
        try (Admin admin = fx.admin()) {
            assertThat(admin.describeConsumerGroups(List.of("g-range")).all().get().get("g-range").partitionAssignor())
                    .isEqualTo("range");
        }
    }

    @Test
    void aStaticMemberThatLeftForAWhileGetsItsPartitionsBack(@TempDir Path other) throws Exception {
        // a broker of its own with a long session timeout: the static member's absence must not run into it
        try (LogStore store = LocalStorage.open(other);
                ShaleBroker broker = ShaleBroker.builder(store).listen("127.0.0.1", 0)
                        .consumerGroupTimeouts(Duration.ofSeconds(60), Duration.ofMillis(200)).start()) {
            store.createTopic("static", 2);
            List<KafkaConsumer<String, String>> opened = new ArrayList<>();
            try {
                runStaticMembers(broker, opened);
            } finally {
                for (KafkaConsumer<String, String> c : opened) {
                    c.close(CloseOptions.timeout(Duration.ofSeconds(5)));
                }
            }
        }
    }

    private void runStaticMembers(ShaleBroker broker, List<KafkaConsumer<String, String>> opened) throws Exception {
        {
            KafkaConsumer<String, String> dynamic = staticMember(broker, null, opened);
            KafkaConsumer<String, String> first = staticMember(broker, "instance-1", opened);
            dynamic.subscribe(List.of("static"));
            first.subscribe(List.of("static"));
            pollUntil(() -> dynamic.assignment().size() == 1 && first.assignment().size() == 1, null,
                    List.of(dynamic, first));
            Set<TopicPartition> itsPartition = first.assignment();

            opened.remove(first);
            first.close(); // a static member leaves with epoch -2: its partition waits for it
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
                ConsumerGroupDescription d = admin.describeConsumerGroups(List.of("g-static")).all().get().get("g-static");
                assertThat(d.members()).hasSize(2).anySatisfy(m -> {
                    assertThat(m.groupInstanceId()).contains("instance-1");
                    assertThat(m.memberEpoch()).contains(-2);
                });
            }
            for (int i = 0; i < 10; i++) {
                dynamic.poll(Duration.ofMillis(50));
            }
            assertThat(dynamic.assignment()).hasSize(1);

            KafkaConsumer<String, String> second = staticMember(broker, "instance-1", opened);
            second.subscribe(List.of("static"));
            pollUntil(() -> second.assignment().size() == 1, null, List.of(dynamic, second));
            assertThat(second.assignment()).isEqualTo(itsPartition);
            assertThat(dynamic.assignment()).hasSize(1);
        }
    }

    private static KafkaConsumer<String, String> staticMember(ShaleBroker broker, String instanceId,
            List<KafkaConsumer<String, String>> opened) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "g-static");
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        if (instanceId != null) {
            p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
        }
        KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
        opened.add(c);
        return c;
    }

    @Test
    void afterABrokerRestartMembersRejoinAndGoOnFromTheCommittedOffsets(@TempDir Path other) throws Exception {
        LogStore store = LocalStorage.open(other);
        ShaleBroker broker = ShaleBroker.builder(store).listen("127.0.0.1", 0)
                .consumerGroupTimeouts(Duration.ofSeconds(3), Duration.ofMillis(200)).start();
        String bootstrap = broker.bootstrapServers();
        int port = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
        List<KafkaConsumer<String, String>> opened = new ArrayList<>();
        try {
            store.createTopic("restart", 2);
            produceTo(bootstrap, "first-");
            Properties props = new Properties();
            props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            props.put(ConsumerConfig.GROUP_ID_CONFIG, "g-restart");
            props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
            props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            props.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200);
            KafkaConsumer<String, String> c = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
            opened.add(c);
            c.subscribe(List.of("restart"));
            Map<KafkaConsumer<String, String>, List<ConsumerRecord<String, String>>> got = new HashMap<>();
            pollUntil(() -> total(got) >= 50, got, List.of(c));

            // the broker goes away and comes back on the same port: the group's membership is gone, its offsets are not
            broker.close();
            store.close();
            store = LocalStorage.open(other);
            broker = ShaleBroker.builder(store).listen("127.0.0.1", port)
                    .consumerGroupTimeouts(Duration.ofSeconds(3), Duration.ofMillis(200)).start();
            produceTo(bootstrap, "second-");
            // records whose commit failed (the restarted broker no longer knows the member: UNKNOWN_MEMBER_ID,
            // CommitFailedException) come again once the member has rejoined; only committed ones count
            List<String> committed = new ArrayList<>();
            got.get(c).forEach(r -> committed.add(r.value()));
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            int quietPolls = 0;
            while (committed.size() < 100 || quietPolls < 5) {
                assertThat(System.nanoTime()).as("deadline passed").isLessThan(deadline);
                var records = c.poll(Duration.ofMillis(100));
                if (records.isEmpty()) {
                    quietPolls++;
                    continue;
                }
                try {
                    c.commitSync();
                    records.forEach(r -> committed.add(r.value()));
                } catch (CommitFailedException e) {
                    // not committed: redelivered
                }
            }
            assertThat(committed).hasSize(100).doesNotHaveDuplicates();
        } finally {
            for (KafkaConsumer<String, String> c : opened) {
                c.close(CloseOptions.timeout(Duration.ofSeconds(5)));
            }
            broker.close();
            store.close();
        }
    }

    @Test
    void aClassicMemberIsRefusedFromAConsumerGroupAndTheOtherWayRound() throws Exception {
        createTopic("mixed", 2);
        KafkaConsumer<String, String> modern = member("g-modern");
        modern.subscribe(List.of("mixed"));
        pollUntil(() -> modern.assignment().size() == 2, null, List.of(modern));

        KafkaConsumer<String, String> classic = member("g-modern", "classic");
        classic.subscribe(List.of("mixed"));
        assertThatThrownBy(() -> pollUntil(() -> false, null, List.of(classic)))
                .isInstanceOf(InconsistentGroupProtocolException.class);

        KafkaConsumer<String, String> classicOwner = member("g-classic", "classic");
        classicOwner.subscribe(List.of("mixed"));
        pollUntil(() -> classicOwner.assignment().size() == 2, null, List.of(classicOwner));
        KafkaConsumer<String, String> intruder = member("g-classic");
        intruder.subscribe(List.of("mixed"));
        assertThatThrownBy(() -> pollUntil(() -> false, null, List.of(intruder, classicOwner)))
                .isInstanceOf(GroupIdNotFoundException.class);
        assertThat(modern.assignment()).hasSize(2);

        try (Admin admin = fx.admin()) {
            Map<String, ConsumerGroupDescription> d =
                    admin.describeConsumerGroups(List.of("g-modern", "g-classic")).all().get();
            assertThat(d.get("g-modern").type()).isEqualTo(GroupType.CONSUMER);
            assertThat(d.get("g-modern").members()).hasSize(1);
            assertThat(d.get("g-classic").type()).isEqualTo(GroupType.CLASSIC);
            assertThat(d.get("g-classic").members()).hasSize(1);
            Map<String, GroupType> types = new HashMap<>();
            admin.listGroups().all().get().forEach(g -> types.put(g.groupId(), g.type().orElseThrow()));
            assertThat(types).containsEntry("g-modern", GroupType.CONSUMER).containsEntry("g-classic", GroupType.CLASSIC);
        }
    }
}
