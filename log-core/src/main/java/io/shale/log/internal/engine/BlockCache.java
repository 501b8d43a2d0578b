package io.shale.log.internal.engine;

import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The read path's cache of object blocks: byte-bounded, least recently used out first.
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

        Block(ByteBuffer bytes) {
            this.bytes = bytes;
        }
    }

    private final long maxBytes;
    private final LinkedHashMap<RemoteReader.BlockKey, Block> map = new LinkedHashMap<>(64, 0.75f, true);
    private long bytes;

    BlockCache(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    synchronized Block get(RemoteReader.BlockKey key) {
        return map.get(key);
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
        }
        bytes += weight;
        Iterator<Map.Entry<RemoteReader.BlockKey, Block>> it = map.entrySet().iterator();
        while (bytes > maxBytes && it.hasNext()) {
            Map.Entry<RemoteReader.BlockKey, Block> e = it.next();
            bytes -= e.getValue().bytes.capacity();
            it.remove();
        }
    }

    /** Removes {@code key} if it still maps to {@code block}. */
    synchronized void remove(RemoteReader.BlockKey key, Block block) {
        if (map.remove(key, block)) {
            bytes -= block.bytes.capacity();
        }
    }

    synchronized void forget(String objectKey) {
        Iterator<Map.Entry<RemoteReader.BlockKey, Block>> it = map.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<RemoteReader.BlockKey, Block> e = it.next();
            if (e.getKey().object().equals(objectKey)) {
                bytes -= e.getValue().bytes.capacity();
                it.remove();
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
