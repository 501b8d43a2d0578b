package io.shale.log.internal.objectstore;

import io.shale.log.metrics.StoreMetrics;
import io.shale.log.metrics.StoreMetrics.Outcome;
import io.shale.log.metrics.StoreMetrics.RequestKind;
import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ForwardingObjectStore;
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

/**
 * Reports every request to the store it wraps to {@link StoreMetrics#objectStoreRequest}: kind,
 * outcome, body bytes and latency (call to completion). The engine puts it directly around the
 * store it was given, under the retry policy, so that each attempt counts, and only when the store
 * was opened with metrics.
 *
 * <p>The futures returned are the wrapped store's own; the report is a side effect of their
 * completion, so it runs on whatever thread completes them.
 */
public final class MeteredObjectStore extends ForwardingObjectStore {
    private final StoreMetrics metrics;

    public MeteredObjectStore(ObjectStore delegate, StoreMetrics metrics) {
        super(delegate);
        this.metrics = metrics;
    }

    @Override
    public CompletableFuture<Void> put(String key, Payload payload, String token) {
        long start = System.nanoTime();
        CompletableFuture<Void> f = started(RequestKind.PUT, start, () -> delegate().put(key, payload, token));
        long bytes = payload.length();
        f.whenComplete((v, e) -> report(RequestKind.PUT, e == null ? Outcome.OK : outcome(e), bytes, start));
        return f;
    }

    @Override
    public CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) {
        long start = System.nanoTime();
        CompletableFuture<Boolean> f = started(RequestKind.PUT_IF_ABSENT, start,
                () -> delegate().putIfAbsent(key, payload, token));
        long bytes = payload.length();
        f.whenComplete((created, e) -> report(RequestKind.PUT_IF_ABSENT,
                e != null ? outcome(e) : Boolean.TRUE.equals(created) ? Outcome.OK : Outcome.ALREADY_EXISTS, bytes, start));
        return f;
    }

    @Override
    public CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
        long start = System.nanoTime();
        CompletableFuture<ByteBuffer> f = started(RequestKind.GET, start, () -> delegate().get(key, offset, length));
        f.whenComplete((b, e) -> report(RequestKind.GET, e == null ? Outcome.OK : outcome(e),
                b == null ? 0 : b.remaining(), start));
        return f;
    }

    @Override
    public CompletableFuture<Optional<ObjectInfo>> head(String key) {
        long start = System.nanoTime();
        CompletableFuture<Optional<ObjectInfo>> f = started(RequestKind.HEAD, start, () -> delegate().head(key));
        f.whenComplete((info, e) -> report(RequestKind.HEAD,
                e != null ? outcome(e) : info != null && info.isPresent() ? Outcome.OK : Outcome.NOT_FOUND, 0, start));
        return f;
    }

    @Override
    public CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys) {
        long start = System.nanoTime();
        CompletableFuture<ListPage> f = started(RequestKind.LIST, start,
                () -> delegate().list(prefix, startAfter, maxKeys));
        f.whenComplete((p, e) -> report(RequestKind.LIST, e == null ? Outcome.OK : outcome(e), 0, start));
        return f;
    }

    @Override
    public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
        long start = System.nanoTime();
        CompletableFuture<DeleteResult> f = started(RequestKind.DELETE, start, () -> delegate().delete(keys));
        f.whenComplete((r, e) -> report(RequestKind.DELETE, e == null ? Outcome.OK : outcome(e), 0, start));
        return f;
    }

    /** Calls the store; a synchronous throw (a rejected key, a closed store) is reported and rethrown. */
    private <T> CompletableFuture<T> started(RequestKind kind, long start,
            java.util.function.Supplier<CompletableFuture<T>> call) {
        try {
            return call.get();
        } catch (RuntimeException e) {
            report(kind, outcome(e), 0, start);
            throw e;
        }
    }

    private void report(RequestKind kind, Outcome outcome, long bytes, long start) {
        metrics.objectStoreRequest(kind, outcome, bytes, System.nanoTime() - start);
    }

    static Outcome outcome(Throwable e) {
        Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        ObjectStoreException ose = ObjectStoreException.find(t);
        if (ose == null) {
            return Outcome.ERROR;
        }
        return switch (ose.reason()) {
            case NOT_FOUND -> Outcome.NOT_FOUND;
            case THROTTLED -> Outcome.THROTTLED;
            case TRANSIENT -> Outcome.TRANSIENT;
            case PERMANENT -> Outcome.PERMANENT;
            case CORRUPT -> Outcome.CORRUPT;
        };
    }
}
