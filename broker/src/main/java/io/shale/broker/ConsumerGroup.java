package io.shale.broker;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.kafka.common.protocol.Errors;

/**
 * One group of Kafka's {@code consumer} protocol (KIP-848): the broker computes the target
 * assignment and each member reconciles towards it through its heartbeats.
 *
 * <p>Epochs are Kafka's: the group epoch is bumped when the membership, a subscription or the
 * partitions of a subscribed topic change; the target assignment is then recomputed (assignment
 * epoch = group epoch). A member moves to the target epoch in steps: first it is asked to revoke
 * the partitions it holds that its target no longer has (its epoch stays); once a heartbeat
 * reports them gone it gets the target epoch and the partitions of its target that no other member
 * still holds (assigned or pending revocation); the rest come in later heartbeats, once their
 * previous owners have acknowledged revoking them. A partition is therefore never held by two
 * members at once.
 *
 * <p>Not thread-safe: the caller ({@link GroupCoordinator}) serializes all calls. Time is passed in
 * (milliseconds of a monotonic clock) so that the state machine can be tested without waiting.
 */
final class ConsumerGroup {
    /** Kafka's epoch of a member leaving for good / a static member leaving for a while. */
    static final int LEAVE_EPOCH = -1;
    static final int STATIC_LEAVE_EPOCH = -2;

    static final String UNIFORM = "uniform";
    static final String RANGE = "range";
    static final List<String> ASSIGNORS = List.of(UNIFORM, RANGE);

    /** The topics of the store, as the group sees them. */
    interface Topics {
        /** Every topic name (internal topics included; the group leaves out names starting with "__" for regexes). */
        Collection<String> names();

        /** The topic's partition count, or -1 if it does not exist. */
        int partitionCount(String topic);
    }

    enum MemberState { STABLE, UNREVOKED_PARTITIONS, UNRELEASED_PARTITIONS }

    /** A heartbeat's content; null fields were not sent (unchanged since the last heartbeat). */
    record Heartbeat(String memberId, int memberEpoch, String instanceId, String rackId, int rebalanceTimeoutMs,
            List<String> subscribedTopicNames, String subscribedTopicRegex, String serverAssignor,
            Map<String, Set<Integer>> ownedPartitions, String clientId, String clientHost) {}

    /** The answer: an error, or the member's id and epoch and (when it changed or was asked for) its assignment. */
    record Result(Errors error, String message, String memberId, int memberEpoch, Map<String, Set<Integer>> assignment) {
        static Result error(Errors e, String message) {
            return new Result(e, message, null, 0, null);
        }
    }

    static final class Member {
        String id;
        int epoch;
        int previousEpoch;
        String instanceId;
        String rackId;
        String clientId = "";
        String clientHost = "";
        int rebalanceTimeoutMs;
        List<String> subscribedNames = List.of();
        String regex;
        Pattern compiled;
        String serverAssignor;
        MemberState state = MemberState.STABLE;
        Map<String, Set<Integer>> assigned = new TreeMap<>();
        Map<String, Set<Integer>> pendingRevocation = new TreeMap<>();
        long sessionDeadline;
        long revocationDeadline = Long.MAX_VALUE;

        Member(String id) {
            this.id = id;
        }

        boolean subscribes(String topic) {
            return subscribedNames.contains(topic)
                    || (compiled != null && !topic.startsWith("__") && compiled.matcher(topic).matches());
        }
    }

    final String id;
    private final int sessionTimeoutMs;
    private final Map<String, Member> members = new LinkedHashMap<>();
    private int groupEpoch;
    private int assignmentEpoch;
    private Map<String, Map<String, Set<Integer>>> target = new HashMap<>();
    /** Partition counts of the subscribed topics when the target was last computed. */
    private Map<String, Integer> subscribedTopics = new TreeMap<>();
    private String assignorName = UNIFORM;

    ConsumerGroup(String id, int sessionTimeoutMs) {
        this.id = id;
        this.sessionTimeoutMs = sessionTimeoutMs;
    }

    boolean isEmpty() {
        return members.isEmpty();
    }

    int groupEpoch() {
        return groupEpoch;
    }

    int assignmentEpoch() {
        return assignmentEpoch;
    }

    String assignorName() {
        return assignorName;
    }

    Collection<Member> members() {
        return Collections.unmodifiableCollection(members.values());
    }

    Member member(String memberId) {
        return members.get(memberId);
    }

    Map<String, Set<Integer>> targetOf(String memberId) {
        return target.getOrDefault(memberId, Map.of());
    }

    /** Kafka's group state names: Empty, Assigning, Reconciling, Stable. */
    String stateName() {
        if (members.isEmpty()) {
            return "Empty";
        }
        if (groupEpoch > assignmentEpoch) {
            return "Assigning";
        }
        for (Member m : members.values()) {
            if (m.epoch != assignmentEpoch || m.state != MemberState.STABLE) {
                return "Reconciling";
            }
        }
        return "Stable";
    }

    /** The topics some member subscribes to (by name, or matched by a regex). */
    Set<String> subscribedTopicNames() {
        return new TreeSet<>(subscribedTopics.keySet());
    }

    // ---------------------------------------------------------------- heartbeat

    Result heartbeat(Heartbeat hb, Topics topics, long now) {
        String memberId = hb.memberId();
        int epoch = hb.memberEpoch();
        if (epoch == LEAVE_EPOCH || epoch == STATIC_LEAVE_EPOCH) {
            return leave(hb, topics);
        }
        // checked before anything changes; RE2 syntax as Kafka's, and matching linear in the topic name
        // (a backtracking engine would let one client's regex hold the coordinator's lock for ever)
        Pattern compiled = null;
        if (hb.subscribedTopicRegex() != null && !hb.subscribedTopicRegex().isEmpty()) {
            try {
                compiled = Pattern.compile(hb.subscribedTopicRegex());
            } catch (PatternSyntaxException e) {
                return Result.error(Errors.INVALID_REGULAR_EXPRESSION, "subscribed topic regex "
                        + hb.subscribedTopicRegex() + " is not valid: " + e.getDescription());
            }
        }
        if (hb.serverAssignor() != null && !ASSIGNORS.contains(hb.serverAssignor())) {
            return Result.error(Errors.UNSUPPORTED_ASSIGNOR, "server assignor " + hb.serverAssignor()
                    + " is not supported; this broker has " + ASSIGNORS);
        }
        Member m;
        Map<String, Set<Integer>> before;
        boolean full = false;
        boolean changed = false;
        if (epoch == 0) {
            Errors invalid = validateJoin(hb);
            if (invalid != null) {
                return Result.error(invalid, invalidJoinMessage(hb));
            }
            if (memberId == null || memberId.isEmpty()) {
                memberId = UUID.randomUUID().toString();
            }
            Member byInstance = hb.instanceId() == null ? null : byInstance(hb.instanceId());
            m = members.get(memberId);
            if (byInstance != null && byInstance != m) {
                if (byInstance.epoch != STATIC_LEAVE_EPOCH) {
                    return Result.error(Errors.UNRELEASED_INSTANCE_ID, "static member " + hb.instanceId()
                            + " of group " + id + " is still in use by member " + byInstance.id);
                }
                // a static member back after a temporary leave: the new id takes its place and assignment
                members.remove(byInstance.id);
                Map<String, Set<Integer>> t = target.remove(byInstance.id);
                if (t != null) {
                    target.put(memberId, t);
                }
                byInstance.id = memberId;
                byInstance.epoch = byInstance.previousEpoch;
                members.put(memberId, byInstance);
                m = byInstance;
            } else if (m == null) {
                m = new Member(memberId);
                members.put(memberId, m);
                changed = true;
            } else {
                // a known member rejoining (e.g. after being fenced): it starts again from nothing
                m.assigned = new TreeMap<>();
                m.pendingRevocation = new TreeMap<>();
                m.state = MemberState.STABLE;
                m.epoch = 0;
                m.previousEpoch = 0;
                m.revocationDeadline = Long.MAX_VALUE;
            }
            full = true;
            before = null;
        } else if (epoch < STATIC_LEAVE_EPOCH) {
            return Result.error(Errors.INVALID_REQUEST, "member epoch " + epoch + " is not valid");
        } else {
            m = memberId == null ? null : members.get(memberId);
            if (m == null) {
                return Result.error(Errors.UNKNOWN_MEMBER_ID, "member " + memberId + " is not in group " + id);
            }
            if (hb.instanceId() != null && !hb.instanceId().equals(m.instanceId)) {
                return Result.error(Errors.FENCED_INSTANCE_ID, "member " + memberId + " does not have instance id "
                        + hb.instanceId());
            }
            if (epoch > m.epoch || (epoch < m.epoch
                    && (epoch != m.previousEpoch || !isSubset(hb.ownedPartitions(), m.assigned)))) {
                return Result.error(Errors.FENCED_MEMBER_EPOCH, "member " + memberId + " sent epoch " + epoch
                        + " but its epoch is " + m.epoch);
            }
            before = copy(m.assigned);
        }
        m.sessionDeadline = now + sessionTimeoutMs;
        if (hb.clientId() != null) {
            m.clientId = hb.clientId();
        }
        if (hb.clientHost() != null) {
            m.clientHost = hb.clientHost();
        }
        if (hb.instanceId() != null) {
            m.instanceId = hb.instanceId();
        }
        if (hb.rackId() != null) {
            m.rackId = hb.rackId();
        }
        if (hb.rebalanceTimeoutMs() > 0) {
            m.rebalanceTimeoutMs = hb.rebalanceTimeoutMs();
        }
        if (hb.subscribedTopicNames() != null && !new TreeSet<>(hb.subscribedTopicNames()).equals(new TreeSet<>(m.subscribedNames))) {
            m.subscribedNames = List.copyOf(new TreeSet<>(hb.subscribedTopicNames()));
            changed = true;
        }
        if (hb.subscribedTopicRegex() != null && !hb.subscribedTopicRegex().equals(m.regex == null ? "" : m.regex)) {
            m.regex = hb.subscribedTopicRegex().isEmpty() ? null : hb.subscribedTopicRegex();
            m.compiled = compiled;
            changed = true;
        }
        if (hb.serverAssignor() != null && !hb.serverAssignor().equals(m.serverAssignor)) {
            m.serverAssignor = hb.serverAssignor();
            changed = true;
        }
        refreshTarget(topics, changed);
        reconcile(m, hb.ownedPartitions(), now);
        boolean send = full || !m.assigned.equals(before)
                || (hb.ownedPartitions() != null && !normalize(hb.ownedPartitions()).equals(m.assigned));
        return new Result(Errors.NONE, null, m.id, m.epoch, send ? copy(m.assigned) : null);
    }

    private static Errors validateJoin(Heartbeat hb) {
        if (hb.rebalanceTimeoutMs() < 0) {
            return Errors.INVALID_REQUEST;
        }
        if (hb.subscribedTopicNames() == null && hb.subscribedTopicRegex() == null) {
            return Errors.INVALID_REQUEST;
        }
        if (hb.ownedPartitions() != null && !hb.ownedPartitions().isEmpty()) {
            return Errors.INVALID_REQUEST;
        }
        if (hb.instanceId() != null && hb.instanceId().isEmpty()) {
            return Errors.INVALID_REQUEST;
        }
        return null;
    }

    private static String invalidJoinMessage(Heartbeat hb) {
        if (hb.subscribedTopicNames() == null && hb.subscribedTopicRegex() == null) {
            return "a joining member must send SubscribedTopicNames or SubscribedTopicRegex";
        }
        if (hb.ownedPartitions() != null && !hb.ownedPartitions().isEmpty()) {
            return "a joining member must send no TopicPartitions";
        }
        if (hb.instanceId() != null && hb.instanceId().isEmpty()) {
            return "InstanceId must be null or not empty";
        }
        return "a joining member must send RebalanceTimeoutMs (at least 0): " + hb.rebalanceTimeoutMs();
    }

    private Result leave(Heartbeat hb, Topics topics) {
        Member m = hb.memberId() == null ? null : members.get(hb.memberId());
        if (m == null && hb.instanceId() != null) {
            m = byInstance(hb.instanceId());
        }
        if (m == null) {
            return Result.error(Errors.UNKNOWN_MEMBER_ID, "member " + hb.memberId() + " is not in group " + id);
        }
        if (hb.instanceId() != null && !hb.instanceId().equals(m.instanceId)) {
            return Result.error(Errors.FENCED_INSTANCE_ID, "member " + m.id + " does not have instance id " + hb.instanceId());
        }
        if (hb.memberEpoch() == STATIC_LEAVE_EPOCH) {
            if (m.instanceId == null) {
                return Result.error(Errors.INVALID_REQUEST, "member epoch -2 is for static members (with an instance id)");
            }
            // it keeps its partitions until it comes back or its session times out
            if (m.epoch != STATIC_LEAVE_EPOCH) {
                m.previousEpoch = m.epoch;
                m.epoch = STATIC_LEAVE_EPOCH;
            }
            return new Result(Errors.NONE, null, m.id, STATIC_LEAVE_EPOCH, null);
        }
        remove(m);
        refreshTarget(topics, true);
        return new Result(Errors.NONE, null, m.id, LEAVE_EPOCH, null);
    }

    private Member byInstance(String instanceId) {
        for (Member m : members.values()) {
            if (instanceId.equals(m.instanceId)) {
                return m;
            }
        }
        return null;
    }

    private void remove(Member m) {
        members.remove(m.id);
        target.remove(m.id);
    }

    /**
     * Removes the members whose session timed out, and those that did not acknowledge a
     * revocation within their rebalance timeout; their ids.
     */
    List<String> expire(long now, Topics topics) {
        List<String> gone = new ArrayList<>();
        for (Iterator<Member> it = new ArrayList<>(members.values()).iterator(); it.hasNext();) {
            Member m = it.next();
            if (now > m.sessionDeadline || now > m.revocationDeadline) {
                remove(m);
                gone.add(m.id);
            }
        }
        if (!gone.isEmpty()) {
            refreshTarget(topics, true);
        }
        return gone;
    }

    /** Kafka's offset-commit check for a member: UNKNOWN_MEMBER_ID or STALE_MEMBER_EPOCH, or NONE. */
    Errors validateMemberEpoch(String memberId, int memberEpoch) {
        Member m = memberId == null ? null : members.get(memberId);
        if (m == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        return memberEpoch == m.epoch ? Errors.NONE : Errors.STALE_MEMBER_EPOCH;
    }

    // ---------------------------------------------------------------- target assignment

    /**
     * Bumps the group epoch (once) if {@code bump} or a subscribed topic changed, and then
     * recomputes the target assignment.
     */
    void refreshTarget(Topics topics, boolean bump) {
        Map<String, Integer> now = new TreeMap<>();
        Collection<String> all = null;
        for (Member m : members.values()) {
            for (String t : m.subscribedNames) {
                int n = topics.partitionCount(t);
                if (n > 0) {
                    now.put(t, n);
                }
            }
            if (m.compiled != null) {
                if (all == null) {
                    all = topics.names();
                }
                for (String t : all) {
                    if (!now.containsKey(t) && m.subscribes(t)) {
                        int n = topics.partitionCount(t);
                        if (n > 0) {
                            now.put(t, n);
                        }
                    }
                }
            }
        }
        if (!now.equals(subscribedTopics)) {
            subscribedTopics = now;
            bump = true;
        }
        if (bump) {
            groupEpoch++;
        }
        if (groupEpoch > assignmentEpoch) {
            assignorName = chooseAssignor();
            target = Assignors.assign(assignorName, members.values(), subscribedTopics, target);
            assignmentEpoch = groupEpoch;
        }
    }

    /** The server assignor most members named, else uniform (Kafka's default). */
    private String chooseAssignor() {
        Map<String, Integer> votes = new TreeMap<>();
        for (Member m : members.values()) {
            if (m.serverAssignor != null) {
                votes.merge(m.serverAssignor, 1, Integer::sum);
            }
        }
        String best = UNIFORM;
        int most = 0;
        for (Map.Entry<String, Integer> e : votes.entrySet()) {
            if (e.getValue() > most) {
                best = e.getKey();
                most = e.getValue();
            }
        }
        return best;
    }

    // ---------------------------------------------------------------- reconciliation

    /** Moves the member one step towards its target (Kafka's CurrentAssignmentBuilder). */
    void reconcile(Member m, Map<String, Set<Integer>> owned, long now) {
        if (m.epoch == STATIC_LEAVE_EPOCH) {
            return;
        }
        if (m.state == MemberState.UNREVOKED_PARTITIONS) {
            if (owned == null || intersects(normalize(owned), m.pendingRevocation)) {
                return; // still waiting for the member to give the partitions up
            }
            m.pendingRevocation = new TreeMap<>();
            m.revocationDeadline = Long.MAX_VALUE;
        }
        if (m.state == MemberState.STABLE && m.epoch == assignmentEpoch) {
            return;
        }
        Map<String, Set<Integer>> goal = targetOf(m.id);
        Map<String, Set<Integer>> keep = new TreeMap<>();
        Map<String, Set<Integer>> revoke = new TreeMap<>();
        m.assigned.forEach((t, ps) -> ps.forEach(p -> {
            Set<Integer> g = goal.get(t);
            (g != null && g.contains(p) ? keep : revoke).computeIfAbsent(t, x -> new TreeSet<>()).add(p);
        }));
        if (!revoke.isEmpty()) {
            m.assigned = keep;
            m.pendingRevocation = revoke;
            m.state = MemberState.UNREVOKED_PARTITIONS;
            m.revocationDeadline = now + Math.max(m.rebalanceTimeoutMs, 1);
            return;
        }
        boolean unreleased = false;
        for (Map.Entry<String, Set<Integer>> e : goal.entrySet()) {
            for (int p : e.getValue()) {
                if (keep.getOrDefault(e.getKey(), Set.of()).contains(p)) {
                    continue;
                }
                if (heldByOther(m, e.getKey(), p)) {
                    unreleased = true;
                } else {
                    keep.computeIfAbsent(e.getKey(), x -> new TreeSet<>()).add(p);
                }
            }
        }
        m.assigned = keep;
        if (m.epoch != assignmentEpoch) {
            m.previousEpoch = m.epoch;
            m.epoch = assignmentEpoch;
        }
        m.state = unreleased ? MemberState.UNRELEASED_PARTITIONS : MemberState.STABLE;
    }

    private boolean heldByOther(Member self, String topic, int partition) {
        for (Member o : members.values()) {
            if (o != self && (o.assigned.getOrDefault(topic, Set.of()).contains(partition)
                    || o.pendingRevocation.getOrDefault(topic, Set.of()).contains(partition))) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- helpers

    static Map<String, Set<Integer>> normalize(Map<String, Set<Integer>> a) {
        Map<String, Set<Integer>> out = new TreeMap<>();
        if (a != null) {
            a.forEach((t, ps) -> {
                if (!ps.isEmpty()) {
                    out.put(t, new TreeSet<>(ps));
                }
            });
        }
        return out;
    }

    private static Map<String, Set<Integer>> copy(Map<String, Set<Integer>> a) {
        return normalize(a);
    }

    private static boolean intersects(Map<String, Set<Integer>> a, Map<String, Set<Integer>> b) {
        for (Map.Entry<String, Set<Integer>> e : a.entrySet()) {
            Set<Integer> other = b.get(e.getKey());
            if (other != null && !Collections.disjoint(e.getValue(), other)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isSubset(Map<String, Set<Integer>> a, Map<String, Set<Integer>> b) {
        if (a == null) {
            return false;
        }
        for (Map.Entry<String, Set<Integer>> e : a.entrySet()) {
            if (!e.getValue().isEmpty() && !b.getOrDefault(e.getKey(), Set.of()).containsAll(e.getValue())) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "ConsumerGroup[" + id + ", epoch " + groupEpoch + ", " + members.size() + " members]";
    }
}
