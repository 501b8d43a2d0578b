package io.shale.broker;

import io.shale.broker.GroupCoordinator.GroupView;
import io.shale.broker.GroupCoordinator.MemberView;
import io.shale.broker.GroupCoordinator.Protocol;
import io.shale.log.CommittedOffset;
import io.shale.log.LogStore;
import io.shale.log.TopicDescription;
import io.shale.log.TopicPartition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.message.ConsumerGroupDescribeRequestData;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.ConsumerGroupDescribeRequest;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatRequest;
import org.apache.kafka.common.requests.DeleteGroupsRequest;
import org.apache.kafka.common.requests.DescribeGroupsRequest;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.HeartbeatRequest;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.LeaveGroupRequest;
import org.apache.kafka.common.requests.ListGroupsRequest;
import org.apache.kafka.common.requests.OffsetCommitRequest;
import org.apache.kafka.common.requests.OffsetDeleteRequest;
import org.apache.kafka.common.requests.OffsetFetchRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.SyncGroupRequest;

/**
 * The consumer group APIs as Kafka messages, on a {@link GroupCoordinator}: the classic protocol and
 * the KIP-848 consumer protocol (ConsumerGroupHeartbeat, ConsumerGroupDescribe; topics by id on the
 * wire, by name in the coordinator).
 */
final class GroupApis {
    private final LogStore store;
    private final GroupCoordinator groups;
    private final int nodeId;
    private final String host;
    private final int port;

    /** Whether an open transaction holds an offset of the group for the partition (KIP-447's requireStable). */
    private final java.util.function.BiPredicate<String, TopicPartition> pendingTxnOffset;

    GroupApis(LogStore store, GroupCoordinator groups, int nodeId, String host, int port,
            java.util.function.BiPredicate<String, TopicPartition> pendingTxnOffset) {
        this.pendingTxnOffset = pendingTxnOffset;
        this.store = store;
        this.groups = groups;
        this.nodeId = nodeId;
        this.host = host;
        this.port = port;
    }

    /** Handles a group API request, or returns null if {@code header} is not one. */
    CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, String clientHost) {
        short v = header.apiVersion();
        switch (header.apiKey()) {
            case FIND_COORDINATOR:
                return done(findCoordinator(((FindCoordinatorRequest) request).data(), v));
            case JOIN_GROUP:
                return joinGroup(((JoinGroupRequest) request).data(), v, header.clientId(), clientHost);
            case SYNC_GROUP:
                return syncGroup(((SyncGroupRequest) request).data(), v);
            case HEARTBEAT: {
                HeartbeatRequestData d = ((HeartbeatRequest) request).data();
                return done(new HeartbeatResponseData().setErrorCode(
                        groups.heartbeat(d.groupId(), d.memberId(), d.generationId()).code()));
            }
            case LEAVE_GROUP:
                return done(leaveGroup(((LeaveGroupRequest) request).data(), v));
            case OFFSET_COMMIT:
                return offsetCommit(((OffsetCommitRequest) request).data());
            case OFFSET_FETCH:
                return done(offsetFetch(((OffsetFetchRequest) request).data(), v));
            case LIST_GROUPS:
                return done(listGroups(((ListGroupsRequest) request).data(), v));
            case DESCRIBE_GROUPS:
                return done(describeGroups(((DescribeGroupsRequest) request).data(), v));
            case DELETE_GROUPS:
                return deleteGroups(((DeleteGroupsRequest) request).data());
            case OFFSET_DELETE:
                return offsetDelete(((OffsetDeleteRequest) request).data());
            case CONSUMER_GROUP_HEARTBEAT:
                return done(consumerGroupHeartbeat(((ConsumerGroupHeartbeatRequest) request).data(), header.clientId(),
                        clientHost));
            case CONSUMER_GROUP_DESCRIBE:
                return done(consumerGroupDescribe(((ConsumerGroupDescribeRequest) request).data()));
            default:
                return null;
        }
    }

    private static CompletableFuture<ApiMessage> done(ApiMessage m) {
        return CompletableFuture.completedFuture(m);
    }

    // ---------------------------------------------------------------- FindCoordinator

    private FindCoordinatorResponseData findCoordinator(FindCoordinatorRequestData req, short v) {
        FindCoordinatorResponseData resp = new FindCoordinatorResponseData();
        if (v < 4) {
            Errors e = coordinatorError(req.keyType(), req.key());
            return resp.setErrorCode(e.code()).setNodeId(e == Errors.NONE ? nodeId : -1)
                    .setHost(e == Errors.NONE ? host : "").setPort(e == Errors.NONE ? port : -1)
                    .setErrorMessage(e == Errors.NONE ? null : e.message());
        }
        for (String key : req.coordinatorKeys()) {
            Errors e = coordinatorError(req.keyType(), key);
            resp.coordinators().add(new FindCoordinatorResponseData.Coordinator().setKey(key).setErrorCode(e.code())
                    .setNodeId(e == Errors.NONE ? nodeId : -1).setHost(e == Errors.NONE ? host : "")
                    .setPort(e == Errors.NONE ? port : -1).setErrorMessage(e == Errors.NONE ? null : e.message()));
        }
        return resp;
    }

    private static Errors coordinatorError(byte keyType, String key) {
        if (keyType != 0 && keyType != 1) {
            // 0: group, 1: transaction (both coordinated by this node); share coordinators are not served
            return Errors.INVALID_REQUEST;
        }
        return key == null || key.isEmpty() ? Errors.INVALID_REQUEST : Errors.NONE;
    }

    // ---------------------------------------------------------------- JoinGroup, SyncGroup, LeaveGroup

    private CompletableFuture<ApiMessage> joinGroup(JoinGroupRequestData req, short v, String clientId, String clientHost) {
        List<Protocol> protocols = new ArrayList<>();
        for (JoinGroupRequestData.JoinGroupRequestProtocol p : req.protocols()) {
            protocols.add(new Protocol(p.name(), p.metadata()));
        }
        int rebalanceTimeout = v >= 1 ? req.rebalanceTimeoutMs() : req.sessionTimeoutMs();
        return groups.join(req.groupId(), req.memberId(), req.groupInstanceId(), clientId, clientHost,
                req.sessionTimeoutMs(), rebalanceTimeout, req.protocolType(), protocols, v >= 4).thenApply(r -> {
                    JoinGroupResponseData resp = new JoinGroupResponseData().setErrorCode(r.error().code())
                            .setGenerationId(r.generation()).setMemberId(r.memberId() == null ? "" : r.memberId())
                            .setLeader(r.leader() == null ? "" : r.leader());
                    if (v >= 7) {
                        resp.setProtocolType(r.protocolType()).setProtocolName(r.protocolName());
                    } else {
                        resp.setProtocolName(r.protocolName() == null ? "" : r.protocolName());
                    }
                    for (MemberView m : r.members()) {
                        resp.members().add(new JoinGroupResponseData.JoinGroupResponseMember().setMemberId(m.memberId())
                                .setGroupInstanceId(m.groupInstanceId()).setMetadata(m.metadata()));
                    }
                    return resp;
                });
    }

    private CompletableFuture<ApiMessage> syncGroup(SyncGroupRequestData req, short v) {
        Map<String, byte[]> assignments = new HashMap<>();
        for (SyncGroupRequestData.SyncGroupRequestAssignment a : req.assignments()) {
            assignments.put(a.memberId(), a.assignment());
        }
        return groups.sync(req.groupId(), req.memberId(), req.generationId(), v >= 5 ? req.protocolType() : null,
                v >= 5 ? req.protocolName() : null, assignments).thenApply(r -> {
                    SyncGroupResponseData resp = new SyncGroupResponseData().setErrorCode(r.error().code())
                            .setAssignment(r.assignment());
                    if (v >= 5) {
                        resp.setProtocolType(r.protocolType()).setProtocolName(r.protocolName());
                    }
                    return resp;
                });
    }

    private LeaveGroupResponseData leaveGroup(LeaveGroupRequestData req, short v) {
        LeaveGroupResponseData resp = new LeaveGroupResponseData();
        if (v < 3) {
            return resp.setErrorCode(groups.leave(req.groupId(), req.memberId(), null).code());
        }
        for (LeaveGroupRequestData.MemberIdentity m : req.members()) {
            Errors e = groups.leave(req.groupId(), m.memberId(), m.groupInstanceId());
            resp.members().add(new LeaveGroupResponseData.MemberResponse().setMemberId(m.memberId())
                    .setGroupInstanceId(m.groupInstanceId()).setErrorCode(e.code()));
        }
        return resp;
    }

    // ---------------------------------------------------------------- OffsetCommit, OffsetFetch, OffsetDelete

    private Optional<TopicDescription> topic(String name) {
        return name != null && Topic.isValid(name) ? store.describeTopic(name) : Optional.empty();
    }

    private CompletableFuture<ApiMessage> offsetCommit(OffsetCommitRequestData req) {
        OffsetCommitResponseData resp = new OffsetCommitResponseData();
        // the group's check and the write are one step (GroupCoordinator.checkAndCommit); a group error, once
        // known, replaces every partition's own
        Map<TopicPartition, CommittedOffset> toCommit = new LinkedHashMap<>();
        List<OffsetCommitResponseData.OffsetCommitResponsePartition> pending = new ArrayList<>();
        List<OffsetCommitResponseData.OffsetCommitResponsePartition> all = new ArrayList<>();
        for (OffsetCommitRequestData.OffsetCommitRequestTopic t : req.topics()) {
            OffsetCommitResponseData.OffsetCommitResponseTopic tr =
                    new OffsetCommitResponseData.OffsetCommitResponseTopic().setName(t.name());
            resp.topics().add(tr);
            Optional<TopicDescription> d = topic(t.name());
            for (OffsetCommitRequestData.OffsetCommitRequestPartition p : t.partitions()) {
                OffsetCommitResponseData.OffsetCommitResponsePartition pr =
                        new OffsetCommitResponseData.OffsetCommitResponsePartition().setPartitionIndex(p.partitionIndex());
                tr.partitions().add(pr);
                all.add(pr);
                Errors e = Errors.NONE;
                if (d.isEmpty() || p.partitionIndex() < 0 || p.partitionIndex() >= d.get().partitionCount()) {
                    e = Errors.UNKNOWN_TOPIC_OR_PARTITION;
                } else if (p.committedMetadata() != null && p.committedMetadata().length() > GroupCoordinator.MAX_METADATA_CHARS) {
                    e = Errors.OFFSET_METADATA_TOO_LARGE;
                } else if (p.committedOffset() < 0) {
                    e = Errors.INVALID_REQUEST;
                }
                pr.setErrorCode(e.code());
                if (e == Errors.NONE) {
                    toCommit.put(TopicPartition.of(t.name(), p.partitionIndex()), CommittedOffset.of(
                            p.committedOffset(), p.committedMetadata(), p.committedLeaderEpoch()));
                    pending.add(pr);
                }
            }
        }
        GroupCoordinator.CommitResult checked = groups.checkAndCommit(req.groupId(), req.memberId(),
                req.generationIdOrMemberEpoch(), req.groupInstanceId(), toCommit);
        if (checked.error() != Errors.NONE) {
            for (OffsetCommitResponseData.OffsetCommitResponsePartition pr : all) {
                pr.setErrorCode(checked.error().code());
            }
            return done(resp);
        }
        return checked.written().handle((x, err) -> {
            if (err != null) {
                short code = KafkaErrors.of(err).code();
                for (OffsetCommitResponseData.OffsetCommitResponsePartition pr : pending) {
                    pr.setErrorCode(code);
                }
            }
            return resp;
        });
    }

    private OffsetFetchResponseData offsetFetch(OffsetFetchRequestData req, short v) {
        OffsetFetchResponseData resp = new OffsetFetchResponseData();
        if (v < 8) {
            Map<String, List<Integer>> wanted = null;
            if (req.topics() != null) {
                wanted = new LinkedHashMap<>();
                for (OffsetFetchRequestData.OffsetFetchRequestTopic t : req.topics()) {
                    wanted.put(t.name(), t.partitionIndexes());
                }
            }
            if (req.groupId() == null || req.groupId().isEmpty()) {
                return resp.setErrorCode(Errors.INVALID_GROUP_ID.code());
            }
            Map<TopicPartition, CommittedOffset> found = groups.fetch(req.groupId());
            boolean stable = v >= 7 && req.requireStable();
            for (Map.Entry<String, Map<Integer, CommittedOffset>> t : select(found, wanted).entrySet()) {
                OffsetFetchResponseData.OffsetFetchResponseTopic tr =
                        new OffsetFetchResponseData.OffsetFetchResponseTopic().setName(t.getKey());
                resp.topics().add(tr);
                t.getValue().forEach((p, co) -> {
                    OffsetFetchResponseData.OffsetFetchResponsePartition pr =
                            new OffsetFetchResponseData.OffsetFetchResponsePartition().setPartitionIndex(p)
                                    .setCommittedOffset(co == null ? -1 : co.offset())
                                    .setMetadata(co == null ? "" : co.metadata());
                    if (stable && unstable(req.groupId(), t.getKey(), p)) {
                        pr.setErrorCode(Errors.UNSTABLE_OFFSET_COMMIT.code()).setCommittedOffset(-1);
                    }
                    if (v >= 5) {
                        pr.setCommittedLeaderEpoch(co == null ? -1 : co.leaderEpoch().orElse(-1));
                    }
                    tr.partitions().add(pr);
                });
            }
            return resp;
        }
        for (OffsetFetchRequestData.OffsetFetchRequestGroup g : req.groups()) {
            OffsetFetchResponseData.OffsetFetchResponseGroup gr =
                    new OffsetFetchResponseData.OffsetFetchResponseGroup().setGroupId(g.groupId());
            resp.groups().add(gr);
            if (g.groupId() == null || g.groupId().isEmpty()) {
                gr.setErrorCode(Errors.INVALID_GROUP_ID.code());
                continue;
            }
            if (v >= 9) {
                Errors e = groups.checkFetch(g.groupId(), g.memberId(), g.memberEpoch());
                if (e != Errors.NONE) {
                    gr.setErrorCode(e.code());
                    continue;
                }
            }
            Map<String, List<Integer>> wanted = null;
            if (g.topics() != null) {
                wanted = new LinkedHashMap<>();
                for (OffsetFetchRequestData.OffsetFetchRequestTopics t : g.topics()) {
                    wanted.put(t.name(), t.partitionIndexes());
                }
            }
            Map<TopicPartition, CommittedOffset> found = groups.fetch(g.groupId());
            for (Map.Entry<String, Map<Integer, CommittedOffset>> t : select(found, wanted).entrySet()) {
                OffsetFetchResponseData.OffsetFetchResponseTopics tr =
                        new OffsetFetchResponseData.OffsetFetchResponseTopics().setName(t.getKey());
                gr.topics().add(tr);
                t.getValue().forEach((p, co) -> {
                    OffsetFetchResponseData.OffsetFetchResponsePartitions pr =
                            new OffsetFetchResponseData.OffsetFetchResponsePartitions().setPartitionIndex(p)
                                    .setCommittedOffset(co == null ? -1 : co.offset())
                                    .setCommittedLeaderEpoch(co == null ? -1 : co.leaderEpoch().orElse(-1))
                                    .setMetadata(co == null ? "" : co.metadata());
                    if (req.requireStable() && unstable(g.groupId(), t.getKey(), p)) {
                        // an open transaction will change it: the consumer asks again (Kafka's KIP-447)
                        pr.setErrorCode(Errors.UNSTABLE_OFFSET_COMMIT.code()).setCommittedOffset(-1);
                    }
                    tr.partitions().add(pr);
                });
            }
        }
        return resp;
    }

    private boolean unstable(String group, String topic, int partition) {
        return partition >= 0 && Topic.isValid(topic) && pendingTxnOffset.test(group, TopicPartition.of(topic, partition));
    }

    /** topic -> partition -> offset (null where none is committed): the wanted ones, or all found. */
    private static Map<String, Map<Integer, CommittedOffset>> select(Map<TopicPartition, CommittedOffset> found,
            Map<String, List<Integer>> wanted) {
        Map<String, Map<Integer, CommittedOffset>> out = new LinkedHashMap<>();
        if (wanted == null) {
            found.forEach((tp, co) -> out.computeIfAbsent(tp.topic(), x -> new java.util.TreeMap<>()).put(tp.partition(), co));
            return out;
        }
        wanted.forEach((topic, parts) -> {
            Map<Integer, CommittedOffset> m = out.computeIfAbsent(topic, x -> new LinkedHashMap<>());
            for (int p : parts) {
                m.put(p, p < 0 || !Topic.isValid(topic) ? null : found.get(TopicPartition.of(topic, p)));
            }
        });
        return out;
    }

    private CompletableFuture<ApiMessage> offsetDelete(OffsetDeleteRequestData req) {
        OffsetDeleteResponseData resp = new OffsetDeleteResponseData();
        if (req.groupId() == null || req.groupId().isEmpty()) {
            return done(resp.setErrorCode(Errors.INVALID_GROUP_ID.code()));
        }
        if (!groups.exists(req.groupId())) {
            return done(resp.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code()));
        }
        Set<String> subscribed = groups.subscribedTopics(req.groupId());
        List<TopicPartition> toDelete = new ArrayList<>();
        List<OffsetDeleteResponseData.OffsetDeleteResponsePartition> pending = new ArrayList<>();
        for (OffsetDeleteRequestData.OffsetDeleteRequestTopic t : req.topics()) {
            OffsetDeleteResponseData.OffsetDeleteResponseTopic tr =
                    new OffsetDeleteResponseData.OffsetDeleteResponseTopic().setName(t.name());
            resp.topics().add(tr);
            for (OffsetDeleteRequestData.OffsetDeleteRequestPartition p : t.partitions()) {
                OffsetDeleteResponseData.OffsetDeleteResponsePartition pr =
                        new OffsetDeleteResponseData.OffsetDeleteResponsePartition().setPartitionIndex(p.partitionIndex());
                tr.partitions().add(pr);
                if (subscribed.contains(t.name())) {
                    pr.setErrorCode(Errors.GROUP_SUBSCRIBED_TO_TOPIC.code());
                } else if (!Topic.isValid(t.name()) || p.partitionIndex() < 0) {
                    pr.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else {
                    toDelete.add(TopicPartition.of(t.name(), p.partitionIndex()));
                    pending.add(pr);
                }
            }
        }
        CompletableFuture<Void> delete;
        try {
            delete = groups.deleteOffsets(req.groupId(), toDelete);
        } catch (RuntimeException ex) {
            delete = CompletableFuture.failedFuture(ex);
        }
        return delete.handle((x, err) -> {
            if (err != null) {
                short code = KafkaErrors.of(err).code();
                for (OffsetDeleteResponseData.OffsetDeleteResponsePartition pr : pending) {
                    pr.setErrorCode(code);
                }
            }
            return resp;
        });
    }

    // ---------------------------------------------------------------- ListGroups, DescribeGroups, DeleteGroups

    private ListGroupsResponseData listGroups(ListGroupsRequestData req, short v) {
        ListGroupsResponseData resp = new ListGroupsResponseData();
        for (GroupView g : groups.list()) {
            if (v >= 5 && !req.typesFilter().isEmpty()
                    && req.typesFilter().stream().noneMatch(t -> t.equalsIgnoreCase(g.type()))) {
                continue;
            }
            if (v >= 4 && !req.statesFilter().isEmpty()
                    && req.statesFilter().stream().noneMatch(s -> s.equalsIgnoreCase(g.stateName()))) {
                continue;
            }
            ListGroupsResponseData.ListedGroup lg = new ListGroupsResponseData.ListedGroup().setGroupId(g.groupId())
                    .setProtocolType(g.protocolType());
            if (v >= 4) {
                lg.setGroupState(g.stateName());
            }
            if (v >= 5) {
                lg.setGroupType(g.type());
            }
            resp.groups().add(lg);
        }
        return resp;
    }

    private DescribeGroupsResponseData describeGroups(DescribeGroupsRequestData req, short v) {
        DescribeGroupsResponseData resp = new DescribeGroupsResponseData();
        for (String id : req.groups()) {
            DescribeGroupsResponseData.DescribedGroup dg = new DescribeGroupsResponseData.DescribedGroup().setGroupId(id)
                    .setProtocolType("").setProtocolData("");
            resp.groups().add(dg);
            GroupView g = id == null || id.isEmpty() ? null : groups.describe(id);
            if (g == null) {
                dg.setGroupState(GroupCoordinator.State.DEAD.kafkaName);
                if (v >= 6) {
                    dg.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code()).setErrorMessage("group " + id + " not found");
                } else if (id == null || id.isEmpty()) {
                    dg.setErrorCode(Errors.INVALID_GROUP_ID.code());
                }
                continue;
            }
            dg.setGroupState(g.state().kafkaName).setProtocolType(g.protocolType())
                    .setProtocolData(g.protocolName() == null ? "" : g.protocolName());
            for (MemberView m : g.members()) {
                dg.members().add(new DescribeGroupsResponseData.DescribedGroupMember().setMemberId(m.memberId())
                        .setGroupInstanceId(m.groupInstanceId()).setClientId(m.clientId() == null ? "" : m.clientId())
                        .setClientHost(m.clientHost() == null ? "" : m.clientHost())
                        .setMemberMetadata(m.metadata()).setMemberAssignment(m.assignment()));
            }
        }
        return resp;
    }

    private CompletableFuture<ApiMessage> deleteGroups(DeleteGroupsRequestData req) {
        DeleteGroupsResponseData resp = new DeleteGroupsResponseData();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (String id : req.groupsNames()) {
            DeleteGroupsResponseData.DeletableGroupResult r = new DeleteGroupsResponseData.DeletableGroupResult().setGroupId(id);
            resp.results().add(r);
            if (id == null || id.isEmpty()) {
                r.setErrorCode(Errors.INVALID_GROUP_ID.code());
                continue;
            }
            CompletableFuture<Errors> f;
            try {
                f = groups.deleteGroup(id);
            } catch (RuntimeException e) {
                f = CompletableFuture.completedFuture(KafkaErrors.of(e));
            }
            all.add(f.thenAccept(e -> r.setErrorCode(e.code())));
        }
        return CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).thenApply(x -> resp);
    }

    // ---------------------------------------------------------------- ConsumerGroupHeartbeat, ConsumerGroupDescribe

    private ConsumerGroupHeartbeatResponseData consumerGroupHeartbeat(ConsumerGroupHeartbeatRequestData req,
            String clientId, String clientHost) {
        Map<String, Set<Integer>> owned = null;
        if (req.topicPartitions() != null) {
            owned = new java.util.TreeMap<>();
            for (ConsumerGroupHeartbeatRequestData.TopicPartitions tp : req.topicPartitions()) {
                Optional<TopicDescription> d = topicById(tp.topicId());
                if (d.isPresent()) { // partitions of a deleted topic are held by nobody
                    owned.computeIfAbsent(d.get().name(), x -> new java.util.TreeSet<>()).addAll(tp.partitions());
                }
            }
        }
        ConsumerGroup.Result r = groups.consumerHeartbeat(req.groupId(), new ConsumerGroup.Heartbeat(req.memberId(),
                req.memberEpoch(), req.instanceId(), req.rackId(), req.rebalanceTimeoutMs(), req.subscribedTopicNames(),
                req.subscribedTopicRegex(), req.serverAssignor(), owned, clientId, clientHost));
        ConsumerGroupHeartbeatResponseData resp = new ConsumerGroupHeartbeatResponseData()
                .setErrorCode(r.error().code()).setErrorMessage(r.message());
        if (r.error() != Errors.NONE) {
            return resp; // as Kafka: no member id, epoch 0
        }
        resp.setMemberId(r.memberId()).setMemberEpoch(r.memberEpoch())
                .setHeartbeatIntervalMs(groups.consumerHeartbeatIntervalMs());
        if (r.assignment() != null) {
            ConsumerGroupHeartbeatResponseData.Assignment a = new ConsumerGroupHeartbeatResponseData.Assignment();
            r.assignment().forEach((topic, ps) -> store.describeTopic(topic).ifPresent(d -> a.topicPartitions().add(
                    new ConsumerGroupHeartbeatResponseData.TopicPartitions().setTopicId(KafkaApis.kafkaId(d.topicId()))
                            .setPartitions(new ArrayList<>(ps)))));
            resp.setAssignment(a);
        }
        return resp;
    }

    /** The topic with this Kafka id, or empty (a scan of the store's topics: heartbeats name few topics). */
    private Optional<TopicDescription> topicById(Uuid id) {
        if (id == null || Uuid.ZERO_UUID.equals(id)) {
            return Optional.empty();
        }
        for (String name : store.listTopics()) {
            Optional<TopicDescription> d = store.describeTopic(name);
            if (d.isPresent() && KafkaApis.kafkaId(d.get().topicId()).equals(id)) {
                return d;
            }
        }
        return Optional.empty();
    }

    private ConsumerGroupDescribeResponseData consumerGroupDescribe(ConsumerGroupDescribeRequestData req) {
        ConsumerGroupDescribeResponseData resp = new ConsumerGroupDescribeResponseData();
        for (String id : req.groupIds()) {
            ConsumerGroupDescribeResponseData.DescribedGroup dg = id == null || id.isEmpty() ? null
                    : groups.withConsumerGroup(id, this::describe);
            if (dg == null) {
                dg = new ConsumerGroupDescribeResponseData.DescribedGroup().setGroupId(id)
                        .setErrorCode((id == null || id.isEmpty() ? Errors.INVALID_GROUP_ID : Errors.GROUP_ID_NOT_FOUND).code())
                        .setErrorMessage("Group " + id + " is not a consumer group.")
                        .setGroupState("Dead");
            }
            resp.groups().add(dg);
        }
        return resp;
    }

    private ConsumerGroupDescribeResponseData.DescribedGroup describe(ConsumerGroup g) {
        ConsumerGroupDescribeResponseData.DescribedGroup dg = new ConsumerGroupDescribeResponseData.DescribedGroup()
                .setGroupId(g.id).setGroupState(g.stateName()).setGroupEpoch(g.groupEpoch())
                .setAssignmentEpoch(g.assignmentEpoch()).setAssignorName(g.assignorName());
        for (ConsumerGroup.Member m : g.members()) {
            dg.members().add(new ConsumerGroupDescribeResponseData.Member().setMemberId(m.id).setInstanceId(m.instanceId)
                    .setRackId(m.rackId).setMemberEpoch(m.epoch).setClientId(m.clientId).setClientHost(m.clientHost)
                    .setSubscribedTopicNames(new ArrayList<>(m.subscribedNames)).setSubscribedTopicRegex(m.regex)
                    .setAssignment(describeAssignment(m.assigned)).setTargetAssignment(describeAssignment(g.targetOf(m.id)))
                    .setMemberType((byte) 1));
        }
        return dg;
    }

    private ConsumerGroupDescribeResponseData.Assignment describeAssignment(Map<String, Set<Integer>> a) {
        ConsumerGroupDescribeResponseData.Assignment out = new ConsumerGroupDescribeResponseData.Assignment();
        a.forEach((topic, ps) -> store.describeTopic(topic).ifPresent(d -> out.topicPartitions().add(
                new ConsumerGroupDescribeResponseData.TopicPartitions().setTopicId(KafkaApis.kafkaId(d.topicId()))
                        .setTopicName(topic).setPartitions(new ArrayList<>(ps)))));
        return out;
    }
}
