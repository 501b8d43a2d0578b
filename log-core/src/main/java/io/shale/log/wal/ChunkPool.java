package io.shale.log.wal;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * Fixed-size direct buffers reused across WAL objects, so that a steady stream of appends does not
 * allocate (and the VM does not have to re-touch freshly returned memory). Thread-safe.
 *
 * <p>Chunks are direct: they stay out of the Java heap (no humongous G1 regions for multi-MiB
 * buffers, nothing for the collector to scan or copy) and a file-backed store can write them
 * without an extra copy. At most {@code maxRetained} free chunks are kept; chunks released beyond
 * that are left to the collector.
 */
final class ChunkPool {
    private final int chunkSize;
    private final int maxRetained;
    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    private long allocated;

    ChunkPool(int chunkSize, int maxRetained) {
        if (chunkSize < ObjectWalFormat.HEADER_LENGTH) {
            throw new IllegalArgumentException("chunk size " + chunkSize + " is smaller than the object header");
        }
        this.chunkSize = chunkSize;
        this.maxRetained = Math.max(0, maxRetained);
    }

    int chunkSize() {
        return chunkSize;
    }

    synchronized ByteBuffer acquire() {
        ByteBuffer b = free.pollFirst();
        if (b == null) {
            allocated++;
            return ByteBuffer.allocateDirect(chunkSize);
        }
        b.clear();
        return b;
    }

    synchronized void release(ByteBuffer chunk) {
        if (free.size() < maxRetained) {
            free.addFirst(chunk);
        }
    }

    /** Chunks allocated so far (for metrics and tests). */
    synchronized long allocated() {
        return allocated;
    }

    synchronized int retained() {
        return free.size();
    }

    synchronized void clear() {
        free.clear();
    }
}
