package io.shale.catalog.postgres;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.TopicPartition;
import io.shale.log.internal.manifest.ClusterCatalog;
import io.shale.log.internal.manifest.ManifestOp;
import io.shale.log.internal.manifest.ManifestState;
import io.shale.log.internal.manifest.TopicMeta;
import io.shale.log.internal.util.StoreCalls;
import io.shale.log.spi.ObjectStore;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The catalog of a store opened as a cluster node ({@link PostgresClusterNode}): the metadata view
 * of a reader ({@link PgCatalog}, read-only: loads, follows every node's commits) plus this node's
 * {@link ClusterNode} (registration, leases, commits fenced per partition). Its own commits are
 * applied to the view under the view's lock, so a reload never falls between a commit and its
 * application.
 */
final class PgClusterCatalog implements ClusterCatalog {
    private static final Logger log = LoggerFactory.getLogger(PgClusterCatalog.class);

    private final PostgresCatalogOptions options;
    private final Duration lease;
    private final PgCatalog view;
    private final Clock clock;
    private final ClusterNodeHandle handle;
    private final ExecutorService checks;
    private volatile ClusterNode node;
    private volatile Engine engine;
    private volatile boolean fenced;
    private final Object checkLock = new Object();
    /** A registration check queued and not started (guarded by checkLock): callers arriving now share it. */
    private CompletableFuture<Void> queuedCheck;
    /** Owners of every partition as last seen (id to owner row), replaced at each refresh. */
    private volatile Map<Integer, ClusterNode.Ownership> owners = Map.of();
    /** Partition id to name as of the state's topics, or null when they changed (see {@link #names()}). */
    private volatile Map<Integer, TopicPartition> names;
    /** Per partition being claimed: the nodes whose WALs may hold its entries above its committed end. */
    private final Map<Integer, List<String>> walNodes = new java.util.concurrent.ConcurrentHashMap<>();
    /** This node's own changes since the last refresh: id to owner (null: released or lost). */
    private final Map<Integer, String> ownChanges = new java.util.concurrent.ConcurrentHashMap<>();

    PgClusterCatalog(PostgresCatalogOptions options, Duration lease, ObjectStore bucket, Clock clock,
            ClusterNodeHandle handle) {
        this.options = options;
        this.lease = lease;
        this.clock = clock;
        this.handle = handle;
        this.view = PgCatalog.open(options, bucket, clock, true);
        this.checks = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "shale-cluster-check-" + options.nodeId());
            t.setDaemon(true);
            return t;
        });
    }

    // ------------------------------------------------------------------ Catalog

    @Override
    public Object lock() {
        return view.lock();
    }

    @Override
    public ManifestState state() {
        return view.state();
    }

    @Override
    public void load(ManifestState.Listener engineListener) {
        ManifestState.Listener listener = engineListener != null ? engineListener : new ManifestState.Listener() {
        };
        // topics change rarely: the names of partitions are cached and dropped when they do
        view.load(new ManifestState.Listener() {
            @Override
            public void topicCreated(TopicMeta topic) {
                names = null;
                listener.topicCreated(topic);
            }

            @Override
            public void topicChanged(TopicMeta topic) {
                names = null;
                listener.topicChanged(topic);
            }

            @Override
            public void topicDeleted(TopicMeta topic) {
                names = null;
                listener.topicDeleted(topic);
            }

            @Override
            public void partitionChanged(io.shale.log.internal.manifest.PartitionMeta partition) {
                listener.partitionChanged(partition);
            }

            @Override
            public void reset() {
                names = null;
                listener.reset();
            }
        });
    }

    /** Registers the node (fencing an earlier process of its id) and starts renewing leases. */
    @Override
    public long claimWriter() {
        view.tieBucket();
        ClusterNode n = ClusterNode.register(options, lease, this::onLost);
        node = n;
        try {
            refreshOwners();
        } catch (RuntimeException e) {
            log.warn("cluster node {}: reading partition owners failed: {}", options.nodeId(), e.getMessage());
        }
        log.info("cluster node {} registered (registration {}, lease {} ms)", options.nodeId(), n.registration(),
                lease.toMillis());
        return n.registration();
    }

    @Override
    public long writerEpoch() {
        ClusterNode n = node;
        return n == null ? 0 : n.registration();
    }

    /**
     * Uploads ({@code AddObject}s with their producer and transaction state) and upkeep (log
     * starts, compaction, object deletions), each fenced on the epochs of the partitions it
     * touches. The token is not needed: rows are keyed so that a retry of the same ops lands once.
     */
    @Override
    public void commitUpload(List<ManifestOp> ops, Map<Integer, Long> epochs) {
        ClusterNode n = requireNode();
        synchronized (view.lock()) {
            long now = clock.millis();
            int bumped = n.commit(ops, Set.of(), epochs);
            view.applyClusterCommit(ops, bumped, now);
        }
    }

    @Override
    public void commit(List<ManifestOp> ops, String token) {
        ClusterNode n = requireNode();
        boolean upload = !ops.isEmpty() && ops.stream().anyMatch(op -> op instanceof ManifestOp.AddObject)
                && ops.stream().allMatch(op -> op instanceof ManifestOp.AddObject
                        || op instanceof ManifestOp.UpdateProducers || op instanceof ManifestOp.UpdateTransactions);
        synchronized (view.lock()) {
            long now = clock.millis();
            int bumped = upload ? n.commit(ops) : n.commitUpkeep(ops, now);
            view.applyClusterCommit(ops, bumped, now);
        }
    }

    /**
     * Whether no later process registered this node id (the only store-wide fencing of a node; each
     * partition's own fencing is its lease). One query on the check thread; callers arriving while
     * a check is queued and not started share it, so every answer comes from a query issued after
     * the call.
     */
    @Override
    public CompletableFuture<Void> checkNotFenced() {
        ClusterNode n = node;
        if (n == null) {
            return CompletableFuture.completedFuture(null);
        }
        if (fenced) {
            return CompletableFuture.failedFuture(registeredAgain());
        }
        synchronized (checkLock) {
            if (queuedCheck != null) {
                return queuedCheck;
            }
            CompletableFuture<Void> f = new CompletableFuture<>();
            queuedCheck = f;
            try {
                checks.execute(() -> {
                    synchronized (checkLock) {
                        if (queuedCheck == f) {
                            queuedCheck = null; // started: later callers need a check of their own
                        }
                    }
                    try {
                        if (n.isCurrentRegistration()) {
                            f.complete(null);
                        } else {
                            fenced = true;
                            f.completeExceptionally(registeredAgain());
                        }
                    } catch (RuntimeException | Error e) {
                        f.completeExceptionally(e);
                    }
                });
            } catch (RuntimeException e) {
                queuedCheck = null;
                f.completeExceptionally(new ShaleException(ErrorKind.CLOSED, "the catalog is closed"));
            }
            return f;
        }
    }

    private ShaleException registeredAgain() {
        return new ShaleException(ErrorKind.FENCED, "node " + options.nodeId() + " was registered again by another"
                + " process: this one is fenced (node ids must be unique among live nodes)");
    }

    @Override
    public boolean isFenced() {
        return fenced;
    }

    /** Follows every node's commits (a reload when any moved) and refreshes the owners seen. */
    @Override
    public boolean refresh() {
        if (node != null) {
            try {
                refreshOwners();
            } catch (RuntimeException e) {
                log.debug("cluster node {}: reading partition owners failed: {}", options.nodeId(), e.getMessage());
            }
        }
        return view.refresh();
    }

    @Override
    public void maintain() {
    }

    @Override
    public void close() {
        ClusterNode n = node;
        try {
            if (n != null) {
                n.close();
            }
        } finally {
            checks.shutdownNow();
            synchronized (checkLock) {
                if (queuedCheck != null) { // never started: the executor stopped first
                    queuedCheck.completeExceptionally(new ShaleException(ErrorKind.CLOSED, "the catalog was closed"));
                    queuedCheck = null;
                }
            }
            view.close();
            handle.detach(this);
        }
    }

    // ------------------------------------------------------------------ ClusterCatalog

    @Override
    public String nodeId() {
        return options.nodeId();
    }

    @Override
    public String nodeKeyPrefix() {
        return "data/node/" + options.nodeId() + "/";
    }

    @Override
    public String dataKeyPrefix() {
        return nodeKeyPrefix() + StoreCalls.pad(requireNode().registration()) + "-";
    }

    @Override
    public boolean writtenByThisNode(String key) {
        String prefix = nodeKeyPrefix();
        int from = prefix.length();
        int to = from + 20;
        if (!key.startsWith(prefix) || key.length() <= to || key.charAt(to) != '-') {
            return false;
        }
        long registration = 0;
        for (int i = from; i < to; i++) {
            char c = key.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
            registration = registration * 10 + (c - '0');
        }
        ClusterNode n = node;
        return n != null && registration <= n.registration();
    }

    @Override
    public boolean holds(int partitionId) {
        ClusterNode n = node;
        return n != null && n.holds(partitionId);
    }

    @Override
    public boolean mayAcknowledge(int partitionId) {
        ClusterNode n = node;
        return n != null && n.mayAcknowledge(partitionId);
    }

    @Override
    public long partitionEpoch(int partitionId) {
        ClusterNode n = node;
        return n == null ? -1 : n.epochOf(partitionId);
    }

    @Override
    public String knownOwner(int partitionId) {
        if (holds(partitionId)) {
            return options.nodeId();
        }
        if (ownChanges.containsKey(partitionId)) {
            return null; // released or lost by this node since the last look: not known yet
        }
        ClusterNode.Ownership o = owners.get(partitionId);
        return o == null ? null : o.owner();
    }

    @Override
    public void createTopic(String name, int partitions, Map<String, String> configs) {
        requireNode().createTopic(name, partitions, configs);
        refresh();
    }

    @Override
    public long allocateProducerIds(long count) {
        return requireNode().allocateProducerIds(count);
    }

    @Override
    public List<String> walNodesOf(int partitionId) {
        return walNodes.getOrDefault(partitionId, List.of());
    }

    @Override
    public CompletableFuture<Map<Integer, Long>> committedEnds(Set<Integer> partitionIds) {
        ClusterNode n = node;
        if (n == null) {
            return CompletableFuture.failedFuture(new ShaleException(ErrorKind.CLOSED, "cluster node "
                    + options.nodeId() + " has not registered"));
        }
        try {
            return CompletableFuture.supplyAsync(() -> n.committedEnds(partitionIds), checks);
        } catch (RuntimeException rejected) {
            return CompletableFuture.failedFuture(new ShaleException(ErrorKind.CLOSED, "the catalog is closed"));
        }
    }

    @Override
    public void bind(Engine engine) {
        this.engine = engine;
    }

    // ------------------------------------------------------------------ the handle's operations

    Map<TopicPartition, Long> owned() {
        ClusterNode n = requireNode();
        Map<Integer, Long> mine = n.owned();
        Map<TopicPartition, Long> out = new java.util.LinkedHashMap<>();
        Map<Integer, TopicPartition> names = names();
        mine.forEach((pid, epoch) -> {
            TopicPartition tp = names.get(pid);
            if (tp != null) {
                out.put(tp, epoch);
            }
        });
        return out;
    }

    List<PostgresClusterNode.PartitionOwner> owners() {
        ClusterNode n = requireNode();
        List<PostgresClusterNode.PartitionOwner> out = new java.util.ArrayList<>();
        new TreeMap<>(names()).forEach((pid, tp) -> out.add(ownerOf(n, pid, tp)));
        return out;
    }

    /** One partition's entry of {@link #owners()}, or null if this view does not know it. */
    PostgresClusterNode.PartitionOwner owner(TopicPartition tp) {
        ClusterNode n = requireNode();
        for (Map.Entry<Integer, TopicPartition> e : names().entrySet()) {
            if (e.getValue().equals(tp)) {
                return ownerOf(n, e.getKey(), tp);
            }
        }
        return null;
    }

    private PostgresClusterNode.PartitionOwner ownerOf(ClusterNode n, int pid, TopicPartition tp) {
        long epoch = n.epochOf(pid);
        if (epoch >= 0) {
            return new PostgresClusterNode.PartitionOwner(tp, options.nodeId(), epoch);
        }
        ClusterNode.Ownership o = owners.get(pid);
        long seenEpoch = o == null ? 0 : o.epoch();
        String owner = ownChanges.containsKey(pid) || o == null ? null : o.owner();
        if (options.nodeId().equals(owner)) {
            owner = null; // not held here any more
        }
        return new PostgresClusterNode.PartitionOwner(tp, owner, seenEpoch);
    }

    Map<TopicPartition, Long> claim(Collection<TopicPartition> partitions) {
        ClusterNode n = requireNode();
        Map<Integer, TopicPartition> ids = ids(partitions);
        Map<Integer, ClusterNode.Claimed> claims = n.claimWithWalNodes(ids.keySet());
        if (claims.isEmpty()) {
            return Map.of();
        }
        Map<Integer, Long> claimed = new TreeMap<>();
        Map<Integer, Long> replayed = new TreeMap<>(); // whose wal_nodes name a node other than this one
        claims.forEach((pid, c) -> {
            claimed.put(pid, c.epoch());
            walNodes.put(pid, c.walNodes());
            if (c.walNodes().stream().anyMatch(id -> !id.equals(options.nodeId()))) {
                replayed.put(pid, c.epoch());
            }
        });
        claimed.keySet().forEach(ownChanges::remove);
        try {
            view.refresh(); // what other owners committed to them, before this node continues after it
            requireEngine().claimed(claimed); // replays those WALs (object WAL) and commits what they held
        } catch (RuntimeException e) {
            log.warn("cluster node {}: starting partitions {} after claiming them failed; releasing them: {}",
                    options.nodeId(), claimed.keySet(), e.getMessage());
            try {
                n.release(claimed.keySet());
            } catch (RuntimeException re) {
                e.addSuppressed(re);
            }
            requireEngine().lost(claimed.keySet(), "starting them after the claim failed");
            throw e;
        } finally {
            claimed.keySet().forEach(walNodes::remove);
        }
        try {
            n.takenOver(replayed); // from here on only this node's WAL may hold their uncommitted entries
        } catch (RuntimeException e) {
            // harmless: the next owner reads those WALs again and finds nothing above the committed end
            log.warn("cluster node {}: recording the takeover of partitions {} failed: {}", options.nodeId(),
                    replayed.keySet(), e.getMessage());
        }
        Map<TopicPartition, Long> out = new java.util.LinkedHashMap<>();
        claimed.forEach((pid, epoch) -> out.put(ids.get(pid), epoch));
        out.forEach(handle::fireGained);
        return out;
    }

    Set<TopicPartition> release(Collection<TopicPartition> partitions, Duration timeout) {
        ClusterNode n = requireNode();
        Map<Integer, TopicPartition> ids = ids(partitions);
        Set<Integer> mine = new TreeSet<>();
        for (int pid : ids.keySet()) {
            if (n.holds(pid)) {
                mine.add(pid);
            }
        }
        if (mine.isEmpty()) {
            return Set.of();
        }
        requireEngine().drain(mine, timeout.toMillis());
        // drained: everything appended to them is committed, the next owner has no WAL to replay
        Set<Integer> released = n.release(mine, true); // partitions lost meanwhile were reported by the node
        released.forEach(pid -> ownChanges.put(pid, ""));
        requireEngine().lost(released, "released by this node");
        Set<TopicPartition> out = new java.util.LinkedHashSet<>();
        for (int pid : released) {
            out.add(ids.get(pid));
            handle.fireLost(ids.get(pid), "released by this node");
        }
        return out;
    }

    // ------------------------------------------------------------------ helpers

    /** The node's listener: partitions lost (renewal thread, or a commit's or release's thread). */
    private void onLost(Set<Integer> partitionIds, String why) {
        partitionIds.forEach(pid -> ownChanges.put(pid, ""));
        Engine e = engine;
        if (e != null) {
            e.lost(partitionIds, why); // quick: stops appends at once, the rest off this thread
        }
        // names need the catalog lock, which a commit may hold: never on the renewal thread
        Runnable tell = () -> {
            Map<Integer, TopicPartition> names = names();
            for (int pid : partitionIds) {
                TopicPartition tp = names.get(pid);
                if (tp != null) {
                    handle.fireLost(tp, why);
                }
            }
        };
        try {
            checks.execute(tell);
        } catch (RuntimeException rejected) {
            log.debug("cluster node {} closing: partitions {} lost ({})", options.nodeId(), partitionIds, why);
        }
    }

    private void refreshOwners() {
        List<ClusterNode.Ownership> rows = requireNode().ownership();
        Map<Integer, ClusterNode.Ownership> fresh = new HashMap<>();
        for (ClusterNode.Ownership o : rows) {
            fresh.put(o.partitionId(), o);
        }
        owners = fresh;
        ownChanges.clear();
    }

    /** Partition id to name, cached until topics change (no lock while cached). */
    private Map<Integer, TopicPartition> names() {
        Map<Integer, TopicPartition> cached = names;
        if (cached != null) {
            return cached;
        }
        Map<Integer, TopicPartition> out = new HashMap<>();
        synchronized (view.lock()) {
            for (TopicMeta t : view.state().topics().values()) {
                for (int i = 0; i < t.partitionCount(); i++) {
                    out.put(t.partitionId(i), new TopicPartition(t.name(), i));
                }
            }
            names = Map.copyOf(out); // under the lock: a topic change (also under it) drops it after this
        }
        return out;
    }

    /** Partition ids of {@code partitions}; one refresh first if this view does not know one yet. */
    private Map<Integer, TopicPartition> ids(Collection<TopicPartition> partitions) {
        try {
            return idsNow(partitions);
        } catch (ShaleException e) {
            if (e.kind() != ErrorKind.UNKNOWN_TOPIC_OR_PARTITION) {
                throw e;
            }
            view.refresh(); // created on another node since the last look?
            return idsNow(partitions);
        }
    }

    private Map<Integer, TopicPartition> idsNow(Collection<TopicPartition> partitions) {
        java.util.Objects.requireNonNull(partitions, "partitions");
        Map<Integer, TopicPartition> out = new TreeMap<>();
        synchronized (view.lock()) {
            for (TopicPartition tp : partitions) {
                java.util.Objects.requireNonNull(tp, "partition");
                TopicMeta t = view.state().topic(tp.topic());
                if (t == null || tp.partition() >= t.partitionCount()) {
                    throw new ShaleException(ErrorKind.UNKNOWN_TOPIC_OR_PARTITION, "the store of cluster node "
                            + options.nodeId() + " has no partition " + tp);
                }
                out.put(t.partitionId(tp.partition()), tp);
            }
        }
        return out;
    }

    /** The node (tests). */
    ClusterNode node() {
        return requireNode();
    }

    private ClusterNode requireNode() {
        ClusterNode n = node;
        if (n == null) {
            throw new ShaleException(ErrorKind.CLOSED, "cluster node " + options.nodeId() + " has not registered"
                    + " (its store is not open for writing)");
        }
        return n;
    }

    private Engine requireEngine() {
        Engine e = engine;
        if (e == null) {
            throw new ShaleException(ErrorKind.CLOSED, "cluster node " + options.nodeId() + " is not bound to a store");
        }
        return e;
    }
}
