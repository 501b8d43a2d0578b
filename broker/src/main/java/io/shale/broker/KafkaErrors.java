package io.shale.broker;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.protocol.Errors;

/** How Shale's failures are reported to Kafka clients. */
final class KafkaErrors {
    private KafkaErrors() {
    }

    /**
     * The Kafka error for a failure of a store call. Retriable Shale failures map to retriable Kafka
     * errors, so that clients retry them as they would against Kafka.
     */
    static Errors of(Throwable t) {
        ShaleException se = ShaleException.unwrap(t);
        if (se != null) {
            return of(se.kind());
        }
        Throwable cur = t;
        for (int depth = 0; cur != null && depth < 16; depth++) {
            if (cur instanceof ApiException) {
                return Errors.forException(cur);
            }
            cur = cur.getCause();
        }
        return Errors.UNKNOWN_SERVER_ERROR;
    }

    static Errors of(ErrorKind kind) {
        switch (kind) {
            case UNKNOWN_TOPIC_OR_PARTITION:
                return Errors.UNKNOWN_TOPIC_OR_PARTITION;
            case TOPIC_ALREADY_EXISTS:
                return Errors.TOPIC_ALREADY_EXISTS;
            case OFFSET_OUT_OF_RANGE:
                return Errors.OFFSET_OUT_OF_RANGE;
            case RECORD_TOO_LARGE:
                return Errors.MESSAGE_TOO_LARGE;
            case CORRUPT_RECORD:
                return Errors.CORRUPT_MESSAGE;
            case INVALID_ARGUMENT:
                return Errors.INVALID_REQUEST;
            case UNAVAILABLE:
                // retriable: the producer retries, the consumer refetches
                return Errors.KAFKA_STORAGE_ERROR;
            case NOT_OWNER: // a cluster node that does not own the partition
            case FENCED:
            case CLOSED:
            case READ_ONLY:
                // this broker is no longer (or not) the partition's writer: clients refresh metadata and retry
                return Errors.NOT_LEADER_OR_FOLLOWER;
            case OUT_OF_ORDER_SEQUENCE:
                return Errors.OUT_OF_ORDER_SEQUENCE_NUMBER;
            case INVALID_PRODUCER_EPOCH:
                return Errors.INVALID_PRODUCER_EPOCH;
            case INVALID_RECORD:
                return Errors.INVALID_RECORD;
            case CORRUPT_STORAGE:
            case IN_USE:
            default:
                return Errors.UNKNOWN_SERVER_ERROR;
        }
    }

    /** A message for the response's error message field, or null when there is nothing to add. */
    static String message(Throwable t) {
        ShaleException se = ShaleException.unwrap(t);
        if (se != null) {
            return se.getMessage();
        }
        return t == null ? null : t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
