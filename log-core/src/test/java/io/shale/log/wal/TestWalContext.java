package io.shale.log.wal;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.WalContext;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link WalContext} for tests: a fixed epoch, a real scheduler, and a fence check the test
 * controls (answer at once, fail FENCED, fail UNAVAILABLE, or hold every check until released).
 */
class TestWalContext implements WalContext, AutoCloseable {
    enum FenceMode { OK, FENCED, UNKNOWN, HOLD }

    private final long epoch;
    private final ObjectStore store;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "test-wal-scheduler");
        t.setDaemon(true);
        return t;
    });
    private volatile FenceMode mode = FenceMode.OK;
    final AtomicInteger fenceChecks = new AtomicInteger();
    final ConcurrentLinkedQueue<CompletableFuture<Void>> heldChecks = new ConcurrentLinkedQueue<>();

    TestWalContext(long epoch, ObjectStore store) {
        this.epoch = epoch;
        this.store = store;
    }

    void fenceMode(FenceMode mode) {
        this.mode = mode;
    }

    @Override
    public long writerEpoch() {
        return epoch;
    }

    @Override
    public CompletableFuture<Void> checkNotFenced() {
        fenceChecks.incrementAndGet();
        switch (mode) {
            case FENCED:
                return CompletableFuture.failedFuture(new ShaleException(ErrorKind.FENCED,
                        "writer epoch " + epoch + " was superseded by epoch " + (epoch + 1)));
            case UNKNOWN:
                return CompletableFuture.failedFuture(new ShaleException(ErrorKind.UNAVAILABLE, "manifest unreachable"));
            case HOLD:
                CompletableFuture<Void> f = new CompletableFuture<>();
                heldChecks.add(f);
                return f;
            case OK:
            default:
                return CompletableFuture.completedFuture(null);
        }
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
