package io.shale.catalog.postgres;

import com.zaxxer.hikari.HikariDataSource;
import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.TopicConfig;
import io.shale.log.internal.format.CorruptObjectException;
import io.shale.log.internal.manifest.ManifestOp;
import io.shale.log.internal.manifest.RangeRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node of a cluster sharing a store in PostgreSQL: it owns some of the store's partitions,
 * each under a lease and a partition epoch, and commits uploads to them in parallel with the other
 * nodes (schema version 2, store {@code ownership = 'leases'}; docs/rfcs/0005, "The cluster").
 * This is the catalog's side of the cluster; the engine is not wired to it yet.
 *
 * <p><b>Leases.</b> A partition row holds its {@code owner_node}, {@code partition_epoch} and
 * {@code lease_expires_at_ms}, measured by the database's clock ({@code now()}) only, so the
 * nodes' clocks may disagree. {@link #claim} takes partitions that are unowned or whose lease ran
 * out, bumping their epoch; a background thread renews every lease the node holds in one
 * statement every lease/3; a partition whose row was not renewed (another node took it over, or
 * it was released) is lost and reported at once to the {@link Listener}. {@link #mayAcknowledge}
 * is the acknowledgement rule: true only while the lease, counted from the start of the last
 * successful claim or renewal on this node's monotonic clock, minus a tenth for clock-rate drift,
 * has not run out; that holds with no thread running, so a node frozen or cut off from the
 * database stops acknowledging in time even before its listener hears of it.
 *
 * <p><b>Commits and fencing.</b> {@link #commit} writes an upload (its objects, their ranges, the
 * partitions' end offsets, idempotent producers' state) in one transaction whose first statement
 * locks the rows of every partition it touches, in partition order, on the condition that this
 * node still owns each with the epoch it claimed. If fewer rows match than partitions are touched,
 * nothing is written, the transaction is rolled back and the commit fails {@code FENCED} naming the
 * partitions lost. No store-wide row is updated, so nodes (and one node's threads) commit in
 * parallel, waiting for each other only on partitions they share.
 *
 * <p><b>Threading.</b> Thread-safe. Every call blocks the caller for database round trips (each
 * bounded by the options' query timeout) on a connection of the node's pool
 * ({@link PostgresCatalogOptions#poolSize()}: size it for the node's concurrent commits); renewals
 * have a connection of their own, so that commits never hold them up. The {@link Listener} is called on the renewal thread or on a thread whose commit or
 * release found partitions lost; it must be quick and must not call back into this node.
 *
 * <p><b>Errors</b> ({@link ShaleException}): {@code FENCED} when partitions were lost (named in the
 * message); {@code UNAVAILABLE} when the database could not be reached in time (retrying may help;
 * a commit whose COMMIT got no answer may have landed, and retrying it with the same ops is safe:
 * rows are keyed by object key); {@code STORAGE_ACCESS} for refused credentials or privileges;
 * {@code CORRUPT_STORAGE} for rows that break the schema; {@code INVALID_ARGUMENT} for bad
 * arguments or a store a single writer runs; {@code CLOSED} after {@link #close()}.
 */
final class ClusterNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterNode.class);

    /** The database's clock in milliseconds since the epoch (the start of the transaction). */
    static final String NOW_MS = "(extract(epoch FROM now()) * 1000)::bigint";

    private static final java.util.regex.Pattern TOPIC_NAME = java.util.regex.Pattern.compile("[a-zA-Z0-9._-]+");

    /** Told of partitions this node lost (see the class comment for the thread). */
    @FunctionalInterface
    interface Listener {
        /**
         * This node no longer owns {@code partitions} (ids): it must stop acknowledging appends to
         * them at once and drop what it buffered for them. {@code why} says what happened.
         */
        void lost(Set<Integer> partitions, String why);
    }

    /**
     * A partition's row as the database has it now (see {@link #ownership()}): {@code owner} null
     * when unowned; {@code leaseRemainingMs} by the database's clock, negative when the lease ran out
     * or there is none.
     */
    record Ownership(int partitionId, String topic, int index, String owner, long epoch, long leaseRemainingMs) {
    }

    /** A partition this node holds: its epoch and, on the monotonic clock, the end of its lease. */
    private record Held(long epoch, long validUntilNanos) {
    }

    private final PostgresCatalogOptions options;
    private final HikariDataSource pool;
    /** One connection of its own for renewals, so that busy commits never delay them. */
    private final HikariDataSource renewalPool;
    private final long leaseMs;
    private final Listener listener;
    private final ConcurrentHashMap<Integer, Held> held = new ConcurrentHashMap<>();
    private final ScheduledExecutorService renewals;
    private final Object closeLock = new Object();
    private volatile boolean closed;
    private volatile boolean renewalsPaused;
    /**
     * This process's registration of the node id: {@code shale_nodes.writer_epoch}, bumped by every
     * registration of the id; claims check it, so an earlier process of the id claims nothing more.
     */
    private long registration;

    private ClusterNode(PostgresCatalogOptions options, HikariDataSource pool, HikariDataSource renewalPool,
            Duration lease, Listener listener) {
        this.options = options;
        this.pool = pool;
        this.renewalPool = renewalPool;
        this.leaseMs = lease.toMillis();
        this.listener = listener;
        this.renewals = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "shale-lease-renewal-" + options.nodeId());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Registers node {@link PostgresCatalogOptions#nodeId()} in the store of {@code options} and
     * starts renewing its leases every {@code lease}/3. A fresh store (no writer ever claimed it)
     * becomes a cluster store; one that a single writer claimed is refused
     * ({@code INVALID_ARGUMENT}; see {@link #convertFromSingleWriter}). Partitions still held under
     * the same node id (an earlier process of this node) are released, which fences that process
     * at once: node ids must be unique among live nodes.
     *
     * @param lease how long a claim or renewal holds a partition, 300 ms to 10 min
     */
    static ClusterNode register(PostgresCatalogOptions options, Duration lease, Listener listener) {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(lease, "lease");
        Objects.requireNonNull(listener, "listener");
        if (lease.toMillis() < 300 || lease.toMillis() > 600_000) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "a partition lease must be between 300 ms and"
                    + " 10 minutes, got " + lease);
        }
        HikariDataSource pool = PgCatalog.openPool(options);
        HikariDataSource renewalPool;
        try {
            renewalPool = PgCatalog.openPool(options, 1, "shale-leases-" + options.schema());
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
        ClusterNode node = new ClusterNode(options, pool, renewalPool, lease, listener);
        try {
            node.join();
        } catch (RuntimeException e) {
            pool.close();
            renewalPool.close();
            node.renewals.shutdownNow();
            throw e;
        }
        long period = Math.max(1, node.leaseMs / 3);
        node.renewals.scheduleWithFixedDelay(node::renewQuietly, period, period, TimeUnit.MILLISECONDS);
        return node;
    }

    /**
     * Turns the store of {@code options} from a single-writer store into a cluster store, once: the
     * writer epoch is bumped (so the single writer's next commit or fencing check fails
     * {@code FENCED}) and every partition becomes unowned, to be claimed (epoch + 1) by the nodes.
     * Does nothing to a store that already is a cluster store. There is no way back.
     */
    static void convertFromSingleWriter(PostgresCatalogOptions options) {
        try (HikariDataSource pool = PgCatalog.openPool(options)) {
            try (Connection c = pool.getConnection()) {
                try {
                    convert(c);
                    c.commit();
                } catch (SQLException | RuntimeException e) {
                    rollbackQuietly(c);
                    throw e;
                }
            } catch (SQLException e) {
                throw PgCatalog.translate(e, "turning the store into a cluster store", options);
            }
        }
    }

    private static void convert(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE shale_store SET ownership = 'leases',"
                + " writer_epoch = writer_epoch + 1, version = version + 1, writer_node = NULL"
                + " WHERE id = 1 AND ownership = 'writer'")) {
            if (ps.executeUpdate() == 0) {
                return;
            }
        }
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE shale_partitions SET owner_node = NULL, lease_expires_at_ms = NULL")) {
            ps.executeUpdate();
        }
        log.info("the catalog store became a cluster store: partitions are owned under leases from now on");
    }

    /** The registration transaction (see {@link #register}). */
    private void join() {
        try (Connection c = connection("registering the node")) {
            try {
                String ownership;
                long writerEpoch;
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT ownership, writer_epoch FROM shale_store WHERE id = 1 FOR UPDATE");
                        ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new CorruptObjectException("the catalog in " + options.describe() + " has no store row");
                    }
                    ownership = rs.getString(1);
                    writerEpoch = rs.getLong(2);
                }
                if ("writer".equals(ownership)) {
                    if (writerEpoch > 0) {
                        throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "the store in " + options.describe()
                                + " is run by a single writer (writer epoch " + writerEpoch + "): a cluster node"
                                + " cannot join it until it is converted, which fences that writer");
                    }
                    convert(c);
                }
                // the row first, exclusively: claims of an earlier process of this id (which share-lock it)
                // end before, and later ones find the registration changed
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT 1 FROM shale_nodes WHERE node_id = ? FOR UPDATE")) {
                    ps.setString(1, options.nodeId());
                    ps.executeQuery().close();
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO shale_nodes (node_id, writer_epoch,"
                        + " claimed_at_ms, heartbeat_at_ms, lease_ms) VALUES (?, 1, " + NOW_MS + ", " + NOW_MS + ", ?)"
                        + " ON CONFLICT (node_id) DO UPDATE SET writer_epoch = shale_nodes.writer_epoch + 1,"
                        + " claimed_at_ms = EXCLUDED.claimed_at_ms, heartbeat_at_ms = EXCLUDED.heartbeat_at_ms,"
                        + " lease_ms = EXCLUDED.lease_ms RETURNING writer_epoch")) {
                    ps.setString(1, options.nodeId());
                    ps.setLong(2, leaseMs);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        registration = rs.getLong(1);
                    }
                }
                int released;
                try (PreparedStatement ps = c.prepareStatement("UPDATE shale_partitions SET owner_node = NULL,"
                        + " lease_expires_at_ms = NULL WHERE partition_id IN (SELECT partition_id FROM shale_partitions"
                        + " WHERE owner_node = ? ORDER BY partition_id FOR UPDATE)")) {
                    ps.setString(1, options.nodeId());
                    released = ps.executeUpdate();
                }
                c.commit();
                if (released > 0) {
                    log.warn("node {} registered again: released the {} partitions an earlier process of it held",
                            options.nodeId(), released);
                }
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            }
        } catch (SQLException e) {
            throw translate(e, "registering the node");
        }
    }

    String nodeId() {
        return options.nodeId();
    }

    /** This process's registration of the node id (see {@link #register}). */
    long registration() {
        return registration;
    }

    /** Whether this node holds {@code partitionId} (no I/O). */
    boolean holds(int partitionId) {
        return held.containsKey(partitionId);
    }

    /** The epoch under which this node holds {@code partitionId}, or -1 (no I/O). */
    long epochOf(int partitionId) {
        Held h = held.get(partitionId);
        return h == null ? -1 : h.epoch();
    }

    /**
     * Whether this process is still the node id's latest registration (one query): a later
     * registration of the same id (another process) fences this one.
     */
    boolean isCurrentRegistration() {
        try (Connection c = connection("checking the node's registration");
                PreparedStatement ps = c.prepareStatement("SELECT writer_epoch FROM shale_nodes WHERE node_id = ?")) {
            ps.setString(1, options.nodeId());
            boolean current;
            try (ResultSet rs = ps.executeQuery()) {
                current = rs.next() && rs.getLong(1) == registration;
            }
            c.commit();
            return current;
        } catch (SQLException e) {
            throw translate(e, "checking the node's registration");
        }
    }

    Duration lease() {
        return Duration.ofMillis(leaseMs);
    }

    // ------------------------------------------------------------------ topics

    /**
     * Creates a topic of {@code partitions} unowned partitions and returns their ids (index order).
     * Topic creation is rare and takes the store row's lock (it hands out partition ids).
     *
     * @throws ShaleException {@code TOPIC_ALREADY_EXISTS}, or see the class comment
     */
    int[] createTopic(String name, int partitions, Map<String, String> configs) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(configs, "configs");
        if (partitions < 1 || partitions > 100_000) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "a topic needs 1 to 100,000 partitions, got " + partitions);
        }
        // every reader rebuilds its topics from these rows: what the engine would refuse must not get in
        validateTopic(name, configs);
        ensureOpen();
        try (Connection c = connection("creating topic " + name)) {
            try {
                int first;
                try (PreparedStatement ps = c.prepareStatement("UPDATE shale_store SET version = version + 1,"
                        + " next_partition_id = next_partition_id + ? WHERE id = 1 AND ownership = 'leases'"
                        + " RETURNING next_partition_id - ?")) {
                    ps.setInt(1, partitions);
                    ps.setInt(2, partitions);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "the store in " + options.describe()
                                    + " is not a cluster store");
                        }
                        first = rs.getInt(1);
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO shale_topics (name, topic_id, config_keys,"
                        + " config_values) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING")) {
                    ps.setString(1, name);
                    ps.setObject(2, UUID.randomUUID());
                    List<String> keys = new ArrayList<>(configs.keySet());
                    ps.setArray(3, c.createArrayOf("text", keys.toArray(new String[0])));
                    ps.setArray(4, c.createArrayOf("text", keys.stream().map(configs::get).toArray(String[]::new)));
                    if (ps.executeUpdate() == 0) {
                        throw new ShaleException(ErrorKind.TOPIC_ALREADY_EXISTS, "topic '" + name + "' already exists");
                    }
                }
                int[] ids = new int[partitions];
                Arrays.setAll(ids, i -> first + i);
                CommitWriter.insertPartitions(c, name, ids, 0, null);
                c.commit();
                return ids;
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            }
        } catch (SQLException e) {
            throw translate(e, "creating topic " + name);
        }
    }

    /** The engine's rules for a topic's name (Kafka's) and configs (known keys, valid values, no nulls). */
    private static void validateTopic(String name, Map<String, String> configs) {
        if (name.isEmpty() || name.length() > 249 || name.equals(".") || name.equals("..")
                || !TOPIC_NAME.matcher(name).matches()) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "topic name '" + name + "' is not valid: 1 to 249"
                    + " characters of [a-zA-Z0-9._-], not '.' or '..'");
        }
        configs.forEach((k, v) -> {
            if (k == null || v == null) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "topic '" + name + "' has a null config key or"
                        + " value (" + k + "=" + v + ")");
            }
        });
        TopicConfig.of(configs); // fails INVALID_ARGUMENT naming an unknown key or a bad value
    }

    // ------------------------------------------------------------------ ownership

    /** Every partition's row as the database has it now, by partition id. */
    List<Ownership> ownership() {
        ensureOpen();
        List<Ownership> out = new ArrayList<>();
        try (Connection c = connection("reading partition ownership");
                PreparedStatement ps = c.prepareStatement("SELECT partition_id, topic_name, partition_index,"
                        + " owner_node, partition_epoch, lease_expires_at_ms - " + NOW_MS
                        + " FROM shale_partitions ORDER BY partition_id")) {
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long remaining = rs.getLong(6);
                    if (rs.wasNull()) {
                        remaining = -1;
                    }
                    out.add(new Ownership(rs.getInt(1), rs.getString(2), rs.getInt(3), rs.getString(4),
                            rs.getLong(5), remaining));
                }
            }
            c.commit();
            return out;
        } catch (SQLException e) {
            throw translate(e, "reading partition ownership");
        }
    }

    /**
     * Claims those of {@code partitionIds} that are unowned or whose lease ran out (by the
     * database's clock), in one statement: each gets this node as owner, its epoch + 1 and a fresh
     * lease. Partitions another node holds under a live lease, and ids that do not exist, are left
     * out. Before serving a partition taken over from a dead node, the caller recovers it (replays
     * that node's WAL entries for it).
     *
     * @return the partitions claimed, with their new epochs
     * @throws ShaleException {@code FENCED} when another process registered this node id since this
     *     one did (it claims nothing more), or see the class comment
     */
    Map<Integer, Long> claim(Collection<Integer> partitionIds) {
        Map<Integer, Long> out = new TreeMap<>();
        claimWithWalNodes(partitionIds).forEach((pid, c) -> out.put(pid, c.epoch()));
        return out;
    }

    /**
     * A partition just claimed: its new epoch, and the nodes whose WALs may hold its acknowledged
     * entries above its committed end (column {@code wal_nodes} as it was before the claim, oldest
     * owner first; this node among them if it owned the partition before and did not hand it over
     * with everything committed).
     */
    record Claimed(long epoch, List<String> walNodes) {
    }

    /** {@link #claim}, with each partition's {@link Claimed#walNodes} (the claimer is appended to them in the row). */
    Map<Integer, Claimed> claimWithWalNodes(Collection<Integer> partitionIds) {
        Integer[] ids = ids(partitionIds);
        ensureOpen();
        Map<Integer, Claimed> claimed = new TreeMap<>();
        long t0 = System.nanoTime();
        try (Connection c = connection("claiming partitions")) {
            try {
                // held (key share) to the commit, so that a registration of this id again waits for it
                try (PreparedStatement ps = c.prepareStatement("SELECT writer_epoch FROM shale_nodes WHERE node_id = ?"
                        + " FOR KEY SHARE")) {
                    ps.setString(1, options.nodeId());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next() || rs.getLong(1) != registration) {
                            throw new ShaleException(ErrorKind.FENCED, "node " + options.nodeId() + " was registered"
                                    + " again by another process: this one claims nothing more (node ids must be"
                                    + " unique among live nodes)");
                        }
                    }
                }
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            }
            try (PreparedStatement ps = c.prepareStatement("WITH l AS (SELECT partition_id, wal_nodes FROM shale_partitions"
                    + " WHERE partition_id = ANY(?) AND (owner_node IS NULL OR lease_expires_at_ms < " + NOW_MS + ")"
                    + " ORDER BY partition_id FOR UPDATE)"
                    + " UPDATE shale_partitions p SET owner_node = ?, partition_epoch = p.partition_epoch + 1,"
                    + " lease_expires_at_ms = " + NOW_MS + " + ?,"
                    + " wal_nodes = CASE WHEN ? = ANY(p.wal_nodes) THEN p.wal_nodes ELSE array_append(p.wal_nodes, ?) END"
                    + " FROM l WHERE p.partition_id = l.partition_id"
                    + " AND (p.owner_node IS NULL OR p.lease_expires_at_ms < " + NOW_MS + ")"
                    + " RETURNING p.partition_id, p.partition_epoch, l.wal_nodes")) {
                ps.setArray(1, c.createArrayOf("integer", ids));
                ps.setString(2, options.nodeId());
                ps.setLong(3, leaseMs);
                ps.setString(4, options.nodeId());
                ps.setString(5, options.nodeId());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        claimed.put(rs.getInt(1), new Claimed(rs.getLong(2),
                                List.of((String[]) rs.getArray(3).getArray())));
                    }
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            }
        } catch (SQLException e) {
            throw translate(e, "claiming partitions");
        }
        long validUntil = validUntil(t0);
        claimed.forEach((pid, cl) -> held.put(pid, new Held(cl.epoch(), validUntil)));
        if (!claimed.isEmpty()) {
            log.info("node {} claimed partitions {}", options.nodeId(), claimed);
        }
        return claimed;
    }

    /**
     * After a takeover replayed the WALs of {@link Claimed#walNodes} and committed what it found:
     * only this node's WAL may now hold entries of these partitions above their committed ends
     * ({@code wal_nodes} set to this node alone, where it still holds them at {@code epochs}).
     */
    void takenOver(Map<Integer, Long> epochs) {
        if (epochs.isEmpty()) {
            return;
        }
        ensureOpen();
        Map<Integer, Held> mine = new TreeMap<>();
        epochs.forEach((pid, ep) -> mine.put(pid, new Held(ep, 0)));
        try (Connection c = connection("recording a takeover")) {
            try (PreparedStatement ps = c.prepareStatement("WITH h AS (SELECT * FROM unnest(?::integer[], ?::bigint[])"
                    + " AS h(pid, ep))"
                    + " UPDATE shale_partitions p SET wal_nodes = ARRAY[?]::text[] FROM h"
                    + " WHERE p.partition_id = h.pid AND p.owner_node = ? AND p.partition_epoch = h.ep")) {
                bindHeld(c, ps, 1, mine);
                ps.setString(3, options.nodeId());
                ps.setString(4, options.nodeId());
                ps.executeUpdate();
                c.commit();
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            }
        } catch (SQLException e) {
            throw translate(e, "recording the takeover of partitions " + epochs.keySet());
        }
    }

    /**
     * The end offset committed now for each of {@code partitionIds} (by any node); partitions that
     * no longer exist are left out. One query.
     */
    Map<Integer, Long> committedEnds(Collection<Integer> partitionIds) {
        Integer[] ids = ids(partitionIds);
        ensureOpen();
        Map<Integer, Long> out = new TreeMap<>();
        try (Connection c = connection("reading committed end offsets")) {
            try (PreparedStatement ps = c.prepareStatement("SELECT partition_id, end_offset FROM shale_partitions"
                    + " WHERE partition_id = ANY(?)")) {
                ps.setArray(1, c.createArrayOf("integer", ids));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.put(rs.getInt(1), rs.getLong(2));
                    }
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            }
        } catch (SQLException e) {
            throw translate(e, "reading committed end offsets");
        }
        return out;
    }

    /** The partitions this node holds (whose loss it has not learnt of), with their epochs. */
    Map<Integer, Long> owned() {
        Map<Integer, Long> out = new TreeMap<>();
        held.forEach((pid, h) -> out.put(pid, h.epoch()));
        return out;
    }

    /**
     * Whether this node may acknowledge an append to partition {@code partitionId} now: it holds
     * the partition and its lease, counted from the start of the last successful claim or renewal,
     * has not run out (less a tenth of the lease for clock-rate drift).
     */
    boolean mayAcknowledge(int partitionId) {
        Held h = held.get(partitionId);
        return h != null && !closed && System.nanoTime() - h.validUntilNanos() < 0;
    }

    /**
     * Renews every lease this node holds, in one statement, and reports the partitions whose rows it
     * no longer owns with the epoch it holds (taken over, or released) to the listener, and drops
     * them. Runs every lease/3 on the renewal thread; callable directly too.
     *
     * @return the partitions found lost
     */
    Set<Integer> renew() {
        ensureOpen();
        Map<Integer, Held> snapshot = new TreeMap<>(held);
        long t0 = System.nanoTime();
        Set<Integer> renewed = new TreeSet<>();
        Connection renewalConnection;
        try {
            renewalConnection = renewalPool.getConnection();
        } catch (SQLException e) {
            throw translate(e, "renewing partition leases");
        }
        try (Connection c = renewalConnection) {
            try (PreparedStatement ps = c.prepareStatement("WITH h AS (SELECT * FROM unnest(?::integer[], ?::bigint[])"
                    + " AS h(pid, ep)),"
                    + " l AS (SELECT p.partition_id FROM shale_partitions p JOIN h ON p.partition_id = h.pid"
                    + " WHERE p.owner_node = ? AND p.partition_epoch = h.ep ORDER BY p.partition_id FOR UPDATE OF p),"
                    + " r AS (UPDATE shale_partitions p SET lease_expires_at_ms = " + NOW_MS + " + ?"
                    + " FROM l WHERE p.partition_id = l.partition_id RETURNING p.partition_id),"
                    + " n AS (UPDATE shale_nodes SET heartbeat_at_ms = " + NOW_MS + " WHERE node_id = ? RETURNING 1)"
                    + " SELECT ARRAY(SELECT partition_id FROM r), (SELECT count(*) FROM n)")) {
                bindHeld(c, ps, 1, snapshot);
                ps.setString(3, options.nodeId());
                ps.setLong(4, leaseMs);
                ps.setString(5, options.nodeId());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    renewed.addAll(Arrays.asList((Integer[]) rs.getArray(1).getArray()));
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            }
        } catch (SQLException e) {
            throw translate(e, "renewing partition leases");
        }
        long validUntil = validUntil(t0);
        Set<Integer> lost = new TreeSet<>();
        snapshot.forEach((pid, h) -> {
            if (renewed.contains(pid)) {
                held.computeIfPresent(pid, (k, now) -> now.epoch() == h.epoch()
                        ? new Held(h.epoch(), Math.max(now.validUntilNanos(), validUntil)) : now);
            } else if (held.remove(pid, h)) {
                lost.add(pid);
            }
        });
        report(lost, "another node took them over or they were released (found at lease renewal)");
        return lost;
    }

    /** The renewal thread's task: renews, and reports leases that ran out without a renewal. */
    private void renewQuietly() {
        if (closed || renewalsPaused) {
            return;
        }
        try {
            renew();
        } catch (RuntimeException e) {
            log.warn("node {}: renewing partition leases failed: {}", options.nodeId(), e.getMessage());
        }
        Set<Integer> expired = new TreeSet<>();
        long now = System.nanoTime();
        held.forEach((pid, h) -> {
            if (now - h.validUntilNanos() >= 0 && held.remove(pid, h)) {
                expired.add(pid);
            }
        });
        report(expired, "their leases ran out without a successful renewal");
    }

    /** Tests only: stops (or resumes) the renewal thread's work, as if the node were frozen. */
    void pauseRenewalsForTests(boolean paused) {
        this.renewalsPaused = paused;
    }

    /**
     * Releases {@code partitionIds} (a planned move): this node stops holding them first, then sets
     * them unowned in the database, keeping their epoch (the next claim bumps it). The caller
     * uploads and commits what it holds for them before. Partitions it no longer owned are reported
     * lost.
     *
     * @return the partitions released
     */
    Set<Integer> release(Collection<Integer> partitionIds) {
        return release(partitionIds, false);
    }

    /**
     * {@link #release(Collection)}; {@code drained}: everything this node appended to them is
     * committed (the engine drained them), so no WAL holds entries above their committed ends and
     * the next owner has nothing to replay ({@code wal_nodes} emptied).
     */
    Set<Integer> release(Collection<Integer> partitionIds, boolean drained) {
        Integer[] ids = ids(partitionIds);
        ensureOpen();
        Set<Integer> notHeld = new TreeSet<>();
        for (Integer pid : ids) {
            if (!held.containsKey(pid)) {
                notHeld.add(pid);
            }
        }
        if (!notHeld.isEmpty()) {
            throw new ShaleException(ErrorKind.FENCED, "node " + options.nodeId() + " does not hold partitions "
                    + notHeld + " (nothing was released)");
        }
        // stop acknowledging first: from here on the partitions are on their way out
        Map<Integer, Held> mine = new TreeMap<>();
        for (Integer pid : ids) {
            Held h = held.remove(pid);
            if (h != null) {
                mine.put(pid, h);
            }
        }
        Set<Integer> released = new TreeSet<>();
        try (Connection c = connection("releasing partitions")) {
            try (PreparedStatement ps = c.prepareStatement("WITH h AS (SELECT * FROM unnest(?::integer[], ?::bigint[])"
                    + " AS h(pid, ep)),"
                    + " l AS (SELECT p.partition_id FROM shale_partitions p JOIN h ON p.partition_id = h.pid"
                    + " WHERE p.owner_node = ? AND p.partition_epoch = h.ep ORDER BY p.partition_id FOR UPDATE OF p)"
                    + " UPDATE shale_partitions p SET owner_node = NULL, lease_expires_at_ms = NULL,"
                    + " wal_nodes = CASE WHEN ? THEN '{}'::text[] ELSE p.wal_nodes END"
                    + " FROM l WHERE p.partition_id = l.partition_id RETURNING p.partition_id")) {
                bindHeld(c, ps, 1, mine);
                ps.setString(3, options.nodeId());
                ps.setBoolean(4, drained);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        released.add(rs.getInt(1));
                    }
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            }
        } catch (SQLException e) {
            // not acknowledging them any more is safe; the leases run out if the release did not land
            throw translate(e, "releasing partitions " + mine.keySet());
        }
        Set<Integer> lost = new TreeSet<>(mine.keySet());
        lost.removeAll(released);
        report(lost, "another node took them over before they were released");
        log.info("node {} released partitions {}", options.nodeId(), released);
        return released;
    }

    // ------------------------------------------------------------------ committing

    /**
     * Commits an upload: {@code AddObject}s (one object normally, holding runs of any number of
     * partitions) and the {@code UpdateProducers} and {@code UpdateTransactions} of its partitions, in one
     * transaction conditioned
     * on this node holding every partition touched with the epoch it claimed. Runs below a
     * partition's log start are dropped, and an object left without a run is marked unreferenced,
     * as in the single-writer path.
     *
     * @throws ShaleException {@code FENCED} naming the partitions lost (nothing was written; they are
     *     dropped and reported to the listener), {@code INVALID_ARGUMENT} for other ops; see the class
     *     comment for the rest
     */
    int commit(List<ManifestOp> ops) {
        return commit(ops, Set.of());
    }

    /**
     * {@link #commit(List)}, releasing {@code release} in the same transaction (a planned move: the
     * caller stopped accepting appends to them and this is their last upload; they need not be
     * among the partitions the upload touches, but this node must hold them). The next claim of a
     * released partition bumps its epoch and can serve at once: nothing is left to replay. After a
     * commit of unknown outcome ({@code UNAVAILABLE}) the partitions are no longer held either: if
     * the release did not land, their leases run out.
     *
     * @return the number of partitions whose {@code commits} count the commit moved (readers poll their sum)
     */
    int commit(List<ManifestOp> ops, Collection<Integer> release) {
        return commit(ops, release, Map.of());
    }

    /**
     * {@link #commit(List, Collection)}, only if this node holds each partition of
     * {@code expectedEpochs} at that epoch (the one its data was appended under): a partition lost
     * and claimed again meanwhile is held at a newer epoch, and data of the older one must not be
     * committed under it ({@code FENCED}, nothing written; the partition stays held).
     */
    int commit(List<ManifestOp> ops, Collection<Integer> release, Map<Integer, Long> expectedEpochs) {
        Objects.requireNonNull(ops, "ops");
        Integer[] releasing = ids(release);
        ensureOpen();
        List<RangeRef> ranges = new ArrayList<>();
        List<ManifestOp.AddObject> objects = new ArrayList<>();
        List<ManifestOp.UpdateProducers> producers = new ArrayList<>();
        List<ManifestOp.UpdateTransactions> transactions = new ArrayList<>();
        Set<Integer> touched = new TreeSet<>();
        for (ManifestOp op : ops) {
            if (op instanceof ManifestOp.AddObject ao) {
                objects.add(ao);
                for (RangeRef r : ao.ranges()) {
                    if (!r.object().key().equals(ao.object().key())) {
                        throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "range " + r + " of AddObject "
                                + ao.object().key() + " names another object");
                    }
                    ranges.add(r);
                    touched.add(r.partitionId());
                }
            } else if (op instanceof ManifestOp.UpdateProducers up) {
                producers.add(up);
                touched.add(up.partitionId());
            } else if (op instanceof ManifestOp.UpdateTransactions ut) {
                transactions.add(ut);
                touched.add(ut.partitionId());
            } else {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "a cluster node commits uploads (AddObject,"
                        + " UpdateProducers, UpdateTransactions), not " + op.getClass().getSimpleName());
            }
        }
        if (objects.isEmpty()) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "an upload's commit needs at least one AddObject");
        }
        touched.addAll(Arrays.asList(releasing));
        Map<Integer, Held> mine = new TreeMap<>();
        Set<Integer> notHeld = new TreeSet<>();
        for (int pid : touched) {
            Held h = held.get(pid);
            Long expected = expectedEpochs.get(pid);
            if (h == null || (expected != null && expected != h.epoch())) {
                notHeld.add(pid);
            } else {
                mine.put(pid, h);
            }
        }
        if (!notHeld.isEmpty()) {
            throw new ShaleException(ErrorKind.FENCED, "node " + options.nodeId() + " does not hold partitions "
                    + notHeld + " at the epochs of the data committed (nothing was committed)");
        }
        int n = objects.size();
        String[] okey = new String[n];
        Long[] osize = new Long[n];
        Long[] oindex = new Long[n];
        Integer[] okind = new Integer[n];
        Long[] ocreated = new Long[n];
        for (int i = 0; i < n; i++) {
            var o = objects.get(i).object();
            okey[i] = o.key();
            osize[i] = o.size();
            oindex[i] = o.indexPosition();
            okind[i] = o.kind();
            ocreated[i] = o.createdAtMs();
        }
        CommitWriter.RangeColumns columns = CommitWriter.RangeColumns.of(ranges);
        Set<Integer> locked = new TreeSet<>();
        int bumped;
        try (Connection c = connection("committing an upload")) {
            try {
                String[] unreferenced;
                try (PreparedStatement ps = c.prepareStatement("WITH h AS (SELECT * FROM unnest(?::integer[],"
                        + " ?::bigint[]) AS h(pid, ep)),"
                        // the fencing condition: every partition touched, still this node's at its epoch
                        + " l AS (SELECT p.partition_id, p.log_start_offset FROM shale_partitions p"
                        + " JOIN h ON p.partition_id = h.pid WHERE p.owner_node = ? AND p.partition_epoch = h.ep"
                        + " ORDER BY p.partition_id FOR UPDATE OF p),"
                        + " ok AS (SELECT count(*) = ? AS ok FROM l),"
                        + " u AS (SELECT * FROM unnest(?::integer[], ?::text[], ?::bigint[], ?::bigint[], ?::bigint[],"
                        + " ?::bigint[], ?::integer[], ?::integer[], ?::integer[], ?::integer[])"
                        + " AS u(pid, k, b, n, ts, pos, len, fb, bc, crc)),"
                        // every partition touched: its end offset, and the count readers poll
                        + " e AS (UPDATE shale_partitions p SET end_offset = GREATEST(p.end_offset, coalesce(m.n, 0)),"
                        + " commits = p.commits + 1"
                        + " FROM l LEFT JOIN (SELECT pid, max(n) AS n FROM u GROUP BY pid) m ON m.pid = l.partition_id"
                        + " WHERE p.partition_id = l.partition_id AND (SELECT ok FROM ok) RETURNING 1),"
                        + " o AS (INSERT INTO shale_objects (object_key, size_bytes, index_position, kind, created_at_ms)"
                        + " SELECT * FROM unnest(?::text[], ?::bigint[], ?::bigint[], ?::smallint[], ?::bigint[])"
                        + " WHERE (SELECT ok FROM ok) ON CONFLICT (object_key) DO NOTHING RETURNING object_key),"
                        + " r AS (INSERT INTO shale_ranges (partition_id, object_key, base_offset, next_offset,"
                        + " max_timestamp, byte_position, byte_length, first_block, block_count, single_block_crc)"
                        + " SELECT u.pid, u.k, u.b, u.n, u.ts, u.pos, u.len, u.fb, u.bc, u.crc"
                        + " FROM u JOIN l ON l.partition_id = u.pid"
                        + " WHERE u.n > l.log_start_offset AND (SELECT ok FROM ok)"
                        + " ON CONFLICT DO NOTHING RETURNING object_key)"
                        + " SELECT (SELECT ok FROM ok), ARRAY(SELECT partition_id FROM l),"
                        + " ARRAY(SELECT object_key FROM o EXCEPT SELECT object_key FROM r),"
                        + " (SELECT count(*) FROM e)")) {
                    int i = 1;
                    bindHeld(c, ps, i, mine);
                    i += 2;
                    ps.setString(i++, options.nodeId());
                    ps.setLong(i++, mine.size());
                    columns.bind(c, ps, i, true);
                    i += 10;
                    ps.setArray(i++, c.createArrayOf("text", okey));
                    ps.setArray(i++, c.createArrayOf("bigint", osize));
                    ps.setArray(i++, c.createArrayOf("bigint", oindex));
                    ps.setArray(i++, c.createArrayOf("smallint", okind));
                    ps.setArray(i, c.createArrayOf("bigint", ocreated));
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        boolean ok = rs.getBoolean(1);
                        locked.addAll(Arrays.asList((Integer[]) rs.getArray(2).getArray()));
                        unreferenced = (String[]) rs.getArray(3).getArray();
                        bumped = rs.getInt(4);
                        if (!ok) {
                            throw fenced(c, mine, locked, "a commit", "the commit of " + Arrays.toString(okey)
                                    + " was rolled back, nothing changed");
                        }
                    }
                }
                if (unreferenced.length > 0) {
                    try (PreparedStatement ps = c.prepareStatement("UPDATE shale_objects SET unreferenced_since_ms = "
                            + NOW_MS + " WHERE object_key = ANY(?) AND unreferenced_since_ms IS NULL")) {
                        ps.setArray(1, c.createArrayOf("text", unreferenced));
                        ps.executeUpdate();
                    }
                }
                for (ManifestOp.UpdateProducers up : producers) {
                    CommitWriter.updateProducers(c, up);
                }
                for (ManifestOp.UpdateTransactions ut : transactions) {
                    CommitWriter.updateTransactions(c, ut);
                }
                if (releasing.length > 0) {
                    // rows the first statement locked and found this node's at the epochs it holds
                    try (PreparedStatement ps = c.prepareStatement("UPDATE shale_partitions SET owner_node = NULL,"
                            + " lease_expires_at_ms = NULL WHERE partition_id = ANY(?) AND owner_node = ?")) {
                        ps.setArray(1, c.createArrayOf("integer", releasing));
                        ps.setString(2, options.nodeId());
                        ps.executeUpdate();
                    }
                }
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            }
            try {
                c.commit();
                dropReleased(releasing, mine);
                return bumped;
            } catch (SQLException e) {
                dropReleased(releasing, mine);
                throw new ShaleException(ErrorKind.UNAVAILABLE, "committing an upload to the catalog in "
                        + options.describe() + " failed with an unknown outcome (retrying the same ops is safe): "
                        + e.getMessage(), e);
            }
        } catch (SQLException e) {
            throw translate(e, "committing an upload");
        }
    }

    /**
     * Commits the upkeep of partitions this node holds, in one transaction fenced on their epochs
     * as {@link #commit(List)} is: retention and deleted records ({@code SetLogStart}), compaction
     * ({@code AddObject}s of the compacted runs with {@code RemoveRanges} and {@code SetCleanedOffset}),
     * and the deletion of unreferenced objects ({@code ObjectsDeleted}, which touches no partition).
     * The rows of every partition touched are locked first, in partition order, on the condition
     * that this node holds each at its epoch; if one is not, nothing is written and the commit fails
     * {@code FENCED} naming the partitions lost (they are dropped and reported to the listener).
     *
     * @param nowMs the time recorded for objects that lost their last range
     * @return the number of partitions whose {@code commits} count the commit moved
     */
    int commitUpkeep(List<ManifestOp> ops, long nowMs) {
        Objects.requireNonNull(ops, "ops");
        ensureOpen();
        Set<Integer> touched = new TreeSet<>();
        for (ManifestOp op : ops) {
            if (op instanceof ManifestOp.AddObject ao) {
                ao.ranges().forEach(r -> touched.add(r.partitionId()));
            } else if (op instanceof ManifestOp.SetLogStart sl) {
                touched.add(sl.partitionId());
            } else if (op instanceof ManifestOp.RemoveRanges rr) {
                touched.add(rr.partitionId());
            } else if (op instanceof ManifestOp.SetCleanedOffset sc) {
                touched.add(sc.partitionId());
            } else if (op instanceof ManifestOp.UpdateProducers up) {
                touched.add(up.partitionId());
            } else if (op instanceof ManifestOp.UpdateTransactions ut) {
                touched.add(ut.partitionId());
            } else if (!(op instanceof ManifestOp.ObjectsDeleted)) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "a cluster node does not commit "
                        + op.getClass().getSimpleName() + " (topics are created with createTopic; other topic"
                        + " changes are not supported on a cluster store yet)");
            }
        }
        Map<Integer, Held> mine = new TreeMap<>();
        Set<Integer> notHeld = new TreeSet<>();
        for (int pid : touched) {
            Held h = held.get(pid);
            if (h == null) {
                notHeld.add(pid);
            } else {
                mine.put(pid, h);
            }
        }
        if (!notHeld.isEmpty()) {
            throw new ShaleException(ErrorKind.FENCED, "node " + options.nodeId() + " does not hold partitions "
                    + notHeld + " (nothing was committed)");
        }
        try (Connection c = connection("committing partition upkeep")) {
            try {
                if (!mine.isEmpty()) {
                    Set<Integer> locked = new TreeSet<>();
                    try (PreparedStatement ps = c.prepareStatement("WITH h AS (SELECT * FROM unnest(?::integer[],"
                            + " ?::bigint[]) AS h(pid, ep)),"
                            + " l AS (SELECT p.partition_id FROM shale_partitions p JOIN h ON p.partition_id = h.pid"
                            + " WHERE p.owner_node = ? AND p.partition_epoch = h.ep ORDER BY p.partition_id FOR UPDATE OF p)"
                            + " UPDATE shale_partitions p SET commits = p.commits + 1 FROM l"
                            + " WHERE p.partition_id = l.partition_id RETURNING p.partition_id")) {
                        bindHeld(c, ps, 1, mine);
                        ps.setString(3, options.nodeId());
                        try (ResultSet rs = ps.executeQuery()) {
                            while (rs.next()) {
                                locked.add(rs.getInt(1));
                            }
                        }
                    }
                    if (locked.size() != mine.size()) {
                        throw fenced(c, mine, locked, "an upkeep commit", "the upkeep commit was rolled back");
                    }
                }
                CommitWriter.writeOps(c, ops, nowMs, 0, options.nodeId());
                c.commit();
                return mine.size();
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            }
        } catch (SQLException e) {
            throw translate(e, "committing partition upkeep");
        }
    }

    /**
     * Reserves {@code count} producer ids of the store's counter for this node (one statement on
     * the store row): ids unique across the cluster's nodes. Returns the first.
     */
    long allocateProducerIds(long count) {
        if (count < 1 || count > 1_000_000) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "a producer id block holds 1 to 1,000,000 ids, got "
                    + count);
        }
        try (Connection c = connection("allocating producer ids")) {
            try (PreparedStatement ps = c.prepareStatement("UPDATE shale_store SET next_producer_id ="
                    + " next_producer_id + ? WHERE id = 1 AND next_producer_id <= ? RETURNING next_producer_id - ?")) {
                ps.setLong(1, count);
                ps.setLong(2, Long.MAX_VALUE - count);
                ps.setLong(3, count);
                long first;
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new ShaleException(ErrorKind.UNAVAILABLE, "producer ids of the store in "
                                + options.describe() + " are exhausted");
                    }
                    first = rs.getLong(1);
                }
                c.commit();
                return first;
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            }
        } catch (SQLException e) {
            throw translate(e, "allocating producer ids");
        }
    }

    /**
     * A commit found fewer of {@code mine} locked at their epochs than it touches: rolls it back,
     * drops the lost partitions this node still held at the epoch the commit used (one released and
     * claimed again meanwhile is held, and renewed, at its new epoch), reports them, and returns the
     * {@code FENCED} failure to throw.
     */
    private ShaleException fenced(Connection c, Map<Integer, Held> mine, Set<Integer> locked, String commit,
            String outcome) {
        rollbackQuietly(c);
        Set<Integer> lost = new TreeSet<>(mine.keySet());
        lost.removeAll(locked);
        Set<Integer> dropped = new TreeSet<>();
        for (int pid : lost) {
            if (held.remove(pid, mine.get(pid))) {
                dropped.add(pid);
            }
        }
        report(dropped, commit + " found them owned by another node or at a newer epoch");
        return new ShaleException(ErrorKind.FENCED, "node " + options.nodeId() + " lost partitions " + lost
                + " to another node or a newer epoch; " + outcome);
    }

    private void dropReleased(Integer[] releasing, Map<Integer, Held> mine) {
        for (Integer pid : releasing) {
            held.remove(pid, mine.get(pid));
        }
        if (releasing.length > 0) {
            log.info("node {} committed and released partitions {}", options.nodeId(), Arrays.toString(releasing));
        }
    }

    // ------------------------------------------------------------------ closing

    /**
     * Stops renewing and closes the pool. Partitions are not released: their leases run out and
     * other nodes take them over (a planned shutdown uploads, then calls {@link #release} first).
     * Idempotent.
     */
    @Override
    public void close() {
        synchronized (closeLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        renewals.shutdown();
        try {
            if (!renewals.awaitTermination(options.queryTimeout().toMillis() + 1_000, TimeUnit.MILLISECONDS)) {
                renewals.shutdownNow();
            }
        } catch (InterruptedException e) {
            renewals.shutdownNow();
            Thread.currentThread().interrupt();
        }
        held.clear();
        pool.close();
        renewalPool.close();
    }

    // ------------------------------------------------------------------ helpers

    private long validUntil(long startNanos) {
        return startNanos + TimeUnit.MILLISECONDS.toNanos(leaseMs - leaseMs / 10);
    }

    private void report(Set<Integer> lost, String why) {
        if (lost.isEmpty()) {
            return;
        }
        log.warn("node {} lost partitions {}: {}", options.nodeId(), lost, why);
        try {
            listener.lost(Set.copyOf(lost), why);
        } catch (RuntimeException | Error e) { // an Error escaping the renewal task would end all renewals
            log.error("the partition-loss listener of node {} failed", options.nodeId(), e);
        }
    }

    private static void bindHeld(Connection c, PreparedStatement ps, int i, Map<Integer, Held> partitions)
            throws SQLException {
        Integer[] pids = partitions.keySet().toArray(new Integer[0]);
        Long[] epochs = partitions.values().stream().map(Held::epoch).toArray(Long[]::new);
        ps.setArray(i, c.createArrayOf("integer", pids));
        ps.setArray(i + 1, c.createArrayOf("bigint", epochs));
    }

    private static Integer[] ids(Collection<Integer> partitionIds) {
        Objects.requireNonNull(partitionIds, "partitionIds");
        Set<Integer> set = new TreeSet<>();
        for (Integer id : partitionIds) {
            if (id == null || id < 0) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "partition ids must be non-negative, got " + id);
            }
            set.add(id);
        }
        return set.toArray(new Integer[0]);
    }

    private void ensureOpen() {
        if (closed) {
            throw new ShaleException(ErrorKind.CLOSED, "cluster node " + options.nodeId() + " is closed");
        }
    }

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
        return PgCatalog.translate(e, what, options);
    }
}
