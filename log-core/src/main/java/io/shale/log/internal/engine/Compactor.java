package io.shale.log.internal.engine;

import static io.shale.log.internal.util.StoreCalls.await;

import io.shale.log.TopicConfig;
import io.shale.log.internal.format.BlockInfo;
import io.shale.log.internal.format.DataObjectFormat;
import io.shale.log.internal.format.DataObjectIndex;
import io.shale.log.internal.format.DataObjectWriter;
import io.shale.log.internal.manifest.ManifestOp;
import io.shale.log.internal.manifest.ManifestState;
import io.shale.log.internal.manifest.ObjectMeta;
import io.shale.log.internal.manifest.PartitionMeta;
import io.shale.log.internal.manifest.RangeRef;
import io.shale.log.internal.util.StoreCalls;
import io.shale.log.spi.Payload;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compaction: rewrites data so that reads stay efficient and the manifest stays small.
 *
 * <p><b>Segment rolls.</b> Uploads leave each partition's data spread over many multi-partition
 * objects. Once a partition has {@code segment.bytes} there, or its oldest such data is older than
 * {@code segment.ms}, its runs are rewritten into a per-partition segment object of about
 * {@code segment.bytes}, read back with large ranged GETs.
 *
 * <p><b>Merges.</b> When more than {@code compaction.max.small.objects} multi-partition objects
 * are referenced, the oldest are merged into one, so that small idle partitions (which take long
 * to fill a segment) do not keep an unbounded number of objects and manifest entries alive.
 *
 * <p><b>Streaming.</b> The output's layout is planned from the source blocks' metadata alone
 * (source blocks are kept whole; consecutive small ones of a partition are grouped into blocks of
 * up to {@code object.block.bytes}), so its size is known before any byte is read, and the bytes are
 * streamed to the object store: segment rolls fetch one source run at a time; merges hold their
 * (small, bounded) source objects in memory. Every source block is CRC-checked before it is copied.
 *
 * <p><b>Commit.</b> One delta adds the new object and removes exactly the replaced runs; the
 * replaced objects become unreferenced and are deleted after {@code object.delete.grace.ms}.
 * Runs on the maintenance thread only, so it never races retention.
 *
 * <p><b>Key-based cleaning</b> of topics with {@code cleanup.policy=compact} ({@link Cleaner}) runs
 * first in each pass, within the same byte budget.
 */
final class Compactor {
    private static final Logger log = LoggerFactory.getLogger(Compactor.class);
    private static final long MAX_BYTES_PER_RUN = 2L << 30;

    private final StoreEngine engine;
    final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    private final AtomicLong counter = new AtomicLong();
    final AtomicLong segmentsWritten = new AtomicLong();
    final AtomicLong mergesWritten = new AtomicLong();
    /** Key-based compaction ({@code cleanup.policy=compact}); shares this class's keys and in-flight set. */
    final Cleaner cleaner;

    /** One source block and where its bytes come from. */
    private record Source(RangeRef range, int blockInRange, BlockInfo block) {
    }

    /** An output block: consecutive source blocks of one partition. */
    private record OutBlock(int partitionId, List<Source> sources, long base, long next, long maxTs, long position,
            int size) {
    }

    Compactor(StoreEngine engine) {
        this.engine = engine;
        this.cleaner = new Cleaner(engine, this);
    }

    void run() {
        long budget = MAX_BYTES_PER_RUN;
        // key-based cleaning first: it consumes dirty runs directly, saving their segment roll
        budget -= cleaner.run(budget);
        long now = engine.clock.millis();
        for (List<RangeRef> job : planRolls(now)) {
            if (budget <= 0 || engine.isClosing()) {
                return;
            }
            budget -= execute(job, ObjectMeta.KIND_SEGMENT, false);
            segmentsWritten.incrementAndGet();
        }
        List<RangeRef> merge = planMerge();
        if (!merge.isEmpty() && budget > 0 && !engine.isClosing()) {
            execute(merge, ObjectMeta.KIND_MULTI, true);
            mergesWritten.incrementAndGet();
        }
    }

    // ------------------------------------------------------------------ planning

    private List<List<RangeRef>> planRolls(long now) {
        List<List<RangeRef>> jobs = new ArrayList<>();
        for (TopicHandle t : engine.topicHandles()) {
            TopicConfig tc = t.config;
            for (PartitionLog p : t.partitions) {
                if (!engine.maintains(p)) {
                    continue; // a cluster node compacts only the partitions it owns
                }
                List<RangeRef> run = smallRun(p.meta);
                if (run.isEmpty()) {
                    continue;
                }
                long total = 0;
                for (RangeRef r : run) {
                    total += r.length();
                }
                if (total >= tc.segmentBytes()) {
                    List<RangeRef> job = new ArrayList<>();
                    long taken = 0;
                    for (RangeRef r : run) {
                        if (!job.isEmpty() && taken + r.length() > tc.segmentBytes()) {
                            break;
                        }
                        job.add(r);
                        taken += r.length();
                    }
                    jobs.add(job);
                } else if (now - run.get(0).object().createdAtMs() >= tc.segmentMs()) {
                    jobs.add(run);
                }
            }
        }
        return jobs;
    }

    /** The partition's first runs in multi-partition objects, contiguous in offsets. */
    private static List<RangeRef> smallRun(PartitionMeta meta) {
        List<RangeRef> run = new ArrayList<>();
        for (RangeRef r : meta.ranges()) {
            if (r.object().isSegment()) {
                if (!run.isEmpty()) {
                    break;
                }
                continue;
            }
            if (!run.isEmpty() && r.baseOffset() != run.get(run.size() - 1).nextOffset()) {
                break;
            }
            run.add(r);
        }
        return run;
    }

    private List<RangeRef> planMerge() {
        int limit = engine.config.compactionMaxSmallObjects();
        long cap = Math.max(64L << 20, 4 * engine.config.uploadBytes());
        Map<ObjectMeta, List<RangeRef>> byObject = new HashMap<>();
        synchronized (engine.catalog.lock()) {
            ManifestState s = engine.catalog.state();
            for (PartitionMeta p : s.partitions()) {
                for (RangeRef r : p.ranges()) {
                    if (!r.object().isSegment()) {
                        byObject.computeIfAbsent(r.object(), k -> new ArrayList<>()).add(r);
                    }
                }
            }
        }
        if (byObject.size() <= limit) {
            return List.of();
        }
        List<ObjectMeta> oldest = new ArrayList<>(byObject.keySet());
        oldest.sort(Comparator.comparingLong(ObjectMeta::createdAtMs).thenComparing(ObjectMeta::key));
        int want = Math.max(2, byObject.size() - limit / 2);
        List<RangeRef> ranges = new ArrayList<>();
        long bytes = 0;
        int taken = 0;
        for (ObjectMeta o : oldest) {
            if (taken >= want || (taken >= 2 && bytes + o.indexPosition() > cap)) {
                break;
            }
            ranges.addAll(byObject.get(o));
            bytes += o.indexPosition();
            taken++;
        }
        if (taken < 2) {
            return List.of();
        }
        ranges.sort(Comparator.comparingInt(RangeRef::partitionId).thenComparingLong(RangeRef::baseOffset));
        return ranges;
    }

    // ------------------------------------------------------------------ execution

    /** Writes one output object from {@code ranges} and commits it. Returns the bytes written. */
    private long execute(List<RangeRef> ranges, int kind, boolean preloadSources) {
        int target = engine.config.objectBlockBytes();
        List<OutBlock> blocks = layout(ranges, target);
        long indexPosition = 0;
        for (OutBlock b : blocks) {
            indexPosition += b.size();
        }
        long size = indexPosition + DataObjectFormat.indexLength(blocks.size()) + DataObjectFormat.FOOTER_SIZE;
        Map<String, ByteBuffer> preloaded = preloadSources ? preload(ranges) : Map.of();
        String key = newObjectKey();
        int[] crcs = new int[blocks.size()];
        final long dataEnd = indexPosition;
        Payload payload = Payload.ofStream(size, () -> new Stream(blocks, crcs, preloaded, dataEnd));
        inFlight.add(key);
        try {
            await(engine.store.put(key, payload, StoreCalls.newToken()), "writing compacted object " + key);
            io.shale.log.internal.util.CrashPoints.hit("compaction.afterPut");
            long createdAt = Long.MAX_VALUE;
            for (RangeRef r : ranges) {
                createdAt = Math.min(createdAt, r.object().createdAtMs());
            }
            if (kind == ObjectMeta.KIND_SEGMENT) {
                createdAt = engine.clock.millis();
            }
            ObjectMeta object = new ObjectMeta(key, size, indexPosition, kind, createdAt);
            List<BlockInfo> infos = new ArrayList<>(blocks.size());
            for (int i = 0; i < blocks.size(); i++) {
                OutBlock b = blocks.get(i);
                infos.add(new BlockInfo(b.partitionId(), crcs[i], b.base(), b.next(), b.maxTs(), b.position(), b.size()));
            }
            List<ManifestOp> ops = new ArrayList<>();
            ops.add(new ManifestOp.AddObject(object, Ranges.fromBlocks(object, infos)));
            Map<Integer, List<ManifestOp.RangeId>> removed = new LinkedHashMap<>();
            for (RangeRef r : ranges) {
                removed.computeIfAbsent(r.partitionId(), k -> new ArrayList<>())
                        .add(new ManifestOp.RangeId(r.object().key(), r.baseOffset()));
            }
            removed.forEach((pid, ids) -> ops.add(new ManifestOp.RemoveRanges(pid, ids)));
            synchronized (engine.catalog.lock()) {
                engine.catalog.commit(ops, StoreCalls.newToken());
            }
            log.debug("compacted {} runs into {} ({} bytes, {} blocks)", ranges.size(), key, size, blocks.size());
            return size;
        } finally {
            inFlight.remove(key);
        }
    }

    /** A fresh key for an object written by compaction or cleaning ({@code data/E-cK}). */
    String newObjectKey() {
        return engine.dataKey("c" + StoreCalls.pad(counter.incrementAndGet()));
    }

    private List<OutBlock> layout(List<RangeRef> ranges, int target) {
        List<OutBlock> out = new ArrayList<>();
        List<Source> group = new ArrayList<>();
        long position = 0;
        int groupSize = 0;
        for (RangeRef r : ranges) {
            for (int i = 0; i < r.blockCount(); i++) {
                BlockInfo b = engine.remote.block(r, i);
                boolean joins = !group.isEmpty()
                        && group.get(0).range().partitionId() == r.partitionId()
                        && group.get(group.size() - 1).block().nextOffset() == b.baseOffset()
                        && groupSize + b.size() <= target;
                if (!joins && !group.isEmpty()) {
                    out.add(outBlock(group, position, groupSize));
                    position += groupSize;
                    group = new ArrayList<>();
                    groupSize = 0;
                }
                group.add(new Source(r, i, b));
                groupSize += b.size();
            }
        }
        if (!group.isEmpty()) {
            out.add(outBlock(group, position, groupSize));
        }
        return out;
    }

    private static OutBlock outBlock(List<Source> group, long position, int size) {
        long maxTs = Long.MIN_VALUE;
        for (Source s : group) {
            maxTs = Math.max(maxTs, s.block().maxTimestamp());
        }
        return new OutBlock(group.get(0).range().partitionId(), List.copyOf(group), group.get(0).block().baseOffset(),
                group.get(group.size() - 1).block().nextOffset(), maxTs, position, size);
    }

    /** Reads the data region of every source object (merges only: small and bounded). */
    private Map<String, ByteBuffer> preload(List<RangeRef> ranges) {
        Map<String, ByteBuffer> out = new HashMap<>();
        for (RangeRef r : ranges) {
            ObjectMeta o = r.object();
            if (!out.containsKey(o.key())) {
                ByteBuffer data = await(engine.store.get(o.key(), 0, o.indexPosition()),
                        "reading data object " + o.key() + " for compaction");
                if (data.remaining() != o.indexPosition()) {
                    throw new io.shale.log.internal.format.CorruptObjectException("data object '" + o.key()
                            + "' returned " + data.remaining() + " bytes, expected " + o.indexPosition());
                }
                out.put(o.key(), data);
            }
        }
        return out;
    }

    /** One pass over the output bytes: blocks (verified source bytes), then index and footer. */
    private final class Stream implements Iterator<ByteBuffer> {
        private final List<OutBlock> blocks;
        private final int[] crcs;
        private final Map<String, ByteBuffer> preloaded;
        private final long dataEnd;
        private final CRC32C crc = new CRC32C();
        private int block;
        private int source;
        private boolean indexDone;
        private RangeRef fetchedRange;
        private ByteBuffer fetchedBytes;

        Stream(List<OutBlock> blocks, int[] crcs, Map<String, ByteBuffer> preloaded, long dataEnd) {
            this.blocks = blocks;
            this.crcs = crcs;
            this.preloaded = preloaded;
            this.dataEnd = dataEnd;
        }

        @Override
        public boolean hasNext() {
            return !indexDone;
        }

        @Override
        public ByteBuffer next() {
            if (indexDone) {
                throw new NoSuchElementException();
            }
            if (block == blocks.size()) {
                indexDone = true;
                List<BlockInfo> infos = new ArrayList<>(blocks.size());
                for (int i = 0; i < blocks.size(); i++) {
                    OutBlock b = blocks.get(i);
                    infos.add(new BlockInfo(b.partitionId(), crcs[i], b.base(), b.next(), b.maxTs(), b.position(),
                            b.size()));
                }
                return DataObjectWriter.encodeIndexAndFooter(infos, dataEnd);
            }
            OutBlock b = blocks.get(block);
            Source s = b.sources().get(source);
            ByteBuffer bytes = sourceBytes(s);
            crc.update(bytes.duplicate());
            if (++source == b.sources().size()) {
                crcs[block] = (int) crc.getValue();
                crc.reset();
                source = 0;
                block++;
            }
            return bytes;
        }

        private ByteBuffer sourceBytes(Source s) {
            RangeRef r = s.range();
            BlockInfo b = s.block();
            ByteBuffer region = preloaded.get(r.object().key());
            ByteBuffer slice;
            if (region != null) {
                slice = region.slice((int) b.position(), b.size());
            } else {
                if (fetchedRange != r) {
                    fetchedBytes = await(engine.store.get(r.object().key(), r.position(), r.length()),
                            "reading " + r + " for compaction");
                    fetchedRange = r;
                }
                int at = (int) (b.position() - r.position());
                if (at < 0 || at + b.size() > fetchedBytes.remaining()) {
                    throw new io.shale.log.internal.format.CorruptObjectException("data object '" + r.object().key()
                            + "' is shorter than its index says");
                }
                slice = fetchedBytes.slice(at, b.size());
            }
            DataObjectIndex.verifyBlock(r.object().key(), b, slice);
            return slice.asReadOnlyBuffer();
        }
    }
}
