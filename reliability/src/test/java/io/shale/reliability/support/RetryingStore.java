package io.shale.reliability.support;

import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.Payload;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A minimal retry wrapper for these tests, standing in for the engine's own retry policy while
 * {@code StoreEngine.open} does not apply one (see the report): repeats {@code TRANSIENT} and
 * {@code THROTTLED} failures with jittered exponential backoff for up to a deadline, and resolves
 * an ambiguous {@code putIfAbsent} (a retry answered "exists" after a transient failure) by
 * comparing the existing object's token with the caller's, as the SPI prescribes.
 *
 * <p>Thread-safe. Retries run on one daemon thread owned by the wrapper.
 */
public final class RetryingStore implements ObjectStore {
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "test-retry-timer");
        t.setDaemon(true);
        return t;
    });
    /*
     * Retries run on a pool, not on the timer thread: the compactor's streamed payload makes blocking
     * GETs while a PUT reads it, so a PUT retried on a single retry thread would wait for a GET whose
     * own retry is queued behind it (a deadlock this test harness found; see the report).
     */
    private static final ExecutorService RETRIES = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "test-retry");
        t.setDaemon(true);
        return t;
    });

    private final ObjectStore inner;
    private final long deadlineNanos;
    private final AtomicLong retries;
    public final AtomicLong ambiguousResolved = new AtomicLong();

    /** Retries for up to {@code deadlineMs} per operation, counting retries in {@code retries}. */
    public RetryingStore(ObjectStore inner, long deadlineMs, AtomicLong retries) {
        this.inner = inner;
        this.deadlineNanos = TimeUnit.MILLISECONDS.toNanos(deadlineMs);
        this.retries = retries;
    }

    private <T> CompletableFuture<T> retry(Supplier<CompletableFuture<T>> call) {
        CompletableFuture<T> out = new CompletableFuture<>();
        attempt(call, out, System.nanoTime() + deadlineNanos, 0);
        return out;
    }

    private <T> void attempt(Supplier<CompletableFuture<T>> call, CompletableFuture<T> out, long deadline, int n) {
        CompletableFuture<T> f;
        try {
            f = call.get();
        } catch (RuntimeException e) {
            out.completeExceptionally(e);
            return;
        }
        f.whenComplete((v, e) -> {
            if (e == null) {
                out.complete(v);
                return;
            }
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            ObjectStoreException ose = ObjectStoreException.find(cause);
            long delayMs = ThreadLocalRandom.current().nextLong(1, Math.min(200, 2L << Math.min(n, 10)) + 1);
            if (ose == null || !ose.isRetriable() || System.nanoTime() + delayMs * 1_000_000 >= deadline) {
                out.completeExceptionally(cause);
                return;
            }
            retries.incrementAndGet();
            TIMER.schedule(() -> RETRIES.execute(() -> attempt(call, out, deadline, n + 1)), delayMs,
                    TimeUnit.MILLISECONDS);
        });
    }

    @Override
    public CompletableFuture<Void> put(String key, Payload payload, String token) {
        return retry(() -> inner.put(key, payload, token));
    }

    @Override
    public CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) {
        boolean[] ambiguous = new boolean[1];
        return retry(() -> inner.putIfAbsent(key, payload, token).handle((created, e) -> {
            if (e != null) {
                ObjectStoreException ose = ObjectStoreException.find(e);
                if (ose != null && ose.reason() == ObjectStoreException.Reason.TRANSIENT) {
                    ambiguous[0] = true;
                }
                throw e instanceof CompletionException ce ? ce : new CompletionException(e);
            }
            return created;
        })).thenCompose(created -> {
            if (created || !ambiguous[0]) {
                return CompletableFuture.completedFuture(created);
            }
            return head(key).thenApply(info -> {
                boolean ours = info.isPresent() && token.equals(info.get().token());
                if (ours) {
                    ambiguousResolved.incrementAndGet();
                }
                return ours;
            });
        });
    }

    @Override
    public CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
        return retry(() -> inner.get(key, offset, length));
    }

    @Override
    public CompletableFuture<Optional<ObjectInfo>> head(String key) {
        return retry(() -> inner.head(key));
    }

    @Override
    public CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys) {
        return retry(() -> inner.list(prefix, startAfter, maxKeys));
    }

    @Override
    public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
        return retry(() -> inner.delete(keys));
    }

    @Override
    public String describe() {
        return inner.describe();
    }

    @Override
    public void close() {
        inner.close();
    }
}
