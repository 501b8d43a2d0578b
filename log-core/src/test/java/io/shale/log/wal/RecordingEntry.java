package io.shale.log.wal;

import io.shale.log.ShaleException;
import io.shale.log.spi.WalEntry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A {@link WalEntry} that records its callbacks: how many, which thread, and the outcome. */
final class RecordingEntry implements WalEntry {
    final int streamId;
    final long baseOffset;
    final ByteBuffer payload;
    final AtomicInteger callbacks = new AtomicInteger();
    final CompletableFuture<Void> outcome = new CompletableFuture<>();
    volatile String callbackThread;

    RecordingEntry(int streamId, long baseOffset, ByteBuffer payload) {
        this.streamId = streamId;
        this.baseOffset = baseOffset;
        this.payload = payload;
    }

    static RecordingEntry of(int streamId, long baseOffset, String text) {
        return new RecordingEntry(streamId, baseOffset, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
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
        callbackThread = Thread.currentThread().getName();
        callbacks.incrementAndGet();
        outcome.complete(null);
    }

    @Override
    public void onFailure(Throwable error) {
        callbackThread = Thread.currentThread().getName();
        callbacks.incrementAndGet();
        outcome.completeExceptionally(error);
    }

    boolean isDurable() {
        return outcome.isDone() && !outcome.isCompletedExceptionally();
    }

    /** Waits (bounded) for the outcome; returns the failure, or null if durable. */
    ShaleException awaitOutcome() {
        try {
            outcome.get(30, TimeUnit.SECONDS);
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            ShaleException se = ShaleException.unwrap(e.getCause());
            if (se == null) {
                throw new AssertionError("entry failed with a non-Shale error", e.getCause());
            }
            return se;
        } catch (Exception e) {
            throw new AssertionError("entry was not settled within 30 s", e);
        }
    }
}
