package io.shale.log.spi;

import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What the store gives its WAL when it opens it ({@link WriteAheadLog#open}).
 */
public interface WalContext {
    /**
     * The writer epoch this store instance claimed in the manifest: unique per writer, increasing,
     * starting at 1 (each reopen for writing claims the next one).
     *
     * @throws IllegalStateException if called before the store claimed it (during
     *     {@link WriteAheadLog#open}, which precedes the claim)
     */
    long writerEpoch();

    /**
     * Completes normally if this writer has not been fenced, exceptionally with a
     * {@code ShaleException} of kind {@code FENCED} if a newer writer has claimed the store (or
     * with kind {@code UNAVAILABLE} if that could not be determined). A WAL whose durability lives
     * outside this machine (the object WAL) must call this after making entries durable and before
     * completing them, so that a zombie writer never acknowledges entries that the newer writer
     * did not replay. A WAL on local disk need not call it.
     */
    CompletableFuture<Void> checkNotFenced();

    /** The store's object store (with the store's retry policy applied). */
    ObjectStore objectStore();

    /** The store's clock. */
    Clock clock();

    /** A scheduler the WAL may use for timers; it must not run long or blocking tasks on it. */
    ScheduledExecutorService scheduler();

    /**
     * Whether the store records WAL syncs ({@link #recordSync}): true only when it was opened with
     * metrics. A WAL may skip reading the clock around its syncs when this is false. Constant for
     * the life of the context.
     */
    default boolean recordsSyncs() {
        return false;
    }

    /**
     * Reports one durable write of the WAL: an {@code fdatasync} of the file WAL, the PUT of an
     * object WAL's object. {@code bytes} is what that sync made durable (0 if unknown),
     * {@code nanos} how long it took. Published as the store's WAL sync latency. Thread-safe,
     * non-blocking, cheap, and takes none of the store's locks: a WAL may call it from its writer
     * thread or from I/O completions. A no-op unless {@link #recordsSyncs()}. Optional: a WAL that
     * never calls it simply has no sync metrics.
     */
    default void recordSync(long bytes, long nanos) {
    }
}
