package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import java.util.concurrent.CompletionException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

class KafkaErrorsTest {
    @Test
    void retriableStoreFailuresAreRetriableForKafkaClientsAndTheOthersAreNot() {
        for (ErrorKind kind : ErrorKind.values()) {
            Errors e = KafkaErrors.of(kind);
            assertThat(e).as("%s", kind).isNotEqualTo(Errors.NONE);
            if (kind.isRetriable()) {
                assertThat(e.exception()).as("%s -> %s", kind, e).isInstanceOf(RetriableException.class);
            }
        }
        // a fenced or closed store: this broker no longer writes the partition; clients look for the leader again
        assertThat(KafkaErrors.of(ErrorKind.FENCED)).isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER);
        // a cluster node asked to write a partition another node owns: Kafka's answer, clients find the leader
        assertThat(KafkaErrors.of(ErrorKind.NOT_OWNER)).isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER);
        assertThat(KafkaErrors.of(ErrorKind.RECORD_TOO_LARGE)).isEqualTo(Errors.MESSAGE_TOO_LARGE);
        assertThat(KafkaErrors.of(ErrorKind.CORRUPT_RECORD)).isEqualTo(Errors.CORRUPT_MESSAGE);
        // idempotent producers: Kafka's own codes, which the producer handles (bumps its epoch, or fails the batch)
        assertThat(KafkaErrors.of(ErrorKind.OUT_OF_ORDER_SEQUENCE)).isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
        assertThat(KafkaErrors.of(ErrorKind.INVALID_PRODUCER_EPOCH)).isEqualTo(Errors.INVALID_PRODUCER_EPOCH);
        // a control batch from a producer: Kafka's answer to it
        assertThat(KafkaErrors.of(ErrorKind.INVALID_RECORD)).isEqualTo(Errors.INVALID_RECORD);
    }

    @Test
    void wrappedFailuresAreUnwrapped() {
        ShaleException se = new ShaleException(ErrorKind.OFFSET_OUT_OF_RANGE, "offset 9 above the high watermark 3");
        assertThat(KafkaErrors.of(new CompletionException(se))).isEqualTo(Errors.OFFSET_OUT_OF_RANGE);
        assertThat(KafkaErrors.message(new CompletionException(se))).isEqualTo("offset 9 above the high watermark 3");
        assertThat(KafkaErrors.of(new CompletionException(new UnknownTopicOrPartitionException("x"))))
                .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION);
        assertThat(KafkaErrors.of(new IllegalStateException("bug"))).isEqualTo(Errors.UNKNOWN_SERVER_ERROR);
    }
}
