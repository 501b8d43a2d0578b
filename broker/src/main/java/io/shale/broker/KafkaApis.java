package io.shale.broker;

import io.shale.log.AbortedTransaction;
import io.shale.log.AppendResult;
import io.shale.log.IsolationLevel;
import io.shale.log.ConsumerOffsets;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.OffsetAndTimestamp;
import io.shale.log.TopicDescription;
import io.shale.log.TopicPartition;
import io.shale.log.record.TimestampType;
import io.shale.log.TopicConfig;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.CreateTopicsRequest;
import org.apache.kafka.common.requests.DeleteTopicsRequest;
import org.apache.kafka.common.requests.DescribeClusterRequest;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.ListOffsetsRequest;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka APIs this broker serves, on one {@link LogStore}. Where partitions are led comes from a
 * {@link Placement}: on a single broker this one leads every partition, at the store's leader epoch
 * ({@link LogStore#leaderEpoch()}, see {@link LeaderEpochs}); in a cluster ({@link BrokerCluster})
 * the owner's broker leads a partition at its partition epoch, a produce elsewhere is refused with
 * NOT_LEADER_OR_FOLLOWER, any broker serves fetches, and the coordinators answer only on the owner
 * of their internal partition. Called on the broker's request threads (never on the network
 * threads): store calls here may block.
 */
final class KafkaApis {
    private static final Logger log = LoggerFactory.getLogger(KafkaApis.class);

    /**
     * The APIs served and the version range of each ({@link AdminApis#APIS} included). Every version
     * kafka-clients knows (stable ones) except ListOffsets above 6: versions 7 and up add the special timestamps -3 (max timestamp),
     * -4 (earliest local) and -5 (earliest pending upload), which this broker does not answer yet.
     */
    static final Map<ApiKeys, short[]> SUPPORTED;

    static {
        Map<ApiKeys, short[]> m = new EnumMap<>(ApiKeys.class);
        for (ApiKeys k : List.of(ApiKeys.API_VERSIONS, ApiKeys.METADATA, ApiKeys.PRODUCE, ApiKeys.FETCH,
                ApiKeys.CREATE_TOPICS, ApiKeys.DELETE_TOPICS, ApiKeys.DESCRIBE_CLUSTER, ApiKeys.INIT_PRODUCER_ID)) {
            m.put(k, new short[] {k.oldestVersion(), k.latestVersion()});
        }
        m.put(ApiKeys.LIST_OFFSETS, new short[] {ApiKeys.LIST_OFFSETS.oldestVersion(), (short) 6});
        for (ApiKeys k : AdminApis.APIS) {
            m.put(k, new short[] {k.oldestVersion(), k.latestVersion()});
        }
        // consumer groups, classic protocol
        for (ApiKeys k : List.of(ApiKeys.FIND_COORDINATOR, ApiKeys.JOIN_GROUP, ApiKeys.SYNC_GROUP, ApiKeys.HEARTBEAT,
                ApiKeys.LEAVE_GROUP, ApiKeys.LIST_GROUPS, ApiKeys.DESCRIBE_GROUPS, ApiKeys.DELETE_GROUPS,
                ApiKeys.OFFSET_DELETE)) {
            m.put(k, new short[] {k.oldestVersion(), k.latestVersion()});
        }
        // consumer groups, the KIP-848 consumer protocol
        for (ApiKeys k : List.of(ApiKeys.CONSUMER_GROUP_HEARTBEAT, ApiKeys.CONSUMER_GROUP_DESCRIBE)) {
            m.put(k, new short[] {k.oldestVersion(), k.latestVersion()});
        }
        // version 10 of both names topics by id only; 9 is the last by name
        m.put(ApiKeys.OFFSET_COMMIT, new short[] {ApiKeys.OFFSET_COMMIT.oldestVersion(), (short) 9});
        m.put(ApiKeys.OFFSET_FETCH, new short[] {ApiKeys.OFFSET_FETCH.oldestVersion(), (short) 9});
        // transactions (transaction version 1: the client adds partitions itself). AddPartitionsToTxn
        // 4 and up are the brokers' batched form; TxnOffsetCommit 6 names topics by id only
        m.put(ApiKeys.ADD_PARTITIONS_TO_TXN, new short[] {ApiKeys.ADD_PARTITIONS_TO_TXN.oldestVersion(), (short) 3});
        m.put(ApiKeys.ADD_OFFSETS_TO_TXN, new short[] {ApiKeys.ADD_OFFSETS_TO_TXN.oldestVersion(),
                ApiKeys.ADD_OFFSETS_TO_TXN.latestVersion()});
        m.put(ApiKeys.END_TXN, new short[] {ApiKeys.END_TXN.oldestVersion(), ApiKeys.END_TXN.latestVersion()});
        m.put(ApiKeys.TXN_OFFSET_COMMIT, new short[] {ApiKeys.TXN_OFFSET_COMMIT.oldestVersion(), (short) 5});
        // SASL (KafkaConnection authenticates; after that, or on a listener without SASL, ILLEGAL_SASL_STATE).
        // SaslHandshake v0: bare tokens follow (librdkafka requires v0 to be listed to use SASL at all)
        m.put(ApiKeys.SASL_HANDSHAKE, new short[] {ApiKeys.SASL_HANDSHAKE.oldestVersion(),
                ApiKeys.SASL_HANDSHAKE.latestVersion()});
        m.put(ApiKeys.SASL_AUTHENTICATE, new short[] {ApiKeys.SASL_AUTHENTICATE.oldestVersion(),
                ApiKeys.SASL_AUTHENTICATE.latestVersion()});
        SUPPORTED = m;
    }

    private final LogStore store;
    private final TransactionCoordinator txns;
    private final Executor executor;
    private final int nodeId;
    private final String host;
    private final int port;
    private final String clusterId;
    private final Map<Uuid, String> topicNames = new ConcurrentHashMap<>();
    private final GroupApis groupApis;
    private final AdminApis adminApis;
    private final TxnApis txnApis;
    private final Placement placement;
    /**
     * In a cluster: the internal partitions this broker owned, at their epochs, when its
     * coordinators were loaded (null on a single broker: it coordinates everything). A coordinator
     * serves only while its partition is still owned at that epoch.
     */
    private final Map<TopicPartition, Integer> coordinating;

    KafkaApis(LogStore store, Executor executor, int nodeId, String host, int port, String clusterId,
            GroupCoordinator groups, TransactionCoordinator txns) {
        this(store, executor, nodeId, host, port, clusterId, groups, txns, new BrokerConfigs(nodeId, List.of()));
    }

    KafkaApis(LogStore store, Executor executor, int nodeId, String host, int port, String clusterId,
            GroupCoordinator groups, TransactionCoordinator txns, BrokerConfigs brokerConfigs) {
        this(store, executor, clusterId, groups, txns, brokerConfigs,
                Placement.single(store, new Placement.Broker(nodeId, host, port)), null);
    }

    KafkaApis(LogStore store, Executor executor, String clusterId, GroupCoordinator groups, TransactionCoordinator txns,
            BrokerConfigs brokerConfigs, Placement placement, Map<TopicPartition, Integer> coordinating) {
        int nodeId = placement.self().id();
        String host = placement.self().host();
        int port = placement.self().port();
        this.placement = placement;
        this.coordinating = coordinating;
        this.store = store;
        this.txns = txns;
        this.txnApis = new TxnApis(store, txns, groups);
        this.groupApis = new GroupApis(store, groups, nodeId, host, port, txns::holdsOffset);
        this.adminApis = new AdminApis(store, nodeId, brokerConfigs, placement::epoch);
        this.executor = executor;
        this.nodeId = nodeId;
        this.host = host;
        this.port = port;
        this.clusterId = clusterId;
    }

    static boolean isSupported(ApiKeys key, short version) {
        short[] range = SUPPORTED.get(key);
        return range != null && version >= range[0] && version <= range[1];
    }

    static ApiVersionsResponseData apiVersions(Errors error) {
        ApiVersionsResponseData.ApiVersionCollection keys = new ApiVersionsResponseData.ApiVersionCollection();
        for (Map.Entry<ApiKeys, short[]> e : SUPPORTED.entrySet()) {
            keys.add(new ApiVersionsResponseData.ApiVersion().setApiKey(e.getKey().id)
                    .setMinVersion(e.getValue()[0]).setMaxVersion(e.getValue()[1]));
        }
        return new ApiVersionsResponseData().setErrorCode(error.code()).setApiKeys(keys);
    }

    /**
     * Handles one parsed request. The future completes with the response body, or with null when
     * no response is due (a produce with acks=0 that succeeded); it completes exceptionally with
     * {@link CloseConnection} when the connection must be closed instead.
     */
    CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, String clientHost) {
        short version = header.apiVersion();
        if (coordinating != null) {
            ApiMessage refused = clusterCoordination(header, request);
            if (refused != null) {
                return CompletableFuture.completedFuture(refused);
            }
        }
        CompletableFuture<ApiMessage> group = groupApis.handle(header, request, clientHost);
        if (group != null) {
            return group;
        }
        ApiMessage admin = adminApis.handle(header.apiKey(), version, request);
        if (admin != null) {
            return CompletableFuture.completedFuture(admin);
        }
        ApiMessage txn = txnApis.handle(header.apiKey(), version, request);
        if (txn != null) {
            return CompletableFuture.completedFuture(txn);
        }
        switch (header.apiKey()) {
            case API_VERSIONS:
                ApiVersionsRequest av = (ApiVersionsRequest) request;
                return CompletableFuture.completedFuture(
                        apiVersions(av.isValid() ? Errors.NONE : Errors.INVALID_REQUEST));
            case METADATA:
                return CompletableFuture.completedFuture(metadata(((MetadataRequest) request).data(), version));
            case PRODUCE:
                return produce(((ProduceRequest) request).data(), version);
            case FETCH:
                return fetch(((FetchRequest) request).data(), version);
            case LIST_OFFSETS:
                return CompletableFuture.completedFuture(listOffsets(((ListOffsetsRequest) request).data(), version));
            case CREATE_TOPICS:
                return CompletableFuture.completedFuture(createTopics(((CreateTopicsRequest) request).data(), version));
            case DELETE_TOPICS:
                return CompletableFuture.completedFuture(deleteTopics(((DeleteTopicsRequest) request).data(), version));
            case DESCRIBE_CLUSTER:
                return CompletableFuture.completedFuture(describeCluster(((DescribeClusterRequest) request).data()));
            case INIT_PRODUCER_ID:
                return CompletableFuture.completedFuture(initProducerId(((InitProducerIdRequest) request).data()));
            case SASL_HANDSHAKE:
            case SASL_AUTHENTICATE:
                // as Kafka's KafkaApis: the connection is authenticated already, or its listener has no SASL
                return CompletableFuture.completedFuture(request.getErrorResponse(
                        new org.apache.kafka.common.errors.IllegalSaslStateException(header.apiKey()
                                + " request received on a connection that is authenticated or has no SASL")).data());
            default:
                // not reachable: the connection answers unsupported APIs before calling here
                throw new IllegalStateException("no handler for " + header.apiKey());
        }
    }

    // ---------------------------------------------------------------- coordinators in a cluster

    static final TopicPartition GROUPS_PARTITION = TopicPartition.of(io.shale.log.ConsumerOffsets.TOPIC, 0);
    static final TopicPartition TXNS_PARTITION = TopicPartition.of(TransactionCoordinator.TOPIC, 0);

    /** Whether this broker's coordinator of {@code partition}'s kind may serve (see {@link #coordinating}). */
    private boolean coordinates(TopicPartition partition) {
        if (coordinating == null) {
            return true;
        }
        Integer at = coordinating.get(partition);
        return at != null && placement.leads(partition) && placement.epoch(partition) == at;
    }

    /**
     * In a cluster: FindCoordinator answered with the owner of the coordinator's internal partition,
     * and coordinator requests that belong to another broker refused with NOT_COORDINATOR; null when
     * the request is to be handled as usual.
     */
    private ApiMessage clusterCoordination(RequestHeader header, AbstractRequest request) {
        switch (header.apiKey()) {
            case FIND_COORDINATOR:
                return findCoordinator(((org.apache.kafka.common.requests.FindCoordinatorRequest) request).data(),
                        header.apiVersion());
            case JOIN_GROUP: case SYNC_GROUP: case HEARTBEAT: case LEAVE_GROUP: case OFFSET_COMMIT: case OFFSET_FETCH:
            case DESCRIBE_GROUPS: case DELETE_GROUPS: case OFFSET_DELETE: case CONSUMER_GROUP_HEARTBEAT:
            case CONSUMER_GROUP_DESCRIBE: case TXN_OFFSET_COMMIT:
                return coordinates(GROUPS_PARTITION) ? null : request.getErrorResponse(
                        new org.apache.kafka.common.errors.NotCoordinatorException("the group coordinator is on broker "
                                + leaderId(GROUPS_PARTITION))).data();
            case LIST_GROUPS:
                return coordinates(GROUPS_PARTITION) ? null : new org.apache.kafka.common.message.ListGroupsResponseData();
            case ADD_PARTITIONS_TO_TXN: case ADD_OFFSETS_TO_TXN: case END_TXN:
                return coordinates(TXNS_PARTITION) ? null : request.getErrorResponse(
                        new org.apache.kafka.common.errors.NotCoordinatorException("the transaction coordinator is on"
                                + " broker " + leaderId(TXNS_PARTITION))).data();
            case INIT_PRODUCER_ID:
                String txnId = ((InitProducerIdRequest) request).data().transactionalId();
                return txnId == null || coordinates(TXNS_PARTITION) ? null : request.getErrorResponse(
                        new org.apache.kafka.common.errors.NotCoordinatorException("the transaction coordinator is on"
                                + " broker " + leaderId(TXNS_PARTITION))).data();
            default:
                return null;
        }
    }

    private int leaderId(TopicPartition tp) {
        Placement.Broker b = placement.leader(tp);
        return b == null ? -1 : b.id();
    }

    private org.apache.kafka.common.message.FindCoordinatorResponseData findCoordinator(
            org.apache.kafka.common.message.FindCoordinatorRequestData req, short v) {
        org.apache.kafka.common.message.FindCoordinatorResponseData resp =
                new org.apache.kafka.common.message.FindCoordinatorResponseData();
        List<String> keys = v < 4 ? java.util.Collections.singletonList(req.key()) : req.coordinatorKeys();
        for (String key : keys) {
            Errors e;
            Placement.Broker b = null;
            if ((req.keyType() != 0 && req.keyType() != 1) || key == null || key.isEmpty()) {
                e = Errors.INVALID_REQUEST;
            } else {
                b = placement.leader(req.keyType() == 0 ? GROUPS_PARTITION : TXNS_PARTITION);
                e = b == null ? Errors.COORDINATOR_NOT_AVAILABLE : Errors.NONE;
            }
            int id = b == null ? -1 : b.id();
            String host = b == null ? "" : b.host();
            int port = b == null ? -1 : b.port();
            String msg = e == Errors.NONE ? null : e.message();
            if (v < 4) {
                return resp.setErrorCode(e.code()).setNodeId(id).setHost(host).setPort(port).setErrorMessage(msg);
            }
            resp.coordinators().add(new org.apache.kafka.common.message.FindCoordinatorResponseData.Coordinator()
                    .setKey(key).setErrorCode(e.code()).setNodeId(id).setHost(host).setPort(port).setErrorMessage(msg));
        }
        return resp;
    }

    /** Thrown (in a future) when the connection must be closed rather than answered. */
    static final class CloseConnection extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CloseConnection(String message) {
            super(message, null, false, false);
        }
    }

    // ---------------------------------------------------------------- topics

    static Uuid kafkaId(UUID id) {
        return new Uuid(id.getMostSignificantBits(), id.getLeastSignificantBits());
    }

    /** The topic with this id, or empty. */
    private Optional<TopicDescription> topicById(Uuid id) {
        String cached = topicNames.get(id);
        if (cached != null) {
            Optional<TopicDescription> d = store.describeTopic(cached);
            if (d.isPresent() && kafkaId(d.get().topicId()).equals(id)) {
                return d;
            }
            topicNames.remove(id);
        }
        for (String name : store.listTopics()) {
            Optional<TopicDescription> d = store.describeTopic(name);
            if (d.isPresent()) {
                Uuid kid = kafkaId(d.get().topicId());
                topicNames.put(kid, name);
                if (kid.equals(id)) {
                    return d;
                }
            }
        }
        return Optional.empty();
    }

    /** The topic named, or (when the name is null or empty) the one with this id. */
    private Optional<TopicDescription> resolve(String name, Uuid id) {
        if (name != null && !name.isEmpty()) {
            return Topic.isValid(name) ? store.describeTopic(name) : Optional.empty();
        }
        if (id != null && !Uuid.ZERO_UUID.equals(id)) {
            return topicById(id);
        }
        return Optional.empty();
    }

    private static boolean byId(String name) {
        return name == null || name.isEmpty();
    }

    // ---------------------------------------------------------------- Metadata

    private MetadataResponseData metadata(MetadataRequestData req, short version) {
        MetadataResponseData resp = new MetadataResponseData().setClusterId(clusterId).setControllerId(nodeId);
        for (Placement.Broker b : placement.brokers()) {
            resp.brokers().add(new MetadataResponseData.MetadataResponseBroker().setNodeId(b.id()).setHost(b.host())
                    .setPort(b.port()));
        }
        List<TopicDescription> topics = new ArrayList<>();
        if (req.topics() == null) {
            for (String name : store.listTopics()) {
                store.describeTopic(name).ifPresent(topics::add);
            }
        } else {
            for (MetadataRequestData.MetadataRequestTopic t : req.topics()) {
                Optional<TopicDescription> d = resolve(t.name(), t.topicId());
                if (d.isPresent()) {
                    topics.add(d.get());
                    continue;
                }
                MetadataResponseData.MetadataResponseTopic missing = new MetadataResponseData.MetadataResponseTopic();
                if (byId(t.name())) {
                    missing.setErrorCode(Errors.UNKNOWN_TOPIC_ID.code()).setTopicId(t.topicId());
                } else {
                    missing.setName(t.name()).setErrorCode(Topic.isValid(t.name())
                            ? Errors.UNKNOWN_TOPIC_OR_PARTITION.code() : Errors.INVALID_TOPIC_EXCEPTION.code());
                }
                resp.topics().add(missing);
            }
        }
        for (TopicDescription d : topics) {
            MetadataResponseData.MetadataResponseTopic t = new MetadataResponseData.MetadataResponseTopic()
                    .setName(d.name()).setIsInternal(isInternal(d.name()));
            if (version >= 10) {
                t.setTopicId(kafkaId(d.topicId()));
            }
            for (int p = 0; p < d.partitionCount(); p++) {
                TopicPartition tp = TopicPartition.of(d.name(), p);
                Placement.Broker leader = placement.leader(tp);
                MetadataResponseData.MetadataResponsePartition mp = new MetadataResponseData.MetadataResponsePartition()
                        .setPartitionIndex(p).setOfflineReplicas(List.of());
                if (leader == null) {
                    // unowned (never claimed, released, or its owner's lease ran out): clients retry
                    mp.setErrorCode(Errors.LEADER_NOT_AVAILABLE.code()).setLeaderId(-1)
                            .setLeaderEpoch(placement.epoch(tp)).setReplicaNodes(List.of()).setIsrNodes(List.of());
                } else {
                    mp.setLeaderId(leader.id()).setLeaderEpoch(placement.epoch(tp))
                            .setReplicaNodes(List.of(leader.id())).setIsrNodes(List.of(leader.id()));
                }
                t.partitions().add(mp);
            }
            resp.topics().add(t);
        }
        return resp;
    }

    // ---------------------------------------------------------------- Produce

    private CompletableFuture<ApiMessage> produce(ProduceRequestData req, short version) {
        short acks = req.acks();
        ProduceResponseData resp = new ProduceResponseData();
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        List<ProduceResponseData.PartitionProduceResponse> failed = new ArrayList<>();
        for (ProduceRequestData.TopicProduceData topic : req.topicData()) {
            ProduceResponseData.TopicProduceResponse tr = new ProduceResponseData.TopicProduceResponse();
            if (version >= 13) {
                tr.setTopicId(topic.topicId());
            } else {
                tr.setName(topic.name());
            }
            resp.responses().add(tr);
            Optional<TopicDescription> desc = resolve(topic.name(), topic.topicId());
            for (ProduceRequestData.PartitionProduceData pd : topic.partitionData()) {
                ProduceResponseData.PartitionProduceResponse pr = new ProduceResponseData.PartitionProduceResponse()
                        .setIndex(pd.index()).setBaseOffset(-1).setLogAppendTimeMs(-1).setLogStartOffset(-1);
                tr.partitionResponses().add(pr);
                Errors refused = null;
                String why = null;
                if (acks != 0 && acks != 1 && acks != -1) {
                    refused = Errors.INVALID_REQUIRED_ACKS;
                    why = "acks must be -1 (all), 0 or 1, not " + acks;
                } else if (desc.isEmpty()) {
                    refused = byId(topic.name()) ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION;
                } else if (pd.index() < 0 || pd.index() >= desc.get().partitionCount()) {
                    refused = Errors.UNKNOWN_TOPIC_OR_PARTITION;
                } else if (isInternal(desc.get().name())) {
                    refused = Errors.INVALID_TOPIC_EXCEPTION;
                    why = "the internal topic " + desc.get().name() + " is written by the broker's coordinators only";
                } else if (!placement.leads(TopicPartition.of(desc.get().name(), pd.index()))) {
                    refused = Errors.NOT_LEADER_OR_FOLLOWER;
                    why = "broker " + nodeId + " does not lead " + desc.get().name() + "-" + pd.index();
                    if (version >= 10) {
                        currentLeader(resp, pr, TopicPartition.of(desc.get().name(), pd.index()));
                    }
                } else if (!(pd.records() instanceof MemoryRecords)) {
                    refused = Errors.CORRUPT_MESSAGE;
                    why = "no record batches";
                } else {
                    why = refuseBatches((MemoryRecords) pd.records());
                    if (why != null) {
                        refused = why.startsWith("corrupt") ? Errors.CORRUPT_MESSAGE : Errors.INVALID_RECORD;
                    }
                }
                if (refused != null) {
                    setError(pr, refused, why, version);
                    failed.add(pr);
                    continue;
                }
                TopicPartition tp = TopicPartition.of(desc.get().name(), pd.index());
                ByteBuffer bytes = ((MemoryRecords) pd.records()).buffer().duplicate();
                CompletableFuture<AppendResult> append;
                try {
                    if (hasTransactional((MemoryRecords) pd.records())) {
                        // verified and appended under the coordinator's lock: no marker can come between
                        TransactionCoordinator.Verified v = txns.appendVerified(req.transactionalId(),
                                (MemoryRecords) pd.records(), tp, () -> store.appendBatch(tp, bytes));
                        if (v.error() != Errors.NONE) {
                            setError(pr, v.error(), "transactional batch for a partition not in the producer's open"
                                    + " transaction, or from another producer id or epoch: " + v.error().message(), version);
                            failed.add(pr);
                            continue;
                        }
                        append = v.append();
                    } else {
                        append = store.appendBatch(tp, bytes);
                    }
                } catch (RuntimeException e) {
                    append = CompletableFuture.failedFuture(e);
                }
                boolean logAppendTime = desc.get().config().messageTimestampType() == TimestampType.LOG_APPEND_TIME;
                pending.add(append.handle((r, err) -> {
                    if (err != null) {
                        setError(pr, KafkaErrors.of(err), KafkaErrors.message(err), version);
                        if (version >= 10 && KafkaErrors.of(err) == Errors.NOT_LEADER_OR_FOLLOWER) {
                            synchronized (resp) {
                                currentLeader(resp, pr, tp);
                            }
                        }
                        synchronized (failed) {
                            failed.add(pr);
                        }
                        log.debug("produce to {} failed", tp, err);
                    } else {
                        pr.setBaseOffset(r.baseOffset()).setLogStartOffset(r.logStartOffset())
                                .setLogAppendTimeMs(logAppendTime ? r.logAppendTime() : -1);
                    }
                    return null;
                }));
            }
        }
        return CompletableFuture.allOf(pending.toArray(new CompletableFuture<?>[0])).thenApply(v -> {
            if (acks == 0) {
                synchronized (failed) {
                    if (!failed.isEmpty()) {
                        // Kafka's rule for acks=0: the only way to tell the producer is to close its connection
                        ProduceResponseData.PartitionProduceResponse first = failed.get(0);
                        throw new CloseConnection("acks=0 produce failed: " + Errors.forCode(first.errorCode())
                                + (first.errorMessage() == null ? "" : " (" + first.errorMessage() + ")"));
                    }
                }
                return null;
            }
            return resp;
        });
    }

    /** KIP-951: the partition's current leader (and its endpoint) in a NOT_LEADER_OR_FOLLOWER answer, when known. */
    private void currentLeader(ProduceResponseData resp, ProduceResponseData.PartitionProduceResponse pr,
            TopicPartition tp) {
        Placement.Broker leader = placement.leader(tp);
        if (leader == null || leader.id() == nodeId) {
            return;
        }
        pr.currentLeader().setLeaderId(leader.id()).setLeaderEpoch(placement.epoch(tp));
        if (resp.nodeEndpoints().find(leader.id()) == null) {
            resp.nodeEndpoints().add(new ProduceResponseData.NodeEndpoint().setNodeId(leader.id())
                    .setHost(leader.host()).setPort(leader.port()));
        }
    }

    private static void setError(ProduceResponseData.PartitionProduceResponse pr, Errors error, String message,
            short version) {
        pr.setErrorCode(error.code());
        if (version >= 8 && message != null) {
            pr.setErrorMessage(message);
        }
    }

    /**
     * Why these batches are refused before they reach the store, or null: batches that do not
     * even split. The store checks the rest (sequences, control batches, every record).
     */
    private static String refuseBatches(MemoryRecords records) {
        try {
            for (MutableRecordBatch b : records.batches()) {
                b.sizeInBytes();
            }
        } catch (RuntimeException e) {
            return "corrupt record batch: " + e.getMessage();
        }
        return null;
    }

    /** Whether any batch is transactional data (control batches are the store's to refuse). */
    private static boolean hasTransactional(MemoryRecords records) {
        for (MutableRecordBatch b : records.batches()) {
            if (b.isTransactional() && !b.isControlBatch()) {
                return true;
            }
        }
        return false;
    }

    /** The broker's internal topics: committed offsets and transactions. */
    static boolean isInternal(String topic) {
        return ConsumerOffsets.TOPIC.equals(topic) || TransactionCoordinator.TOPIC.equals(topic);
    }

    // ---------------------------------------------------------------- InitProducerId

    /**
     * InitProducerId for idempotent producers (no transactional id): a new producer id from the
     * store's durable counter, epoch 0, whatever id and epoch the request names, as Kafka's broker
     * does for non-transactional producers. A transactional id goes to the transaction
     * coordinator ({@link TransactionCoordinator#initProducerId}).
     */
    private InitProducerIdResponseData initProducerId(InitProducerIdRequestData req) {
        InitProducerIdResponseData resp = new InitProducerIdResponseData().setProducerId(-1).setProducerEpoch((short) -1);
        if (req.transactionalId() != null) {
            try {
                TransactionCoordinator.Init init = txns.initProducerId(req.transactionalId(), req.transactionTimeoutMs(),
                        req.producerId(), req.producerEpoch());
                return resp.setErrorCode(init.error().code()).setProducerId(init.producerId())
                        .setProducerEpoch(init.epoch());
            } catch (RuntimeException e) {
                log.debug("InitProducerId of transactional id '{}' failed", req.transactionalId(), e);
                return resp.setErrorCode(TxnApis.coordinatorError(e).code());
            }
        }
        try {
            return resp.setErrorCode(Errors.NONE.code()).setProducerId(store.allocateProducerId()).setProducerEpoch((short) 0);
        } catch (RuntimeException e) {
            log.debug("InitProducerId failed", e);
            return resp.setErrorCode(KafkaErrors.of(e).code());
        }
    }

    // ---------------------------------------------------------------- Fetch

    /** One partition of a fetch, and what the last read of it returned. */
    private static final class FetchPart {
        final FetchResponseData.PartitionData data;
        final TopicPartition tp; // null if refused
        final long fetchOffset;
        final int maxBytes;
        final IsolationLevel isolation;
        FetchResult result;

        FetchPart(FetchResponseData.PartitionData data, TopicPartition tp, long fetchOffset, int maxBytes,
                IsolationLevel isolation) {
            this.isolation = isolation;
            this.data = data;
            this.tp = tp;
            this.fetchOffset = fetchOffset;
            this.maxBytes = maxBytes;
        }
    }

    private CompletableFuture<ApiMessage> fetch(FetchRequestData req, short version) {
        FetchResponseData resp = new FetchResponseData().setSessionId(0);
        if (req.sessionId() != 0 || req.sessionEpoch() > 0) {
            // incremental fetch sessions are declined: every answer has session id 0, so a client
            // that still names a session gets Kafka's "session not found" and falls back to full fetches
            return CompletableFuture.completedFuture(resp.setErrorCode(Errors.FETCH_SESSION_ID_NOT_FOUND.code()));
        }
        List<FetchPart> parts = new ArrayList<>();
        // read_committed (1): only up to the last stable offset, with the aborted transactions
        IsolationLevel isolation = req.isolationLevel() == 1 ? IsolationLevel.READ_COMMITTED : IsolationLevel.READ_UNCOMMITTED;
        for (FetchRequestData.FetchTopic topic : req.topics()) {
            FetchResponseData.FetchableTopicResponse tr = new FetchResponseData.FetchableTopicResponse();
            if (version >= 13) {
                tr.setTopicId(topic.topicId());
            } else {
                tr.setTopic(topic.topic());
            }
            resp.responses().add(tr);
            Optional<TopicDescription> desc = resolve(topic.topic(), topic.topicId());
            for (FetchRequestData.FetchPartition fp : topic.partitions()) {
                FetchResponseData.PartitionData pd = new FetchResponseData.PartitionData()
                        .setPartitionIndex(fp.partition()).setHighWatermark(-1).setLastStableOffset(-1)
                        .setLogStartOffset(-1).setRecords(MemoryRecords.EMPTY);
                tr.partitions().add(pd);
                TopicPartition tp = null;
                if (desc.isEmpty()) {
                    pd.setErrorCode((byId(topic.topic()) ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION).code());
                } else if (fp.partition() < 0 || fp.partition() >= desc.get().partitionCount()) {
                    pd.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else if (LeaderEpochs.check(fp.currentLeaderEpoch(),
                        placement.epoch(TopicPartition.of(desc.get().name(), fp.partition()))) != Errors.NONE) {
                    pd.setErrorCode(LeaderEpochs.check(fp.currentLeaderEpoch(),
                            placement.epoch(TopicPartition.of(desc.get().name(), fp.partition()))).code());
                } else {
                    tp = TopicPartition.of(desc.get().name(), fp.partition());
                }
                parts.add(new FetchPart(pd, tp, fp.fetchOffset(), Math.max(0, fp.partitionMaxBytes()), isolation));
            }
        }
        long deadline = System.nanoTime() + Math.max(0, req.maxWaitMs()) * 1_000_000L;
        return fetchRound(parts, Math.max(0, req.maxBytes()), Math.max(0, req.minBytes()), deadline)
                .thenApply(v -> {
                    for (FetchPart p : parts) {
                        fill(p);
                    }
                    return resp;
                });
    }

    /** Reads every partition; if fewer than minBytes came back, long-polls until data arrives or the deadline. */
    private CompletableFuture<Void> fetchRound(List<FetchPart> parts, int maxBytes, int minBytes, long deadline) {
        long total = readAll(parts, maxBytes);
        long remainingNanos = deadline - System.nanoTime();
        boolean anyError = false;
        for (FetchPart p : parts) {
            anyError |= p.data.errorCode() != Errors.NONE.code();
        }
        if (total >= Math.max(1, minBytes) || total >= maxBytes || anyError || remainingNanos <= 0 || parts.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        Duration wait = Duration.ofNanos(remainingNanos);
        List<CompletableFuture<FetchResult>> polls = new ArrayList<>();
        for (FetchPart p : parts) {
            if (p.tp != null) {
                polls.add(store.poll(p.tp, nextOffset(p), Math.max(1, p.maxBytes), wait, p.isolation));
            }
        }
        if (polls.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        return CompletableFuture.anyOf(polls.toArray(new CompletableFuture<?>[0]))
                .handle((r, e) -> null)
                // read everything again from the requested offsets (the poll only said "something arrived");
                // the next round polls past what this round read, so it waits rather than spins
                .thenComposeAsync(v -> fetchRound(parts, maxBytes, minBytes, deadline), executor);
    }

    private static long nextOffset(FetchPart p) {
        return p.result == null ? p.fetchOffset : Math.max(p.fetchOffset, p.result.nextOffset());
    }

    private long readAll(List<FetchPart> parts, int maxBytes) {
        long total = 0;
        for (FetchPart p : parts) {
            if (p.tp == null) {
                continue;
            }
            long budget = Math.min(p.maxBytes, (long) maxBytes - total);
            if (budget <= 0 && total > 0) {
                p.result = null;
                continue; // the response is full: report offsets only (see fill)
            }
            try {
                p.result = store.read(p.tp, p.fetchOffset, (int) Math.max(1, budget), p.isolation);
                p.data.setErrorCode(Errors.NONE.code());
                total += p.result.sizeInBytes();
            } catch (RuntimeException e) {
                p.result = null;
                p.data.setErrorCode(KafkaErrors.of(e).code());
                log.debug("fetch {} at {} failed", p.tp, p.fetchOffset, e);
            }
        }
        return total;
    }

    private void fill(FetchPart p) {
        FetchResponseData.PartitionData pd = p.data;
        if (p.tp == null) {
            return;
        }
        boolean committed = p.isolation == IsolationLevel.READ_COMMITTED;
        if (p.result != null) {
            long lso = committed ? p.result.lastStableOffset()
                    : Math.min(p.result.highWatermark(), store.lastStableOffset(p.tp));
            pd.setHighWatermark(p.result.highWatermark()).setLastStableOffset(lso)
                    .setLogStartOffset(p.result.logStartOffset());
            if (!p.result.isEmpty()) {
                // the stored batches themselves, sent without a copy (see BatchViews)
                pd.setRecords(new BatchViews.Records(p.result));
            }
            if (committed) {
                List<FetchResponseData.AbortedTransaction> aborted = new ArrayList<>();
                for (AbortedTransaction t : p.result.abortedTransactions()) {
                    aborted.add(new FetchResponseData.AbortedTransaction().setProducerId(t.producerId())
                            .setFirstOffset(t.firstOffset()));
                }
                pd.setAbortedTransactions(aborted);
            } else {
                pd.setAbortedTransactions(null);
            }
        } else {
            try {
                long hw = store.highWatermark(p.tp);
                pd.setHighWatermark(hw).setLastStableOffset(Math.min(hw, store.lastStableOffset(p.tp)))
                        .setLogStartOffset(store.logStartOffset(p.tp));
            } catch (RuntimeException e) {
                if (pd.errorCode() == Errors.NONE.code()) {
                    pd.setErrorCode(KafkaErrors.of(e).code());
                }
            }
        }
    }

    // ---------------------------------------------------------------- ListOffsets

    private ListOffsetsResponseData listOffsets(ListOffsetsRequestData req, short version) {
        ListOffsetsResponseData resp = new ListOffsetsResponseData();
        for (ListOffsetsRequestData.ListOffsetsTopic topic : req.topics()) {
            ListOffsetsResponseData.ListOffsetsTopicResponse tr =
                    new ListOffsetsResponseData.ListOffsetsTopicResponse().setName(topic.name());
            resp.topics().add(tr);
            Optional<TopicDescription> desc = resolve(topic.name(), null);
            for (ListOffsetsRequestData.ListOffsetsPartition p : topic.partitions()) {
                ListOffsetsResponseData.ListOffsetsPartitionResponse pr =
                        new ListOffsetsResponseData.ListOffsetsPartitionResponse().setPartitionIndex(p.partitionIndex())
                                .setTimestamp(-1).setOffset(-1).setLeaderEpoch(-1);
                tr.partitions().add(pr);
                if (desc.isEmpty() || p.partitionIndex() < 0 || p.partitionIndex() >= desc.get().partitionCount()) {
                    pr.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                    continue;
                }
                int epoch = placement.epoch(TopicPartition.of(desc.get().name(), p.partitionIndex()));
                Errors epochError = LeaderEpochs.check(p.currentLeaderEpoch(), epoch);
                if (epochError != Errors.NONE) {
                    pr.setErrorCode(epochError.code());
                    continue;
                }
                long ts = p.timestamp();
                if (ts < LogStore.EARLIEST_TIMESTAMP) {
                    pr.setErrorCode(Errors.INVALID_REQUEST.code());
                    continue;
                }
                TopicPartition tp = TopicPartition.of(desc.get().name(), p.partitionIndex());
                try {
                    Optional<OffsetAndTimestamp> found = ts == LogStore.LATEST_TIMESTAMP && req.isolationLevel() == 1
                            ? Optional.of(new OffsetAndTimestamp(store.lastStableOffset(tp), -1)) // read_committed
                            : store.offsetForTimestamp(tp, ts);
                    if (ts >= 0 && req.isolationLevel() == 1 && found.isPresent()
                            && found.get().offset() >= store.lastStableOffset(tp)) {
                        found = Optional.empty(); // as Kafka: read_committed finds only offsets below the LSO
                    }
                    if (found.isPresent()) {
                        pr.setOffset(found.get().offset()).setTimestamp(found.get().timestamp());
                        if (version >= 4) { // the field exists from version 4 on
                            pr.setLeaderEpoch(LeaderEpochs.epochAt(store, tp, found.get().offset(), epoch));
                        }
                    }
                } catch (RuntimeException e) {
                    pr.setErrorCode(KafkaErrors.of(e).code());
                }
            }
        }
        return resp;
    }

    // ---------------------------------------------------------------- CreateTopics, DeleteTopics

    private CreateTopicsResponseData createTopics(CreateTopicsRequestData req, short version) {
        CreateTopicsResponseData resp = new CreateTopicsResponseData();
        for (CreateTopicsRequestData.CreatableTopic t : req.topics()) {
            CreateTopicsResponseData.CreatableTopicResult r = new CreateTopicsResponseData.CreatableTopicResult()
                    .setName(t.name());
            resp.topics().add(r);
            int partitions = t.numPartitions() == -1 ? 1 : t.numPartitions();
            Errors err = Errors.NONE;
            String why = null;
            if (!Topic.isValid(t.name())) {
                err = Errors.INVALID_TOPIC_EXCEPTION;
                why = "topic names are 1 to 249 characters of [a-zA-Z0-9._-], not '.' or '..': " + t.name();
            } else if (!t.assignments().isEmpty()) {
                for (CreateTopicsRequestData.CreatableReplicaAssignment a : t.assignments()) {
                    if (!a.brokerIds().equals(List.of(nodeId))) {
                        err = Errors.INVALID_REPLICA_ASSIGNMENT;
                        why = "this broker is the only node (id " + nodeId + "): partition " + a.partitionIndex()
                                + " is assigned to " + a.brokerIds();
                    }
                }
                partitions = t.assignments().size();
            } else if (partitions <= 0) {
                err = Errors.INVALID_PARTITIONS;
                why = "number of partitions must be at least 1, not " + t.numPartitions();
            } else if (t.replicationFactor() != -1 && t.replicationFactor() != 1) {
                err = Errors.INVALID_REPLICATION_FACTOR;
                why = "replication factor must be 1 (Shale keeps the replicas: the WAL and the object store), not "
                        + t.replicationFactor();
            }
            if (err == Errors.NONE && req.validateOnly() && store.describeTopic(t.name()).isPresent()) {
                err = Errors.TOPIC_ALREADY_EXISTS;
                why = "topic " + t.name() + " already exists";
            }
            Map<String, String> configs = new HashMap<>();
            for (CreateTopicsRequestData.CreatableTopicConfig c : t.configs()) {
                if (c.value() != null) {
                    configs.put(c.name(), c.value());
                }
            }
            if (err == Errors.NONE && req.validateOnly()) {
                try {
                    TopicConfig.of(configs);
                } catch (RuntimeException e) {
                    err = Errors.INVALID_CONFIG;
                    why = KafkaErrors.message(e);
                }
            }
            if (err == Errors.NONE && !req.validateOnly()) {
                try {
                    TopicDescription d = store.createTopic(t.name(), partitions, configs);
                    if (version >= 7) {
                        r.setTopicId(kafkaId(d.topicId()));
                    }
                    topicNames.put(kafkaId(d.topicId()), d.name());
                } catch (RuntimeException e) {
                    err = KafkaErrors.of(e);
                    if (err == Errors.INVALID_REQUEST) {
                        err = Errors.INVALID_CONFIG; // name and counts were checked above
                    }
                    why = KafkaErrors.message(e);
                }
            }
            r.setErrorCode(err.code());
            if (version >= 1) {
                r.setErrorMessage(why);
            }
            if (version >= 5 && err == Errors.NONE) {
                r.setNumPartitions(partitions).setReplicationFactor((short) 1);
            }
        }
        return resp;
    }

    private DeleteTopicsResponseData deleteTopics(DeleteTopicsRequestData req, short version) {
        DeleteTopicsResponseData resp = new DeleteTopicsResponseData();
        Map<String, Uuid> wanted = new LinkedHashMap<>();
        List<DeleteTopicsResponseData.DeletableTopicResult> results = new ArrayList<>();
        if (version < 6) {
            for (String name : req.topicNames()) {
                wanted.put(name, Uuid.ZERO_UUID);
            }
        } else {
            for (DeleteTopicsRequestData.DeleteTopicState s : req.topics()) {
                if (byId(s.name())) {
                    Optional<TopicDescription> d = topicById(s.topicId());
                    if (d.isEmpty()) {
                        results.add(new DeleteTopicsResponseData.DeletableTopicResult().setTopicId(s.topicId())
                                .setErrorCode(Errors.UNKNOWN_TOPIC_ID.code()));
                        continue;
                    }
                    wanted.put(d.get().name(), s.topicId());
                } else {
                    wanted.put(s.name(), Uuid.ZERO_UUID);
                }
            }
        }
        for (Map.Entry<String, Uuid> w : wanted.entrySet()) {
            DeleteTopicsResponseData.DeletableTopicResult r =
                    new DeleteTopicsResponseData.DeletableTopicResult().setName(w.getKey());
            Optional<TopicDescription> d = Topic.isValid(w.getKey()) ? store.describeTopic(w.getKey()) : Optional.empty();
            if (version >= 6) {
                r.setTopicId(d.map(x -> kafkaId(x.topicId())).orElse(w.getValue()));
            }
            try {
                if (d.isEmpty()) {
                    r.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else if (isInternal(w.getKey())) {
                    r.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code());
                    if (version >= 5) {
                        r.setErrorMessage("the internal topic " + w.getKey() + " holds the broker's committed offsets"
                                + " or transactions");
                    }
                } else {
                    store.deleteTopic(w.getKey());
                }
            } catch (RuntimeException e) {
                r.setErrorCode(KafkaErrors.of(e).code());
                if (version >= 5) {
                    r.setErrorMessage(KafkaErrors.message(e));
                }
            }
            results.add(r);
        }
        resp.responses().addAll(results);
        return resp;
    }

    // ---------------------------------------------------------------- DescribeCluster

    private DescribeClusterResponseData describeCluster(DescribeClusterRequestData req) {
        DescribeClusterResponseData resp = new DescribeClusterResponseData().setClusterId(clusterId)
                .setControllerId(nodeId).setEndpointType(req.endpointType());
        if (req.endpointType() != 1) {
            return resp.setErrorCode(Errors.UNSUPPORTED_ENDPOINT_TYPE.code())
                    .setErrorMessage("this broker has no controller endpoints");
        }
        for (Placement.Broker b : placement.brokers()) {
            resp.brokers().add(new DescribeClusterResponseData.DescribeClusterBroker().setBrokerId(b.id())
                    .setHost(b.host()).setPort(b.port()));
        }
        return resp;
    }
}
