package io.shale.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.record.Record;
import io.shale.log.record.SimpleRecord;
import io.shale.log.testing.InMemoryObjectStore;
import io.shale.log.testing.InMemoryWal;
import io.shale.log.testing.SharedObjectStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ConsumerOffsetsTest {
    private static final Map<String, Object> QUIET = Map.of(
            StoreConfig.UPLOAD_INTERVAL_MS, 3_600_000,
            StoreConfig.RETENTION_CHECK_INTERVAL_MS, 3_600_000,
            StoreConfig.COMPACTION_INTERVAL_MS, 3_600_000,
            StoreConfig.ORPHAN_SCAN_INTERVAL_MS, 3_600_000,
            StoreConfig.OBJECT_DELETE_GRACE_MS, 3_600_000);

    private final InMemoryObjectStore objects = new InMemoryObjectStore();
    private final InMemoryWal wal = new InMemoryWal();
    private final List<LogStore> opened = new ArrayList<>();

    private static final TopicPartition A0 = TopicPartition.of("a", 0);
    private static final TopicPartition A1 = TopicPartition.of("a", 1);
    private static final TopicPartition B0 = TopicPartition.of("b", 0);

    private LogStore open() {
        LogStore s = LogStore.builder().objectStore(new SharedObjectStore(objects)).wal(wal).config(QUIET).open();
        opened.add(s);
        return s;
    }

    @AfterEach
    void closeAll() {
        for (LogStore s : opened) {
            s.close();
        }
    }

    @Test
    void commitsAreFetchedPerGroupAndPartition() {
        ConsumerOffsets o = ConsumerOffsets.open(open());
        assertThat(o.groups()).isEmpty();
        assertThat(o.fetch("g1")).isEmpty();
        o.commit("g1", Map.of(A0, CommittedOffset.of(5), A1, CommittedOffset.of(7, "meta", 3))).join();
        o.commit("g2", Map.of(A0, CommittedOffset.of(1))).join();
        o.commit("g1", Map.of(A0, CommittedOffset.of(6))).join();

        Map<TopicPartition, CommittedOffset> g1 = o.fetch("g1");
        assertThat(g1).containsOnlyKeys(A0, A1);
        assertThat(g1.get(A0).offset()).isEqualTo(6);
        assertThat(g1.get(A1).offset()).isEqualTo(7);
        assertThat(g1.get(A1).metadata()).isEqualTo("meta");
        assertThat(g1.get(A1).leaderEpoch()).isEqualTo(OptionalInt.of(3));
        assertThat(g1.get(A1).commitTimestamp()).isPositive();
        assertThat(o.fetch("g2", List.of(A0, B0))).containsOnlyKeys(A0);
        assertThat(o.groups()).containsExactly("g1", "g2");
        assertThat(o.commit("g1", Map.of())).isCompleted();
        assertThat(o.committedOffsets()).isEqualTo(Map.of("g1", Map.of(A0, 6L, A1, 7L), "g2", Map.of(A0, 1L)));
    }

    /**
     * UTF-8 has no encoding for an unpaired surrogate: the commit was acknowledged, stored under
     * "x?", and no fetch of the group the caller named found it. Such names are refused now, and
     * nothing is written; a paired surrogate (an emoji) is fine.
     */
    @Test
    void aGroupOrTopicWithAnUnpairedSurrogateIsRefusedAndAnEmojiIsKept() {
        LogStore s = open();
        ConsumerOffsets o = ConsumerOffsets.open(s);
        assertThatThrownBy(() -> o.commit("x\uD800", Map.of(A0, CommittedOffset.of(5))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("group id has an unpaired surrogate");
        TopicPartition odd = TopicPartition.of("t\uDC00", 0);
        assertThatThrownBy(() -> o.commit("g", Map.of(odd, CommittedOffset.of(5))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("topic name has an unpaired surrogate");
        assertThat(o.groups()).isEmpty();

        o.commit("grüße-\uD83D\uDE00", Map.of(A0, CommittedOffset.of(7))).join();
        assertThat(ConsumerOffsets.open(s).fetch("grüße-\uD83D\uDE00").get(A0).offset()).isEqualTo(7);
        s.close();
        assertThat(ConsumerOffsets.open(open()).fetch("grüße-\uD83D\uDE00").get(A0).offset()).isEqualTo(7);
    }

    @Test
    void openingTwiceOnOneStoreSharesTheInstanceSoNoCommitIsMissed() {
        LogStore store = open();
        ConsumerOffsets first = ConsumerOffsets.open(store);
        ConsumerOffsets second = ConsumerOffsets.open(store);
        first.commit("g", Map.of(A0, CommittedOffset.of(9))).join();
        assertThat(second.fetch("g")).containsKey(A0);
        assertThat(second.fetch("g").get(A0).offset()).isEqualTo(9);
        second.deleteGroup("g").join();
        assertThat(first.groups()).doesNotContain("g");
    }

    @Test
    void positionsSurviveCloseAndReopenIncludingDeletes() {
        LogStore s = open();
        ConsumerOffsets o = ConsumerOffsets.open(s);
        for (int i = 0; i < 50; i++) {
            o.commit("g1", Map.of(A0, CommittedOffset.of(i), A1, CommittedOffset.of(100 + i, "m" + i, i))).join();
        }
        o.commit("g2", Map.of(B0, CommittedOffset.of(9))).join();
        o.commit("g3", Map.of(B0, CommittedOffset.of(4), A0, CommittedOffset.of(2))).join();
        o.delete("g1", List.of(A0)).join();
        o.deleteGroup("g3").join();
        s.flush();
        s.close();

        ConsumerOffsets again = ConsumerOffsets.open(open());
        assertThat(again.groups()).containsExactly("g1", "g2");
        assertThat(again.fetch("g1")).containsOnlyKeys(A1);
        CommittedOffset a1 = again.fetch("g1").get(A1);
        assertThat(a1.offset()).isEqualTo(149);
        assertThat(a1.metadata()).isEqualTo("m49");
        assertThat(a1.leaderEpoch()).isEqualTo(OptionalInt.of(49));
        assertThat(again.fetch("g2").get(B0).offset()).isEqualTo(9);
        assertThat(again.fetch("g3")).isEmpty();
    }

    @Test
    void theInternalTopicIsCompactedAndDeletesAreTombstones() {
        LogStore s = open();
        ConsumerOffsets o = ConsumerOffsets.open(s);
        assertThat(s.listTopics()).as("created by the first commit").doesNotContain(ConsumerOffsets.TOPIC);
        o.commit("g", Map.of(A0, CommittedOffset.of(1))).join();
        TopicDescription d = s.describeTopic(ConsumerOffsets.TOPIC).orElseThrow();
        assertThat(d.config().cleanupPolicy()).isEqualTo(TopicConfig.CleanupPolicy.COMPACT);
        o.delete("g", List.of(A0)).join();
        List<Record> recs = s.read(TopicPartition.of(ConsumerOffsets.TOPIC, 0), 0, 1 << 20).recordList();
        assertThat(recs).hasSize(2);
        assertThat(recs.get(0).value()).isNotNull();
        assertThat(recs.get(1).value()).isNull();
        assertThat(recs.get(0).key()).isEqualTo(recs.get(1).key());
        assertThat(o.groups()).isEmpty();
    }

    @Test
    void aReadOnlyStoreWithoutTheTopicHasNoPositionsAndCommitsFail() {
        open().close();
        LogStore ro = LogStore.builder().objectStore(new SharedObjectStore(objects)).readOnly(true).config(QUIET).open();
        opened.add(ro);
        ConsumerOffsets o = ConsumerOffsets.open(ro);
        assertThat(o.groups()).isEmpty();
        assertThatThrownBy(() -> o.commit("g", Map.of(A0, CommittedOffset.of(1))).join())
                .isInstanceOf(CompletionException.class).hasCauseInstanceOf(ShaleException.class);
    }

    @Test
    void foreignRecordsInTheTopicAreReportedAsCorruptStorage() {
        LogStore s = open();
        ConsumerOffsets.open(s).commit("g", Map.of(A0, CommittedOffset.of(1))).join();
        s.append(TopicPartition.of(ConsumerOffsets.TOPIC, 0), List.of(SimpleRecord.of("x", "y"))).join();
        s.close();
        LogStore reopened = open(); // a new store instance: its positions are read from the topic
        assertThatThrownBy(() -> ConsumerOffsets.open(reopened)).isInstanceOf(ShaleException.class)
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE))
                .hasMessageContaining(ConsumerOffsets.TOPIC);
    }

    @Test
    void badInputIsRefusedNamingWhatWasWrong() {
        ConsumerOffsets o = ConsumerOffsets.open(open());
        assertThatThrownBy(() -> o.commit("", Map.of(A0, CommittedOffset.of(1))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("group id");
        assertThatThrownBy(() -> o.commit(null, Map.of())).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("group");
        assertThatThrownBy(() -> CommittedOffset.of(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-1");
        Map<TopicPartition, CommittedOffset> withNull = new HashMap<>();
        withNull.put(A0, null);
        assertThatThrownBy(() -> o.commit("g", withNull)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("a-0");
        assertThatThrownBy(() -> ConsumerOffsets.open(null)).isInstanceOf(NullPointerException.class);
        assertThat(o.groups()).isEmpty();
    }

    @Test
    void compactionKeepsTheNewestPositionOfEachKey() throws Exception {
        Map<String, Object> cfg = new HashMap<>(QUIET);
        cfg.put(StoreConfig.COMPACTION_INTERVAL_MS, 50);
        LogStore s = LogStore.builder().objectStore(new SharedObjectStore(objects)).wal(wal).config(cfg).open();
        opened.add(s);
        // the topic as ConsumerOffsets creates it, made eager to clean for the test
        s.createTopic(ConsumerOffsets.TOPIC, 1, Map.of(TopicConfig.CLEANUP_POLICY, "compact",
                TopicConfig.MIN_CLEANABLE_DIRTY_RATIO, "0.01", TopicConfig.DELETE_RETENTION_MS, 0));
        ConsumerOffsets o = ConsumerOffsets.open(s);
        for (int i = 0; i < 100; i++) {
            o.commit("g", Map.of(A0, CommittedOffset.of(i), A1, CommittedOffset.of(1000 + i))).join();
        }
        o.commit("gone", Map.of(B0, CommittedOffset.of(5))).join();
        o.deleteGroup("gone").join();
        s.flush();
        TopicPartition internal = TopicPartition.of(ConsumerOffsets.TOPIC, 0);
        long deadline = System.nanoTime() + 30_000_000_000L;
        int left;
        do {
            assertThat(System.nanoTime()).as("compaction did not run in time").isLessThan(deadline);
            Thread.sleep(50);
            left = 0;
            long off = s.logStartOffset(internal);
            while (off < s.highWatermark(internal)) {
                FetchResult r = s.read(internal, off, 1 << 20);
                if (r.isEmpty()) {
                    break;
                }
                left += r.recordList().size();
                off = r.nextOffset();
            }
        } while (left > 3);
        s.close();
        ConsumerOffsets again = ConsumerOffsets.open(open());
        assertThat(again.committedOffsets()).isEqualTo(Map.of("g", Map.of(A0, 99L, A1, 1099L)));
    }
}
