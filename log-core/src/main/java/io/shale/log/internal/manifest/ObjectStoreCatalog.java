package io.shale.log.internal.manifest;

import static io.shale.log.internal.util.StoreCalls.await;
import static io.shale.log.internal.util.StoreCalls.pad;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.internal.format.CorruptObjectException;
import io.shale.log.internal.util.StoreCalls;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.Payload;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Catalog} kept in the object store as a chain of immutable, numbered delta objects plus
 * periodic snapshots (the SlateDB manifest / Delta-log pattern). See docs/rfcs/0001 for the
 * protocol; in short:
 *
 * <p><b>Keys.</b> {@code manifest/deltas/N}, {@code manifest/snapshots/N} (N zero-padded to 20
 * digits so key order is numeric order) and {@code manifest/fence/E}, the marker that writer
 * epoch E has been fenced.
 *
 * <p><b>Commit.</b> Delta N+1 is created with create-if-absent ({@code If-None-Match: *}), the only
 * conditional write correctness relies on. Losing that race means another writer committed N+1,
 * which only a newer writer can do: this writer is fenced.
 *
 * <p><b>Claim.</b> A new writer loads the latest state, creates delta N+1 holding
 * {@code ClaimEpoch(E+1)}, then writes fence markers for E, E-1, ... down to the first that
 * exists. Every later commit of an older writer then loses the race for its next number.
 *
 * <p><b>Deleted numbers.</b> Deltas covered by a snapshot are deleted eventually, which frees
 * their numbers: a stalled zombie could then win create-if-absent for a number whose original
 * was deleted, and believe it committed something no reader will ever read (SlateDB #352,
 * #1622). Two checks make that detectable before anything is acknowledged: after each commit a
 * writer checks that its own fence marker does not exist (a newer writer writes it before it
 * writes any delta, and deltas are only deleted by writers that finished claiming), and after a
 * claim it checks that no snapshot at or above its number exists.
 *
 * <p><b>Lost responses.</b> A commit whose outcome is unknown (including one whose fence check
 * failed after the delta was created) is remembered with its token; the next commit first reads
 * the key and compares tokens, so it is applied exactly once. If that next commit is another one
 * and the remembered commit landed, the state it was planned against is stale: it fails with
 * {@code UNAVAILABLE} without writing (the caller plans it again), and a later repeat of the landed
 * commit with its token returns at once.
 */
public final class ObjectStoreCatalog implements Catalog {
    private static final Logger log = LoggerFactory.getLogger(ObjectStoreCatalog.class);

    static final String DELTAS = "manifest/deltas/";
    static final String SNAPSHOTS = "manifest/snapshots/";
    static final String FENCE = "manifest/fence/";
    /**
     * Written by a catalog that keeps the store's metadata elsewhere (shale-catalog-postgres) on its
     * first claim, holding that catalog's store id. It sorts after every numbered delta, so the
     * listing every load and refresh makes already finds it: a store whose metadata lives elsewhere
     * is refused instead of being read as an empty manifest (whose orphan scan would delete all its
     * data). Costs nothing for stores without it.
     */
    public static final String EXTERNAL_CATALOG_MARKER = DELTAS + "external-catalog";
    private static final int MAX_CLAIM_ATTEMPTS = 32;
    private static final int SNAPSHOTS_KEPT = 2;

    private final ObjectStore store;
    private final Clock clock;
    private final int snapshotEveryDeltas;
    private final long graceMs;
    private final Object lock = new Object();

    private ManifestState state = new ManifestState();
    private long myEpoch;
    private volatile boolean fenced;
    private long lastSnapshotVersion;
    private long lastProgressMs;
    private Pending pending;
    /** Tokens of commits whose unknown outcome another commit resolved as landed (oldest first). */
    private final java.util.Set<String> landedTokens = new java.util.LinkedHashSet<>();
    private ManifestState.Listener listener;

    /** A commit whose outcome is unknown. */
    private record Pending(long number, String token, List<ManifestOp> ops, long timestampMs) {
    }

    public ObjectStoreCatalog(ObjectStore store, Clock clock, int snapshotEveryDeltas, long graceMs) {
        this.store = store;
        this.clock = clock;
        this.snapshotEveryDeltas = snapshotEveryDeltas;
        this.graceMs = graceMs;
    }

    static String deltaKey(long n) {
        return DELTAS + pad(n);
    }

    static String snapshotKey(long n) {
        return SNAPSHOTS + pad(n);
    }

    static String fenceKey(long epoch) {
        return FENCE + pad(epoch);
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
            state = loadLatest();
            lastProgressMs = clock.millis();
        }
    }

    /** Latest snapshot plus every delta after it. */
    private ManifestState loadLatest() {
        for (int attempt = 0; ; attempt++) {
            List<ObjectInfo> snapshots = listAll(SNAPSHOTS, null);
            ManifestState s = new ManifestState();
            if (!snapshots.isEmpty()) {
                String key = snapshots.get(snapshots.size() - 1).key();
                ByteBuffer bytes;
                try {
                    bytes = await(store.get(key), "reading manifest snapshot " + key);
                } catch (ShaleException e) {
                    if (StoreCalls.isNotFound(e) && attempt < 5) {
                        continue; // replaced and collected between list and get
                    }
                    throw e;
                }
                s = ManifestCodec.decodeSnapshot(key, bytes);
                if (!key.equals(snapshotKey(s.version()))) {
                    throw new CorruptObjectException("manifest snapshot " + key + " holds version " + s.version());
                }
                lastSnapshotVersion = s.version();
            }
            String gap = applyDeltasFrom(s, null);
            if (gap == null) {
                return s;
            }
            if (attempt >= 5) {
                // Six loads met the same kind of hole with no newer snapshot covering it: not a race.
                throw new CorruptObjectException("manifest of " + store.describe() + ": delta " + gap
                        + " is missing while later deltas exist, and no snapshot covers it");
            }
        }
    }

    /**
     * Applies deltas after {@code s.version()} until the next one does not exist. Returns null, or
     * the key of a delta that is missing while later ones exist (a gap: either garbage collection
     * raced this reader, and a newer snapshot covers it, or the delta was lost).
     */
    private String applyDeltasFrom(ManifestState s, ManifestState.Listener listener) {
        List<ObjectInfo> listed = listAll(DELTAS, deltaKey(s.version()));
        long expected = s.version() + 1;
        for (ObjectInfo info : listed) {
            if (info.key().equals(EXTERNAL_CATALOG_MARKER)) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "the metadata of the store in " + store.describe()
                        + " is kept in an external catalog (" + EXTERNAL_CATALOG_MARKER + " exists), not in the"
                        + " bucket: open it with LogStoreBuilder.catalog(...) and that catalog");
            }
            if (!info.key().equals(deltaKey(expected))) {
                if (info.key().compareTo(deltaKey(expected)) < 0) {
                    continue;
                }
                return deltaKey(expected);
            }
            if (!readAndApply(s, expected, listener)) {
                return deltaKey(expected);
            }
            expected++;
        }
        // deltas committed after the listing
        while (readAndApply(s, expected, listener)) {
            expected++;
        }
        return null;
    }

    private boolean readAndApply(ManifestState s, long n, ManifestState.Listener listener) {
        String key = deltaKey(n);
        ByteBuffer bytes;
        try {
            bytes = await(store.get(key), "reading manifest delta " + key);
        } catch (ShaleException e) {
            if (StoreCalls.isNotFound(e)) {
                return false;
            }
            throw e;
        }
        ManifestCodec.Delta d = ManifestCodec.decodeDelta(key, bytes);
        if (d.number() != n) {
            throw new CorruptObjectException("manifest delta " + key + " holds number " + d.number());
        }
        if (d.writerEpoch() < s.writerEpoch()) {
            // A fenced writer's commit that won a collected number: never part of the history.
            log.warn("ignoring manifest delta {} written by fenced epoch {} (current epoch {})", key,
                    d.writerEpoch(), s.writerEpoch());
            s.applyDelta(n, d.timestampMs(), List.of(), listener);
            return true;
        }
        s.applyDelta(n, d.timestampMs(), d.ops(), listener);
        return true;
    }

    private List<ObjectInfo> listAll(String prefix, String startAfter) {
        List<ObjectInfo> out = new ArrayList<>();
        String after = startAfter;
        while (true) {
            ListPage page = await(store.list(prefix, after, 1000), "listing " + prefix + " in " + store.describe());
            out.addAll(page.objects());
            if (page.isLast()) {
                return out;
            }
            after = page.nextStartAfter();
        }
    }

    /**
     * The first key under {@code prefix} after {@code startAfter}, if any. Pages until one holds a
     * key or the listing ends: a store may return empty pages before the last.
     */
    private Optional<String> firstKeyAfter(String prefix, String startAfter) {
        String after = startAfter;
        while (true) {
            ListPage page = await(store.list(prefix, after, 1), "listing " + prefix + " in " + store.describe());
            if (!page.objects().isEmpty()) {
                return Optional.of(page.objects().get(0).key());
            }
            if (page.isLast()) {
                return Optional.empty();
            }
            after = page.nextStartAfter();
        }
    }

    // ------------------------------------------------------------------ claiming

    @Override
    public long claimWriter() {
        synchronized (lock) {
            for (int attempt = 1; attempt <= MAX_CLAIM_ATTEMPTS; attempt++) {
                if (attempt > 1) {
                    state = loadLatest();
                }
                long epoch = state.writerEpoch() + 1;
                long n = state.version() + 1;
                String token = StoreCalls.newToken();
                long now = clock.millis();
                List<ManifestOp> ops = List.of(new ManifestOp.ClaimEpoch(epoch));
                byte[] bytes = ManifestCodec.encodeDelta(n, epoch, now, ops);
                boolean created = await(store.putIfAbsent(deltaKey(n), Payload.of(bytes), token),
                        "claiming the writer role with manifest delta " + deltaKey(n));
                if (!created) {
                    log.info("manifest delta {} already exists; another writer is claiming too, retrying", n);
                    continue;
                }
                Optional<String> newer = firstKeyAfter(SNAPSHOTS, snapshotKey(n - 1));
                if (newer.isPresent()) {
                    log.warn("claimed manifest number {} had been collected (snapshot {} exists); reloading", n,
                            newer.get());
                    continue;
                }
                state.applyDelta(n, now, ops, null);
                myEpoch = epoch;
                writeFenceMarkers(epoch);
                log.info("claimed writer epoch {} of {} at manifest version {}", epoch, store.describe(), n);
                return epoch;
            }
            throw new ShaleException(ErrorKind.UNAVAILABLE,
                    "could not claim the writer role of " + store.describe() + " after " + MAX_CLAIM_ATTEMPTS
                            + " attempts: other writers keep claiming it");
        }
    }

    /** Marks every older epoch fenced, walking down until a marker already exists. */
    private void writeFenceMarkers(long epoch) {
        for (long e = epoch - 1; e >= 1; e--) {
            boolean created = await(store.putIfAbsent(fenceKey(e), Payload.of(new byte[0]), StoreCalls.newToken()),
                    "writing fence marker " + fenceKey(e));
            if (!created) {
                return;
            }
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
                        return; // the earlier attempt of this very commit landed
                    }
                    // The caller planned these ops against the state before that commit: refuse them
                    // (it plans again), and let a repeat of the commit that landed return at once.
                    rememberLanded(p.token());
                    throw new ShaleException(ErrorKind.UNAVAILABLE, "manifest delta " + deltaKey(p.number())
                            + ", whose outcome was unknown, turned out to have landed; the manifest changed, so"
                            + " this commit was not attempted and must be planned again");
                }
            }
            long n = state.version() + 1;
            long now = clock.millis();
            byte[] bytes = ManifestCodec.encodeDelta(n, myEpoch, now, ops);
            boolean created;
            try {
                created = await(store.putIfAbsent(deltaKey(n), Payload.of(bytes), token),
                        "committing manifest delta " + deltaKey(n));
            } catch (ShaleException e) {
                if (StoreCalls.isStoreFailure(e)) {
                    pending = new Pending(n, token, ops, now);
                }
                throw e;
            }
            if (!created && !writtenBy(deltaKey(n), token, n, ops, now)) {
                throw fence("manifest delta " + deltaKey(n) + " was written by another writer");
            }
            io.shale.log.internal.util.CrashPoints.hit("manifest.afterDeltaCreated");
            try {
                verifyNotFenced(n);
            } catch (ShaleException e) {
                if (StoreCalls.isStoreFailure(e)) {
                    pending = new Pending(n, token, ops, now); // landed, not yet verified: resolve it next time
                }
                throw e;
            }
            state.applyDelta(n, now, ops, listener);
        }
    }

    /**
     * "Already exists" after create-if-absent: ours (an earlier attempt whose answer was lost landed
     * it, and the store did not tell the retry apart) or another writer's. Decided by the token the
     * object carries, never assumed.
     */
    private boolean writtenBy(String key, String token, long n, List<ManifestOp> ops, long now) {
        Optional<ObjectInfo> info;
        try {
            info = await(store.head(key), "reading the write token of manifest delta " + key);
        } catch (ShaleException e) {
            if (StoreCalls.isStoreFailure(e)) {
                pending = new Pending(n, token, ops, now); // unknown: resolved by token next time
            }
            throw e;
        }
        return info.isPresent() && token.equals(info.get().token());
    }

    /** Finds out whether the pending commit landed; applies it if so. Returns whether it landed. */
    private boolean resolvePending() {
        Pending p = pending;
        Optional<ObjectInfo> info = await(store.head(deltaKey(p.number())),
                "checking whether manifest delta " + deltaKey(p.number()) + " was written");
        if (info.isEmpty()) {
            pending = null;
            return false;
        }
        if (!p.token().equals(info.get().token())) {
            pending = null;
            throw fence("manifest delta " + deltaKey(p.number()) + " was written by another writer");
        }
        verifyNotFenced(p.number()); // an UNAVAILABLE here keeps the commit pending
        pending = null;
        state.applyDelta(p.number(), p.timestampMs(), p.ops(), listener);
        return true;
    }

    @Override
    public java.util.Set<String> objectsOfUnresolvedCommits() {
        synchronized (lock) {
            Pending p = pending;
            if (p == null) {
                return java.util.Set.of();
            }
            java.util.Set<String> keys = new java.util.HashSet<>();
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

    private void verifyNotFenced(long n) {
        if (await(store.head(fenceKey(myEpoch)), "checking fence marker " + fenceKey(myEpoch)).isPresent()) {
            throw fence("writer epoch " + myEpoch + " was fenced by a newer writer (delta " + n
                    + " may have landed on a collected number and is ignored by readers)");
        }
    }

    @Override
    public CompletableFuture<Void> checkNotFenced() {
        if (fenced) {
            return CompletableFuture.failedFuture(fenceException("writer epoch " + myEpoch + " is fenced"));
        }
        return store.head(fenceKey(myEpoch)).handle((info, err) -> {
            if (err != null) {
                throw StoreCalls.translate(err, "checking fence marker " + fenceKey(myEpoch));
            }
            if (info.isPresent()) {
                fenced = true;
                throw fenceException("writer epoch " + myEpoch + " of " + store.describe()
                        + " was fenced by a newer writer");
            }
            return null;
        });
    }

    private void ensureWriter() {
        if (myEpoch == 0) {
            throw new ShaleException(ErrorKind.READ_ONLY, "this store instance did not claim the writer role");
        }
        if (fenced) {
            throw fenceException("writer epoch " + myEpoch + " of " + store.describe() + " is fenced");
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
            long before = state.version();
            long now = clock.millis();
            boolean complete = applyDeltasFrom(state, listener) == null;
            boolean behind = now - lastProgressMs > Math.max(1_000, graceMs / 2);
            if (!complete || (state.version() == before && behind)) {
                ListPage newer = await(store.list(SNAPSHOTS, snapshotKey(state.version()), 1000),
                        "listing manifest snapshots");
                if (!newer.objects().isEmpty() || !complete) {
                    ManifestState fresh = loadLatest();
                    if (fresh.version() > state.version()) {
                        log.info("reader fell behind manifest garbage collection; reloaded version {}",
                                fresh.version());
                        state = fresh;
                        if (listener != null) {
                            listener.reset();
                        }
                    }
                }
            }
            if (state.version() != before) {
                lastProgressMs = now;
                return true;
            }
            if (behind) {
                lastProgressMs = now;
            }
            return false;
        }
    }

    // ------------------------------------------------------------------ upkeep

    @Override
    public void maintain() {
        byte[] snapshot = null;
        long version;
        synchronized (lock) {
            if (myEpoch == 0 || fenced) {
                return;
            }
            version = state.version();
            if (version - lastSnapshotVersion >= snapshotEveryDeltas) {
                snapshot = ManifestCodec.encodeSnapshot(state, myEpoch, clock.millis());
            }
        }
        if (snapshot != null) {
            await(store.put(snapshotKey(version), Payload.of(snapshot), StoreCalls.newToken()),
                    "writing manifest snapshot " + snapshotKey(version));
            io.shale.log.internal.util.CrashPoints.hit("manifest.afterSnapshotPut");
            synchronized (lock) {
                lastSnapshotVersion = Math.max(lastSnapshotVersion, version);
            }
            log.debug("wrote manifest snapshot at version {} ({} bytes)", version, snapshot.length);
        }
        collectGarbage();
    }

    /** Deletes snapshots beyond the newest few and deltas every kept snapshot covers, after the grace period. */
    private void collectGarbage() {
        long now = clock.millis();
        List<ObjectInfo> snapshots = listAll(SNAPSHOTS, null);
        if (snapshots.isEmpty()) {
            return;
        }
        List<String> doomed = new ArrayList<>();
        for (int i = 0; i < snapshots.size() - SNAPSHOTS_KEPT; i++) {
            ObjectInfo s = snapshots.get(i);
            if (now - s.lastModifiedMillis() >= graceMs) {
                doomed.add(s.key());
            }
        }
        // deltas covered by the oldest snapshot we keep are never needed again
        String oldestKept = snapshots.get(Math.max(0, snapshots.size() - SNAPSHOTS_KEPT)).key();
        long coveredUpTo = Long.parseLong(oldestKept.substring(SNAPSHOTS.length()));
        for (ObjectInfo d : listAll(DELTAS, null)) {
            long n = Long.parseLong(d.key().substring(DELTAS.length()));
            if (n > coveredUpTo) {
                break;
            }
            if (now - d.lastModifiedMillis() >= graceMs) {
                doomed.add(d.key());
            }
        }
        if (!doomed.isEmpty()) {
            var result = await(store.delete(doomed), "deleting old manifest files");
            if (!result.isComplete()) {
                log.warn("could not delete {} old manifest files: {}", result.failed().size(), result.failed());
            }
        }
    }

    @Override
    public void close() {
        // the object store is owned by the engine
    }
}
