package io.shale.catalog.postgres;

import static io.shale.catalog.postgres.ClusterStoreTest.TOPIC;
import static io.shale.catalog.postgres.ClusterStoreTest.appendNow;
import static io.shale.catalog.postgres.ClusterStoreTest.await;
import static io.shale.catalog.postgres.ClusterStoreTest.readAll;
import static io.shale.catalog.postgres.ClusterStoreTest.tp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.LogStore;
import io.shale.log.ShaleException;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.wal.ObjectWriteAheadLog;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import io.shale.storage.testkit.PostgresServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;

/**
 * Takeover with the object WAL (RFC 0005, "What each WAL guarantees on takeover"): cluster nodes in
 * one JVM over one PostgreSQL schema and one local-directory bucket, each with an object WAL under
 * {@code wal/<node id>/}. A node "dies" by losing its bucket (every call fails, as for a process
 * that is gone) and its lease renewals; another claims its partitions once the lease ran out and
 * must serve every record the dead node acknowledged, at the same offsets.
 */
@ExtendWith({PostgresServer.Extension.class, ObjectWalClusterTakeoverTest.Server.class})
class ObjectWalClusterTakeoverTest {
    static final Duration LEASE = Duration.ofMillis(1_000);

    @TempDir
    Path dir;

    PostgresServer server;
    String schema;
    final List<AutoCloseable> toClose = new ArrayList<>();
    /** Set by the S3 test: every node's bucket is on this S3Proxy instead of a local directory. */
    InProcessS3 s3;

    static final class Server implements org.junit.jupiter.api.extension.BeforeEachCallback {
        @Override
        public void beforeEach(ExtensionContext context) {
            ((ObjectWalClusterTakeoverTest) context.getRequiredTestInstance()).server = PostgresServer.get(context);
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
                // dead on purpose
            }
        }
    }

    record Node(String id, PostgresClusterNode handle, LogStore store, DyingObjectStore bucket) {
    }

    Node node(String id) {
        PostgresClusterNode handle = PostgresCatalog.clusterNode(TestCatalogs.freshOptions(server).schema(schema).nodeId(id).build(),
                LEASE);
        DyingObjectStore bucket = new DyingObjectStore(s3 != null
                ? io.shale.storage.s3.S3ObjectStore.create(s3.options("takeover"))
                : LocalDirectoryObjectStore.open(dir.resolve("bucket")));
        LogStore store = LogStore.builder()
                .objectStore(bucket)
                .wal(ObjectWriteAheadLog.builder().keyPrefix("wal/" + id + "/").flushInterval(Duration.ofMillis(2))
                        .closeTimeout(Duration.ofSeconds(2)).build())
                .catalog(handle)
                // uploads only when asked (flush, release), so that tests decide what is committed when
                .config(Map.of("upload.interval.ms", 600_000, "upload.bytes", 64 << 20, "refresh.interval.ms", 50,
                        "close.timeout.ms", 3_000))
                .open();
        toClose.add(store);
        return new Node(id, handle, store, bucket);
    }

    /** The node dies without closing: its bucket calls fail from now on and its leases are not renewed. */
    static void kill(Node n) {
        ((ClusterNodeHandle) n.handle()).current().node().pauseRenewalsForTests(true);
        n.bucket().kill();
    }

    static void afterTheLease() throws InterruptedException {
        Thread.sleep(LEASE.toMillis() + 300);
    }

    /** Appends {@code count} records to partition {@code p} through {@code n}; returns them as "offset=value". */
    static List<String> appendAll(Node n, int p, String prefix, int count) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String v = prefix + i;
            out.add(appendNow(n.store(), p, v).baseOffset() + "=" + v);
        }
        return out;
    }

    static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    /** The WAL object keys under {@code prefix} in the bucket now. */
    Set<String> keys(String prefix) {
        Set<String> out = new TreeSet<>();
        try (LocalDirectoryObjectStore bucket = LocalDirectoryObjectStore.open(dir.resolve("bucket"))) {
            String after = null;
            do {
                var page = bucket.list(prefix, after, 1000).join();
                for (ObjectInfo o : page.objects()) {
                    out.add(o.key());
                }
                after = page.nextStartAfter();
            } while (after != null);
        }
        return out;
    }

    @Test
    void theNewOwnerServesEveryRecordTheDeadNodeAcknowledgedAtTheSameOffsets() throws Exception {
        newOwnerServesEverythingAcknowledged();
    }

    @Test
    void theSameOnS3Proxy() throws Exception {
        s3 = new InProcessS3();
        toClose.add(s3);
        newOwnerServesEverythingAcknowledged();
    }

    private void newOwnerServesEverythingAcknowledged() throws Exception {
        Node a = node("node-a");
        Node b = node("node-b");
        a.store().createTopic(TOPIC, 2, Map.of());
        await("b sees the topic", () -> b.store().describeTopic(TOPIC).isPresent());
        a.handle().claim(List.of(tp(0), tp(1)));
        List<String> acked0 = appendAll(a, 0, "committed-", 3);
        List<String> acked1 = appendAll(a, 1, "committed-", 3);
        a.store().flush();
        acked0.addAll(appendAll(a, 0, "acked-", 7)); // acknowledged, in a's WAL only
        acked1.addAll(appendAll(a, 1, "acked-", 4));
        kill(a);
        afterTheLease();

        assertThat(b.handle().claim(List.of(tp(0)))).isEqualTo(Map.of(tp(0), 2L));
        assertThat(b.store().highWatermark(tp(0))).isEqualTo(10);
        assertThat(readAll(b.store(), 0)).isEqualTo(acked0);
        assertThat(appendNow(b.store(), 0, "b-0").baseOffset()).isEqualTo(10);
        // the replayed records were committed before the partition accepted appends
        assertThat(row("SELECT end_offset FROM shale_partitions WHERE partition_id = 0")).isEqualTo("10");
        assertThat(row("SELECT wal_nodes FROM shale_partitions WHERE partition_id = 0")).isEqualTo("{node-b}");
        b.store().flush();
        assertThat(readAll(b.store(), 0)).isEqualTo(concat(acked0, List.of("10=b-0")));
        // events-1's entries stayed in a's WAL for whoever takes it next
        assertThat(b.handle().claim(List.of(tp(1)))).isEqualTo(Map.of(tp(1), 2L));
        assertThat(readAll(b.store(), 1)).isEqualTo(acked1);
        assertThat(appendNow(b.store(), 1, "b-0").baseOffset()).isEqualTo(7);
    }

    @Test
    void aNodeKilledWithSigkillLosesNothingItAcknowledged() throws Exception {
        Node b = node("node-b");
        b.store().createTopic(TOPIC, 1, Map.of());
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"),
                ObjectWalNodeProcess.class.getName(), server.jdbcUrl(), schema, dir.resolve("bucket").toString(), "node-a")
                .redirectError(dir.resolve("child-stderr.txt").toFile())
                .start();
        List<String> acked = new ArrayList<>();
        try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(child.getInputStream(),
                java.nio.charset.StandardCharsets.UTF_8))) {
            // a child that hangs is killed, which ends its output
            java.util.concurrent.CompletableFuture.delayedExecutor(90, java.util.concurrent.TimeUnit.SECONDS)
                    .execute(child::destroyForcibly);
            String line;
            while (acked.size() < 60 && (line = out.readLine()) != null) {
                if (line.startsWith("ACKED ")) {
                    acked.add(line.substring(6));
                }
            }
            child.destroyForcibly(); // SIGKILL: no close, no upload, mid-stream
            child.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(acked).as("acknowledged by the child; its stderr: %s", dir.resolve("child-stderr.txt"))
                    .hasSize(60);
        } finally {
            child.destroyForcibly();
        }
        assertThat(row("SELECT end_offset FROM shale_partitions WHERE partition_id = 0")).isEqualTo("21");
        afterTheLease();
        Map<io.shale.log.TopicPartition, Long> claimed = Map.of();
        for (int i = 0; i < 50 && claimed.isEmpty(); i++) { // the child's lease may have been renewed just before
            claimed = b.handle().claim(List.of(tp(0)));
            if (claimed.isEmpty()) {
                Thread.sleep(100);
            }
        }
        assertThat(claimed).containsKey(tp(0));
        List<String> read = readAll(b.store(), 0);
        assertThat(read).as("every acknowledged record at its offset").containsSubsequence(acked);
        assertThat(read.subList(0, acked.size())).isEqualTo(acked);
        long next = appendNow(b.store(), 0, "b-0").baseOffset();
        assertThat(next).isEqualTo(read.size());
    }

    @Test
    void aNodeRestartingUnderTheSameIdKeepsWhatOthersStillNeedAndResurrectsNothing() throws Exception {
        Node a = node("node-a");
        Node b = node("node-b");
        a.store().createTopic(TOPIC, 3, Map.of());
        await("b sees the topic", () -> b.store().describeTopic(TOPIC).isPresent());
        a.handle().claim(List.of(tp(0), tp(1)));
        List<String> acked0 = appendAll(a, 0, "a-", 5);
        List<String> acked1 = appendAll(a, 1, "a-", 5);
        kill(a);
        afterTheLease();
        assertThat(b.handle().claim(List.of(tp(0)))).containsKey(tp(0));
        assertThat(readAll(b.store(), 0)).isEqualTo(acked0);
        Set<String> earlier = keys("wal/node-a/");
        assertThat(earlier).isNotEmpty();

        // node-a starts again under the same id (a new process on a healthy bucket) and uploads: its WAL trims
        Node again = node("node-a");
        assertThat(again.handle().ownedPartitions()).isEmpty();
        assertThat(again.store().highWatermark(tp(1))).as("nothing of the earlier process is recovered here").isZero();
        again.handle().claim(List.of(tp(2)));
        List<String> own = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            own.addAll(appendAll(again, 2, "again-" + round + "-", 2));
            again.store().flush();
        }
        // its own committed WAL objects are trimmed (so trim ran), the earlier process's holding events-1 are not
        await("node-a's trim deleted some of its own committed WAL objects", () -> {
            Set<String> now = keys("wal/node-a/");
            now.removeAll(earlier);
            return now.size() < 3;
        });
        assertThat(keys("wal/node-a/")).as("objects with entries of events-1, committed by no one yet")
                .containsAnyElementsOf(earlier);
        assertThat(readAll(again.store(), 0)).isEqualTo(acked0);

        // b takes events-1 over: every record the earlier process acknowledged is there, at its offset
        assertThat(b.handle().claim(List.of(tp(1)))).containsKey(tp(1));
        assertThat(readAll(b.store(), 1)).isEqualTo(acked1);
        assertThat(appendNow(b.store(), 1, "b-0").baseOffset()).isEqualTo(5);
        // now that every partition in them is committed past them, node-a's trim deletes them
        await("node-a deletes the earlier process's WAL objects", () -> {
            appendNow(again.store(), 2, "more");
            again.store().flush();
            Set<String> left = keys("wal/node-a/");
            left.retainAll(earlier);
            return left.isEmpty();
        });
        assertThat(readAll(again.store(), 2).subList(0, own.size())).isEqualTo(own);
    }

    @Test
    void aChainOfTakeoversLosesNothingEvenWhenOneClaimFailsHalfway() throws Exception {
        Node a = node("node-a");
        Node b = node("node-b");
        Node c = node("node-c");
        Node d = node("node-d");
        a.store().createTopic(TOPIC, 1, Map.of());
        await("d sees the topic", () -> d.store().describeTopic(TOPIC).isPresent());
        a.handle().claim(List.of(tp(0)));
        List<String> acked = appendAll(a, 0, "a-", 3);
        a.store().flush();
        acked.addAll(appendAll(a, 0, "a-acked-", 4));
        kill(a);
        afterTheLease();
        // b claims but cannot read a's WAL (its own bucket is gone): the claim fails, b releases
        b.bucket().kill();
        assertThatThrownBy(() -> b.handle().claim(List.of(tp(0)))).isInstanceOf(ShaleException.class);
        assertThat(b.handle().ownedPartitions()).isEmpty();
        // c reads a's WAL (and b's, which holds nothing of it) and continues
        assertThat(c.handle().claim(List.of(tp(0)))).isEqualTo(Map.of(tp(0), 3L));
        assertThat(readAll(c.store(), 0)).isEqualTo(acked);
        acked.addAll(appendAll(c, 0, "c-acked-", 5));
        kill(c);
        afterTheLease();
        assertThat(d.handle().claim(List.of(tp(0)))).isEqualTo(Map.of(tp(0), 4L));
        assertThat(d.bucket().reads("wal/node-a/")).as("a's entries were committed by c: a's WAL is not read again")
                .isZero();
        assertThat(readAll(d.store(), 0)).isEqualTo(acked);
        assertThat(appendNow(d.store(), 0, "d-0").baseOffset()).isEqualTo(12);
        d.store().flush();
        assertThat(readAll(d.store(), 0)).isEqualTo(concat(acked, List.of("12=d-0")));
    }

    @Test
    void aPlannedMoveHasNothingToReplayAndTheNextTakeoverReadsOnlyTheLastOwner() throws Exception {
        Node a = node("node-a");
        Node b = node("node-b");
        Node c = node("node-c");
        a.store().createTopic(TOPIC, 1, Map.of());
        await("c sees the topic", () -> c.store().describeTopic(TOPIC).isPresent());
        a.handle().claim(List.of(tp(0)));
        List<String> acked = appendAll(a, 0, "a-", 5);
        assertThat(a.handle().release(List.of(tp(0)), Duration.ofSeconds(30))).containsExactly(tp(0));
        assertThat(row("SELECT wal_nodes FROM shale_partitions WHERE partition_id = 0")).isEqualTo("{}");
        assertThat(b.handle().claim(List.of(tp(0)))).isEqualTo(Map.of(tp(0), 2L));
        assertThat(b.bucket().reads("wal/node-a/")).as("a planned move replays nothing").isZero();
        assertThat(readAll(b.store(), 0)).isEqualTo(acked);
        acked.addAll(appendAll(b, 0, "b-acked-", 5));
        kill(b);
        afterTheLease();
        assertThat(c.handle().claim(List.of(tp(0)))).isEqualTo(Map.of(tp(0), 3L));
        assertThat(c.bucket().reads("wal/node-a/")).isZero();
        assertThat(c.bucket().reads("wal/node-b/")).isPositive();
        assertThat(readAll(c.store(), 0)).isEqualTo(acked);
        assertThat(appendNow(c.store(), 0, "c-0").baseOffset()).isEqualTo(10);
    }

    /** The first column of the first row of {@code query} as text. */
    String row(String query) throws java.sql.SQLException {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(server.jdbcUrl(), "postgres", "")) {
            c.setSchema(schema);
            try (java.sql.Statement st = c.createStatement(); java.sql.ResultSet rs = st.executeQuery(query)) {
                assertThat(rs.next()).as("a row of %s", query).isTrue();
                return rs.getString(1);
            }
        }
    }
}
