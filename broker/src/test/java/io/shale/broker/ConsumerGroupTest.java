package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.broker.ConsumerGroup.Heartbeat;
import io.shale.broker.ConsumerGroup.Member;
import io.shale.broker.ConsumerGroup.MemberState;
import io.shale.broker.ConsumerGroup.Result;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

/** The consumer-protocol state machine: epochs, target assignment, revocation before assignment, fencing. */
class ConsumerGroupTest {
    private static final int SESSION_MS = 1_000;

    private final Map<String, Integer> topicCounts = new TreeMap<>();
    private final ConsumerGroup.Topics topics = new ConsumerGroup.Topics() {
        @Override
        public Collection<String> names() {
            return topicCounts.keySet();
        }

        @Override
        public int partitionCount(String topic) {
            return topicCounts.getOrDefault(topic, -1);
        }
    };
    private final ConsumerGroup group = new ConsumerGroup("g", SESSION_MS);
    private long now = 1_000;

    private Result join(String member, String... subscribed) {
        return group.heartbeat(new Heartbeat(member, 0, null, null, 10_000, List.of(subscribed), null, null,
                Map.of(), "client", "host"), topics, now);
    }

    private Result beat(String member, int epoch, Map<String, Set<Integer>> owned) {
        return group.heartbeat(new Heartbeat(member, epoch, null, null, -1, null, null, null, owned, null, null),
                topics, now);
    }

    private static Map<String, Set<Integer>> tp(String topic, Integer... partitions) {
        Map<String, Set<Integer>> m = new TreeMap<>();
        if (partitions.length > 0) {
            m.put(topic, new TreeSet<>(List.of(partitions)));
        }
        return m;
    }

    /** No partition is held (assigned or pending revocation) by two members. */
    private void assertNoPartitionHeldTwice() {
        Map<String, String> holder = new HashMap<>();
        for (Member m : group.members()) {
            for (Map<String, Set<Integer>> held : List.of(m.assigned, m.pendingRevocation)) {
                held.forEach((t, ps) -> ps.forEach(p -> {
                    String prev = holder.put(t + "-" + p, m.id);
                    assertThat(prev).as("%s-%d held by %s and %s", t, p, prev, m.id).isNull();
                }));
            }
        }
    }

    @Test
    void aPartitionGoesToItsNewMemberOnlyAfterItsOwnerAcknowledgedTheRevocation() {
        topicCounts.put("t", 4);
        Result a = join("a", "t");
        assertThat(a.error()).isEqualTo(Errors.NONE);
        assertThat(a.memberEpoch()).isEqualTo(1);
        assertThat(a.assignment()).isEqualTo(tp("t", 0, 1, 2, 3));

        Result b = join("b", "t");
        assertThat(group.groupEpoch()).isEqualTo(2);
        assertThat(b.memberEpoch()).isEqualTo(2);
        assertThat(b.assignment()).as("all of b's target is still held by a").isEmpty();
        assertThat(group.member("b").state).isEqualTo(MemberState.UNRELEASED_PARTITIONS);
        Set<Integer> forB = group.targetOf("b").get("t");
        assertThat(forB).hasSize(2);
        Set<Integer> forA = group.targetOf("a").get("t");
        assertThat(forA).hasSize(2).doesNotContainAnyElementsOf(forB);
        assertNoPartitionHeldTwice();

        // a is asked to revoke b's partitions; its epoch stays until it has
        Result a2 = beat("a", 1, tp("t", 0, 1, 2, 3));
        assertThat(a2.memberEpoch()).isEqualTo(1);
        assertThat(a2.assignment()).isEqualTo(Map.of("t", forA));
        assertThat(group.member("a").state).isEqualTo(MemberState.UNREVOKED_PARTITIONS);
        assertNoPartitionHeldTwice();

        // b asks again: nothing yet, a has not confirmed
        assertThat(beat("b", 2, Map.of()).assignment()).isNull();
        assertThat(group.member("b").assigned).isEmpty();
        // a heartbeats without owned partitions, then still owning them: still nothing for b
        assertThat(beat("a", 1, null).memberEpoch()).isEqualTo(1);
        assertThat(beat("a", 1, tp("t", 0, 1, 2, 3)).memberEpoch()).isEqualTo(1);
        assertThat(beat("b", 2, Map.of()).assignment()).isNull();
        assertNoPartitionHeldTwice();

        // a confirms: it moves to epoch 2, then b gets its partitions
        Result a3 = beat("a", 1, Map.of("t", forA));
        assertThat(a3.memberEpoch()).isEqualTo(2);
        assertThat(group.member("a").state).isEqualTo(MemberState.STABLE);
        Result b2 = beat("b", 2, Map.of());
        assertThat(b2.assignment()).isEqualTo(Map.of("t", forB));
        assertThat(group.member("b").state).isEqualTo(MemberState.STABLE);
        assertThat(group.stateName()).isEqualTo("Stable");
        assertNoPartitionHeldTwice();
    }

    @Test
    void epochsAreFenced() {
        topicCounts.put("t", 2);
        join("a", "t");
        assertThat(beat("a", 5, null).error()).isEqualTo(Errors.FENCED_MEMBER_EPOCH);
        assertThat(beat("nobody", 1, null).error()).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        join("b", "t");
        beat("a", 1, tp("t", 0, 1));
        Member a = group.member("a");
        Map<String, Set<Integer>> kept = a.assigned;
        beat("a", 1, kept);
        assertThat(a.epoch).isEqualTo(2);
        // the previous epoch is accepted while what it owns is a subset of its assignment (a lost response)
        assertThat(beat("a", 1, kept).error()).isEqualTo(Errors.NONE);
        assertThat(beat("a", 1, tp("t", 0, 1)).error()).isEqualTo(Errors.FENCED_MEMBER_EPOCH);
        assertThat(beat("a", 2, null).error()).isEqualTo(Errors.NONE);
        // offsets: only at the current epoch
        assertThat(group.validateMemberEpoch("a", 2)).isEqualTo(Errors.NONE);
        assertThat(group.validateMemberEpoch("a", 1)).isEqualTo(Errors.STALE_MEMBER_EPOCH);
        assertThat(group.validateMemberEpoch("x", 2)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
    }

    @Test
    void aLeavingMemberFreesItsPartitionsAndAnExpiredOneIsRemoved() {
        topicCounts.put("t", 4);
        join("a", "t");
        join("b", "t");
        beat("a", 1, tp("t", 0, 1, 2, 3));
        beat("a", 1, group.member("a").assigned);
        beat("b", 2, Map.of());
        assertThat(group.member("b").assigned.get("t")).hasSize(2);

        Result left = beat("b", ConsumerGroup.LEAVE_EPOCH, null);
        assertThat(left.memberEpoch()).isEqualTo(-1);
        assertThat(group.member("b")).isNull();
        Result a = beat("a", 2, group.member("a").assigned);
        assertThat(a.memberEpoch()).isEqualTo(3);
        assertThat(a.assignment()).isEqualTo(tp("t", 0, 1, 2, 3));

        join("c", "t");
        now += SESSION_MS - 1;
        beat("a", 3, group.member("a").assigned); // a stays alive, c does not heartbeat
        now += 2;
        assertThat(group.expire(now, topics)).containsExactly("c");
        assertThat(group.member("c")).isNull();
        now += SESSION_MS;
        assertThat(group.expire(now, topics)).containsExactly("a");
        assertThat(group.isEmpty()).isTrue();
    }

    @Test
    void aMemberThatDoesNotRevokeInItsRebalanceTimeoutIsRemoved() {
        topicCounts.put("t", 2);
        join("a", "t");
        join("b", "t");
        beat("a", 1, tp("t", 0, 1)); // asked to revoke one partition
        assertThat(group.member("a").state).isEqualTo(MemberState.UNREVOKED_PARTITIONS);
        now += 10_001 - SESSION_MS + 1;
        beat("b", 2, Map.of());
        now += SESSION_MS - 1;
        beat("b", 2, Map.of());
        assertThat(group.expire(now, topics)).containsExactly("a");
        assertThat(beat("b", 2, Map.of()).assignment()).isEqualTo(tp("t", 0, 1));
    }

    @Test
    void aStaticMemberComingBackKeepsItsPartitions() {
        topicCounts.put("t", 2);
        Result a = group.heartbeat(new Heartbeat("a1", 0, "inst", null, 10_000, List.of("t"), null, null, Map.of(),
                "c", "h"), topics, now);
        assertThat(a.assignment()).isEqualTo(tp("t", 0, 1));
        assertThat(group.heartbeat(new Heartbeat("a1", -2, "inst", null, -1, null, null, null, null, null, null),
                topics, now).memberEpoch()).isEqualTo(-2);
        // while it is away its partitions stay its own: a new member waits for them
        Result b = join("b", "t");
        assertThat(b.assignment()).isEmpty();
        Result back = group.heartbeat(new Heartbeat("a2", 0, "inst", null, 10_000, List.of("t"), null, null, Map.of(),
                "c", "h"), topics, now);
        assertThat(back.error()).isEqualTo(Errors.NONE);
        assertThat(back.memberId()).isEqualTo("a2");
        assertThat(group.member("a1")).isNull();
        assertThat(group.member("a2").instanceId).isEqualTo("inst");
        // it comes back with the epoch and partitions it had, and reconciles towards the new target
        assertThat(back.memberEpoch()).isEqualTo(1);
        Member a2 = group.member("a2");
        Set<Integer> held = new TreeSet<>(a2.assigned.get("t"));
        held.addAll(a2.pendingRevocation.get("t"));
        assertThat(held).containsExactly(0, 1);
        assertThat(back.assignment()).isEqualTo(Map.of("t", group.targetOf("a2").get("t")));
        // another process with the same instance id while this one is in: refused
        Result again = group.heartbeat(new Heartbeat("a3", 0, "inst", null, 10_000, List.of("t"), null, null, Map.of(),
                "c", "h"), topics, now);
        assertThat(again.error()).isEqualTo(Errors.UNRELEASED_INSTANCE_ID);
        assertNoPartitionHeldTwice();
    }

    @Test
    void aRegexSubscriptionFollowsNewTopicsAndBadInputIsRefused() {
        topicCounts.put("rx-a", 1);
        topicCounts.put("other", 1);
        topicCounts.put("__internal", 1);
        Result a = group.heartbeat(new Heartbeat("a", 0, null, null, 10_000, null, "rx-.*|__.*", null, Map.of(), "c",
                "h"), topics, now);
        assertThat(a.assignment()).isEqualTo(tp("rx-a", 0));
        int epoch = group.groupEpoch();
        topicCounts.put("rx-b", 2);
        Result a2 = beat("a", a.memberEpoch(), tp("rx-a", 0));
        assertThat(group.groupEpoch()).isGreaterThan(epoch);
        assertThat(a2.assignment()).containsOnlyKeys("rx-a", "rx-b");

        assertThat(group.heartbeat(new Heartbeat("b", 0, null, null, 10_000, null, "rx-(", null, Map.of(), "c", "h"),
                topics, now).error()).isEqualTo(Errors.INVALID_REGULAR_EXPRESSION);
        assertThat(group.heartbeat(new Heartbeat("b", 0, null, null, 10_000, null, null, null, Map.of(), "c", "h"),
                topics, now).error()).isEqualTo(Errors.INVALID_REQUEST);
        assertThat(group.heartbeat(new Heartbeat("b", 0, null, null, 10_000, List.of("t"), null, "sticky", Map.of(),
                "c", "h"), topics, now).error()).isEqualTo(Errors.UNSUPPORTED_ASSIGNOR);
        assertThat(group.member("b")).as("a refused join leaves nothing behind").isNull();
        assertThat(group.members()).hasSize(1);
    }

    /**
     * A subscription regex is matched against every topic name on the coordinator's one lock: a
     * pattern with catastrophic backtracking (some 10^12 backtracking steps for java.util.regex
     * against this 61-character topic name) must neither hang the coordinator nor be refused. Kafka
     * specifies RE2J syntax for SubscribedTopicRegex, whose matching is linear in the input.
     */
    @Test
    @org.junit.jupiter.api.Timeout(value = 30, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void aRegexWithCatastrophicBacktrackingDoesNotHangTheCoordinator() {
        topicCounts.put("a".repeat(60) + "!", 1);
        topicCounts.put("a".repeat(12) + "b", 2);
        Result a = group.heartbeat(new Heartbeat("a", 0, null, null, 10_000, null, "(.*a){12}b", null, Map.of(), "c",
                "h"), topics, now);
        assertThat(a.error()).isEqualTo(Errors.NONE);
        assertThat(a.assignment()).isEqualTo(tp("a".repeat(12) + "b", 0, 1));
        // RE2J syntax, not java.util.regex: a possessive quantifier is not valid there
        assertThat(group.heartbeat(new Heartbeat("b", 0, null, null, 10_000, null, "a++b", null, Map.of(), "c", "h"),
                topics, now).error()).isEqualTo(Errors.INVALID_REGULAR_EXPRESSION);
    }

    @Test
    void threeMembersJoiningOneByOneEndBalancedWithNoPartitionEverHeldTwice() {
        topicCounts.put("t", 7);
        Map<String, Integer> epochs = new HashMap<>();
        for (String m : List.of("a", "b", "c")) {
            epochs.put(m, join(m, "t").memberEpoch());
            assertNoPartitionHeldTwice();
            // every member heartbeats, reporting what it holds, until nothing changes
            for (int round = 0; round < 6; round++) {
                for (String x : epochs.keySet()) {
                    Member mm = group.member(x);
                    Result r = beat(x, mm.epoch, new TreeMap<>(mm.assigned));
                    assertThat(r.error()).isEqualTo(Errors.NONE);
                    assertNoPartitionHeldTwice();
                }
            }
        }
        assertThat(group.stateName()).isEqualTo("Stable");
        Set<Integer> all = new HashSet<>();
        for (Member m : group.members()) {
            assertThat(m.assigned.get("t").size()).isBetween(2, 3);
            all.addAll(m.assigned.get("t"));
            assertThat(m.epoch).isEqualTo(group.assignmentEpoch());
        }
        assertThat(all).hasSize(7);
    }
}
