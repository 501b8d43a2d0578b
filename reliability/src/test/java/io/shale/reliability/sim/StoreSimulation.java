package io.shale.reliability.sim;

import io.shale.log.AppendResult;
import io.shale.log.ErrorKind;
import io.shale.log.FetchResult;
import io.shale.log.OffsetAndTimestamp;
import io.shale.log.ShaleException;
import io.shale.log.StoreConfig;
import io.shale.log.TopicConfig;
import io.shale.log.TopicDescription;
import io.shale.log.TopicPartition;
import io.shale.log.internal.engine.SimBridge;
import io.shale.log.internal.engine.StoreEngine;
import io.shale.log.internal.util.Blocking;
import io.shale.log.record.Record;
import io.shale.log.record.RecordBatchBuilder;
import io.shale.log.record.SimpleRecord;
import io.shale.log.spi.WriteAheadLog;
import io.shale.log.wal.ObjectWriteAheadLog;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/*
 * Design rationale.
 *
 * The real engine (StoreEngine, its uploader, maintenance, compaction, catalog, recovery, the
 * object WAL) runs unchanged; only its surroundings are simulated: the bucket, the local disk's
 * WAL, the clock and every thread (see Sim). A history is a list of steps (SimOp) drawn from the
 * seed; the model (SimModel) records every promise the store made and checks each view of it.
 *
 * A seed also draws the world: which WAL (a local-disk WAL with the file WAL's semantics, or the
 * real object WAL), the store settings (tiny caches and upload sizes so that memory pressure,
 * eviction, compaction, retention and manifest snapshots all happen within a few hundred steps),
 * and the fault rates of the bucket and the disk.
 *
 * What the simulation cannot control: nothing of the engine runs on a thread of its own here. The
 * file WAL itself (its writer thread, real fsyncs) is replaced by SimLocalWal, which has its
 * contract but not its code; the file WAL is exercised by the crash tests with real processes.
 */

/** Runs one simulated history of a store and checks it. See the package's tests for how to run many. */
final class StoreSimulation {
    private static final String[] TOPICS = {"t0", "t1", "t2", "t3"};
    private static final Set<ErrorKind> TRANSIENT = EnumSet.of(ErrorKind.UNAVAILABLE);

    /** The result of one history. */
    record Outcome(long seed, List<SimOp> history, int stepsRun, SimulationFailure failure, long traceHash,
            long eventsRun, String world, Stats stats) {
        boolean passed() {
            return failure == null;
        }
    }

    /** What one history did, for the report. */
    record Stats(long appends, long acknowledged, long opens, long crashes, long takeovers, long verifiedPartitions,
            long objectPuts, long objectGets, long failedAppends, long faults) {
    }

    private final long seed;
    private final Sim sim;
    private final SimFaults faults;
    private final SimObjectStore.Bucket bucket = new SimObjectStore.Bucket();
    private final boolean localWal;
    private final Map<String, Object> settings;
    private final long leaseMs;
    private final Random setup;
    private final SimModel model;
    private final List<SimNode> nodes = new ArrayList<>();
    private final Map<String, SimModel.Topic> topics = new HashMap<>();
    private final List<SimNode> zombies = new ArrayList<>();
    private final List<Tracked> futures = new ArrayList<>();
    private SimNode writer;
    private SimNode reader;
    private SimHost host;
    private int hosts;
    /** Some open failed after it may have claimed: the writer of the time may be fenced legitimately. */
    private long failedOpenAtMs = -1;
    private SimulationFailure failure;
    private long opens;
    private long crashes;
    private long takeovers;
    private long failedAppends;

    private record Tracked(SimNode node, CompletableFuture<?> future, String what) {
    }

    /** -Dshale.sim.trace=true: every step, acknowledgement and check, on stdout (one seed at a time). */
    private static final boolean TRACE = Boolean.getBoolean("shale.sim.trace");

    private void trace(String what) {
        if (TRACE) {
            System.out.printf("[%8.3f s] %s%n", sim.nanos() / 1e9, what);
        }
    }

    /** With the object WAL: whether it writes data objects the store commits (RFC 0006). */
    private final boolean walDataObjects;

    private StoreSimulation(long seed) {
        this.seed = seed;
        this.sim = new Sim(seed);
        this.setup = new Random(seed);
        this.localWal = setup.nextBoolean();
        // Drawn apart from `setup`, so that every seed's other choices stay what they were.
        this.walDataObjects = new Random(seed ^ 0x5EED_DA7A_0B1EL).nextBoolean();
        this.faults = new SimFaults(sim, setup, localWal);
        this.leaseMs = 1_000 + setup.nextInt(9_000);
        this.settings = settings(setup, leaseMs);
        this.model = new SimModel(localWal, leaseMs);
        this.host = newHost();
    }

    private static Map<String, Object> settings(Random r, long leaseMs) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put(StoreConfig.APPEND_MAX_BLOCK_MS, 0);
        s.put(StoreConfig.UPLOAD_BYTES, 4_096 << r.nextInt(7));
        s.put(StoreConfig.UPLOAD_INTERVAL_MS, 20 + r.nextInt(1_000));
        s.put(StoreConfig.UPLOAD_MAX_BYTES, 65_536 << r.nextInt(5));
        s.put(StoreConfig.UPLOAD_MAX_IN_FLIGHT, 1 + r.nextInt(4));
        s.put(StoreConfig.OBJECT_BLOCK_BYTES, 1_024 << r.nextInt(6));
        s.put(StoreConfig.BLOCK_CACHE_BYTES, 64L << 20);
        s.put(StoreConfig.COMPACTION_INTERVAL_MS, 100 + r.nextInt(5_000));
        s.put(StoreConfig.COMPACTION_MAX_SMALL_OBJECTS, 2 + r.nextInt(8));
        s.put(StoreConfig.RETENTION_CHECK_INTERVAL_MS, 100 + r.nextInt(5_000));
        s.put(StoreConfig.OBJECT_DELETE_GRACE_MS, 200 + r.nextInt(5_000));
        s.put(StoreConfig.ORPHAN_SCAN_INTERVAL_MS, 500 + r.nextInt(20_000));
        s.put(StoreConfig.MANIFEST_SNAPSHOT_DELTAS, 2 + r.nextInt(16));
        s.put(StoreConfig.REFRESH_INTERVAL_MS, 50 + r.nextInt(1_000));
        s.put(StoreConfig.OBJECT_STORE_RETRY_DEADLINE_MS, 1_000 + r.nextInt(20_000));
        s.put(StoreConfig.WRITER_LEASE_MS, leaseMs);
        return s;
    }

    /** Runs the history the seed draws, of {@code length} steps. */
    static Outcome run(long seed, int length) {
        StoreSimulation s = new StoreSimulation(seed);
        return s.execute(SimOp.history(new Random(s.setup.nextLong()), length));
    }

    /** Runs the given history in the world the seed draws (for shrinking and replaying). */
    static Outcome replay(long seed, List<SimOp> history) {
        return new StoreSimulation(seed).execute(history);
    }

    private Outcome execute(List<SimOp> history) {
        Blocking.install(sim);
        sim.lockCheck(this::catalogLockHeld);
        int step = 0;
        SimulationFailure found = null;
        try {
            sim.reseed(seed);
            open(1 + sim.rng().nextInt(4), false);
            for (; step < history.size(); step++) {
                SimOp op = history.get(step);
                trace("step " + step + ": " + op);
                sim.reseed(op.seed());
                reconcileTopics();
                apply(op);
                sim.advance(TimeUnit.MICROSECONDS.toNanos(sim.rng().nextInt(3_000)));
                checkFailure();
            }
            sim.reseed(seed ^ 0x5DEECE66DL);
            finish();
            checkFailure();
        } catch (SimulationFailure f) {
            found = f;
        } catch (RuntimeException | Error e) {
            found = new SimulationFailure("unexpected", "step " + step + " threw " + e, e);
        } finally {
            Blocking.install(null);
            for (SimNode n : nodes) {
                n.kill();
            }
        }
        if (found == null && failure != null) {
            found = failure;
        }
        Stats stats = new Stats(model.appends.size(), model.acknowledged, opens, crashes, takeovers,
                model.verifiedReads, bucket.puts, bucket.gets, failedAppends, faults.injected);
        return new Outcome(seed, history, step, found, sim.traceHash, sim.eventsRun, world(), stats);
    }

    private String world() {
        return (localWal ? "local WAL" : walDataObjects ? "object WAL (data objects)" : "object WAL") + ", lease " + leaseMs + " ms, faults {" + faults + "}, settings "
                + settings;
    }

    private void checkFailure() {
        if (failure != null) {
            throw failure;
        }
    }

    /** Records the first failure found in a callback (callbacks cannot throw to the step that caused them). */
    private void fail(SimulationFailure f) {
        if (failure == null) {
            failure = f;
        }
    }

    private boolean catalogLockHeld() {
        for (SimNode n : nodes) {
            if (n.engine != null && n.alive && Thread.holdsLock(SimBridge.catalogLock(n.engine))) {
                return true;
            }
        }
        return false;
    }

    // ================================================================== steps

    private void apply(SimOp op) {
        if (op instanceof SimOp.Append a) {
            append(writer, a.topic(), a.partition(), a.records(), a.valueBytes(), a.batchApi());
        } else if (op instanceof SimOp.Burst b) {
            for (int i = 0; i < b.appends(); i++) {
                append(writer, b.topic(), sim.rng().nextInt(4), 1 + sim.rng().nextInt(3), b.valueBytes(), sim.rng().nextBoolean());
            }
        } else if (op instanceof SimOp.ZombieAppend z) {
            SimNode zombie = zombies.isEmpty() ? null : zombies.get(zombies.size() - 1);
            append(zombie, z.topic(), z.partition(), 1 + sim.rng().nextInt(3), 50, false);
        } else if (op instanceof SimOp.CreateTopic c) {
            createTopic(c);
        } else if (op instanceof SimOp.DeleteTopic d) {
            admin(() -> {
                SimModel.Topic t = topics.get(TOPICS[d.topic()]);
                if (t != null) {
                    writer.engine.deleteTopic(t.name);
                    topics.remove(t.name);
                }
            });
        } else if (op instanceof SimOp.AddPartitions a) {
            admin(() -> {
                SimModel.Topic t = topics.get(TOPICS[a.topic()]);
                if (t != null) {
                    TopicDescription d = writer.engine.addPartitions(t.name, t.partitions.size() + a.add());
                    t.partition(d.partitionCount() - 1);
                }
            });
        } else if (op instanceof SimOp.AlterRetention a) {
            admin(() -> {
                SimModel.Topic t = topics.get(TOPICS[a.topic()]);
                if (t != null) {
                    if (a.retentionMs() >= 0) {
                        t.minRetentionMs = Math.min(t.minRetentionMs, a.retentionMs());
                    }
                    writer.engine.alterTopicConfig(t.name, Map.of(TopicConfig.RETENTION_MS, a.retentionMs()));
                }
            });
        } else if (op instanceof SimOp.AlterCleanupPolicy a) {
            admin(() -> {
                SimModel.Topic t = topics.get(TOPICS[a.topic()]);
                if (t != null) {
                    if (a.policy().contains("compact")) {
                        t.compacts = true;
                    }
                    writer.engine.alterTopicConfig(t.name, Map.of(TopicConfig.CLEANUP_POLICY, a.policy()));
                }
            });
        } else if (op instanceof SimOp.DeleteRecords d) {
            admin(() -> {
                SimModel.Partition p = partition(d.topic(), d.partition());
                if (p != null) {
                    TopicPartition tp = tp(p);
                    long start = writer.engine.logStartOffset(tp);
                    long hw = writer.engine.highWatermark(tp);
                    long target = start + (hw - start) * d.percent() / 100;
                    p.maxDeleteTarget = Math.max(p.maxDeleteTarget, target);
                    writer.engine.deleteRecordsBefore(tp, target);
                }
            });
        } else if (op instanceof SimOp.Verify) {
            verifyAll(writer, true);
        } else if (op instanceof SimOp.Poll p) {
            poll(p);
        } else if (op instanceof SimOp.OffsetForTime o) {
            offsetForTime(o);
        } else if (op instanceof SimOp.Flush f) {
            admin(() -> writer.engine.flush(Duration.ofMillis(f.timeoutMs())));
        } else if (op instanceof SimOp.Advance a) {
            sim.advance(TimeUnit.MILLISECONDS.toNanos(a.millis()));
        } else if (op instanceof SimOp.Storm st) {
            faults.storm(st.millis());
        } else if (op instanceof SimOp.DiskTrouble dt) {
            faults.diskTrouble(dt.millis());
        } else if (op instanceof SimOp.Crash) {
            crash();
        } else if (op instanceof SimOp.Close) {
            close();
        } else if (op instanceof SimOp.Reopen r) {
            if (writer == null) {
                open(r.cacheMiB(), false);
            }
        } else if (op instanceof SimOp.Takeover t) {
            if (writer != null) {
                open(t.cacheMiB(), true);
            }
        } else if (op instanceof SimOp.KillZombies) {
            killZombies();
        } else if (op instanceof SimOp.OpenAgainOnSameHost) {
            openAgainOnSameHost();
        } else if (op instanceof SimOp.ReaderOpen) {
            readerOpen();
        } else if (op instanceof SimOp.ReaderCheck) {
            if (reader != null) {
                verifyAll(reader, false);
            }
        } else if (op instanceof SimOp.ReaderClose) {
            readerClose();
        } else {
            throw new IllegalArgumentException("unknown step " + op);
        }
    }

    private boolean writerUp() {
        return writer != null && writer.alive && writer.engine != null;
    }

    /** An admin call on the writer; transient failures are expected, a fenced writer is checked. */
    private void admin(Runnable call) {
        if (!writerUp()) {
            return;
        }
        try {
            call.run();
        } catch (ShaleException e) {
            expected(writer, e, EnumSet.of(ErrorKind.UNAVAILABLE, ErrorKind.UNKNOWN_TOPIC_OR_PARTITION,
                    ErrorKind.OFFSET_OUT_OF_RANGE, ErrorKind.TOPIC_ALREADY_EXISTS), "admin call");
        }
    }

    /**
     * A failure a call may legitimately end with. FENCED is legitimate for a zombie, or for a
     * writer that an open which later failed may have fenced; never otherwise.
     */
    private void expected(SimNode node, ShaleException e, Set<ErrorKind> allowed, String what) {
        ErrorKind k = e.kind();
        if (allowed.contains(k)) {
            return;
        }
        if (k == ErrorKind.FENCED) {
            if (node != writer || failedOpenAtMs >= node.openStartedMs) {
                if (node == writer) {
                    retire(writer); // fenced by an open that failed after claiming: reopen on this host
                }
                return;
            }
            throw new SimulationFailure("fenced", node + " was fenced although no newer writer opened (" + what + "): " + e);
        }
        if (k == ErrorKind.CLOSED && !node.alive) {
            return;
        }
        if (k == ErrorKind.CORRUPT_STORAGE) {
            throw new SimulationFailure("corrupt", node + " reported CORRUPT_STORAGE (" + what + ") on a store that only"
                    + " saw the injected faults: " + e.getMessage(), e);
        }
        throw new SimulationFailure("unexpected-error", node + " failed " + what + " with " + e, e);
    }

    /** The writer found out it was fenced by a failed open: close it; the next Reopen uses its host. */
    private void retire(SimNode node) {
        if (writer == node) {
            writer = null;
        }
        try {
            node.engine.close();
        } catch (RuntimeException ignored) {
            // closing a fenced store
        }
        node.kill();
        checkFuturesOf(node);
    }

    // ------------------------------------------------------------------ appends

    private void append(SimNode node, int topic, int partitionIndex, int count, int valueBytes, boolean batchApi) {
        if (node == null || !node.alive || node.engine == null) {
            return;
        }
        SimModel.Partition p = partition(topic, partitionIndex);
        if (p == null) {
            return;
        }
        long ts = sim.millis();
        String[] keys = new String[count];
        for (int i = 0; i < count; i++) {
            keys[i] = "k" + sim.rng().nextInt(40);
        }
        SimModel.Append a = model.newAppend(node, p, keys, ts);
        List<SimpleRecord> records = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            records.add(SimpleRecord.of(ts, keys[i].getBytes(StandardCharsets.US_ASCII),
                    SimModel.value(a.recordIds[i], valueBytes)));
        }
        TopicPartition tp = tp(p);
        CompletableFuture<AppendResult> f;
        if (batchApi) {
            RecordBatchBuilder b = new RecordBatchBuilder();
            records.forEach(b::append);
            ByteBuffer batch = b.build();
            f = node.engine.appendBatch(tp, batch);
        } else {
            f = node.engine.append(tp, records);
        }
        futures.add(new Tracked(node, f, "append " + a.id + " to " + p));
        f.whenComplete((r, e) -> {
            try {
                if (e == null) {
                    trace("  " + node + " acked append " + a.id + " to " + p + " at " + r.baseOffset() + ".." + r.lastOffset());
                    model.acked(a, r.baseOffset(), r.lastOffset(), sim.millis());
                } else {
                    trace("  " + node + " failed append " + a.id + " to " + p + ": " + e);
                    model.failed(a);
                    failedAppends++;
                    ShaleException se = ShaleException.unwrap(e);
                    if (se == null) {
                        throw new SimulationFailure("unexpected-error", "append failed with " + e);
                    }
                    expected(node, se, EnumSet.of(ErrorKind.UNAVAILABLE, ErrorKind.UNKNOWN_TOPIC_OR_PARTITION,
                            ErrorKind.FENCED, ErrorKind.CLOSED), "append " + a.id);
                }
            } catch (SimulationFailure sf) {
                fail(sf);
            }
        });
    }

    // ------------------------------------------------------------------ topics

    private void createTopic(SimOp.CreateTopic c) {
        if (!writerUp() || topics.containsKey(TOPICS[c.topic()])) {
            return;
        }
        Map<String, Object> configs = new HashMap<>();
        configs.put(TopicConfig.SEGMENT_BYTES, 16_384 << sim.rng().nextInt(6));
        configs.put(TopicConfig.SEGMENT_MS, 1_000 + sim.rng().nextInt(60_000));
        if (c.retentionMs() >= 0) {
            configs.put(TopicConfig.RETENTION_MS, c.retentionMs());
        }
        if (c.compact()) {
            configs.put(TopicConfig.CLEANUP_POLICY, sim.rng().nextBoolean() ? "compact" : "compact,delete");
            configs.put(TopicConfig.MIN_CLEANABLE_DIRTY_RATIO, 0.01 + sim.rng().nextDouble() * 0.5);
        }
        admin(() -> {
            TopicDescription d = writer.engine.createTopic(TOPICS[c.topic()], c.partitions(), configs);
            adopt(d);
        });
    }

    private SimModel.Topic adopt(TopicDescription d) {
        SimModel.Topic t = topics.get(d.name());
        if (t == null || !t.topicId.equals(d.topicId())) {
            t = model.newTopic(d.name(), d.topicId());
            topics.put(d.name(), t);
        }
        for (int i = 0; i < d.partitionCount(); i++) {
            t.partition(i);
        }
        long retention = d.config().retentionMs();
        if (retention >= 0) {
            t.minRetentionMs = Math.min(t.minRetentionMs, retention);
        }
        if (d.config().cleanupPolicy().compacts()) {
            t.compacts = true;
        }
        return t;
    }

    /** Admin calls may land although they failed: take the writer's word for which topics exist. */
    private void reconcileTopics() {
        if (!writerUp()) {
            return;
        }
        try {
            List<String> names = writer.engine.listTopics();
            topics.keySet().removeIf(n -> !names.contains(n));
            for (String name : names) {
                writer.engine.describeTopic(name).ifPresent(this::adopt);
            }
        } catch (ShaleException e) {
            expected(writer, e, EnumSet.noneOf(ErrorKind.class), "listing topics");
        }
    }

    private SimModel.Partition partition(int topic, int index) {
        SimModel.Topic t = topics.get(TOPICS[topic]);
        if (t == null || t.partitions.isEmpty()) {
            return null;
        }
        return t.partitions.get(index % t.partitions.size());
    }

    private static TopicPartition tp(SimModel.Partition p) {
        return TopicPartition.of(p.topic.name, p.index);
    }

    // ------------------------------------------------------------------ reads

    /** Reads every partition of every topic through {@code node} and checks it against the model. */
    private void verifyAll(SimNode node, boolean writerView) {
        if (node == null || !node.alive || node.engine == null) {
            return;
        }
        for (SimModel.Topic t : new ArrayList<>(topics.values())) {
            Optional<TopicDescription> d;
            try {
                d = node.engine.describeTopic(t.name);
            } catch (ShaleException e) {
                expected(node, e, TRANSIENT, "describe");
                return;
            }
            if (d.isEmpty() || !d.get().topicId().equals(t.topicId)) {
                continue; // a reader that has not seen it yet
            }
            for (int i = 0; i < Math.min(d.get().partitionCount(), t.partitions.size()); i++) {
                verify(node, t.partitions.get(i), writerView);
            }
        }
    }

    private void verify(SimNode node, SimModel.Partition p, boolean writerView) {
        for (int attempt = 0; attempt < 5; attempt++) {
            if (verifyOnce(node, p, writerView)) {
                return;
            }
        }
    }

    /**
     * One pass over the partition; false if the log start moved past the reader meanwhile (reads
     * that go to the object store let background work such as retention run: start again).
     */
    private boolean verifyOnce(SimNode node, SimModel.Partition p, boolean writerView) {
        TopicPartition tp = tp(p);
        StoreEngine e = node.engine;
        List<SimModel.Seen> seen = new ArrayList<>();
        long start;
        long hw;
        long offset = -1;
        try {
            start = e.logStartOffset(tp);
            hw = e.highWatermark(tp);
            offset = start;
            // Read up to the high watermark as it is when we get there: a reader may refresh while it
            // reads (to a manifest whose compaction already considered newer records), so stopping at
            // the first high watermark could leave out the newer record that explains a removed one.
            int extensions = 0;
            while (true) {
                if (offset >= hw) {
                    long now = e.highWatermark(tp);
                    if (now <= offset || ++extensions > 1_000) {
                        break;
                    }
                    hw = now;
                }
                FetchResult f = e.read(tp, offset, 1 << 20);
                long next = offset;
                for (Record r : f.records()) {
                    if (r.offset() >= hw) {
                        break;
                    }
                    seen.add(new SimModel.Seen(r.offset(), SimModel.idOf(r.value()), r.timestamp()));
                    next = r.offset() + 1;
                }
                if (next == offset) {
                    // nothing below the high watermark we started with: key-based compaction removed
                    // the records up to where this fetch ended (the model judges the gap)
                    next = Math.min(f.nextOffset(), hw);
                }
                if (next <= offset) {
                    throw new SimulationFailure("read", node + ": reading " + p + " at " + offset + " (high watermark "
                            + hw + ") made no progress: next offset " + f.nextOffset());
                }
                offset = next;
            }
        } catch (ShaleException ex) {
            if (ex.kind() == ErrorKind.OFFSET_OUT_OF_RANGE && offset >= 0 && node.alive
                    && offset < e.logStartOffset(tp)) {
                return false; // retention or deleteRecordsBefore passed us while we read
            }
            expected(node, ex, EnumSet.of(ErrorKind.UNAVAILABLE, ErrorKind.UNKNOWN_TOPIC_OR_PARTITION), "read of " + p);
            return true;
        }
        if (writerView && node != writer) {
            return true; // the writer was fenced meanwhile
        }
        long hwAfter;
        try {
            hwAfter = e.highWatermark(tp); // appends acknowledged while we read are below it
        } catch (ShaleException ex) {
            expected(node, ex, EnumSet.of(ErrorKind.UNKNOWN_TOPIC_OR_PARTITION), "high watermark of " + p);
            return true;
        }
        trace("  " + node + " sees " + p + " [" + start + ", " + hw + "): " + seen.stream().map(x -> x.offset() + "=" + x.id()).toList());
        model.check(p, start, hw, hwAfter, seen, writerView, sim.millis(), node.name);
        return true;
    }

    private void poll(SimOp.Poll op) {
        SimModel.Partition p = partition(op.topic(), op.partition());
        if (!writerUp() || p == null) {
            return;
        }
        SimNode node = writer;
        TopicPartition tp = tp(p);
        CompletableFuture<FetchResult> f;
        try {
            f = node.engine.poll(tp, node.engine.highWatermark(tp), 1 << 20, Duration.ofMillis(op.waitMs()));
        } catch (ShaleException e) {
            expected(node, e, EnumSet.of(ErrorKind.UNKNOWN_TOPIC_OR_PARTITION), "poll");
            return;
        }
        futures.add(new Tracked(node, f, "poll of " + p));
        f.whenComplete((r, e) -> {
            try {
                if (e != null) {
                    ShaleException se = ShaleException.unwrap(e);
                    if (se == null) {
                        throw new SimulationFailure("unexpected-error", "poll failed with " + e);
                    }
                    expected(node, se, EnumSet.of(ErrorKind.UNAVAILABLE, ErrorKind.UNKNOWN_TOPIC_OR_PARTITION,
                            ErrorKind.CLOSED, ErrorKind.OFFSET_OUT_OF_RANGE), "poll of " + p);
                    return;
                }
                if (node != writer) {
                    return; // a writer taken over (or closed) meanwhile serves its own, older view
                }
                for (Record rec : r.records()) {
                    model.checkServed(p, rec.offset(), SimModel.idOf(rec.value()), node + "'s poll");
                }
            } catch (SimulationFailure sf) {
                fail(sf);
            }
        });
    }

    private void offsetForTime(SimOp.OffsetForTime op) {
        SimModel.Partition p = partition(op.topic(), op.partition());
        if (!writerUp() || p == null || p.placed.isEmpty() || p.topic.compacts) {
            return; // (compaction may have removed the record the check would rely on)
        }
        long first = p.placed.firstKey();
        long last = p.placed.lastKey();
        long at = first + (last - first) * op.percent() / 100;
        Map.Entry<Long, Long> e = p.placed.ceilingEntry(at);
        if (e == null) {
            return;
        }
        try {
            Optional<OffsetAndTimestamp> r = writer.engine.offsetForTimestamp(tp(p), Math.max(0, timestampOf(p, e.getKey())));
            if (r.isPresent() && r.get().offset() > e.getKey() && e.getKey() >= writer.engine.logStartOffset(tp(p))) {
                throw new SimulationFailure("offset-for-time", p + ": the first offset with timestamp >= "
                        + timestampOf(p, e.getKey()) + " is at most " + e.getKey() + ", the store said " + r.get());
            }
        } catch (ShaleException ex) {
            expected(writer, ex, EnumSet.of(ErrorKind.UNAVAILABLE, ErrorKind.UNKNOWN_TOPIC_OR_PARTITION), "offsetForTimestamp");
        }
    }

    private long timestampOf(SimModel.Partition p, long offset) {
        Long id = p.placed.get(offset);
        return id == null ? 0 : model.timestampOf(id);
    }

    // ------------------------------------------------------------------ processes

    private SimHost newHost() {
        return new SimHost("host" + (++hosts));
    }

    /** Opens a writer: on this host, or (takeover) on a new one while the current writer keeps running. */
    private void open(int cacheMiB, boolean takeover) {
        SimHost on = takeover || !localWal ? newHost() : host;
        SimNode node = newNode(on, false);
        node.openStartedMs = sim.millis();
        Map<String, Object> s = new LinkedHashMap<>(settings);
        s.put(StoreConfig.LOG_CACHE_BYTES, (long) cacheMiB << 20);
        WriteAheadLog wal = localWal ? new SimLocalWal(sim, node, faults) : objectWal(node);
        opens++;
        try {
            node.engine = (StoreEngine) StoreEngine.open(new SimObjectStore(sim, node, bucket, faults), wal, sim.clock,
                    StoreConfig.of(s), new SimExecutors.SimRuntime(sim, node));
        } catch (ShaleException e) {
            node.kill();
            failedOpenAtMs = sim.millis();
            expected(node, e, EnumSet.of(ErrorKind.UNAVAILABLE, ErrorKind.IN_USE), "open");
            return;
        }
        if (takeover && writer != null) {
            takeovers++;
            SimNode old = writer;
            old.supersededAtMs = sim.millis();
            if (localWal) {
                old.host.abandoned = true;
            }
            zombies.add(old);
        }
        writer = node;
        host = on;
    }

    private ObjectWriteAheadLog objectWal(SimNode node) {
        Random r = sim.rng();
        return ObjectWriteAheadLog.builder()
                .flushInterval(Duration.ofMillis(1 + r.nextInt(50)))
                .flushBytes(4_096L << r.nextInt(6))
                .maxInFlightPuts(1 + r.nextInt(4))
                .maxBlock(Duration.ZERO)
                .closeTimeout(Duration.ofMillis(1_000 + r.nextInt(10_000)))
                .replayParallelism(1 + r.nextInt(4))
                .listPageSize(r.nextBoolean() ? 1_000 : 1 + r.nextInt(5))
                .dataObjects(walDataObjects)
                .executor(node.track(new SimExecutors.SimExecutor(sim, node, node.name + "/object-wal", Sim.Kind.WORLD, false)))
                .build();
    }

    private SimNode newNode(SimHost on, boolean readOnly) {
        SimNode n = new SimNode(nodes.size() + 1, on, readOnly);
        nodes.add(n);
        return n;
    }

    private void crash() {
        if (writer == null) {
            return;
        }
        crashes++;
        if (writer.engine != null) {
            SimBridge.crash(writer.engine);
        }
        writer.kill();
        writer = null;
    }

    private void close() {
        if (writer == null) {
            return;
        }
        SimNode n = writer;
        writer = null;
        closeNode(n);
    }

    private void closeNode(SimNode n) {
        try {
            n.engine.close();
        } catch (RuntimeException e) {
            throw new SimulationFailure("close", n + ": close threw " + e, e);
        }
        n.kill();
        checkFuturesOf(n);
    }

    /** Every future of a node that was closed (not killed) must have completed. */
    private void checkFuturesOf(SimNode n) {
        for (Tracked t : futures) {
            if (t.node() == n && !t.future().isDone()) {
                throw new SimulationFailure("future", t.what() + " by " + n + " never completed, though " + n + " was closed");
            }
        }
        futures.removeIf(t -> t.node() == n);
    }

    private void killZombies() {
        for (SimNode z : zombies) {
            if (!z.alive) {
                continue;
            }
            if (sim.rng().nextBoolean()) {
                closeNode(z);
            } else {
                SimBridge.crash(z.engine);
                z.kill();
            }
        }
        zombies.removeIf(z -> !z.alive);
    }

    private void openAgainOnSameHost() {
        if (!localWal || !writerUp()) {
            return;
        }
        SimNode second = newNode(writer.host, false);
        second.openStartedMs = sim.millis();
        try {
            second.engine = (StoreEngine) StoreEngine.open(new SimObjectStore(sim, second, bucket, faults),
                    new SimLocalWal(sim, second, faults), sim.clock, StoreConfig.of(settings),
                    new SimExecutors.SimRuntime(sim, second));
            throw new SimulationFailure("second-open", "a second writer opened on " + writer.host + " while " + writer
                    + " holds its WAL");
        } catch (ShaleException e) {
            second.kill();
            if (e.kind() != ErrorKind.IN_USE) {
                expected(second, e, TRANSIENT, "second open on the same host");
                failedOpenAtMs = sim.millis();
                return;
            }
        }
        try {
            Blocking.get(SimBridge.checkNotFenced(writer.engine), 60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException ex) {
            ShaleException se = ShaleException.unwrap(ex);
            if (se != null && se.kind() == ErrorKind.FENCED) {
                throw new SimulationFailure("fenced", "an open on " + writer.host + " that failed with IN_USE fenced the"
                        + " running writer " + writer);
            }
        } catch (Exception ignored) {
            // could not tell (faults); the writer's next commit will
        }
    }

    private void readerOpen() {
        if (reader != null) {
            return;
        }
        SimNode n = newNode(newHost(), true);
        try {
            n.engine = (StoreEngine) StoreEngine.open(new SimObjectStore(sim, n, bucket, faults), null, sim.clock,
                    StoreConfig.of(settings), new SimExecutors.SimRuntime(sim, n));
            reader = n;
        } catch (ShaleException e) {
            n.kill();
            expected(n, e, TRANSIENT, "read-only open");
        }
    }

    private void readerClose() {
        if (reader == null) {
            return;
        }
        SimNode r = reader;
        reader = null;
        closeNode(r);
    }

    // ------------------------------------------------------------------ the end of a history

    /**
     * Heals the world, lets everything settle, closes every process, then opens the store afresh
     * (writer and reader) and checks that every promise held: all acknowledged data readable, the
     * reader agreeing with the writer, every future completed.
     */
    private void finish() {
        faults.heal();
        sim.advance(TimeUnit.SECONDS.toNanos(30));
        if (writerUp()) {
            flushHealed(writer);
            verifyAll(writer, true);
        }
        for (SimNode z : new ArrayList<>(zombies)) {
            if (z.alive) {
                closeNode(z);
            }
        }
        zombies.clear();
        readerClose();
        if (writer != null) {
            close();
        }
        open(64, false);
        if (!writerUp()) {
            throw new SimulationFailure("final-open", "the store could not be opened after the world healed");
        }
        reconcileTopics();
        verifyAll(writer, true);
        flushHealed(writer);
        readerOpen();
        if (reader == null) {
            throw new SimulationFailure("final-open", "a read-only store could not be opened after the world healed");
        }
        sim.advance(TimeUnit.SECONDS.toNanos(5));
        compareReaderWithWriter();
        verifyAll(reader, false);
        readerClose();
        close();
        sim.advance(TimeUnit.SECONDS.toNanos(1));
        for (Tracked t : futures) {
            if (!t.future().isDone() && t.node().alive) {
                throw new SimulationFailure("future", t.what() + " by " + t.node() + " never completed");
            }
        }
    }

    private void flushHealed(SimNode n) {
        for (int i = 0; ; i++) {
            try {
                n.engine.flush(Duration.ofMinutes(2));
                return;
            } catch (ShaleException e) {
                if (i >= 3) {
                    throw new SimulationFailure("flush", n + ": flush failed on a healed world: " + e, e);
                }
                expected(n, e, TRANSIENT, "flush");
                if (!writerUp()) {
                    return;
                }
            }
        }
    }

    private void compareReaderWithWriter() {
        for (SimModel.Topic t : topics.values()) {
            for (SimModel.Partition p : t.partitions) {
                TopicPartition tp = tp(p);
                long w = writer.engine.highWatermark(tp);
                long r;
                try {
                    r = reader.engine.highWatermark(tp);
                } catch (ShaleException e) {
                    throw new SimulationFailure("reader", "a fresh read-only store does not know " + p + ": " + e, e);
                }
                if (w != r) {
                    throw new SimulationFailure("reader", "a fresh read-only store sees " + p + " up to " + r
                            + ", the writer (after flush) up to " + w);
                }
            }
        }
    }
}
