package io.shale.broker;

import io.shale.broker.ConsumerGroup.Member;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The server-side assignors a {@code consumer}-protocol group can name with
 * {@code group.remote.assignor}: {@code uniform} (the default) and {@code range}.
 *
 * <p>uniform: every partition of a subscribed topic goes to one of the members subscribed to it,
 * keeping the previous target where it can (sticky), then moving partitions from the most loaded
 * to the least loaded eligible member until no move makes the counts more even. range: for each
 * topic, the members subscribed to it (ordered by instance id, else member id) get consecutive
 * ranges of partitions, the first ones one more when the count does not divide evenly (as the
 * classic range assignor).
 */
final class Assignors {
    private Assignors() {}

    /** member id -> topic -> partitions. */
    static Map<String, Map<String, Set<Integer>>> assign(String assignor, Collection<Member> members,
            Map<String, Integer> topics, Map<String, Map<String, Set<Integer>>> previous) {
        switch (assignor) {
            case ConsumerGroup.UNIFORM:
                return uniform(members, topics, previous);
            case ConsumerGroup.RANGE:
                return range(members, topics);
            default:
                throw new IllegalArgumentException("unknown assignor " + assignor + "; known: " + ConsumerGroup.ASSIGNORS);
        }
    }

    private static Map<String, Map<String, Set<Integer>>> empty(Collection<Member> members) {
        Map<String, Map<String, Set<Integer>>> out = new TreeMap<>();
        for (Member m : members) {
            out.put(m.id, new TreeMap<>());
        }
        return out;
    }

    static Map<String, Map<String, Set<Integer>>> range(Collection<Member> members, Map<String, Integer> topics) {
        Map<String, Map<String, Set<Integer>>> out = empty(members);
        topics.forEach((topic, count) -> {
            List<Member> subscribed = new ArrayList<>();
            for (Member m : members) {
                if (m.subscribes(topic)) {
                    subscribed.add(m);
                }
            }
            if (subscribed.isEmpty()) {
                return;
            }
            subscribed.sort(Comparator.comparing((Member m) -> m.instanceId == null ? "" : m.instanceId)
                    .thenComparing(m -> m.id));
            int n = subscribed.size();
            int per = count / n;
            int extra = count % n;
            int next = 0;
            for (int i = 0; i < n; i++) {
                int take = per + (i < extra ? 1 : 0);
                for (int k = 0; k < take; k++) {
                    out.get(subscribed.get(i).id).computeIfAbsent(topic, x -> new TreeSet<>()).add(next++);
                }
            }
        });
        return out;
    }

    static Map<String, Map<String, Set<Integer>>> uniform(Collection<Member> members, Map<String, Integer> topics,
            Map<String, Map<String, Set<Integer>>> previous) {
        Map<String, Map<String, Set<Integer>>> out = empty(members);
        Map<String, Member> byId = new HashMap<>();
        Map<String, Integer> load = new TreeMap<>();
        for (Member m : members) {
            byId.put(m.id, m);
            load.put(m.id, 0);
        }
        // owner of each partition: sticky first
        Map<String, String[]> owner = new TreeMap<>();
        topics.forEach((t, n) -> owner.put(t, new String[n]));
        previous.forEach((memberId, assignment) -> {
            Member m = byId.get(memberId);
            if (m == null) {
                return;
            }
            assignment.forEach((t, ps) -> {
                String[] o = owner.get(t);
                if (o == null || !m.subscribes(t)) {
                    return;
                }
                for (int p : ps) {
                    if (p < o.length && o[p] == null) {
                        o[p] = memberId;
                        load.merge(memberId, 1, Integer::sum);
                    }
                }
            });
        });
        // the rest: to the least loaded subscribed member
        owner.forEach((t, o) -> {
            for (int p = 0; p < o.length; p++) {
                if (o[p] == null) {
                    String best = leastLoaded(members, load, t, null);
                    if (best != null) {
                        o[p] = best;
                        load.merge(best, 1, Integer::sum);
                    }
                }
            }
        });
        // balance: move a partition from a member to an eligible one holding at least two fewer
        boolean moved = true;
        while (moved) {
            moved = false;
            for (Map.Entry<String, String[]> e : owner.entrySet()) {
                String[] o = e.getValue();
                for (int p = 0; p < o.length; p++) {
                    if (o[p] == null) {
                        continue;
                    }
                    String to = leastLoaded(members, load, e.getKey(), o[p]);
                    if (to != null && load.get(to) + 1 < load.get(o[p])) {
                        load.merge(o[p], -1, Integer::sum);
                        load.merge(to, 1, Integer::sum);
                        o[p] = to;
                        moved = true;
                    }
                }
            }
        }
        owner.forEach((t, o) -> {
            for (int p = 0; p < o.length; p++) {
                if (o[p] != null) {
                    out.get(o[p]).computeIfAbsent(t, x -> new TreeSet<>()).add(p);
                }
            }
        });
        return out;
    }

    private static String leastLoaded(Collection<Member> members, Map<String, Integer> load, String topic, String except) {
        String best = null;
        for (Member m : members) {
            if (!m.id.equals(except) && m.subscribes(topic)
                    && (best == null || load.get(m.id) < load.get(best)
                            || (load.get(m.id).equals(load.get(best)) && m.id.compareTo(best) < 0))) {
                best = m.id;
            }
        }
        return best;
    }
}
