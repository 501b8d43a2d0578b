package io.shale.catalog.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.internal.format.CorruptObjectException;
import io.shale.log.internal.manifest.Catalog;
import io.shale.log.internal.manifest.ManifestOp;
import io.shale.log.internal.manifest.ManifestState;
import io.shale.log.internal.manifest.ObjectStoreCatalog;
import io.shale.log.internal.manifest.ObjectMeta;
import io.shale.log.internal.manifest.ProducerEntry;
import io.shale.log.internal.manifest.RangeRef;
import io.shale.log.internal.manifest.TopicMeta;
import io.shale.log.internal.util.StoreCalls;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.Payload;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Catalog} of one store instance, in PostgreSQL (see {@link PostgresCatalog} and the
 * schema in {@code migrations/V1__catalog.sql} and {@code V2__partition_leases.sql}): the single
 * writer's catalog, and the readers' of single-writer and cluster stores alike (the cluster's nodes
 * use {@link ClusterNode}).
 *
 * <p><b>Commit.</b> One transaction: first {@code UPDATE shale_store SET version = version + 1
 * ... WHERE writer_epoch = mine RETURNING version} (no row: a newer writer claimed the store, the
 * transaction is rolled back, FENCED), then the rows each op changes, then COMMIT. The store row's
 * lock, held until COMMIT, serializes commits, and a claim takes the same lock, so a claim either
 * comes before a commit (which then finds a newer epoch) or after it. Only an error of the COMMIT
 * itself leaves the outcome unknown: the commit is then remembered with its token, which the row
 * records, and the next commit first reads the row to learn whether it landed.
 *
 * <p><b>State.</b> {@link #state()} is rebuilt from the tables at load, after a claim that found
 * commits it had not seen, and by readers' {@link #refresh()} when the store row's version moved;
 * a writer applies its own commits to it in memory after they land (the same state machine as the
 * manifest's).
 */
final class PgCatalog implements Catalog {
    private static final Logger log = LoggerFactory.getLogger(PgCatalog.class);

    /**
     * Commits of a cluster store's nodes, which do not move the store row's version: the sum of
     * {@code shale_partitions.commits} (0 without a scan for a single-writer store). Readers reload
     * when it or the version moved.
     */
    private static final String PARTITION_COMMITS = "SELECT CASE WHEN ownership = 'leases'"
            + " THEN (SELECT coalesce(sum(commits), 0) FROM shale_partitions) ELSE 0 END FROM shale_store WHERE id = 1";

    private final PostgresCatalogOptions options;
    private final HikariDataSource pool;
    /** The store's bucket (null in tests of the catalog alone): holds the marker tying it to this catalog. */
    private final ObjectStore bucket;
    private final Clock clock;
    private final boolean readOnly;
    private final Object lock = new Object();
    /** Runs fencing checks one at a time (see {@link #checkNotFenced()}). */
    private final ExecutorService checks;
    private final Object checkLock = new Object();
    /** A check queued but not started: callers arriving now may share it. Guarded by checkLock. */
    private CompletableFuture<Void> queuedCheck;

    private ManifestState state = new ManifestState();
    /** The sum of {@code shale_partitions.commits} as of {@link #state} (guarded by lock). */
    private long partitionCommits;
    /** The same, as of the last {@link #readState()} (guarded by lock). */
    private long readPartitionCommits;
    private ManifestState.Listener listener;
    private volatile long myEpoch;
    private volatile boolean fenced;
    private volatile boolean closed;
    private Pending pending;
    private final Set<String> landedTokens = new LinkedHashSet<>();

    /** Tests only: runs on the commit's connection after its statements, before COMMIT. */
    interface BeforeCommit {
        void run(Connection c) throws SQLException;
    }

    private volatile BeforeCommit beforeCommit = c -> {
    };

    /** Tests only: see {@link BeforeCommit}. */
    void beforeCommitForTests(BeforeCommit hook) {
        this.beforeCommit = hook;
    }

    /** A commit whose COMMIT failed without an answer: it may have landed. */
    private record Pending(String token, List<ManifestOp> ops, long timestampMs) {
    }

    private PgCatalog(PostgresCatalogOptions options, HikariDataSource pool, ObjectStore bucket, Clock clock,
            boolean readOnly) {
        this.options = options;
        this.pool = pool;
        this.bucket = bucket;
        this.clock = clock;
        this.readOnly = readOnly;
        this.checks = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "shale-catalog-check-" + options.schema());
            t.setDaemon(true);
            return t;
        });
    }

    /** Connects, migrates the schema and returns the catalog (not loaded yet). */
    static PgCatalog open(PostgresCatalogOptions options, Clock clock, boolean readOnly) {
        return open(options, null, clock, readOnly);
    }

    /**
     * Connects, migrates the schema and returns the catalog (not loaded yet). {@code bucket} is the
     * store's object store; a writer ties it to this catalog at its claim (see {@link #claimWriter}).
     */
    static PgCatalog open(PostgresCatalogOptions options, ObjectStore bucket, Clock clock, boolean readOnly) {
        return new PgCatalog(options, openPool(options), bucket, clock, readOnly);
    }

    /**
     * Makes the connection pool of {@code options} and brings the schema up to date; closes the
     * pool again if that fails.
     */
    static HikariDataSource openPool(PostgresCatalogOptions options) {
        return openPool(options, options.poolSize(), "shale-catalog-" + options.schema());
    }

    /** {@link #openPool(PostgresCatalogOptions)} with another size and name. */
    static HikariDataSource openPool(PostgresCatalogOptions options, int size, String name) {
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(options.jdbcUrl());
        if (options.user() != null) {
            hc.setUsername(options.user());
        }
        if (options.password() != null) {
            hc.setPassword(options.password());
        }
        hc.setSchema(options.schema());
        hc.setAutoCommit(false);
        hc.setMaximumPoolSize(size);
        hc.setMinimumIdle(1);
        hc.setPoolName(name);
        long connectMs = options.connectTimeout().toMillis();
        hc.setConnectionTimeout(Math.max(250, connectMs));
        hc.setInitializationFailTimeout(Math.max(1, connectMs));
        int connectSeconds = (int) Math.max(1, options.connectTimeout().toSeconds());
        int querySeconds = (int) Math.max(1, options.queryTimeout().toSeconds());
        hc.addDataSourceProperty("connectTimeout", connectSeconds);
        hc.addDataSourceProperty("loginTimeout", connectSeconds);
        hc.addDataSourceProperty("socketTimeout", querySeconds);
        hc.addDataSourceProperty("ApplicationName", "shale");
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(hc);
        } catch (RuntimeException e) {
            Throwable cause = e.getCause() instanceof SQLException ? e.getCause() : e;
            if (cause instanceof SQLException se) {
                throw translate(se, "connecting to the catalog", options);
            }
            throw new ShaleException(ErrorKind.UNAVAILABLE, "connecting to the catalog in " + options.describe()
                    + " failed: " + e.getMessage(), e);
        }
        try (Connection c = pool.getConnection()) {
            SchemaMigrations.migrate(c, options.schema());
        } catch (SQLException e) {
            pool.close();
            throw translate(e, "bringing the catalog schema up to date", options);
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
        return pool;
    }

    @Override
    public Object lock() {
        return lock;
    }

    @Override
    public ManifestState state() {
        return state;
    }

    @Override
    public long writerEpoch() {
        return myEpoch;
    }

    @Override
    public boolean isFenced() {
        return fenced;
    }

    // ------------------------------------------------------------------ loading

    @Override
    public void load(ManifestState.Listener listener) {
        synchronized (lock) {
            this.listener = listener;
            state = readState();
            partitionCommits = readPartitionCommits;
        }
    }

    /**
     * Reads the whole metadata in one repeatable-read transaction, and with it the sum of
     * {@code shale_partitions.commits} (see {@link #refresh()}).
     */
    private ManifestState readState() {
        try (Connection c = connection("reading the catalog")) {
            try {
                c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
                c.setReadOnly(true);
                ManifestState s = StateReader.read(c);
                long commits;
                try (PreparedStatement ps = c.prepareStatement(PARTITION_COMMITS); ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    commits = rs.getLong(1);
                }
                c.commit();
                readPartitionCommits = commits;
                return s;
            } catch (SQLException e) {
                rollbackQuietly(c);
                throw translate(e, "reading the catalog");
            } catch (RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            }
        } catch (SQLException e) {
            throw translate(e, "reading the catalog");
        }
    }

    // ------------------------------------------------------------------ claiming

    @Override
    public long claimWriter() {
        synchronized (lock) {
            ensureOpen();
            if (readOnly) {
                throw new ShaleException(ErrorKind.READ_ONLY, "a read-only store cannot claim the writer role");
            }
            if (bucket != null) {
                tieBucket();
            }
            long now = clock.millis();
            String token = StoreCalls.newToken();
            long epoch;
            long version;
            boolean unchanged;
            try (Connection c = connection("claiming the writer role")) {
                try {
                    long v;
                    long e;
                    try (PreparedStatement ps = c.prepareStatement(
                            "SELECT version, writer_epoch, ownership FROM shale_store WHERE id = 1 FOR UPDATE");
                            ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            throw new CorruptObjectException("the catalog in " + options.describe()
                                    + " has no store row (shale_store id 1)");
                        }
                        v = rs.getLong(1);
                        e = rs.getLong(2);
                        if (!"writer".equals(rs.getString(3))) {
                            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "the store in "
                                    + options.describe() + " is owned partition by partition by a cluster of"
                                    + " nodes (ownership '" + rs.getString(3) + "'): a single writer cannot claim it");
                        }
                    }
                    epoch = e + 1;
                    version = v + 1;
                    unchanged = v == state.version();
                    try (PreparedStatement ps = c.prepareStatement("UPDATE shale_store SET version = ?, writer_epoch = ?,"
                            + " writer_node = ?, last_commit_token = ?, last_commit_at_ms = ? WHERE id = 1")) {
                        ps.setLong(1, version);
                        ps.setLong(2, epoch);
                        ps.setString(3, options.nodeId());
                        ps.setString(4, token);
                        ps.setLong(5, now);
                        ps.executeUpdate();
                    }
                    // The single writer owns every partition (the cluster step gives each its own owner).
                    try (PreparedStatement ps = c.prepareStatement("UPDATE shale_partitions SET owner_node = ?,"
                            + " partition_epoch = ?, lease_expires_at_ms = NULL")) {
                        ps.setString(1, options.nodeId());
                        ps.setLong(2, epoch);
                        ps.executeUpdate();
                    }
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO shale_nodes (node_id, writer_epoch,"
                            + " claimed_at_ms, heartbeat_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (node_id) DO UPDATE"
                            + " SET writer_epoch = EXCLUDED.writer_epoch, claimed_at_ms = EXCLUDED.claimed_at_ms,"
                            + " heartbeat_at_ms = EXCLUDED.heartbeat_at_ms")) {
                        ps.setString(1, options.nodeId());
                        ps.setLong(2, epoch);
                        ps.setLong(3, now);
                        ps.setLong(4, now);
                        ps.executeUpdate();
                    }
                    c.commit();
                } catch (SQLException | RuntimeException e) {
                    rollbackQuietly(c);
                    throw e;
                }
            } catch (SQLException e) {
                throw translate(e, "claiming the writer role");
            }
            myEpoch = epoch;
            if (unchanged) {
                state.applyDelta(version, now, List.of(new ManifestOp.ClaimEpoch(epoch)), null);
            } else {
                // someone committed between load and claim (the previous writer's last commits)
                state = readState();
                partitionCommits = readPartitionCommits;
            }
            if (state.writerEpoch() != epoch) {
                throw fence("writer epoch " + epoch + " was claimed and at once superseded by epoch "
                        + state.writerEpoch());
            }
            log.info("claimed writer epoch {} of {} at catalog version {}", epoch, options.describe(), version);
            return epoch;
        }
    }

    /**
     * Before the first claim on a bucket: refuses a bucket whose manifest lives in the bucket itself
     * (the default catalog's deltas exist) or that another catalog claimed (its marker holds another
     * store id), because this catalog would see none of its objects and its orphan scan would delete
     * them all; otherwise writes the marker ({@code manifest/deltas/external-catalog}, create-if-absent)
     * with this catalog's store id, which also makes the default catalog refuse the bucket. Costs a
     * LIST and a GET (and a PUT the first time) per writer open.
     */
    void tieBucket() {
        if (bucket == null) {
            return; // tests of the catalog alone
        }
        String storeId = storeId();
        String marker = ObjectStoreCatalog.EXTERNAL_CATALOG_MARKER;
        ListPage page = StoreCalls.await(bucket.list("manifest/deltas/", null, 1),
                "checking that " + bucket.describe() + " holds no manifest of its own");
        for (ObjectInfo info : page.objects()) {
            if (!info.key().equals(marker)) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "the store in " + bucket.describe()
                        + " keeps its metadata in the bucket (" + info.key() + " exists): it cannot be opened with"
                        + " the PostgreSQL catalog " + options.describe() + " (stores are not migrated between"
                        + " catalogs); open it without LogStoreBuilder.catalog(...), or use an empty bucket or prefix");
            }
        }
        byte[] mine = ("shale-catalog-postgres store " + storeId).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        StoreCalls.await(bucket.putIfAbsent(marker, Payload.of(mine), StoreCalls.newToken()),
                "tying " + bucket.describe() + " to the catalog with " + marker);
        java.nio.ByteBuffer found = StoreCalls.await(bucket.get(marker), "reading " + marker);
        byte[] bytes = new byte[found.remaining()];
        found.get(bytes);
        if (!java.util.Arrays.equals(bytes, mine)) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "the store in " + bucket.describe()
                    + " belongs to another catalog (" + marker + " holds '"
                    + new String(bytes, java.nio.charset.StandardCharsets.UTF_8) + "', this catalog "
                    + options.describe() + " is store " + storeId + "): check the JDBC URL and schema");
        }
    }

    private String storeId() {
        try (Connection c = connection("reading the store id");
                PreparedStatement ps = c.prepareStatement("SELECT store_id FROM shale_store WHERE id = 1");
                ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw new CorruptObjectException("the catalog in " + options.describe() + " has no store row");
            }
            String id = rs.getString(1);
            c.commit();
            return id;
        } catch (SQLException e) {
            throw translate(e, "reading the store id");
        }
    }

    // ------------------------------------------------------------------ committing

    @Override
    public void commit(List<ManifestOp> ops, String token) {
        synchronized (lock) {
            ensureWriter();
            if (landedTokens.remove(token)) {
                return; // an earlier attempt of this very commit landed (resolved by another commit)
            }
            if (pending != null) {
                Pending p = pending;
                if (resolvePending()) {
                    if (p.token().equals(token)) {
                        return;
                    }
                    rememberLanded(p.token());
                    throw new ShaleException(ErrorKind.UNAVAILABLE, "a catalog commit whose outcome was unknown"
                            + " turned out to have landed; the metadata changed, so this commit was not attempted"
                            + " and must be planned again");
                }
            }
            long now = clock.millis();
            long version;
            try (Connection c = connection("committing to the catalog")) {
                try {
                    version = CommitWriter.write(c, ops, token, now, myEpoch, options.nodeId());
                } catch (SQLException | RuntimeException e) {
                    rollbackQuietly(c);
                    throw e;
                }
                if (version < 0) {
                    rollbackQuietly(c);
                    throw fence("writer epoch " + myEpoch + " of " + options.describe()
                            + " was fenced by a newer writer (its commit changed nothing)");
                }
                try {
                    beforeCommit.run(c);
                    c.commit();
                } catch (SQLException e) {
                    pending = new Pending(token, ops, now); // it may have landed: the next commit finds out
                    throw new ShaleException(ErrorKind.UNAVAILABLE, "committing to the catalog in "
                            + options.describe() + " failed with an unknown outcome (the next commit finds out"
                            + " whether it landed): " + e.getMessage(), e);
                }
            } catch (SQLException e) {
                throw translate(e, "committing to the catalog");
            }
            applyLanded(version, now, ops);
        }
    }

    /** Applies a commit that landed as {@code version}; reloads if the tables moved further. */
    private void applyLanded(long version, long now, List<ManifestOp> ops) {
        if (version == state.version() + 1) {
            state.applyDelta(version, now, ops, listener);
            return;
        }
        log.warn("catalog version {} does not follow the version {} this writer knew; reloading the catalog",
                version, state.version());
        state = readState();
        partitionCommits = readPartitionCommits;
        if (listener != null) {
            listener.reset();
        }
    }

    /** Finds out whether the pending commit landed; applies it if so. Returns whether it landed. */
    private boolean resolvePending() {
        Pending p = pending;
        long version;
        long epoch;
        String lastToken;
        try (Connection c = connection("checking whether a catalog commit landed");
                PreparedStatement ps = c.prepareStatement(
                        "SELECT version, writer_epoch, last_commit_token FROM shale_store WHERE id = 1");
                ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw new CorruptObjectException("the catalog in " + options.describe() + " has no store row");
            }
            version = rs.getLong(1);
            epoch = rs.getLong(2);
            lastToken = rs.getString(3);
            c.commit();
        } catch (SQLException e) {
            throw translate(e, "checking whether a catalog commit landed");
        }
        pending = null;
        if (p.token().equals(lastToken)) {
            applyLanded(version, p.timestampMs(), p.ops());
            if (epoch != myEpoch) {
                throw fence("writer epoch " + myEpoch + " was fenced by epoch " + epoch);
            }
            return true;
        }
        if (epoch != myEpoch) {
            throw fence("writer epoch " + myEpoch + " was fenced by epoch " + epoch);
        }
        return false;
    }

    @Override
    public Set<String> objectsOfUnresolvedCommits() {
        synchronized (lock) {
            Pending p = pending;
            if (p == null) {
                return Set.of();
            }
            Set<String> keys = new HashSet<>();
            for (ManifestOp op : p.ops()) {
                if (op instanceof ManifestOp.AddObject a) {
                    keys.add(a.object().key());
                }
            }
            return keys;
        }
    }

    private void rememberLanded(String token) {
        landedTokens.add(token);
        if (landedTokens.size() > 16) {
            landedTokens.remove(landedTokens.iterator().next());
        }
    }

    /**
     * One query of the store row's epoch, on the check thread. A caller shares a check only if it
     * has not started yet, so every check a caller gets was issued after the call.
     */
    @Override
    public CompletableFuture<Void> checkNotFenced() {
        if (fenced) {
            return CompletableFuture.failedFuture(fenceException("writer epoch " + myEpoch + " of "
                    + options.describe() + " is fenced"));
        }
        if (myEpoch == 0) {
            return CompletableFuture.completedFuture(null); // a reader fences nobody and is fenced by nobody
        }
        synchronized (checkLock) {
            if (closed) {
                return CompletableFuture.failedFuture(new ShaleException(ErrorKind.CLOSED, "the catalog is closed"));
            }
            if (queuedCheck != null) {
                return queuedCheck;
            }
            CompletableFuture<Void> f = new CompletableFuture<>();
            queuedCheck = f;
            try {
                checks.execute(() -> runCheck(f));
            } catch (RuntimeException e) { // rejected: closing
                queuedCheck = null;
                f.completeExceptionally(new ShaleException(ErrorKind.CLOSED, "the catalog is closed"));
            }
            return f;
        }
    }

    private void runCheck(CompletableFuture<Void> f) {
        synchronized (checkLock) {
            if (queuedCheck == f) {
                queuedCheck = null; // started: later callers need a check of their own
            }
        }
        try {
            long epoch = currentEpoch();
            if (epoch != myEpoch) {
                f.completeExceptionally(fence("writer epoch " + myEpoch + " of " + options.describe()
                        + " was fenced by epoch " + epoch));
            } else {
                f.complete(null);
            }
        } catch (RuntimeException | Error e) {
            f.completeExceptionally(e);
        }
    }

    private long currentEpoch() {
        try (Connection c = connection("checking the writer epoch");
                PreparedStatement ps = c.prepareStatement("SELECT writer_epoch FROM shale_store WHERE id = 1");
                ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw new CorruptObjectException("the catalog in " + options.describe() + " has no store row");
            }
            long epoch = rs.getLong(1);
            c.commit();
            return epoch;
        } catch (SQLException e) {
            throw translate(e, "checking the writer epoch");
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new ShaleException(ErrorKind.CLOSED, "the catalog " + options.describe() + " is closed");
        }
    }

    private void ensureWriter() {
        ensureOpen();
        if (myEpoch == 0) {
            throw new ShaleException(ErrorKind.READ_ONLY, "this store instance did not claim the writer role");
        }
        if (fenced) {
            throw fenceException("writer epoch " + myEpoch + " of " + options.describe() + " is fenced");
        }
    }

    private ShaleException fence(String why) {
        fenced = true;
        log.warn("fenced: {}", why);
        return fenceException(why);
    }

    private static ShaleException fenceException(String why) {
        return new ShaleException(ErrorKind.FENCED, why);
    }

    // ------------------------------------------------------------------ readers

    @Override
    public boolean refresh() {
        synchronized (lock) {
            ensureOpen();
            long version;
            long commits;
            try (Connection c = connection("reading the catalog version");
                    PreparedStatement ps = c.prepareStatement("SELECT version, (" + PARTITION_COMMITS + ")"
                            + " FROM shale_store WHERE id = 1");
                    ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new CorruptObjectException("the catalog in " + options.describe() + " has no store row");
                }
                version = rs.getLong(1);
                commits = rs.getLong(2);
                c.commit();
            } catch (SQLException e) {
                throw translate(e, "reading the catalog version");
            }
            if (version == state.version() && commits == partitionCommits) {
                return false;
            }
            ManifestState fresh = readState();
            if (fresh.version() < state.version()
                    || (fresh.version() == state.version() && readPartitionCommits == partitionCommits)) {
                return false;
            }
            state = fresh;
            partitionCommits = readPartitionCommits;
            if (listener != null) {
                listener.reset();
            }
            return true;
        }
    }

    /**
     * A cluster node's commit landed (fenced per partition, outside the version chain): applies
     * {@code ops} to the state, keeping the version, and counts the {@code bumped} partition
     * commits it made, so that the next {@link #refresh()} reloads only if another node committed.
     * The caller holds {@link #lock()} across the commit and this call, so a reload never runs
     * between them (it would see the commit and this would apply it twice).
     */
    void applyClusterCommit(List<ManifestOp> ops, int bumped, long nowMs) {
        synchronized (lock) {
            state.applyUnversioned(nowMs, ops, listener);
            partitionCommits += bumped;
        }
    }

    /** Nothing to do: the database keeps no chain of deltas to snapshot or collect. */
    @Override
    public void maintain() {
    }

    @Override
    public void close() {
        synchronized (checkLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        checks.shutdown();
        try {
            if (!checks.awaitTermination(options.queryTimeout().toMillis() + 1_000, TimeUnit.MILLISECONDS)) {
                checks.shutdownNow();
            }
        } catch (InterruptedException e) {
            checks.shutdownNow();
            Thread.currentThread().interrupt();
        }
        synchronized (checkLock) {
            if (queuedCheck != null) { // never started: the executor stopped first
                queuedCheck.completeExceptionally(new ShaleException(ErrorKind.CLOSED, "the catalog was closed"));
                queuedCheck = null;
            }
        }
        pool.close();
    }

    // ------------------------------------------------------------------ helpers

    private Connection connection(String what) {
        ensureOpen();
        try {
            return pool.getConnection();
        } catch (SQLException e) {
            throw translate(e, what);
        }
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException e) {
            log.debug("rollback failed", e);
        }
    }

    private ShaleException translate(SQLException e, String what) {
        return translate(e, what, options);
    }

    /**
     * Maps a database error to Shale's kinds: refused credentials, a missing database or missing
     * privileges are {@code STORAGE_ACCESS} (retrying will not help); rows that break the schema's
     * constraints or a schema that does not match are {@code CORRUPT_STORAGE}; anything else
     * (connection lost, timeouts, the server shutting down) {@code UNAVAILABLE}.
     */
    static ShaleException translate(SQLException e, String what, PostgresCatalogOptions options) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        ErrorKind kind;
        if (state.startsWith("28") || state.equals("3D000") || state.equals("42501") || state.equals("3F000")) {
            kind = ErrorKind.STORAGE_ACCESS;
        } else if (state.startsWith("23") || state.startsWith("42") || state.startsWith("22")) {
            kind = ErrorKind.CORRUPT_STORAGE;
        } else {
            kind = ErrorKind.UNAVAILABLE;
        }
        return new ShaleException(kind, what + " in " + options.describe() + " failed: " + e.getMessage()
                + (state.isEmpty() ? "" : " (SQLState " + state + ")"), e);
    }

    // ================================================================== reading the tables

    /** Rebuilds a {@link ManifestState} from the tables, checking what the schema cannot. */
    static final class StateReader {
        private StateReader() {
        }

        private record TopicRow(UUID id, Map<String, String> configs, List<Integer> partitionIds) {
        }

        private record PartitionRow(int id, long logStart, long endOffset, long cleaned) {
        }

        static ManifestState read(Connection c) throws SQLException {
            long version;
            long epoch;
            int nextPid;
            long nextProducerId;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT version, writer_epoch, next_partition_id, next_producer_id FROM shale_store WHERE id = 1");
                    ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw corrupt("shale_store has no row (id 1)");
                }
                version = rs.getLong(1);
                epoch = rs.getLong(2);
                nextPid = rs.getInt(3);
                nextProducerId = rs.getLong(4);
            }
            Map<String, TopicRow> topics = new TreeMap<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT name, topic_id, config_keys, config_values FROM shale_topics");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String name = rs.getString(1);
                    String[] keys = strings(rs.getArray(3));
                    String[] values = strings(rs.getArray(4));
                    Map<String, String> configs = new LinkedHashMap<>();
                    for (int i = 0; i < keys.length; i++) {
                        if (keys[i] == null || values[i] == null || configs.put(keys[i], values[i]) != null) {
                            throw corrupt("topic '" + name + "' has a null or repeated config key");
                        }
                    }
                    topics.put(name, new TopicRow((UUID) rs.getObject(2), configs, new ArrayList<>()));
                }
            }
            List<PartitionRow> partitions = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT partition_id, topic_name, partition_index,"
                    + " log_start_offset, end_offset, cleaned_offset FROM shale_partitions"
                    + " ORDER BY topic_name, partition_index");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    int id = rs.getInt(1);
                    String topic = rs.getString(2);
                    int index = rs.getInt(3);
                    TopicRow t = topics.get(topic);
                    if (t == null) {
                        throw corrupt("partition id " + id + " belongs to topic '" + topic + "', which does not exist");
                    }
                    if (index != t.partitionIds().size()) {
                        throw corrupt("topic '" + topic + "' has partition index " + index + " (id " + id
                                + ") where index " + t.partitionIds().size() + " was expected: indexes must be 0..n-1");
                    }
                    if (id >= nextPid) {
                        throw corrupt("partition id " + id + " is not below the store's next_partition_id " + nextPid);
                    }
                    t.partitionIds().add(id);
                    partitions.add(new PartitionRow(id, rs.getLong(4), rs.getLong(5), rs.getLong(6)));
                }
            }
            ManifestState s = new ManifestState();
            s.restoreHeader(version, epoch, nextPid);
            for (Map.Entry<String, TopicRow> e : topics.entrySet()) {
                TopicRow t = e.getValue();
                if (t.partitionIds().isEmpty()) {
                    throw corrupt("topic '" + e.getKey() + "' has no partitions");
                }
                int[] ids = t.partitionIds().stream().mapToInt(Integer::intValue).toArray();
                s.restoreTopic(new TopicMeta(e.getKey(), t.id(), t.configs(), ids));
            }
            Map<String, ObjectMeta> objects = new HashMap<>();
            Map<String, Long> unreferenced = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT object_key, size_bytes, index_position, kind,"
                    + " created_at_ms, unreferenced_since_ms FROM shale_objects ORDER BY object_key");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String key = rs.getString(1);
                    long size = rs.getLong(2);
                    long indexPosition = rs.getLong(3);
                    if (indexPosition > size) {
                        throw corrupt("object '" + key + "' has its index at " + indexPosition + ", past its size " + size);
                    }
                    ObjectMeta o = new ObjectMeta(key, size, indexPosition, rs.getInt(4), rs.getLong(5));
                    objects.put(key, o);
                    s.restoreObject(o);
                    long since = rs.getLong(6);
                    if (!rs.wasNull()) {
                        unreferenced.put(key, since);
                    }
                }
            }
            Map<Integer, List<RangeRef>> ranges = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT partition_id, object_key, base_offset, next_offset,"
                    + " max_timestamp, byte_position, byte_length, first_block, block_count, single_block_crc"
                    + " FROM shale_ranges ORDER BY partition_id, base_offset, object_key");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    int pid = rs.getInt(1);
                    String key = rs.getString(2);
                    ObjectMeta o = objects.get(key);
                    if (o == null) {
                        throw corrupt("a range of partition id " + pid + " points at object '" + key
                                + "', which the catalog does not know");
                    }
                    long position = rs.getLong(6);
                    int length = rs.getInt(7);
                    if (position + length > o.indexPosition()) {
                        throw corrupt("a range of partition id " + pid + " (" + position + "+" + length
                                + ") runs past the data of object '" + key + "' (index at " + o.indexPosition() + ")");
                    }
                    ranges.computeIfAbsent(pid, k -> new ArrayList<>()).add(new RangeRef(o, pid, rs.getLong(3),
                            rs.getLong(4), rs.getLong(5), position, length, rs.getInt(8), rs.getInt(9), rs.getInt(10)));
                }
            }
            for (PartitionRow p : partitions) {
                List<RangeRef> rs = ranges.remove(p.id());
                s.restorePartition(p.id(), p.logStart(), p.endOffset(),
                        rs == null ? new RangeRef[0] : rs.toArray(new RangeRef[0]));
                if (p.cleaned() > 0) {
                    s.restoreCleanedOffset(p.id(), p.cleaned());
                }
            }
            if (!ranges.isEmpty()) {
                throw corrupt("ranges point at partition ids " + ranges.keySet() + ", which do not exist");
            }
            restoreProducers(c, s);
            restoreTransactions(c, s);
            s.restoreNextProducerId(nextProducerId);
            unreferenced.forEach(s::restorePendingDelete);
            s.verifyRestored();
            return s;
        }

        /** Idempotent producers' state per partition; every array checked before it is trusted. */
        private static void restoreProducers(Connection c, ManifestState s) throws SQLException {
            Map<Integer, Map<Long, ProducerEntry>> byPartition = new TreeMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT partition_id, producer_id, epoch, first_seqs,"
                    + " last_seqs, first_offsets, last_offsets, timestamps FROM shale_producers"
                    + " ORDER BY partition_id, producer_id");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    int pid = rs.getInt(1);
                    long producerId = rs.getLong(2);
                    short producerEpoch = rs.getShort(3);
                    Integer[] firstSeqs = (Integer[]) rs.getArray(4).getArray();
                    Integer[] lastSeqs = (Integer[]) rs.getArray(5).getArray();
                    Long[] firstOffsets = (Long[]) rs.getArray(6).getArray();
                    Long[] lastOffsets = (Long[]) rs.getArray(7).getArray();
                    Long[] timestamps = (Long[]) rs.getArray(8).getArray();
                    int n = firstSeqs.length;
                    String what = "producer " + producerId + " of partition id " + pid;
                    if (n < 1 || n > ProducerEntry.MAX_BATCHES || lastSeqs.length != n || firstOffsets.length != n
                            || lastOffsets.length != n || timestamps.length != n || producerId < 0 || producerEpoch < 0) {
                        throw corrupt(what + " has " + n + " batches or arrays of different lengths");
                    }
                    List<ProducerEntry.Batch> batches = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        if (firstSeqs[i] == null || lastSeqs[i] == null || firstOffsets[i] == null
                                || lastOffsets[i] == null || timestamps[i] == null
                                || firstOffsets[i] < 0 || lastOffsets[i] < firstOffsets[i]) {
                            throw corrupt(what + " has a null or inverted batch at " + i);
                        }
                        batches.add(new ProducerEntry.Batch(firstSeqs[i], lastSeqs[i], firstOffsets[i], lastOffsets[i],
                                timestamps[i]));
                    }
                    byPartition.computeIfAbsent(pid, k -> new HashMap<>())
                            .put(producerId, new ProducerEntry(producerId, producerEpoch, batches));
                }
            }
            for (Map.Entry<Integer, Map<Long, ProducerEntry>> e : byPartition.entrySet()) {
                s.restoreProducers(e.getKey(), e.getValue());
            }
        }

        /** Transactions' state per partition: open transactions and aborted ranges (in marker order). */
        private static void restoreTransactions(Connection c, ManifestState s) throws SQLException {
            Map<Integer, Map<Long, Long>> ongoing = new TreeMap<>();
            Map<Integer, List<io.shale.log.AbortedTransaction>> aborted = new TreeMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT partition_id, producer_id, first_offset"
                    + " FROM shale_txn_ongoing ORDER BY partition_id, producer_id");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ongoing.computeIfAbsent(rs.getInt(1), k -> new HashMap<>()).put(rs.getLong(2), rs.getLong(3));
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT partition_id, producer_id, first_offset, last_offset"
                    + " FROM shale_txn_aborted ORDER BY partition_id, last_offset");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    aborted.computeIfAbsent(rs.getInt(1), k -> new ArrayList<>())
                            .add(new io.shale.log.AbortedTransaction(rs.getLong(2), rs.getLong(3), rs.getLong(4)));
                }
            }
            java.util.Set<Integer> ids = new java.util.TreeSet<>(ongoing.keySet());
            ids.addAll(aborted.keySet());
            for (int id : ids) {
                s.restoreTransactions(id, ongoing.getOrDefault(id, Map.of()), aborted.getOrDefault(id, List.of()));
            }
        }

        private static String[] strings(Array a) throws SQLException {
            return a == null ? new String[0] : (String[]) a.getArray();
        }

        private static CorruptObjectException corrupt(String what) {
            return new CorruptObjectException("catalog tables: " + what);
        }
    }
}
