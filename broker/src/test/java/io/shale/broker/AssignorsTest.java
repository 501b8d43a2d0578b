package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.broker.ConsumerGroup.Member;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The server-side assignors: every subscribed partition once, to a subscriber, balanced; uniform sticky. */
class AssignorsTest {
    private static Member member(String id, String... topics) {
        Member m = new Member(id);
        m.subscribedNames = List.of(topics);
        return m;
    }

    private static int count(Map<String, Set<Integer>> a) {
        return a.values().stream().mapToInt(Set::size).sum();
    }

    /** Each partition of {@code topics} exactly once, only to members subscribed to its topic. */
    private static void assertComplete(Map<String, Map<String, Set<Integer>>> out, List<Member> members,
            Map<String, Integer> topics) {
        Map<String, Integer> seen = new HashMap<>();
        for (Member m : members) {
            out.get(m.id).forEach((t, ps) -> {
                assertThat(m.subscribes(t)).as("%s subscribes to %s", m.id, t).isTrue();
                ps.forEach(p -> assertThat(seen.put(t + "-" + p, 1)).as("%s-%d twice", t, p).isNull());
            });
        }
        assertThat(seen).hasSize(topics.values().stream().mapToInt(Integer::intValue).sum());
    }

    @Test
    void uniformBalancesAndKeepsWhatItCan() {
        Map<String, Integer> topics = new TreeMap<>(Map.of("a", 5, "b", 3));
        List<Member> members = new ArrayList<>(List.of(member("m1", "a", "b"), member("m2", "a", "b")));
        Map<String, Map<String, Set<Integer>>> first = Assignors.uniform(members, topics, Map.of());
        assertComplete(first, members, topics);
        assertThat(count(first.get("m1"))).isEqualTo(4);
        assertThat(count(first.get("m2"))).isEqualTo(4);

        members.add(member("m3", "a", "b"));
        Map<String, Map<String, Set<Integer>>> second = Assignors.uniform(members, topics, first);
        assertComplete(second, members, topics);
        int moved = 0;
        for (String m : List.of("m1", "m2")) {
            assertThat(count(second.get(m))).isBetween(2, 3);
            for (Map.Entry<String, Set<Integer>> e : first.get(m).entrySet()) {
                for (int p : e.getValue()) {
                    if (!second.get(m).getOrDefault(e.getKey(), Set.of()).contains(p)) {
                        moved++;
                    }
                }
            }
        }
        assertThat(count(second.get("m3"))).isBetween(2, 3);
        assertThat(moved).as("only what the new member gets moves").isEqualTo(count(second.get("m3")));
    }

    @Test
    void uniformWithDifferentSubscriptionsGivesEachTopicOnlyToItsSubscribers() {
        Map<String, Integer> topics = new TreeMap<>(Map.of("a", 4, "b", 4));
        List<Member> members = List.of(member("m1", "a"), member("m2", "a", "b"), member("m3", "b"));
        Map<String, Map<String, Set<Integer>>> out = Assignors.uniform(members, topics, Map.of());
        assertComplete(out, members, topics);
        for (Member m : members) {
            assertThat(count(out.get(m.id))).isBetween(2, 3);
        }
    }

    @Test
    void rangeGivesConsecutivePartitionsAndCoPartitions() {
        Map<String, Integer> topics = new TreeMap<>(Map.of("a", 5, "b", 5));
        List<Member> members = List.of(member("m2", "a", "b"), member("m1", "a", "b"));
        Map<String, Map<String, Set<Integer>>> out = Assignors.range(members, topics);
        assertComplete(out, members, topics);
        assertThat(out.get("m1")).isEqualTo(Map.of("a", Set.of(0, 1, 2), "b", Set.of(0, 1, 2)));
        assertThat(out.get("m2")).isEqualTo(Map.of("a", Set.of(3, 4), "b", Set.of(3, 4)));
        assertThatThrownBy(() -> Assignors.assign("sticky", members, topics, Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sticky");
    }
}
