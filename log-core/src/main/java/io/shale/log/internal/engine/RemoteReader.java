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
import java.util.concurrent.atomic.AtomicLong;

/**
 * The read path for data no longer in the log cache: locate the block through the manifest's
 * ranges (and, for multi-block ranges, the object's index), fetch it with a ranged GET through a
 * byte-weighted Caffeine block cache, verify its CRC, and hand out views of it.
 *
 * <p><b>Readahead.</b> Each partition remembers where the last block it read remotely ended. A
 * read of the block that starts there (in the same object or the next one) doubles the number of
 * blocks fetched by one GET (up to {@code readahead.max.bytes}); any other read resets it to one
 * block. The extra blocks go into the cache.
 *
 * <p>Cached blocks are writable heap buffers internally (so CRC checks take the array fast path);
 * nothing here writes to them, and callers only see read-only views through
 * {@link RecordBatch#buffer()}.
 *
 * <p><b>Threading.</b> Thread-safe; fetches run on the caller's thread (blocking on the object
 * store). Two readers missing the same block at once may both fetch it; the cache keeps one.
 */
final class RemoteReader {
    record BlockKey(String object, long position) {
    }

    private final ObjectStore store;
    private final long readaheadMaxBytes;
    private final Cache<BlockKey, ByteBuffer> blocks;
    private final Cache<String, DataObjectIndex> indexes;
    final AtomicLong gets = new AtomicLong();
    final AtomicLong bytesFetched = new AtomicLong();
    private final StoreMetrics metrics;
    private final boolean metricsOn;

    RemoteReader(ObjectStore store, long blockCacheBytes, long readaheadMaxBytes, StoreMetrics metrics) {
        this.metrics = metrics;
        this.metricsOn = metrics != StoreMetrics.NONE;
        this.store = store;
        this.readaheadMaxBytes = readaheadMaxBytes;
        // Maintenance (eviction) on the calling thread rather than the common pool: no thread of its
        // own, and the same order of events for the same calls (the deterministic simulation relies on it).
        this.blocks = Caffeine.newBuilder()
                .executor(Runnable::run)
                .maximumWeight(blockCacheBytes)
                .weigher((BlockKey k, ByteBuffer v) -> v.capacity())
                .build();
        this.indexes = Caffeine.newBuilder()
                .executor(Runnable::run)
                .maximumWeight(Math.max(8L << 20, blockCacheBytes / 8))
                .weigher((String k, DataObjectIndex v) -> v.weight())
                .build();
    }

    /** Drops everything cached about an object (it was deleted). */
    void forget(String objectKey) {
        indexes.invalidate(objectKey);
        blocks.asMap().keySet().removeIf(k -> k.object().equals(objectKey));
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
     * re-entrant call. Two readers missing at once both fetch; the second put is harmless.
     */
    DataObjectIndex index(ObjectMeta o) {
        String k = o.key();
        DataObjectIndex cached = indexes.getIfPresent(k);
        if (cached != null) {
            return cached;
        }
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
        BlockKey key = new BlockKey(r.object().key(), b.position());
        ByteBuffer hit = blocks.getIfPresent(key);
        if (metricsOn) {
            metrics.blockCacheLookup(hit != null);
        }
        if (hit != null) {
            noteSequential(reader, b);
            return hit.duplicate();
        }
        int count = readaheadCount(reader, r, i);
        BlockInfo last = block(r, i + count - 1);
        long from = b.position();
        long length = last.position() + last.size() - from;
        ByteBuffer fetched = await(store.get(r.object().key(), from, length),
                "reading " + length + " bytes at " + from + " of data object " + r.object().key());
        gets.incrementAndGet();
        bytesFetched.addAndGet(fetched.remaining());
        if (fetched.remaining() != length) {
            throw new CorruptObjectException("data object '" + r.object().key() + "' returned " + fetched.remaining()
                    + " bytes for a range of " + length + " at " + from + " (truncated object?)");
        }
        ByteBuffer first = null;
        for (int j = 0; j < count; j++) {
            BlockInfo bj = j == 0 ? b : block(r, i + j);
            ByteBuffer slice = fetched.slice((int) (bj.position() - from), bj.size());
            DataObjectIndex.verifyBlock(r.object().key(), bj, slice);
            blocks.put(new BlockKey(r.object().key(), bj.position()), slice);
            if (j == 0) {
                first = slice;
            }
        }
        return first.duplicate();
    }

    private static void noteSequential(PartitionLog reader, BlockInfo b) {
        reader.remoteNextOffset = b.nextOffset();
    }

    /**
     * How many blocks to fetch with one GET: one for a random read; for a sequential reader (this
     * block starts where its last one ended, in this object or the previous one) twice as many as
     * last time, cut at {@code readahead.max.bytes} and at the end of the run. The window keeps
     * growing across runs, so a reader catching up over many objects soon reads each with one GET.
     */
    private int readaheadCount(PartitionLog reader, RangeRef r, int i) {
        boolean sequential = block(r, i).baseOffset() == reader.remoteNextOffset;
        int want = sequential ? Math.min(reader.readaheadBlocks * 2, 1 << 16) : 1;
        int k = 0;
        long bytes = 0;
        while (k < want && i + k < r.blockCount()) {
            long size = block(r, i + k).size();
            if (k > 0 && bytes + size > readaheadMaxBytes) {
                break;
            }
            bytes += size;
            k++;
        }
        reader.readaheadBlocks = want;
        reader.remoteNextOffset = block(r, i + k - 1).nextOffset();
        return k;
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
        BlockKey key = new BlockKey(r.object().key(), b.position());
        ByteBuffer hit = blocks.getIfPresent(key);
        if (metricsOn) {
            metrics.blockCacheLookup(hit != null);
        }
        if (hit != null) {
            return hit.duplicate();
        }
        ByteBuffer fetched = await(store.get(r.object().key(), b.position(), b.size()),
                "reading block at " + b.position() + " of data object " + r.object().key());
        gets.incrementAndGet();
        bytesFetched.addAndGet(fetched.remaining());
        DataObjectIndex.verifyBlock(r.object().key(), b, fetched);
        return fetched;
    }

    /** Weight of cached blocks, for metrics. */
    long cachedBytes() {
        return blocks.policy().eviction().map(e -> e.weightedSize().orElse(0L)).orElse(0L);
    }
}
