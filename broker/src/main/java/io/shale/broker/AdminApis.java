package io.shale.broker;

import io.shale.log.LogStore;
import io.shale.log.ShaleException;
import io.shale.log.TopicConfig;
import io.shale.log.TopicDescription;
import io.shale.log.TopicPartition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.CreatePartitionsRequest;
import org.apache.kafka.common.requests.DeleteRecordsRequest;
import org.apache.kafka.common.requests.DescribeConfigsRequest;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigType;
import org.apache.kafka.common.requests.IncrementalAlterConfigsRequest;
import org.apache.kafka.common.requests.OffsetsForLeaderEpochRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Topic administration and leader-epoch APIs: CreatePartitions, DeleteRecords, DescribeConfigs and
 * IncrementalAlterConfigs (topic resources), OffsetForLeaderEpoch. Called on the request threads;
 * store calls may block.
 */
final class AdminApis {
    private static final Logger log = LoggerFactory.getLogger(AdminApis.class);

    /** The APIs handled here; every version kafka-clients knows. */
    static final List<ApiKeys> APIS = List.of(ApiKeys.CREATE_PARTITIONS, ApiKeys.DELETE_RECORDS,
            ApiKeys.DESCRIBE_CONFIGS, ApiKeys.INCREMENTAL_ALTER_CONFIGS, ApiKeys.OFFSET_FOR_LEADER_EPOCH);

    /** Kafka's type of each topic config, for DescribeConfigs. */
    private static final Map<String, ConfigType> TYPES = Map.ofEntries(
            Map.entry(TopicConfig.RETENTION_MS, ConfigType.LONG),
            Map.entry(TopicConfig.RETENTION_BYTES, ConfigType.LONG),
            Map.entry(TopicConfig.SEGMENT_BYTES, ConfigType.INT),
            Map.entry(TopicConfig.SEGMENT_MS, ConfigType.LONG),
            Map.entry(TopicConfig.MAX_MESSAGE_BYTES, ConfigType.INT),
            Map.entry(TopicConfig.MESSAGE_TIMESTAMP_TYPE, ConfigType.STRING),
            Map.entry(TopicConfig.MESSAGE_TIMESTAMP_BEFORE_MAX_MS, ConfigType.LONG),
            Map.entry(TopicConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS, ConfigType.LONG),
            Map.entry(TopicConfig.COMPRESSION_TYPE, ConfigType.STRING),
            Map.entry(TopicConfig.CLEANUP_POLICY, ConfigType.LIST),
            Map.entry(TopicConfig.DELETE_RETENTION_MS, ConfigType.LONG),
            Map.entry(TopicConfig.MIN_COMPACTION_LAG_MS, ConfigType.LONG),
            Map.entry(TopicConfig.MAX_COMPACTION_LAG_MS, ConfigType.LONG),
            Map.entry(TopicConfig.MIN_CLEANABLE_DIRTY_RATIO, ConfigType.DOUBLE));

    private final LogStore store;
    private final int nodeId;
    private final BrokerConfigs brokerConfigs;

    AdminApis(LogStore store, int nodeId) {
        this(store, nodeId, new BrokerConfigs(nodeId, List.of()));
    }

    AdminApis(LogStore store, int nodeId, BrokerConfigs brokerConfigs) {
        this(store, nodeId, brokerConfigs, tp -> store.leaderEpoch());
    }

    /** The leader epoch of each partition (the store's on a single broker, the partition epoch in a cluster). */
    private final java.util.function.ToIntFunction<TopicPartition> epochOf;

    AdminApis(LogStore store, int nodeId, BrokerConfigs brokerConfigs,
            java.util.function.ToIntFunction<TopicPartition> epochOf) {
        this.epochOf = epochOf;
        this.store = store;
        this.nodeId = nodeId;
        this.brokerConfigs = brokerConfigs;
    }

    /** The response, or null if the request is not one of {@link #APIS}. */
    ApiMessage handle(ApiKeys key, short version, AbstractRequest request) {
        switch (key) {
            case CREATE_PARTITIONS:
                return createPartitions(((CreatePartitionsRequest) request).data());
            case DELETE_RECORDS:
                return deleteRecords(((DeleteRecordsRequest) request).data());
            case DESCRIBE_CONFIGS:
                return describeConfigs(((DescribeConfigsRequest) request).data(), version);
            case INCREMENTAL_ALTER_CONFIGS:
                return incrementalAlterConfigs(((IncrementalAlterConfigsRequest) request).data());
            case OFFSET_FOR_LEADER_EPOCH:
                return offsetForLeaderEpoch(((OffsetsForLeaderEpochRequest) request).data());
            default:
                return null;
        }
    }

    private Optional<TopicDescription> topic(String name) {
        return name != null && Topic.isValid(name) ? store.describeTopic(name) : Optional.empty();
    }

    // ---------------------------------------------------------------- CreatePartitions

    private CreatePartitionsResponseData createPartitions(CreatePartitionsRequestData req) {
        CreatePartitionsResponseData resp = new CreatePartitionsResponseData();
        Set<String> seen = new HashSet<>();
        Set<String> duplicates = new HashSet<>();
        for (CreatePartitionsRequestData.CreatePartitionsTopic t : req.topics()) {
            if (!seen.add(t.name())) {
                duplicates.add(t.name());
            }
        }
        for (CreatePartitionsRequestData.CreatePartitionsTopic t : req.topics()) {
            CreatePartitionsResponseData.CreatePartitionsTopicResult r =
                    new CreatePartitionsResponseData.CreatePartitionsTopicResult().setName(t.name());
            resp.results().add(r);
            Optional<TopicDescription> d = topic(t.name());
            Errors err = Errors.NONE;
            String why = null;
            if (duplicates.contains(t.name())) {
                err = Errors.INVALID_REQUEST;
                why = "topic " + t.name() + " appears more than once in the request";
            } else if (d.isEmpty()) {
                err = Errors.UNKNOWN_TOPIC_OR_PARTITION;
                why = "no topic " + t.name();
            } else if (KafkaApis.isInternal(t.name())) {
                err = Errors.INVALID_TOPIC_EXCEPTION;
                why = "the partitions of the internal topic " + t.name() + " are the broker's: not changed";
            } else if (t.count() == d.get().partitionCount()) {
                err = Errors.INVALID_PARTITIONS;
                why = "topic " + t.name() + " already has " + t.count() + " partitions";
            } else if (t.count() < d.get().partitionCount()) {
                err = Errors.INVALID_PARTITIONS;
                why = "topic " + t.name() + " has " + d.get().partitionCount()
                        + " partitions, which is more than the requested " + t.count() + " (partitions cannot be removed)";
            } else if (t.assignments() != null) {
                int added = t.count() - d.get().partitionCount();
                if (t.assignments().size() != added) {
                    err = Errors.INVALID_REPLICA_ASSIGNMENT;
                    why = added + " partitions are added but " + t.assignments().size() + " assignments were given";
                } else {
                    for (CreatePartitionsRequestData.CreatePartitionsAssignment a : t.assignments()) {
                        if (!a.brokerIds().equals(List.of(nodeId))) {
                            err = Errors.INVALID_REPLICA_ASSIGNMENT;
                            why = "this broker is the only node (id " + nodeId + "), not " + a.brokerIds();
                        }
                    }
                }
            }
            if (err == Errors.NONE && !req.validateOnly()) {
                try {
                    store.addPartitions(t.name(), t.count());
                } catch (RuntimeException e) {
                    err = KafkaErrors.of(e);
                    if (err == Errors.INVALID_REQUEST) {
                        err = Errors.INVALID_PARTITIONS;
                    }
                    why = KafkaErrors.message(e);
                }
            }
            r.setErrorCode(err.code()).setErrorMessage(why);
        }
        return resp;
    }

    // ---------------------------------------------------------------- DeleteRecords

    private DeleteRecordsResponseData deleteRecords(DeleteRecordsRequestData req) {
        DeleteRecordsResponseData resp = new DeleteRecordsResponseData();
        for (DeleteRecordsRequestData.DeleteRecordsTopic t : req.topics()) {
            DeleteRecordsResponseData.DeleteRecordsTopicResult tr =
                    new DeleteRecordsResponseData.DeleteRecordsTopicResult().setName(t.name());
            resp.topics().add(tr);
            Optional<TopicDescription> d = topic(t.name());
            for (DeleteRecordsRequestData.DeleteRecordsPartition p : t.partitions()) {
                DeleteRecordsResponseData.DeleteRecordsPartitionResult pr =
                        new DeleteRecordsResponseData.DeleteRecordsPartitionResult()
                                .setPartitionIndex(p.partitionIndex()).setLowWatermark(-1);
                tr.partitions().add(pr);
                if (d.isEmpty() || p.partitionIndex() < 0 || p.partitionIndex() >= d.get().partitionCount()) {
                    pr.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else if (KafkaApis.isInternal(t.name())) {
                    pr.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code()); // Kafka's rule for internal topics
                } else if (p.offset() < -1) {
                    pr.setErrorCode(Errors.OFFSET_OUT_OF_RANGE.code());
                } else {
                    try {
                        pr.setLowWatermark(store.deleteRecordsBefore(TopicPartition.of(t.name(), p.partitionIndex()),
                                p.offset()));
                    } catch (RuntimeException e) {
                        pr.setErrorCode(KafkaErrors.of(e).code());
                        log.debug("delete records of {}-{} before {} failed", t.name(), p.partitionIndex(), p.offset(), e);
                    }
                }
            }
        }
        return resp;
    }

    // ---------------------------------------------------------------- DescribeConfigs

    private DescribeConfigsResponseData describeConfigs(DescribeConfigsRequestData req, short version) {
        DescribeConfigsResponseData resp = new DescribeConfigsResponseData();
        for (DescribeConfigsRequestData.DescribeConfigsResource res : req.resources()) {
            DescribeConfigsResponseData.DescribeConfigsResult r = new DescribeConfigsResponseData.DescribeConfigsResult()
                    .setResourceType(res.resourceType()).setResourceName(res.resourceName());
            resp.results().add(r);
            if (res.resourceType() == ConfigResource.Type.BROKER.id()) {
                brokerConfigs.describe(res, req.includeSynonyms(), r);
                continue;
            }
            if (res.resourceType() != ConfigResource.Type.TOPIC.id()) {
                r.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage(
                        "this broker describes topic and broker configs only, not " + ConfigResource.Type.forId(res.resourceType()));
                continue;
            }
            Optional<TopicDescription> d = topic(res.resourceName());
            if (d.isEmpty()) {
                r.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()).setErrorMessage("no topic " + res.resourceName());
                continue;
            }
            TopicConfig config = d.get().config();
            Map<String, String> overrides = config.overrides();
            Map<String, String> defaults = TopicConfig.defaults().toMap();
            Set<String> wanted = res.configurationKeys() == null ? null : new HashSet<>(res.configurationKeys());
            for (Map.Entry<String, String> e : config.toMap().entrySet()) {
                String name = e.getKey();
                if (wanted != null && !wanted.contains(name)) {
                    continue;
                }
                boolean overridden = overrides.containsKey(name);
                DescribeConfigsResponseData.DescribeConfigsResourceResult c =
                        new DescribeConfigsResponseData.DescribeConfigsResourceResult().setName(name)
                                .setValue(e.getValue()).setReadOnly(false).setIsSensitive(false)
                                .setConfigSource((overridden ? ConfigSource.TOPIC_CONFIG : ConfigSource.DEFAULT_CONFIG).id())
                                .setConfigType(TYPES.getOrDefault(name, ConfigType.UNKNOWN).id());
                if (req.includeSynonyms()) {
                    if (overridden) {
                        c.synonyms().add(new DescribeConfigsResponseData.DescribeConfigsSynonym().setName(name)
                                .setValue(e.getValue()).setSource(ConfigSource.TOPIC_CONFIG.id()));
                    }
                    c.synonyms().add(new DescribeConfigsResponseData.DescribeConfigsSynonym().setName(name)
                            .setValue(defaults.get(name)).setSource(ConfigSource.DEFAULT_CONFIG.id()));
                }
                r.configs().add(c);
            }
        }
        return resp;
    }

    // ---------------------------------------------------------------- IncrementalAlterConfigs

    private IncrementalAlterConfigsResponseData incrementalAlterConfigs(IncrementalAlterConfigsRequestData req) {
        IncrementalAlterConfigsResponseData resp = new IncrementalAlterConfigsResponseData();
        Map<String, Integer> counts = new HashMap<>();
        for (IncrementalAlterConfigsRequestData.AlterConfigsResource res : req.resources()) {
            counts.merge(res.resourceType() + "/" + res.resourceName(), 1, Integer::sum);
        }
        for (IncrementalAlterConfigsRequestData.AlterConfigsResource res : req.resources()) {
            IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse r =
                    new IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse()
                            .setResourceType(res.resourceType()).setResourceName(res.resourceName());
            resp.responses().add(r);
            Errors err = Errors.NONE;
            String why = null;
            try {
                if (counts.get(res.resourceType() + "/" + res.resourceName()) > 1) {
                    throw new Refused(Errors.INVALID_REQUEST, "resource " + res.resourceName() + " appears more than once");
                }
                if (res.resourceType() != ConfigResource.Type.TOPIC.id()) {
                    throw new Refused(Errors.INVALID_REQUEST, "this broker alters topic configs only, not "
                            + ConfigResource.Type.forId(res.resourceType()));
                }
                Optional<TopicDescription> d = topic(res.resourceName());
                if (d.isEmpty()) {
                    throw new Refused(Errors.UNKNOWN_TOPIC_OR_PARTITION, "no topic " + res.resourceName());
                }
                if (KafkaApis.isInternal(res.resourceName())) {
                    // their compaction and retention decide whether committed offsets and transaction
                    // states survive: cleanup.policy=delete would expire them
                    throw new Refused(Errors.INVALID_TOPIC_EXCEPTION, "the configs of the internal topic "
                            + res.resourceName() + " are the broker's: not changed");
                }
                Map<String, String> change = changes(d.get().config(), res.configs());
                if (req.validateOnly()) {
                    d.get().config().with(change);
                } else {
                    store.alterTopicConfig(res.resourceName(), change);
                }
            } catch (Refused e) {
                err = e.error;
                why = e.getMessage();
            } catch (RuntimeException e) {
                err = KafkaErrors.of(e);
                if (err == Errors.INVALID_REQUEST) {
                    err = Errors.INVALID_CONFIG; // unknown key or bad value
                }
                why = KafkaErrors.message(e);
            }
            r.setErrorCode(err.code()).setErrorMessage(why);
        }
        return resp;
    }

    /** The changes to apply: a value per key set, null per key deleted. */
    private static Map<String, String> changes(TopicConfig current,
            IncrementalAlterConfigsRequestData.AlterableConfigCollection ops) {
        Map<String, String> change = new LinkedHashMap<>();
        for (IncrementalAlterConfigsRequestData.AlterableConfig op : ops) {
            String name = op.name();
            if (change.containsKey(name)) {
                throw new Refused(Errors.INVALID_REQUEST, "config " + name + " appears more than once");
            }
            AlterConfigOp.OpType type;
            try {
                type = AlterConfigOp.OpType.forId(op.configOperation());
            } catch (RuntimeException e) {
                type = null;
            }
            if (type == null) {
                throw new Refused(Errors.INVALID_REQUEST, "unknown config operation " + op.configOperation() + " for " + name);
            }
            if (type != AlterConfigOp.OpType.DELETE && op.value() == null) {
                throw new Refused(Errors.INVALID_REQUEST, "a null value is allowed only to delete, not to " + type + " " + name);
            }
            if (!TYPES.containsKey(name)) {
                throw new Refused(Errors.INVALID_CONFIG, "unknown topic config '" + name + "'; known: "
                        + new java.util.TreeSet<>(TYPES.keySet()));
            }
            switch (type) {
                case SET:
                    change.put(name, op.value());
                    break;
                case DELETE:
                    change.put(name, null);
                    break;
                case APPEND:
                case SUBTRACT:
                    if (TYPES.get(name) != ConfigType.LIST) {
                        throw new Refused(Errors.INVALID_CONFIG, type + " applies to list configs only, not to " + name);
                    }
                    Set<String> values = new LinkedHashSet<>(split(current.toMap().get(name)));
                    if (type == AlterConfigOp.OpType.APPEND) {
                        values.addAll(split(op.value()));
                    } else {
                        values.removeAll(split(op.value()));
                    }
                    change.put(name, String.join(",", values));
                    break;
                default:
                    throw new Refused(Errors.INVALID_REQUEST, "unknown config operation " + type + " for " + name);
            }
        }
        return change;
    }

    private static List<String> split(String list) {
        List<String> out = new ArrayList<>();
        for (String s : list.split(",")) {
            if (!s.isBlank()) {
                out.add(s.trim());
            }
        }
        return out;
    }

    /** A resource refused before reaching the store. */
    private static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final Errors error;

        Refused(Errors error, String message) {
            super(message, null, false, false);
            this.error = error;
        }
    }

    // ---------------------------------------------------------------- OffsetForLeaderEpoch

    /**
     * Kafka's answer ({@link LeaderEpochs#endOffsetFor}): the end offset of the requested epoch in a
     * log written under several (one per writer of the store). The current leader epoch a client
     * states is checked as Kafka does ({@link LeaderEpochs#check}).
     */
    private OffsetForLeaderEpochResponseData offsetForLeaderEpoch(OffsetForLeaderEpochRequestData req) {
        OffsetForLeaderEpochResponseData resp = new OffsetForLeaderEpochResponseData();
        for (OffsetForLeaderEpochRequestData.OffsetForLeaderTopic t : req.topics()) {
            OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult tr =
                    new OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult().setTopic(t.topic());
            resp.topics().add(tr);
            Optional<TopicDescription> d = topic(t.topic());
            for (OffsetForLeaderEpochRequestData.OffsetForLeaderPartition p : t.partitions()) {
                OffsetForLeaderEpochResponseData.EpochEndOffset e = new OffsetForLeaderEpochResponseData.EpochEndOffset()
                        .setPartition(p.partition()).setLeaderEpoch(-1).setEndOffset(-1);
                tr.partitions().add(e);
                int current = epochOf.applyAsInt(TopicPartition.of(t.topic(), p.partition()));
                Errors epochError = LeaderEpochs.check(p.currentLeaderEpoch(), current);
                if (d.isEmpty() || p.partition() < 0 || p.partition() >= d.get().partitionCount()) {
                    e.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else if (epochError != Errors.NONE) {
                    e.setErrorCode(epochError.code());
                } else {
                    try {
                        LeaderEpochs.EpochEnd end = LeaderEpochs.endOffsetFor(store,
                                TopicPartition.of(t.topic(), p.partition()), p.leaderEpoch(), current);
                        e.setLeaderEpoch(end.epoch()).setEndOffset(end.endOffset());
                    } catch (ShaleException | IllegalArgumentException x) {
                        e.setErrorCode(KafkaErrors.of(x).code());
                    }
                }
            }
        }
        return resp;
    }
}
