package io.shale.log.wal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * An append-only byte sequence stored in pooled chunks: the bytes of one WAL object being built.
 * Memory grows with the bytes written (in whole chunks), not with a preallocated maximum, and an
 * entry larger than a chunk simply spans several. Not thread-safe (the WAL writes it under its lock).
 */
final class ChunkedBuffer {
    private final ChunkPool pool;
    private final int chunkSize;
    private final ArrayList<ByteBuffer> chunks = new ArrayList<>(8);
    /** Bytes used in the last chunk. */
    private int lastUsed;
    private long size;

    ChunkedBuffer(ChunkPool pool) {
        this.pool = pool;
        this.chunkSize = pool.chunkSize();
    }

    long size() {
        return size;
    }

    int chunkCount() {
        return chunks.size();
    }

    /** Appends {@code src[off..off+len)}. */
    void write(byte[] src, int off, int len) {
        while (len > 0) {
            ByteBuffer c = writableChunk();
            int n = Math.min(len, chunkSize - lastUsed);
            c.put(lastUsed, src, off, n);
            lastUsed += n;
            size += n;
            off += n;
            len -= n;
        }
    }

    /** Appends {@code len} bytes of {@code src} starting at absolute index {@code srcIndex}; does not move src's position. */
    void write(ByteBuffer src, int srcIndex, int len) {
        while (len > 0) {
            ByteBuffer c = writableChunk();
            int n = Math.min(len, chunkSize - lastUsed);
            c.put(lastUsed, src, srcIndex, n);
            lastUsed += n;
            size += n;
            srcIndex += n;
            len -= n;
        }
    }

    /** Overwrites bytes already written at {@code pos}; the range must lie in the first chunk. */
    void overwrite(int pos, byte[] src) {
        if (chunks.isEmpty() || pos < 0 || pos + src.length > Math.min(size, chunkSize)) {
            throw new IllegalStateException("overwrite of " + src.length + " bytes at " + pos + " outside the first chunk");
        }
        chunks.get(0).put(pos, src, 0, src.length);
    }

    /** Read-only views of the written bytes, in order (for a {@link io.shale.log.spi.Payload}). */
    List<ByteBuffer> views() {
        List<ByteBuffer> out = new ArrayList<>(chunks.size());
        for (int i = 0; i < chunks.size(); i++) {
            int used = i == chunks.size() - 1 ? lastUsed : chunkSize;
            out.add(chunks.get(i).asReadOnlyBuffer().position(0).limit(used));
        }
        return out;
    }

    /** Returns the chunks to the pool. The buffer must not be used afterwards. */
    void release() {
        for (ByteBuffer c : chunks) {
            pool.release(c);
        }
        chunks.clear();
    }

    /** Forgets the chunks without returning them (someone may still read them). */
    void abandon() {
        chunks.clear();
    }

    private ByteBuffer writableChunk() {
        if (chunks.isEmpty() || lastUsed == chunkSize) {
            chunks.add(pool.acquire());
            lastUsed = 0;
        }
        return chunks.get(chunks.size() - 1);
    }
}
