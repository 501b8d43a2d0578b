package io.shale.catalog.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.internal.manifest.ManifestOp;
import io.shale.log.internal.manifest.ObjectMeta;
import io.shale.log.internal.manifest.ProducerEntry;
import io.shale.log.internal.manifest.RangeRef;
import io.shale.storage.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;

/**
 * Partition ownership with leases (schema version 2) on a real PostgreSQL: takeover after expiry,
 * fencing on the partition epoch, frozen nodes, concurrent claims, planned moves, and the
 * migration of a version-1 schema. Waits poll the database with deadlines; no test asserts how
 * long anything took.
 */
@ExtendWith({PostgresServer.Extension.class, ClusterNodeTest.Server.class})
class ClusterNodeTest {
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    @TempDir
    java.nio.file.Path dir;

    PostgresServer server;
    PostgresCatalogOptions.Builder options;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    static final class Server implements org.junit.jupiter.api.extension.BeforeEachCallback {
        @Override
        public void beforeEach(ExtensionContext context) {
            ((ClusterNodeTest) context.getRequiredTestInstance()).server = PostgresServer.get(context);
        }
    }

    @BeforeEach
    void freshSchema() {
        options = TestCatalogs.freshOptions(server);
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            try {
                toClose.get(i).close();
            } catch (RuntimeException e) {
                // fenced or closed on purpose; the test judged it
            }
        }
    }

    /** A node and the losses its listener heard of. */
    private record Node(ClusterNode node, ConcurrentLinkedQueue<Set<Integer>> lost) {
        Set<Integer> allLost() {
            Set<Integer> all = new TreeSet<>();
            lost.forEach(all::addAll);
            return all;
        }
    }

    private Node node(String id, Duration lease) {
        ConcurrentLinkedQueue<Set<Integer>> lost = new ConcurrentLinkedQueue<>();
        ClusterNode n = ClusterNode.register(options.nodeId(id).build(), lease, (partitions, why) -> lost.add(partitions));
        toClose.add(n);
        return new Node(n, lost);
    }

    private Connection sql() throws SQLException {
        Connection c = DriverManager.getConnection(server.jdbcUrl(), "postgres", "");
        c.setSchema(options.build().schema());
        toClose.add(c);
        return c;
    }

    private long count(String query) throws SQLException {
        try (Statement st = sql().createStatement(); ResultSet rs = st.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Every row of the tables a commit writes, as text: equal dumps mean no row changed. */
    private String dump() throws SQLException {
        StringBuilder sb = new StringBuilder();
        for (String q : List.of("SELECT * FROM shale_store", "SELECT * FROM shale_partitions ORDER BY partition_id",
                "SELECT * FROM shale_objects ORDER BY object_key",
                "SELECT * FROM shale_ranges ORDER BY partition_id, object_key, base_offset",
                "SELECT * FROM shale_producers ORDER BY partition_id, producer_id")) {
            try (Statement st = sql().createStatement(); ResultSet rs = st.executeQuery(q)) {
                int columns = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    for (int i = 1; i <= columns; i++) {
                        sb.append(rs.getString(i)).append('|');
                    }
                    sb.append('\n');
                }
            }
            sb.append("--\n");
        }
        return sb.toString();
    }

    /** One object with a run of 10 records at {@code base} in each partition. */
    private static ManifestOp.AddObject object(String key, long base, int... partitionIds) {
        ObjectMeta o = new ObjectMeta(key, 1_000, 900, ObjectMeta.KIND_MULTI, 1L);
        List<RangeRef> ranges = new ArrayList<>();
        for (int i = 0; i < partitionIds.length; i++) {
            ranges.add(new RangeRef(o, partitionIds[i], base, base + 10, 5L, i * 100L, 100, i, 1, 42));
        }
        return new ManifestOp.AddObject(o, ranges);
    }

    private static void await(String what, BooleanSupplier done) throws InterruptedException {
        long end = System.nanoTime() + DEADLINE.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("not within " + DEADLINE + ": " + what);
            }
            Thread.sleep(20);
        }
    }

    private static void assertFenced(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String naming) {
        assertThatThrownBy(call).isInstanceOf(ShaleException.class)
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.FENCED))
                .hasMessageContaining(naming);
    }

    private static Set<Integer> ids(int... ids) {
        return IntStream.of(ids).boxed().collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void aNodeThatStopsRenewingShouldLoseItsPartitionsToANodeThatTakesThemOverWithANewerEpoch() throws Exception {
        Node a = node("a", Duration.ofSeconds(5));
        int[] pids = a.node().createTopic("t", 4, Map.of());
        Set<Integer> all = ids(pids);
        assertThat(a.node().claim(all)).isEqualTo(Map.of(0, 1L, 1, 1L, 2, 1L, 3, 1L));
        a.node().commit(List.of(object("data/a1", 0, 0, 1, 2, 3)));
        long version = count("SELECT version FROM shale_store");

        Node b = node("b", Duration.ofSeconds(5));
        assertThat(b.node().claim(all)).as("live leases are not claimable").isEmpty();
        assertThat(a.node().renew()).isEmpty();

        a.node().close(); // dies: nothing renews its leases any more
        Map<Integer, Long> taken = new HashMap<>();
        await("b takes all four partitions over", () -> {
            taken.putAll(b.node().claim(all));
            return taken.size() == 4;
        });
        assertThat(taken).isEqualTo(Map.of(0, 2L, 1, 2L, 2, 2L, 3, 2L));
        assertThat(b.node().ownership()).allSatisfy(o -> {
            assertThat(o.owner()).isEqualTo("b");
            assertThat(o.epoch()).isEqualTo(2);
        });
        b.node().commit(List.of(object("data/b1", 10, 0, 1, 2, 3)));
        assertThat(count("SELECT sum(end_offset) FROM shale_partitions")).isEqualTo(80);
        assertThat(count("SELECT count(*) FROM shale_ranges")).isEqualTo(8);
        assertThat(count("SELECT version FROM shale_store"))
                .as("commits on the partition path do not touch the store row").isEqualTo(version);
        assertThat(b.lost()).isEmpty();
    }

    @Test
    void aCommitWithAStaleEpochShouldBeRefusedNamingThePartitionAndChangeNoRow() throws Exception {
        Node a = node("a", Duration.ofSeconds(30));
        a.node().createTopic("t", 3, Map.of());
        a.node().claim(ids(0, 1, 2));
        a.node().commit(List.of(object("data/1", 0, 0, 1, 2)));

        // a second process of node "a" (same id, so the owner matches): its registration releases
        // what the first held, and its claim bumps partition 2's epoch; only the epoch fences now
        Node again = node("a", Duration.ofSeconds(30));
        assertThat(again.node().claim(ids(2))).isEqualTo(Map.of(2, 2L));
        String before = dump();

        // partition 2's owner is still "a": the epoch alone fences this commit
        assertFenced(() -> a.node().commit(List.of(object("data/2", 10, 2))), "[2]");
        assertThat(dump()).as("no row changed").isEqualTo(before);
        assertThat(a.allLost()).containsExactly(2);

        // one multi-partition object and producer state: all or nothing
        var producers = new ManifestOp.UpdateProducers(1, List.of(new ProducerEntry(7, (short) 0,
                List.of(new ProducerEntry.Batch(0, 9, 10, 19, 5)))), List.of());
        var transactions = new ManifestOp.UpdateTransactions(1, Map.of(7L, 10L),
                List.of(new io.shale.log.AbortedTransaction(8, 12, 15)));
        assertFenced(() -> a.node().commit(List.of(object("data/3", 10, 0, 1), producers, transactions)), "[0, 1]");
        assertThat(dump()).as("no row changed").isEqualTo(before);
        assertThat(count("SELECT count(*) FROM shale_txn_ongoing") + count("SELECT count(*) FROM shale_txn_aborted"))
                .as("no transaction state from a fenced commit").isZero();
        assertThat(a.allLost()).containsExactly(0, 1, 2);
        assertThat(a.node().owned()).isEmpty();

        Node third = node("c", Duration.ofSeconds(30));
        assertThat(third.node().claim(ids(0, 1))).isEqualTo(Map.of(0, 2L, 1, 2L));
        third.node().commit(List.of(object("data/3", 10, 0, 1), producers, transactions));
        assertThat(count("SELECT count(*) FROM shale_txn_ongoing")).isEqualTo(1);
        assertThat(count("SELECT count(*) FROM shale_txn_aborted")).isEqualTo(1);
        again.node().commit(List.of(object("data/4", 10, 2)));
        assertThat(count("SELECT count(*) FROM shale_producers")).isEqualTo(1);
        assertThat(count("SELECT sum(end_offset) FROM shale_partitions")).isEqualTo(60);
    }

    @Test
    void aFrozenNodeShouldStopAcknowledgingLoseItsPartitionsAndBeFencedWhenItCommits() throws Exception {
        Node a = node("a", Duration.ofSeconds(1));
        a.node().createTopic("t", 4, Map.of());
        a.node().claim(ids(0, 1, 2, 3));
        a.node().commit(List.of(object("data/a1", 0, 0, 1, 2, 3)));
        assertThat(a.node().mayAcknowledge(0)).isTrue();

        a.node().pauseRenewalsForTests(true); // frozen: no renewal, no expiry check either
        await("a's own lease clock runs out", () -> !a.node().mayAcknowledge(0) && !a.node().mayAcknowledge(3));
        Node b = node("b", Duration.ofSeconds(30));
        Set<Integer> taken = new TreeSet<>();
        await("b takes the partitions over", () -> {
            taken.addAll(b.node().claim(ids(0, 1, 2, 3)).keySet());
            return taken.size() == 4;
        });
        String before = dump();

        // a wakes up and commits what it buffered: fenced, nothing written
        assertFenced(() -> a.node().commit(List.of(object("data/a2", 10, 0, 1))), "[0, 1]");
        assertThat(dump()).isEqualTo(before);
        assertThat(a.allLost()).containsExactly(0, 1);
        a.node().pauseRenewalsForTests(false);
        await("a's renewal finds the rest lost", () -> a.allLost().size() == 4);
        assertThat(a.node().owned()).isEmpty();
        assertFenced(() -> a.node().commit(List.of(object("data/a3", 10, 2))), "does not hold partitions [2]");

        b.node().commit(List.of(object("data/b1", 10, 0, 1, 2, 3)));
        assertThat(b.node().ownership()).extracting(ClusterNode.Ownership::epoch).containsOnly(2L);
    }

    @Test
    void twoNodesClaimingConcurrentlyShouldNeverBothGetAPartition() throws Exception {
        Node a = node("a", Duration.ofMinutes(5));
        Node b = node("b", Duration.ofMinutes(5));
        int partitions = 8;
        Set<Integer> all = ids(a.node().createTopic("t", partitions, Map.of()));
        long[] epochs = new long[partitions];
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 150; round++) {
                CyclicBarrier start = new CyclicBarrier(2);
                Future<Map<Integer, Long>> fa = pool.submit(() -> {
                    start.await(30, TimeUnit.SECONDS);
                    return a.node().claim(all);
                });
                Future<Map<Integer, Long>> fb = pool.submit(() -> {
                    start.await(30, TimeUnit.SECONDS);
                    return b.node().claim(all);
                });
                Map<Integer, Long> ga = fa.get(60, TimeUnit.SECONDS);
                Map<Integer, Long> gb = fb.get(60, TimeUnit.SECONDS);
                Set<Integer> both = new HashSet<>(ga.keySet());
                both.retainAll(gb.keySet());
                assertThat(both).as("round %d: claimed by both", round).isEmpty();
                Set<Integer> either = new TreeSet<>(ga.keySet());
                either.addAll(gb.keySet());
                assertThat(either).as("round %d: every claimable partition claimed once", round).isEqualTo(all);
                for (ClusterNode.Ownership o : a.node().ownership()) {
                    Map<Integer, Long> winner = ga.containsKey(o.partitionId()) ? ga : gb;
                    assertThat(o.owner()).isEqualTo(winner == ga ? "a" : "b");
                    assertThat(o.epoch()).as("round %d partition %d", round, o.partitionId())
                            .isEqualTo(winner.get(o.partitionId())).isEqualTo(++epochs[o.partitionId()]);
                }
                if (round % 2 == 0) {
                    // planned: each releases what it claimed
                    assertThat(a.node().release(ga.keySet())).isEqualTo(ga.keySet());
                    assertThat(b.node().release(gb.keySet())).isEqualTo(gb.keySet());
                } else {
                    // every lease runs out at once (the database's clock is the only one that counts)
                    try (Statement st = sql().createStatement()) {
                        st.executeUpdate("UPDATE shale_partitions SET lease_expires_at_ms = 0");
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
        a.node().renew();
        b.node().renew();
        Set<Integer> heldByBoth = new HashSet<>(a.node().owned().keySet());
        heldByBoth.retainAll(b.node().owned().keySet());
        assertThat(heldByBoth).isEmpty();
    }

    @Test
    void commitsRacingTakeoversShouldNeverLandForAnOwnerThatLostThePartition() throws Exception {
        Node[] nodes = {node("a", Duration.ofMinutes(5)), node("b", Duration.ofMinutes(5))};
        nodes[0].node().createTopic("t", 1, Map.of());
        assertThat(nodes[0].node().claim(ids(0))).hasSize(1);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        int fencedCommits = 0;
        try {
            for (int round = 0; round < 30; round++) {
                ClusterNode old = nodes[round % 2].node();
                ClusterNode next = nodes[(round + 1) % 2].node();
                long start = count("SELECT end_offset FROM shale_partitions");
                java.util.concurrent.atomic.AtomicInteger landed = new java.util.concurrent.atomic.AtomicInteger();
                int r = round;
                // the old owner commits back to back, each run following its own last one
                Future<Boolean> committing = pool.submit(() -> {
                    long base = start;
                    for (int i = 0; ; i++) {
                        try {
                            old.commit(List.of(object("data/" + r + "-" + i, base, 0)));
                        } catch (ShaleException e) {
                            return e.kind() == ErrorKind.FENCED;
                        }
                        base += 10;
                        landed.incrementAndGet();
                    }
                });
                await("round " + round + ": the owner commits", () -> landed.get() >= 2);
                // its lease runs out (database clock) and the next node takes over mid-stream
                try (Statement st = sql().createStatement()) {
                    st.executeUpdate("UPDATE shale_partitions SET lease_expires_at_ms = 0");
                }
                assertThat(next.claim(ids(0))).as("round %d", round).hasSize(1);
                long end = count("SELECT end_offset FROM shale_partitions");
                next.commit(List.of(object("data/" + round + "-next", end, 0)));
                assertThat(committing.get(60, TimeUnit.SECONDS)).as("round %d: the old owner was fenced", round)
                        .isTrue();
                fencedCommits++;
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(fencedCommits).isEqualTo(30);
        // every run follows the one before it: no commit of a fenced owner landed after a takeover
        long expected = 0;
        try (Statement st = sql().createStatement();
                ResultSet rs = st.executeQuery("SELECT base_offset, next_offset FROM shale_ranges ORDER BY base_offset")) {
            while (rs.next()) {
                assertThat(rs.getLong(1)).as("run at %d", rs.getLong(1)).isEqualTo(expected);
                expected = rs.getLong(2);
            }
        }
        assertThat(count("SELECT end_offset FROM shale_partitions")).isEqualTo(expected);
    }

    @Test
    void aListenerThrowingAnErrorShouldNotStopTheRenewals() throws Exception {
        ConcurrentLinkedQueue<Set<Integer>> heard = new ConcurrentLinkedQueue<>();
        ClusterNode a = ClusterNode.register(options.nodeId("a").build(), Duration.ofSeconds(3), (partitions, why) -> {
            heard.add(partitions);
            if (heard.size() == 1) {
                throw new AssertionError("a listener failing with an Error");
            }
        });
        toClose.add(a);
        a.createTopic("t", 2, Map.of());
        assertThat(a.claim(ids(0, 1))).isEqualTo(Map.of(0, 1L, 1, 1L));
        try (Statement st = sql().createStatement()) {
            // taken over behind a's back: its renewal thread finds it lost, and the listener throws
            st.executeUpdate("UPDATE shale_partitions SET owner_node = 'b', partition_epoch = 2 WHERE partition_id = 0");
            await("the renewal thread reports partition 0 lost", () -> heard.size() == 1);
            st.executeUpdate("UPDATE shale_partitions SET owner_node = 'b', partition_epoch = 2 WHERE partition_id = 1");
        }
        await("the renewal thread, still running, reports partition 1 lost", () -> heard.size() == 2);
        assertThat(List.copyOf(heard)).containsExactly(Set.of(0), Set.of(1));
    }

    @Test
    void aReleasedPartitionShouldMoveToTheNodeThatClaimsItWithTheNextEpoch() throws Exception {
        Node a = node("a", Duration.ofMinutes(5));
        Node b = node("b", Duration.ofMinutes(5));
        a.node().createTopic("t", 2, Map.of());
        assertThat(a.node().claim(ids(0, 1))).isEqualTo(Map.of(0, 1L, 1, 1L));
        a.node().commit(List.of(object("data/a1", 0, 0, 1)));

        assertThat(a.node().release(ids(0))).containsExactly(0);
        assertThat(a.node().mayAcknowledge(0)).isFalse();
        assertThat(a.node().mayAcknowledge(1)).isTrue();
        assertFenced(() -> a.node().commit(List.of(object("data/a2", 10, 0, 1))), "does not hold partitions [0]");
        assertThat(b.node().claim(ids(0, 1))).as("at once, without waiting for a lease").isEqualTo(Map.of(0, 2L));
        b.node().commit(List.of(object("data/b1", 10, 0)));
        a.node().commit(List.of(object("data/a3", 10, 1)));
        assertThat(count("SELECT end_offset FROM shale_partitions WHERE partition_id = 0")).isEqualTo(20);
        assertThat(count("SELECT end_offset FROM shale_partitions WHERE partition_id = 1")).isEqualTo(20);
        assertThat(a.node().renew()).isEmpty();
        assertThat(a.lost()).as("a release is not a loss").isEmpty();
        assertThatThrownBy(() -> a.node().release(ids(0))).isInstanceOf(ShaleException.class)
                .hasMessageContaining("does not hold partitions [0]");

        // the last upload and the release in one transaction
        a.node().commit(List.of(object("data/a4", 20, 1)), ids(1));
        assertThat(a.node().owned()).isEmpty();
        assertThat(b.node().claim(ids(1))).isEqualTo(Map.of(1, 2L));
        b.node().commit(List.of(object("data/b2", 30, 1)));
        assertThat(count("SELECT end_offset FROM shale_partitions WHERE partition_id = 1")).isEqualTo(40);

        // a release in a commit that is fenced does not happen
        Node c = node("c", Duration.ofMinutes(5));
        try (Statement st = sql().createStatement()) {
            st.executeUpdate("UPDATE shale_partitions SET lease_expires_at_ms = 0 WHERE partition_id = 0");
        }
        assertThat(c.node().claim(ids(0))).isEqualTo(Map.of(0, 3L));
        assertFenced(() -> b.node().commit(List.of(object("data/b3", 40, 0)), ids(1)), "[0]");
        assertThat(b.node().owned()).containsOnlyKeys(1);
        assertThat(b.node().ownership().get(1).owner()).isEqualTo("b");
        assertThat(a.lost()).as("a release is not a loss").isEmpty();
    }

    @Test
    void aReaderOfAClusterStoreShouldFollowTheNodesCommits() throws Exception {
        Node a = node("a", Duration.ofMinutes(5));
        Node b = node("b", Duration.ofMinutes(5));
        a.node().createTopic("t", 2, Map.of());
        a.node().claim(ids(0));
        b.node().claim(ids(1));
        PgCatalog reader = PgCatalog.open(options.build(), Clock.systemUTC(), true);
        toClose.add(reader);
        reader.load(null);
        assertThat(reader.refresh()).isFalse();

        a.node().commit(List.of(object("data/a", 0, 0)));
        assertThat(reader.refresh()).as("a node's commit does not move the store row's version").isTrue();
        b.node().commit(List.of(object("data/b", 0, 1)));
        b.node().commit(List.of(object("data/b2", 10, 1)));
        assertThat(reader.refresh()).isTrue();
        assertThat(reader.refresh()).isFalse();
        synchronized (reader.lock()) {
            assertThat(reader.state().partition(0).endOffset()).isEqualTo(10);
            assertThat(reader.state().partition(1).ranges()).hasSize(2);
        }
    }

    @Test
    void aRetriedCommitShouldLandOnceAndRunsBelowTheLogStartShouldNotBeKept() throws Exception {
        Node a = node("a", Duration.ofMinutes(5));
        a.node().createTopic("t", 2, Map.of());
        a.node().claim(ids(0, 1));
        ManifestOp.AddObject o = object("data/1", 0, 0, 1);
        a.node().commit(List.of(o));
        a.node().commit(List.of(o)); // as after a COMMIT without an answer
        assertThat(count("SELECT count(*) FROM shale_ranges")).isEqualTo(2);
        assertThat(count("SELECT count(*) FROM shale_objects WHERE unreferenced_since_ms IS NOT NULL")).isZero();

        try (Statement st = sql().createStatement()) {
            st.executeUpdate("UPDATE shale_partitions SET log_start_offset = 20, end_offset = 20");
        }
        a.node().commit(List.of(object("data/2", 10, 0, 1)));
        assertThat(count("SELECT count(*) FROM shale_ranges WHERE object_key = 'data/2'")).isZero();
        assertThat(count("SELECT count(*) FROM shale_objects WHERE object_key = 'data/2'"
                + " AND unreferenced_since_ms IS NOT NULL")).isEqualTo(1);
        assertThat(count("SELECT min(end_offset) FROM shale_partitions")).isEqualTo(20);
    }

    @Test
    void aSingleWriterStoreShouldBeConvertedOnlyOnPurposeWhichFencesItsWriter() throws Exception {
        PostgresCatalogOptions o = options.nodeId("writer").build();
        PgCatalog writer = PgCatalog.open(o, Clock.systemUTC(), false);
        toClose.add(writer);
        writer.load(null);
        long epoch = writer.claimWriter();
        writer.commit(List.of(new ManifestOp.CreateTopic("t", UUID.randomUUID(), Map.of(), new int[] {0, 1})), "1");
        writer.commit(List.of(object("data/w", 0, 0, 1)), "2");

        assertThatThrownBy(() -> node("a", Duration.ofMinutes(1))).isInstanceOf(ShaleException.class)
                .hasMessageContaining("single writer")
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT));
        writer.commit(List.of(object("data/w2", 10, 0)), "3"); // refused registration changed nothing

        ClusterNode.convertFromSingleWriter(options.build());
        assertThatThrownBy(() -> writer.commit(List.of(object("data/w3", 20, 0)), "4"))
                .isInstanceOf(ShaleException.class)
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.FENCED));
        assertThat(writer.checkNotFenced()).failsWithin(Duration.ofSeconds(30));

        Node a = node("a", Duration.ofMinutes(1));
        assertThat(a.node().claim(ids(0, 1))).as("epochs continue above the writer's")
                .isEqualTo(Map.of(0, epoch + 1, 1, epoch + 1));
        a.node().commit(List.of(object("data/a", 20, 0, 1)));

        PgCatalog late = PgCatalog.open(options.nodeId("late").build(), Clock.systemUTC(), false);
        toClose.add(late);
        late.load(null);
        assertThatThrownBy(late::claimWriter).isInstanceOf(ShaleException.class)
                .hasMessageContaining("cluster")
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT));
        PgCatalog reader = PgCatalog.open(options.build(), Clock.systemUTC(), true);
        toClose.add(reader);
        reader.load(null);
        assertThat(reader.state().partition(0).endOffset()).isEqualTo(30);
        assertThat(reader.state().partition(1).endOffset()).isEqualTo(30);
    }

    @Test
    void theEngineShouldBeFencedByTheConversionAndOpenTheClusterStoreOnlyToRead() throws Exception {
        Map<String, Object> cfg = Map.of(io.shale.log.StoreConfig.UPLOAD_INTERVAL_MS, 3_600_000);
        var factory = PostgresCatalog.factory(options.nodeId("writer").build());
        io.shale.log.LogStore writer = io.shale.storage.local.LocalStorage.builder(dir).catalog(factory).config(cfg).open();
        toClose.add(writer);
        writer.createTopic("t", 2);
        var tp = io.shale.log.TopicPartition.of("t", 1);
        writer.append(tp, List.of(io.shale.log.record.SimpleRecord.of(null, "before"))).join();
        writer.flush();

        ClusterNode.convertFromSingleWriter(options.build());
        writer.append(tp, List.of(io.shale.log.record.SimpleRecord.of(null, "after")));
        assertThatThrownBy(writer::flush).isInstanceOf(ShaleException.class)
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.FENCED));

        // the engine's writer (and with it its orphan cleanup) never runs on a cluster store
        assertThatThrownBy(() -> io.shale.storage.local.LocalStorage.builder(dir.resolve("other"))
                .catalog(PostgresCatalog.factory(options.nodeId("second").build())).open())
                .isInstanceOf(ShaleException.class).hasMessageContaining("cluster")
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT));
        io.shale.log.LogStore reader = io.shale.storage.local.LocalStorage.readOnly(dir)
                .catalog(PostgresCatalog.factory(options.nodeId("reader").build())).open();
        toClose.add(reader);
        List<String> values = new ArrayList<>();
        for (io.shale.log.record.Record rec : reader.read(tp, 0, 1 << 20).records()) {
            values.add(java.nio.charset.StandardCharsets.UTF_8.decode(rec.value()).toString());
        }
        assertThat(values).containsExactly("before");
    }

    /** A local store in {@code dir} tied to this catalog (a writer opened it once), turned into a cluster store. */
    private void clusterStoreInDir() {
        io.shale.log.LogStore writer = io.shale.storage.local.LocalStorage.builder(dir)
                .catalog(PostgresCatalog.factory(options.nodeId("writer").build())).open();
        writer.close();
        ClusterNode.convertFromSingleWriter(options.build());
    }

    /**
     * A node's topic goes into the tables every reader rebuilds its state from: a name or config
     * the engine would refuse must be refused here too, else one bad call makes the store
     * unreadable for every reader (a null config value fails the catalog's own check, an unknown
     * key or a bad value the engine's).
     */
    @Test
    void aTopicTheEngineWouldRefuseShouldBeRefusedAndNotMakeTheStoreUnreadable() throws Exception {
        clusterStoreInDir();
        Node a = node("a", Duration.ofMinutes(1));
        a.node().createTopic("good", 1, Map.of("retention.ms", "60000"));
        Map<String, String> nullValue = new java.util.HashMap<>();
        nullValue.put("retention.ms", null);
        List<Map.Entry<String, Map<String, String>>> bad = List.of(Map.entry("", Map.of()),
                Map.entry("a/b", Map.of()), Map.entry("..", Map.of()), Map.entry("x".repeat(250), Map.of()),
                Map.entry("t1", Map.of("no.such.config", "1")), Map.entry("t2", Map.of("retention.ms", "soon")),
                Map.entry("t3", nullValue));
        for (Map.Entry<String, Map<String, String>> b : bad) {
            assertThatThrownBy(() -> a.node().createTopic(b.getKey(), 1, b.getValue()))
                    .as("topic '%s' with %s", b.getKey(), b.getValue()).isInstanceOf(ShaleException.class)
                    .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT));
        }
        io.shale.log.LogStore reader = io.shale.storage.local.LocalStorage.readOnly(dir)
                .catalog(PostgresCatalog.factory(options.nodeId("reader").build())).open();
        toClose.add(reader);
        assertThat(reader.listTopics()).containsExactly("good");
    }

    /**
     * A commit that read the node's epochs, then found a partition at a newer epoch because this
     * very node released and claimed it again meanwhile, must not report that partition lost: the
     * node still holds it (and keeps renewing it), so a listener that dropped it would leave the
     * partition owned and served by nobody.
     */
    @Test
    void aCommitFencedOnAnEpochThisNodeClaimedAgainShouldNotReportThePartitionLost() throws Exception {
        Node a = node("a", Duration.ofSeconds(30));
        a.node().createTopic("t", 2, Map.of());
        a.node().claim(ids(0, 1));
        // hold partition 0's row so that the commit, which locks 0 then 1, waits after reading its epochs
        Connection blocker = sql();
        blocker.setAutoCommit(false);
        try (Statement st = blocker.createStatement()) {
            st.execute("SELECT * FROM shale_partitions WHERE partition_id = 0 FOR UPDATE");
        }
        java.util.concurrent.CompletableFuture<Void> commit = java.util.concurrent.CompletableFuture.runAsync(
                () -> a.node().commit(List.of(object("data/x", 0, 0, 1))));
        Connection watcher = sql();
        await("the commit waits for partition 0's row", () -> {
            try (Statement st = watcher.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*)"
                    + " FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO shale_objects%'")) {
                rs.next();
                return rs.getInt(1) == 1;
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(a.node().release(List.of(1))).containsExactly(1);
        assertThat(a.node().claim(List.of(1))).isEqualTo(Map.of(1, 2L));
        blocker.commit();
        assertThatThrownBy(() -> commit.get(60, java.util.concurrent.TimeUnit.SECONDS))
                .hasCauseInstanceOf(ShaleException.class).hasMessageContaining("lost partitions [1]");
        assertThat(a.node().owned()).isEqualTo(Map.of(0, 1L, 1, 2L));
        assertThat(a.allLost()).as("partition 1 is held (epoch 2), not lost").isEmpty();
    }

    /**
     * Registering a node id again releases what the earlier process of that id held and so fences
     * it; the earlier process, if it still runs, must not take those partitions (or any other)
     * back from under the new one by claiming them, as nothing would ever stop it again.
     */
    @Test
    void anEarlierProcessOfANodeRegisteredAgainShouldNotClaimPartitionsAnyMore() throws Exception {
        Node first = node("a", Duration.ofSeconds(30));
        first.node().createTopic("t", 2, Map.of());
        assertThat(first.node().claim(ids(0))).isEqualTo(Map.of(0, 1L));
        Node second = node("a", Duration.ofSeconds(30));
        assertThat(first.node().renew()).as("the first process lost what it held").containsExactly(0);
        assertFenced(() -> first.node().claim(ids(0, 1)), "registered again");
        assertThat(second.node().claim(ids(0, 1))).isEqualTo(Map.of(0, 2L, 1, 1L));
        assertThat(first.node().owned()).isEmpty();
    }

    /**
     * The same while the earlier process claims all the time: a registration waits for the claims
     * in flight and releases what they took, and every later claim of the earlier process fails, so
     * right after the registration no partition is owned under the node id.
     */
    @Test
    void aRegistrationRacingClaimsOfTheEarlierProcessShouldLeaveNothingOwnedUnderTheId() throws Exception {
        Node creator = node("creator", Duration.ofSeconds(30));
        Set<Integer> all = ids(creator.node().createTopic("t", 8, Map.of()));
        for (int round = 0; round < 10; round++) {
            String id = "n" + round;
            Node first = node(id, Duration.ofSeconds(30));
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.CompletableFuture<Throwable> claims = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> {
                        while (!stop.get()) {
                            try {
                                first.node().claim(all);
                            } catch (ShaleException e) {
                                return e;
                            }
                        }
                        return null;
                    });
            Throwable end;
            try {
                await("the first process claimed", () -> !first.node().owned().isEmpty());
                node(id, Duration.ofSeconds(30));
                assertThat(count("SELECT count(*) FROM shale_partitions WHERE owner_node = '" + id + "'"))
                        .as("round %d: owned under %s right after the registration", round, id).isZero();
                end = claims.get(60, TimeUnit.SECONDS);
            } finally {
                stop.set(true);
            }
            assertThat(end).isInstanceOf(ShaleException.class)
                    .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.FENCED));
            first.node().close();
        }
    }

    @Test
    void badArgumentsAndAClosedNodeShouldFailClearly() throws Exception {
        assertThatThrownBy(() -> node("a", Duration.ofMillis(100))).isInstanceOf(ShaleException.class)
                .hasMessageContaining("lease must be between 300 ms and 10 minutes, got PT0.1S")
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT));
        Node a = node("a", Duration.ofMinutes(1));
        a.node().createTopic("t", 1, Map.of());
        assertThatThrownBy(() -> a.node().createTopic("t", 1, Map.of())).isInstanceOf(ShaleException.class)
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.TOPIC_ALREADY_EXISTS));
        assertThatThrownBy(() -> a.node().claim(List.of(0, -1))).isInstanceOf(ShaleException.class)
                .hasMessageContaining("non-negative, got -1");
        a.node().claim(ids(0));
        assertThatThrownBy(() -> a.node().commit(List.of(new ManifestOp.SetLogStart(0, 5))))
                .isInstanceOf(ShaleException.class).hasMessageContaining("not SetLogStart")
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT));
        assertThat(a.node().claim(ids(0, 7))).as("ids that do not exist are left out").isEmpty();
        a.node().close();
        assertThat(a.node().mayAcknowledge(0)).isFalse();
        assertThatThrownBy(() -> a.node().commit(List.of(object("data/x", 0, 0)))).isInstanceOf(ShaleException.class)
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.CLOSED));
        assertThatThrownBy(() -> a.node().renew()).isInstanceOf(ShaleException.class)
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.CLOSED));
    }

    @Test
    void aVersionOneSchemaShouldMigrateInPlaceAndKeepWorkingAsASingleWriterStore() throws Exception {
        PostgresCatalogOptions o = options.nodeId("old").build();
        // a schema as version 1 of Shale left it, written by version 1's commit path
        Connection c = sql();
        assertThat(SchemaMigrations.migrate(c, o.schema(), 1)).isEqualTo(1);
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.executeUpdate("UPDATE shale_store SET writer_epoch = 3, writer_node = 'old'");
        }
        assertThat(CommitWriter.write(c, List.of(new ManifestOp.CreateTopic("t", UUID.randomUUID(),
                Map.of("retention.ms", "1000"), new int[] {0, 1})), "1", 1L, 3, "old")).isEqualTo(1);
        assertThat(CommitWriter.write(c, List.of(object("data/v1", 0, 0, 1)), "2", 2L, 3, "old")).isEqualTo(2);
        c.commit();
        c.setAutoCommit(true);
        assertThat(count("SELECT max(version) FROM schema_version")).isEqualTo(1);

        PgCatalog w = PgCatalog.open(o, Clock.systemUTC(), false);
        toClose.add(w);
        assertThat(count("SELECT max(version) FROM schema_version")).isEqualTo(SchemaMigrations.latestVersion());
        assertThat(count("SELECT count(*) FROM shale_store WHERE ownership = 'writer'")).isEqualTo(1);
        w.load(null);
        assertThat(w.state().version()).isEqualTo(2);
        assertThat(w.state().topic("t").configs()).isEqualTo(Map.of("retention.ms", "1000"));
        assertThat(w.state().partition(1).endOffset()).isEqualTo(10);
        assertThat(w.claimWriter()).isEqualTo(4);
        w.commit(List.of(object("data/v2", 10, 0, 1)), "3");
        w.commit(List.of(new ManifestOp.AddPartitions("t", new int[] {2})), "4");
        assertThat(count("SELECT count(*) FROM shale_partitions WHERE owner_node = 'old' AND partition_epoch = 4"))
                .isEqualTo(3);

        PgCatalog reader = PgCatalog.open(o, Clock.systemUTC(), true);
        toClose.add(reader);
        reader.load(null);
        assertThat(reader.state().version()).isEqualTo(w.state().version());
        assertThat(reader.state().partition(0).ranges()).hasSize(2);
        assertThat(count("SELECT count(*) FROM schema_version")).as("migrated once").isEqualTo(SchemaMigrations.latestVersion());
    }
}
