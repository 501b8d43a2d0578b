package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.AppendResult;
import io.shale.log.ErrorKind;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.internal.manifest.ProducerEntry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.junit.jupiter.api.Test;

/**
 * Idempotent producers in the engine: batches carrying a producer id, epoch and sequence, built by
 * Kafka's own client classes, checked as Kafka's broker checks them.
 */
class IdempotentProducerTest extends EngineFixture {
    private final TopicPartition tp = TopicPartition.of("t", 0);

    private StoreEngine store() {
        StoreEngine s = open();
        s.createTopic("t", 1);
        return s;
    }

    /** A batch of {@code records} records of producer {@code pid}, values "<pid>-<seq>". */
    private ByteBuffer batch(long pid, int epoch, int baseSeq, int records) {
        return batch(pid, epoch, baseSeq, records, clock.millis());
    }

    private static ByteBuffer batch(long pid, int epoch, int baseSeq, int records, long timestamp) {
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(1024), (byte) 2, Compression.NONE,
                TimestampType.CREATE_TIME, 0L, timestamp, pid, (short) epoch, baseSeq, false, -1);
        for (int i = 0; i < records; i++) {
            b.append(timestamp, null, (pid + "-" + (baseSeq + i)).getBytes(StandardCharsets.UTF_8));
        }
        return b.build().buffer();
    }

    private static AppendResult put(StoreEngine s, TopicPartition tp, ByteBuffer b) {
        return s.appendBatch(tp, b.duplicate()).join();
    }

    @Test
    void aRetriedBatchShouldGetItsOriginalOffsetsAndNotBeAppendedAgain() {
        StoreEngine s = store();
        AppendResult first = put(s, tp, batch(1, 0, 0, 3));
        append(s, tp, "plain");
        AppendResult retry = put(s, tp, batch(1, 0, 0, 3));
        assertThat(retry.baseOffset()).isEqualTo(first.baseOffset()).isZero();
        assertThat(retry.lastOffset()).isEqualTo(2);
        assertThat(s.highWatermark(tp)).isEqualTo(4);
        assertThat(readAll(s, tp)).containsExactly("1-0", "1-1", "1-2", "plain");
        // the next batch follows on
        assertThat(put(s, tp, batch(1, 0, 3, 2)).baseOffset()).isEqualTo(4);
        // a call whose second batch repeats an appended one is answered as that duplicate, as Kafka does,
        // and nothing of it is appended
        AppendResult mixed = put(s, tp, concat(batch(1, 0, 5, 1), batch(1, 0, 3, 2)));
        assertThat(mixed.baseOffset()).isEqualTo(4);
        assertThat(mixed.lastOffset()).isEqualTo(5);
        assertThat(s.highWatermark(tp)).isEqualTo(6);
    }

    @Test
    void anyOfTheLastFiveBatchesShouldBeRecognisedButNotAnOlderOne() {
        StoreEngine s = store();
        for (int seq = 0; seq < 6; seq++) {
            assertThat(put(s, tp, batch(1, 0, seq, 1)).baseOffset()).isEqualTo(seq);
        }
        for (int seq = 1; seq < 6; seq++) {
            assertThat(put(s, tp, batch(1, 0, seq, 1)).baseOffset()).as("retry of seq %d", seq).isEqualTo(seq);
        }
        // seq 0 left the window of five: Kafka answers OUT_OF_ORDER_SEQUENCE_NUMBER
        assertKind(() -> put(s, tp, batch(1, 0, 0, 1)), ErrorKind.OUT_OF_ORDER_SEQUENCE);
        // a batch with the same first sequence but another length is not a duplicate either
        assertKind(() -> put(s, tp, batch(1, 0, 5, 2)), ErrorKind.OUT_OF_ORDER_SEQUENCE);
        assertThat(s.highWatermark(tp)).isEqualTo(6);
    }

    @Test
    void aGapInSequencesShouldBeRejectedAndNothingOfTheCallAppended() {
        StoreEngine s = store();
        put(s, tp, batch(1, 0, 0, 2));
        assertKind(() -> put(s, tp, batch(1, 0, 3, 1)), ErrorKind.OUT_OF_ORDER_SEQUENCE);
        // two batches in one call, the second out of order: neither is appended
        ByteBuffer two = concat(batch(1, 0, 2, 1), batch(1, 0, 9, 1));
        assertKind(() -> put(s, tp, two), ErrorKind.OUT_OF_ORDER_SEQUENCE);
        assertThat(s.highWatermark(tp)).isEqualTo(2);
        // two in order in one call are both accepted
        assertThat(put(s, tp, concat(batch(1, 0, 2, 1), batch(1, 0, 3, 2))).lastOffset()).isEqualTo(4);
        assertThat(readAll(s, tp)).containsExactly("1-0", "1-1", "1-2", "1-3", "1-4");
    }

    @Test
    void epochsShouldBeCheckedAsKafkaDoes() {
        StoreEngine s = store();
        put(s, tp, batch(1, 1, 0, 1));
        assertKind(() -> put(s, tp, batch(1, 0, 1, 1)), ErrorKind.INVALID_PRODUCER_EPOCH);
        assertKind(() -> put(s, tp, batch(1, 0, 0, 1)), ErrorKind.INVALID_PRODUCER_EPOCH);
        // a new epoch must start at sequence 0
        assertKind(() -> put(s, tp, batch(1, 2, 1, 1)), ErrorKind.OUT_OF_ORDER_SEQUENCE);
        assertThat(put(s, tp, batch(1, 2, 0, 1)).baseOffset()).isEqualTo(1);
        // the old epoch's batch is forgotten: same sequences under epoch 1 are fenced, not duplicates
        assertKind(() -> put(s, tp, batch(1, 1, 0, 1)), ErrorKind.INVALID_PRODUCER_EPOCH);
        assertThat(s.highWatermark(tp)).isEqualTo(2);
    }

    @Test
    void anUnknownProducerShouldBeAcceptedAtAnySequenceAsKafka4Does() {
        StoreEngine s = store();
        assertThat(put(s, tp, batch(9, 0, 42, 2)).baseOffset()).isZero();
        assertThat(put(s, tp, batch(9, 0, 44, 1)).baseOffset()).isEqualTo(2);
        assertThat(put(s, tp, batch(9, 0, 42, 2)).baseOffset()).as("duplicate").isZero();
        // producers are independent, and so are partitions
        assertThat(put(s, tp, batch(10, 0, 0, 1)).baseOffset()).isEqualTo(3);
    }

    @Test
    void sequencesShouldWrapPastIntegerMaxValue() {
        StoreEngine s = store();
        put(s, tp, batch(1, 0, Integer.MAX_VALUE - 1, 2)); // last sequence MAX_VALUE
        assertThat(put(s, tp, batch(1, 0, 0, 1)).baseOffset()).isEqualTo(2);
        assertThat(put(s, tp, batch(1, 0, Integer.MAX_VALUE - 1, 2)).baseOffset()).as("duplicate").isZero();
    }

    @Test
    void aRetryOfABatchNotYetDurableShouldCompleteWithItWithTheSameOffsets() {
        StoreEngine s = store();
        wal.holdCompletions(true);
        CompletableFuture<AppendResult> original = s.appendBatch(tp, batch(1, 0, 0, 2));
        CompletableFuture<AppendResult> retry = s.appendBatch(tp, batch(1, 0, 0, 2));
        assertThat(retry).isNotDone();
        wal.holdCompletions(false);
        wal.releaseHeld();
        assertThat(retry.join().baseOffset()).isEqualTo(original.join().baseOffset()).isZero();
        assertThat(retry.join().lastOffset()).isEqualTo(1);
        assertThat(s.highWatermark(tp)).isEqualTo(2);
    }

    @Test
    void aFailedAppendShouldRollTheProducerStateBackSoTheRetryIsAppended() {
        StoreEngine s = store();
        put(s, tp, batch(1, 0, 0, 1));
        wal.holdCompletions(true);
        CompletableFuture<AppendResult> f1 = s.appendBatch(tp, batch(1, 0, 1, 1));
        CompletableFuture<AppendResult> retryOfF1 = s.appendBatch(tp, batch(1, 0, 1, 1));
        CompletableFuture<AppendResult> f2 = s.appendBatch(tp, batch(1, 0, 2, 1));
        CompletableFuture<AppendResult> other = s.appendBatch(tp, batch(2, 0, 0, 1)); // a new producer
        wal.holdCompletions(false);
        wal.releaseHeldFailing(Set.of(0));
        assertKind(f1::join, ErrorKind.UNAVAILABLE);
        assertKind(retryOfF1::join, ErrorKind.UNAVAILABLE);
        assertKind(f2::join, ErrorKind.UNAVAILABLE);
        assertKind(other::join, ErrorKind.UNAVAILABLE);
        // the state is back to "last sequence 0": the retries are appended, at the reused offsets
        assertThat(put(s, tp, batch(1, 0, 1, 1)).baseOffset()).isEqualTo(1);
        assertThat(put(s, tp, batch(1, 0, 2, 1)).baseOffset()).isEqualTo(2);
        // producer 2 is unknown again: its batch is appended, not answered as a duplicate of a lost one
        assertThat(put(s, tp, batch(2, 0, 0, 1)).baseOffset()).isEqualTo(3);
        assertThat(readAll(s, tp)).containsExactly("1-0", "1-1", "1-2", "2-0");
    }

    @Test
    void aSingleFailedAppendShouldRollTheProducerStateBack() {
        StoreEngine s = store();
        wal.failNext(1);
        assertKind(() -> put(s, tp, batch(1, 0, 0, 1)), ErrorKind.UNAVAILABLE);
        assertThat(put(s, tp, batch(1, 0, 0, 1)).baseOffset()).isZero();
        assertThat(s.highWatermark(tp)).isEqualTo(1);
    }

    @Test
    void stateShouldBeRebuiltFromTheWalAfterACrash() {
        StoreEngine s = store();
        put(s, tp, batch(1, 0, 0, 2));
        put(s, tp, batch(1, 0, 2, 1));
        s.crashForTesting();
        StoreEngine after = open();
        assertThat(put(after, tp, batch(1, 0, 2, 1)).baseOffset()).as("duplicate after replay").isEqualTo(2);
        assertThat(put(after, tp, batch(1, 0, 0, 2)).baseOffset()).as("duplicate after replay").isZero();
        assertKind(() -> put(after, tp, batch(1, 0, 7, 1)), ErrorKind.OUT_OF_ORDER_SEQUENCE);
        assertThat(put(after, tp, batch(1, 0, 3, 1)).baseOffset()).isEqualTo(3);
    }

    @Test
    void aRolledBackWalEntryReplacedByALaterOneShouldNotCountAfterRecovery() {
        StoreEngine s = store();
        put(s, tp, batch(1, 0, 0, 1));
        wal.failNextButKeep(1); // reaches the WAL, reported failed: rolled back, offsets reused
        assertKind(() -> put(s, tp, batch(1, 0, 1, 1)), ErrorKind.UNAVAILABLE);
        put(s, tp, batch(2, 0, 0, 1)); // takes offset 1
        s.crashForTesting();
        StoreEngine after = open();
        assertThat(readAll(after, tp)).containsExactly("1-0", "2-0");
        // producer 1's seq 1 was never appended: its retry is appended, not a duplicate
        assertThat(put(after, tp, batch(1, 0, 1, 1)).baseOffset()).isEqualTo(2);
        assertThat(put(after, tp, batch(2, 0, 0, 1)).baseOffset()).as("duplicate").isEqualTo(1);
    }

    @Test
    void stateShouldSurviveAnUploadTheWalTrimAndARestartThroughTheManifest() {
        StoreEngine s = open(Map.of(StoreConfig.MANIFEST_SNAPSHOT_DELTAS, 1));
        s.createTopic("t", 2);
        TopicPartition tp1 = TopicPartition.of("t", 1);
        put(s, tp, batch(1, 0, 0, 2));
        put(s, tp, batch(1, 0, 2, 3));
        put(s, tp1, batch(1, 0, 0, 1));
        s.flush();
        put(s, tp, batch(1, 0, 5, 1)); // only in the WAL
        assertThat(wal.durableEntries()).as("the flush trimmed the WAL below the last batch").isEqualTo(1);
        s.crashForTesting();
        StoreEngine after = open();
        PartitionLog p = after.partitionsById.values().stream().filter(q -> q.tp.equals(tp)).findFirst().orElseThrow();
        // the manifest had [0, 2] (a snapshot: one delta per snapshot), the replay added 5, and
        // recovery's own upload committed it
        assertThat(p.producerState(1L).batches()).extracting(ProducerEntry.Batch::firstSeq).containsExactly(0, 2, 5);
        assertThat(p.meta.producers().get(1L).batches()).extracting(ProducerEntry.Batch::firstSeq)
                .containsExactly(0, 2, 5);
        assertThat(put(after, tp, batch(1, 0, 5, 1)).baseOffset()).as("duplicate").isEqualTo(5);
        assertThat(put(after, tp, batch(1, 0, 2, 3)).baseOffset()).as("duplicate").isEqualTo(2);
        assertThat(put(after, tp1, batch(1, 0, 0, 1)).baseOffset()).as("duplicate").isZero();
        assertKind(() -> put(after, tp, batch(1, 0, 9, 1)), ErrorKind.OUT_OF_ORDER_SEQUENCE);
        assertThat(put(after, tp, batch(1, 0, 6, 1)).baseOffset()).isEqualTo(6);
        assertThat(after.highWatermark(tp)).isEqualTo(7);
    }

    @Test
    void stateCommittedToTheManifestShouldHoldOnlyCommittedBatches() {
        StoreEngine s = store();
        put(s, tp, batch(1, 0, 0, 1));
        s.flush();
        wal.holdCompletions(true);
        CompletableFuture<AppendResult> pending = s.appendBatch(tp, batch(1, 0, 1, 1));
        PartitionLog p = s.partitionsById.values().iterator().next();
        assertThat(p.meta.producers().get(1L).batches()).extracting(ProducerEntry.Batch::firstSeq).containsExactly(0);
        assertThat(p.producerState(1L).batches()).extracting(ProducerEntry.Batch::firstSeq).containsExactly(0, 1);
        wal.holdCompletions(false);
        wal.releaseHeld();
        pending.join();
    }

    @Test
    void idleProducersShouldExpireFromTheEngineAndTheManifest() {
        StoreEngine s = open(Map.of(StoreConfig.PRODUCER_ID_EXPIRATION_MS, 60_000));
        s.createTopic("t", 1);
        put(s, tp, batch(1, 0, 0, 1));
        put(s, tp, batch(2, 0, 0, 1));
        s.flush();
        PartitionLog p = s.partitionsById.values().iterator().next();
        assertThat(p.meta.producers()).containsOnlyKeys(1L, 2L);
        clock.advance(120_000);
        put(s, tp, batch(2, 0, 1, 1)); // producer 2 stays active
        s.flush();
        assertThat(p.meta.producers()).containsOnlyKeys(2L);
        assertThat(p.producerState(1L)).isNull();
        // producer 1 is unknown now: its old batch is appended again, as Kafka would after expiration
        assertThat(put(s, tp, batch(1, 0, 0, 1)).baseOffset()).isEqualTo(3);
        s.close();
        StoreEngine after = open();
        assertThat(put(after, tp, batch(2, 0, 1, 1)).baseOffset()).as("producer 2 kept").isEqualTo(2);
    }

    @Test
    void aProducerWritingOldTimestampsShouldKeepDuplicateDetection() {
        StoreEngine s = store();
        long old = clock.millis() - 30L * 24 * 3600 * 1000; // a month old: a mirror replaying history
        assertThat(put(s, tp, batch(1, 0, 0, 2, old)).baseOffset()).isZero();
        s.flush();
        assertThat(put(s, tp, batch(1, 0, 0, 2, old)).baseOffset()).as("duplicate").isZero();
        assertThat(s.highWatermark(tp)).isEqualTo(2);
    }

    @Test
    void producerIdsShouldBeUniqueAcrossRestartsAndTakeovers() {
        StoreEngine s = store();
        Set<Long> ids = new HashSet<>();
        for (int i = 0; i < 2500; i++) {
            assertThat(ids.add(s.allocateProducerId())).isTrue();
        }
        long max = ids.stream().mapToLong(Long::longValue).max().orElseThrow();
        s.crashForTesting(); // no clean close: a new writer takes over
        StoreEngine next = open();
        long id = next.allocateProducerId();
        assertThat(id).isGreaterThan(max).isNotNegative();
        next.close();
        StoreEngine third = open();
        assertThat(third.allocateProducerId()).isGreaterThan(id);
        assertKind(() -> openReadOnly().allocateProducerId(), ErrorKind.READ_ONLY);
    }

    @Test
    void plainBatchesShouldNotBeTrackedButTransactionalOnesShouldBeDeduplicatedAsInKafka() {
        StoreEngine s = store();
        append(s, tp, "a");
        append(s, tp, "a"); // plain appends are never duplicates
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(256), (byte) 2, Compression.NONE,
                TimestampType.CREATE_TIME, 0L, clock.millis(), 5L, (short) 0, 0, true, -1);
        b.append(clock.millis(), null, "tx".getBytes(StandardCharsets.UTF_8));
        ByteBuffer tx = b.build().buffer();
        assertThat(put(s, tp, tx).baseOffset()).isEqualTo(2);
        assertThat(put(s, tp, tx).baseOffset()).as("a retried transactional batch").isEqualTo(2);
        assertThat(s.highWatermark(tp)).isEqualTo(3);
    }

    private static ByteBuffer concat(ByteBuffer a, ByteBuffer b) {
        ByteBuffer out = ByteBuffer.allocate(a.remaining() + b.remaining());
        out.put(a.duplicate()).put(b.duplicate()).flip();
        return out;
    }
}
