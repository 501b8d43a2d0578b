package io.shale.log.internal.engine;

import static io.shale.log.internal.util.StoreCalls.await;

import io.shale.log.AppendResult;
import io.shale.log.ErrorKind;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.OffsetAndTimestamp;
import io.shale.log.ShaleException;
import io.shale.log.StoreConfig;
import io.shale.log.TopicConfig;
import io.shale.log.TopicDescription;
import io.shale.log.TopicPartition;
import io.shale.log.internal.manifest.Catalog;
import io.shale.log.internal.manifest.ClusterCatalog;
import io.shale.log.internal.manifest.ManifestOp;
import io.shale.log.internal.manifest.ManifestState;
import io.shale.log.internal.manifest.EngineCatalogFactory;
import io.shale.log.internal.manifest.ObjectStoreCatalog;
import io.shale.log.internal.manifest.PartitionMeta;
import io.shale.log.internal.manifest.TopicMeta;
import io.shale.log.internal.objectstore.MeteredObjectStore;
import io.shale.log.internal.objectstore.RetryingObjectStore;
import io.shale.log.metrics.StoreGauges;
import io.shale.log.metrics.StoreMetrics;
import io.shale.log.internal.util.Blocking;
import io.shale.log.internal.util.StoreCalls;
import io.shale.log.record.CompressionType;
import io.shale.log.record.Record;
import io.shale.log.record.RecordBatch;
import io.shale.log.record.RecordBatchBuilder;
import io.shale.log.record.RecordBatchLayout;
import io.shale.log.record.RecordBatches;
import io.shale.log.record.SimpleRecord;
import io.shale.log.record.TimestampType;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.Payload;
import io.shale.log.spi.WalContext;
import io.shale.log.spi.WriteAheadLog;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log engine behind {@link LogStore}: one object per open store, owning the catalog
 * (manifest), the WAL, the log cache, the partitions and the background work.
 *
 * <p><b>Write path</b> ({@link #append}, {@link #appendBatch}): validate, encode or copy the
 * batch into the log cache (outside any partition lock), then under the partition's lock assign
 * offsets and queue the WAL entry ({@link PartitionLog#append}); the WAL's completion advances
 * the high watermark and completes the future.
 *
 * <p><b>Read path</b> ({@link #read}, {@link #poll}): the log cache first (views of the appended
 * bytes), then the object store through {@link RemoteReader}.
 *
 * <p><b>Background work</b>: {@link Uploader} (one thread: pack partitions' new data into one
 * object, commit it to the manifest, trim the WAL) and {@link Maintenance} (one thread: retention,
 * compaction, object deletion after the grace period, orphan cleanup, manifest snapshots; and for
 * read-only stores, following the manifest).
 *
 * <p><b>Writer lease.</b> With a WAL on this machine's disk (one that does not check fencing
 * itself before acknowledging, unlike the object WAL), a writer that a newer writer has fenced
 * would keep acknowledging appends that nobody will ever read, until its next manifest commit
 * fails. So acknowledgements need a lease: every {@code writer.lease.ms / 3} the writer checks its
 * fence marker (one HEAD), and it acknowledges only while the last check that found it unfenced
 * was issued less than {@code writer.lease.ms} ago. Durable batches past an expired lease wait
 * (their futures and the high watermark stay put) until a check renews it, or fail with
 * {@code FENCED}. A newer writer writes the marker when it claims the store, so the old writer
 * acknowledges nothing more than {@code writer.lease.ms} after that claim.
 *
 * <p><b>Metrics.</b> Opened with a {@link StoreMetrics}, the engine reports appends when they are
 * acknowledged, reads when they return, cache lookups on the read path and every object-store
 * attempt ({@link MeteredObjectStore}, under the retry policy), and gives a live view of its lags
 * and sizes ({@link Gauges}). Without metrics it holds {@link StoreMetrics#NONE}, and
 * {@link #metricsOn} keeps every call and clock read off the hot paths.
 *
 * <p><b>Cluster node.</b> Over a {@link ClusterCatalog} (several nodes sharing one bucket, each
 * owning some partitions under leases and partition epochs; docs/rfcs/0005) the writable engine
 * is one node: it appends only to the partitions it owns ({@link PartitionLog#accepting}; others
 * fail {@code NOT_OWNER} naming the owner when known) and acknowledges an append only if
 * {@link ClusterCatalog#mayAcknowledge} holds once it is durable, stamps the partition epoch as
 * leader epoch, commits uploads fenced per partition (an upload whose commit is fenced on a lost
 * partition is committed again without that partition's runs), applies retention and compaction
 * to owned partitions only, and serves every other partition from committed data, following
 * the catalog as read-only stores do. Ownership changes arrive through
 * {@link ClusterCatalog.Engine}: a claimed partition restarts at its committed end (then
 * {@link #recoverTakenOver}), a lost one fails what is pending ({@code NOT_OWNER}) and falls back
 * to committed data, and a planned release first stops appends and uploads what they left. The
 * writer lease above is replaced by the per-partition leases; the WAL's entries of an earlier
 * process of the node are not replayed (its partitions were released when this one registered).
 *
 * <p><b>Lock order</b>: catalog lock, then log-cache lock, then a partition's monitor. Futures are
 * completed with no lock held.
 */
public final class StoreEngine implements LogStore {
    private static final Logger log = LoggerFactory.getLogger(StoreEngine.class);
    private static final Pattern TOPIC_NAME = Pattern.compile("[a-zA-Z0-9._-]+");
    private static final int MAX_TOPIC_NAME = 249;
    private static final int MAX_PARTITIONS_PER_CALL = 1_000_000;
    /** Largest {@link #appendBatch} call: every WAL accepts entries of this size (see WriteAheadLog#append). */
    static final int MAX_APPEND_BYTES = 64 << 20;
    /** Key the open-time probe of create-if-absent uses (see {@link #probeConditionalWrites}). */
    static final String PROBE_KEY = "manifest/if-none-match-probe";

    final ObjectStore store;
    /** {@link #store} as the retry policy, for the open and close deadlines. */
    private final RetryingObjectStore retries;
    final WriteAheadLog wal;
    final Clock clock;
    final StoreConfig config;
    final boolean readOnly;
    final Catalog catalog;
    /** The catalog as a cluster node's, or null for a single writer and for read-only stores. */
    final ClusterCatalog cluster;
    /** Cluster nodes: delivers a dead owner's acknowledged entries on takeover (null: none, see {@link #recoverTakenOver}). */
    private volatile TakeoverRecovery takeoverRecovery;
    final LogCache cache;
    final RemoteReader remote;
    final Uploader uploader;
    final Maintenance maintenance;
    /** {@link StoreMetrics#NONE}, or the user's metrics shielded by {@link GuardedMetrics}. */
    final StoreMetrics metrics;
    /** Whether {@link #metrics} records anything: every metrics call and clock read is skipped if not. */
    final boolean metricsOn;
    private final long openedAtMillis;

    private final ConcurrentHashMap<String, TopicHandle> topics = new ConcurrentHashMap<>();
    final ConcurrentHashMap<Integer, PartitionLog> partitionsById = new ConcurrentHashMap<>();
    final ConcurrentLinkedQueue<PartitionLog> dirty = new ConcurrentLinkedQueue<>();
    /**
     * Object-WAL objects in the data-object layout that are durable and not yet committed, by key
     * (= sequence order): the uploader commits them as data objects (see {@link Uploader}).
     */
    final java.util.concurrent.ConcurrentSkipListMap<String, io.shale.log.wal.WalDataObject> walDataObjects =
            new java.util.concurrent.ConcurrentSkipListMap<>();
    /** Keys the manifest references, object-WAL objects among them: the WAL's no longer (WalDataObjectSink). */
    final java.util.Set<String> committedWalObjects = ConcurrentHashMap.newKeySet();

    final EngineRuntime runtime;
    final ScheduledExecutorService scheduler;
    final ExecutorService uploadExecutor;
    final ExecutorService maintenanceExecutor;
    private final ExecutorService fetchExecutor;

    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean closing;
    private volatile boolean fenced;

    // ---- writer lease (see the class comment)
    /** Whether acknowledgements need the lease: the WAL does not check fencing itself. */
    private final boolean leaseRequired;
    /** Acknowledgements are allowed while the clock is below this (epoch ms). */
    private volatile long leaseUntilMillis;
    private final AtomicBoolean leaseCheckInFlight = new AtomicBoolean();
    /** Partitions holding durable batches that wait for the lease to be renewed. */
    private final Set<PartitionLog> waitingForLease = ConcurrentHashMap.newKeySet();
    /** Long polls not completed yet. */
    private final Set<Waiter> pendingPolls = ConcurrentHashMap.newKeySet();
    private volatile ScheduledFuture<?> leaseTimer;
    private final ThreadLocal<AppendScratch> scratch = ThreadLocal.withInitial(AppendScratch::new);

    /** Reused per appending thread: a builder and an encode buffer. */
    private static final class AppendScratch {
        final RecordBatchBuilder builder = new RecordBatchBuilder();
        ByteBuffer buffer = ByteBuffer.allocate(64 << 10);

        ByteBuffer buffer(int size) {
            if (buffer.capacity() < size) {
                buffer = ByteBuffer.allocate(Math.max(size, buffer.capacity() * 2));
            }
            buffer.clear();
            return buffer;
        }
    }

    private StoreEngine(RetryingObjectStore store, WriteAheadLog wal, Clock clock, StoreConfig config,
            EngineRuntime runtime, StoreMetrics metrics, EngineCatalogFactory catalogFactory) {
        this.metrics = metrics;
        this.metricsOn = metrics != StoreMetrics.NONE;
        this.openedAtMillis = clock.millis();
        this.store = store;
        this.retries = store;
        this.wal = wal;
        this.clock = clock;
        this.config = config;
        this.runtime = runtime;
        this.readOnly = wal == null;
        this.catalog = catalogFactory == null
                ? new ObjectStoreCatalog(store, clock, config.manifestSnapshotDeltas(),
                        Math.max(config.objectDeleteGraceMs(), 1_000))
                : java.util.Objects.requireNonNull(catalogFactory.open(store, clock, config, wal == null),
                        "the catalog factory returned null");
        this.cluster = !readOnly && catalog instanceof ClusterCatalog cc ? cc : null;
        // a cluster node's acknowledgements follow its partition leases instead of the writer lease
        this.leaseRequired = wal != null && !wal.checksFencing() && cluster == null;
        this.cache = readOnly ? null : new LogCache(config.logCacheBytes(), this::cacheFull);
        this.remote = new RemoteReader(store, config.blockCacheBytes(), config.readaheadMaxBytes(), metrics,
                partitionsById::values);
        this.scheduler = runtime.newTimer("shale-timer");
        this.uploadExecutor = readOnly ? null : runtime.newSerialExecutor("shale-upload");
        this.maintenanceExecutor = runtime.newSerialExecutor("shale-maintenance");
        this.fetchExecutor = runtime.newPool("shale-fetch", 4);
        this.uploader = readOnly ? null : new Uploader(this);
        this.maintenance = new Maintenance(this);
    }

    /** Opens a store; see {@link io.shale.log.LogStoreBuilder#open()}. */
    public static LogStore open(ObjectStore objectStore, WriteAheadLog wal, Clock clock, StoreConfig config) {
        return open(objectStore, wal, clock, config, EngineRuntime.threads());
    }

    /** Opens a store that reports to {@code metrics} ({@link StoreMetrics#NONE} for none). */
    public static LogStore open(ObjectStore objectStore, WriteAheadLog wal, Clock clock, StoreConfig config,
            StoreMetrics metrics) {
        return open(objectStore, wal, clock, config, EngineRuntime.threads(), metrics);
    }

    /** Opens a store whose background work runs on {@code runtime} (the simulation's, in tests). */
    public static LogStore open(ObjectStore objectStore, WriteAheadLog wal, Clock clock, StoreConfig config,
            EngineRuntime runtime) {
        return open(objectStore, wal, clock, config, runtime, StoreMetrics.NONE);
    }

    /** Opens a store whose background work runs on {@code runtime}, reporting to {@code metrics}. */
    public static LogStore open(ObjectStore objectStore, WriteAheadLog wal, Clock clock, StoreConfig config,
            EngineRuntime runtime, StoreMetrics metrics) {
        return open(objectStore, wal, clock, config, runtime, metrics, null);
    }

    /**
     * Opens a store whose metadata lives in the catalog {@code catalogFactory} makes (null: in the
     * object store, the default).
     */
    public static LogStore open(ObjectStore objectStore, WriteAheadLog wal, Clock clock, StoreConfig config,
            StoreMetrics metrics, EngineCatalogFactory catalogFactory) {
        return open(objectStore, wal, clock, config, EngineRuntime.threads(), metrics, catalogFactory);
    }

    /** Opens a store on {@code runtime}, reporting to {@code metrics}, with the given catalog (null: default). */
    public static LogStore open(ObjectStore objectStore, WriteAheadLog wal, Clock clock, StoreConfig config,
            EngineRuntime runtime, StoreMetrics metrics, EngineCatalogFactory catalogFactory) {
        StoreMetrics m = metrics == null || metrics == StoreMetrics.NONE ? StoreMetrics.NONE : new GuardedMetrics(metrics);
        // Metrics count each attempt the store makes, so they sit under the retry policy.
        ObjectStore counted = m == StoreMetrics.NONE ? objectStore : new MeteredObjectStore(objectStore, m);
        // One retry policy for every object-store call (backoff with jitter, bounded by a deadline,
        // ambiguous conditional puts resolved by token), wrapped around whatever store was given.
        RetryingObjectStore store = runtime.configure(RetryingObjectStore.builder(counted).config(config)).build();
        StoreEngine engine;
        try {
            engine = new StoreEngine(store, wal, clock, config, runtime, m, catalogFactory);
        } catch (RuntimeException | Error e) {
            closeQuietly(wal);
            closeQuietly(store);
            throw e;
        }
        long timeoutMs = config.openTimeoutMs();
        // Every object-store call the open makes (and its retries) ends by this deadline, even one
        // that hangs; the open then fails with UNAVAILABLE naming the setting.
        store.cutOffAfter(timeoutMs, "the store's open did not finish within " + StoreConfig.OPEN_TIMEOUT_MS + " = "
                + timeoutMs + " ms");
        try {
            engine.start();
            store.clearCutoff();
            return engine;
        } catch (RuntimeException | Error e) {
            engine.shutdownQuietly(10_000);
            throw e;
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            log.debug("closing {} after a failed open failed", c, e);
        }
    }

    /**
     * Opening order matters for the writer already running: everything that can fail locally (the
     * WAL's lock, the object store's create-if-absent) is checked BEFORE the claim, because the
     * claim fences that writer whether or not this open then succeeds.
     */
    private void start() {
        if (metricsOn) {
            metrics.bind(new Gauges());
        }
        catalog.load(new Listener());
        if (!readOnly) {
            checkWalKeyPrefix(wal);
            if (cluster != null) {
                checkClusterWal(wal, cluster);
            }
            wal.open(cluster != null ? new ClusterWalContext() : new EngineWalContext());
            probeConditionalWrites();
            long claimedAt = clock.millis();
            catalog.claimWriter();
            leaseUntilMillis = claimedAt + config.writerLeaseMs();
        }
        synchronized (catalog.lock()) {
            for (TopicMeta t : catalog.state().topics().values()) {
                addTopic(t);
            }
            // Object-WAL objects committed as data are among the objects the manifest knows: the WAL
            // must neither replay nor delete them (WalDataObjectSink). Every known key goes in: the
            // WAL asks only about keys under its own prefix, which may itself lie under "data/".
            committedWalObjects.addAll(catalog.state().objects().keySet());
        }
        if (!readOnly) {
            if (cluster != null) {
                startClusterNode();
            } else {
                new Recovery(this).replay();
                for (PartitionLog p : partitionsById.values()) {
                    p.continueAtLogStart();
                }
            }
            uploader.start();
            if (leaseRequired) {
                long period = Math.max(1, config.writerLeaseMs() / 3);
                leaseTimer = scheduler.scheduleWithFixedDelay(this::renewLease, period, period, TimeUnit.MILLISECONDS);
            }
        }
        maintenance.start();
        log.info("opened {} store on {} ({} topics, {} partitions{})", readOnly ? "read-only" : "writable",
                store.describe(), topics.size(), partitionsById.size(),
                readOnly ? "" : ", WAL " + wal.describe());
    }

    /**
     * A cluster node's object WAL needs keys of its own: nodes share the bucket, and a prefix
     * shared with another node would mix their entries (each replay and trim would judge the
     * other's). Required: the prefix ends with {@code <nodeId>/}.
     */
    private static void checkClusterWal(WriteAheadLog wal, ClusterCatalog cluster) {
        if (wal instanceof io.shale.log.wal.ObjectWriteAheadLog o && !o.keyPrefix().endsWith("/" + cluster.nodeId() + "/")
                && !o.keyPrefix().equals(cluster.nodeId() + "/")) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "object WAL keyPrefix '" + o.keyPrefix() + "' of"
                    + " cluster node '" + cluster.nodeId() + "' is not the node's own: nodes share the bucket, so each"
                    + " node's WAL prefix must end with its node id, e.g. wal/" + cluster.nodeId() + "/");
        }
    }

    /**
     * Opening as a cluster node, after the registration: nothing is owned yet. The WAL's entries
     * were written by an earlier process of this node for partitions the registration released:
     * they are read past (a WAL must be replayed before it appends) and not recovered; a WAL on
     * this machine's disk is trimmed (what it held is lost if it was not committed, RFC 0005 "What
     * each WAL guarantees on takeover"), an object WAL's objects stay for the partitions' new owners.
     */
    private void startClusterNode() {
        long[] skipped = new long[1];
        wal.replay((sequence, stream, base, payload) -> skipped[0]++);
        if (!wal.checksFencing()) {
            wal.trim(wal.nextSequence());
        }
        if (skipped[0] > 0) {
            log.warn("cluster node {}: the WAL held {} entries of an earlier process of this node; its partitions were"
                    + " released when this one registered, so they are not recovered here", cluster.nodeId(), skipped[0]);
        }
        if (takeoverRecovery == null && wal instanceof io.shale.log.wal.ObjectWriteAheadLog o) {
            // an object WAL's entries are in the bucket: a takeover replays them (RFC 0005)
            takeoverRecovery = new ObjectWalTakeover(store, cluster, o.keyPrefix(), committedWalObjects::contains);
        }
        cluster.bind(new ClusterEvents());
    }

    /**
     * An object WAL must keep out of the store's own keys (checked before the claim, so a wrong
     * prefix fences nobody): under {@code data/} itself its keys look like uploads, which the orphan
     * scan deletes while they still hold acknowledged entries (and its trim would take uploads for
     * its own); under {@code manifest/} they would mix with the manifest chain.
     */
    private static void checkWalKeyPrefix(WriteAheadLog wal) {
        if (wal instanceof io.shale.log.wal.ObjectWriteAheadLog o) {
            String p = o.keyPrefix();
            if (p.equals("data/") || p.startsWith("manifest/")) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "object WAL keyPrefix '" + p
                        + "' overlaps the store's own keys (data/<epoch>-..., manifest/...); choose another, e.g. wal/");
            }
        }
    }

    /**
     * The manifest and writer fencing rest on create-if-absent ({@code If-None-Match: *}); a store
     * that silently ignored the condition would let two writers fork the manifest chain without
     * either noticing. So a writer checks it at every open, before claiming: the probe object is
     * created by the store's first writer, and every later create-if-absent of it must report that
     * it exists. Cost: one conditional PUT per open (two on a store's very first open).
     */
    private void probeConditionalWrites() {
        byte[] empty = new byte[0];
        boolean created = await(store.putIfAbsent(PROBE_KEY, Payload.of(empty), StoreCalls.newToken()),
                "probing create-if-absent (If-None-Match) with " + PROBE_KEY);
        if (created) {
            created = await(store.putIfAbsent(PROBE_KEY, Payload.of(empty), StoreCalls.newToken()),
                    "probing create-if-absent (If-None-Match) with " + PROBE_KEY);
        }
        if (created) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "the object store " + store.describe()
                    + " ignores If-None-Match: * (a create-if-absent PUT of " + PROBE_KEY + ", which already existed,"
                    + " succeeded). Shale's manifest and writer fencing depend on create-if-absent, so this store"
                    + " cannot be opened for writing; use a store that supports conditional writes"
                    + " (read-only opens do not need them)");
        }
    }

    // ================================================================== topics

    @Override
    public TopicDescription createTopic(String topic, int partitions, Map<String, ?> configs) {
        ensureWritable();
        validateTopicName(topic);
        if (partitions < 1 || partitions > MAX_PARTITIONS_PER_CALL) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "partition count for topic '" + topic
                    + "' must be between 1 and " + MAX_PARTITIONS_PER_CALL + ", got " + partitions);
        }
        TopicConfig tc = TopicConfig.of(configs == null ? Map.of() : configs);
        if (cluster != null) {
            cluster.createTopic(topic, partitions, tc.overrides()); // unowned until nodes claim them
            return requireTopic(topic).describe();
        }
        synchronized (catalog.lock()) {
            ManifestState s = catalog.state();
            if (s.topic(topic) != null) {
                throw new ShaleException(ErrorKind.TOPIC_ALREADY_EXISTS, "topic '" + topic + "' already exists");
            }
            int[] ids = new int[partitions];
            for (int i = 0; i < partitions; i++) {
                ids[i] = s.nextPartitionId() + i;
            }
            commit(List.of(new ManifestOp.CreateTopic(topic, UUID.randomUUID(), tc.overrides(), ids)),
                    StoreCalls.newToken());
        }
        return requireTopic(topic).describe();
    }

    @Override
    public List<String> listTopics() {
        ensureOpen();
        List<String> names = new ArrayList<>(topics.keySet());
        Collections.sort(names);
        return names;
    }

    @Override
    public Optional<TopicDescription> describeTopic(String topic) {
        ensureOpen();
        TopicHandle h = topics.get(Objects.requireNonNull(topic, "topic"));
        return h == null ? Optional.empty() : Optional.of(h.describe());
    }

    @Override
    public TopicDescription addPartitions(String topic, int totalPartitions) {
        ensureWritable();
        refuseOnCluster("adding partitions");
        synchronized (catalog.lock()) {
            TopicMeta t = catalog.state().topic(topic);
            if (t == null) {
                throw unknownTopic(topic);
            }
            int add = totalPartitions - t.partitionCount();
            if (add <= 0 || add > MAX_PARTITIONS_PER_CALL) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "topic '" + topic + "' has "
                        + t.partitionCount() + " partitions; the new count must be larger, got " + totalPartitions);
            }
            int[] ids = new int[add];
            for (int i = 0; i < add; i++) {
                ids[i] = catalog.state().nextPartitionId() + i;
            }
            commit(List.of(new ManifestOp.AddPartitions(topic, ids)), StoreCalls.newToken());
        }
        return requireTopic(topic).describe();
    }

    @Override
    public TopicDescription alterTopicConfig(String topic, Map<String, ?> configs) {
        ensureWritable();
        refuseOnCluster("altering a topic's configs");
        synchronized (catalog.lock()) {
            TopicHandle h = requireTopic(topic);
            TopicConfig merged = h.config.with(configs);
            commit(List.of(new ManifestOp.AlterTopicConfig(topic, merged.overrides())), StoreCalls.newToken());
        }
        return requireTopic(topic).describe();
    }

    @Override
    public void deleteTopic(String topic) {
        ensureWritable();
        refuseOnCluster("deleting a topic");
        synchronized (catalog.lock()) {
            if (catalog.state().topic(topic) == null) {
                throw unknownTopic(topic);
            }
            commit(List.of(new ManifestOp.DeleteTopic(topic)), StoreCalls.newToken());
        }
    }

    /** An admin commit (caller holds the catalog lock); a FENCED answer fences the whole store at once. */
    /** Producer ids reserved per manifest commit by {@link #allocateProducerId}. */
    static final long PRODUCER_ID_BLOCK = 1000;
    private final Object producerIdLock = new Object();
    /** The next id to hand out and the end of the reserved block (guarded by producerIdLock). */
    private long producerIdNext;
    private long producerIdLimit;

    @Override
    public long allocateProducerId() {
        ensureWritable();
        synchronized (producerIdLock) {
            if (producerIdNext >= producerIdLimit) {
                if (cluster != null) { // a block of the store's counter for this node
                    producerIdNext = cluster.allocateProducerIds(PRODUCER_ID_BLOCK);
                    producerIdLimit = producerIdNext + PRODUCER_ID_BLOCK;
                    return producerIdNext++;
                }
                synchronized (catalog.lock()) {
                    long start = catalog.state().nextProducerId();
                    if (start > Long.MAX_VALUE - PRODUCER_ID_BLOCK) {
                        throw new ShaleException(ErrorKind.UNAVAILABLE, "producer ids of this store are exhausted");
                    }
                    commit(List.of(new ManifestOp.AllocateProducerIds(start + PRODUCER_ID_BLOCK)),
                            StoreCalls.newToken());
                    producerIdNext = start;
                    producerIdLimit = start + PRODUCER_ID_BLOCK;
                }
            }
            return producerIdNext++;
        }
    }

    private void commit(List<ManifestOp> ops, String token) {
        long startedAt = clock.millis();
        try {
            catalog.commit(ops, token);
            leaseConfirmed(startedAt);
        } catch (ShaleException e) {
            if (e.kind() == ErrorKind.FENCED && cluster == null) {
                onFenced(e);
            }
            throw e;
        }
    }

    /** Admin operations a cluster store does not support yet (RFC 0005, "What remains"). */
    private void refuseOnCluster(String what) {
        if (cluster != null) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, what + " is not supported on a cluster store yet"
                    + " (node " + cluster.nodeId() + "); topics of a cluster store can be created, not changed");
        }
    }

    static void validateTopicName(String topic) {
        if (topic == null || topic.isEmpty()) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "topic name must not be empty");
        }
        if (topic.length() > MAX_TOPIC_NAME) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "topic name is " + topic.length()
                    + " characters; at most " + MAX_TOPIC_NAME + " are allowed");
        }
        if (topic.equals(".") || topic.equals("..")) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "topic name cannot be '.' or '..'");
        }
        if (!TOPIC_NAME.matcher(topic).matches()) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "topic name '" + printable(topic)
                    + "' has characters outside [a-zA-Z0-9._-]");
        }
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            b.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\u%04x", (int) c));
        }
        return b.toString();
    }

    // ================================================================== writes

    @Override
    public CompletableFuture<AppendResult> append(TopicPartition tp, List<SimpleRecord> records) {
        Objects.requireNonNull(tp, "tp");
        Objects.requireNonNull(records, "records");
        long startNanos = metricsOn ? System.nanoTime() : 0L;
        try {
            ensureWritable();
            PartitionLog p = partition(tp);
            checkAccepting(p);
            if (records.isEmpty()) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "append to " + tp + " has no records");
            }
            TopicConfig tc = p.topic.config;
            long now = clock.millis();
            AppendScratch s = scratch.get();
            RecordBatchBuilder b = s.builder.reset().compression(tc.compressionType()).defaultTimestamp(now);
            boolean logAppendTime = tc.messageTimestampType() == TimestampType.LOG_APPEND_TIME;
            if (logAppendTime) {
                b.timestampType(TimestampType.LOG_APPEND_TIME).logAppendTime(now);
            }
            boolean compacted = tc.cleanupPolicy().compacts();
            for (int i = 0, n = records.size(); i < n; i++) {
                SimpleRecord r = records.get(i);
                if (r == null) {
                    throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "append to " + tp + ": record " + i + " of "
                            + n + " is null");
                }
                if (compacted && r.key() == null) {
                    throw keyless(tp);
                }
                if (!logAppendTime && r.timestamp() != RecordBatchLayout.NO_TIMESTAMP) {
                    checkTimestamp(tp, tc, r.timestamp(), now);
                }
                b.append(r);
            }
            ByteBuffer encoded = s.buffer(b.sizeUpperBound());
            int size = b.writeTo(encoded);
            if (size > tc.maxMessageBytes()) {
                throw tooLarge(tp, size, tc);
            }
            encoded.flip();
            CachedBatch cb = cache.allocate(size, config.appendMaxBlockMs(), p);
            cb.appendStartNanos = startNanos;
            cb.data.put(0, encoded, 0, size);
            cb.maxTimestamp = cb.data.getLong(RecordBatchLayout.MAX_TIMESTAMP_OFFSET);
            CompletableFuture<AppendResult> f = p.append(cb, now);
            uploader.maybeTrigger();
            return f;
        } catch (RuntimeException | LinkageError e) {
            return CompletableFuture.failedFuture(appendFailure(tp, e));
        }
    }

    /**
     * What a failed append's future fails with: asynchronous methods never throw, whatever broke
     * (only null arguments, checked up front, throw).
     */
    private ShaleException appendFailure(TopicPartition tp, Throwable e) {
        ShaleException se = ShaleException.unwrap(e);
        if (se != null) {
            return se;
        }
        if (e instanceof IllegalArgumentException) {
            return new ShaleException(ErrorKind.INVALID_ARGUMENT, "append to " + tp + " rejected: " + e.getMessage(), e);
        }
        if (e instanceof LinkageError) {
            return new ShaleException(ErrorKind.INVALID_ARGUMENT, "append to " + tp + " needs a library that is missing"
                    + " or of an incompatible version: " + e, e);
        }
        log.error("append to {} failed unexpectedly", tp, e);
        return new ShaleException(ErrorKind.UNAVAILABLE, "append to " + tp + " failed unexpectedly: " + e, e);
    }

    @Override
    public CompletableFuture<AppendResult> appendBatch(TopicPartition tp, ByteBuffer batches) {
        Objects.requireNonNull(tp, "tp");
        Objects.requireNonNull(batches, "batches");
        long startNanos = metricsOn ? System.nanoTime() : 0L;
        CachedBatch cb = null;
        try {
            ensureWritable();
            PartitionLog p = partition(tp);
            checkAccepting(p);
            TopicConfig tc = p.topic.config;
            long now = clock.millis();
            int size = batches.remaining();
            if (size == 0) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "append to " + tp + " has no batches");
            }
            if (size > MAX_APPEND_BYTES) {
                throw new ShaleException(ErrorKind.RECORD_TOO_LARGE, "appendBatch for " + tp + " carries " + size
                        + " bytes; one call may carry at most " + MAX_APPEND_BYTES + " bytes (split it)");
            }
            // Copy first, then validate the copy: the caller's buffer may change under us (another
            // thread reusing it), and what is validated must be exactly what is stored.
            cb = cache.allocate(size, config.appendMaxBlockMs(), p);
            cb.appendStartNanos = startNanos;
            cb.data.put(0, batches, batches.position(), size);
            cb.maxTimestamp = validateBatches(tp, tc, cb.internalView(), now, config.strictAppendValidation());
            refuseControlBatches(tp, cb.internalView());
            CompletableFuture<AppendResult> f = p.append(cb, now);
            cb = null; // published: the partition owns it now
            uploader.maybeTrigger();
            return f;
        } catch (RuntimeException | LinkageError e) {
            if (cb != null) {
                cache.release(cb); // validated in vain: never published, give its bytes back
            }
            return CompletableFuture.failedFuture(appendFailure(tp, e));
        }
    }

    /**
     * Kafka's {@code LogValidator}: "clients are not allowed to write control records"; markers
     * come from {@link #writeTxnMarker} only.
     */
    private static void refuseControlBatches(TopicPartition tp, ByteBuffer data) {
        int index = 0;
        for (int pos = 0; pos < data.capacity(); index++) {
            if ((data.getShort(pos + RecordBatchLayout.ATTRIBUTES_OFFSET) & RecordBatchLayout.CONTROL_FLAG_MASK) != 0) {
                throw new ShaleException(ErrorKind.INVALID_RECORD, "batch " + index + " appended to " + tp
                        + " is a control batch; producers may not write control records (transaction markers"
                        + " are written with writeTxnMarker)");
            }
            pos += data.getInt(pos + RecordBatchLayout.LENGTH_OFFSET) + RecordBatchLayout.LOG_OVERHEAD;
        }
    }

    @Override
    public CompletableFuture<AppendResult> writeTxnMarker(TopicPartition tp, long producerId, short producerEpoch,
            int coordinatorEpoch, boolean commit) {
        Objects.requireNonNull(tp, "tp");
        long startNanos = metricsOn ? System.nanoTime() : 0L;
        CachedBatch cb = null;
        try {
            if (producerId < 0 || producerEpoch < 0) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "transaction marker for " + tp
                        + " needs a producer id and epoch >= 0, got " + producerId + " and " + producerEpoch);
            }
            ensureWritable();
            PartitionLog p = partition(tp);
            checkAccepting(p);
            long now = clock.millis();
            ByteBuffer key = ByteBuffer.allocate(4).putShort(0, (short) 0)
                    .putShort(2, commit ? TxnStates.COMMIT : TxnStates.ABORT);
            ByteBuffer value = ByteBuffer.allocate(6).putShort(0, (short) 0).putInt(2, coordinatorEpoch);
            RecordBatchBuilder builder = new RecordBatchBuilder()
                    .producer(producerId, producerEpoch, RecordBatchLayout.NO_SEQUENCE)
                    .transactional(true)
                    .control(true);
            if (p.topic.config.messageTimestampType() == TimestampType.LOG_APPEND_TIME) {
                builder.logAppendTime(now);
            }
            ByteBuffer marker = builder.append(now, key, value, List.of()).build();
            int size = marker.remaining();
            cb = cache.allocate(size, config.appendMaxBlockMs(), p);
            cb.appendStartNanos = startNanos;
            cb.data.put(0, marker, marker.position(), size);
            cb.maxTimestamp = now;
            CompletableFuture<AppendResult> f = p.append(cb, now);
            cb = null;
            uploader.maybeTrigger();
            return f;
        } catch (RuntimeException | LinkageError e) {
            if (cb != null) {
                cache.release(cb);
            }
            return CompletableFuture.failedFuture(appendFailure(tp, e));
        }
    }

    @Override
    public long lastStableOffset(TopicPartition tp) {
        ensureOpen();
        return partition(tp).lastStableOffset();
    }

    /** The first offset of {@code producerId}'s open transaction in {@code tp}, or -1 (tests, diagnostics). */
    long ongoingTransaction(TopicPartition tp, long producerId) {
        return partition(tp).ongoingTransaction(producerId);
    }

    @Override
    public io.shale.log.RecordAppender appender(io.shale.log.AppenderOptions options) {
        ensureWritable();
        io.shale.log.internal.appender.BatchingAppender a =
                new io.shale.log.internal.appender.BatchingAppender(this, options, clock, appenders::remove);
        appenders.add(a);
        if (closed.get()) { // close ran between the check and the add: it may not have seen this one
            a.close(Duration.ZERO);
            throw closedException();
        }
        return a;
    }

    /**
     * Appenders not closed yet; {@link #close(Duration)} closes them first, so what they buffered
     * is sent while the store can still take it and their threads end.
     */
    private final Set<io.shale.log.internal.appender.BatchingAppender> appenders = ConcurrentHashMap.newKeySet();

    /** Closes the appenders still open, within half the close timeout. */
    private void closeAppenders(long timeoutMs) {
        if (appenders.isEmpty()) {
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs / 2);
        for (io.shale.log.internal.appender.BatchingAppender a : List.copyOf(appenders)) {
            try {
                a.close(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            } catch (RuntimeException e) {
                log.warn("closing an appender of store {} failed", store.describe(), e);
            }
        }
    }

    /**
     * Validates a broker's batches in the log cache (their final home) and, for LogAppendTime
     * topics, stamps the append time. Returns the largest timestamp.
     */
    private static long validateBatches(TopicPartition tp, TopicConfig tc, ByteBuffer data, long now, boolean strict) {
        if (strict) {
            return AppendValidator.validate(tp, tc, data, now);
        }
        List<RecordBatch> views = RecordBatches.split(data);
        boolean logAppendTime = tc.messageTimestampType() == TimestampType.LOG_APPEND_TIME;
        long maxTs = Long.MIN_VALUE;
        for (RecordBatch v : views) {
            if (v.sizeInBytes() > tc.maxMessageBytes()) {
                throw tooLarge(tp, v.sizeInBytes(), tc);
            }
            v.ensureValid();
            int codec = v.attributes() & RecordBatchLayout.COMPRESSION_CODEC_MASK;
            if (codec > CompressionType.ZSTD.id) {
                // a header field: stored, it would make every reader's record iteration fail
                throw new ShaleException(ErrorKind.CORRUPT_RECORD, "batch for " + tp
                        + " has unknown compression codec id " + codec + " (valid: 0-4)");
            }
            if (v.recordCount() < 1 || v.lastOffsetDelta() != v.recordCount() - 1) {
                throw new ShaleException(ErrorKind.CORRUPT_RECORD, "batch for " + tp + " has " + v.recordCount()
                        + " records but lastOffsetDelta " + v.lastOffsetDelta()
                        + "; producer batches must use consecutive offset deltas");
            }
            if (!logAppendTime && !v.isControlBatch()) {
                checkTimestamp(tp, tc, v.maxTimestamp(), now);
                checkTimestamp(tp, tc, v.baseTimestamp(), now);
            }
            maxTs = Math.max(maxTs, logAppendTime ? now : v.maxTimestamp());
            if (tc.cleanupPolicy().compacts() && !v.isControlBatch()) {
                // only compacted topics pay for this walk (and a decompression, if any)
                for (Record r : v) {
                    if (r.key() == null) {
                        throw keyless(tp);
                    }
                }
            }
        }
        if (logAppendTime) {
            int pos = 0;
            for (RecordBatch v : views) {
                RecordBatch.setLogAppendTime(data, pos, now);
                pos += v.sizeInBytes();
            }
        }
        return maxTs;
    }

    static void checkTimestamp(TopicPartition tp, TopicConfig tc, long ts, long now) {
        if (ts < 0 && ts != RecordBatchLayout.NO_TIMESTAMP) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "record for " + tp + " has negative timestamp " + ts);
        }
        if (ts >= 0 && (now - ts > tc.messageTimestampBeforeMaxMs() || ts - now > tc.messageTimestampAfterMaxMs())) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "record for " + tp + " has timestamp " + ts
                    + " outside the allowed range around now=" + now + " (message.timestamp.before.max.ms="
                    + tc.messageTimestampBeforeMaxMs() + ", message.timestamp.after.max.ms="
                    + tc.messageTimestampAfterMaxMs() + ")");
        }
    }

    /** Kafka rejects a record without a key in a compacted topic (its InvalidRecordException). */
    static ShaleException keyless(TopicPartition tp) {
        return new ShaleException(ErrorKind.INVALID_ARGUMENT, "topic '" + tp.topic() + "' is compacted "
                + "(cleanup.policy includes compact): every record appended to " + tp + " needs a key");
    }

    static ShaleException tooLarge(TopicPartition tp, int size, TopicConfig tc) {
        return new ShaleException(ErrorKind.RECORD_TOO_LARGE, "batch of " + size + " bytes for " + tp
                + " exceeds max.message.bytes=" + tc.maxMessageBytes());
    }

    // ================================================================== reads

    @Override
    public FetchResult read(TopicPartition tp, long offset, int maxBytes) {
        return read(tp, offset, maxBytes, io.shale.log.IsolationLevel.READ_UNCOMMITTED);
    }

    @Override
    public FetchResult read(TopicPartition tp, long offset, int maxBytes, io.shale.log.IsolationLevel isolation) {
        ensureOpen();
        Objects.requireNonNull(isolation, "isolation");
        if (maxBytes < 0) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "maxBytes must not be negative: " + maxBytes);
        }
        return counted(ReadPath.read(this, partition(tp), offset, maxBytes,
                isolation == io.shale.log.IsolationLevel.READ_COMMITTED), tp);
    }

    /** Reports a read's records and bytes to the metrics (if any); returns it. */
    private FetchResult counted(FetchResult r, TopicPartition tp) {
        if (metricsOn) {
            long records = 0;
            long bytes = 0;
            for (RecordBatch b : r.batches()) {
                records += b.recordCount();
                bytes += b.sizeInBytes();
            }
            metrics.read(tp.topic(), records, bytes);
        }
        return r;
    }

    @Override
    public CompletableFuture<FetchResult> poll(TopicPartition tp, long offset, int maxBytes, Duration maxWait) {
        return poll(tp, offset, maxBytes, maxWait, io.shale.log.IsolationLevel.READ_UNCOMMITTED);
    }

    @Override
    public CompletableFuture<FetchResult> poll(TopicPartition tp, long offset, int maxBytes, Duration maxWait,
            io.shale.log.IsolationLevel isolation) {
        Objects.requireNonNull(maxWait, "maxWait");
        Objects.requireNonNull(isolation, "isolation");
        boolean committed = isolation == io.shale.log.IsolationLevel.READ_COMMITTED;
        try {
            FetchResult now = read(tp, offset, maxBytes, isolation);
            if (!now.isEmpty() || maxWait.isZero() || maxWait.isNegative()) {
                return CompletableFuture.completedFuture(now);
            }
            PartitionLog p = partition(tp);
            Waiter w = new Waiter(p, offset, maxBytes, committed);
            if (!p.addWaiter(w)) {
                complete(w);
                return w.future;
            }
            // Tracked until done, so that close completes it whichever executor dropped its task.
            pendingPolls.add(w);
            w.future.whenComplete((r, e) -> pendingPolls.remove(w));
            w.timeout = scheduler.schedule(() -> {
                p.removeWaiter(w);
                if (!w.future.isDone()) {
                    try {
                        fetchExecutor.execute(() -> complete(w));
                    } catch (java.util.concurrent.RejectedExecutionException e) {
                        w.future.completeExceptionally(closedException());
                    }
                }
            }, Blocking.timeoutNanos(maxWait), TimeUnit.NANOSECONDS);
            if (closed.get()) {
                w.future.completeExceptionally(closedException()); // closed while registering
            }
            return w.future;
        } catch (ShaleException e) {
            return CompletableFuture.failedFuture(e);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return CompletableFuture.failedFuture(closedException());
        }
    }

    /** Completes woken long polls off the caller's thread. */
    void wake(List<Waiter> waiters) {
        if (waiters == null) {
            return;
        }
        for (Waiter w : waiters) {
            var t = w.timeout;
            if (t != null) {
                t.cancel(false);
            }
            try {
                fetchExecutor.execute(() -> complete(w));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                w.future.completeExceptionally(closedException());
            }
        }
    }

    private void complete(Waiter w) {
        if (w.future.isDone()) {
            return;
        }
        try {
            if (w.log.isDeleted()) {
                // as a read of the partition now fails, not an empty answer that looks like a live, quiet log
                w.future.completeExceptionally(new ShaleException(ErrorKind.UNKNOWN_TOPIC_OR_PARTITION,
                        "partition " + w.log.tp + " was deleted while a long poll waited on it"));
                return;
            }
            w.future.complete(counted(ReadPath.read(this, w.log, w.offset, w.maxBytes, w.committed), w.log.tp));
        } catch (RuntimeException e) {
            w.future.completeExceptionally(e);
        }
    }

    @Override
    public long logStartOffset(TopicPartition tp) {
        ensureOpen();
        return partition(tp).logStartOffset();
    }

    @Override
    public long highWatermark(TopicPartition tp) {
        ensureOpen();
        return partition(tp).highWatermark();
    }

    @Override
    public int leaderEpoch() {
        ensureOpen();
        if (readOnly) {
            synchronized (catalog.lock()) {
                return clampEpoch(catalog.state().writerEpoch());
            }
        }
        return stampedLeaderEpoch();
    }

    /** The partition leader epoch stamped into appended batches: this writer's epoch, clamped to an int. */
    int stampedLeaderEpoch() {
        return clampEpoch(catalog.writerEpoch());
    }

    /** The leader epoch stamped into {@code p}'s batches: a cluster node stamps the partition epoch. */
    int stampedLeaderEpoch(PartitionLog p) {
        return cluster == null ? stampedLeaderEpoch() : clampEpoch(Math.max(0, p.partitionEpoch));
    }

    private static int clampEpoch(long epoch) {
        return (int) Math.min(epoch, Integer.MAX_VALUE);
    }

    @Override
    public Optional<OffsetAndTimestamp> offsetForTimestamp(TopicPartition tp, long timestamp) {
        ensureOpen();
        PartitionLog p = partition(tp);
        if (timestamp == EARLIEST_TIMESTAMP) {
            return Optional.of(new OffsetAndTimestamp(p.logStartOffset(), -1));
        }
        if (timestamp == LATEST_TIMESTAMP) {
            return Optional.of(new OffsetAndTimestamp(p.highWatermark(), -1));
        }
        if (timestamp < 0) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "timestamp must be >= 0, -1 (latest) or -2 (earliest): "
                    + timestamp);
        }
        return ReadPath.offsetForTimestamp(this, p, timestamp);
    }

    @Override
    public long deleteRecordsBefore(TopicPartition tp, long offset) {
        ensureWritable();
        PartitionLog p = partition(tp);
        if (!maintains(p)) {
            throw notOwner(p); // the owner moves the log start, fenced on its partition epoch
        }
        long hw = p.highWatermark();
        long target = offset == -1 ? hw : offset;
        if (target < 0 || target > hw) {
            throw new ShaleException(ErrorKind.OFFSET_OUT_OF_RANGE, "cannot delete records of " + tp + " before "
                    + offset + ": the high watermark is " + hw);
        }
        synchronized (catalog.lock()) {
            if (target > p.logStartOffset()) {
                try {
                    commit(List.of(new ManifestOp.SetLogStart(p.id, target)), StoreCalls.newToken());
                } catch (ShaleException e) {
                    if (e.kind() == ErrorKind.FENCED && cluster != null) {
                        throw new ShaleException(ErrorKind.NOT_OWNER, "node " + cluster.nodeId() + " lost partition "
                                + tp + " before its log start could be moved: " + e.getMessage(), e);
                    }
                    throw e;
                }
            }
        }
        return p.logStartOffset();
    }

    // ================================================================== lifecycle

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public void flush() {
        flush(Duration.ofMillis(Math.max(1_000, config.objectStoreRetryDeadlineMs())));
    }

    @Override
    public void flush(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        ensureWritable();
        uploader.flush(timeout);
    }

    @Override
    public void close() {
        close(Duration.ofMillis(config.closeTimeoutMs()));
    }

    /**
     * Final uploads within the timeout, then release everything whatever is left. The deadline is
     * kept by a cut-off on the retry policy: every object-store call (the uploads', the manifest
     * commit's, the object WAL's) ends by then, even one that hangs, so each wait below ends too.
     */
    @Override
    public void close(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        long timeoutMs = timeout.isNegative() ? 0 : saturatedMillis(timeout);
        long startMs = clock.millis();
        if (!closed.get()) {
            closeAppenders(timeoutMs); // while the store still takes what they send
        }
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        closing = true;
        retries.cutOffAfter(remaining(startMs, timeoutMs), "the store was closing with a timeout of " + timeoutMs
                + " ms");
        boolean complete = true;
        try {
            if (!readOnly) {
                if (!isFenced()) {
                    complete = uploader.finalUpload(remaining(startMs, timeoutMs), true);
                }
                try {
                    wal.close();
                } catch (RuntimeException e) {
                    log.warn("closing WAL {} failed", wal.describe(), e);
                }
                if (!isFenced()) {
                    // entries the WAL made durable while closing, or that wait for the lease
                    confirmLeaseBeforeClosing(remaining(startMs, timeoutMs));
                    complete &= uploader.finalUpload(remaining(startMs, timeoutMs), false);
                }
            }
        } finally {
            shutdownQuietly(Math.max(1_000, Math.min(10_000, remaining(startMs, timeoutMs))));
            ShaleException closedEx = closedException();
            failEverything(closedEx);
            if (complete) {
                log.info("closed store on {}", store.describe());
            } else if (cluster != null) {
                log.warn("closed cluster node {} on {} after its close timeout of {} ms without uploading everything:"
                        + " what was acknowledged and not uploaded stays in the WAL {}, but the partitions' next owners"
                        + " continue at their committed ends (docs/rfcs/0005, \"What each WAL guarantees on takeover\")",
                        cluster.nodeId(), store.describe(), timeoutMs, wal.describe());
            } else {
                log.warn("closed store on {} after its close timeout of {} ms without uploading everything: what"
                        + " was acknowledged and not uploaded stays in the WAL {} and is uploaded when the store is"
                        + " next opened", store.describe(), timeoutMs, wal.describe());
            }
        }
    }

    private long remaining(long startMs, long timeoutMs) {
        return Math.max(0, timeoutMs - (clock.millis() - startMs));
    }

    private static long saturatedMillis(Duration d) {
        try {
            return d.toMillis();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 2_000_000;
        }
    }

    /** Completes every future still open: appends not acknowledged, long polls, flushes. */
    private void failEverything(ShaleException error) {
        for (TopicHandle h : topics.values()) {
            for (PartitionLog p : h.partitions) {
                List<Waiter> ws = p.drainWaiters();
                if (ws != null) {
                    ws.forEach(w -> w.future.completeExceptionally(error));
                }
                if (!readOnly) {
                    p.failPending(error);
                }
            }
        }
        if (uploader != null) {
            uploader.failFlushes(error);
        }
        for (Waiter w : new ArrayList<>(pendingPolls)) {
            w.future.completeExceptionally(error);
        }
    }

    /** Stops everything, waiting up to {@code waitMs} for the upload and maintenance threads to end. */
    private void shutdownQuietly(long waitMs) {
        closing = true;
        closed.set(true);
        ScheduledFuture<?> lt = leaseTimer;
        if (lt != null) {
            lt.cancel(false);
        }
        if (maintenance != null) {
            maintenance.stop();
        }
        if (uploader != null) {
            uploader.stop();
        }
        for (ExecutorService e : new ExecutorService[] {uploadExecutor, maintenanceExecutor, scheduler, fetchExecutor}) {
            if (e != null) {
                e.shutdownNow();
            }
        }
        for (ExecutorService e : new ExecutorService[] {uploadExecutor, maintenanceExecutor}) {
            if (e != null) {
                try {
                    e.awaitTermination(waitMs, TimeUnit.MILLISECONDS);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        if (wal != null) {
            try {
                wal.close();
            } catch (RuntimeException e) {
                log.debug("closing WAL failed", e);
            }
        }
        try {
            catalog.close();
        } catch (RuntimeException e) {
            log.debug("closing catalog failed", e);
        }
        try {
            store.close();
        } catch (RuntimeException e) {
            log.debug("closing object store failed", e);
        }
        if (metricsOn) {
            metrics.close();
        }
    }

    /**
     * Test hook: stops every thread the way a crash would, without uploading, closing the WAL or
     * the object store, or failing anything in flight.
     */
    void crashForTesting() {
        closing = true;
        closed.set(true);
        maintenance.stop();
        if (uploader != null) {
            uploader.stop();
        }
        for (ExecutorService e : new ExecutorService[] {uploadExecutor, maintenanceExecutor, scheduler, fetchExecutor}) {
            if (e != null) {
                e.shutdownNow();
            }
        }
    }

    /** The manifest refused a commit: a newer writer owns the store. Stop writing. */
    void onFenced(ShaleException cause) {
        if (fenced) {
            return;
        }
        fenced = true;
        log.error("store on {} was fenced by a newer writer; refusing further writes: {}", store.describe(),
                cause.getMessage());
        waitingForLease.clear();
        for (PartitionLog p : partitionsById.values()) {
            p.failPending(cause);
        }
        if (uploader != null) {
            uploader.failFlushes(cause);
        }
    }

    // ================================================================== writer lease

    /**
     * Whether durable batches of {@code p} may be acknowledged now: the store's rule, and on a
     * cluster node the partition's lease ({@link ClusterCatalog#mayAcknowledge}).
     */
    boolean mayAcknowledge(PartitionLog p) {
        if (!mayAcknowledge()) {
            return false;
        }
        return cluster == null || (p.owned && cluster.mayAcknowledge(p.id));
    }

    /** Whether durable batches may be acknowledged now (see the class comment). */
    boolean mayAcknowledge() {
        if (fenced) {
            return false;
        }
        return !leaseRequired || clock.millis() < leaseUntilMillis;
    }

    /** {@code p} holds durable batches that could not be acknowledged: retry once the lease is renewed. */
    void waitForLease(PartitionLog p) {
        if (cluster != null && !fenced) {
            if (!p.owned || !cluster.holds(p.id)) {
                // lost while the entry was on its way: never acknowledged, whatever the WAL did with it
                p.failPending(lostInFlight(p, "this node lost the partition"));
                return;
            }
            // held, but the lease is not confirmed as far as the entry needs (a renewal is due): look again shortly
            if (p.ackRetryScheduled.compareAndSet(false, true)) {
                try {
                    scheduler.schedule(() -> {
                        p.ackRetryScheduled.set(false);
                        p.acknowledgeDurable();
                    }, 10, TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    p.ackRetryScheduled.set(false); // closing: close fails what is pending
                }
            }
            return;
        }
        if (fenced) {
            p.failPending(new ShaleException(ErrorKind.FENCED, "store on " + store.describe()
                    + " was fenced by a newer writer"));
            return;
        }
        waitingForLease.add(p);
        renewLease();
        if (mayAcknowledge() && waitingForLease.remove(p)) {
            p.acknowledgeDurable(); // renewed meanwhile
        }
    }

    /**
     * Checks the fence marker (one HEAD) unless a check is in flight. A check that finds the
     * writer unfenced extends the lease from the moment it was issued; FENCED fences the store.
     */
    private void renewLease() {
        if (!leaseRequired || fenced || closed.get() || !leaseCheckInFlight.compareAndSet(false, true)) {
            return;
        }
        long issuedAt = clock.millis();
        CompletableFuture<Void> check;
        try {
            check = catalog.checkNotFenced();
        } catch (RuntimeException e) {
            check = CompletableFuture.failedFuture(e);
        }
        check.whenComplete((ok, error) -> {
            leaseCheckInFlight.set(false);
            if (error == null) {
                leaseConfirmed(issuedAt);
                return;
            }
            ShaleException se = StoreCalls.translate(error, "checking that this writer still owns " + store.describe());
            if (se.kind() == ErrorKind.FENCED) {
                onFenced(se);
            } else {
                log.warn("could not confirm the writer lease on {} (acknowledgements stop {} ms after the last"
                        + " confirmation): {}", store.describe(), config.writerLeaseMs(), se.getMessage());
            }
        });
    }

    /**
     * Close: durable batches that wait for a lease renewal are acknowledged if one check, made now,
     * confirms the lease (the timer that would have done it is about to stop).
     */
    private void confirmLeaseBeforeClosing(long deadlineMs) {
        if (!leaseRequired || waitingForLease.isEmpty()) {
            return;
        }
        long issuedAt = clock.millis();
        try {
            io.shale.log.internal.util.Blocking.get(catalog.checkNotFenced(), deadlineMs, TimeUnit.MILLISECONDS);
            leaseUntilMillis = Math.max(leaseUntilMillis, issuedAt + config.writerLeaseMs());
            acknowledgeWaiting();
        } catch (java.util.concurrent.ExecutionException e) {
            ShaleException se = StoreCalls.translate(e.getCause(), "confirming the writer lease on close");
            if (se.kind() == ErrorKind.FENCED) {
                onFenced(se);
            } else {
                log.warn("could not confirm the writer lease on close; {} partition(s) keep durable appends"
                        + " unacknowledged (they stay in the WAL): {}", waitingForLease.size(), se.getMessage());
            }
        } catch (java.util.concurrent.TimeoutException e) {
            log.warn("confirming the writer lease on close took longer than {} ms", deadlineMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Something issued at {@code issuedAt} proved this writer unfenced: a lease check, or a manifest
     * commit (which checks the fence marker after creating its delta). Extends the lease and
     * acknowledges what waited for it.
     */
    void leaseConfirmed(long issuedAt) {
        if (!leaseRequired) {
            return;
        }
        leaseUntilMillis = Math.max(leaseUntilMillis, issuedAt + config.writerLeaseMs());
        if (!waitingForLease.isEmpty()) {
            try {
                fetchExecutor.execute(this::acknowledgeWaiting);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // closing: close acknowledges or fails what is pending
            }
        }
    }

    private void acknowledgeWaiting() {
        for (PartitionLog p : waitingForLease) {
            if (!mayAcknowledge()) {
                return;
            }
            if (waitingForLease.remove(p)) {
                p.acknowledgeDurable();
            }
        }
    }

    /** Batches were acknowledged (a flush may be waiting for them to become uploadable). */
    void onAcknowledged() {
        Uploader u = uploader;
        if (u != null) {
            u.onAcknowledged();
        }
    }

    /** The log cache is full and an append waits: upload what is durable now. */
    private void cacheFull() {
        Uploader u = uploader;
        if (u != null) {
            u.uploadSoon();
        }
    }

    boolean isClosing() {
        return closing;
    }

    boolean isFenced() {
        return fenced || catalog.isFenced();
    }

    // ================================================================== helpers

    void ensureOpen() {
        if (closed.get() || closing) {
            throw closedException();
        }
    }

    private void ensureWritable() {
        ensureOpen();
        if (readOnly) {
            throw new ShaleException(ErrorKind.READ_ONLY, "store on " + store.describe() + " was opened read-only");
        }
        if (isFenced()) {
            throw new ShaleException(ErrorKind.FENCED, "store on " + store.describe()
                    + " was fenced by a newer writer; reopen it to write");
        }
    }

    /** Cluster nodes: appends to {@code p} are refused unless this node owns it and is not moving it. */
    private void checkAccepting(PartitionLog p) {
        if (!p.accepting) {
            throw notOwner(p);
        }
    }

    /** Whether this instance applies retention, compaction and deletions to {@code p}: its owner only. */
    boolean maintains(PartitionLog p) {
        return cluster == null || (p.owned && cluster.holds(p.id));
    }

    /** {@code NOT_OWNER} for a write to {@code p}, naming its owner when known. */
    ShaleException notOwner(PartitionLog p) {
        if (cluster == null) {
            return new ShaleException(ErrorKind.NOT_OWNER, "partition " + p.tp + " is not accepting appends");
        }
        String owner = cluster.knownOwner(p.id);
        String whose = owner == null ? "it has no owner now (not claimed yet, or being moved)"
                : owner.equals(cluster.nodeId()) ? "this node is moving it to another node"
                : "its owner is node " + owner;
        return new ShaleException(ErrorKind.NOT_OWNER, "node " + cluster.nodeId() + " does not own partition " + p.tp
                + ": " + whose);
    }

    private ShaleException lostInFlight(PartitionLog p, String why) {
        return new ShaleException(ErrorKind.NOT_OWNER, "node " + cluster.nodeId() + " lost partition " + p.tp
                + " while the append was in flight (" + why + "); it was not acknowledged");
    }

    /**
     * The key of a new data object: {@code data/<writer epoch>-<suffix>} for a single writer, under
     * the node's own prefix ({@link ClusterCatalog#dataKeyPrefix}) for a cluster node.
     */
    String dataKey(String suffix) {
        return cluster != null ? cluster.dataKeyPrefix() + suffix
                : "data/" + StoreCalls.pad(catalog.writerEpoch()) + "-" + suffix;
    }

    /**
     * Cluster nodes: where a dead owner's acknowledged entries come from on takeover (the object
     * WAL's reader); null (the default) recovers nothing.
     */
    public void takeoverRecovery(TakeoverRecovery recovery) {
        this.takeoverRecovery = recovery;
    }

    /**
     * Cluster nodes: called once per partition this node just claimed, after it restarted at its
     * committed end and before it accepts appends. With a {@link TakeoverRecovery} the entries a
     * previous owner acknowledged past the committed end are delivered (in offset order, starting
     * exactly at that end), held as recovered data and committed before the partition accepts
     * appends. Without one (a file WAL: the entries are on the dead node's disk) the partition
     * continues at the committed end, which loses what the previous owner acknowledged and did not
     * commit (none after a planned release; RFC 0005, "What each WAL guarantees on takeover").
     */
    private void recoverTakenOver(PartitionLog p, long epoch) {
        TakeoverRecovery r = takeoverRecovery;
        if (r == null) {
            return;
        }
        long[] recovered = new long[1];
        r.recover(p.id, p.logEndOffset(), (baseOffset, batches) -> {
            if (baseOffset != p.logEndOffset()) {
                throw new ShaleException(ErrorKind.CORRUPT_STORAGE, "takeover of " + p.tp + " (epoch " + epoch
                        + "): a recovered entry starts at offset " + baseOffset + ", not at the partition's end "
                        + p.logEndOffset());
            }
            int size = batches.remaining();
            CachedBatch b = cache.allocate(size, config.appendMaxBlockMs(), p);
            b.data.put(0, batches, batches.position(), size);
            long next = baseOffset;
            long maxTs = RecordBatchLayout.NO_TIMESTAMP;
            for (int pos = 0; pos < size; ) {
                next = b.data.getLong(pos) + b.data.getInt(pos + RecordBatchLayout.LAST_OFFSET_DELTA_OFFSET) + 1L;
                maxTs = Math.max(maxTs, b.data.getLong(pos + RecordBatchLayout.MAX_TIMESTAMP_OFFSET));
                pos += b.data.getInt(pos + RecordBatchLayout.LENGTH_OFFSET) + RecordBatchLayout.LOG_OVERHEAD;
            }
            b.baseOffset = baseOffset;
            b.nextOffset = next;
            b.maxTimestamp = maxTs;
            p.addRecovered(b);
            recovered[0] += next - baseOffset;
        });
        if (recovered[0] > 0) {
            p.owned = true; // its recovered data is acknowledged as the owner's own
            uploader.flush(List.of(p), Duration.ofMillis(Math.max(1_000, config.objectStoreRetryDeadlineMs())));
            log.info("cluster node {} recovered {} records of {} from its previous owner", cluster.nodeId(),
                    recovered[0], p.tp);
        }
    }

    private ShaleException closedException() {
        return new ShaleException(ErrorKind.CLOSED, "store on " + store.describe() + " is closed");
    }

    PartitionLog partition(TopicPartition tp) {
        TopicHandle h = topics.get(tp.topic());
        if (h == null) {
            throw unknownTopic(tp.topic());
        }
        PartitionLog[] ps = h.partitions;
        if (tp.partition() >= ps.length) {
            throw new ShaleException(ErrorKind.UNKNOWN_TOPIC_OR_PARTITION, "topic '" + tp.topic() + "' has "
                    + ps.length + " partitions; there is no partition " + tp.partition());
        }
        return ps[tp.partition()];
    }

    private TopicHandle requireTopic(String topic) {
        TopicHandle h = topics.get(topic);
        if (h == null) {
            throw unknownTopic(topic);
        }
        return h;
    }

    private static ShaleException unknownTopic(String topic) {
        return new ShaleException(ErrorKind.UNKNOWN_TOPIC_OR_PARTITION, "unknown topic '" + topic + "'");
    }

    void markDirty(PartitionLog p) {
        dirty.add(p);
    }

    Iterable<TopicHandle> topicHandles() {
        return topics.values();
    }

    // ================================================================== manifest listener

    /** Called under the catalog lock. */
    private void addTopic(TopicMeta t) {
        TopicHandle h = new TopicHandle(t.name(), t.topicId(), TopicConfig.of(t.configs()));
        growPartitions(h, t); // before it is published: readers never see a topic without its partitions
        topics.put(t.name(), h);
        if (metricsOn) {
            metrics.topicAdded(t.name());
        }
    }

    private void growPartitions(TopicHandle h, TopicMeta t) {
        PartitionLog[] old = h.partitions;
        PartitionLog[] ps = java.util.Arrays.copyOf(old, t.partitionCount());
        for (int i = old.length; i < ps.length; i++) {
            PartitionMeta meta = catalog.state().partition(t.partitionId(i));
            ps[i] = new PartitionLog(this, h, meta, i);
            partitionsById.put(meta.id(), ps[i]);
        }
        h.partitions = ps;
    }

    /**
     * Keeps the engine's view (topics, partitions) in step with the manifest. Called under the
     * catalog lock while a delta is applied; it must never throw, or the manifest state would be
     * left half-applied (the next refresh would apply the same delta again): a failure here is
     * logged, and the manifest stays the truth.
     */
    private final class Listener implements ManifestState.Listener {
        private void guard(String what, Runnable r) {
            try {
                r.run();
            } catch (RuntimeException e) {
                log.error("updating the store's view after {} failed", what, e);
            }
        }

        @Override
        public void topicCreated(TopicMeta t) {
            guard("creating topic " + t.name(), () -> addTopic(t));
        }

        @Override
        public void topicChanged(TopicMeta t) {
            guard("changing topic " + t.name(), () -> {
                TopicHandle h = topics.get(t.name());
                if (h == null) {
                    addTopic(t);
                    return;
                }
                h.config = TopicConfig.of(t.configs());
                growPartitions(h, t);
            });
        }

        @Override
        public void topicDeleted(TopicMeta t) {
            TopicHandle h = topics.remove(t.name());
            if (h == null) {
                return;
            }
            for (PartitionLog p : h.partitions) {
                partitionsById.remove(p.id);
                guard("deleting topic " + t.name(), p::markDeleted);
            }
            if (metricsOn) {
                metrics.topicRemoved(t.name());
            }
        }

        @Override
        public void partitionChanged(PartitionMeta meta) {
            PartitionLog p = partitionsById.get(meta.id());
            if (p != null && (readOnly || !p.owned)) {
                guard("a change of " + p.tp, () -> p.advanceCommitted(Math.max(meta.endOffset(), meta.logStartOffset())));
            }
        }

        @Override
        public void reset() {
            ManifestState s = catalog.state();
            for (String name : new ArrayList<>(topics.keySet())) {
                if (s.topic(name) == null) {
                    topicDeleted(new TopicMeta(name, topics.get(name).topicId, Map.of(), new int[0]));
                }
            }
            for (TopicMeta t : s.topics().values()) {
                TopicHandle h = topics.get(t.name());
                if (h == null || !h.topicId.equals(t.topicId())) {
                    if (h != null) {
                        topicDeleted(t);
                    }
                    addTopic(t);
                    continue;
                }
                h.config = TopicConfig.of(t.configs());
                for (PartitionLog p : h.partitions) {
                    p.meta = s.partition(p.id);
                    p.advanceCommitted(Math.max(p.meta.endOffset(), p.meta.logStartOffset()));
                }
                growPartitions(h, t);
            }
        }
    }

    /** A cluster node's ownership changes, reported by its catalog (see the class comment). */
    private final class ClusterEvents implements ClusterCatalog.Engine {
        @Override
        public void claimed(Map<Integer, Long> epochs) {
            for (Map.Entry<Integer, Long> e : epochs.entrySet()) {
                PartitionLog p = partitionsById.get(e.getKey());
                if (p == null) {
                    continue; // deleted meanwhile
                }
                p.accepting = false;
                p.awaitAppendsInProgress();
                // claimed again by this node after its lease ran out (epoch + 1): what the older epoch
                // left pending is never acknowledged, and the partition restarts at its committed end
                p.failPending(lostInFlight(p, "this node's lease ran out and it claimed the partition again"));
                synchronized (catalog.lock()) {
                    PartitionMeta meta = catalog.state().partition(p.id);
                    if (meta != null) {
                        p.meta = meta;
                    }
                    p.restartAtCommitted();
                    p.partitionEpoch = e.getValue();
                }
                recoverTakenOver(p, e.getValue());
                p.owned = true;
                p.accepting = true;
            }
        }

        @Override
        public void drain(Set<Integer> partitionIds, long timeoutMs) {
            List<PartitionLog> ps = new ArrayList<>();
            for (int id : partitionIds) {
                PartitionLog p = partitionsById.get(id);
                if (p != null) {
                    p.accepting = false;
                    ps.add(p);
                }
            }
            for (PartitionLog p : ps) {
                p.awaitAppendsInProgress(); // every accepted append is in the partition (and on its way to the WAL)
            }
            try {
                uploader.flush(ps, Duration.ofMillis(Math.max(1, timeoutMs)));
            } catch (RuntimeException e) {
                for (PartitionLog p : ps) {
                    if (p.owned && cluster.holds(p.id)) {
                        p.accepting = true; // not released: keep serving
                    }
                }
                throw e;
            }
        }

        @Override
        public void lost(Set<Integer> partitionIds, String why) {
            List<PartitionLog> ps = new ArrayList<>();
            for (int id : partitionIds) {
                PartitionLog p = partitionsById.get(id);
                if (p != null) {
                    p.accepting = false; // at once; the rest off the caller's thread
                    ps.add(p);
                }
            }
            if (ps.isEmpty()) {
                return;
            }
            Runnable restart = () -> {
                for (PartitionLog p : ps) {
                    if (cluster.holds(p.id)) {
                        continue; // claimed again meanwhile
                    }
                    p.owned = false;
                    p.partitionEpoch = -1;
                    p.failPending(lostInFlight(p, why));
                    synchronized (catalog.lock()) {
                        p.restartAtCommitted();
                    }
                }
                onAcknowledged(); // a flush waiting for these partitions is done with them
            };
            try {
                fetchExecutor.execute(restart);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                restart.run(); // closing
            }
        }
    }

    /**
     * A cluster node's WAL context: its object WAL deletes an object only once every partition with
     * entries in it is committed past them by whichever node (another node taking a partition over
     * replays them; an earlier process of this node left them for the partitions' new owners).
     */
    private final class ClusterWalContext extends EngineWalContext implements io.shale.log.wal.WalCommittedOffsets {
        @Override
        public CompletableFuture<Map<Integer, Long>> committedEnds(Set<Integer> streamIds) {
            return cluster.committedEnds(streamIds).thenApply(ends -> {
                Map<Integer, Long> out = new java.util.HashMap<>(ends);
                for (int id : streamIds) {
                    out.putIfAbsent(id, io.shale.log.wal.WalCommittedOffsets.GONE); // the partition is gone
                }
                return out;
            });
        }
    }

    private class EngineWalContext implements WalContext, io.shale.log.wal.WalDataObjectSink {
        @Override
        public void onDataObject(io.shale.log.wal.WalDataObject object) {
            boolean any = false;
            for (int i = 0; i < object.blockCount(); i++) {
                if (object.entry(i) instanceof CachedBatch b) {
                    b.locate(object, i);
                    any = true;
                }
            }
            if (any) {
                walDataObjects.put(object.key(), object);
            }
        }

        @Override
        public boolean isCommittedDataObject(String key) {
            return committedWalObjects.contains(key);
        }

        @Override
        public long writerEpoch() {
            long epoch = catalog.writerEpoch();
            if (epoch == 0) {
                throw new IllegalStateException("the writer epoch of " + store.describe()
                        + " is not claimed yet: WriteAheadLog.open runs before the claim; read it in replay");
            }
            return epoch;
        }

        @Override
        public CompletableFuture<Void> checkNotFenced() {
            return catalog.checkNotFenced();
        }

        @Override
        public ObjectStore objectStore() {
            return store;
        }

        @Override
        public Clock clock() {
            return clock;
        }

        @Override
        public ScheduledExecutorService scheduler() {
            return scheduler;
        }

        @Override
        public boolean recordsSyncs() {
            return metricsOn;
        }

        @Override
        public void recordSync(long bytes, long nanos) {
            if (metricsOn) {
                metrics.walSynced(bytes, nanos);
            }
        }
    }

    /**
     * The live view given to the metrics ({@link StoreMetrics#bind}). Reads volatile state and takes
     * partitions' monitors briefly, one at a time; never the catalog lock, never I/O except the WAL's.
     */
    private final class Gauges implements StoreGauges {
        @Override
        public boolean readOnly() {
            return readOnly;
        }

        @Override
        public List<String> topics() {
            List<String> names = new ArrayList<>(topics.keySet());
            Collections.sort(names);
            return names;
        }

        @Override
        public long topicStoredBytes(String topic) {
            TopicHandle h = topics.get(topic);
            if (h == null) {
                return -1;
            }
            long total = 0;
            for (PartitionLog p : h.partitions) {
                total += p.meta.storedBytes();
            }
            return total;
        }

        @Override
        public long highWatermark(TopicPartition tp) {
            TopicHandle h = topics.get(tp.topic());
            if (h == null) {
                return -1;
            }
            PartitionLog[] ps = h.partitions;
            return tp.partition() < ps.length ? ps[tp.partition()].highWatermark() : -1;
        }

        @Override
        public long uploadLagBytes() {
            return cache == null ? 0 : cache.pendingBytesRelaxed();
        }

        @Override
        public long uploadLagRecords() {
            if (readOnly) {
                return 0;
            }
            long total = 0;
            for (PartitionLog p : partitionsById.values()) {
                total += p.pendingRecords();
            }
            return total;
        }

        @Override
        public long uploadLagAgeMillis() {
            if (readOnly) {
                return 0;
            }
            long oldest = Long.MAX_VALUE;
            for (PartitionLog p : partitionsById.values()) {
                oldest = Math.min(oldest, p.oldestPendingAppendMillis(openedAtMillis));
            }
            return oldest == Long.MAX_VALUE ? 0 : Math.max(0, clock.millis() - oldest);
        }

        @Override
        public long walSizeBytes() {
            if (wal == null) {
                return -1;
            }
            try {
                return wal.sizeBytes();
            } catch (RuntimeException e) {
                return -1;
            }
        }

        @Override
        public long logCacheBytes() {
            return cache == null ? 0 : cache.usedBytes();
        }

        @Override
        public long blockCacheBytes() {
            return remote.cachedBytes();
        }
    }

    static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
