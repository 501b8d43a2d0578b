package io.shale.log.internal.engine;

import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The read path's cache of object blocks: byte-bounded, least recently used out first (a block's
 * first use by a reader does not count as a use: see {@link #getForUse}).
 *
 * <p>Plain LRU on purpose. Catch-up reads are scans: a block is fetched (often ahead of need, by
 * readahead or for a neighbouring partition) and read once, soon after. A frequency-based admission
 * policy (Caffeine's TinyLFU) turns such a just-fetched block away in favour of older blocks that
 * were read once already, so readahead fetched data only to drop it and fetch it again: 1.4 to 2
 * times the bytes returned. Under LRU the newest fetch always fits.
 *
 * <p>Weight is the bytes of the cached views. Views of one fetched span share its array, which
 * stays reachable while any of them is cached.
 *
 * <p><b>Threading.</b> Thread-safe (one lock; every operation is a few map steps).
 */
final class BlockCache {
    /** A cached block: a view of fetched bytes, CRC-checked on first use (fetches may land unverified). */
    static final class Block {
        final ByteBuffer bytes;
        volatile boolean verified;
        /**
         * Bytes of the GET that brought this block if it went through an object partition after
         * partition (a walk), else 0; set before the block is published.
         */
        long walk;
        /** Brought by a walk and not used yet (counted in the reader's bytes fetched ahead). */
        final java.util.concurrent.atomic.AtomicBoolean ahead = new java.util.concurrent.atomic.AtomicBoolean();

        Block(ByteBuffer bytes) {
            this.bytes = bytes;
        }
    }

    private final long maxBytes;
    /** In order of use, least recent first (insertion order, promoted by hand: see {@link #getForUse}). */
    private final LinkedHashMap<RemoteReader.BlockKey, Block> map = new LinkedHashMap<>(64, 0.75f, false);
    private long bytes;
    /** Told of every block that leaves the cache (evicted, replaced, removed or forgotten). */
    private final Consumer<Block> dropped;

    BlockCache(long maxBytes) {
        this(maxBytes, b -> { });
    }

    BlockCache(long maxBytes, Consumer<Block> dropped) {
        this.maxBytes = maxBytes;
        this.dropped = dropped;
    }

    /** The cached block, now the most recently used; or null. */
    synchronized Block get(RemoteReader.BlockKey key) {
        Block b = map.remove(key);
        if (b != null) {
            map.put(key, b);
        }
        return b;
    }

    /**
     * The cached block for a reader about to use it; or null. A block's first use (it is not yet
     * verified) leaves it where its fetch put it: a block fetched ahead of need and read once (a
     * scan) is not worth more than the blocks fetched after it that are still waiting for their
     * readers, so it goes before them. Later uses make it the most recently used.
     */
    synchronized Block getForUse(RemoteReader.BlockKey key) {
        Block b = map.get(key);
        if (b != null && b.verified) {
            map.remove(key);
            map.put(key, b);
        }
        return b;
    }

    synchronized boolean contains(RemoteReader.BlockKey key) {
        return map.containsKey(key);
    }

    /** Caches {@code block} as the most recently used, evicting the least recently used beyond the limit. */
    synchronized void put(RemoteReader.BlockKey key, Block block) {
        int weight = block.bytes.capacity();
        if (weight > maxBytes) {
            return;
        }
        Block old = map.put(key, block);
        if (old != null) {
            bytes -= old.bytes.capacity();
            dropped.accept(old);
        }
        bytes += weight;
        Iterator<Map.Entry<RemoteReader.BlockKey, Block>> it = map.entrySet().iterator();
        while (bytes > maxBytes && it.hasNext()) {
            Map.Entry<RemoteReader.BlockKey, Block> e = it.next();
            bytes -= e.getValue().bytes.capacity();
            it.remove();
            dropped.accept(e.getValue());
        }
    }

    /** Removes {@code key} if it still maps to {@code block}. */
    synchronized void remove(RemoteReader.BlockKey key, Block block) {
        if (map.remove(key, block)) {
            bytes -= block.bytes.capacity();
            dropped.accept(block);
        }
    }

    synchronized void forget(String objectKey) {
        Iterator<Map.Entry<RemoteReader.BlockKey, Block>> it = map.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<RemoteReader.BlockKey, Block> e = it.next();
            if (e.getKey().object().equals(objectKey)) {
                bytes -= e.getValue().bytes.capacity();
                it.remove();
                dropped.accept(e.getValue());
            }
        }
    }

    synchronized long weight() {
        return bytes;
    }

    long maxBytes() {
        return maxBytes;
    }
}
