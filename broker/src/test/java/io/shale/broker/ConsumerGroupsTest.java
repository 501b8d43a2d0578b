package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Consumer groups (classic protocol) with kafka-clients 4.x: subscribe(), rebalances as members
 * join and leave, committed offsets (also across a broker restart), and the admin client's group
 * operations.
 */
class ConsumerGroupsTest {
    private static final Duration DEADLINE = Duration.ofSeconds(30);

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
            c.close();
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

    private KafkaConsumer<String, String> member(String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 3_000);
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 200);
        p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 10_000);
        KafkaConsumer<String, String> c = fx.consumer(p);
        toClose.add(c);
        return c;
    }

    /** Polls every consumer (one thread, in turn) until {@code done} holds; fails after the deadline. */
    @SafeVarargs
    private static void pollUntil(BooleanSupplier done, List<ConsumerRecord<String, String>>[] sinks,
            KafkaConsumer<String, String>... consumers) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime()).as("deadline passed").isLessThan(deadline);
            for (int i = 0; i < consumers.length; i++) {
                for (ConsumerRecord<String, String> r : consumers[i].poll(Duration.ofMillis(50))) {
                    if (sinks != null) {
                        sinks[i].add(r);
                    }
                }
            }
        }
    }

    private static Set<Integer> partitions(Collection<TopicPartition> tps) {
        Set<Integer> out = new HashSet<>();
        tps.forEach(tp -> out.add(tp.partition()));
        return out;
    }

    @Test
    @SuppressWarnings("unchecked")
    void twoMembersShareTheTopicAndTogetherReadEveryRecordOnce() throws Exception {
        createTopic("shared", 4);
        KafkaConsumer<String, String> a = member("g");
        KafkaConsumer<String, String> b = member("g");
        a.subscribe(List.of("shared"));
        b.subscribe(List.of("shared"));
        pollUntil(() -> a.assignment().size() == 2 && b.assignment().size() == 2, null, a, b);
        assertThat(partitions(a.assignment())).doesNotContainAnyElementsOf(partitions(b.assignment()));

        produce("shared", 4, "v", 400);
        List<ConsumerRecord<String, String>>[] got = new List[] {new ArrayList<>(), new ArrayList<>()};
        pollUntil(() -> got[0].size() + got[1].size() >= 400, got, a, b);

        assertThat(got[0]).isNotEmpty().allMatch(r -> partitions(a.assignment()).contains(r.partition()));
        assertThat(got[1]).isNotEmpty().allMatch(r -> partitions(b.assignment()).contains(r.partition()));
        Set<String> values = new HashSet<>();
        got[0].forEach(r -> values.add(r.value()));
        got[1].forEach(r -> values.add(r.value()));
        assertThat(got[0].size() + got[1].size()).isEqualTo(400);
        assertThat(values).hasSize(400);
    }

    @Test
    void aMemberLeavingHandsItsPartitionsToTheOther() throws Exception {
        createTopic("leave", 4);
        KafkaConsumer<String, String> a = member("g");
        KafkaConsumer<String, String> b = member("g");
        a.subscribe(List.of("leave"));
        b.subscribe(List.of("leave"));
        pollUntil(() -> a.assignment().size() == 2 && b.assignment().size() == 2, null, a, b);
        b.close(); // LeaveGroup
        pollUntil(() -> a.assignment().size() == 4, null, a);
        assertThat(partitions(a.assignment())).containsExactlyInAnyOrder(0, 1, 2, 3);
    }

    @Test
    void aGroupOfThreeRebalancesAsMembersJoinAndLeave() throws Exception {
        createTopic("three", 6);
        KafkaConsumer<String, String> a = member("g");
        a.subscribe(List.of("three"));
        pollUntil(() -> a.assignment().size() == 6, null, a);
        KafkaConsumer<String, String> b = member("g");
        b.subscribe(List.of("three"));
        pollUntil(() -> a.assignment().size() == 3 && b.assignment().size() == 3, null, a, b);
        KafkaConsumer<String, String> c = member("g");
        c.subscribe(List.of("three"));
        pollUntil(() -> a.assignment().size() == 2 && b.assignment().size() == 2 && c.assignment().size() == 2,
                null, a, b, c);
        Set<Integer> all = new HashSet<>(partitions(a.assignment()));
        all.addAll(partitions(b.assignment()));
        all.addAll(partitions(c.assignment()));
        assertThat(all).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5);
        a.close();
        pollUntil(() -> b.assignment().size() == 3 && c.assignment().size() == 3, null, b, c);
        assertThat(partitions(b.assignment())).doesNotContainAnyElementsOf(partitions(c.assignment()));
    }

    @Test
    void committedOffsetsAreWhereANewMemberResumes() throws Exception {
        createTopic("resume", 4);
        produce("resume", 4, "first-", 100);
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        try (KafkaConsumer<String, String> a = member("g")) {
            a.subscribe(List.of("resume"));
            @SuppressWarnings("unchecked")
            List<ConsumerRecord<String, String>>[] sink = new List[] {got};
            pollUntil(() -> got.size() >= 100, sink, a);
            a.commitSync();
            Map<TopicPartition, OffsetAndMetadata> committed = a.committed(new HashSet<>(a.assignment()));
            assertThat(committed).hasSize(4);
            committed.values().forEach(o -> assertThat(o.offset()).isEqualTo(25));
        }
        produce("resume", 4, "second-", 40);
        List<ConsumerRecord<String, String>> second = new ArrayList<>();
        KafkaConsumer<String, String> b = member("g");
        b.subscribe(List.of("resume"));
        @SuppressWarnings("unchecked")
        List<ConsumerRecord<String, String>>[] sink = new List[] {second};
        pollUntil(() -> second.size() >= 40, sink, b);
        assertThat(second).hasSize(40).allMatch(r -> r.value().startsWith("second-") && r.offset() >= 25);
    }

    @Test
    void adminListsDescribesFetchesAndDeletesGroups() throws Exception {
        createTopic("admin", 2);
        produce("admin", 2, "v", 10);
        KafkaConsumer<String, String> a = member("admin-group");
        a.subscribe(List.of("admin"));
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        @SuppressWarnings("unchecked")
        List<ConsumerRecord<String, String>>[] sink = new List[] {got};
        pollUntil(() -> got.size() >= 10, sink, a);
        a.commitSync(Map.of(new TopicPartition("admin", 0), new OffsetAndMetadata(5, "meta")));
        try (Admin admin = fx.admin()) {
            Collection<ConsumerGroupListing> listed = admin.listConsumerGroups().all().get();
            assertThat(listed).extracting(ConsumerGroupListing::groupId).contains("admin-group");

            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of("admin-group"))
                    .describedGroups().get("admin-group").get();
            assertThat(d.groupState()).isEqualTo(GroupState.STABLE);
            assertThat(d.members()).hasSize(1);
            MemberDescription m = d.members().iterator().next();
            assertThat(m.assignment().topicPartitions()).containsExactlyInAnyOrder(
                    new TopicPartition("admin", 0), new TopicPartition("admin", 1));
            assertThat(d.coordinator().id()).isEqualTo(fx.broker.nodeId());

            Map<TopicPartition, OffsetAndMetadata> offsets =
                    admin.listConsumerGroupOffsets("admin-group").partitionsToOffsetAndMetadata().get();
            assertThat(offsets).containsOnlyKeys(new TopicPartition("admin", 0));
            assertThat(offsets.get(new TopicPartition("admin", 0)).offset()).isEqualTo(5);
            assertThat(offsets.get(new TopicPartition("admin", 0)).metadata()).isEqualTo("meta");

            assertThatThrownBy(() -> admin.deleteConsumerGroups(List.of("admin-group")).all().get())
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(GroupNotEmptyException.class);
            a.close();

            d = admin.describeConsumerGroups(List.of("admin-group")).describedGroups().get("admin-group").get();
            assertThat(d.groupState()).isEqualTo(GroupState.EMPTY);
            assertThat(d.members()).isEmpty();

            admin.deleteConsumerGroups(List.of("admin-group")).all().get();
            assertThat(admin.listConsumerGroups().all().get()).extracting(ConsumerGroupListing::groupId)
                    .doesNotContain("admin-group");
            assertThat(admin.listConsumerGroupOffsets("admin-group").partitionsToOffsetAndMetadata().get()).isEmpty();
            assertThatThrownBy(() -> admin.deleteConsumerGroups(List.of("admin-group")).all().get())
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(GroupIdNotFoundException.class);
        }
    }

    @Test
    void adminCommitsAndDeletesOffsetsOfAnEmptyGroup() throws Exception {
        createTopic("alter", 2);
        TopicPartition p0 = new TopicPartition("alter", 0);
        TopicPartition p1 = new TopicPartition("alter", 1);
        try (Admin admin = fx.admin()) {
            admin.alterConsumerGroupOffsets("quiet", Map.of(p0, new OffsetAndMetadata(0), p1, new OffsetAndMetadata(0)))
                    .all().get();
            assertThat(admin.listConsumerGroupOffsets("quiet").partitionsToOffsetAndMetadata().get())
                    .containsOnlyKeys(p0, p1);
            admin.deleteConsumerGroupOffsets("quiet", Set.of(p1)).all().get();
            assertThat(admin.listConsumerGroupOffsets("quiet").partitionsToOffsetAndMetadata().get())
                    .containsOnlyKeys(p0);
        }
    }

    @Test
    void committedOffsetsSurviveABrokerRestart() throws Exception {
        createTopic("restart", 2);
        produce("restart", 2, "first-", 20);
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        try (KafkaConsumer<String, String> a = member("g")) {
            a.subscribe(List.of("restart"));
            @SuppressWarnings("unchecked")
            List<ConsumerRecord<String, String>>[] sink = new List[] {got};
            pollUntil(() -> got.size() >= 20, sink, a);
            a.commitSync();
        }
        fx.close();
        fx = null;
        fx = new BrokerFixture(dir);
        try (Admin admin = fx.admin()) {
            Map<TopicPartition, OffsetAndMetadata> offsets =
                    admin.listConsumerGroupOffsets("g").partitionsToOffsetAndMetadata().get();
            assertThat(offsets).hasSize(2);
            offsets.values().forEach(o -> assertThat(o.offset()).isEqualTo(10));
        }
        produce("restart", 2, "second-", 6);
        List<ConsumerRecord<String, String>> second = new ArrayList<>();
        KafkaConsumer<String, String> b = member("g");
        b.subscribe(List.of("restart"));
        @SuppressWarnings("unchecked")
        List<ConsumerRecord<String, String>>[] sink = new List[] {second};
        pollUntil(() -> second.size() >= 6, sink, b);
        assertThat(second).hasSize(6).allMatch(r -> r.value().startsWith("second-"));
    }

    @Test
    void theOffsetsTopicIsInternalAndClientsCannotWriteOrDeleteIt() throws Exception {
        createTopic("x", 1);
        String internal = io.shale.log.ConsumerOffsets.TOPIC;
        try (Admin admin = fx.admin()) {
            assertThat(fx.store.listTopics()).as("created by the first commit").doesNotContain(internal);
            admin.alterConsumerGroupOffsets("g", Map.of(new TopicPartition("x", 0), new OffsetAndMetadata(0))).all().get();
            assertThat(admin.listTopics().names().get()).containsExactly("x");
            assertThat(admin.listTopics(new org.apache.kafka.clients.admin.ListTopicsOptions().listInternal(true))
                    .names().get()).containsExactlyInAnyOrder("x", internal);
            assertThatThrownBy(() -> admin.deleteTopics(List.of(internal)).all().get())
                    .hasCauseInstanceOf(org.apache.kafka.common.errors.InvalidTopicException.class);
        }
        try (KafkaProducer<String, String> p = fx.producer("all", new Properties())) {
            assertThatThrownBy(() -> p.send(new ProducerRecord<>(internal, 0, "k", "v")).get())
                    .hasCauseInstanceOf(org.apache.kafka.common.errors.InvalidTopicException.class);
        }
        assertThat(fx.broker.consumerOffsets().fetch("g")).containsOnlyKeys(io.shale.log.TopicPartition.of("x", 0));
    }
}
