package io.shale.broker;

import io.shale.log.CommittedOffset;
import io.shale.log.ConsumerOffsets;
import io.shale.log.TopicPartition;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka's classic group membership protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) for one
 * node, with the committed offsets in a {@link ConsumerOffsets}. Membership lives in memory only:
 * after a broker restart every group is empty (its committed offsets are kept) and consumers
 * rejoin, as they do when their coordinator moves.
 *
 * <p>The states are Kafka's: Empty, PreparingRebalance (waiting up to the largest rebalance timeout
 * of the members for each to rejoin; a group that was empty also waits the initial rebalance
 * delay), CompletingRebalance (joined, waiting for the leader's assignments), Stable. A timer thread
 * expires members whose session timeout passed without a heartbeat and ends rebalances whose
 * deadline passed. One lock guards all groups: group operations are rare next to produce and fetch.
 */
final class GroupCoordinator implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GroupCoordinator.class);

    /** Kafka's {@code offset.metadata.max.bytes}. */
    static final int MAX_METADATA_CHARS = 4096;
    static final String CONSUMER_PROTOCOL_TYPE = "consumer";

    enum State {
        EMPTY("Empty"), PREPARING_REBALANCE("PreparingRebalance"), COMPLETING_REBALANCE("CompletingRebalance"),
        STABLE("Stable"), DEAD("Dead");

        final String kafkaName;

        State(String kafkaName) {
            this.kafkaName = kafkaName;
        }
    }

    /** A member's answer to a join: an error, or the generation it joined. */
    record JoinResult(Errors error, String memberId, int generation, String protocolType, String protocolName,
            String leader, List<MemberView> members) {
        static JoinResult error(Errors e, String memberId) {
            return new JoinResult(e, memberId, -1, null, null, "", List.of());
        }
    }

    record SyncResult(Errors error, String protocolType, String protocolName, byte[] assignment) {
        static SyncResult error(Errors e) {
            return new SyncResult(e, null, null, new byte[0]);
        }
    }

    /** A member as Join (leader), DescribeGroups show it. */
    record MemberView(String memberId, String groupInstanceId, String clientId, String clientHost, byte[] metadata,
            byte[] assignment) {}

    /**
     * A group as ListGroups and DescribeGroups show it; {@code type} is "classic" or "consumer",
     * {@code stateName} Kafka's name of its state (for a consumer group {@code state} is only EMPTY or STABLE).
     */
    record GroupView(String groupId, State state, String protocolType, String protocolName, List<MemberView> members,
            String type, String stateName) {
        GroupView(String groupId, State state, String protocolType, String protocolName, List<MemberView> members) {
            this(groupId, state, protocolType, protocolName, members, "classic", state.kafkaName);
        }
    }

    record Protocol(String name, byte[] metadata) {}

    private static final class Member {
        final String id;
        String instanceId;
        String clientId;
        String clientHost;
        int sessionTimeoutMs;
        int rebalanceTimeoutMs;
        String protocolType;
        List<Protocol> protocols;
        byte[] assignment = new byte[0];
        CompletableFuture<JoinResult> join;
        CompletableFuture<SyncResult> sync;
        long sessionDeadline;

        Member(String id) {
            this.id = id;
        }

        byte[] metadata(String protocol) {
            for (Protocol p : protocols) {
                if (p.name.equals(protocol)) {
                    return p.metadata;
                }
            }
            return new byte[0];
        }
    }

    private static final class Group {
        final String id;
        State state = State.EMPTY;
        int generation;
        String protocolType;
        String protocolName;
        String leader;
        final Map<String, Member> members = new LinkedHashMap<>();
        /** Member ids handed out with MEMBER_ID_REQUIRED, until when they may join. */
        final Map<String, Long> pendingIds = new HashMap<>();
        long rebalanceDeadline;
        long initialDelayUntil;
        /** The protocol type of the last generation with members (kept while the group is empty). */
        String protocolTypeSeen;

        Group(String id) {
            this.id = id;
        }

        String protocolTypeOfMembers() {
            return members.isEmpty() ? null : members.values().iterator().next().protocolType;
        }
    }

    private final ConsumerOffsets offsets;
    private final long initialRebalanceDelayMs;
    private final int minSessionTimeoutMs;
    private final int maxSessionTimeoutMs;
    private final Map<String, Group> groups = new HashMap<>(); // guarded by this
    /** Groups of the KIP-848 consumer protocol; a group id is in at most one of the two maps. */
    private final Map<String, ConsumerGroup> consumerGroups = new HashMap<>(); // guarded by this
    private final ConsumerGroup.Topics topics;
    private final int consumerSessionTimeoutMs;
    private final int consumerHeartbeatIntervalMs;
    private final ScheduledExecutorService timer;
    private boolean closed; // guarded by this

    GroupCoordinator(ConsumerOffsets offsets, long initialRebalanceDelayMs, int minSessionTimeoutMs,
            int maxSessionTimeoutMs, long tickMs) {
        this(offsets, initialRebalanceDelayMs, minSessionTimeoutMs, maxSessionTimeoutMs, tickMs, NO_TOPICS, 45_000, 5_000);
    }

    private static final ConsumerGroup.Topics NO_TOPICS = new ConsumerGroup.Topics() {
        @Override
        public Collection<String> names() {
            return List.of();
        }

        @Override
        public int partitionCount(String topic) {
            return -1;
        }
    };

    /**
     * @param topics the store's topics, for the target assignments of consumer-protocol groups
     * @param consumerSessionTimeoutMs Kafka's {@code group.consumer.session.timeout.ms}
     * @param consumerHeartbeatIntervalMs Kafka's {@code group.consumer.heartbeat.interval.ms}
     */
    GroupCoordinator(ConsumerOffsets offsets, long initialRebalanceDelayMs, int minSessionTimeoutMs,
            int maxSessionTimeoutMs, long tickMs, ConsumerGroup.Topics topics, int consumerSessionTimeoutMs,
            int consumerHeartbeatIntervalMs) {
        this.offsets = offsets;
        this.topics = topics;
        this.consumerSessionTimeoutMs = consumerSessionTimeoutMs;
        this.consumerHeartbeatIntervalMs = consumerHeartbeatIntervalMs;
        this.initialRebalanceDelayMs = initialRebalanceDelayMs;
        this.minSessionTimeoutMs = minSessionTimeoutMs;
        this.maxSessionTimeoutMs = maxSessionTimeoutMs;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "shale-broker-groups");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::tick, tickMs, tickMs, TimeUnit.MILLISECONDS);
    }

    ConsumerOffsets offsets() {
        return offsets;
    }

    private static long now() {
        return System.nanoTime() / 1_000_000L;
    }

    // ---------------------------------------------------------------- JoinGroup

    synchronized CompletableFuture<JoinResult> join(String groupId, String memberId, String instanceId,
            String clientId, String clientHost, int sessionTimeoutMs, int rebalanceTimeoutMs, String protocolType,
            List<Protocol> protocols, boolean requireKnownMemberId) {
        if (closed) {
            return done(JoinResult.error(Errors.COORDINATOR_NOT_AVAILABLE, memberId));
        }
        if (groupId == null || groupId.isEmpty()) {
            return done(JoinResult.error(Errors.INVALID_GROUP_ID, memberId));
        }
        if (sessionTimeoutMs < minSessionTimeoutMs || sessionTimeoutMs > maxSessionTimeoutMs) {
            return done(JoinResult.error(Errors.INVALID_SESSION_TIMEOUT, memberId));
        }
        if (protocolType == null || protocolType.isEmpty() || protocols.isEmpty()) {
            return done(JoinResult.error(Errors.INCONSISTENT_GROUP_PROTOCOL, memberId));
        }
        ConsumerGroup cg = consumerGroups.get(groupId);
        if (cg != null) {
            if (!cg.isEmpty()) {
                // a consumer-protocol group refuses classic members (Kafka with group.consumer.migration.policy=disabled)
                return done(JoinResult.error(Errors.INCONSISTENT_GROUP_PROTOCOL, memberId));
            }
            consumerGroups.remove(groupId); // an empty consumer group becomes a classic one
        }
        Group g = groups.computeIfAbsent(groupId, Group::new);
        if (!g.members.isEmpty() && (!protocolType.equals(g.protocolTypeOfMembers())
                || commonProtocols(g, protocols).isEmpty())) {
            return done(JoinResult.error(Errors.INCONSISTENT_GROUP_PROTOCOL, memberId));
        }
        Member m;
        if (memberId == null || memberId.isEmpty()) {
            String newId = (clientId == null || clientId.isEmpty() ? "member" : clientId) + "-" + UUID.randomUUID();
            Member old = instanceId == null ? null : byInstance(g, instanceId);
            if (old != null) {
                // a static member restarted: it takes the old member's place
                removeMember(g, old, Errors.FENCED_INSTANCE_ID);
            } else if (requireKnownMemberId) {
                g.pendingIds.put(newId, now() + sessionTimeoutMs);
                return done(JoinResult.error(Errors.MEMBER_ID_REQUIRED, newId));
            }
            m = new Member(newId);
            g.members.put(newId, m);
        } else {
            m = g.members.get(memberId);
            if (m == null) {
                if (g.pendingIds.remove(memberId) == null) {
                    return done(JoinResult.error(Errors.UNKNOWN_MEMBER_ID, memberId));
                }
                m = new Member(memberId);
                g.members.put(memberId, m);
            }
        }
        m.instanceId = instanceId;
        m.clientId = clientId;
        m.clientHost = clientHost;
        m.sessionTimeoutMs = sessionTimeoutMs;
        m.rebalanceTimeoutMs = rebalanceTimeoutMs > 0 ? rebalanceTimeoutMs : sessionTimeoutMs;
        m.protocolType = protocolType;
        m.protocols = List.copyOf(protocols);
        if (m.join != null) {
            m.join.complete(JoinResult.error(Errors.REBALANCE_IN_PROGRESS, m.id));
        }
        m.join = new CompletableFuture<>();
        m.sessionDeadline = now() + m.sessionTimeoutMs;
        CompletableFuture<JoinResult> result = m.join;
        if (g.state != State.PREPARING_REBALANCE) {
            prepareRebalance(g, "member " + m.id + " joined");
        }
        maybeCompleteJoin(g);
        return result;
    }

    private static Member byInstance(Group g, String instanceId) {
        for (Member m : g.members.values()) {
            if (instanceId.equals(m.instanceId)) {
                return m;
            }
        }
        return null;
    }

    private static Set<String> commonProtocols(Group g, List<Protocol> extra) {
        Set<String> common = new HashSet<>();
        for (Protocol p : extra) {
            common.add(p.name);
        }
        for (Member m : g.members.values()) {
            Set<String> names = new HashSet<>();
            for (Protocol p : m.protocols) {
                names.add(p.name);
            }
            common.retainAll(names);
        }
        return common;
    }

    private void prepareRebalance(Group g, String why) {
        if (g.state == State.COMPLETING_REBALANCE) {
            for (Member m : g.members.values()) {
                if (m.sync != null) {
                    m.sync.complete(SyncResult.error(Errors.REBALANCE_IN_PROGRESS));
                    m.sync = null;
                }
            }
        }
        boolean wasEmpty = g.state == State.EMPTY;
        long now = now();
        int rebalanceTimeout = 0;
        for (Member m : g.members.values()) {
            rebalanceTimeout = Math.max(rebalanceTimeout, m.rebalanceTimeoutMs);
            m.assignment = new byte[0];
        }
        g.state = State.PREPARING_REBALANCE;
        g.rebalanceDeadline = now + rebalanceTimeout;
        g.initialDelayUntil = wasEmpty ? now + Math.min(initialRebalanceDelayMs, rebalanceTimeout) : 0;
        log.debug("group {} rebalancing (generation {}): {}", g.id, g.generation, why);
    }

    private void maybeCompleteJoin(Group g) {
        if (g.state != State.PREPARING_REBALANCE) {
            return;
        }
        long now = now();
        boolean allJoined = g.members.values().stream().allMatch(m -> m.join != null);
        if ((allJoined && now >= g.initialDelayUntil) || now >= g.rebalanceDeadline) {
            completeJoin(g);
        }
    }

    private void completeJoin(Group g) {
        for (Iterator<Member> it = g.members.values().iterator(); it.hasNext();) {
            Member m = it.next();
            if (m.join == null) { // did not rejoin within the rebalance timeout
                it.remove();
                log.debug("group {}: member {} left (did not rejoin in time)", g.id, m.id);
            }
        }
        g.generation++;
        if (g.members.isEmpty()) {
            g.state = State.EMPTY;
            g.protocolType = null;
            g.protocolName = null;
            g.leader = null;
            return;
        }
        Member first = g.members.values().iterator().next();
        g.protocolType = first.protocolType;
        g.protocolTypeSeen = first.protocolType;
        g.protocolName = selectProtocol(g);
        if (g.leader == null || !g.members.containsKey(g.leader)) {
            g.leader = first.id;
        }
        g.state = State.COMPLETING_REBALANCE;
        List<MemberView> all = new ArrayList<>();
        for (Member m : g.members.values()) {
            all.add(new MemberView(m.id, m.instanceId, m.clientId, m.clientHost, m.metadata(g.protocolName), null));
        }
        long now = now();
        for (Member m : g.members.values()) {
            CompletableFuture<JoinResult> f = m.join;
            m.join = null;
            m.sessionDeadline = now + m.sessionTimeoutMs;
            f.complete(new JoinResult(Errors.NONE, m.id, g.generation, g.protocolType, g.protocolName, g.leader,
                    m.id.equals(g.leader) ? all : List.of()));
        }
        log.debug("group {} generation {}: {} members, protocol {}, leader {}", g.id, g.generation,
                g.members.size(), g.protocolName, g.leader);
    }

    /** The protocol every member supports that most members prefer (Kafka's vote). */
    private static String selectProtocol(Group g) {
        Set<String> common = commonProtocols(g, g.members.values().iterator().next().protocols);
        Map<String, Integer> votes = new LinkedHashMap<>();
        for (Member m : g.members.values()) {
            for (Protocol p : m.protocols) {
                if (common.contains(p.name)) {
                    votes.merge(p.name, 1, Integer::sum);
                    break;
                }
            }
        }
        String best = null;
        for (Map.Entry<String, Integer> e : votes.entrySet()) {
            if (best == null || e.getValue() > votes.get(best)) {
                best = e.getKey();
            }
        }
        return best;
    }

    // ---------------------------------------------------------------- SyncGroup, Heartbeat, LeaveGroup

    synchronized CompletableFuture<SyncResult> sync(String groupId, String memberId, int generation,
            String protocolType, String protocolName, Map<String, byte[]> assignments) {
        if (closed) {
            return done(SyncResult.error(Errors.COORDINATOR_NOT_AVAILABLE));
        }
        Group g = groups.get(groupId);
        Member m = g == null ? null : g.members.get(memberId);
        if (m == null) {
            return done(SyncResult.error(Errors.UNKNOWN_MEMBER_ID));
        }
        if (generation != g.generation) {
            return done(SyncResult.error(Errors.ILLEGAL_GENERATION));
        }
        if ((protocolType != null && !protocolType.equals(g.protocolType))
                || (protocolName != null && !protocolName.equals(g.protocolName))) {
            return done(SyncResult.error(Errors.INCONSISTENT_GROUP_PROTOCOL));
        }
        m.sessionDeadline = now() + m.sessionTimeoutMs;
        switch (g.state) {
            case PREPARING_REBALANCE:
                return done(SyncResult.error(Errors.REBALANCE_IN_PROGRESS));
            case STABLE:
                return done(new SyncResult(Errors.NONE, g.protocolType, g.protocolName, m.assignment));
            case COMPLETING_REBALANCE:
                if (m.sync != null) {
                    m.sync.complete(SyncResult.error(Errors.REBALANCE_IN_PROGRESS));
                }
                m.sync = new CompletableFuture<>();
                CompletableFuture<SyncResult> result = m.sync;
                if (memberId.equals(g.leader)) {
                    for (Member x : g.members.values()) {
                        byte[] a = assignments.get(x.id);
                        x.assignment = a == null ? new byte[0] : a;
                    }
                    g.state = State.STABLE;
                    for (Member x : g.members.values()) {
                        if (x.sync != null) {
                            x.sync.complete(new SyncResult(Errors.NONE, g.protocolType, g.protocolName, x.assignment));
                            x.sync = null;
                        }
                    }
                }
                return result;
            default:
                return done(SyncResult.error(Errors.UNKNOWN_MEMBER_ID));
        }
    }

    synchronized Errors heartbeat(String groupId, String memberId, int generation) {
        Group g = groups.get(groupId);
        Member m = g == null ? null : g.members.get(memberId);
        if (m == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        if (generation != g.generation) {
            return Errors.ILLEGAL_GENERATION;
        }
        m.sessionDeadline = now() + m.sessionTimeoutMs;
        return g.state == State.PREPARING_REBALANCE ? Errors.REBALANCE_IN_PROGRESS : Errors.NONE;
    }

    /** Removes a member (by id, or by instance id when the id is empty); the error for it. */
    synchronized Errors leave(String groupId, String memberId, String instanceId) {
        Group g = groups.get(groupId);
        if (g == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        Member m = memberId != null && !memberId.isEmpty() ? g.members.get(memberId)
                : instanceId != null ? byInstance(g, instanceId) : null;
        if (m == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        if (instanceId != null && m.instanceId != null && !instanceId.equals(m.instanceId)) {
            return Errors.FENCED_INSTANCE_ID;
        }
        removeMember(g, m, Errors.UNKNOWN_MEMBER_ID);
        memberGone(g, "member " + m.id + " left");
        return Errors.NONE;
    }

    private static void removeMember(Group g, Member m, Errors why) {
        g.members.remove(m.id);
        if (m.join != null) {
            m.join.complete(JoinResult.error(why, m.id));
        }
        if (m.sync != null) {
            m.sync.complete(SyncResult.error(why));
        }
    }

    private void memberGone(Group g, String why) {
        if (g.state == State.STABLE || g.state == State.COMPLETING_REBALANCE) {
            prepareRebalance(g, why);
        }
        maybeCompleteJoin(g);
    }

    /** Expires members whose session passed and ends rebalances whose deadline passed. */
    private void tick() {
        try {
            synchronized (this) {
                long now = now();
                for (Group g : new ArrayList<>(groups.values())) {
                    g.pendingIds.values().removeIf(deadline -> now > deadline);
                    List<Member> expired = new ArrayList<>();
                    for (Member m : g.members.values()) {
                        if (m.join == null && now > m.sessionDeadline) {
                            expired.add(m);
                        }
                    }
                    for (Member m : expired) {
                        log.info("group {}: member {} expired (no heartbeat for {} ms)", g.id, m.id, m.sessionTimeoutMs);
                        removeMember(g, m, Errors.UNKNOWN_MEMBER_ID);
                    }
                    if (!expired.isEmpty()) {
                        memberGone(g, expired.size() + " member(s) expired");
                    } else {
                        maybeCompleteJoin(g);
                    }
                    if (g.state == State.EMPTY && g.members.isEmpty() && g.pendingIds.isEmpty()
                            && offsets.fetch(g.id).isEmpty()) {
                        groups.remove(g.id); // its offsets (if any) still list it as Empty
                    }
                }
                for (ConsumerGroup cg : new ArrayList<>(consumerGroups.values())) {
                    for (String gone : cg.expire(now, topics)) {
                        log.info("group {}: member {} fenced (session or rebalance timeout passed)", cg.id, gone);
                    }
                    if (cg.isEmpty() && offsets.fetch(cg.id).isEmpty()) {
                        consumerGroups.remove(cg.id);
                    }
                }
            }
        } catch (RuntimeException e) {
            log.warn("group timer failed", e);
        }
    }

    // ---------------------------------------------------------------- consumer protocol (KIP-848)

    int consumerHeartbeatIntervalMs() {
        return consumerHeartbeatIntervalMs;
    }

    /** A ConsumerGroupHeartbeat: joins, heartbeats or leaves a consumer-protocol group. */
    synchronized ConsumerGroup.Result consumerHeartbeat(String groupId, ConsumerGroup.Heartbeat hb) {
        if (closed) {
            return ConsumerGroup.Result.error(Errors.COORDINATOR_NOT_AVAILABLE, null);
        }
        if (groupId == null || groupId.isEmpty()) {
            return ConsumerGroup.Result.error(Errors.INVALID_REQUEST, "GroupId can't be empty.");
        }
        Group classic = groups.get(groupId);
        if (classic != null && !classic.members.isEmpty()) {
            // a classic group refuses consumer-protocol members (Kafka with group.consumer.migration.policy=disabled)
            return ConsumerGroup.Result.error(Errors.GROUP_ID_NOT_FOUND, "Group " + groupId + " is not a consumer group.");
        }
        ConsumerGroup cg = consumerGroups.get(groupId);
        if (cg == null) {
            if (hb.memberEpoch() != 0) {
                return ConsumerGroup.Result.error(Errors.UNKNOWN_MEMBER_ID,
                        "member " + hb.memberId() + " is not in group " + groupId);
            }
            groups.remove(groupId); // an empty classic group becomes a consumer group
            cg = new ConsumerGroup(groupId, consumerSessionTimeoutMs);
            consumerGroups.put(groupId, cg);
        }
        ConsumerGroup.Result r = cg.heartbeat(hb, topics, now());
        if (hb.memberEpoch() < 0 || r.error() != Errors.NONE) {
            log.debug("group {}: heartbeat of member {} at epoch {}: {} {}", groupId, hb.memberId(), hb.memberEpoch(),
                    r.error(), r.message() == null ? "" : r.message());
        }
        return r;
    }

    /** Runs {@code f} on the consumer-protocol group under the coordinator's lock; null if there is none. */
    synchronized <T> T withConsumerGroup(String groupId, java.util.function.Function<ConsumerGroup, T> f) {
        ConsumerGroup cg = consumerGroups.get(groupId);
        return cg == null ? null : f.apply(cg);
    }

    /** OffsetFetch v9+: the member id and epoch, when given, must be those of a consumer group member. */
    synchronized Errors checkFetch(String groupId, String memberId, int memberEpoch) {
        ConsumerGroup cg = consumerGroups.get(groupId);
        if (cg == null || (memberId == null && memberEpoch < 0)) {
            return Errors.NONE;
        }
        return cg.validateMemberEpoch(memberId, memberEpoch);
    }

    // ---------------------------------------------------------------- offsets

    /**
     * Checks that a commit may proceed: a member of the current generation (not while the group
     * waits for assignments), or a commit without member for a group with no members.
     */
    synchronized Errors checkCommit(String groupId, String memberId, int generation, String instanceId) {
        if (groupId == null || groupId.isEmpty()) {
            return Errors.INVALID_GROUP_ID;
        }
        ConsumerGroup cg = consumerGroups.get(groupId);
        if (cg != null) {
            // Kafka's check for consumer groups: a commit with a negative epoch (admin, manual assignment) only
            // while the group has no members, else one at the member's epoch
            if (generation < 0 && cg.isEmpty()) {
                return Errors.NONE;
            }
            return cg.validateMemberEpoch(memberId, generation);
        }
        Group g = groups.get(groupId);
        if (generation < 0 && (memberId == null || memberId.isEmpty())) {
            return g == null || g.members.isEmpty() ? Errors.NONE : Errors.UNKNOWN_MEMBER_ID;
        }
        Member m = g == null ? null : g.members.get(memberId);
        if (m == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        if (instanceId != null && m.instanceId != null && !instanceId.equals(m.instanceId)) {
            return Errors.FENCED_INSTANCE_ID;
        }
        if (generation != g.generation) {
            return Errors.ILLEGAL_GENERATION;
        }
        if (g.state == State.COMPLETING_REBALANCE) {
            return Errors.REBALANCE_IN_PROGRESS;
        }
        m.sessionDeadline = now() + m.sessionTimeoutMs;
        return Errors.NONE;
    }

    CompletableFuture<Void> commit(String groupId, Map<TopicPartition, CommittedOffset> toCommit) {
        return offsets.commit(groupId, toCommit);
    }

    /** The answer to {@link #checkAndCommit}: the check's error, and the write (done at once if none). */
    record CommitResult(Errors error, CompletableFuture<Void> written) {}

    private record PendingCommit(Map<TopicPartition, CommittedOffset> offsets, CompletableFuture<Void> written) {}

    /**
     * Per group, the offset commits that passed {@link #checkCommit} and are not yet handed to the store, in the
     * order they passed it; the head is being handed over by the thread draining the queue (a queue exists only
     * while one drains it). Guarded by {@code this}.
     */
    private final Map<String, ArrayDeque<PendingCommit>> pendingCommits = new HashMap<>();

    /**
     * {@link #checkCommit} and the write of {@code toCommit} as one step per group: writes reach the store in the
     * order their checks passed, so a member fenced after its check passed cannot have its offsets land after
     * those of a member checked later (the later log record wins). The store's append (which may block on
     * back-pressure) is not made under the coordinator's lock: the thread whose commit found the group's queue
     * empty hands over the queued commits one after another.
     */
    CommitResult checkAndCommit(String groupId, String memberId, int generation, String instanceId,
            Map<TopicPartition, CommittedOffset> toCommit) {
        CompletableFuture<Void> written = new CompletableFuture<>();
        synchronized (this) {
            Errors e = checkCommit(groupId, memberId, generation, instanceId);
            if (e != Errors.NONE || toCommit.isEmpty()) {
                return new CommitResult(e, CompletableFuture.completedFuture(null));
            }
            ArrayDeque<PendingCommit> q = pendingCommits.computeIfAbsent(groupId, k -> new ArrayDeque<>());
            q.add(new PendingCommit(toCommit, written));
            if (q.size() > 1) {
                return new CommitResult(Errors.NONE, written); // the thread draining the queue writes it
            }
        }
        drainCommits(groupId);
        return new CommitResult(Errors.NONE, written);
    }

    private void drainCommits(String groupId) {
        while (true) {
            PendingCommit next;
            synchronized (this) {
                next = pendingCommits.get(groupId).peek();
            }
            CompletableFuture<Void> w;
            try {
                w = offsets.commit(groupId, next.offsets());
            } catch (RuntimeException | Error ex) { // else the group's later commits would wait forever
                w = CompletableFuture.failedFuture(ex);
            }
            w.whenComplete((x, err) -> {
                if (err != null) {
                    next.written().completeExceptionally(err);
                } else {
                    next.written().complete(null);
                }
            });
            synchronized (this) {
                ArrayDeque<PendingCommit> q = pendingCommits.get(groupId);
                q.poll();
                if (q.isEmpty()) {
                    pendingCommits.remove(groupId);
                    return;
                }
            }
        }
    }

    Map<TopicPartition, CommittedOffset> fetch(String groupId) {
        return offsets.fetch(groupId);
    }

    // ---------------------------------------------------------------- admin

    /** Every group with members or committed offsets. */
    synchronized List<GroupView> list() {
        Map<String, GroupView> out = new TreeMap<>();
        for (String id : offsets.groups()) {
            out.put(id, new GroupView(id, State.EMPTY, "", null, List.of()));
        }
        for (Group g : groups.values()) {
            if (!g.members.isEmpty()) {
                out.put(g.id, view(g));
            } else if (out.containsKey(g.id) && g.protocolTypeSeen != null) {
                out.put(g.id, new GroupView(g.id, State.EMPTY, g.protocolTypeSeen, null, List.of()));
            }
        }
        for (ConsumerGroup cg : consumerGroups.values()) {
            if (!cg.isEmpty() || out.containsKey(cg.id)) {
                out.put(cg.id, new GroupView(cg.id, cg.isEmpty() ? State.EMPTY : State.STABLE, CONSUMER_PROTOCOL_TYPE,
                        null, List.of(), "consumer", cg.stateName()));
            }
        }
        return new ArrayList<>(out.values());
    }

    /** The group, or null if it has neither members nor offsets. */
    synchronized GroupView describe(String groupId) {
        if (consumerGroups.containsKey(groupId)) {
            return null; // Kafka: not a classic group
        }
        Group g = groups.get(groupId);
        if (g != null && !g.members.isEmpty()) {
            return view(g);
        }
        if (!offsets.fetch(groupId).isEmpty()) {
            return new GroupView(groupId, State.EMPTY, g != null && g.protocolTypeSeen != null ? g.protocolTypeSeen : "",
                    null, List.of());
        }
        return null;
    }

    private static GroupView view(Group g) {
        List<MemberView> members = new ArrayList<>();
        boolean stable = g.state == State.STABLE;
        for (Member m : g.members.values()) {
            members.add(new MemberView(m.id, m.instanceId, m.clientId, m.clientHost,
                    stable ? m.metadata(g.protocolName) : new byte[0], stable ? m.assignment : new byte[0]));
        }
        String type = g.protocolType != null ? g.protocolType : g.protocolTypeOfMembers();
        return new GroupView(g.id, g.state, type == null ? "" : type,
                g.state == State.STABLE || g.state == State.COMPLETING_REBALANCE ? g.protocolName : null, members);
    }

    /** Deletes an empty group's offsets: NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND or the store's error. */
    CompletableFuture<Errors> deleteGroup(String groupId) {
        synchronized (this) {
            Group g = groups.get(groupId);
            ConsumerGroup cg = consumerGroups.get(groupId);
            if ((g != null && !g.members.isEmpty()) || (cg != null && !cg.isEmpty())) {
                return done(Errors.NON_EMPTY_GROUP);
            }
            if (g == null && cg == null && offsets.fetch(groupId).isEmpty()) {
                return done(Errors.GROUP_ID_NOT_FOUND);
            }
            groups.remove(groupId);
            consumerGroups.remove(groupId);
        }
        return offsets.deleteGroup(groupId).handle((v, e) -> e == null ? Errors.NONE : KafkaErrors.of(e));
    }

    /** The topics the members of a consumer group subscribe to (empty if it has none or is not a consumer group). */
    synchronized Set<String> subscribedTopics(String groupId) {
        ConsumerGroup cg = consumerGroups.get(groupId);
        if (cg != null) {
            return cg.subscribedTopicNames();
        }
        Set<String> topics = new HashSet<>();
        Group g = groups.get(groupId);
        if (g == null || !CONSUMER_PROTOCOL_TYPE.equals(g.protocolTypeOfMembers())) {
            return topics;
        }
        for (Member m : g.members.values()) {
            for (Protocol p : m.protocols) {
                try {
                    topics.addAll(ConsumerProtocol.deserializeSubscription(ByteBuffer.wrap(p.metadata)).topics());
                } catch (RuntimeException e) {
                    log.debug("group {}: member {} has an unreadable subscription", groupId, m.id, e);
                }
            }
        }
        return topics;
    }

    /** Whether the group is known (members or offsets). */
    synchronized boolean exists(String groupId) {
        Group g = groups.get(groupId);
        ConsumerGroup cg = consumerGroups.get(groupId);
        return (g != null && !g.members.isEmpty()) || (cg != null && !cg.isEmpty()) || !offsets.fetch(groupId).isEmpty();
    }

    CompletableFuture<Void> deleteOffsets(String groupId, Collection<TopicPartition> partitions) {
        return offsets.delete(groupId, partitions);
    }

    private static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }

    /** Stops the timer and answers every waiting join and sync with COORDINATOR_NOT_AVAILABLE. */
    @Override
    public void close() {
        timer.shutdownNow();
        synchronized (this) {
            closed = true;
            for (Group g : groups.values()) {
                for (Member m : g.members.values()) {
                    if (m.join != null) {
                        m.join.complete(JoinResult.error(Errors.COORDINATOR_NOT_AVAILABLE, m.id));
                    }
                    if (m.sync != null) {
                        m.sync.complete(SyncResult.error(Errors.COORDINATOR_NOT_AVAILABLE));
                    }
                }
            }
            groups.clear();
            consumerGroups.clear();
        }
    }
}
