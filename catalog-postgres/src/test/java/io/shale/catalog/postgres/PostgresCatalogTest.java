package io.shale.catalog.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.ShaleException;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.internal.manifest.ManifestOp;
import io.shale.log.internal.manifest.ObjectMeta;
import io.shale.log.internal.manifest.RangeRef;
import io.shale.log.record.Record;
import io.shale.log.record.SimpleRecord;
import io.shale.storage.local.LocalStorage;
import io.shale.storage.testkit.PostgresServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;

/** Fencing, restart recovery, bad rows and bad connections of the PostgreSQL catalog, on a real server. */
@ExtendWith({PostgresServer.Extension.class, PostgresCatalogTest.Server.class})
class PostgresCatalogTest {
    @TempDir
    Path dir;

    PostgresServer server;
    PostgresCatalogOptions options;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    static final class Server implements org.junit.jupiter.api.extension.BeforeEachCallback {
        @Override
        public void beforeEach(ExtensionContext context) {
            PostgresCatalogTest test = (PostgresCatalogTest) context.getRequiredTestInstance();
            test.server = PostgresServer.get(context);
        }
    }

    @BeforeEach
    void freshSchema() {
        options = TestCatalogs.freshOptions(server).build();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            try {
                toClose.get(i).close();
            } catch (RuntimeException e) {
                // fenced or broken on purpose; the test judged it
            }
        }
    }

    private PgCatalog catalog() {
        PgCatalog c = PgCatalog.open(options, Clock.systemUTC(), false);
        toClose.add(c);
        c.load(null);
        return c;
    }

    private LogStore openStore(Map<String, ?> settings) {
        LogStore s = LocalStorage.builder(dir).catalog(PostgresCatalog.factory(options))
                .config(settings).open();
        toClose.add(s);
        return s;
    }

    private Connection sql() throws SQLException {
        Connection c = DriverManager.getConnection(server.jdbcUrl(), "postgres", "");
        c.setSchema(options.schema());
        toClose.add(c);
        return c;
    }

    private long count(String query) throws SQLException {
        try (Statement st = sql().createStatement(); ResultSet rs = st.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static ManifestOp.AddObject object(String key, int... partitionIds) {
        ObjectMeta o = new ObjectMeta(key, 1_000, 900, ObjectMeta.KIND_MULTI, 1L);
        List<RangeRef> ranges = new ArrayList<>();
        for (int i = 0; i < partitionIds.length; i++) {
            ranges.add(new RangeRef(o, partitionIds[i], 0, 10, 5L, i * 100L, 100, i, 1, 42));
        }
        return new ManifestOp.AddObject(o, ranges);
    }

    @Test
    void aFencedWritersCommitShouldFailFencedAndChangeNoRow() throws Exception {
        PgCatalog first = catalog();
        long e1 = first.claimWriter();
        first.commit(List.of(new ManifestOp.CreateTopic("t", UUID.randomUUID(), Map.of(), new int[] {0, 1, 2})),
                "create");
        first.commit(List.of(object("data/a", 0, 1, 2)), "a");

        // an upload's commit (the one-statement path) of a writer a newer one fenced
        PgCatalog second = catalog();
        long e2 = second.claimWriter();
        assertThat(e2).isEqualTo(e1 + 1);
        long versionAfterClaim = count("SELECT version FROM shale_store");
        assertFenced(() -> first.commit(List.of(object("data/b", 0, 1, 2), object("data/b2", 1)), "b"));
        assertThat(first.isFenced()).isTrue();
        assertFenced(() -> first.commit(List.of(object("data/c", 0)), "c"));
        assertThat(first.checkNotFenced()).failsWithin(Duration.ofSeconds(30));
        assertThat(count("SELECT version FROM shale_store")).as("no version bump").isEqualTo(versionAfterClaim);
        assertThat(count("SELECT count(*) FROM shale_objects WHERE object_key <> 'data/a'")).isZero();
        assertThat(count("SELECT count(*) FROM shale_ranges WHERE object_key <> 'data/a'")).isZero();
        assertThat(count("SELECT max(end_offset) FROM shale_partitions")).as("end offsets untouched").isEqualTo(10);

        // a multi-op commit (one statement per op) of a writer a newer one fenced
        PgCatalog third = catalog();
        long e3 = third.claimWriter();
        long versionAfterThirdClaim = count("SELECT version FROM shale_store");
        assertFenced(() -> second.commit(List.of(
                new ManifestOp.CreateTopic("u", UUID.randomUUID(), Map.of(), new int[] {3}),
                object("data/d", 0, 1, 3),
                new ManifestOp.SetLogStart(0, 5)), "d"));
        assertThat(count("SELECT version FROM shale_store")).isEqualTo(versionAfterThirdClaim);
        assertThat(count("SELECT count(*) FROM shale_topics WHERE name = 'u'")).isZero();
        assertThat(count("SELECT count(*) FROM shale_partitions")).isEqualTo(3);
        assertThat(count("SELECT count(*) FROM shale_objects WHERE object_key <> 'data/a'")).isZero();
        assertThat(count("SELECT count(*) FROM shale_ranges")).isEqualTo(3);
        assertThat(count("SELECT max(log_start_offset) FROM shale_partitions")).isZero();
        assertThat(count("SELECT count(*) FROM shale_partitions WHERE partition_epoch <> " + e3)).isZero();
        assertThat(count("SELECT writer_epoch FROM shale_nodes")).isEqualTo(e3);

        // the newest writer carries on from the same state
        third.commit(List.of(object("data/e", 0, 1)), "e");
        assertThat(third.state().partition(0).ranges()).hasSize(2);
        assertThat(third.checkNotFenced()).succeedsWithin(Duration.ofSeconds(30));
    }

    private static void assertFenced(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOf(ShaleException.class)
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.FENCED));
    }

    @Test
    void aReloadShouldRebuildTheSameStateTheWriterHoldsInMemory() throws Exception {
        PgCatalog w = catalog();
        w.claimWriter();
        w.commit(List.of(new ManifestOp.CreateTopic("t", UUID.randomUUID(), Map.of("cleanup.policy", "compact"),
                new int[] {0, 1})), "1");
        w.commit(List.of(new ManifestOp.CreateTopic("u", UUID.randomUUID(), Map.of(), new int[] {2})), "2");
        w.commit(List.of(new ManifestOp.AddPartitions("t", new int[] {3})), "3");
        w.commit(List.of(object("data/a", 0, 1, 2, 3)), "4");
        w.commit(List.of(object("data/b", 0, 3)), "5");
        w.commit(List.of(new ManifestOp.SetLogStart(3, 10), new ManifestOp.SetCleanedOffset(0, 7)), "6");
        w.commit(List.of(new ManifestOp.DeleteTopic("u")), "7");
        w.commit(List.of(new ManifestOp.RemoveRanges(1, List.of(new ManifestOp.RangeId("data/a", 0)))), "8");
        w.commit(List.of(object("data/e", 2)), "8b"); // partition 2 went with topic u: nothing points at it
        w.commit(List.of(new ManifestOp.SetLogStart(0, 20), object("data/f", 0)), "8c"); // runs below the start
        assertThat(w.state().pendingDeletes()).containsKeys("data/e", "data/f");
        assertThat(count("SELECT count(*) FROM shale_objects WHERE unreferenced_since_ms IS NOT NULL"))
                .isEqualTo(w.state().pendingDeletes().size());

        PgCatalog reader = PgCatalog.open(options, Clock.systemUTC(), true);
        toClose.add(reader);
        reader.load(null);
        var a = w.state();
        var b = reader.state();
        assertThat(b.version()).isEqualTo(a.version());
        assertThat(b.writerEpoch()).isEqualTo(a.writerEpoch());
        assertThat(b.nextPartitionId()).isEqualTo(a.nextPartitionId()).isEqualTo(4);
        assertThat(b.topics().keySet()).containsExactly("t");
        assertThat(b.topic("t").partitionIds()).containsExactly(0, 1, 3);
        assertThat(b.topic("t").configs()).isEqualTo(Map.of("cleanup.policy", "compact"));
        for (int id : new int[] {0, 1, 3}) {
            var pa = a.partition(id);
            var pb = b.partition(id);
            assertThat(pb.logStartOffset()).as("log start of %d", id).isEqualTo(pa.logStartOffset());
            assertThat(pb.endOffset()).as("end of %d", id).isEqualTo(pa.endOffset());
            assertThat(pb.cleanedOffset()).as("cleaned of %d", id).isEqualTo(pa.cleanedOffset());
            assertThat(List.of(pb.ranges()).toString()).as("ranges of %d", id).isEqualTo(List.of(pa.ranges()).toString());
        }
        assertThat(b.pendingDeletes().keySet()).isEqualTo(a.pendingDeletes().keySet());
        assertThat(b.objects().keySet()).isEqualTo(a.objects().keySet());
        assertThat(reader.refresh()).isFalse();
        w.commit(List.of(object("data/c", 0)), "9");
        assertThat(reader.refresh()).as("a reader sees the new version").isTrue();
        assertThat(reader.state().partition(0).ranges()).hasSize(a.partition(0).ranges().length);
    }

    @Test
    void aRestartedStoreShouldReadItsDataAndReplayTheWal() {
        Map<String, Object> cfg = Map.of(StoreConfig.UPLOAD_INTERVAL_MS, 3_600_000);
        LogStore s = openStore(cfg);
        s.createTopic("t", 4);
        TopicPartition tp = TopicPartition.of("t", 2);
        for (int i = 0; i < 5; i++) {
            s.append(tp, List.of(SimpleRecord.of(null, "uploaded-" + i))).join();
        }
        s.flush();
        for (int i = 0; i < 3; i++) {
            s.append(tp, List.of(SimpleRecord.of(null, "wal-" + i))).join();
        }
        s.close(); // the file WAL keeps what was appended after the flush... or close uploads it: both must read back

        LogStore again = openStore(cfg);
        assertThat(values(again, tp)).containsExactly("uploaded-0", "uploaded-1", "uploaded-2", "uploaded-3",
                "uploaded-4", "wal-0", "wal-1", "wal-2");
        assertThat(again.append(tp, List.of(SimpleRecord.of(null, "next"))).join()
                .baseOffset()).isEqualTo(8);
        again.close();

        LogStore reader = LocalStorage.readOnly(dir).catalog(PostgresCatalog.factory(options)).open();
        toClose.add(reader);
        assertThat(values(reader, tp)).hasSize(9).endsWith("next");
    }

    /**
     * The object WAL committing its own objects as data objects (RFC 0006) goes through the same
     * AddObject commits: the catalog records the WAL objects, a second writer takes over while the
     * first holds acknowledged data only in uncommitted WAL objects, and nothing is lost.
     */
    @Test
    void walObjectsCommittedAsDataObjectsShouldRoundTripThroughTheCatalogAndSurviveATakeover() throws Exception {
        Map<String, Object> hold = Map.of(StoreConfig.UPLOAD_INTERVAL_MS, 3_600_000, StoreConfig.UPLOAD_BYTES, 1L << 30);
        java.util.function.Supplier<LogStore> open = () -> {
            LogStore s = LogStore.builder()
                    .objectStore(io.shale.storage.local.objectstore.LocalDirectoryObjectStore.open(dir.resolve("bucket")))
                    .wal(io.shale.log.wal.ObjectWriteAheadLog.builder().flushInterval(Duration.ofMillis(5))
                            .dataObjects(true).build())
                    .catalog(PostgresCatalog.factory(options)).config(hold).open();
            toClose.add(s);
            return s;
        };
        TopicPartition tp = TopicPartition.of("t", 0);
        LogStore first = open.get();
        first.createTopic("t", 1);
        for (int i = 0; i < 10; i++) {
            first.append(tp, List.of(SimpleRecord.of(null, "v" + i))).join();
        }
        first.flush();
        assertThat(count("SELECT count(*) FROM shale_objects WHERE object_key LIKE 'wal/%'")).isPositive();
        assertThat(count("SELECT count(*) FROM shale_objects WHERE object_key LIKE 'data/%'")).isZero();
        for (int i = 10; i < 20; i++) {
            first.append(tp, List.of(SimpleRecord.of(null, "v" + i))).join(); // only in WAL objects
        }
        LogStore second = open.get(); // fences the first
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            expected.add("v" + i);
        }
        assertThat(values(second, tp)).isEqualTo(expected);
        second.flush();
        assertThatThrownBy(first::flush).isInstanceOf(ShaleException.class);
        first.close();
        second.close();
        LogStore third = open.get();
        assertThat(values(third, tp)).isEqualTo(expected);
    }

    private static java.nio.ByteBuffer idempotentBatch(long producerId, int baseSequence, String... values) {
        io.shale.log.record.RecordBatchBuilder b = new io.shale.log.record.RecordBatchBuilder()
                .producer(producerId, (short) 0, baseSequence);
        for (String v : values) {
            b.append(SimpleRecord.of(null, v));
        }
        return b.build();
    }

    @Test
    void idempotentProducerStateAndProducerIdsShouldSurviveARestartThroughTheTables() throws Exception {
        Map<String, Object> cfg = Map.of(StoreConfig.UPLOAD_INTERVAL_MS, 3_600_000);
        LogStore s = openStore(cfg);
        s.createTopic("t", 2);
        TopicPartition tp = TopicPartition.of("t", 1);
        long producer = s.allocateProducerId();
        s.appendBatch(tp, idempotentBatch(producer, 0, "a", "b")).join();
        long secondBase = s.appendBatch(tp, idempotentBatch(producer, 2, "c")).join().baseOffset();
        s.flush(); // the upload commits the producer state with the data
        assertThat(count("SELECT count(*) FROM shale_producers")).isEqualTo(1);
        assertThat(count("SELECT next_producer_id FROM shale_store")).isGreaterThan(producer);
        s.close();

        // the same bucket and WAL directory, but the WAL is emptied: only the tables know the producer
        LogStore again = openStore(cfg);
        assertThat(again.appendBatch(tp, idempotentBatch(producer, 2, "c")).join().baseOffset())
                .as("a retry of the last batch is answered with its original offset").isEqualTo(secondBase);
        assertThat(values(again, tp)).containsExactly("a", "b", "c");
        assertThatThrownBy(() -> again.appendBatch(tp, idempotentBatch(producer, 7, "gap")).join())
                .hasCauseInstanceOf(ShaleException.class)
                .satisfies(e -> assertThat(((ShaleException) e.getCause()).kind()).isEqualTo(ErrorKind.OUT_OF_ORDER_SEQUENCE));
        assertThat(again.allocateProducerId()).as("ids are never handed out twice").isGreaterThan(producer);

        again.deleteTopic("t");
        again.flush();
        assertThat(count("SELECT count(*) FROM shale_producers")).as("rows go with their partition").isZero();
    }

    private static List<String> values(LogStore s, TopicPartition tp) {
        List<String> out = new ArrayList<>();
        long offset = s.logStartOffset(tp);
        while (offset < s.highWatermark(tp)) {
            FetchResult r = s.read(tp, offset, 1 << 20);
            for (Record rec : r.records()) {
                out.add(StandardCharsets.UTF_8.decode(rec.value()).toString());
            }
            offset = r.nextOffset();
        }
        return out;
    }

    @Test
    void rowsThatContradictEachOtherShouldFailTheOpenWithCorruptStorage() throws Exception {
        PgCatalog w = catalog();
        w.claimWriter();
        w.commit(List.of(new ManifestOp.CreateTopic("t", UUID.randomUUID(), Map.of(), new int[] {0, 1})), "1");
        w.commit(List.of(object("data/a", 0, 1)), "2");
        w.close();

        try (Statement st = sql().createStatement()) {
            st.executeUpdate("UPDATE shale_partitions SET partition_index = 5 WHERE partition_id = 1");
        }
        assertCorrupt("partition index 5");

        try (Statement st = sql().createStatement()) {
            st.executeUpdate("UPDATE shale_partitions SET partition_index = 1 WHERE partition_id = 1");
            st.executeUpdate("UPDATE shale_ranges SET byte_position = 100000 WHERE partition_id = 1");
        }
        assertCorrupt("runs past the data of object 'data/a'");

        try (Statement st = sql().createStatement()) {
            st.executeUpdate("UPDATE shale_ranges SET byte_position = 0 WHERE partition_id = 1");
            st.executeUpdate("UPDATE shale_objects SET unreferenced_since_ms = 5 WHERE object_key = 'data/a'");
        }
        assertCorrupt("both referenced and pending deletion");

        try (Statement st = sql().createStatement()) {
            st.executeUpdate("UPDATE shale_objects SET unreferenced_since_ms = NULL");
            st.executeUpdate("INSERT INTO schema_version (version, file) VALUES (99, 'V99__future.sql')");
        }
        assertThatThrownBy(() -> PgCatalog.open(options, Clock.systemUTC(), false))
                .isInstanceOf(ShaleException.class)
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE))
                .hasMessageContaining("version 99, newer than this version of Shale knows");
    }

    private void assertCorrupt(String message) {
        PgCatalog c = PgCatalog.open(options, Clock.systemUTC(), false);
        toClose.add(c);
        assertThatThrownBy(() -> c.load(null)).isInstanceOf(ShaleException.class)
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE))
                .hasMessageContaining(message);
        // and through the public API
        assertThatThrownBy(() -> openStore(Map.of())).isInstanceOf(ShaleException.class)
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE));
    }

    @Test
    void aCommitWhoseCommitWasLostShouldBeResolvedByTheNextCommitExactlyOnce() throws Exception {
        PgCatalog w = catalog();
        w.claimWriter();
        w.commit(List.of(new ManifestOp.CreateTopic("t", UUID.randomUUID(), Map.of(), new int[] {0, 1})), "create");

        // 1. The connection dies before COMMIT reaches the server: the commit did not land.
        w.beforeCommitForTests(c -> {
            try (Statement st = c.createStatement()) {
                st.execute("SELECT pg_terminate_backend(pg_backend_pid())");
            } catch (SQLException expected) {
                // the server ended this very connection
            }
        });
        assertUnavailable(() -> w.commit(List.of(object("data/lost", 0, 1)), "lost"));
        assertThat(w.objectsOfUnresolvedCommits()).containsExactly("data/lost");
        w.beforeCommitForTests(c -> {
        });
        w.commit(List.of(object("data/lost", 0, 1)), "lost"); // the retry with the same token writes it once
        assertThat(count("SELECT count(*) FROM shale_objects WHERE object_key = 'data/lost'")).isEqualTo(1);
        assertThat(w.objectsOfUnresolvedCommits()).isEmpty();

        // 2. COMMIT lands but its answer is lost (the connection dies after it).
        long versionBefore = count("SELECT version FROM shale_store");
        w.beforeCommitForTests(c -> {
            c.commit(); // lands
            try (Statement st = c.createStatement()) {
                st.execute("SELECT 1"); // opens the next transaction, whose COMMIT then fails
            }
            int pid = c.unwrap(org.postgresql.PGConnection.class).getBackendPID();
            try (Statement st = sql().createStatement()) {
                st.execute("SELECT pg_terminate_backend(" + pid + ")");
            }
        });
        assertUnavailable(() -> w.commit(List.of(object("data/landed", 0)), "landed"));
        w.beforeCommitForTests(c -> {
        });
        assertThat(count("SELECT version FROM shale_store")).isEqualTo(versionBefore + 1);
        // another commit first learns that the lost one landed, applies it, and asks to be planned again
        assertUnavailable(() -> w.commit(List.of(object("data/other", 1)), "other"));
        assertThat(w.state().objects()).containsKey("data/landed");
        w.commit(List.of(object("data/landed", 0)), "landed"); // the caller's retry returns at once
        w.commit(List.of(object("data/other", 1)), "other");
        assertThat(count("SELECT count(*) FROM shale_objects WHERE object_key = 'data/landed'")).isEqualTo(1);
        assertThat(count("SELECT version FROM shale_store")).isEqualTo(versionBefore + 2);
        assertThat(w.state().version()).isEqualTo(versionBefore + 2);
    }

    private static void assertUnavailable(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOf(ShaleException.class)
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.UNAVAILABLE));
    }

    @Test
    void aBucketShouldOpenOnlyWithTheCatalogThatHoldsItsMetadata() {
        Path pgStore = dir;
        LogStore s = openStore(Map.of());
        s.createTopic("t", 1);
        s.append(TopicPartition.of("t", 0), List.of(SimpleRecord.of(null, "v"))).join();
        s.close();

        // the default catalog (the manifest in the bucket) refuses it: it would see no objects
        assertThatThrownBy(() -> LocalStorage.builder(pgStore).open()).isInstanceOf(ShaleException.class)
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT))
                .hasMessageContaining("external catalog");
        assertThatThrownBy(() -> LocalStorage.readOnly(pgStore).open())
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT));
        // so does another PostgreSQL catalog (a wrong schema or database)
        PostgresCatalogOptions other = TestCatalogs.freshOptions(server).build();
        assertThatThrownBy(() -> LocalStorage.builder(pgStore).catalog(PostgresCatalog.factory(other)).open())
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT))
                .hasMessageContaining("belongs to another catalog");
        // and the right one still opens it, data intact
        LogStore again = openStore(Map.of());
        assertThat(values(again, TopicPartition.of("t", 0))).containsExactly("v");
        again.close();

        // a bucket whose manifest lives in the bucket is refused by the PostgreSQL catalog
        Path bucketStore = dir.resolve("default");
        try (LogStore d = LocalStorage.open(bucketStore)) {
            d.createTopic("t", 1);
        }
        assertThatThrownBy(() -> LocalStorage.builder(bucketStore).catalog(PostgresCatalog.factory(other)).open())
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT))
                .hasMessageContaining("keeps its metadata in the bucket");
        try (LogStore d = LocalStorage.open(bucketStore)) {
            assertThat(d.listTopics()).containsExactly("t");
        }
    }

    @Test
    void aSchemaNamedLikeAKeywordShouldWorkAndASecondOpenerShouldNotMigrateAgain() throws Exception {
        options = PostgresCatalogOptions.builder(server.jdbcUrl()).user("postgres").schema("select").build();
        PgCatalog a = catalog();
        PgCatalog b = catalog();
        a.claimWriter();
        a.commit(List.of(new ManifestOp.CreateTopic("t", UUID.randomUUID(), Map.of(), new int[] {0})), "1");
        assertThat(b.refresh()).isTrue();
        assertThat(b.state().topic("t")).isNotNull();
        assertThat(count("SELECT count(*) FROM schema_version")).isEqualTo(SchemaMigrations.latestVersion());
    }

    @Test
    void aMissingDatabaseOrAnUnreachableServerShouldFailTheOpenClearly() {
        PostgresCatalogOptions missingDb = PostgresCatalogOptions.builder(
                "jdbc:postgresql://127.0.0.1:" + server.port() + "/no_such_db").user("postgres").build();
        assertThatThrownBy(() -> PgCatalog.open(missingDb, Clock.systemUTC(), false))
                .isInstanceOf(ShaleException.class)
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.STORAGE_ACCESS))
                .hasMessageContaining("no_such_db");

        int closedPort;
        try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        PostgresCatalogOptions nobody = PostgresCatalogOptions.builder("jdbc:postgresql://127.0.0.1:" + closedPort
                + "/postgres").user("postgres").connectTimeout(Duration.ofSeconds(1)).build();
        assertThatThrownBy(() -> LocalStorage.builder(dir).catalog(PostgresCatalog.factory(nobody)).open())
                .isInstanceOf(ShaleException.class)
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.UNAVAILABLE));
        assertThatThrownBy(() -> PostgresCatalogOptions.builder("jdbc:mysql://x/y"))
                .hasMessageContaining("must start with jdbc:postgresql:");
        assertThatThrownBy(() -> PostgresCatalogOptions.builder(server.jdbcUrl()).schema("Bad-Name"))
                .hasMessageContaining("catalog schema name 'Bad-Name'");
    }
}
