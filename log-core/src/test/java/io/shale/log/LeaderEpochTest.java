package io.shale.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.record.RecordBatch;
import io.shale.log.record.SimpleRecord;
import io.shale.log.testing.InMemoryObjectStore;
import io.shale.log.testing.InMemoryWal;
import io.shale.log.testing.SharedObjectStore;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every appended batch carries the store's leader epoch (its writer epoch); a reopened store has a higher one. */
class LeaderEpochTest {
    private static final TopicPartition TP = TopicPartition.of("t", 0);
    private static final Map<String, Object> QUIET = Map.of(
            StoreConfig.UPLOAD_INTERVAL_MS, 3_600_000,
            StoreConfig.RETENTION_CHECK_INTERVAL_MS, 3_600_000,
            StoreConfig.COMPACTION_INTERVAL_MS, 3_600_000,
            StoreConfig.ORPHAN_SCAN_INTERVAL_MS, 3_600_000);

    private final InMemoryObjectStore objects = new InMemoryObjectStore();
    private final InMemoryWal wal = new InMemoryWal();

    private LogStore open() {
        return LogStore.builder().objectStore(new SharedObjectStore(objects)).wal(wal).config(QUIET).open();
    }

    private static SimpleRecord rec(String v) {
        return SimpleRecord.of(null, v.getBytes(StandardCharsets.UTF_8));
    }

    private static List<RecordBatch> batches(LogStore s) {
        List<RecordBatch> out = new ArrayList<>();
        long offset = s.logStartOffset(TP);
        while (offset < s.highWatermark(TP)) {
            FetchResult r = s.read(TP, offset, 1 << 20);
            out.addAll(r.batches());
            offset = r.nextOffset();
        }
        return out;
    }

    @Test
    void batchesCarryTheWriterEpochOfTheInstanceThatAppendedThem() {
        int first;
        try (LogStore s = open()) {
            first = s.leaderEpoch();
            assertThat(first).isPositive();
            s.createTopic("t", 1);
            s.append(TP, List.of(rec("a"), rec("b"))).join();
            s.append(TP, List.of(rec("c"))).join();
            assertThat(batches(s)).extracting(RecordBatch::partitionLeaderEpoch).containsExactly(first, first);
        }
        try (LogStore s = open()) {
            int second = s.leaderEpoch();
            assertThat(second).isGreaterThan(first);
            // a batch built by a producer (epoch -1) gets the store's epoch, and its CRC stays valid
            java.nio.ByteBuffer produced = new io.shale.log.record.RecordBatchBuilder()
                    .append(System.currentTimeMillis(), null, java.nio.ByteBuffer.wrap(new byte[] {'d'}), List.of()).build();
            assertThat(RecordBatch.wrap(produced.duplicate()).partitionLeaderEpoch()).isEqualTo(-1);
            s.appendBatch(TP, produced).join();
            s.append(TP, List.of(rec("e"))).join();
            List<RecordBatch> all = batches(s);
            assertThat(all).extracting(RecordBatch::partitionLeaderEpoch).containsExactly(first, first, second, second);
            assertThat(all).allMatch(RecordBatch::isValid);
            assertThat(all).extracting(RecordBatch::baseOffset).containsExactly(0L, 2L, 3L, 4L);
        }
        try (LogStore reader = LogStore.builder().objectStore(new SharedObjectStore(objects)).readOnly(true).open()) {
            assertThat(reader.leaderEpoch()).isGreaterThan(first);
        }
        LogStore closed = open();
        closed.close();
        assertThatThrownBy(closed::leaderEpoch).isInstanceOf(ShaleException.class);
    }
}
