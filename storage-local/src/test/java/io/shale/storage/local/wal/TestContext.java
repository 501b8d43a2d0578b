package io.shale.storage.local.wal;

import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.WalContext;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;

/** The file WAL uses nothing from its context; this one answers with neutral values. */
final class TestContext implements WalContext {
    static final TestContext INSTANCE = new TestContext();

    @Override
    public long writerEpoch() {
        return 1;
    }

    @Override
    public CompletableFuture<Void> checkNotFenced() {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public ObjectStore objectStore() {
        throw new UnsupportedOperationException("not used by the file WAL");
    }

    @Override
    public Clock clock() {
        return Clock.systemUTC();
    }

    @Override
    public ScheduledExecutorService scheduler() {
        throw new UnsupportedOperationException("not used by the file WAL");
    }
}
