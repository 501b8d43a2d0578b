package io.shale.broker;

import io.shale.log.CommittedOffset;
import io.shale.log.LogStore;
import io.shale.log.ShaleException;
import io.shale.log.TopicDescription;
import io.shale.log.TopicPartition;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AddOffsetsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AddOffsetsToTxnRequest;
import org.apache.kafka.common.requests.AddPartitionsToTxnRequest;
import org.apache.kafka.common.requests.EndTxnRequest;
import org.apache.kafka.common.requests.TxnOffsetCommitRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transaction APIs a transactional kafka-clients producer calls (transaction version 1):
 * AddPartitionsToTxn (versions 0-3), AddOffsetsToTxn, TxnOffsetCommit and EndTxn, answered by the
 * {@link TransactionCoordinator}. Called on the request threads; store calls block.
 */
final class TxnApis {
    private static final Logger log = LoggerFactory.getLogger(TxnApis.class);

    private final LogStore store;
    private final TransactionCoordinator txns;
    private final GroupCoordinator groups;

    TxnApis(LogStore store, TransactionCoordinator txns, GroupCoordinator groups) {
        this.store = store;
        this.txns = txns;
        this.groups = groups;
    }

    /** Handles a transaction API request, or returns null if {@code key} is not one. */
    ApiMessage handle(ApiKeys key, short version, AbstractRequest request) {
        switch (key) {
            case ADD_PARTITIONS_TO_TXN:
                return addPartitions(((AddPartitionsToTxnRequest) request).data());
            case ADD_OFFSETS_TO_TXN:
                return addOffsets(((AddOffsetsToTxnRequest) request).data());
            case END_TXN:
                return endTxn(((EndTxnRequest) request).data());
            case TXN_OFFSET_COMMIT:
                return txnOffsetCommit(((TxnOffsetCommitRequest) request).data());
            default:
                return null;
        }
    }

    /**
     * A coordinator call that failed in the store: {@code COORDINATOR_NOT_AVAILABLE}, which a
     * transactional producer retries (Kafka answers so while its coordinator cannot write its log).
     */
    static Errors coordinatorError(RuntimeException e) {
        log.debug("transaction coordinator call failed", e);
        return Errors.COORDINATOR_NOT_AVAILABLE;
    }

    private Optional<TopicDescription> topic(String name) {
        return name != null && Topic.isValid(name) ? store.describeTopic(name) : Optional.empty();
    }

    private AddPartitionsToTxnResponseData addPartitions(AddPartitionsToTxnRequestData req) {
        AddPartitionsToTxnResponseData resp = new AddPartitionsToTxnResponseData();
        List<TopicPartition> valid = new ArrayList<>();
        Map<TopicPartition, Errors> errors = new LinkedHashMap<>();
        for (AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic t : req.v3AndBelowTopics()) {
            Optional<TopicDescription> d = topic(t.name());
            for (int p : t.partitions()) {
                TopicPartition tp = TopicPartition.of(t.name() == null ? "" : t.name(), Math.max(0, p));
                if (d.isEmpty() || p < 0 || p >= d.get().partitionCount()) {
                    errors.put(tp, Errors.UNKNOWN_TOPIC_OR_PARTITION);
                } else if (KafkaApis.isInternal(t.name())) {
                    errors.put(tp, Errors.TOPIC_AUTHORIZATION_FAILED); // as Kafka answers for internal topics
                } else {
                    valid.add(tp);
                    errors.put(tp, Errors.NONE);
                }
            }
        }
        Errors outcome;
        if (valid.size() != errors.size()) {
            outcome = Errors.OPERATION_NOT_ATTEMPTED; // Kafka adds none when any partition is refused
        } else {
            try {
                outcome = txns.addPartitions(req.v3AndBelowTransactionalId(), req.v3AndBelowProducerId(),
                        req.v3AndBelowProducerEpoch(), valid);
            } catch (RuntimeException e) {
                outcome = coordinatorError(e);
            }
        }
        AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResultCollection topics =
                new AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResultCollection();
        for (Map.Entry<TopicPartition, Errors> e : errors.entrySet()) {
            AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResult tr = topics.find(e.getKey().topic());
            if (tr == null) {
                tr = new AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResult().setName(e.getKey().topic());
                topics.add(tr);
            }
            Errors err = e.getValue() == Errors.NONE ? outcome : e.getValue();
            tr.resultsByPartition().add(new AddPartitionsToTxnResponseData.AddPartitionsToTxnPartitionResult()
                    .setPartitionIndex(e.getKey().partition()).setPartitionErrorCode(err.code()));
        }
        return resp.setResultsByTopicV3AndBelow(topics);
    }

    private AddOffsetsToTxnResponseData addOffsets(AddOffsetsToTxnRequestData req) {
        Errors e;
        try {
            e = txns.addOffsets(req.transactionalId(), req.producerId(), req.producerEpoch(), req.groupId());
        } catch (RuntimeException ex) {
            e = coordinatorError(ex);
        }
        return new AddOffsetsToTxnResponseData().setErrorCode(e.code());
    }

    private EndTxnResponseData endTxn(EndTxnRequestData req) {
        Errors e;
        try {
            e = txns.endTxn(req.transactionalId(), req.producerId(), req.producerEpoch(), req.committed());
        } catch (RuntimeException ex) {
            e = coordinatorError(ex);
        }
        return new EndTxnResponseData().setErrorCode(e.code()).setProducerId(req.producerId())
                .setProducerEpoch(req.producerEpoch());
    }

    private TxnOffsetCommitResponseData txnOffsetCommit(TxnOffsetCommitRequestData req) {
        TxnOffsetCommitResponseData resp = new TxnOffsetCommitResponseData();
        Errors groupError = Errors.NONE;
        if (req.memberId() != null && !req.memberId().isEmpty() && req.generationIdOrMemberEpoch() >= 0) {
            // a consumer of a group (consume-transform-produce with subscribe): the same checks as OffsetCommit
            groupError = groups.checkCommit(req.groupId(), req.memberId(), req.generationIdOrMemberEpoch(),
                    req.groupInstanceId());
        }
        Map<TopicPartition, CommittedOffset> toCommit = new LinkedHashMap<>();
        List<TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition> accepted = new ArrayList<>();
        for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic t : req.topics()) {
            TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic tr =
                    new TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic().setName(t.name());
            resp.topics().add(tr);
            Optional<TopicDescription> d = topic(t.name());
            for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition p : t.partitions()) {
                TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition pr =
                        new TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition().setPartitionIndex(p.partitionIndex());
                tr.partitions().add(pr);
                Errors e = groupError;
                if (e == Errors.NONE) {
                    if (d.isEmpty() || p.partitionIndex() < 0 || p.partitionIndex() >= d.get().partitionCount()) {
                        e = Errors.UNKNOWN_TOPIC_OR_PARTITION;
                    } else if (p.committedMetadata() != null
                            && p.committedMetadata().length() > GroupCoordinator.MAX_METADATA_CHARS) {
                        e = Errors.OFFSET_METADATA_TOO_LARGE;
                    } else if (p.committedOffset() < 0) {
                        e = Errors.INVALID_REQUEST;
                    }
                }
                pr.setErrorCode(e.code());
                if (e == Errors.NONE) {
                    toCommit.put(TopicPartition.of(t.name(), p.partitionIndex()), CommittedOffset.of(
                            p.committedOffset(), p.committedMetadata(), p.committedLeaderEpoch()));
                    accepted.add(pr);
                }
            }
        }
        if (!toCommit.isEmpty()) {
            Errors e;
            try {
                e = txns.commitOffsets(req.transactionalId(), req.producerId(), req.producerEpoch(), req.groupId(),
                        toCommit);
            } catch (ShaleException ex) {
                e = coordinatorError(ex);
            } catch (RuntimeException ex) {
                e = coordinatorError(ex);
            }
            for (TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition pr : accepted) {
                pr.setErrorCode(e.code());
            }
        }
        return resp;
    }
}
