package io.shale.log.internal.engine;

/** What the deterministic simulation needs from the engine beyond the public API. Tests only. */
public final class SimBridge {
    private SimBridge() {
    }

    /** Stops the store's work as a crash would (no upload, no WAL close, nothing failed). */
    public static void crash(StoreEngine engine) {
        engine.crashForTesting();
    }

    /** The lock a caller holds while it commits to the manifest (no engine task may run nested then). */
    public static Object catalogLock(StoreEngine engine) {
        return engine.catalog.lock();
    }

    /** Asks the manifest whether a newer writer fenced this one (one HEAD of its fence marker). */
    public static java.util.concurrent.CompletableFuture<Void> checkNotFenced(StoreEngine engine) {
        return engine.catalog.checkNotFenced();
    }

    /** Whether the store knows it was fenced. */
    public static boolean isFenced(StoreEngine engine) {
        return engine.isFenced();
    }
}
