package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.AbortedTransaction;
import io.shale.log.AppendResult;
import io.shale.log.ErrorKind;
import io.shale.log.FetchResult;
import io.shale.log.IsolationLevel;
import io.shale.log.LogStore;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.record.RecordBatch;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.Record;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Transactions in the engine: transactional batches built by Kafka's own client classes, markers
 * written with {@code writeTxnMarker} and read back with Kafka's {@code EndTransactionMarker}, the
 * last stable offset, aborted ranges, read_committed reads, and all of it after crashes and
 * restarts.
 */
class TransactionsTest extends EngineFixture {
    private final TopicPartition tp = TopicPartition.of("t", 0);

    private StoreEngine store() {
        return store(Map.of());
    }

    private StoreEngine store(Map<String, ?> settings) {
        StoreEngine s = open(settings);
        s.createTopic("t", 1);
        return s;
    }

    /** A transactional batch of producer {@code pid}, values "<pid>-<seq>". */
    private ByteBuffer txn(long pid, int epoch, int baseSeq, int records) {
        return batch(pid, epoch, baseSeq, records, true);
    }

    private ByteBuffer batch(long pid, int epoch, int baseSeq, int records, boolean transactional) {
        long ts = clock.millis();
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(1024), (byte) 2, Compression.NONE,
                TimestampType.CREATE_TIME, 0L, ts, pid, (short) epoch, baseSeq, transactional, -1);
        for (int i = 0; i < records; i++) {
            b.append(ts, null, (pid + "-" + (baseSeq + i)).getBytes(StandardCharsets.UTF_8));
        }
        return b.build().buffer();
    }

    private static AppendResult put(LogStore s, TopicPartition tp, ByteBuffer b) {
        return s.appendBatch(tp, b.duplicate()).join();
    }

    private static List<String> committed(LogStore s, TopicPartition tp, long from) {
        return values(s.read(tp, from, 1 << 20, IsolationLevel.READ_COMMITTED));
    }

    @Test
    void aTransactionShouldBeInvisibleToReadCommittedUntilItsCommitMarkerIsDurable() {
        StoreEngine s = store();
        append(s, tp, "plain-0");                               // 0
        put(s, tp, txn(7, 0, 0, 2));                            // 1, 2
        append(s, tp, "plain-3");                               // 3
        assertThat(s.lastStableOffset(tp)).isEqualTo(1);
        assertThat(s.highWatermark(tp)).isEqualTo(4);
        FetchResult f = s.read(tp, 0, 1 << 20, IsolationLevel.READ_COMMITTED);
        assertThat(values(f)).containsExactly("plain-0");
        assertThat(f.lastStableOffset()).isEqualTo(1);
        assertThat(f.nextOffset()).isEqualTo(1);
        assertThat(s.read(tp, 1, 1 << 20, IsolationLevel.READ_COMMITTED).isEmpty()).isTrue();
        assertThat(values(s.read(tp, 0, 1 << 20))).as("read_uncommitted sees it all")
                .containsExactly("plain-0", "7-0", "7-1", "plain-3");

        wal.holdCompletions(true);
        CompletableFuture<AppendResult> marker = s.writeTxnMarker(tp, 7, (short) 0, 3, true);
        assertThat(s.lastStableOffset(tp)).as("the marker is not durable yet").isEqualTo(1);
        wal.holdCompletions(false);
        wal.releaseHeld();
        assertThat(marker.join().baseOffset()).isEqualTo(4);
        assertThat(s.lastStableOffset(tp)).isEqualTo(5).isEqualTo(s.highWatermark(tp));
        FetchResult all = s.read(tp, 0, 1 << 20, IsolationLevel.READ_COMMITTED);
        assertThat(values(all)).as("control batches are skipped").containsExactly("plain-0", "7-0", "7-1", "plain-3");
        assertThat(all.abortedTransactions()).isEmpty();

        RecordBatch m = s.read(tp, 4, 1 << 20).batches().get(0);
        assertThat(m.isControlBatch()).isTrue();
        assertThat(m.isTransactional()).isTrue();
        assertThat(m.producerId()).isEqualTo(7);
        Record r = MemoryRecords.readableRecords(m.buffer()).records().iterator().next();
        assertThat(ControlRecordType.parse(r.key())).isEqualTo(ControlRecordType.COMMIT);
        EndTransactionMarker etm = EndTransactionMarker.deserialize(r);
        assertThat(etm.controlType()).isEqualTo(ControlRecordType.COMMIT);
        assertThat(etm.coordinatorEpoch()).isEqualTo(3);
    }

    @Test
    void anAbortedTransactionShouldBeListedAndItsRecordsSkipped() {
        StoreEngine s = store();
        put(s, tp, txn(8, 0, 0, 2));                            // 0, 1 (aborted later)
        put(s, tp, txn(9, 0, 0, 1));                            // 2 (committed later)
        append(s, tp, "plain-3");                               // 3
        put(s, tp, txn(8, 0, 2, 1));                            // 4
        assertThat(s.writeTxnMarker(tp, 8, (short) 0, 0, false).join().baseOffset()).isEqualTo(5);
        assertThat(s.lastStableOffset(tp)).as("producer 9 is still open").isEqualTo(2);
        assertThat(s.writeTxnMarker(tp, 9, (short) 0, 0, true).join().baseOffset()).isEqualTo(6);
        append(s, tp, "plain-7");
        assertThat(s.lastStableOffset(tp)).isEqualTo(8);

        FetchResult f = s.read(tp, 0, 1 << 20, IsolationLevel.READ_COMMITTED);
        assertThat(f.abortedTransactions()).containsExactly(new AbortedTransaction(8, 0, 5));
        assertThat(values(f)).containsExactly("9-0", "plain-3", "plain-7");
        assertThat(s.read(tp, 6, 1 << 20, IsolationLevel.READ_COMMITTED).abortedTransactions())
                .as("a range ending before the fetch offset is not listed").isEmpty();
        assertThat(s.read(tp, 0, 1 << 20).abortedTransactions()).as("read_uncommitted lists none").isEmpty();
        assertThat(values(s.read(tp, 0, 1 << 20))).contains("8-0", "8-1", "8-2");
    }

    @Test
    void markersShouldBeFencedByProducerEpochAndOldEpochsRefused() {
        StoreEngine s = store();
        put(s, tp, txn(5, 2, 0, 1));
        assertKind(() -> s.writeTxnMarker(tp, 5, (short) 1, 0, true).join(), ErrorKind.INVALID_PRODUCER_EPOCH);
        assertThat(s.lastStableOffset(tp)).as("the fenced marker changed nothing").isZero();
        // a coordinator that bumped the epoch aborts with the new epoch
        s.writeTxnMarker(tp, 5, (short) 3, 0, false).join();
        assertThat(s.lastStableOffset(tp)).isEqualTo(2);
        assertKind(() -> put(s, tp, txn(5, 1, 1, 1)), ErrorKind.INVALID_PRODUCER_EPOCH);
        assertKind(() -> s.writeTxnMarker(tp, -1, (short) 0, 0, true).join(), ErrorKind.INVALID_ARGUMENT);
    }

    @Test
    void aControlBatchFromAProducerShouldBeRefusedWithInvalidRecord() {
        StoreEngine s = store();
        ByteBuffer marker = MemoryRecords.withEndTransactionMarker(clock.millis(), 4L, (short) 0,
                new EndTransactionMarker(ControlRecordType.ABORT, 0)).buffer();
        assertKind(() -> put(s, tp, marker), ErrorKind.INVALID_RECORD);
        StoreEngine basic = open(Map.of(StoreConfig.APPEND_VALIDATION, "basic"));
        basic.createTopic("u", 1);
        assertKind(() -> put(basic, TopicPartition.of("u", 0), marker), ErrorKind.INVALID_RECORD);
        assertThat(s.highWatermark(tp)).isZero();
    }

    @Test
    void aMarkerRolledBackByAWalFailureShouldLeaveTheTransactionOpen() {
        StoreEngine s = store();
        put(s, tp, txn(3, 0, 0, 1));
        wal.failNext(1);
        assertKind(() -> s.writeTxnMarker(tp, 3, (short) 0, 0, false).join(), ErrorKind.UNAVAILABLE);
        assertThat(s.lastStableOffset(tp)).isZero();
        assertThat(s.ongoingTransaction(tp, 3)).isZero();
        s.writeTxnMarker(tp, 3, (short) 0, 0, false).join();
        assertThat(s.read(tp, 0, 1 << 20, IsolationLevel.READ_COMMITTED).abortedTransactions())
                .containsExactly(new AbortedTransaction(3, 0, 1));
    }

    @Test
    void openAndAbortedTransactionsShouldBeRebuiltFromTheWalAfterACrash() {
        StoreEngine s = store();
        put(s, tp, txn(1, 0, 0, 1));                            // 0 aborted
        put(s, tp, txn(2, 0, 0, 1));                            // 1 left open
        s.writeTxnMarker(tp, 1, (short) 0, 0, false).join();    // 2
        append(s, tp, "plain-3");
        s.crashForTesting();
        StoreEngine after = open();
        assertThat(after.lastStableOffset(tp)).isEqualTo(1);
        assertThat(after.ongoingTransaction(tp, 2)).isEqualTo(1);
        after.writeTxnMarker(tp, 2, (short) 0, 0, true).join();
        FetchResult f = after.read(tp, 0, 1 << 20, IsolationLevel.READ_COMMITTED);
        assertThat(f.abortedTransactions()).containsExactly(new AbortedTransaction(1, 0, 2));
        assertThat(values(f)).containsExactly("2-0", "plain-3");
    }

    @ParameterizedTest(name = "manifest.snapshot.deltas={0}")
    @ValueSource(ints = {1, 1000})
    void transactionStateShouldSurviveAnUploadTheWalTrimAndARestartThroughTheManifest(int deltasPerSnapshot) {
        {
            StoreEngine s = store(Map.of(StoreConfig.MANIFEST_SNAPSHOT_DELTAS, deltasPerSnapshot));
            put(s, tp, txn(1, 0, 0, 2));                        // 0, 1 aborted
            put(s, tp, txn(2, 0, 0, 1));                        // 2 open
            s.writeTxnMarker(tp, 1, (short) 0, 0, false).join(); // 3
            s.flush();
            put(s, tp, txn(4, 0, 0, 1));                        // 4 open, only in the WAL
            s.crashForTesting();
            StoreEngine after = open(Map.of(StoreConfig.MANIFEST_SNAPSHOT_DELTAS, deltasPerSnapshot));
            PartitionLog p = after.partitionsById.values().iterator().next();
            assertThat(p.meta.ongoingTransactions()).containsKeys(2L, 4L);
            assertThat(after.lastStableOffset(tp)).isEqualTo(2);
            assertThat(after.read(tp, 0, 1 << 20, IsolationLevel.READ_COMMITTED).abortedTransactions())
                    .containsExactly(new AbortedTransaction(1, 0, 3));
            after.writeTxnMarker(tp, 2, (short) 0, 0, true).join();
            after.writeTxnMarker(tp, 4, (short) 0, 0, false).join();
            after.flush();
            after.close();
            StoreEngine reader = openReadOnly();
            assertThat(reader.lastStableOffset(tp)).isEqualTo(reader.highWatermark(tp)).isEqualTo(7);
            FetchResult f = reader.read(tp, 0, 1 << 20, IsolationLevel.READ_COMMITTED);
            assertThat(f.abortedTransactions()).containsExactly(new AbortedTransaction(1, 0, 3),
                    new AbortedTransaction(4, 4, 6));
            assertThat(values(f)).containsExactly("2-0");
            StoreEngine third = open(Map.of(StoreConfig.MANIFEST_SNAPSHOT_DELTAS, deltasPerSnapshot));
            assertThat(values(third.read(tp, 0, 1 << 20, IsolationLevel.READ_COMMITTED))).containsExactly("2-0");
            third.close();
        }
    }

    @Test
    void abortedRangesShouldBeForgottenWhenTheLogStartPassesThem() {
        StoreEngine s = store();
        put(s, tp, txn(1, 0, 0, 1));                            // 0
        s.writeTxnMarker(tp, 1, (short) 0, 0, false).join();    // 1
        put(s, tp, txn(2, 0, 0, 1));                            // 2
        s.writeTxnMarker(tp, 2, (short) 0, 0, false).join();    // 3
        append(s, tp, "plain-4");
        s.flush();
        s.deleteRecordsBefore(tp, 2);
        assertThat(s.read(tp, 2, 1 << 20, IsolationLevel.READ_COMMITTED).abortedTransactions())
                .containsExactly(new AbortedTransaction(2, 2, 3));
        PartitionLog p = s.partitionsById.values().iterator().next();
        assertThat(p.meta.abortedTransactions()).containsExactly(new AbortedTransaction(2, 2, 3));
        s.close();
        StoreEngine after = open();
        assertThat(after.partitionsById.values().iterator().next().meta.abortedTransactions())
                .containsExactly(new AbortedTransaction(2, 2, 3));
    }

    @Test
    void aReadCommittedPollShouldWaitForTheMarker() {
        StoreEngine s = store();
        put(s, tp, txn(6, 0, 0, 1));
        CompletableFuture<FetchResult> poll = s.poll(tp, 0, 1 << 20, Duration.ofMinutes(5), IsolationLevel.READ_COMMITTED);
        append(s, tp, "plain-1");
        assertThat(poll).as("data above the last stable offset does not wake it").isNotDone();
        s.writeTxnMarker(tp, 6, (short) 0, 0, true).join();
        assertThat(values(poll.join())).containsExactly("6-0", "plain-1");
    }

    @Test
    void controlBatchesShouldNeverMatchATimestampLookup() {
        StoreEngine s = store();
        put(s, tp, txn(1, 0, 0, 1));
        long dataTs = clock.millis();
        clock.advance(10_000);
        s.writeTxnMarker(tp, 1, (short) 0, 0, true).join();     // at dataTs + 10 s
        assertThat(s.offsetForTimestamp(tp, dataTs + 5_000)).isEqualTo(Optional.empty());
        clock.advance(10_000);
        append(s, tp, "later");
        assertThat(s.offsetForTimestamp(tp, dataTs + 5_000).orElseThrow().offset()).isEqualTo(2);
    }
}
