package io.shale.log.wal;

import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.Payload;
import io.shale.log.testing.InMemoryObjectStore;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An {@link InMemoryObjectStore} with scripted PUT behaviour: hold PUTs until the test releases them
 * (the object appears only then), fail the next PUTs, report "already exists" after creating the
 * object (an ambiguous retry), or complete PUTs asynchronously on another executor.
 */
final class ScriptedObjectStore implements ObjectStore {
    final InMemoryObjectStore mem = new InMemoryObjectStore();
    private volatile boolean holdPuts;
    private final ConcurrentLinkedDeque<Runnable> heldPuts = new ConcurrentLinkedDeque<>();
    final AtomicInteger putAttempts = new AtomicInteger();
    private final AtomicInteger failNext = new AtomicInteger();
    private volatile ObjectStoreException.Reason failReason = ObjectStoreException.Reason.PERMANENT;
    private volatile boolean createThenReportExisting;
    private volatile Executor asyncCompletion;

    void holdPuts(boolean hold) {
        this.holdPuts = hold;
    }

    int heldPutCount() {
        return heldPuts.size();
    }

    /** Lets the oldest held PUT happen; returns false if none is held. */
    boolean releaseOldestPut() {
        Runnable r = heldPuts.pollFirst();
        if (r == null) {
            return false;
        }
        r.run();
        return true;
    }

    void failNextPuts(int n, ObjectStoreException.Reason reason) {
        failReason = reason;
        failNext.set(n);
    }

    void createThenReportExisting(boolean on) {
        createThenReportExisting = on;
    }

    void completeAsyncOn(Executor executor) {
        asyncCompletion = executor;
    }

    @Override
    public CompletableFuture<Void> put(String key, Payload payload, String token) {
        return mem.put(key, payload, token);
    }

    @Override
    public CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) {
        putAttempts.incrementAndGet();
        if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            return CompletableFuture.failedFuture(new ObjectStoreException(failReason, key, "scripted failure of mem://" + key));
        }
        if (holdPuts) {
            byte[] bytes = payload.toByteArray(); // the store has "received" the bytes
            CompletableFuture<Boolean> f = new CompletableFuture<>();
            heldPuts.addLast(() -> mem.putIfAbsent(key, Payload.of(bytes), token).whenComplete((v, e) -> {
                if (e != null) {
                    f.completeExceptionally(e);
                } else {
                    f.complete(v);
                }
            }));
            return f;
        }
        CompletableFuture<Boolean> result = mem.putIfAbsent(key, payload, token);
        if (createThenReportExisting) {
            result = result.thenApply(created -> false);
        }
        Executor async = asyncCompletion;
        return async == null ? result : result.thenApplyAsync(v -> v, async);
    }

    @Override
    public CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
        return mem.get(key, offset, length);
    }

    @Override
    public CompletableFuture<Optional<ObjectInfo>> head(String key) {
        return mem.head(key);
    }

    @Override
    public CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys) {
        return mem.list(prefix, startAfter, maxKeys);
    }

    @Override
    public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
        return mem.delete(keys);
    }

    @Override
    public String describe() {
        return "mem://";
    }

    @Override
    public void close() {
        mem.close();
    }
}
