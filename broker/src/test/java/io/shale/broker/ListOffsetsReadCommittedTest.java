package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.LogStore;
import io.shale.log.record.SimpleRecord;
import io.shale.storage.local.LocalStorage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ListOffsets by timestamp at read_committed answers, as Kafka, only an offset below the last stable offset
 * (a record of an open transaction is not "found" yet).
 */
class ListOffsetsReadCommittedTest {
    @TempDir
    Path dir;

    @Test
    void aTimestampLookupShouldNotAnswerAnOffsetAtOrAboveTheLastStableOffset() throws Exception {
        try (LogStore store = LocalStorage.open(dir);
                ShaleBroker broker = ShaleBroker.builder(store).listen("127.0.0.1", 0).start()) {
            store.createTopic("t", 1);
            io.shale.log.TopicPartition stp = io.shale.log.TopicPartition.of("t", 0);
            store.append(stp, List.of(SimpleRecord.of(1_000L, null, "plain".getBytes(StandardCharsets.UTF_8)))).join();
            long pid = store.allocateProducerId();
            store.appendBatch(stp, MemoryRecords.withTransactionalRecords(Compression.NONE, pid, (short) 0, 0,
                    new org.apache.kafka.common.record.internal.SimpleRecord(2_000L, null,
                            "open".getBytes(StandardCharsets.UTF_8))).buffer()).join();   // 1, open
            assertThat(store.lastStableOffset(stp)).isEqualTo(1);
            Properties p = new Properties();
            p.put("bootstrap.servers", broker.bootstrapServers());
            TopicPartition tp = new TopicPartition("t", 0);
            try (Admin admin = Admin.create(p)) {
                long uncommitted = admin.listOffsets(Map.of(tp, OffsetSpec.forTimestamp(1_500L)),
                        new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED)).partitionResult(tp).get().offset();
                assertThat(uncommitted).isEqualTo(1);
                long committed = admin.listOffsets(Map.of(tp, OffsetSpec.forTimestamp(1_500L)),
                        new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).partitionResult(tp).get().offset();
                assertThat(committed).as("not below the last stable offset: not found").isEqualTo(-1);
                assertThat(admin.listOffsets(Map.of(tp, OffsetSpec.forTimestamp(500L)),
                        new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).partitionResult(tp).get().offset())
                        .isZero();
            }
        }
    }
}
