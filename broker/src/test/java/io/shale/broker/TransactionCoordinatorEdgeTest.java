package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.ConsumerOffsets;
import io.shale.log.IsolationLevel;
import io.shale.log.LogStore;
import io.shale.log.TopicPartition;
import io.shale.log.record.SimpleRecord;
import io.shale.storage.local.LocalStorage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The transaction coordinator at its edges: an exhausted producer epoch, timeouts, corrupt state. */
class TransactionCoordinatorEdgeTest {
    @TempDir
    Path dir;

    private final TopicPartition tp = TopicPartition.of("t", 0);
    private static final TopicPartition STATE = TopicPartition.of(TransactionCoordinator.TOPIC, 0);

    private static ByteBuffer txnBatch(long pid, short epoch, String value) {
        return MemoryRecords.withTransactionalRecords(Compression.NONE, pid, epoch, 0,
                new org.apache.kafka.common.record.internal.SimpleRecord(1_000L, null, value.getBytes(StandardCharsets.UTF_8)))
                .buffer();
    }

    private static void writeState(LogStore store, TransactionCoordinator.Txn t) {
        if (store.describeTopic(TransactionCoordinator.TOPIC).isEmpty()) {
            store.createTopic(TransactionCoordinator.TOPIC, 1, java.util.Map.of("cleanup.policy", "compact"));
        }
        store.append(STATE, List.of(SimpleRecord.of(1L, t.id.getBytes(StandardCharsets.UTF_8),
                TransactionCoordinator.encode(t)))).join();
    }

    /** "x" with an open transaction on {@code tp} at the last epoch before a new producer id, and its batch. */
    private void openAtExhaustedEpoch(LogStore store, long startedMs) {
        store.createTopic("t", 1);
        long pid = store.allocateProducerId();
        short epoch = (short) (Short.MAX_VALUE - 1);
        TransactionCoordinator.Txn t = new TransactionCoordinator.Txn("x");
        t.producerId = pid;
        t.epoch = epoch;
        t.timeoutMs = 60_000;
        t.state = TransactionCoordinator.State.ONGOING;
        t.startedMs = startedMs;
        t.partitions.add(tp);
        writeState(store, t);
        store.appendBatch(tp, txnBatch(pid, epoch, "aborted")).join();
        assertThat(store.lastStableOffset(tp)).isZero();
    }

    @Test
    void reInitialisingAProducerAtAnExhaustedEpochShouldStillAbortItsOpenTransaction() {
        try (LogStore store = LocalStorage.open(dir)) {
            openAtExhaustedEpoch(store, System.currentTimeMillis());
            try (GroupCoordinator groups = new GroupCoordinator(ConsumerOffsets.open(store), 0, 100, 60_000, 20);
                    TransactionCoordinator c = new TransactionCoordinator(store, groups, Clock.systemUTC(), 60_000)) {
                TransactionCoordinator.Init init = c.initProducerId("x", 60_000, -1, (short) -1);
                assertThat(init.error()).isEqualTo(Errors.NONE);
                assertThat(init.epoch()).as("a new producer id starts at epoch 0").isZero();
                assertThat(store.lastStableOffset(tp)).as("the open transaction was aborted")
                        .isEqualTo(store.highWatermark(tp));
                assertThat(store.read(tp, 0, 1 << 20, IsolationLevel.READ_COMMITTED).recordList()).isEmpty();
            }
        }
    }

    @Test
    void aTimedOutTransactionAtAnExhaustedEpochShouldBeAbortedInItsPartitions() throws Exception {
        try (LogStore store = LocalStorage.open(dir)) {
            openAtExhaustedEpoch(store, 1L); // started long ago: past its timeout
            long pid = store.read(tp, 0, 1 << 20).batches().get(0).producerId();
            try (GroupCoordinator groups = new GroupCoordinator(ConsumerOffsets.open(store), 0, 100, 60_000, 20);
                    TransactionCoordinator c = new TransactionCoordinator(store, groups, Clock.systemUTC(), 10)) {
                long end = System.nanoTime() + 30_000_000_000L;
                while (c.state("x") != TransactionCoordinator.State.COMPLETE_ABORT && System.nanoTime() - end < 0) {
                    Thread.sleep(10);
                }
                assertThat(c.state("x")).isEqualTo(TransactionCoordinator.State.COMPLETE_ABORT);
                assertThat(store.lastStableOffset(tp)).as("the open transaction was aborted")
                        .isEqualTo(store.highWatermark(tp));
                assertThat(c.endTxn("x", pid, (short) (Short.MAX_VALUE - 1), true))
                        .as("a commit after the timeout abort, at the fenced epoch").isEqualTo(Errors.PRODUCER_FENCED);
            }
        }
    }

    @Test
    void aCorruptStateRecordShouldMakeTransactionsUnavailableNotTheBroker() {
        try (LogStore store = LocalStorage.open(dir)) {
            store.createTopic("t", 1);
            TransactionCoordinator.Txn t = new TransactionCoordinator.Txn("x");
            t.producerId = 1;
            t.timeoutMs = 60_000;
            writeState(store, t);
            byte[] bad = TransactionCoordinator.encode(t);
            bad[2 + 8 + 2 + 4] = 99; // the state byte
            store.append(STATE, List.of(SimpleRecord.of(1L, "y".getBytes(StandardCharsets.UTF_8), bad))).join();
            try (GroupCoordinator groups = new GroupCoordinator(ConsumerOffsets.open(store), 0, 100, 60_000, 20);
                    TransactionCoordinator c = new TransactionCoordinator(store, groups, Clock.systemUTC(), 60_000)) {
                assertThat(c.initProducerId("x", 60_000, -1, (short) -1).error()).isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE);
                assertThat(c.initProducerId("new", 60_000, -1, (short) -1).error())
                        .isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE);
                assertThat(c.addPartitions("x", 1, (short) 0, List.of(tp))).isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE);
                assertThat(c.endTxn("x", 1, (short) 0, true)).isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE);
                assertThat(c.appendVerified("x", MemoryRecords.readableRecords(txnBatch(1, (short) 0, "v")), tp,
                        () -> store.appendBatch(tp, txnBatch(1, (short) 0, "v"))).error()).isNotEqualTo(Errors.NONE);
                assertThat(store.highWatermark(tp)).as("nothing appended").isZero();
            }
        }
    }
}
