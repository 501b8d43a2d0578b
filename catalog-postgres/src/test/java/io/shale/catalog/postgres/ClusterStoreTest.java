package io.shale.catalog.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.AppendResult;
import io.shale.log.ErrorKind;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.ShaleException;
import io.shale.log.TopicPartition;
import io.shale.log.record.Record;
import io.shale.log.record.SimpleRecord;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import io.shale.storage.local.wal.FileWriteAheadLog;
import io.shale.storage.testkit.PostgresServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three cluster nodes ({@link PostgresClusterNode}) in one JVM: three {@code LogStore}s over one
 * PostgreSQL schema and one local-directory object store, each with its own file WAL.
 */
@ExtendWith({PostgresServer.Extension.class, ClusterStoreTest.Server.class})
class ClusterStoreTest {
    static final String TOPIC = "events";

    @TempDir
    Path dir;

    PostgresServer server;
    String schema;
    final List<AutoCloseable> toClose = new ArrayList<>();

    static final class Server implements org.junit.jupiter.api.extension.BeforeEachCallback {
        @Override
        public void beforeEach(ExtensionContext context) {
            ((ClusterStoreTest) context.getRequiredTestInstance()).server = PostgresServer.get(context);
        }
    }

    @BeforeEach
    void freshSchema() {
        schema = TestCatalogs.freshOptions(server).build().schema();
    }

    @AfterEach
    void closeAll() {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            try {
                toClose.get(i).close();
            } catch (Exception e) {
                // closed by the test already, or broken on purpose
            }
        }
    }

    record Node(PostgresClusterNode handle, LogStore store) {
    }

    Node node(String id, Duration lease) {
        PostgresClusterNode handle = PostgresCatalog.clusterNode(TestCatalogs.freshOptions(server).schema(schema).nodeId(id).build(),
                lease);
        LogStore store = LogStore.builder()
                .objectStore(LocalDirectoryObjectStore.open(dir.resolve("bucket")))
                .wal(FileWriteAheadLog.builder(dir.resolve("wal-" + id)).build())
                .catalog(handle)
                // uploads only when asked (flush, release), so that tests decide what is committed when
                .config(Map.of("upload.interval.ms", 600_000, "upload.bytes", 64 << 20, "refresh.interval.ms", 50))
                .open();
        toClose.add(store);
        return new Node(handle, store);
    }

    static TopicPartition tp(int p) {
        return new TopicPartition(TOPIC, p);
    }

    static CompletableFuture<AppendResult> append(LogStore s, int p, String value) {
        return s.append(tp(p), List.of(SimpleRecord.of(null, value.getBytes(StandardCharsets.UTF_8))));
    }

    static AppendResult appendNow(LogStore s, int p, String value) {
        return append(s, p, value).orTimeout(30, TimeUnit.SECONDS).join();
    }

    /** Every record of the partition from offset 0, as (offset, value) read through {@code s}. */
    static List<String> readAll(LogStore s, int p) {
        List<String> out = new ArrayList<>();
        long offset = s.logStartOffset(tp(p));
        while (offset < s.highWatermark(tp(p))) {
            FetchResult r = s.read(tp(p), offset, 1 << 20);
            for (var batch : r.batches()) {
                for (Record rec : batch) {
                    if (rec.offset() >= offset) {
                        byte[] v = new byte[rec.value().remaining()];
                        rec.value().duplicate().get(v);
                        out.add(rec.offset() + "=" + new String(v, StandardCharsets.UTF_8));
                    }
                }
            }
            if (r.nextOffset() <= offset) {
                break;
            }
            offset = r.nextOffset();
        }
        return out;
    }

    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    static ShaleException failure(CompletableFuture<?> f) {
        try {
            f.orTimeout(30, TimeUnit.SECONDS).join();
        } catch (CompletionException e) {
            return ShaleException.unwrap(e.getCause());
        }
        throw new AssertionError("expected the append to fail");
    }

    @Test
    void threeNodesSplitOwnershipAppendOnlyOnOwnersReadAnywhereAndMoveAPartition() {
        Node a = node("node-a", Duration.ofSeconds(5));
        Node b = node("node-b", Duration.ofSeconds(5));
        Node c = node("node-c", Duration.ofSeconds(5));
        List<Node> nodes = List.of(a, b, c);
        a.store().createTopic(TOPIC, 6, Map.of());
        for (Node n : nodes) {
            await("every node sees the topic", () -> n.store().describeTopic(TOPIC).isPresent());
        }
        // nobody owns anything yet: every append is refused
        assertThat(failure(append(b.store(), 0, "x")).kind()).isEqualTo(ErrorKind.NOT_OWNER);

        // ownership split: a owns 0,1; b owns 2,3; c owns 4,5 (epoch 1 each)
        assertThat(a.handle().claim(List.of(tp(0), tp(1)))).isEqualTo(Map.of(tp(0), 1L, tp(1), 1L));
        assertThat(b.handle().claim(List.of(tp(2), tp(3)))).isEqualTo(Map.of(tp(2), 1L, tp(3), 1L));
        assertThat(c.handle().claim(List.of(tp(4), tp(5)))).isEqualTo(Map.of(tp(4), 1L, tp(5), 1L));
        assertThat(b.handle().claim(List.of(tp(0), tp(1)))).as("a holds them under live leases").isEmpty();
        assertThat(a.handle().ownedPartitions()).isEqualTo(Map.of(tp(0), 1L, tp(1), 1L));

        Map<Integer, Node> owner = Map.of(0, a, 1, a, 2, b, 3, b, 4, c, 5, c);
        Map<Integer, List<String>> acked = new HashMap<>();
        for (int round = 0; round < 20; round++) {
            for (int p = 0; p < 6; p++) {
                String v = "p" + p + "-r" + round;
                AppendResult r = appendNow(owner.get(p).store(), p, v);
                acked.computeIfAbsent(p, k -> new ArrayList<>()).add(r.baseOffset() + "=" + v);
            }
        }
        // refusals elsewhere, naming the owner once the refusing node has seen it
        await("b sees a as the owner of events-0",
                () -> b.handle().owner(tp(0)).map(o -> "node-a".equals(o.nodeId())).orElse(false));
        ShaleException refused = failure(append(b.store(), 0, "not here"));
        assertThat(refused.kind()).isEqualTo(ErrorKind.NOT_OWNER);
        assertThat(refused.getMessage()).contains("events-0").contains("node-a");
        assertThat(ErrorKind.NOT_OWNER.isRetriable()).isTrue();
        assertThat(failure(append(c.store(), 2, "not here")).kind()).isEqualTo(ErrorKind.NOT_OWNER);
        assertThatThrownBy(() -> a.store().deleteRecordsBefore(tp(4), 1))
                .isInstanceOfSatisfying(ShaleException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_OWNER));
        // the leader epoch stamped into a's batches is the partition epoch
        assertThat(a.store().read(tp(0), 0, 1 << 20).batches().get(0).partitionLeaderEpoch()).isEqualTo(1);

        // reads of others' partitions from any node: committed data
        for (Node n : nodes) {
            n.store().flush();
        }
        for (Node reader : nodes) {
            for (int p = 0; p < 6; p++) {
                int part = p;
                await("node sees events-" + p + " committed",
                        () -> reader.store().highWatermark(tp(part)) == acked.get(part).size());
                assertThat(readAll(reader.store(), p)).as("events-%d read through another node", p)
                        .isEqualTo(acked.get(p));
            }
        }

        // a planned move of events-0 from a to b, with appends acknowledged but not uploaded yet
        for (int i = 0; i < 5; i++) {
            String v = "p0-before-move-" + i;
            acked.get(0).add(appendNow(a.store(), 0, v).baseOffset() + "=" + v);
        }
        List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        PostgresClusterNode.OwnershipListener listener = new PostgresClusterNode.OwnershipListener() {
            @Override
            public void gained(TopicPartition partition, long epoch) {
                events.add("gained " + partition + " " + epoch);
            }

            @Override
            public void lost(TopicPartition partition, String why) {
                events.add("lost " + partition);
            }
        };
        a.handle().addListener(listener);
        b.handle().addListener(listener);
        assertThat(a.handle().release(List.of(tp(0)), Duration.ofSeconds(30))).containsExactly(tp(0));
        assertThat(a.handle().ownedPartitions()).containsOnlyKeys(tp(1));
        ShaleException afterRelease = failure(append(a.store(), 0, "too late"));
        assertThat(afterRelease.kind()).isEqualTo(ErrorKind.NOT_OWNER);
        assertThat(b.handle().claim(List.of(tp(0)))).isEqualTo(Map.of(tp(0), 2L));
        assertThat(events).containsExactly("lost events-0", "gained events-0 2");
        assertThat(b.store().highWatermark(tp(0))).as("the new owner starts at the committed end").isEqualTo(25);
        // what the broker will answer Metadata with: owner node and partition epoch, seen from every node
        for (Node n : nodes) {
            await("the move is seen from every node", () -> n.handle().owner(tp(0))
                    .equals(java.util.Optional.of(new PostgresClusterNode.PartitionOwner(tp(0), "node-b", 2))));
        }
        assertThat(c.handle().owners()).hasSize(6);
        for (int i = 0; i < 5; i++) {
            String v = "p0-after-move-" + i;
            AppendResult r = appendNow(b.store(), 0, v);
            assertThat(r.baseOffset()).isEqualTo(25 + i);
            acked.get(0).add(r.baseOffset() + "=" + v);
        }
        assertThat(b.store().read(tp(0), 25, 1 << 20).batches().get(0).partitionLeaderEpoch()).isEqualTo(2);

        // at the end every acknowledged record is read back exactly once, through every node
        for (Node n : nodes) {
            n.store().flush();
        }
        for (Node reader : nodes) {
            for (int p = 0; p < 6; p++) {
                int part = p;
                await("node sees events-" + p + " complete",
                        () -> reader.store().highWatermark(tp(part)) == acked.get(part).size());
                assertThat(readAll(reader.store(), p)).isEqualTo(acked.get(p));
            }
        }
    }

    @Test
    void aCommitFencedOnALostPartitionIsCommittedAgainWithoutIt() throws Exception {
        Node a = node("node-a", Duration.ofMillis(1_000));
        Node b = node("node-b", Duration.ofMillis(1_000));
        b.store().createTopic(TOPIC, 2, Map.of());
        // a claims a topic created on b at once (if its periodic refresh has not seen it yet, the claim looks first)
        assertThat(a.handle().claim(List.of(tp(0), tp(1)))).hasSize(2);
        List<String> kept = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            kept.add(appendNow(a.store(), 0, "kept-" + i).baseOffset() + "=kept-" + i);
            appendNow(a.store(), 1, "lost-" + i); // acknowledged, then taken over before any upload
        }
        // a freezes (no renewals: it still believes it holds both), b takes events-1 over after the lease
        ClusterNode frozen = ((ClusterNodeHandle) a.handle()).current().node();
        frozen.pauseRenewalsForTests(true);
        Thread.sleep(1_300);
        assertThat(b.handle().claim(List.of(tp(1)))).isEqualTo(Map.of(tp(1), 2L));
        // a's upload holds runs of both partitions in ONE object: its commit is fenced on events-1 and
        // committed again with events-0's run only
        a.store().flush();
        assertThat(frozen.holds(1)).isFalse();
        await("b sees events-0 committed", () -> b.store().highWatermark(tp(0)) == 10);
        assertThat(readAll(b.store(), 0)).isEqualTo(kept);
        // events-1: nothing of a's was committed (a file WAL's takeover loses what the dead owner had
        // not uploaded, RFC 0005); b continues at the committed end
        assertThat(b.store().highWatermark(tp(1))).isZero();
        assertThat(appendNow(b.store(), 1, "b-0").baseOffset()).isZero();
        assertThat(failure(append(a.store(), 1, "a again")).kind()).isEqualTo(ErrorKind.NOT_OWNER);
        frozen.pauseRenewalsForTests(false);
        // a still owns events-0 and goes on appending to it once its lease is renewed
        await("a renews events-0", () -> frozen.mayAcknowledge(0) || !frozen.holds(0));
        assertThat(frozen.holds(0)).isTrue();
        assertThat(appendNow(a.store(), 0, "kept-10").baseOffset()).isEqualTo(10);
        // the object's bytes of events-1 stay in it, referenced by events-0's range only
        a.store().flush();
        b.store().flush();
        await("a sees b's record in events-1", () -> a.store().highWatermark(tp(1)) == 1);
        assertThat(readAll(a.store(), 1)).containsExactly("0=b-0");
    }

    @Test
    void orphanCleanupJudgesOnlyThisNodesOwnKeys() throws Exception {
        String otherNode = "data/node/node-b/00000000000000000001-00000000000000000001";
        String earlierProcess = "data/node/node-a/00000000000000000000-00000000000000000007";
        String laterProcess = "data/node/node-a/00000000000000000099-00000000000000000001";
        String singleWriterShape = "data/00000000000000000001-00000000000000000001";
        try (LocalDirectoryObjectStore bucket = LocalDirectoryObjectStore.open(dir.resolve("bucket"))) {
            for (String key : List.of(otherNode, earlierProcess, laterProcess, singleWriterShape)) {
                bucket.put(key, io.shale.log.spi.Payload.of(new byte[] {1}), "t-" + key.hashCode()).join();
            }
        }
        PostgresClusterNode handle = PostgresCatalog.clusterNode(
                TestCatalogs.freshOptions(server).schema(schema).nodeId("node-a").build(), Duration.ofSeconds(5));
        LogStore store = LogStore.builder()
                .objectStore(LocalDirectoryObjectStore.open(dir.resolve("bucket")))
                .wal(FileWriteAheadLog.builder(dir.resolve("wal-a")).build())
                .catalog(handle)
                .config(Map.of("object.delete.grace.ms", 0, "orphan.scan.interval.ms", 50))
                .open();
        toClose.add(store);
        store.createTopic(TOPIC, 1, Map.of());
        handle.claim(List.of(tp(0)));
        appendNow(store, 0, "committed");
        store.flush();
        try (LocalDirectoryObjectStore bucket = LocalDirectoryObjectStore.open(dir.resolve("bucket"))) {
            await("the orphan of an earlier process of this node is deleted",
                    () -> bucket.head(earlierProcess).join().isEmpty());
            Thread.sleep(300); // several more scans
            for (String key : List.of(otherNode, laterProcess, singleWriterShape)) {
                assertThat(bucket.head(key).join()).as("%s is not this node's to judge", key).isPresent();
            }
        }
        assertThat(readAll(store, 0)).containsExactly("0=committed");
    }

    @Test
    void aClaimDeliversWhatTheTakeoverRecoveryFoundBeforeAcceptingAppends() {
        Node a = node("node-a", Duration.ofSeconds(5));
        Node b = node("node-b", Duration.ofSeconds(5));
        a.store().createTopic(TOPIC, 1, Map.of());
        List<Long> asked = new ArrayList<>();
        ((io.shale.log.internal.engine.StoreEngine) a.store()).takeoverRecovery((partitionId, committedEnd, delivery) -> {
            asked.add(committedEnd);
            io.shale.log.record.RecordBatchBuilder builder = new io.shale.log.record.RecordBatchBuilder().baseOffset(committedEnd);
            for (int i = 0; i < 3; i++) {
                builder.append(SimpleRecord.of(null, ("recovered-" + i).getBytes(StandardCharsets.UTF_8)));
            }
            delivery.entry(committedEnd, builder.build());
        });
        assertThat(a.handle().claim(List.of(tp(0)))).isEqualTo(Map.of(tp(0), 1L));
        assertThat(asked).containsExactly(0L);
        assertThat(a.store().highWatermark(tp(0))).isEqualTo(3);
        assertThat(appendNow(a.store(), 0, "new").baseOffset()).isEqualTo(3);
        a.store().flush();
        await("b sees the recovered records committed", () -> b.store().highWatermark(tp(0)) == 4);
        assertThat(readAll(b.store(), 0)).containsExactly("0=recovered-0", "1=recovered-1", "2=recovered-2", "3=new");
    }

    @Test
    void anObjectWalNeedsAPrefixOfTheNodesOwnAndThenServesAppends() {
        PostgresClusterNode handle = PostgresCatalog.clusterNode(
                TestCatalogs.freshOptions(server).schema(schema).nodeId("node-a").build(), Duration.ofSeconds(5));
        assertThatThrownBy(() -> LogStore.builder()
                .objectStore(LocalDirectoryObjectStore.open(dir.resolve("bucket")))
                .wal(io.shale.log.wal.ObjectWriteAheadLog.builder().keyPrefix("wal/").build())
                .catalog(handle)
                .open())
                .isInstanceOfSatisfying(ShaleException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains("'wal/'").contains("wal/node-a/");
                });
        LogStore store = LogStore.builder()
                .objectStore(LocalDirectoryObjectStore.open(dir.resolve("bucket")))
                .wal(io.shale.log.wal.ObjectWriteAheadLog.builder().keyPrefix("wal/node-a/").build())
                .catalog(handle)
                .open();
        toClose.add(store);
        Node b = node("node-b", Duration.ofSeconds(5));
        store.createTopic(TOPIC, 2, Map.of());
        handle.claim(List.of(tp(0), tp(1)));
        List<String> acked = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            acked.add(appendNow(store, i % 2, "v" + i).baseOffset() + "=v" + i);
        }
        store.flush();
        await("b sees events-0 and events-1 committed",
                () -> b.store().highWatermark(tp(0)) == 5 && b.store().highWatermark(tp(1)) == 5);
        List<String> read = new ArrayList<>(readAll(b.store(), 0));
        read.addAll(readAll(b.store(), 1));
        assertThat(read).containsExactlyInAnyOrderElementsOf(acked);
    }

    @Test
    void anAppendWhoseLeaseRanOutWaitsAndFailsNotOwnerWhenThePartitionIsTakenOver() throws Exception {
        Node a = node("node-a", Duration.ofMillis(1_000));
        Node b = node("node-b", Duration.ofMillis(1_000));
        a.store().createTopic(TOPIC, 1, Map.of());
        await("b sees the topic", () -> b.store().describeTopic(TOPIC).isPresent());
        a.handle().claim(List.of(tp(0)));
        assertThat(appendNow(a.store(), 0, "acked").baseOffset()).isZero();
        ClusterNode frozen = ((ClusterNodeHandle) a.handle()).current().node();
        List<String> lost = new java.util.concurrent.CopyOnWriteArrayList<>();
        a.handle().addListener(new PostgresClusterNode.OwnershipListener() {
            @Override
            public void lost(TopicPartition partition, String why) {
                lost.add(partition + ": " + why);
            }
        });
        frozen.pauseRenewalsForTests(true);
        await("a's lease runs out on its own clock", () -> !frozen.mayAcknowledge(0));
        // durable in a's WAL, but a may not acknowledge it: it waits (a's renewals are paused, so nothing renews)
        CompletableFuture<AppendResult> pending = append(a.store(), 0, "never acknowledged");
        Thread.sleep(200);
        assertThat(pending).isNotDone();
        assertThat(b.handle().claim(List.of(tp(0)))).isEqualTo(Map.of(tp(0), 2L));
        frozen.pauseRenewalsForTests(false); // the next renewal finds the partition taken over
        ShaleException e = failure(pending);
        assertThat(e.kind()).isEqualTo(ErrorKind.NOT_OWNER);
        assertThat(e.getMessage()).contains("events-0");
        assertThat(a.handle().ownedPartitions()).isEmpty();
        await("a's listener hears of the loss", () -> !lost.isEmpty());
        assertThat(lost).singleElement().asString().startsWith("events-0: ");
        // b continues at the committed end (nothing was uploaded: a file WAL's takeover loses "acked")
        assertThat(appendNow(b.store(), 0, "b").baseOffset()).isZero();
    }

    @Test
    void deleteRecordsAndRetentionMoveTheLogStartOnTheOwnerOnly() {
        Node a = node("node-a", Duration.ofSeconds(5));
        Node b = node("node-b", Duration.ofSeconds(5));
        a.store().createTopic(TOPIC, 2, Map.of());
        await("b sees the topic", () -> b.store().describeTopic(TOPIC).isPresent());
        a.handle().claim(List.of(tp(0)));
        b.handle().claim(List.of(tp(1)));
        for (int i = 0; i < 10; i++) {
            appendNow(a.store(), 0, "a" + i);
            appendNow(b.store(), 1, "b" + i);
        }
        a.store().flush();
        b.store().flush();
        assertThatThrownBy(() -> b.store().deleteRecordsBefore(tp(0), 4))
                .isInstanceOfSatisfying(ShaleException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_OWNER));
        assertThat(a.store().deleteRecordsBefore(tp(0), 4)).isEqualTo(4);
        await("b follows the log start of events-0", () -> b.store().logStartOffset(tp(0)) == 4);
        assertThat(readAll(b.store(), 0)).startsWith("4=a4").hasSize(6);
        assertThat(a.store().logStartOffset(tp(1))).isZero();
    }

    @Test
    void movesUnderAConcurrentProducerLoseAndDuplicateNothing() throws Exception {
        Node a = node("node-a", Duration.ofSeconds(5));
        Node b = node("node-b", Duration.ofSeconds(5));
        a.store().createTopic(TOPIC, 1, Map.of());
        await("b sees the topic", () -> b.store().describeTopic(TOPIC).isPresent());
        a.handle().claim(List.of(tp(0)));
        Node[] nodes = {a, b};
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.ConcurrentHashMap<Long, String> acked = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
        List<Throwable> unexpected = new java.util.concurrent.CopyOnWriteArrayList<>();
        Thread producer = new Thread(() -> {
            int seq = 0;
            while (!stop.get()) {
                // a client that sends to every node in turn until one accepts (as after NOT_LEADER_OR_FOLLOWER)
                for (Node n : nodes) {
                    String v = "v" + seq;
                    try {
                        AppendResult r = appendNow(n.store(), 0, v);
                        if (acked.putIfAbsent(r.baseOffset(), v) != null) {
                            unexpected.add(new AssertionError("offset " + r.baseOffset() + " acknowledged twice"));
                        }
                        seq++;
                        break;
                    } catch (CompletionException e) {
                        ShaleException se = ShaleException.unwrap(e.getCause());
                        if (se == null || se.kind() != ErrorKind.NOT_OWNER) {
                            unexpected.add(e);
                            return;
                        }
                        refused.incrementAndGet();
                    }
                }
            }
        }, "producer");
        producer.start();
        int owner = 0;
        for (int move = 0; move < 10; move++) {
            int before = acked.size();
            await("the producer appends to the current owner", () -> acked.size() >= before + 20 || !unexpected.isEmpty());
            assertThat(nodes[owner].handle().release(List.of(tp(0)), Duration.ofSeconds(30))).containsExactly(tp(0));
            owner = 1 - owner;
            assertThat(nodes[owner].handle().claim(List.of(tp(0)))).isEqualTo(Map.of(tp(0), move + 2L));
        }
        stop.set(true);
        producer.join(30_000);
        assertThat(unexpected).isEmpty();
        assertThat(refused.get()).as("appends were refused during and after moves").isPositive();
        a.store().flush();
        b.store().flush();
        List<String> expected = new ArrayList<>();
        for (long o = 0; o < acked.size(); o++) {
            assertThat(acked).as("no gap in the acknowledged offsets").containsKey(o);
            expected.add(o + "=" + acked.get(o));
        }
        for (Node n : nodes) {
            await("every acknowledged record is committed", () -> n.store().highWatermark(tp(0)) == acked.size());
            assertThat(readAll(n.store(), 0)).isEqualTo(expected);
        }
    }

    @Test
    void compactionRollsOnlyTheOwnersPartitionsThroughFencedCommits() throws Exception {
        PostgresClusterNode handle = PostgresCatalog.clusterNode(
                TestCatalogs.freshOptions(server).schema(schema).nodeId("node-a").build(), Duration.ofSeconds(5));
        LogStore store = LogStore.builder()
                .objectStore(LocalDirectoryObjectStore.open(dir.resolve("bucket")))
                .wal(FileWriteAheadLog.builder(dir.resolve("wal-a")).build())
                .catalog(handle)
                .config(Map.of("upload.interval.ms", 600_000, "compaction.interval.ms", 50))
                .open();
        toClose.add(store);
        Node b = node("node-b", Duration.ofSeconds(5));
        store.createTopic(TOPIC, 2, Map.of("segment.bytes", 1024));
        await("b sees the topic", () -> b.store().describeTopic(TOPIC).isPresent());
        handle.claim(List.of(tp(0)));
        b.handle().claim(List.of(tp(1)));
        List<String> expected0 = new ArrayList<>();
        List<String> expected1 = new ArrayList<>();
        String pad = "x".repeat(200);
        for (int i = 0; i < 12; i++) { // one object per flush: small runs for the compactor to roll
            expected0.add(appendNow(store, 0, "a" + i + pad).baseOffset() + "=a" + i + pad);
            expected1.add(appendNow(b.store(), 1, "b" + i + pad).baseOffset() + "=b" + i + pad);
            store.flush();
            b.store().flush();
        }
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(server.jdbcUrl(), "postgres", "")) {
            c.setSchema(schema);
            await("a's compactor rolls events-0 into a segment of its own keys", () -> {
                try (var st = c.createStatement(); var rs = st.executeQuery("SELECT count(*) FROM shale_ranges r"
                        + " JOIN shale_objects o USING (object_key) WHERE r.partition_id = 0 AND o.kind = 1"
                        + " AND r.object_key LIKE 'data/node/node-a/%-c%'")) {
                    rs.next();
                    return rs.getLong(1) > 0;
                } catch (java.sql.SQLException e) {
                    throw new AssertionError(e);
                }
            });
        }
        await("b follows the compacted events-0", () -> readAll(b.store(), 0).equals(expected0));
        assertThat(readAll(store, 0)).isEqualTo(expected0);
        await("a follows b's events-1", () -> readAll(store, 1).equals(expected1));
    }

    @Test
    void theHandleRefusesBadUseWithClearErrors() {
        assertThatThrownBy(() -> PostgresCatalog.clusterNode(TestCatalogs.freshOptions(server).schema(schema).nodeId("a/b").build(),
                Duration.ofSeconds(5)))
                .isInstanceOfSatisfying(ShaleException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains("'a/b'");
                });
        assertThatThrownBy(() -> PostgresCatalog.clusterNode(TestCatalogs.freshOptions(server).schema(schema).nodeId("a").build(),
                Duration.ofMillis(10)))
                .isInstanceOfSatisfying(ShaleException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT));
        PostgresClusterNode handle = PostgresCatalog.clusterNode(
                TestCatalogs.freshOptions(server).schema(schema).nodeId("node-a").build(), Duration.ofSeconds(5));
        assertThatThrownBy(() -> handle.claim(List.of(tp(0))))
                .isInstanceOfSatisfying(ShaleException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.CLOSED));
        LogStore store = LogStore.builder()
                .objectStore(LocalDirectoryObjectStore.open(dir.resolve("bucket")))
                .wal(FileWriteAheadLog.builder(dir.resolve("wal-a")).build())
                .catalog(handle)
                .open();
        toClose.add(store);
        assertThatThrownBy(() -> LogStore.builder()
                .objectStore(LocalDirectoryObjectStore.open(dir.resolve("bucket")))
                .wal(FileWriteAheadLog.builder(dir.resolve("wal-a2")).build())
                .catalog(handle)
                .open())
                .isInstanceOfSatisfying(ShaleException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.IN_USE));
        store.createTopic(TOPIC, 1, Map.of());
        assertThatThrownBy(() -> handle.claim(List.of(tp(3))))
                .isInstanceOfSatisfying(ShaleException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.UNKNOWN_TOPIC_OR_PARTITION);
                    assertThat(e.getMessage()).contains("events-3");
                });
        assertThatThrownBy(() -> store.addPartitions(TOPIC, 2))
                .isInstanceOfSatisfying(ShaleException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains("cluster store");
                });
        assertThat(store.allocateProducerId()).isNotEqualTo(store.allocateProducerId());
        // a read-only store reads the cluster store; the handle stays with the writable one
        LogStore reader = LogStore.builder()
                .objectStore(LocalDirectoryObjectStore.open(dir.resolve("bucket")))
                .catalog(handle)
                .readOnly(true)
                .open();
        toClose.add(reader);
        assertThat(reader.describeTopic(TOPIC)).isPresent();
        assertThat(handle.claim(List.of(tp(0)))).isEqualTo(Map.of(tp(0), 1L));
        store.close();
        assertThatThrownBy(handle::ownedPartitions)
                .isInstanceOfSatisfying(ShaleException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.CLOSED));
    }

    @Test
    void claimingAgainAfterTheLeaseRanOutFailsWhatTheOlderEpochLeftPending() {
        Node a = node("node-a", Duration.ofMillis(1_000));
        a.store().createTopic(TOPIC, 1, Map.of());
        a.handle().claim(List.of(tp(0)));
        appendNow(a.store(), 0, "committed");
        a.store().flush();
        ClusterNode frozen = ((ClusterNodeHandle) a.handle()).current().node();
        frozen.pauseRenewalsForTests(true);
        await("a's lease runs out on its own clock", () -> !frozen.mayAcknowledge(0));
        CompletableFuture<AppendResult> pending = append(a.store(), 0, "withheld");
        await("the lease ran out in the database too", () -> !a.handle().claim(List.of(tp(0))).isEmpty());
        frozen.pauseRenewalsForTests(false);
        assertThat(failure(pending).kind()).isEqualTo(ErrorKind.NOT_OWNER);
        assertThat(a.handle().ownedPartitions()).isEqualTo(Map.of(tp(0), 2L));
        assertThat(appendNow(a.store(), 0, "epoch 2").baseOffset()).isEqualTo(1);
        a.store().flush();
        assertThat(readAll(a.store(), 0)).containsExactly("0=committed", "1=epoch 2");
    }
}
