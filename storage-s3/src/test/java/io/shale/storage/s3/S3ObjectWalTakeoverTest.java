package io.shale.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.record.RecordBatchBuilder;
import io.shale.log.record.SimpleRecord;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.Payload;
import io.shale.log.spi.WalContext;
import io.shale.log.spi.WalEntry;
import io.shale.log.wal.ObjectWalReader;
import io.shale.log.wal.ObjectWriteAheadLog;
import io.shale.log.wal.WalCommittedOffsets;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A cluster takeover's side of the object WAL on S3 (S3Proxy): node Y reads dead node X's WAL
 * ({@link ObjectWalReader}) through its own client, gets exactly X's acknowledged entries of the
 * partitions it took over above their committed ends, and changes nothing in the bucket; X's WAL
 * keeps an object while a partition in it is not committed past it ({@link WalCommittedOffsets}).
 */
@ExtendWith(S3ProxyExtension.class)
class S3ObjectWalTakeoverTest {
    private static final String BUCKET = "shale-takeover";
    private static final String WAL = "nodes/x/wal/";
    private static S3ProxyServer s3;

    private final String prefix = "takeover-" + UUID.randomUUID() + "/";
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeAll
    static void startServer(S3ProxyServer server) {
        s3 = server;
        s3.createBucket(BUCKET);
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private ObjectStore client() {
        ObjectStore s = S3ObjectStore.create(s3.options(BUCKET, prefix).build());
        toClose.add(s);
        return s;
    }

    /** Node X's side: an epoch, a fence check that may answer "cannot tell", and optionally the catalog's ends. */
    private static class Context implements WalContext, AutoCloseable {
        final long epoch;
        final ObjectStore store;
        final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        volatile boolean fenceUnknown;

        Context(long epoch, ObjectStore store) {
            this.epoch = epoch;
            this.store = store;
        }

        @Override
        public long writerEpoch() {
            return epoch;
        }

        @Override
        public CompletableFuture<Void> checkNotFenced() {
            return fenceUnknown ? CompletableFuture.failedFuture(new ShaleException(ErrorKind.UNAVAILABLE, "catalog unreachable (test)"))
                    : CompletableFuture.completedFuture(null);
        }

        @Override
        public ObjectStore objectStore() {
            return store;
        }

        @Override
        public Clock clock() {
            return Clock.systemUTC();
        }

        @Override
        public ScheduledExecutorService scheduler() {
            return scheduler;
        }

        @Override
        public void close() {
            scheduler.shutdownNow();
        }
    }

    /** A cluster node's context: committed end offsets as the catalog reports them, set by the test. */
    private static final class ClusterContext extends Context implements WalCommittedOffsets {
        final Map<Integer, Long> committed = new ConcurrentHashMap<>();

        ClusterContext(long epoch, ObjectStore store) {
            super(epoch, store);
        }

        @Override
        public CompletableFuture<Map<Integer, Long>> committedEnds(Set<Integer> streamIds) {
            Map<Integer, Long> out = new HashMap<>();
            for (int s : streamIds) {
                Long c = committed.get(s);
                if (c != null) {
                    out.put(s, c);
                }
            }
            return CompletableFuture.completedFuture(out);
        }
    }

    private static final class Entry implements WalEntry {
        final int stream;
        final long base;
        final ByteBuffer payload;
        final CompletableFuture<Void> outcome = new CompletableFuture<>();

        Entry(int stream, long base, int records, String tag) {
            RecordBatchBuilder b = new RecordBatchBuilder().baseOffset(base).defaultTimestamp(1_700_000_000_000L);
            for (int i = 0; i < records; i++) {
                b.append(SimpleRecord.of("k", tag + "/" + stream + "/" + (base + i)));
            }
            this.stream = stream;
            this.base = base;
            this.payload = b.build();
        }

        @Override
        public int streamId() {
            return stream;
        }

        @Override
        public long baseOffset() {
            return base;
        }

        @Override
        public ByteBuffer payload() {
            return payload;
        }

        @Override
        public void onDurable() {
            outcome.complete(null);
        }

        @Override
        public void onFailure(Throwable error) {
            outcome.completeExceptionally(error);
        }

        String describe() {
            return stream + "@" + base + ":" + Arrays.hashCode(bytes(payload));
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private static ObjectWriteAheadLog open(Context ctx, boolean dataObjects) {
        ObjectWriteAheadLog wal = ObjectWriteAheadLog.builder().keyPrefix(WAL).flushInterval(Duration.ofHours(1))
                .closeTimeout(Duration.ofSeconds(10)).dataObjects(dataObjects).build();
        wal.open(ctx);
        wal.replay((seq, stream, base, payload) -> {
        });
        return wal;
    }

    /** Appends the entries as one object; returns them once settled (acknowledged unless the fence check could not tell). */
    private static List<Entry> object(ObjectWriteAheadLog wal, Context ctx, boolean acknowledged, Entry... entries)
            throws Exception {
        ctx.fenceUnknown = !acknowledged;
        for (Entry e : entries) {
            wal.append(e);
        }
        wal.flush().get(30, TimeUnit.SECONDS);
        for (Entry e : entries) {
            assertThat(e.outcome.isCompletedExceptionally()).isEqualTo(!acknowledged);
        }
        ctx.fenceUnknown = false;
        return List.of(entries);
    }

    /**
     * Every object and its bytes, without the WAL's claim records ({@code claims/}: bookkeeping of
     * each writer's claim, whose superseded ones a later writer deletes in the background).
     */
    private Map<String, byte[]> bucket(ObjectStore s) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        String after = null;
        while (true) {
            ListPage page = s.list("", after, 1000).join();
            page.objects().stream().filter(o -> !o.key().contains("/claims/"))
                    .forEach(o -> out.put(o.key(), bytes(s.get(o.key()).join())));
            if (page.isLast()) {
                return out;
            }
            after = page.nextStartAfter();
        }
    }

    @ParameterizedTest(name = "dataObjects={0}")
    @ValueSource(booleans = {false, true})
    void aNewOwnerShouldReadExactlyTheDeadNodesAcknowledgedEntriesAndChangeNothing(boolean dataObjects) throws Exception {
        ObjectStore x = client();
        List<Entry> want = new ArrayList<>();
        Entry superseded;
        try (Context ctx = new Context(1, x)) {
            ObjectWriteAheadLog wal = open(ctx, dataObjects);
            List<Entry> a = object(wal, ctx, true, new Entry(1, 0, 2, "a"), new Entry(2, 0, 1, "a"), new Entry(3, 0, 1, "a"));
            List<Entry> b = object(wal, ctx, true, new Entry(1, 2, 2, "b"), new Entry(2, 1, 2, "b"));
            List<Entry> c = object(wal, ctx, false, new Entry(1, 4, 2, "c"), new Entry(3, 1, 1, "c"));
            wal.close();
            want.add(a.get(1));
            want.addAll(b);
            superseded = c.get(0);
        }
        try (Context ctx = new Context(2, x)) {
            ObjectWriteAheadLog wal = open(ctx, dataObjects);
            List<Entry> d = object(wal, ctx, true, new Entry(1, 4, 1, "d"), new Entry(2, 3, 1, "d"), new Entry(3, 1, 1, "d"));
            wal.close();
            want.add(d.get(0));
            want.add(d.get(1));
        }

        ObjectStore y = client(); // node Y's own client
        Map<String, byte[]> before = bucket(y);
        List<String> got = new ArrayList<>();
        ObjectWalReader.Result r = ObjectWalReader.builder(y, WAL).build().read(Map.of(1, 2L, 2, 0L),
                (seq, stream, base, payload) -> got.add(stream + "@" + base + ":" + Arrays.hashCode(bytes(payload))));
        assertThat(got).containsExactlyElementsOf(want.stream().map(Entry::describe).toList());
        assertThat(got).doesNotContain(superseded.describe());
        assertThat(r.entriesSuperseded()).isEqualTo(1);
        assertThat(r.objectsRead()).isEqualTo(4);

        Map<String, byte[]> after = bucket(y);
        assertThat(after.keySet()).containsExactlyElementsOf(before.keySet());
        for (String k : before.keySet()) {
            assertThat(Arrays.equals(after.get(k), before.get(k))).as("bytes of %s", k).isTrue();
        }

        // A damaged object fails the takeover, naming it.
        String damaged = before.keySet().stream().filter(k -> k.startsWith(WAL)).toList().get(1);
        y.put(damaged, Payload.of("not a WAL object".getBytes(java.nio.charset.StandardCharsets.US_ASCII)), null).join();
        assertThatThrownBy(() -> ObjectWalReader.builder(y, WAL).build().read(Map.of(1, 0L), (s, st, b, p) -> {
        })).isInstanceOfSatisfying(ShaleException.class, se -> {
            assertThat(se.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE);
            assertThat(se.getMessage()).contains(damaged);
        });
    }

    @ParameterizedTest(name = "dataObjects={0}")
    @ValueSource(booleans = {false, true})
    void aNodesWalShouldKeepAnObjectUntilEveryPartitionInItIsCommittedPastIt(boolean dataObjects) throws Exception {
        ObjectStore x = client();
        try (ClusterContext ctx = new ClusterContext(1, x)) {
            ObjectWriteAheadLog wal = open(ctx, dataObjects);
            object(wal, ctx, true, new Entry(1, 0, 2, "a"), new Entry(2, 0, 3, "a"));
            object(wal, ctx, true, new Entry(1, 2, 1, "b"));
            List<String> walKeys = bucket(x).keySet().stream().filter(k -> k.startsWith(WAL)).toList();
            assertThat(walKeys).hasSize(2);

            ctx.committed.put(1, 3L); // X's own partition
            ctx.committed.put(2, 0L); // taken over by Y, not committed yet
            wal.trimAsync(wal.nextSequence()).get(30, TimeUnit.SECONDS);
            assertThat(bucket(x).keySet()).containsExactly(walKeys.get(0));
            ctx.committed.put(2, 3L); // Y committed X's entries
            wal.trimAsync(wal.nextSequence()).get(30, TimeUnit.SECONDS);
            assertThat(bucket(x)).isEmpty();
            wal.close();
        }
    }
}
