package io.shale.reliability.support;

import io.shale.log.spi.WalEntry;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/** A {@link WalEntry} whose outcome completes {@link #done}: normally when durable, exceptionally on failure. */
public final class TestEntry implements WalEntry {
    private final int streamId;
    private final long baseOffset;
    private final ByteBuffer payload;
    public final CompletableFuture<Void> done = new CompletableFuture<>();

    public TestEntry(int streamId, long baseOffset, byte[] payload) {
        this.streamId = streamId;
        this.baseOffset = baseOffset;
        this.payload = ByteBuffer.wrap(payload).asReadOnlyBuffer();
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
        return payload.duplicate();
    }

    @Override
    public void onDurable() {
        done.complete(null);
    }

    @Override
    public void onFailure(Throwable error) {
        done.completeExceptionally(error);
    }
}
