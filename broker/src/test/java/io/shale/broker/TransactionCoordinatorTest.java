package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.CommittedOffset;
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
import java.util.Map;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The transaction coordinator on a real store: its answers, and a transaction half ended by a crash. */
class TransactionCoordinatorTest {
    @TempDir
    Path dir;

    private final TopicPartition tp = TopicPartition.of("t", 0);

    private static ByteBuffer txnBatch(long pid, short epoch, int seq, String value) {
        return MemoryRecords.withTransactionalRecords(Compression.NONE, pid, epoch, seq,
                new org.apache.kafka.common.record.internal.SimpleRecord(1_000L, null, value.getBytes(StandardCharsets.UTF_8)))
                .buffer();
    }

    @Test
    void answersShouldBeKafkas() {
        try (LogStore store = LocalStorage.open(dir);
                GroupCoordinator groups = new GroupCoordinator(ConsumerOffsets.open(store), 0, 100, 60_000, 20);
                TransactionCoordinator c = new TransactionCoordinator(store, groups, Clock.systemUTC(), 60_000)) {
            store.createTopic("t", 1);
            assertThat(c.initProducerId("x", 0, -1, (short) -1).error()).isEqualTo(Errors.INVALID_TRANSACTION_TIMEOUT);
            assertThat(c.initProducerId("x", TransactionCoordinator.MAX_TIMEOUT_MS + 1, -1, (short) -1).error())
                    .isEqualTo(Errors.INVALID_TRANSACTION_TIMEOUT);
            TransactionCoordinator.Init init = c.initProducerId("x", 60_000, -1, (short) -1);
            long pid = init.producerId();
            assertThat(c.addPartitions("y", pid, (short) 0, List.of(tp))).isEqualTo(Errors.INVALID_PRODUCER_ID_MAPPING);
            assertThat(c.endTxn("x", pid, (short) 0, true)).as("nothing open").isEqualTo(Errors.INVALID_TXN_STATE);
            assertThat(c.addPartitions("x", pid, (short) 0, List.of(tp))).isEqualTo(Errors.NONE);
            assertThat(c.commitOffsets("x", pid, (short) 0, "g", Map.of(tp, CommittedOffset.of(1))))
                    .as("offsets need AddOffsetsToTxn first").isEqualTo(Errors.INVALID_TXN_STATE);
            TransactionCoordinator.Init bumped = c.initProducerId("x", 60_000, -1, (short) -1);
            assertThat(bumped.producerId()).isEqualTo(pid);
            assertThat(bumped.epoch()).isEqualTo((short) 1);
            assertThat(c.state("x")).as("the open transaction was aborted").isEqualTo(TransactionCoordinator.State.COMPLETE_ABORT);
            assertThat(c.endTxn("x", pid, (short) 0, true)).as("the old epoch is fenced").isEqualTo(Errors.PRODUCER_FENCED);
            assertThat(c.addPartitions("x", pid, (short) 0, List.of(tp))).isEqualTo(Errors.PRODUCER_FENCED);
            assertThat(c.initProducerId("x", 60_000, pid, (short) 0).error()).as("a stale re-init")
                    .isEqualTo(Errors.PRODUCER_FENCED);
        }
    }

    @Test
    void aTransactionLeftPreparedByACrashShouldBeCompletedWhenTheCoordinatorStarts() {
        long pid;
        try (LogStore store = LocalStorage.open(dir);
                GroupCoordinator groups = new GroupCoordinator(ConsumerOffsets.open(store), 0, 100, 60_000, 20);
                TransactionCoordinator c = new TransactionCoordinator(store, groups, Clock.systemUTC(), 60_000)) {
            store.createTopic("t", 1);
            pid = c.initProducerId("x", 60_000, -1, (short) -1).producerId();
            assertThat(c.addPartitions("x", pid, (short) 0, List.of(tp))).isEqualTo(Errors.NONE);
            assertThat(c.addOffsets("x", pid, (short) 0, "g")).isEqualTo(Errors.NONE);
            assertThat(c.commitOffsets("x", pid, (short) 0, "g", Map.of(tp, CommittedOffset.of(7)))).isEqualTo(Errors.NONE);
            store.appendBatch(tp, txnBatch(pid, (short) 0, 0, "in-txn")).join();
            // the coordinator persisted PREPARE_COMMIT and crashed before writing any marker
            TransactionCoordinator.Txn prepared = new TransactionCoordinator.Txn("x");
            prepared.producerId = pid;
            prepared.epoch = 0;
            prepared.timeoutMs = 60_000;
            prepared.state = TransactionCoordinator.State.PREPARE_COMMIT;
            prepared.startedMs = 1;
            prepared.partitions.add(tp);
            prepared.offsets.put("g", new java.util.LinkedHashMap<>(Map.of(tp, CommittedOffset.of(7))));
            store.append(TopicPartition.of(TransactionCoordinator.TOPIC, 0), List.of(SimpleRecord.of(1L,
                    "x".getBytes(StandardCharsets.UTF_8), TransactionCoordinator.encode(prepared)))).join();
            assertThat(store.lastStableOffset(tp)).isZero();
            assertThat(groups.fetch("g")).isEmpty();
        }
        try (LogStore store = LocalStorage.open(dir);
                GroupCoordinator groups = new GroupCoordinator(ConsumerOffsets.open(store), 0, 100, 60_000, 20);
                TransactionCoordinator c = new TransactionCoordinator(store, groups, Clock.systemUTC(), 60_000)) {
            assertThat(c.state("x")).isEqualTo(TransactionCoordinator.State.COMPLETE_COMMIT);
            assertThat(store.lastStableOffset(tp)).isEqualTo(2).isEqualTo(store.highWatermark(tp));
            assertThat(store.read(tp, 0, 1 << 20, IsolationLevel.READ_COMMITTED).recordList()).hasSize(1);
            assertThat(groups.fetch("g").get(tp).offset()).as("the transaction's offsets are committed").isEqualTo(7);
            assertThat(c.initProducerId("x", 60_000, -1, (short) -1).epoch()).isEqualTo((short) 1);
        }
    }

    /** A clock the test moves. */
    private static final class ManualClock extends Clock {
        private volatile long millis = 1_700_000_000_000L;

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public java.time.Instant instant() {
            return java.time.Instant.ofEpochMilli(millis);
        }

        void advance(long ms) {
            millis += ms;
        }
    }

    @Test
    void idleTransactionalIdsShouldExpireDurablyAndOpenOnesShouldNot() {
        ManualClock clock = new ManualClock();
        long expiration = 60_000;
        long donePid;
        try (LogStore store = LocalStorage.open(dir);
                GroupCoordinator groups = new GroupCoordinator(ConsumerOffsets.open(store), 0, 100, 60_000, 20);
                TransactionCoordinator c = new TransactionCoordinator(store, groups, clock, 3_600_000, expiration)) {
            store.createTopic("t", 1);
            long openPid = c.initProducerId("open", 600_000, -1, (short) -1).producerId();
            assertThat(c.addPartitions("open", openPid, (short) 0, List.of(tp))).isEqualTo(Errors.NONE);
            donePid = c.initProducerId("done", 600_000, -1, (short) -1).producerId();
            assertThat(c.addPartitions("done", donePid, (short) 0, List.of(tp))).isEqualTo(Errors.NONE);
            assertThat(c.endTxn("done", donePid, (short) 0, true)).isEqualTo(Errors.NONE);
            c.initProducerId("never-used", 600_000, -1, (short) -1);

            clock.advance(expiration / 2);
            long touchedPid = c.initProducerId("touched", 600_000, -1, (short) -1).producerId();
            c.checkTimeouts();
            assertThat(c.state("done")).as("idle for less than the expiration").isEqualTo(TransactionCoordinator.State.COMPLETE_COMMIT);

            clock.advance(expiration / 2 + 1);
            c.checkTimeouts();
            assertThat(c.state("done")).as("idle longer than the expiration").isNull();
            assertThat(c.state("never-used")).isNull();
            assertThat(c.state("open")).as("a transaction is open (its timeout is 10 min)")
                    .isEqualTo(TransactionCoordinator.State.ONGOING);
            assertThat(c.state("touched")).as("written half an expiration ago").isEqualTo(TransactionCoordinator.State.EMPTY);
            assertThat(c.initProducerId("touched", 600_000, -1, (short) -1).producerId()).isEqualTo(touchedPid);
        }
        try (LogStore store = LocalStorage.open(dir);
                GroupCoordinator groups = new GroupCoordinator(ConsumerOffsets.open(store), 0, 100, 60_000, 20);
                TransactionCoordinator c = new TransactionCoordinator(store, groups, clock, 3_600_000, expiration)) {
            assertThat(c.state("done")).as("the expiry survives a restart").isNull();
            assertThat(c.state("never-used")).isNull();
            assertThat(c.state("open")).isEqualTo(TransactionCoordinator.State.ONGOING);
            TransactionCoordinator.Init fresh = c.initProducerId("done", 600_000, -1, (short) -1);
            assertThat(fresh.producerId()).as("an expired id starts afresh").isNotEqualTo(donePid);
            assertThat(fresh.epoch()).isZero();
        }
    }
}
