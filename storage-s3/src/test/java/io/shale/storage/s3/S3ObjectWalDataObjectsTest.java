package io.shale.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.AppendResult;
import io.shale.log.ErrorKind;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.record.Record;
import io.shale.log.ShaleException;
import io.shale.log.record.SimpleRecord;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ForwardingObjectStore;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.Payload;
import io.shale.log.wal.ObjectWriteAheadLog;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The object WAL writing data objects ({@link ObjectWriteAheadLog.Builder#dataObjects}) on S3
 * (S3Proxy): the WAL's objects are the store's first-level data objects; acknowledged data held only
 * in WAL objects survives an unclean restart and a second writer fencing the first.
 */
@ExtendWith(S3ProxyExtension.class)
class S3ObjectWalDataObjectsTest {
    private static final String BUCKET = "shale-walobj";
    private static S3ProxyServer s3;

    private final String prefix = "walobj-" + UUID.randomUUID() + "/";
    private final List<LogStore> opened = new ArrayList<>();
    private final List<ObjectStore> handles = new ArrayList<>();

    /** Nothing commits unless asked: data stays in WAL objects. */
    private static final Map<String, Object> HOLD = Map.of(
            StoreConfig.UPLOAD_INTERVAL_MS, 3_600_000,
            StoreConfig.UPLOAD_BYTES, 1L << 30,
            StoreConfig.COMPACTION_INTERVAL_MS, 3_600_000,
            StoreConfig.RETENTION_CHECK_INTERVAL_MS, 3_600_000,
            StoreConfig.ORPHAN_SCAN_INTERVAL_MS, 3_600_000,
            StoreConfig.OBJECT_DELETE_GRACE_MS, 0);

    @BeforeAll
    static void startServer(S3ProxyServer server) {
        s3 = server;
        s3.createBucket(BUCKET);
    }

    @AfterEach
    void closeAll() {
        for (int i = opened.size() - 1; i >= 0; i--) {
            try {
                opened.get(i).close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                // crashed or fenced: judged by the test
            }
        }
        handles.forEach(ObjectStore::close);
    }

    /** An object store whose process "dies": from {@link #cut} on, nothing reaches the bucket. */
    private static final class Cuttable extends ForwardingObjectStore {
        private volatile boolean cut;

        Cuttable(ObjectStore delegate) {
            super(delegate);
        }

        void cut() {
            cut = true;
        }

        private <T> CompletableFuture<T> dead(String key) {
            return CompletableFuture.failedFuture(new ObjectStoreException(ObjectStoreException.Reason.PERMANENT, key,
                    "the process is gone (test)"));
        }

        @Override
        public CompletableFuture<Void> put(String key, Payload payload, String token) {
            return cut ? dead(key) : super.put(key, payload, token);
        }

        @Override
        public CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) {
            return cut ? dead(key) : super.putIfAbsent(key, payload, token);
        }

        @Override
        public CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
            return cut ? dead(key) : super.get(key, offset, length);
        }

        @Override
        public CompletableFuture<Optional<ObjectInfo>> head(String key) {
            return cut ? dead(key) : super.head(key);
        }

        @Override
        public CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys) {
            return cut ? dead(prefix) : super.list(prefix, startAfter, maxKeys);
        }

        @Override
        public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
            return cut ? dead(null) : super.delete(keys);
        }
    }

    private ObjectStore rawStore() {
        ObjectStore s = S3ObjectStore.create(s3.options(BUCKET, prefix).build());
        handles.add(s);
        return s;
    }

    private LogStore openWriter(ObjectStore objects, Map<String, ?> config) {
        return openWriter(objects, config, true);
    }

    private LogStore openWriter(ObjectStore objects, Map<String, ?> config, boolean dataObjects) {
        LogStore s = LogStore.builder()
                .objectStore(objects)
                .wal(ObjectWriteAheadLog.builder().flushInterval(Duration.ofMillis(5)).dataObjects(dataObjects)
                        .closeTimeout(Duration.ofSeconds(5)).build())
                .config(config)
                .open();
        opened.add(s);
        return s;
    }

    private LogStore openReader() {
        LogStore s = LogStore.builder().objectStore(S3ObjectStore.create(s3.options(BUCKET, prefix).build()))
                .readOnly(true).open();
        opened.add(s);
        return s;
    }

    private List<String> keys(String family) {
        ObjectStore s = rawStore();
        List<String> out = new ArrayList<>();
        String after = null;
        while (true) {
            ListPage page = s.list(family, after, 1000).join();
            page.objects().forEach(o -> out.add(o.key()));
            if (page.isLast()) {
                return out;
            }
            after = page.nextStartAfter();
        }
    }

    private static List<String> readAll(LogStore s, TopicPartition tp) {
        List<String> out = new ArrayList<>();
        long offset = s.logStartOffset(tp);
        long end = s.highWatermark(tp);
        while (offset < end) {
            FetchResult f = s.read(tp, offset, 1 << 20);
            for (Record r : f.records()) {
                out.add(StandardCharsets.UTF_8.decode(r.value().duplicate()).toString());
            }
            offset = f.nextOffset();
        }
        return out;
    }

    private static List<CompletableFuture<AppendResult>> appendAll(LogStore s, String topic, int partitions, int from,
            int to) {
        List<CompletableFuture<AppendResult>> acks = new ArrayList<>();
        for (int i = from; i < to; i++) {
            acks.add(s.append(TopicPartition.of(topic, i % partitions), List.of(SimpleRecord.of("k", "v" + i))));
        }
        return acks;
    }

    private static List<String> expected(int partitions, int partition, int to) {
        List<String> out = new ArrayList<>();
        for (int i = partition; i < to; i += partitions) {
            out.add("v" + i);
        }
        return out;
    }

    @Test
    void walObjectsShouldBeTheDataObjectsAndReadBackAfterARestart() {
        LogStore s = openWriter(rawStore(), Map.of());
        s.createTopic("t", 4);
        appendAll(s, "t", 4, 0, 200).forEach(CompletableFuture::join);
        s.flush();
        assertThat(keys("data/")).as("nothing is uploaded twice: no data objects besides the WAL's").isEmpty();
        assertThat(keys("wal/")).isNotEmpty();
        s.close();
        LogStore reader = openReader();
        LogStore again = openWriter(rawStore(), Map.of());
        for (int p = 0; p < 4; p++) {
            TopicPartition tp = TopicPartition.of("t", p);
            assertThat(readAll(reader, tp)).isEqualTo(expected(4, p, 200));
            assertThat(readAll(again, tp)).isEqualTo(expected(4, p, 200));
        }
    }

    @Test
    void anUncleanRestartWithDataOnlyInWalObjectsShouldLoseNothingAcknowledged() {
        Cuttable first = new Cuttable(rawStore());
        LogStore a = openWriter(first, HOLD);
        a.createTopic("t", 3);
        appendAll(a, "t", 3, 0, 30).forEach(CompletableFuture::join);
        a.flush(); // committed as data objects
        appendAll(a, "t", 3, 30, 90).forEach(CompletableFuture::join); // acknowledged, only in WAL objects
        first.cut(); // the machine is gone
        LogStore b = openWriter(rawStore(), HOLD);
        for (int p = 0; p < 3; p++) {
            assertThat(readAll(b, TopicPartition.of("t", p))).isEqualTo(expected(3, p, 90));
        }
        b.flush();
        b.close();
        LogStore reader = openReader();
        for (int p = 0; p < 3; p++) {
            assertThat(readAll(reader, TopicPartition.of("t", p))).as("partition %d from the bucket", p)
                    .isEqualTo(expected(3, p, 90));
        }
    }

    @Test
    void aSecondWriterFencingTheFirstWhileItHoldsUncommittedWalObjectsShouldKeepEverythingReadable()
            throws Exception {
        LogStore a = openWriter(rawStore(), HOLD);
        a.createTopic("t", 2);
        appendAll(a, "t", 2, 0, 20).forEach(CompletableFuture::join);
        a.flush(); // WAL objects referenced by the manifest
        appendAll(a, "t", 2, 20, 60).forEach(CompletableFuture::join); // uncommitted WAL objects
        List<String> walBefore = keys("wal/");

        LogStore b = openWriter(rawStore(), HOLD); // fences a
        for (int p = 0; p < 2; p++) {
            assertThat(readAll(b, TopicPartition.of("t", p))).isEqualTo(expected(2, p, 60));
        }
        appendAll(b, "t", 2, 60, 80).forEach(CompletableFuture::join);
        b.flush();

        // the fenced writer finds out only now; nothing it does may remove what b references
        CompletableFuture<AppendResult> late = a.append(TopicPartition.of("t", 0), List.of(SimpleRecord.of("k", "late")));
        assertThatThrownBy(() -> late.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(ShaleException.class)
                .satisfies(e -> assertThat(((ShaleException) e.getCause()).kind()).isEqualTo(ErrorKind.FENCED));
        assertThatThrownBy(a::flush).isInstanceOf(ShaleException.class);
        a.close(Duration.ofSeconds(5));
        b.close();
        assertThat(keys("wal/")).as("the WAL objects a committed are still there")
                .containsAll(walBefore.subList(0, 1));

        LogStore reader = openReader();
        for (int p = 0; p < 2; p++) {
            assertThat(readAll(reader, TopicPartition.of("t", p))).as("partition %d from the bucket", p)
                    .isEqualTo(expected(2, p, 80));
        }
        LogStore c = openWriter(rawStore(), HOLD);
        for (int p = 0; p < 2; p++) {
            assertThat(readAll(c, TopicPartition.of("t", p))).isEqualTo(expected(2, p, 80));
        }
    }

    /**
     * Writer A's append lands in the bucket after writer B claimed the store and listed the WAL, so A
     * answers FENCED; B dies before trimming A's late object. Writer C must not replay what A
     * refused: B's claim record (under the WAL prefix) says which of A's objects B saw. Both WAL
     * layouts.
     */
    @ParameterizedTest(name = "dataObjects={0}")
    @ValueSource(booleans = {false, true})
    void anAppendRefusedWithFencedShouldNotReappearWhenTheSuccessorDiesBeforeTrimmingIt(boolean dataObjects)
            throws Exception {
        LogStore a = openWriter(rawStore(), HOLD, dataObjects);
        a.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        a.append(tp, List.of(SimpleRecord.of("k", "a0"))).get(30, TimeUnit.SECONDS); // only in the WAL
        Cuttable bStore = new Cuttable(rawStore());
        openWriter(bStore, HOLD, dataObjects); // B claims, lists the WAL, recovers a0
        List<String> walBefore = keys("wal/");
        CompletableFuture<AppendResult> late = a.append(tp, List.of(SimpleRecord.of("k", "late")));
        assertThatThrownBy(() -> late.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(ShaleException.class)
                .satisfies(e -> assertThat(((ShaleException) e.getCause()).kind()).isEqualTo(ErrorKind.FENCED));
        List<String> lateObjects = new ArrayList<>(keys("wal/0"));
        lateObjects.removeAll(walBefore);
        assertThat(lateObjects).as("A's refused object is in the bucket").hasSize(1);
        bStore.cut(); // B dies without trimming A's late object
        a.close(Duration.ofSeconds(5));
        LogStore c = openWriter(rawStore(), HOLD, dataObjects);
        assertThat(readAll(c, tp)).as("the append A refused with FENCED").containsExactly("a0");
        c.append(tp, List.of(SimpleRecord.of("k", "c1"))).get(30, TimeUnit.SECONDS);
        c.flush();
        c.close();
        LogStore reader = openReader();
        assertThat(readAll(reader, tp)).containsExactly("a0", "c1");
        assertThat(keys("wal/")).as("C's trim deleted the refused object").doesNotContainAnyElementsOf(lateObjects);
    }
}
