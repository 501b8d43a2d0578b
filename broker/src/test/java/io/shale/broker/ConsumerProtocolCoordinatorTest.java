package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.CommittedOffset;
import io.shale.log.ConsumerOffsets;
import io.shale.log.LogStore;
import io.shale.log.TopicPartition;
import io.shale.storage.local.LocalStorage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator with consumer-protocol groups: coexistence with classic groups, member epochs in
 * offset commits and fetches, group types in listings, deletion.
 */
class ConsumerProtocolCoordinatorTest {
    @TempDir
    Path dir;
    LogStore store;
    GroupCoordinator groups;

    @BeforeEach
    void open() {
        store = LocalStorage.open(dir);
        store.createTopic("t", 2);
        ConsumerGroup.Topics topics = new ConsumerGroup.Topics() {
            @Override
            public Collection<String> names() {
                return store.listTopics();
            }

            @Override
            public int partitionCount(String topic) {
                return store.describeTopic(topic).map(d -> d.partitionCount()).orElse(-1);
            }
        };
        groups = new GroupCoordinator(ConsumerOffsets.open(store), 0, 100, 60_000, 20, topics, 60_000, 1_000);
    }

    @AfterEach
    void close() {
        groups.close();
        store.close();
    }

    private ConsumerGroup.Result join(String group, String member) {
        return groups.consumerHeartbeat(group, new ConsumerGroup.Heartbeat(member, 0, null, null, 10_000, List.of("t"),
                null, null, Map.of(), "c", "/h"));
    }

    private GroupCoordinator.JoinResult classicJoin(String group) throws Exception {
        return groups.join(group, "", null, "c", "/h", 10_000, 10_000, "consumer",
                List.of(new GroupCoordinator.Protocol("range", "x".getBytes(StandardCharsets.UTF_8))), false)
                .get(10, TimeUnit.SECONDS);
    }

    @Test
    void aGroupOfOneProtocolRefusesMembersOfTheOther() throws Exception {
        assertThat(join("modern", "m").error()).isEqualTo(Errors.NONE);
        assertThat(classicJoin("modern").error()).isEqualTo(Errors.INCONSISTENT_GROUP_PROTOCOL);

        assertThat(classicJoin("old").error()).isEqualTo(Errors.NONE);
        ConsumerGroup.Result r = join("old", "m");
        assertThat(r.error()).isEqualTo(Errors.GROUP_ID_NOT_FOUND);
        assertThat(r.message()).contains("old");

        // once the consumer group is empty a classic member may take the id over
        groups.consumerHeartbeat("modern", new ConsumerGroup.Heartbeat("m", -1, null, null, -1, null, null, null, null,
                null, null));
        assertThat(classicJoin("modern").error()).isEqualTo(Errors.NONE);
    }

    @Test
    void offsetCommitsAndFetchesCarryTheMemberEpoch() throws Exception {
        ConsumerGroup.Result r = join("g", "m");
        assertThat(r.memberEpoch()).isEqualTo(1);
        assertThat(groups.checkCommit("g", "m", 1, null)).isEqualTo(Errors.NONE);
        assertThat(groups.checkCommit("g", "m", 0, null)).isEqualTo(Errors.STALE_MEMBER_EPOCH);
        assertThat(groups.checkCommit("g", "m", 2, null)).isEqualTo(Errors.STALE_MEMBER_EPOCH);
        assertThat(groups.checkCommit("g", "other", 1, null)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(groups.checkCommit("g", "", -1, null))
                .as("a commit without member (admin, manual assignment) to a group with members: Kafka refuses it")
                .isEqualTo(Errors.UNKNOWN_MEMBER_ID);

        assertThat(groups.checkFetch("g", "m", 1)).isEqualTo(Errors.NONE);
        assertThat(groups.checkFetch("g", "m", 0)).isEqualTo(Errors.STALE_MEMBER_EPOCH);
        assertThat(groups.checkFetch("g", "x", 1)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(groups.checkFetch("g", null, -1)).isEqualTo(Errors.NONE);

        groups.commit("g", Map.of(TopicPartition.of("t", 0), CommittedOffset.of(5)))
                .get(10, TimeUnit.SECONDS);
        assertThat(groups.list()).singleElement().satisfies(v -> {
            assertThat(v.type()).isEqualTo("consumer");
            assertThat(v.stateName()).isEqualTo("Stable");
            assertThat(v.protocolType()).isEqualTo("consumer");
        });
        assertThat(groups.describe("g")).as("not a classic group").isNull();
        assertThat(groups.subscribedTopics("g")).containsExactly("t");
        assertThat(groups.deleteGroup("g").get(10, TimeUnit.SECONDS)).isEqualTo(Errors.NON_EMPTY_GROUP);

        groups.consumerHeartbeat("g", new ConsumerGroup.Heartbeat("m", -1, null, null, -1, null, null, null, null,
                null, null));
        assertThat(groups.list()).singleElement().satisfies(v -> {
            assertThat(v.type()).isEqualTo("consumer");
            assertThat(v.stateName()).isEqualTo("Empty");
        });
        assertThat(groups.checkCommit("g", "", -1, null)).as("admin commit to the empty group").isEqualTo(Errors.NONE);
        assertThat(groups.deleteGroup("g").get(10, TimeUnit.SECONDS)).isEqualTo(Errors.NONE);
        assertThat(groups.list()).isEmpty();
    }

    @Test
    void aHeartbeatForAnUnknownGroupOrMemberGetsUnknownMemberId() {
        ConsumerGroup.Result r = groups.consumerHeartbeat("none", new ConsumerGroup.Heartbeat("m", 3, null, null, -1,
                null, null, null, null, null, null));
        assertThat(r.error()).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(groups.consumerHeartbeat("", new ConsumerGroup.Heartbeat("m", 0, null, null, 1, List.of("t"), null,
                null, null, null, null)).error()).isEqualTo(Errors.INVALID_REQUEST);
    }
}
