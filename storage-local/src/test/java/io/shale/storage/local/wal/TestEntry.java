package io.shale.storage.local.wal;

import io.shale.log.spi.WalEntry;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/** A WAL entry whose payload is derived from (stream, offset, seed) so a reader can recompute it. */
class TestEntry implements WalEntry {
    final int streamId;
    final long baseOffset;
    final ByteBuffer payload;
    final CompletableFuture<Void> done = new CompletableFuture<>();
    final AtomicInteger callbacks = new AtomicInteger();
    volatile long sequence = -1;

    TestEntry(int streamId, long baseOffset, ByteBuffer payload) {
        this.streamId = streamId;
        this.baseOffset = baseOffset;
        this.payload = payload;
    }

    static TestEntry of(int streamId, long baseOffset, int size, long seed) {
        return new TestEntry(streamId, baseOffset, ByteBuffer.wrap(bytes(streamId, baseOffset, size, seed)));
    }

    /** Deterministic payload bytes for (stream, offset, seed). */
    static byte[] bytes(int streamId, long baseOffset, int size, long seed) {
        byte[] b = new byte[size];
        new SplittableRandom(seed * 1_000_003L + streamId * 7_919L + baseOffset).nextBytes(b);
        return b;
    }

    @Override
    public int streamId() {
        return streamId;
    }

    @Override
    public long baseOffset() {
        return baseOffset;
    }

    @Override
    public ByteBuffer payload() {
        return payload;
    }

    @Override
    public void onDurable() {
        callbacks.incrementAndGet();
        done.complete(null);
    }

    @Override
    public void onFailure(Throwable error) {
        callbacks.incrementAndGet();
        done.completeExceptionally(error);
    }

    boolean succeeded() {
        return done.isDone() && !done.isCompletedExceptionally();
    }
}
