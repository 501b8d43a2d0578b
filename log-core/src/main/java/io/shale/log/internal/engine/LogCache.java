package io.shale.log.internal.engine;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The log cache: memory that holds appended batches from the moment they are appended until they
 * have been uploaded and evicted. Tail reads are views of these bytes, so what the WAL made
 * durable is exactly what readers get, with no copy.
 *
 * <p><b>Layout.</b> Memory is carved from large chunks by bump allocation, in append order, for all
 * partitions together (so 100,000 idle partitions cost nothing here). A batch larger than a chunk
 * gets a chunk of its own. Accounting is in bytes of chunk memory, bounded by
 * {@code log.cache.bytes}.
 *
 * <p><b>Eviction.</b> A chunk can be dropped once none of its batches still waits for upload.
 * Chunks are dropped oldest first and only when space is needed, so uploaded data stays readable
 * from memory as long as possible. Dropping a chunk detaches its batches from their partitions.
 *
 * <p><b>Recycling.</b> A dropped chunk whose bytes were never handed to a reader (nor could still
 * be read by a WAL or an object-store attempt: see {@link Chunk#expose()}) is reused for new
 * appends, so a steady write load allocates no new memory. A chunk that readers have seen is left
 * to the garbage collector instead: their read-only views stay valid for as long as they hold them.
 *
 * <p><b>Back-pressure.</b> When the cache is full of data not yet uploaded, {@link #allocate}
 * waits up to {@code append.max.block.ms} for an upload to free space, then fails with
 * {@code UNAVAILABLE}.
 *
 * <p><b>Concurrency.</b> One lock guards allocation and the chunk list. Lock order: the cache lock
 * may be held while taking a partition lock (eviction), never the reverse.
 */
final class LogCache {
    /** A region of cache memory. Pending bytes are those whose batch is neither uploaded nor dead. */
    static final class Chunk {
        final ByteBuffer memory;
        final List<CachedBatch> batches = new ArrayList<>();
        private int pendingBytes; // guarded by the cache lock
        private boolean released;
        /** Someone outside the cache may still hold a view of this memory: never recycle it. */
        private volatile boolean exposed;

        Chunk(int capacity) {
            this(ByteBuffer.allocate(capacity));
        }

        Chunk(ByteBuffer memory) {
            this.memory = memory;
        }

        /**
         * Marks the chunk's memory as possibly referenced from outside (a reader's view, a WAL
         * that has not called back, an object-store attempt that may still be reading): it will
         * not be recycled.
         */
        void expose() {
            exposed = true;
        }

        int capacity() {
            return memory.capacity();
        }
    }

    private final long capacity;
    private final int chunkSize;
    /** Asks for an upload (non-blocking); called while an append waits for space. */
    private final Runnable needUpload;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition spaceFreed = lock.newCondition();
    private final ArrayDeque<Chunk> chunks = new ArrayDeque<>();
    /** Memory of dropped, unexposed standard-size chunks, ready for reuse (counted in usedBytes). */
    private final ArrayDeque<ByteBuffer> pool = new ArrayDeque<>();
    private Chunk current;
    private long usedBytes;
    private long pendingBytes;
    private volatile long pendingBytesRelaxed;
    private long evictedChunks;
    private long recycledChunks;

    LogCache(long capacity, Runnable needUpload) {
        this.capacity = capacity;
        this.needUpload = needUpload;
        this.chunkSize = (int) Math.max(64 << 10, Math.min(4L << 20, capacity / 16));
    }

    /**
     * Reserves {@code size} bytes in the current chunk, or in a new one. Called with the lock held
     * (once); a new chunk's memory is allocated with the lock released, because zeroing (and, on
     * a heap that is still growing, first-touching) megabytes must not stall every producer.
     */
    private ByteBuffer reserve(int size, long maxBlockMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxBlockMs);
        while (true) {
            Chunk c = current;
            if (c != null && c.memory.remaining() >= size) {
                ByteBuffer slice = c.memory.slice(c.memory.position(), size);
                c.memory.position(c.memory.position() + size);
                return slice;
            }
            int cap = Math.max(chunkSize, size);
            if (cap == chunkSize && !pool.isEmpty()) {
                Chunk reused = new Chunk(pool.pop().clear());
                chunks.addLast(reused);
                current = reused;
                recycledChunks++;
                continue;
            }
            if (usedBytes + cap > capacity && !(chunks.isEmpty() && pool.isEmpty() && cap > capacity)) {
                if (!pool.isEmpty()) {
                    usedBytes -= pool.pop().capacity(); // an oversized batch needs the room
                    continue;
                }
                if (evictOne()) {
                    continue;
                }
                long waitNanos = deadline - System.nanoTime();
                if (waitNanos <= 0) {
                    throw new ShaleException(ErrorKind.UNAVAILABLE, "log cache full: " + pendingBytes
                            + " of " + capacity + " bytes wait for upload (append.max.block.ms=" + maxBlockMs + ")");
                }
                // Data that became durable since the last upload can be uploaded now: ask for it,
                // and ask again every few milliseconds while waiting (the WAL acknowledges in between).
                needUpload.run();
                try {
                    spaceFreed.awaitNanos(Math.min(waitNanos, TimeUnit.MILLISECONDS.toNanos(10)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ShaleException(ErrorKind.UNAVAILABLE, "interrupted while waiting for log cache space", e);
                }
                continue;
            }
            usedBytes += cap; // reserved before allocating, so concurrent allocations respect the bound
            Chunk fresh;
            lock.unlock();
            try {
                fresh = new Chunk(cap);
            } finally {
                lock.lock();
            }
            Chunk now = current;
            if (now != c && now != null && now.memory.remaining() >= size) {
                usedBytes -= cap; // another producer installed a chunk meanwhile: use it, drop ours
                continue;
            }
            chunks.addLast(fresh);
            current = fresh;
        }
    }

    /**
     * Reserves {@code size} bytes for a batch of {@code owner} and registers it; the batch's
     * {@code data} is a writable view of exactly that size, for the caller to fill. Blocks up to {@code maxBlockMs} while the cache is full
     * of data not yet uploaded.
     *
     * @throws ShaleException {@code UNAVAILABLE} if no space became free in time
     */
    CachedBatch allocate(int size, long maxBlockMs, PartitionLog owner) {
        lock.lock();
        try {
            ByteBuffer slice = reserve(size, maxBlockMs);
            CachedBatch b = new CachedBatch(owner, slice);
            Chunk c = current;
            c.batches.add(b);
            c.pendingBytes += size;
            pendingBytes += size;
            pendingBytesRelaxed = pendingBytes;
            b.chunk = c;
            return b;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The batch no longer needs to stay (uploaded, failed and rolled back, or its partition was
     * deleted). Idempotent: a batch's bytes leave the pending count exactly once, however many
     * paths release it (an upload that committed it and a topic deletion may both do so).
     */
    void release(CachedBatch batch) {
        lock.lock();
        try {
            releaseLocked(batch);
            if (usedBytes >= capacity) {
                spaceFreed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Releases many batches at once (after an upload). Idempotent per batch, as {@link #release}. */
    void releaseAll(List<CachedBatch> batches) {
        lock.lock();
        try {
            for (CachedBatch b : batches) {
                releaseLocked(b);
            }
            spaceFreed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void releaseLocked(CachedBatch b) {
        if (b.released) {
            return;
        }
        b.released = true;
        Chunk c = b.chunk;
        if (c != null && !c.released) {
            c.pendingBytes -= b.sizeInBytes();
            pendingBytes -= b.sizeInBytes();
            if (c.pendingBytes < 0 || pendingBytes < 0) {
                // Cannot happen while every batch is released once; evicting a chunk whose batches
                // still wait for upload would lose acknowledged data, so fail loudly instead.
                throw new IllegalStateException("log cache accounting went negative (chunk " + c.pendingBytes
                        + ", total " + pendingBytes + ") releasing " + b);
            }
        }
        pendingBytesRelaxed = pendingBytes;
    }

    /** Drops the oldest chunk without pending bytes. Called with the lock held. */
    private boolean evictOne() {
        for (Iterator<Chunk> it = chunks.iterator(); it.hasNext(); ) {
            Chunk c = it.next();
            if (c.pendingBytes > 0) {
                continue;
            }
            if (c == current) {
                current = null;
            }
            it.remove();
            c.released = true;
            evictedChunks++;
            for (CachedBatch b : c.batches) {
                b.log.evict(b);
            }
            c.batches.clear();
            if (!c.exposed && c.capacity() == chunkSize) {
                pool.push(c.memory); // still counted in usedBytes
            } else {
                usedBytes -= c.capacity();
            }
            return true;
        }
        return false;
    }

    /** Bytes of chunk memory in use. */
    long usedBytes() {
        lock.lock();
        try {
            return usedBytes;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes of batches waiting for upload. */
    long pendingBytes() {
        lock.lock();
        try {
            return pendingBytes;
        } finally {
            lock.unlock();
        }
    }

    /** {@link #pendingBytes()} without taking the lock (may be slightly stale). */
    long pendingBytesRelaxed() {
        return pendingBytesRelaxed;
    }

    /** Chunks reused from the pool instead of allocated. */
    long recycledChunks() {
        lock.lock();
        try {
            return recycledChunks;
        } finally {
            lock.unlock();
        }
    }

    long capacity() {
        return capacity;
    }

    long evictedChunks() {
        lock.lock();
        try {
            return evictedChunks;
        } finally {
            lock.unlock();
        }
    }
}
