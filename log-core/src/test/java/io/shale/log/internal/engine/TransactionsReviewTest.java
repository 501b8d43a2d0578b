package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.AbortedTransaction;
import io.shale.log.FetchResult;
import io.shale.log.IsolationLevel;
import io.shale.log.LogStore;
import io.shale.log.TopicPartition;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.junit.jupiter.api.Test;

/** Transactions in ordinary operations: stray markers, interleaved producers, the log start, restarts. */
class TransactionsReviewTest extends EngineFixture {
    private final TopicPartition tp = TopicPartition.of("t", 0);

    private StoreEngine store() {
        StoreEngine s = open(Map.of());
        s.createTopic("t", 1);
        return s;
    }

    private ByteBuffer txn(long pid, int baseSeq, int records) {
        long ts = clock.millis();
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(1024), (byte) 2, Compression.NONE,
                TimestampType.CREATE_TIME, 0L, ts, pid, (short) 0, baseSeq, true, -1);
        for (int i = 0; i < records; i++) {
            b.append(ts, null, (pid + "-" + (baseSeq + i)).getBytes(StandardCharsets.UTF_8));
        }
        return b.build().buffer();
    }

    private static void put(LogStore s, TopicPartition tp, ByteBuffer b) {
        s.appendBatch(tp, b.duplicate()).join();
    }

    private static List<String> committed(LogStore s, TopicPartition tp, long from) {
        return values(s.read(tp, from, 1 << 20, IsolationLevel.READ_COMMITTED));
    }

    @Test
    void aMarkerForAProducerWithNoOpenTransactionShouldChangeNothingVisible() {
        StoreEngine s = store();
        append(s, tp, "plain-0");
        s.writeTxnMarker(tp, 42, (short) 0, 0, false).join();  // 1: no transaction of 42 is open
        append(s, tp, "plain-2");
        assertThat(s.lastStableOffset(tp)).isEqualTo(s.highWatermark(tp)).isEqualTo(3);
        FetchResult f = s.read(tp, 0, 1 << 20, IsolationLevel.READ_COMMITTED);
        assertThat(f.abortedTransactions()).isEmpty();
        assertThat(values(f)).containsExactly("plain-0", "plain-2");
    }

    @Test
    void interleavedProducersOneAbortedOneCommittedOneOpen() {
        StoreEngine s = store();
        put(s, tp, txn(1, 0, 1));                               // 0 (aborted)
        put(s, tp, txn(2, 0, 1));                               // 1 (committed)
        put(s, tp, txn(1, 1, 1));                               // 2 (aborted)
        append(s, tp, "plain-3");                               // 3
        s.writeTxnMarker(tp, 1, (short) 0, 0, false).join();    // 4
        assertThat(s.lastStableOffset(tp)).isEqualTo(1);
        put(s, tp, txn(3, 0, 1));                               // 5 (open)
        put(s, tp, txn(2, 1, 1));                               // 6 (committed)
        s.writeTxnMarker(tp, 2, (short) 0, 0, true).join();     // 7
        assertThat(s.lastStableOffset(tp)).isEqualTo(5);
        FetchResult f = s.read(tp, 0, 1 << 20, IsolationLevel.READ_COMMITTED);
        assertThat(f.nextOffset()).isEqualTo(5);
        assertThat(f.abortedTransactions()).containsExactly(new AbortedTransaction(1, 0, 4));
        assertThat(values(f)).containsExactly("2-0", "plain-3");
        // a read starting inside the aborted transaction
        assertThat(committed(s, tp, 2)).containsExactly("plain-3");
        s.writeTxnMarker(tp, 3, (short) 0, 0, false).join();    // 8
        assertThat(committed(s, tp, 0)).containsExactly("2-0", "plain-3", "2-1");
        // one batch per fetch: every fetch ends inside or at the edge of a transaction
        java.util.List<String> oneByOne = new java.util.ArrayList<>();
        for (long o = 0; o < s.lastStableOffset(tp); ) {
            FetchResult one = s.read(tp, o, 1, IsolationLevel.READ_COMMITTED);
            assertThat(one.batches()).hasSize(1);
            oneByOne.addAll(values(one));
            o = one.nextOffset();
        }
        assertThat(oneByOne).containsExactly("2-0", "plain-3", "2-1");
        assertThat(s.read(tp, 0, 1 << 20, IsolationLevel.READ_COMMITTED).abortedTransactions())
                .containsExactly(new AbortedTransaction(1, 0, 4), new AbortedTransaction(3, 5, 8));
    }

    @Test
    void anAbortedTransactionSpanningAnUploadAndARestartShouldStayExactlyAborted() {
        StoreEngine s = store();
        put(s, tp, txn(1, 0, 2));                               // 0, 1
        put(s, tp, txn(2, 0, 1));                               // 2 (stays open)
        s.flush();                                              // both open in the manifest
        put(s, tp, txn(1, 2, 1));                               // 3
        s.writeTxnMarker(tp, 1, (short) 0, 0, false).join();    // 4, only in the WAL
        s.crashForTesting();
        StoreEngine after = open();
        assertThat(after.lastStableOffset(tp)).isEqualTo(2);
        assertThat(after.ongoingTransaction(tp, 1)).isEqualTo(-1);
        assertThat(after.ongoingTransaction(tp, 2)).isEqualTo(2);
        assertThat(after.read(tp, 0, 1 << 20, IsolationLevel.READ_COMMITTED).abortedTransactions())
                .containsExactly(new AbortedTransaction(1, 0, 4));
        after.flush();                                          // the WAL is trimmed
        after.close();
        StoreEngine third = open();
        PartitionLog p = third.partitionsById.values().iterator().next();
        assertThat(p.meta.ongoingTransactions()).isEqualTo(Map.of(2L, 2L));
        assertThat(p.meta.abortedTransactions()).containsExactly(new AbortedTransaction(1, 0, 4));
        third.writeTxnMarker(tp, 2, (short) 0, 0, true).join(); // 5
        assertThat(committed(third, tp, 0)).containsExactly("2-0");
    }

    @Test
    void theLastStableOffsetShouldNotFallBelowTheLogStart() {
        StoreEngine s = store();
        append(s, tp, "plain-0");
        put(s, tp, txn(1, 0, 3));                               // 1..3, open
        append(s, tp, "plain-4");
        s.flush();
        s.deleteRecordsBefore(tp, 2);                           // into the open transaction
        assertThat(s.logStartOffset(tp)).isEqualTo(2);
        assertThat(s.lastStableOffset(tp)).as("Kafka: the first unstable offset is at least the log start")
                .isEqualTo(2);
        FetchResult f = s.read(tp, 2, 1 << 20, IsolationLevel.READ_COMMITTED);
        assertThat(f.lastStableOffset()).isGreaterThanOrEqualTo(f.logStartOffset());
        s.close();                                              // the manifest holds the open transaction at 1
        StoreEngine after = open();
        assertThat(after.lastStableOffset(tp)).isEqualTo(2);
        assertThat(openReadOnly().lastStableOffset(tp)).as("a reader of the manifest").isEqualTo(2);
        after.writeTxnMarker(tp, 1, (short) 0, 0, false).join(); // 5
        assertThat(committed(after, tp, 2)).containsExactly("plain-4");
        assertThat(after.read(tp, 2, 1 << 20, IsolationLevel.READ_COMMITTED).abortedTransactions())
                .containsExactly(new AbortedTransaction(1, 1, 5));
    }

    @Test
    void aMarkerQueuedBehindAFailingAppendOfItsProducerShouldLeaveAConsistentState() {
        StoreEngine s = store();
        put(s, tp, txn(5, 0, 1));                               // 0, durable
        wal.holdCompletions(true);
        var data = s.appendBatch(tp, txn(5, 1, 1).duplicate());  // 1
        var marker = s.writeTxnMarker(tp, 5, (short) 0, 0, false); // 2
        wal.holdCompletions(false);
        wal.releaseHeldFailing(java.util.Set.of(0));            // the data batch's WAL write fails
        assertThat(data).isCompletedExceptionally();
        boolean markerLanded = !marker.isCompletedExceptionally();
        if (markerLanded) {
            assertThat(s.ongoingTransaction(tp, 5)).isEqualTo(-1);
            assertThat(s.lastStableOffset(tp)).isEqualTo(s.highWatermark(tp));
        } else {
            assertThat(s.ongoingTransaction(tp, 5)).as("rolled back with it: still open").isZero();
            assertThat(s.lastStableOffset(tp)).isZero();
            s.writeTxnMarker(tp, 5, (short) 0, 0, false).join();
        }
        FetchResult f = s.read(tp, 0, 1 << 20, IsolationLevel.READ_COMMITTED);
        assertThat(f.abortedTransactions()).hasSize(1);
        assertThat(f.abortedTransactions().get(0).firstOffset()).isZero();
        assertThat(values(f)).isEmpty();
        s.crashForTesting();
        StoreEngine after = open();
        assertThat(after.ongoingTransaction(tp, 5)).isEqualTo(-1);
        assertThat(after.lastStableOffset(tp)).isEqualTo(after.highWatermark(tp));
        assertThat(values(after.read(tp, 0, 1 << 20, IsolationLevel.READ_COMMITTED))).isEmpty();
    }
}
