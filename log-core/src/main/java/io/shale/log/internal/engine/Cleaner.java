package io.shale.log.internal.engine;

import static io.shale.log.internal.util.StoreCalls.await;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.TopicConfig;
import io.shale.log.internal.format.BlockInfo;
import io.shale.log.internal.format.CorruptObjectException;
import io.shale.log.internal.format.DataObjectIndex;
import io.shale.log.internal.format.DataObjectWriter;
import io.shale.log.internal.manifest.ManifestOp;
import io.shale.log.internal.manifest.ObjectMeta;
import io.shale.log.internal.manifest.PartitionMeta;
import io.shale.log.internal.manifest.RangeRef;
import io.shale.log.internal.util.CrashPoints;
import io.shale.log.internal.util.StoreCalls;
import io.shale.log.record.Record;
import io.shale.log.record.RecordBatch;
import io.shale.log.record.RecordBatchBuilder;
import io.shale.log.record.RecordBatchLayout;
import io.shale.log.record.RecordBatches;
import io.shale.log.record.TimestampType;
import io.shale.log.spi.Payload;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Key-based log compaction ({@code cleanup.policy=compact}), with Kafka's semantics where they
 * apply to Shale; see docs/rfcs/0003-log-compaction.md.
 *
 * <p><b>What is cleanable.</b> A partition's uploaded runs from the log start, up to the first
 * dirty run holding a record newer than {@code min.compaction.lag.ms} (data still only in the WAL
 * and the log cache is never cleaned). The partition's cleaned offset (kept in the manifest,
 * {@link ManifestOp.SetCleanedOffset}) splits that into a clean part below it and a dirty part.
 *
 * <p><b>When.</b> A partition is cleaned when its dirty bytes are at least
 * {@code min.cleanable.dirty.ratio} of the cleanable bytes, when its oldest dirty data is older than
 * {@code max.compaction.lag.ms}, or when a tombstone it keeps has passed its delete horizon (known
 * in memory since the cleaning that wrote it, as in Kafka). The dirtiest partitions go first, within
 * a byte budget per run.
 *
 * <p><b>How.</b> (1) Map: the newest offset of every key in the dirty part, in an {@link OffsetMap}
 * of bounded size; if it fills, only the prefix mapped so far (a whole number of batches) is
 * cleaned and the rest stays dirty. (2) Rewrite every run from the log start through the end of
 * that prefix: a record is kept if no newer record of its key was mapped and, for a tombstone
 * (null value), if its batch's delete horizon has not passed. Batches keep their base and last
 * offsets, producer id, epoch and base sequence, partition leader epoch, timestamp type and codec;
 * a batch that loses no record is copied byte for byte; a batch that loses all is dropped; a
 * batch holding a tombstone gets its delete horizon ({@code now + delete.retention.ms}) the first
 * time it is cleaned (Kafka's KIP-534). Control and transactional batches, and batches whose codec
 * is not on the classpath, are copied unchanged and their records neither supersede nor are
 * superseded. (3) The output is written as per-partition segment objects of at most
 * {@code segment.bytes} (and at most {@link #maxObjectBytes}, which bounds the memory a cleaning
 * holds); their blocks and runs cover the replaced offsets without holes, even where no batch is
 * left. (4) ONE manifest delta adds the new objects, removes the replaced runs and moves the
 * cleaned offset, so readers switch at once; the replaced objects are deleted after the grace
 * period. A crash before the commit leaves orphans that the orphan scan deletes.
 *
 * <p><b>Threading.</b> Runs on the maintenance thread only (with compaction and retention), so it
 * never races them; uploads and DeleteRecords may commit meanwhile and are harmless (runs are only
 * added after the cleaned range; runs already dropped are ignored by the commit).
 */
final class Cleaner {
    private static final Logger log = LoggerFactory.getLogger(Cleaner.class);
    /** Offset map budget (Kafka: log.cleaner.dedupe.buffer.size, 128 MiB shared by its threads). */
    static final long DEFAULT_OFFSET_MAP_BYTES = 32L << 20;
    /** Largest output object: a cleaning holds one in memory while it is built. */
    static final long DEFAULT_MAX_OBJECT_BYTES = 32L << 20;
    /** Largest GET of source blocks. */
    private static final long FETCH_BYTES = 16L << 20;

    private final StoreEngine engine;
    private final Compactor compactor;
    private final RecordBatchBuilder builder = new RecordBatchBuilder();
    /** Test hooks: a small budget or object size exercises the bounded paths. */
    volatile long offsetMapBytes = DEFAULT_OFFSET_MAP_BYTES;
    volatile long maxObjectBytes = DEFAULT_MAX_OBJECT_BYTES;
    /**
     * Partition id to the earliest delete horizon of the tombstones its last cleaning kept. In
     * memory only (as Kafka's latestDeleteHorizon): after a restart, learned at the next cleaning.
     */
    private final Map<Integer, Long> horizons = new HashMap<>();

    // metrics (tests)
    volatile long cleanings;
    volatile long recordsRemoved;

    /** A partition due for cleaning, planned from its manifest view. */
    private record Plan(PartitionLog log, TopicConfig config, PartitionMeta meta, RangeRef[] runs, int firstDirty,
            long logStart, long cleanedOffset, double dirtyRatio, long bytes) {
    }

    Cleaner(StoreEngine engine, Compactor compactor) {
        this.engine = engine;
        this.compactor = compactor;
    }

    /** Cleans the partitions that are due, dirtiest first, until {@code budget} bytes were read. Returns the bytes read. */
    long run(long budget) {
        long now = engine.clock.millis();
        List<Plan> due = new ArrayList<>();
        for (TopicHandle t : engine.topicHandles()) {
            TopicConfig tc = t.config;
            if (!tc.cleanupPolicy().compacts()) {
                continue;
            }
            for (PartitionLog p : t.partitions) {
                if (!engine.maintains(p)) {
                    continue; // a cluster node cleans only the partitions it owns
                }
                try {
                    Plan plan = plan(p, tc, now);
                    if (plan != null) {
                        due.add(plan);
                    }
                } catch (ShaleException e) {
                    failed(p, e); // planning may read an object index
                }
            }
        }
        due.sort(Comparator.comparingDouble(Plan::dirtyRatio).reversed());
        long spent = 0;
        for (Plan plan : due) {
            if (spent >= budget || engine.isClosing()) {
                break;
            }
            if (plan.log().isDeleted()) {
                continue;
            }
            spent += plan.bytes();
            try {
                clean(plan, now);
            } catch (ShaleException e) {
                failed(plan.log(), e);
            }
        }
        return spent;
    }

    /** One partition's failure (unreadable data, an unavailable store) must not starve the others. */
    private void failed(PartitionLog p, ShaleException e) {
        if (e.kind() == ErrorKind.FENCED || engine.isClosing()) {
            throw e;
        }
        log.warn("cleaning {} failed, will retry: {}", p.tp, e.getMessage());
    }

    // ------------------------------------------------------------------ planning

    private Plan plan(PartitionLog p, TopicConfig tc, long now) {
        PartitionMeta meta = p.meta;
        RangeRef[] all = meta.ranges();
        long start = meta.logStartOffset();
        long cleaned = Math.max(meta.cleanedOffset(), start);
        int first = 0;
        while (first < all.length && all[first].nextOffset() <= start) {
            first++;
        }
        // cleanable: from the log start up to the first dirty run with data newer than the minimum lag
        int end = first;
        while (end < all.length) {
            RangeRef r = all[end];
            if (r.nextOffset() > cleaned && tc.minCompactionLagMs() > 0
                    && r.maxTimestamp() > now - tc.minCompactionLagMs()) {
                break;
            }
            end++;
        }
        if (end == first) {
            return null;
        }
        RangeRef[] runs = Arrays.copyOfRange(all, first, end);
        long clean = 0;
        long dirty = 0;
        int firstDirty = runs.length;
        for (int i = 0; i < runs.length; i++) {
            if (runs[i].nextOffset() <= cleaned) {
                clean += runs[i].length();
            } else {
                dirty += runs[i].length();
                firstDirty = Math.min(firstDirty, i);
            }
        }
        double ratio = (double) dirty / (clean + dirty);
        boolean due = dirty > 0 && (ratio >= tc.minCleanableDirtyRatio() || overdue(runs, firstDirty, tc, now));
        if (!due) {
            Long horizon = horizons.get(p.id);
            due = horizon != null && now >= horizon && clean > 0;
        }
        if (!due) {
            return null;
        }
        return new Plan(p, tc, meta, runs, firstDirty, start, cleaned, ratio, clean + dirty);
    }

    /**
     * Whether the oldest dirty data is older than {@code max.compaction.lag.ms}. Kafka uses the
     * first batch timestamp of each dirty segment; the manifest knows each block's newest timestamp,
     * so a run's first block stands for its oldest data (one index read for multi-block runs).
     */
    private boolean overdue(RangeRef[] runs, int firstDirty, TopicConfig tc, long now) {
        if (tc.maxCompactionLagMs() == Long.MAX_VALUE) {
            return false;
        }
        long limit = now - tc.maxCompactionLagMs();
        for (int i = firstDirty; i < runs.length; i++) {
            long ts = runs[i].blockCount() == 1 ? runs[i].maxTimestamp() : engine.remote.block(runs[i], 0).maxTimestamp();
            if (ts >= 0 && ts < limit) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ cleaning

    private void clean(Plan plan, long now) {
        PartitionLog p = plan.log();
        OffsetMap map = new OffsetMap(offsetMapBytes);
        long cleanTo = buildMap(plan, map);
        List<RangeRef> replaced = new ArrayList<>();
        for (RangeRef r : plan.runs()) {
            if (r.baseOffset() < cleanTo) {
                replaced.add(r);
            }
        }
        if (replaced.isEmpty()) {
            return;
        }
        Output out = new Output(p.id, plan.config(), replaced.get(0).baseOffset(), now);
        try {
            for (RangeRef r : replaced) {
                forEachBlock(r, block -> {
                    for (Iterator<RecordBatch> it = RecordBatches.iterate(block); it.hasNext(); ) {
                        RecordBatch b = it.next();
                        if (b.nextOffset() > plan.logStart()) {
                            filter(b, map, cleanTo, plan, now, out);
                        }
                    }
                });
            }
            out.finish(replaced.get(replaced.size() - 1).nextOffset());
            CrashPoints.hit("cleaning.afterPut");
            List<ManifestOp> ops = new ArrayList<>();
            for (Written w : out.written) {
                ops.add(new ManifestOp.AddObject(w.object(), w.ranges()));
            }
            List<ManifestOp.RangeId> ids = new ArrayList<>();
            for (RangeRef r : replaced) {
                ids.add(new ManifestOp.RangeId(r.object().key(), r.baseOffset()));
            }
            ops.add(new ManifestOp.RemoveRanges(p.id, ids));
            if (cleanTo > plan.meta().cleanedOffset()) {
                ops.add(new ManifestOp.SetCleanedOffset(p.id, cleanTo));
            }
            synchronized (engine.catalog.lock()) {
                engine.catalog.commit(ops, StoreCalls.newToken());
            }
        } finally {
            out.keys.forEach(compactor.inFlight::remove);
        }
        if (out.minHorizon == Long.MAX_VALUE) {
            horizons.remove(p.id);
        } else {
            horizons.put(p.id, out.minHorizon);
        }
        cleanings++;
        recordsRemoved += out.removed;
        log.debug("cleaned {} up to offset {}: {} runs into {} objects, {} records removed", p.tp, cleanTo,
                replaced.size(), out.written.size(), out.removed);
    }

    /**
     * Maps the newest offset of every key in the dirty part, batch by batch, while the map has room.
     * Returns the end of what was mapped: the cleaned offset after this cleaning.
     */
    private long buildMap(Plan plan, OffsetMap map) {
        RangeRef[] runs = plan.runs();
        long from = plan.cleanedOffset();
        for (int i = plan.firstDirty(); i < runs.length; i++) {
            long[] stop = {-1};
            forEachBlock(runs[i], block -> {
                if (stop[0] >= 0) {
                    return;
                }
                for (Iterator<RecordBatch> it = RecordBatches.iterate(block); it.hasNext(); ) {
                    RecordBatch b = it.next();
                    if (b.nextOffset() <= from || b.isControlBatch() || b.isTransactional()) {
                        continue;
                    }
                    if (!map.hasRoomFor(b.recordCount())) {
                        stop[0] = Math.max(b.baseOffset(), from);
                        return;
                    }
                    Iterator<Record> records = recordsOrNull(b);
                    while (records != null && records.hasNext()) {
                        Record r = records.next();
                        ByteBuffer key = r.key();
                        if (key != null && r.offset() >= from) {
                            map.put(key, r.offset());
                        }
                    }
                }
            });
            if (stop[0] >= 0) {
                return stop[0];
            }
        }
        return runs[runs.length - 1].nextOffset();
    }

    /** The batch's records, or null if its codec is not on the classpath (the batch is then kept as it is). */
    private static Iterator<Record> recordsOrNull(RecordBatch b) {
        try {
            return b.iterator();
        } catch (ShaleException e) {
            if (e.kind() == ErrorKind.INVALID_ARGUMENT) {
                return null;
            }
            throw e;
        }
    }

    /** Decides what of batch {@code b} survives and writes it to {@code out}. */
    private void filter(RecordBatch b, OffsetMap map, long cleanTo, Plan plan, long now, Output out) {
        if (b.baseOffset() >= cleanTo || b.isControlBatch() || b.isTransactional()) {
            out.add(b.buffer(), b); // not cleaned now (dirty beyond the mapped prefix), or kept as it is
            return;
        }
        Iterator<Record> it = recordsOrNull(b);
        if (it == null) {
            out.add(b.buffer(), b);
            return;
        }
        long horizon = b.deleteHorizonMs().orElse(-1);
        List<Record> kept = new ArrayList<>();
        int total = 0;
        boolean tombstones = false;
        while (it.hasNext()) {
            Record r = it.next();
            total++;
            ByteBuffer key = r.key();
            if (key == null) {
                continue; // Kafka's cleaner drops records without a key
            }
            long newest = map.get(key);
            if (newest > r.offset()) {
                continue; // a newer record of the key exists
            }
            if (r.value() == null) {
                if (horizon >= 0 && now >= horizon) {
                    continue; // a tombstone past its delete horizon
                }
                tombstones = true;
            }
            kept.add(r);
        }
        if (kept.isEmpty()) {
            out.removed += total;
            return;
        }
        long newHorizon = horizon;
        if (tombstones && horizon < 0) {
            long retention = plan.config().deleteRetentionMs();
            newHorizon = now > Long.MAX_VALUE - retention ? Long.MAX_VALUE : now + retention;
        }
        if (kept.size() == total && newHorizon == horizon) {
            out.add(b.buffer(), b);
        } else {
            ByteBuffer rebuilt;
            try {
                rebuilt = rebuild(b, kept, newHorizon);
            } catch (ShaleException e) {
                // producer fields the builder refuses (never written by a Kafka client): keep the batch
                log.warn("keeping batch at offset {} of {} uncleaned: {}", b.baseOffset(), plan.log().tp, e.getMessage());
                out.add(b.buffer(), b);
                return;
            }
            out.add(rebuilt, RecordBatch.wrap(rebuilt));
            out.removed += total - kept.size();
        }
        if (tombstones) {
            out.minHorizon = Math.min(out.minHorizon, newHorizon);
        }
    }

    /** The batch with only {@code kept}, everything else as it was (Kafka's cleaner rules). */
    private ByteBuffer rebuild(RecordBatch b, List<Record> kept, long horizon) {
        boolean logAppendTime = b.timestampType() == TimestampType.LOG_APPEND_TIME;
        RecordBatchBuilder w = builder.reset()
                .compression(b.compressionType())
                .timestampType(b.timestampType())
                .logAppendTime(logAppendTime ? b.maxTimestamp() : -1)
                .baseOffset(b.baseOffset())
                .producer(b.producerId(), b.producerEpoch(), b.baseSequence())
                .partitionLeaderEpoch(b.partitionLeaderEpoch())
                .deleteHorizon(horizon)
                .defaultTimestamp(RecordBatchLayout.NO_TIMESTAMP) // a record without a timestamp keeps none
                .lastOffsetDelta(b.lastOffsetDelta());
        for (Record r : kept) {
            w.appendWithOffset(r.offset(), r.timestamp(), r.key(), r.value(), r.headers());
        }
        return w.build();
    }

    // ------------------------------------------------------------------ reading sources

    private interface BlockConsumer {
        void accept(ByteBuffer block);
    }

    /** Every verified block of {@code r} in order, fetching consecutive blocks with GETs of up to 16 MiB. */
    private void forEachBlock(RangeRef r, BlockConsumer consumer) {
        int n = r.blockCount();
        int i = 0;
        while (i < n) {
            BlockInfo first = engine.remote.block(r, i);
            int j = i + 1;
            long length = first.size();
            while (j < n) {
                BlockInfo next = engine.remote.block(r, j);
                if (length + next.size() > FETCH_BYTES) {
                    break;
                }
                length += next.size();
                j++;
            }
            String key = r.object().key();
            ByteBuffer bytes = await(engine.store.get(key, first.position(), length),
                    "reading " + length + " bytes at " + first.position() + " of data object " + key + " for cleaning");
            if (bytes.remaining() != length) {
                throw new CorruptObjectException("data object '" + key + "' returned " + bytes.remaining()
                        + " bytes for a range of " + length + " at " + first.position());
            }
            for (int k = i; k < j; k++) {
                BlockInfo b = engine.remote.block(r, k);
                ByteBuffer slice = bytes.slice(bytes.position() + (int) (b.position() - first.position()), b.size());
                DataObjectIndex.verifyBlock(key, b, slice);
                consumer.accept(slice);
            }
            i = j;
        }
    }

    // ------------------------------------------------------------------ writing the output

    /** One output object written: its manifest entry and its single run. */
    private record Written(ObjectMeta object, List<RangeRef> ranges) {
    }

    /**
     * Builds the output objects: batches go into blocks of about {@code object.block.bytes}, blocks
     * into objects of at most {@code min(segment.bytes, maxObjectBytes)}; each object is PUT when
     * full. Blocks and objects tile the offsets: each starts where the previous one ended, and the
     * last one ends where the replaced runs ended, so removed offsets lie inside some run.
     */
    private final class Output {
        private final int partitionId;
        private final int blockTarget;
        private final long objectCap;
        private final long now;
        private final List<BlockInfo> blocks = new ArrayList<>();
        private final CRC32C crc = new CRC32C();
        final List<Written> written = new ArrayList<>();
        /** Keys PUT (or being PUT) by this cleaning: orphan cleanup leaves them alone until it ends. */
        final List<String> keys = new ArrayList<>();
        long removed;
        long minHorizon = Long.MAX_VALUE;

        private byte[] data = new byte[64 << 10];
        private int length;
        /** The offset the next block (or object) starts covering. */
        private long cover;
        // the open block
        private int blockStart;
        private long blockNext = -1;
        private long blockMaxTs = Long.MIN_VALUE;

        Output(int partitionId, TopicConfig tc, long coverStart, long now) {
            this.partitionId = partitionId;
            this.blockTarget = engine.config.objectBlockBytes();
            this.objectCap = Math.min(tc.segmentBytes(), maxObjectBytes);
            this.cover = coverStart;
            this.now = now;
        }

        void add(ByteBuffer batch, RecordBatch view) {
            int size = batch.remaining();
            if (length > 0 && (long) length + size > objectCap) {
                put(blockNext);
            }
            if (length > blockStart && length - blockStart + size > blockTarget) {
                closeBlock(blockNext);
            }
            ensure(size);
            batch.duplicate().get(data, length, size);
            length += size;
            blockNext = view.nextOffset();
            blockMaxTs = Math.max(blockMaxTs, view.maxTimestamp());
        }

        private void ensure(int more) {
            if ((long) length + more > data.length) {
                long want = Math.max((long) length + more, (long) data.length * 2);
                if (want > Integer.MAX_VALUE - 64) {
                    throw new ShaleException(ErrorKind.UNAVAILABLE, "cleaned object would pass 2 GiB");
                }
                data = Arrays.copyOf(data, (int) want);
            }
        }

        private void closeBlock(long next) {
            int size = length - blockStart;
            if (size == 0) {
                return;
            }
            crc.reset();
            crc.update(data, blockStart, size);
            blocks.add(new BlockInfo(partitionId, (int) crc.getValue(), cover, next, blockMaxTs, blockStart, size));
            cover = next;
            blockStart = length;
            blockMaxTs = Long.MIN_VALUE;
        }

        /** Writes the buffered blocks as one object whose run ends at {@code end}. */
        private void put(long end) {
            closeBlock(end);
            if (blocks.isEmpty()) {
                return;
            }
            String key = compactor.newObjectKey();
            ByteBuffer indexAndFooter = DataObjectWriter.encodeIndexAndFooter(blocks, length);
            long size = length + (long) indexAndFooter.remaining();
            compactor.inFlight.add(key);
            keys.add(key);
            await(engine.store.put(key, Payload.of(ByteBuffer.wrap(data, 0, length), indexAndFooter),
                    StoreCalls.newToken()), "writing cleaned segment " + key);
            ObjectMeta object = new ObjectMeta(key, size, length, ObjectMeta.KIND_SEGMENT, now);
            written.add(new Written(object, Ranges.fromBlocks(object, blocks)));
            blocks.clear();
            data = new byte[64 << 10];
            length = 0;
            blockStart = 0;
        }

        /** Writes what is left; the last object's run ends at {@code end}. */
        void finish(long end) {
            put(end);
        }
    }
}
