package io.shale.reliability.support;

import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.WalContext;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** A {@link WalContext} for driving a WAL without a store: a fixed epoch, never fenced. Close it to stop its timer. */
public final class SimpleWalContext implements WalContext, AutoCloseable {
    private final long epoch;
    private final ObjectStore store;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "wal-context-timer");
        t.setDaemon(true);
        return t;
    });

    public SimpleWalContext(long epoch, ObjectStore store) {
        this.epoch = epoch;
        this.store = store;
    }

    @Override
    public long writerEpoch() {
        return epoch;
    }

    @Override
    public CompletableFuture<Void> checkNotFenced() {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public ObjectStore objectStore() {
        return store;
    }

    @Override
    public Clock clock() {
        return Clock.systemUTC();
    }

    @Override
    public ScheduledExecutorService scheduler() {
        return scheduler;
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
