package io.shale.log.internal.engine;

import static io.shale.log.internal.util.StoreCalls.await;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.TopicConfig;
import io.shale.log.internal.manifest.ManifestOp;
import io.shale.log.internal.manifest.PartitionMeta;
import io.shale.log.internal.manifest.RangeRef;
import io.shale.log.internal.util.StoreCalls;
import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Background upkeep on one thread, each task on its own period:
 * <ul>
 *   <li><b>retention</b> ({@code retention.check.interval.ms}): per partition, drop the oldest
 *       whole runs whose newest record is older than {@code retention.ms}, and the oldest whole
 *       runs while the partition is larger than {@code retention.bytes}; one manifest delta
 *       records the new log start offsets of every partition that changed; only topics whose
 *       {@code cleanup.policy} includes {@code delete};</li>
 *   <li><b>compaction</b> ({@code compaction.interval.ms}): key-based cleaning of topics whose
 *       {@code cleanup.policy} includes {@code compact} ({@link Cleaner}), then segment rolls and
 *       merges ({@link Compactor});</li>
 *   <li><b>object deletion</b>: objects no run references any more are deleted once they have
 *       been unreferenced for {@code object.delete.grace.ms} (so in-flight readers finish), then
 *       recorded as deleted in the manifest;</li>
 *   <li><b>orphan cleanup</b> ({@code orphan.scan.interval.ms}, and once after opening): data
 *       objects the manifest never heard of (a crash between PUT and commit) and older than the
 *       grace period are deleted;</li>
 *   <li><b>manifest upkeep</b>: snapshots and deletion of manifest files nobody needs;</li>
 *   <li>read-only stores: following the manifest ({@code refresh.interval.ms}).</li>
 * </ul>
 * All tasks are idempotent; a failed run is logged and retried at the next period.
 */
final class Maintenance {
    private static final Logger log = LoggerFactory.getLogger(Maintenance.class);

    private final StoreEngine engine;
    private final Compactor compactor;
    private final List<ScheduledFuture<?>> timers = new ArrayList<>();
    private volatile boolean stopped;

    Maintenance(StoreEngine engine) {
        this.engine = engine;
        this.compactor = engine.readOnly ? null : new Compactor(engine);
    }

    void start() {
        if (engine.readOnly) {
            every(engine.config.refreshIntervalMs(), this::refresh);
            return;
        }
        long grace = engine.config.objectDeleteGraceMs();
        if (engine.cluster != null) {
            // a cluster node follows the other nodes' commits (partitions it does not own) as readers do
            every(engine.config.refreshIntervalMs(), this::refresh);
        }
        every(engine.config.retentionCheckIntervalMs(), this::runRetention);
        every(engine.config.compactionIntervalMs(), this::runCompaction);
        every(Math.max(1_000, Math.min(grace, 30_000)), this::deleteUnreferenced);
        every(Math.max(1_000, Math.min(engine.config.uploadIntervalMs() * 5, 10_000)), engine.catalog::maintain);
        every(engine.config.orphanScanIntervalMs(), this::deleteOrphans);
        engine.scheduler.schedule(() -> submit(this::deleteOrphans), Math.max(1_000, grace), TimeUnit.MILLISECONDS);
    }

    void stop() {
        stopped = true;
        for (ScheduledFuture<?> t : timers) {
            t.cancel(false);
        }
    }

    private void every(long periodMs, Runnable task) {
        timers.add(engine.scheduler.scheduleWithFixedDelay(() -> submit(task), periodMs, periodMs,
                TimeUnit.MILLISECONDS));
    }

    private void submit(Runnable task) {
        if (stopped) {
            return;
        }
        try {
            engine.maintenanceExecutor.execute(() -> runSafely(task));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // shutting down
        }
    }

    private void runSafely(Runnable task) {
        if (stopped || engine.isClosing() || (!engine.readOnly && engine.isFenced())) {
            return;
        }
        try {
            task.run();
        } catch (ShaleException e) {
            if (e.kind() == ErrorKind.FENCED && engine.cluster != null) {
                // a cluster node lost partitions (the catalog reports them to the engine): not the whole store
                log.info("background task found partitions lost to another node: {}", e.getMessage());
            } else if (e.kind() == ErrorKind.FENCED) {
                engine.onFenced(e);
            } else {
                log.warn("background task failed, will retry: {}", e.getMessage());
            }
        } catch (RuntimeException e) {
            log.error("background task failed unexpectedly", e);
        }
    }

    /** Runs a task on the maintenance thread and waits (tests and explicit calls). */
    void runNow(Runnable task) {
        CompletableFuture<Void> f = CompletableFuture.runAsync(task, engine.maintenanceExecutor);
        try {
            io.shale.log.internal.util.Blocking.get(f);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShaleException(ErrorKind.UNAVAILABLE, "interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw StoreCalls.translate(e.getCause(), "background task");
        }
    }

    // ------------------------------------------------------------------ read-only

    void refresh() {
        engine.catalog.refresh();
    }

    // ------------------------------------------------------------------ retention

    void runRetention() {
        long now = engine.clock.millis();
        List<ManifestOp> ops = new ArrayList<>();
        synchronized (engine.catalog.lock()) {
            for (TopicHandle t : engine.topicHandles()) {
                TopicConfig tc = t.config;
                if (!tc.cleanupPolicy().deletes() || (tc.retentionMs() < 0 && tc.retentionBytes() < 0)) {
                    continue;
                }
                for (PartitionLog p : t.partitions) {
                    if (!engine.maintains(p)) {
                        continue; // a cluster node applies retention to the partitions it owns
                    }
                    long newStart = retentionStart(p, tc, now);
                    if (newStart > p.logStartOffset()) {
                        ops.add(new ManifestOp.SetLogStart(p.id, newStart));
                    }
                }
            }
            if (!ops.isEmpty()) {
                engine.catalog.commit(ops, StoreCalls.newToken());
                log.debug("retention advanced the log start of {} partitions", ops.size());
            }
        }
    }

    /** The log start offset retention allows for {@code p} (whole runs only, Kafka's segment rule). */
    static long retentionStart(PartitionLog p, TopicConfig tc, long now) {
        PartitionMeta meta = p.meta;
        RangeRef[] ranges = meta.ranges();
        long start = meta.logStartOffset();
        int i = 0;
        if (tc.retentionMs() >= 0) {
            while (i < ranges.length && ranges[i].maxTimestamp() < now - tc.retentionMs()) {
                start = Math.max(start, ranges[i].nextOffset());
                i++;
            }
        }
        if (tc.retentionBytes() >= 0) {
            long size = p.pendingBytes();
            for (int j = i; j < ranges.length; j++) {
                if (ranges[j].nextOffset() > start) {
                    size += ranges[j].length();
                }
            }
            while (i < ranges.length && size - ranges[i].length() >= tc.retentionBytes()) {
                if (ranges[i].nextOffset() > start) {
                    size -= ranges[i].length();
                }
                start = Math.max(start, ranges[i].nextOffset());
                i++;
            }
        }
        return start;
    }

    // ------------------------------------------------------------------ compaction

    void runCompaction() {
        compactor.run();
    }

    /** Key-based compaction (tests reach its settings and counters through this). */
    Cleaner cleaner() {
        return compactor.cleaner;
    }

    // ------------------------------------------------------------------ deletion

    /** Deletes objects unreferenced for longer than the grace period and records it. */
    void deleteUnreferenced() {
        long now = engine.clock.millis();
        long grace = engine.config.objectDeleteGraceMs();
        List<String> due = new ArrayList<>();
        synchronized (engine.catalog.lock()) {
            for (Map.Entry<String, Long> e : engine.catalog.state().pendingDeletes().entrySet()) {
                if (now - e.getValue() >= grace) {
                    due.add(e.getKey());
                }
            }
        }
        if (due.isEmpty()) {
            return;
        }
        for (int from = 0; from < due.size(); from += 1000) {
            List<String> chunk = due.subList(from, Math.min(due.size(), from + 1000));
            io.shale.log.internal.util.CrashPoints.hit("maintenance.beforeDelete");
            DeleteResult result = await(engine.store.delete(chunk), "deleting " + chunk.size() + " unreferenced objects");
            io.shale.log.internal.util.CrashPoints.hit("maintenance.afterDelete");
            List<String> deleted = new ArrayList<>();
            for (String k : chunk) {
                if (!result.failed().containsKey(k)) {
                    deleted.add(k);
                    engine.remote.forget(k);
                }
            }
            if (!result.isComplete()) {
                log.warn("could not delete {} objects: {}", result.failed().size(), result.failed());
            }
            if (!deleted.isEmpty()) {
                synchronized (engine.catalog.lock()) {
                    engine.catalog.commit(List.of(new ManifestOp.ObjectsDeleted(deleted)), StoreCalls.newToken());
                }
                engine.committedWalObjects.removeAll(deleted);
            }
        }
        log.debug("deleted {} unreferenced objects", due.size());
    }

    /**
     * Deletes data objects that were written but never committed (a crash or a failure between
     * PUT and commit), once they are older than the grace period.
     *
     * <p>This writer's view of the manifest is its own: a newer writer may have claimed the store
     * and committed objects this one never heard of. So it only ever judges keys of its own epoch
     * or older (a newer writer's keys carry a newer epoch; the objects it references from older
     * epochs were all committed before its claim, hence known here), and it confirms that it has
     * not been fenced after listing and before deleting anything (a newer writer writes this
     * writer's fence marker before it commits anything).
     */
    void deleteOrphans() {
        if (engine.cluster != null) {
            // other processes of this node id (fenced by its registration) may have committed objects
            // this view has not seen yet: follow the catalog first
            engine.catalog.refresh();
        }
        long now = engine.clock.millis();
        long grace = engine.config.objectDeleteGraceMs();
        long myEpoch = engine.catalog.writerEpoch();
        Set<String> known;
        synchronized (engine.catalog.lock()) {
            known = new HashSet<>(engine.catalog.state().objects().keySet());
            known.addAll(engine.catalog.objectsOfUnresolvedCommits()); // may have landed: not orphans
        }
        List<String> orphans = new ArrayList<>();
        String after = null;
        do {
            ListPage page = await(engine.store.list(engine.cluster != null ? engine.cluster.nodeKeyPrefix() : "data/",
                    after, 1000), "listing data objects");
            for (ObjectInfo o : page.objects()) {
                // a cluster node judges only its own keys: other nodes' uploads in flight are unknown here
                boolean mine = engine.cluster != null ? engine.cluster.writtenByThisNode(o.key())
                        : writtenByThisEpochOrOlder(o.key(), myEpoch);
                if (!known.contains(o.key()) && !engine.uploader.inFlight.contains(o.key())
                        && !compactor.inFlight.contains(o.key()) && now - o.lastModifiedMillis() >= grace && mine) {
                    orphans.add(o.key());
                }
            }
            after = page.nextStartAfter();
        } while (after != null);
        if (orphans.isEmpty()) {
            return;
        }
        await(engine.catalog.checkNotFenced(), "checking that this writer still owns " + engine.store.describe()
                + " before deleting orphaned objects"); // FENCED stops here, deleting nothing
        // Re-check under the lock: a commit may have landed since the listing.
        synchronized (engine.catalog.lock()) {
            orphans.removeIf(k -> engine.catalog.state().objects().containsKey(k)
                    || engine.catalog.objectsOfUnresolvedCommits().contains(k));
        }
        for (int from = 0; from < orphans.size(); from += 1000) {
            List<String> chunk = orphans.subList(from, Math.min(orphans.size(), from + 1000));
            DeleteResult result = await(engine.store.delete(chunk), "deleting orphaned objects");
            if (!result.isComplete()) {
                log.warn("could not delete {} orphaned objects: {}", result.failed().size(), result.failed());
            }
        }
        log.info("deleted {} orphaned data objects (written but never committed)", orphans.size());
    }

    /**
     * Whether a data key ({@code data/<epoch, 20 digits>-...}) was written by writer epoch
     * {@code epoch} or an older one. Keys in any other shape are never judged orphans.
     */
    static boolean writtenByThisEpochOrOlder(String key, long epoch) {
        final int from = "data/".length();
        final int to = from + 20;
        if (!key.startsWith("data/") || key.length() <= to || key.charAt(to) != '-') {
            return false;
        }
        long keyEpoch = 0;
        for (int i = from; i < to; i++) {
            char c = key.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
            keyEpoch = keyEpoch * 10 + (c - '0');
            if (keyEpoch > epoch) {
                return false;
            }
        }
        return keyEpoch <= epoch;
    }
}
