package io.shale.log.internal.engine;

import static io.shale.log.internal.util.StoreCalls.await;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.shale.log.internal.format.BlockInfo;
import io.shale.log.internal.format.CorruptObjectException;
import io.shale.log.internal.format.DataObjectIndex;
import io.shale.log.internal.manifest.ObjectMeta;
import io.shale.log.internal.manifest.RangeRef;
import io.shale.log.metrics.StoreMetrics;
import io.shale.log.record.RecordBatch;
import io.shale.log.record.RecordBatchLayout;
import io.shale.log.spi.ObjectStore;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The read path for data no longer in the log cache: locate the block through the manifest's
 * ranges (and, for multi-block ranges, the object's index), fetch it with a ranged GET into a
 * byte-bounded LRU {@link BlockCache}, verify its CRC, and hand out views of it.
 *
 * <p><b>Readahead.</b> Each partition remembers where the last block it read remotely ended. A
 * read of the block that starts there (in the same object or the next one) doubles the number of
 * blocks fetched by one GET (up to the readahead window: {@code readahead.max.bytes}, at most a
 * quarter of {@code block.cache.bytes}); any other read resets it to one block. Once a sequential
 * reader is half way through its window, the next window is fetched in the background (at most
 * half of {@code block.cache.bytes} of such fetches at once), so the reader does not stop for it.
 *
 * <p><b>Neighbouring partitions.</b> An upload object holds many partitions' blocks, sorted by
 * partition. When a fetch reaches the end of the reader's run in an object, it goes on over the
 * runs that other partitions' readers will read next in the same object (their remote position
 * lies in them), within the window and only as long as the bytes nobody asked for stay at most a
 * tenth of the bytes fetched for readers: consumers catching up on many partitions read an object
 * with one GET instead of one per partition, and fetch at most 1.1 times what they use.
 *
 * <p>Readers that go through an object partition after partition (a reader missing the start of
 * its run right where bytes of the object were fetched lately) fetch, with their own blocks, as
 * many bytes of the following partitions' blocks as were fetched right before, within the window:
 * an object read by all its partitions, by one thread or several, costs a GET per doubling rather
 * than one per partition (and one GET for its index). Such a GET also takes the blocks just before
 * the reader's run that nobody has fetched yet (readers in other threads a little behind). When it
 * reaches the object's end, the readers of the next partitions go on in other objects: the first
 * of them to miss there (within a few partition ids), or any reader whose last block came from such
 * a walk, starts with a GET as big as the walk's last one rather than with one block. Walks hold
 * at most half of the block cache fetched ahead and not yet read (past that they fetch the reader's
 * own blocks only), and a block's first read does not refresh it in the cache's order, so what a
 * walk brings is read before the cache evicts it. Readers missing an object's index while another
 * reads it wait for that GET.
 *
 * <p><b>Shared fetches.</b> A fetch in flight is registered with the blocks it brings; a reader
 * missing one of them waits for it instead of fetching the block again.
 *
 * <p>Cached blocks are writable heap buffers internally (so CRC checks take the array fast path);
 * nothing here writes to them, and callers only see read-only views through
 * {@link RecordBatch#buffer()}. A fetched block is CRC-checked when a reader first uses it.
 *
 * <p><b>Threading.</b> Thread-safe; fetches a reader needs run on the caller's thread (blocking
 * on the object store); background fetches complete on the object store's threads, which only
 * slice and cache the bytes.
 */
final class RemoteReader {
    private static final Logger log = LoggerFactory.getLogger(RemoteReader.class);

    record BlockKey(String object, long position) {
    }

    /** A fetch in flight: the blocks it brings (sorted positions) and the future of their views. */
    private record Pending(long[] positions, CompletableFuture<Map<Long, BlockCache.Block>> done) {
        boolean brings(long position) {
            return Arrays.binarySearch(positions, position) >= 0;
        }
    }

    /** A planned GET: {@code [from, end)} of an object, and the blocks in it that readers want. */
    private record Plan(long from, long end, List<BlockInfo> blocks, boolean walk) {
        Plan(long from, long end, List<BlockInfo> blocks) {
            this(from, end, blocks, false);
        }
    }

    /** How far (in partition ids) past a walk's last partition its readers may first miss: readers in several threads are not in step. */
    private static final int WALK_END_REACH = 16;
    /**
     * Readers walk an object when what was fetched lately covers at least 1/WALK_DENSITY of the
     * stretch before a miss: several threads taking partitions in turn each cover a share of it
     * (a reader sampling 1 partition in 10 or fewer covers less, and fetches its own runs only).
     */
    private static final int WALK_DENSITY = 4;

    private final ObjectStore store;
    /** Bytes one GET fetches at most: readahead.max.bytes, at most a quarter of the block cache. */
    private final long windowBytes;
    private final BlockCache blocks;
    private final Cache<String, DataObjectIndex> indexes;
    private final Supplier<Collection<PartitionLog>> partitions;
    private final Object pendingLock = new Object();
    /** Held while a fetch is planned and registered (never during a GET). */
    private final Object planLock = new Object();
    private final HashMap<String, List<Pending>> pending = new HashMap<>();
    /**
     * Per object (the most recently read 1,024): the byte ranges fetches were planned for lately,
     * merged where they touch (start to end, at most 64 per object).
     */
    private final LinkedHashMap<String, TreeMap<Long, Long>> fetchedSpans = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, TreeMap<Long, Long>> eldest) {
            return size() > 1024;
        }
    };
    /** Index reads in flight: a reader missing an index that another is reading waits for that GET. */
    private final ConcurrentHashMap<String, CompletableFuture<DataObjectIndex>> indexLoads = new ConcurrentHashMap<>();
    /**
     * Walks that reached the end of their object, by the partition id of the last block they
     * fetched (the most recent 64): the GET's bytes. The readers of the next partitions go on in
     * the objects that hold them, and the first of them to miss there starts a walk as big.
     */
    private final TreeMap<Integer, Long> walkEnds = new TreeMap<>();
    /**
     * Bytes that walk GETs planned and readers have not used yet (in flight, or cached and not yet
     * read): walks stop reading ahead beyond half of the block cache, so that what they bring is
     * read before it is evicted.
     */
    private final AtomicLong walkAhead = new AtomicLong();
    /** Bytes of background fetches not yet completed. */
    private final AtomicLong prefetching = new AtomicLong();
    /** Partitions that have read remotely (a hint: neighbours are looked for only when there is more than one). */
    private final AtomicInteger remoteReaders = new AtomicInteger();
    final AtomicLong gets = new AtomicLong();
    final AtomicLong bytesFetched = new AtomicLong();
    private final StoreMetrics metrics;
    private final boolean metricsOn;

    RemoteReader(ObjectStore store, long blockCacheBytes, long readaheadMaxBytes, StoreMetrics metrics,
            Supplier<Collection<PartitionLog>> partitions) {
        this.metrics = metrics;
        this.metricsOn = metrics != StoreMetrics.NONE;
        this.store = store;
        this.partitions = partitions;
        this.windowBytes = Math.min(readaheadMaxBytes, blockCacheBytes / 4);
        this.blocks = new BlockCache(blockCacheBytes, this::used);
        // Maintenance (eviction) on the calling thread rather than the common pool: no thread of its
        // own, and the same order of events for the same calls (the deterministic simulation relies on it).
        this.indexes = Caffeine.newBuilder()
                .executor(Runnable::run)
                .maximumWeight(Math.max(8L << 20, blockCacheBytes / 8))
                .weigher((String k, DataObjectIndex v) -> v.weight())
                .build();
    }

    /** Drops everything cached about an object (it was deleted). */
    void forget(String objectKey) {
        indexes.invalidate(objectKey);
        blocks.forget(objectKey);
    }

    /** Number of blocks in a range. */
    int blockCount(RangeRef r) {
        return r.blockCount();
    }

    /** The i-th block of a range. */
    BlockInfo block(RangeRef r, int i) {
        if (r.blockCount() == 1) {
            return new BlockInfo(r.partitionId(), r.singleBlockCrc(), r.baseOffset(), r.nextOffset(), r.maxTimestamp(),
                    r.position(), r.length());
        }
        BlockInfo b = index(r.object()).block(r.firstBlock() + i);
        if (b.partitionId() != r.partitionId()) {
            throw new CorruptObjectException("data object '" + r.object().key() + "': block " + (r.firstBlock() + i)
                    + " belongs to partition id " + b.partitionId() + ", the manifest says " + r.partitionId());
        }
        return b;
    }

    /** Index within the range of the block holding {@code offset} (or the first after it). */
    int blockFor(RangeRef r, long offset) {
        if (r.blockCount() == 1) {
            return 0;
        }
        DataObjectIndex idx = index(r.object());
        int lo = 0;
        int hi = r.blockCount() - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (idx.block(r.firstBlock() + mid).nextOffset() <= offset) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /**
     * The index of a data object, read once and cached. Not loaded inside the cache's compute: the
     * GET would hold a lock of the cache's map for a network round trip (blocking unrelated keys),
     * and a second reader of the same object waiting on it could not be told apart from a
     * re-entrant call. A reader missing an index that another reader is reading waits for that GET
     * (readers going through an object in several threads would otherwise each read its index).
     */
    DataObjectIndex index(ObjectMeta o) {
        String k = o.key();
        DataObjectIndex cached = indexes.getIfPresent(k);
        if (cached != null) {
            return cached;
        }
        CompletableFuture<DataObjectIndex> mine = new CompletableFuture<>();
        CompletableFuture<DataObjectIndex> loading = indexLoads.putIfAbsent(k, mine);
        if (loading != null) {
            try {
                return await(loading, "reading the index of data object " + k);
            } catch (RuntimeException e) {
                // The other reader's GET failed (or that reader was interrupted): try once more here,
                // so that this reader sees its own outcome.
                return loadIndex(o);
            }
        }
        try {
            cached = indexes.getIfPresent(k); // loaded between the first look and the registration
            if (cached == null) {
                cached = loadIndex(o);
            }
            mine.complete(cached);
            return cached;
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            indexLoads.remove(k, mine);
        }
    }

    private DataObjectIndex loadIndex(ObjectMeta o) {
        String k = o.key();
        long from = o.indexPosition();
        ByteBuffer bytes = await(store.get(k, from, o.size() - from), "reading the index of data object " + k);
        gets.incrementAndGet();
        bytesFetched.addAndGet(bytes.remaining());
        DataObjectIndex idx = DataObjectIndex.decode(k, bytes, o.size());
        indexes.put(k, idx);
        return idx;
    }

    /**
     * The verified bytes of block {@code i} of range {@code r} (a read-only view, position 0),
     * fetching it (with readahead for {@code reader}) if it is not cached.
     */
    ByteBuffer blockBytes(PartitionLog reader, RangeRef r, int i) {
        BlockInfo b = block(r, i);
        String key = r.object().key();
        BlockCache.Block hit = cachedOrPending(key, b);
        if (metricsOn) {
            metrics.blockCacheLookup(hit != null);
        }
        if (hit != null) {
            ByteBuffer bytes = verified(key, b, hit);
            reader.remoteWalkBytes = hit.walk;
            noteSequential(reader, b);
            maybePrefetch(reader, b);
            return bytes.duplicate();
        }
        indexForPlan(reader, r, i, b);
        // Planning and registering the fetch is one step for all readers: several readers missing
        // neighbouring blocks at once (threads going through an object partition by partition) then
        // share the first one's GET instead of each making its own.
        Plan plan = null;
        Pending mine = null;
        Pending other = null;
        BlockCache.Block got;
        synchronized (planLock) {
            got = blocks.getForUse(new BlockKey(key, b.position()));
            if (got == null) {
                other = pendingWith(key, b.position());
                if (other == null) {
                    plan = plan(reader, r, i, readaheadCount(reader, r, i));
                    mine = register(key, plan);
                }
            }
        }
        if (got == null) {
            if (mine != null) {
                start(key, plan, mine);
            } else {
                noteSequential(reader, b);
            }
            Pending p = mine != null ? mine : other;
            String what = mine != null
                    ? "reading " + (plan.end() - plan.from()) + " bytes at " + plan.from() + " of data object " + key
                    : "reading block at " + b.position() + " of data object " + key;
            got = await(p.done(), what).get(b.position());
        } else {
            noteSequential(reader, b);
        }
        reader.remoteWalkBytes = got.walk;
        return verified(key, b, got).duplicate();
    }

    /** The cached block, or the block from a fetch in flight that brings it (waiting for it), or null. */
    private BlockCache.Block cachedOrPending(String key, BlockInfo b) {
        BlockCache.Block hit = blocks.getForUse(new BlockKey(key, b.position()));
        if (hit != null) {
            return hit;
        }
        Pending p = pendingWith(key, b.position());
        if (p == null) {
            return null;
        }
        return await(p.done(), "reading block at " + b.position() + " of data object " + key).get(b.position());
    }

    private Pending pendingWith(String key, long position) {
        synchronized (pendingLock) {
            List<Pending> ps = pending.get(key);
            if (ps != null) {
                for (Pending p : ps) {
                    if (p.brings(position)) {
                        return p;
                    }
                }
            }
            return null;
        }
    }

    /** A block brought by a walk was used, or left the cache: it no longer counts as fetched ahead. */
    private void used(BlockCache.Block block) {
        if (block.ahead.compareAndSet(true, false)) {
            walkAhead.addAndGet(-block.bytes.capacity());
        }
    }

    /** The block's bytes after a CRC check on first use; a block that fails it leaves the cache (a retry refetches). */
    private ByteBuffer verified(String key, BlockInfo b, BlockCache.Block block) {
        used(block);
        if (!block.verified) {
            try {
                DataObjectIndex.verifyBlock(key, b, block.bytes.duplicate());
            } catch (CorruptObjectException e) {
                blocks.remove(new BlockKey(key, b.position()), block);
                throw e;
            }
            block.verified = true;
        }
        return block.bytes;
    }

    /**
     * Registers one ranged GET for {@code plan}, so that readers of its blocks wait for it rather
     * than fetch them again; {@link #start} then makes it. The future completes, on every path, with
     * views of the planned blocks (also put in the cache, unverified), or with the GET's failure, or
     * with a {@link CorruptObjectException} if the store returned another length than asked.
     */
    /** Reads the object's index now if {@link #plan} will want it: the plan runs under a lock, and this may GET. */
    private void indexForPlan(PartitionLog reader, RangeRef r, int i, BlockInfo b) {
        if (i == 0 && walkScan(reader, r.object().key(), b.position()) > 0) {
            index(r.object());
        }
    }

    private Pending register(String key, Plan plan) {
        long[] positions = new long[plan.blocks().size()];
        for (int j = 0; j < positions.length; j++) {
            positions[j] = plan.blocks().get(j).position();
        }
        Arrays.sort(positions);
        Pending p = new Pending(positions, new CompletableFuture<>());
        synchronized (pendingLock) {
            pending.computeIfAbsent(key, k -> new ArrayList<>(2)).add(p);
        }
        return p;
    }

    /** Starts the GET of a registered plan; see {@link #register}. Returns {@code p}'s future. */
    private CompletableFuture<Map<Long, BlockCache.Block>> start(String key, Plan plan, Pending p) {
        CompletableFuture<Map<Long, BlockCache.Block>> done = p.done();
        long from = plan.from();
        long length = plan.end() - from;
        CompletableFuture<ByteBuffer> get;
        try {
            get = store.get(key, from, length);
        } catch (RuntimeException e) {
            get = CompletableFuture.failedFuture(e);
        }
        get.whenComplete((fetched, error) -> {
            long handedOver = 0; // bytes of a walk's blocks that now count as fetched ahead (until used or dropped)
            try {
                if (error != null) {
                    done.completeExceptionally(error);
                    return;
                }
                gets.incrementAndGet();
                bytesFetched.addAndGet(fetched.remaining());
                if (fetched.remaining() != length) {
                    throw new CorruptObjectException("data object '" + key + "' returned " + fetched.remaining()
                            + " bytes for a range of " + length + " at " + from + " (truncated object?)");
                }
                Map<Long, BlockCache.Block> out = new HashMap<>();
                int base = fetched.position();
                for (BlockInfo bj : plan.blocks()) {
                    BlockCache.Block block = new BlockCache.Block(fetched.slice(base + (int) (bj.position() - from),
                            bj.size()));
                    if (plan.walk()) {
                        block.walk = length;
                        block.ahead.set(true);
                        handedOver += bj.size();
                    }
                    out.put(bj.position(), block);
                    blocks.put(new BlockKey(key, bj.position()), block);
                }
                done.complete(out);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            } finally {
                if (plan.walk()) {
                    walkAhead.addAndGet(handedOver - length); // what never became a block
                }
                synchronized (pendingLock) {
                    List<Pending> ps = pending.get(key);
                    if (ps != null) {
                        ps.remove(p);
                        if (ps.isEmpty()) {
                            pending.remove(key);
                        }
                    }
                }
            }
        });
        return done;
    }

    /**
     * What one GET for {@code count} blocks of {@code r} from block {@code i} brings: those blocks
     * and, if they end the run inside the window, the runs of this object that other partitions'
     * readers are positioned in, while the bytes between them (which nobody wants) stay at most a
     * tenth of the wanted bytes.
     */
    private Plan plan(PartitionLog reader, RangeRef r, int i, int count) {
        List<BlockInfo> want = new ArrayList<>(count);
        for (int j = 0; j < count; j++) {
            want.add(block(r, i + j));
        }
        long from = want.get(0).position();
        BlockInfo last = want.get(count - 1);
        long end = last.position() + last.size();
        String key = r.object().key();
        if (i + count < r.blockCount() || end - from >= windowBytes) {
            noteFetched(key, from, end);
            return new Plan(from, end, want);
        }
        long scan = i == 0 ? walkScan(reader, key, from) : 0;
        if (scan > 0) {
            // Readers are going through this object partition after partition: read on over the
            // next partitions' blocks, as many bytes as were fetched right before this run.
            DataObjectIndex idx = index(r.object());
            long ahead = Math.min(scan, Math.max(0, blocks.maxBytes() / 2 - walkAhead.get()));
            // Readers in other threads need not keep in step: the partitions just before this run
            // that nobody has fetched yet (their readers are a little behind) come with this GET
            // rather than one GET each, back to the last bytes fetched before.
            for (int j = r.firstBlock() - 1; j >= 0; j--) {
                BlockInfo bj = idx.block(j);
                if (bj.position() + bj.size() != from || end - bj.position() > windowBytes || from - bj.position() > ahead
                        || blocks.contains(new BlockKey(key, bj.position())) || pendingWith(key, bj.position()) != null
                        || fetchedBefore(key, bj.position() + bj.size())) {
                    break;
                }
                want.add(bj);
                from = bj.position();
            }
            long limit = end + ahead; // past this reader's own blocks; the first next block goes if any may
            int taken = 0;
            int j = r.firstBlock() + r.blockCount();
            for (; j < idx.blocks().size(); j++) {
                BlockInfo bj = idx.block(j);
                long bjEnd = bj.position() + bj.size();
                if (bj.position() != end || bjEnd - from > windowBytes || (bjEnd > limit && (taken > 0 || ahead == 0))
                        || blocks.contains(new BlockKey(key, bj.position())) || pendingWith(key, bj.position()) != null) {
                    break;
                }
                want.add(bj);
                taken++;
                end = bj.position() + bj.size();
            }
            if (j == idx.blocks().size()) {
                // The walk reached the object's end: the readers of the next partitions go on in another object.
                noteWalkEnd(want.get(want.size() - 1).partitionId(), end - from);
            }
            noteFetched(key, from, end);
            walkAhead.addAndGet(end - from);
            return new Plan(from, end, want, true);
        }
        noteFetched(key, from, end);
        if (remoteReaders.get() < 2) {
            return new Plan(from, end, want);
        }
        List<List<BlockInfo>> others = new ArrayList<>();
        for (PartitionLog q : partitions.get()) {
            long at = q.remoteNextOffset;
            if (q == reader || at < 0) {
                continue;
            }
            RangeRef rq = q.meta.findAtOrAfter(at);
            if (rq == null || !rq.contains(at) || !rq.object().key().equals(key) || rq.position() < end) {
                continue;
            }
            int first;
            if (rq.blockCount() == 1) {
                first = 0;
            } else if (indexes.getIfPresent(key) != null) {
                first = blockFor(rq, at);
            } else {
                continue; // the index would cost a GET of its own: not worth it for a neighbour
            }
            BlockInfo fb = block(rq, first);
            if (blocks.contains(new BlockKey(key, fb.position())) || pendingWith(key, fb.position()) != null) {
                continue;
            }
            List<BlockInfo> run = new ArrayList<>(rq.blockCount() - first);
            for (int j = first; j < rq.blockCount(); j++) {
                run.add(j == first ? fb : block(rq, j));
            }
            others.add(run);
        }
        if (others.isEmpty()) {
            return new Plan(from, end, want);
        }
        others.sort(Comparator.comparingLong(run -> run.get(0).position()));
        long wanted = end - from;
        long unwanted = 0;
        for (List<BlockInfo> run : others) {
            long gap = run.get(0).position() - end;
            if (gap < 0) {
                continue; // overlaps what is already planned (runs of one partition seen twice): skip
            }
            long add = 0;
            int take = 0;
            for (BlockInfo bj : run) {
                if (bj.position() + bj.size() - from > windowBytes) {
                    break;
                }
                add += bj.size();
                take++;
            }
            if (take == 0 || (unwanted + gap) * 10 > wanted + add) {
                break;
            }
            want.addAll(run.subList(0, take));
            BlockInfo lastTaken = run.get(take - 1);
            end = lastTaken.position() + lastTaken.size();
            wanted += add;
            unwanted += gap;
            if (take < run.size()) {
                break;
            }
        }
        return new Plan(from, end, want);
    }

    /**
     * Bytes of the object fetched lately in the window before {@code from} (spans that began before
     * the window count from its start), if they cover at least 1/{@link #WALK_DENSITY} of the
     * stretch from the first of them to {@code from} (else 0): readers are going through the object
     * partition after partition (in one thread, or several that need not keep in step), and a reader
     * missing the start of its run there fetches as many bytes of the next partitions' blocks with
     * its own (at least one block; the window bounds the GET). The fetches double as long as the
     * readers keep coming, and what nobody reads is at most what was fetched before it. Readers of
     * scattered partitions (a sample) cover little of the stretch and fetch their own.
     */
    private long fetchedJustBefore(String key, long from) {
        synchronized (fetchedSpans) {
            TreeMap<Long, Long> spans = fetchedSpans.get(key);
            if (spans == null) {
                return 0;
            }
            long covered = 0;
            long first = from;
            long windowStart = from - windowBytes;
            for (Map.Entry<Long, Long> e : spans.headMap(from, false).descendingMap().entrySet()) {
                long start = Math.max(e.getKey(), windowStart);
                covered += Math.min(e.getValue(), from) - start;
                first = start;
                if (e.getKey() <= windowStart) {
                    break;
                }
            }
            return covered > 0 && covered * WALK_DENSITY >= from - first ? covered : 0;
        }
    }

    /**
     * Bytes to fetch past a reader's run that starts at {@code from}, as part of a walk through the
     * object partition after partition: {@link #fetchedJustBefore}, or, where nothing of the object
     * was fetched lately before {@code from}, the size of the walk GET that brought the reader's last
     * block (it walked another object and goes on into this one), else 0.
     */
    private long walkScan(PartitionLog reader, String key, long from) {
        long scan = fetchedJustBefore(key, from);
        if (scan > 0) {
            return scan;
        }
        long seed = reader.remoteWalkBytes;
        if (seed <= 0) {
            synchronized (walkEnds) {
                Map.Entry<Integer, Long> e = walkEnds.lowerEntry(reader.id);
                seed = e != null && reader.id - e.getKey() <= WALK_END_REACH ? e.getValue() : 0;
            }
        }
        return seed > 0 && !fetchedWithin(key, from) ? seed : 0;
    }

    private void noteWalkEnd(int lastPartitionId, long bytes) {
        synchronized (walkEnds) {
            walkEnds.put(lastPartitionId, bytes);
            if (walkEnds.size() > 64) {
                walkEnds.pollFirstEntry();
            }
        }
    }

    /** Whether anything of the object was fetched lately in the window before {@code from}. */
    private boolean fetchedWithin(String key, long from) {
        synchronized (fetchedSpans) {
            TreeMap<Long, Long> spans = fetchedSpans.get(key);
            if (spans == null) {
                return false;
            }
            Map.Entry<Long, Long> e = spans.lowerEntry(from);
            return e != null && e.getValue() > from - windowBytes;
        }
    }

    /** Whether a fetch was planned lately for bytes of the object just before {@code end}. */
    private boolean fetchedBefore(String key, long end) {
        synchronized (fetchedSpans) {
            TreeMap<Long, Long> spans = fetchedSpans.get(key);
            if (spans == null) {
                return false;
            }
            Map.Entry<Long, Long> e = spans.lowerEntry(end);
            return e != null && e.getValue() >= end;
        }
    }

    private void noteFetched(String key, long from, long end) {
        synchronized (fetchedSpans) {
            TreeMap<Long, Long> spans = fetchedSpans.computeIfAbsent(key, k -> new TreeMap<>());
            long start = from;
            long stop = end;
            Map.Entry<Long, Long> before = spans.floorEntry(start);
            if (before != null && before.getValue() >= start) {
                start = before.getKey();
                stop = Math.max(stop, before.getValue());
            }
            for (Map.Entry<Long, Long> after = spans.ceilingEntry(start); after != null && after.getKey() <= stop;
                    after = spans.ceilingEntry(start)) {
                stop = Math.max(stop, after.getValue());
                spans.remove(after.getKey());
            }
            spans.put(start, stop);
            if (spans.size() > 64) {
                spans.pollFirstEntry();
            }
        }
    }

    private void noteSequential(PartitionLog reader, BlockInfo b) {
        if (reader.remoteNextOffset < 0) {
            remoteReaders.incrementAndGet();
        }
        reader.remoteNextOffset = b.nextOffset();
    }

    /**
     * How many blocks to fetch with one GET: one for a random read; for a sequential reader (this
     * block starts where its last one ended, in this object or the previous one) twice as many as
     * last time, cut at the readahead window and at the end of the run. The window keeps
     * growing across runs, so a reader catching up over many objects soon reads each with one GET.
     */
    private int readaheadCount(PartitionLog reader, RangeRef r, int i) {
        boolean sequential = block(r, i).baseOffset() == reader.remoteNextOffset;
        int want = sequential ? Math.min(reader.readaheadBlocks * 2, 1 << 16) : 1;
        int k = windowCount(r, i, want);
        reader.readaheadBlocks = want;
        if (reader.remoteNextOffset < 0) {
            remoteReaders.incrementAndGet();
        }
        reader.remoteNextOffset = block(r, i + k - 1).nextOffset();
        reader.remoteWindowStart = block(r, i).baseOffset();
        reader.remoteFetchedEnd = reader.remoteNextOffset;
        return k;
    }

    /** Up to {@code want} blocks of {@code r} from block {@code i}, at least one, within the window and the run. */
    private int windowCount(RangeRef r, int i, int want) {
        int k = 0;
        long bytes = 0;
        while (k < want && i + k < r.blockCount()) {
            long size = block(r, i + k).size();
            if (k > 0 && bytes + size > windowBytes) {
                break;
            }
            bytes += size;
            k++;
        }
        return k;
    }

    /**
     * Once a sequential reader is half way through the offsets of its last window, starts the GET
     * of its next window in the background (as a sequential miss there would: twice the blocks),
     * unless that window is cached or in flight already, or background fetches hold half of the
     * block cache's bytes.
     */
    private void maybePrefetch(PartitionLog reader, BlockInfo served) {
        try {
            prefetch(reader, served);
        } catch (RuntimeException e) {
            // Only a hint failed (reading the next run's index, say): the block asked for is served;
            // a reader that gets there fetches by itself and sees any failure then.
            log.debug("no background read after block at offset {} of {}", served.baseOffset(), reader.tp, e);
        }
    }

    private void prefetch(PartitionLog reader, BlockInfo served) {
        long end = reader.remoteFetchedEnd;
        long start = reader.remoteWindowStart;
        if (end < 0 || served.nextOffset() > end || served.baseOffset() < start + (end - start) / 2) {
            return;
        }
        RangeRef next = reader.meta.findAtOrAfter(end);
        if (next == null || !next.contains(end)) {
            return;
        }
        int i = blockFor(next, end); // a multi-block run's index: the reader needs it there anyway
        BlockInfo b = block(next, i);
        String key = next.object().key();
        if (b.baseOffset() != end) {
            return;
        }
        indexForPlan(reader, next, i, b);
        int want = Math.min(reader.readaheadBlocks * 2, 1 << 16);
        int count = windowCount(next, i, want);
        Plan plan;
        Pending mine;
        long bytes;
        synchronized (planLock) {
            if (blocks.contains(new BlockKey(key, b.position())) || pendingWith(key, b.position()) != null) {
                return;
            }
            plan = plan(reader, next, i, count);
            bytes = plan.end() - plan.from();
            if (prefetching.addAndGet(bytes) > blocks.maxBytes() / 2) {
                prefetching.addAndGet(-bytes);
                return;
            }
            mine = register(key, plan);
        }
        reader.readaheadBlocks = want;
        reader.remoteWindowStart = end;
        reader.remoteFetchedEnd = block(next, i + count - 1).nextOffset();
        start(key, plan, mine).whenComplete((blocksFetched, error) -> {
            prefetching.addAndGet(-bytes);
            if (error != null) {
                // A reader that needs these blocks fetches them itself and sees the failure then.
                log.debug("background read of {} bytes at {} of data object {} failed", bytes, plan.from(), key, error);
            }
        });
    }

    /**
     * Reads batches from the objects of {@code reader}'s partition starting at the cursor's
     * offset, below {@code limitOffset}, into the cursor, until the range ends or the cursor is
     * full. Returns false if no range holds the offset.
     */
    boolean read(PartitionLog reader, RangeRef r, long limitOffset, ReadCursor c) {
        int i = blockFor(r, c.next);
        for (; i < r.blockCount(); i++) {
            ByteBuffer block = blockBytes(reader, r, i);
            int pos = 0;
            int end = block.limit();
            while (pos < end) {
                if (end - pos < RecordBatchLayout.HEADER_SIZE) {
                    throw new CorruptObjectException("data object '" + r.object().key() + "': block " + i
                            + " ends in a partial batch");
                }
                int size = block.getInt(pos + RecordBatchLayout.LENGTH_OFFSET) + RecordBatchLayout.LOG_OVERHEAD;
                if (size < RecordBatchLayout.HEADER_SIZE || size > end - pos) {
                    throw new CorruptObjectException("data object '" + r.object().key() + "': bad batch length "
                            + size + " at " + pos + " of block " + i);
                }
                long base = block.getLong(pos);
                long next = base + block.getInt(pos + RecordBatchLayout.LAST_OFFSET_DELTA_OFFSET) + 1;
                if (next > c.next) {
                    if (base >= limitOffset) {
                        c.full = true;
                        return true;
                    }
                    if (!c.offer(size)) {
                        return true;
                    }
                    c.add(RecordBatch.wrap(block.duplicate().limit(pos + size).position(pos)), size, next);
                }
                pos += size;
            }
        }
        // The run is exhausted. In a compacted segment its last batch may end before the run does
        // (key-based compaction removed the records in between): the reader moves past them.
        long end = Math.min(r.nextOffset(), limitOffset);
        if (c.next < end) {
            c.next = end;
        }
        return true;
    }

    /** Whole verified block views of a range, for timestamp search and compaction. */
    ByteBuffer blockBytesNoReadahead(RangeRef r, int i) {
        BlockInfo b = block(r, i);
        String key = r.object().key();
        BlockCache.Block hit = cachedOrPending(key, b);
        if (metricsOn) {
            metrics.blockCacheLookup(hit != null);
        }
        if (hit != null) {
            return verified(key, b, hit).duplicate();
        }
        ByteBuffer fetched = await(store.get(key, b.position(), b.size()),
                "reading block at " + b.position() + " of data object " + key);
        gets.incrementAndGet();
        bytesFetched.addAndGet(fetched.remaining());
        DataObjectIndex.verifyBlock(key, b, fetched);
        return fetched;
    }

    /** Weight of cached blocks, for metrics. */
    long cachedBytes() {
        return blocks.weight();
    }
}
