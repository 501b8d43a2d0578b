package io.shale.storage.testkit;

import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.Payload;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * The object store one store instance of {@link LogStoreContractTest} runs on: a pass-through to a
 * real store that counts requests per kind and key family, and can "crash" the process using it.
 *
 * <p>After {@link #crash()} every call fails at once with a {@code PERMANENT}
 * {@link ObjectStoreException} (not retried by the engine), as if the process holding this
 * handle had died: nothing it does afterwards reaches the bucket. {@link #crashAfterNextPut}
 * crashes right after a PUT of a matching key succeeded, which is how a crash between writing an
 * object and committing it to the manifest is produced without touching the engine.
 *
 * <p>Thread-safe. {@link #close()} closes the real store.
 */
final class ObservedObjectStore implements ObjectStore {
    private final ObjectStore delegate;
    private final ConcurrentHashMap<String, LongAdder> counts = new ConcurrentHashMap<>();
    private final AtomicReference<String> crashAfterPutOf = new AtomicReference<>();
    private volatile boolean crashed;

    ObservedObjectStore(ObjectStore delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** From now on every call fails, as for a process that died. */
    void crash() {
        crashed = true;
    }

    /** Crashes right after the next successful PUT (plain or conditional) of a key starting with {@code prefix}. */
    void crashAfterNextPut(String prefix) {
        crashAfterPutOf.set(Objects.requireNonNull(prefix, "prefix"));
    }

    boolean isCrashed() {
        return crashed;
    }

    /** How many requests of {@code op} ("put", "get", "head", "list", "delete") touched keys starting with {@code family}. */
    long count(String op, String family) {
        LongAdder a = counts.get(op + " " + family);
        return a == null ? 0 : a.sum();
    }

    private void record(String op, String key) {
        int slash = key.indexOf('/');
        String family = slash < 0 ? key : key.substring(0, slash + 1);
        counts.computeIfAbsent(op + " " + family, k -> new LongAdder()).increment();
    }

    private <T> CompletableFuture<T> dead(String key) {
        return CompletableFuture.failedFuture(new ObjectStoreException(ObjectStoreException.Reason.PERMANENT, key,
                "test crash: the process using " + delegate.describe() + " is gone"));
    }

    private <T> CompletableFuture<T> afterPut(String key, CompletableFuture<T> put) {
        String prefix = crashAfterPutOf.get();
        if (prefix == null || !key.startsWith(prefix)) {
            return put;
        }
        return put.thenApply(v -> {
            if (crashAfterPutOf.compareAndSet(prefix, null)) {
                crashed = true;
            }
            return v;
        });
    }

    @Override
    public CompletableFuture<Void> put(String key, Payload payload, String token) {
        if (crashed) {
            return dead(key);
        }
        record("put", key);
        return afterPut(key, delegate.put(key, payload, token));
    }

    @Override
    public CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) {
        if (crashed) {
            return dead(key);
        }
        record("put", key);
        return afterPut(key, delegate.putIfAbsent(key, payload, token));
    }

    @Override
    public CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
        if (crashed) {
            return dead(key);
        }
        record("get", key);
        return delegate.get(key, offset, length);
    }

    @Override
    public CompletableFuture<Optional<ObjectInfo>> head(String key) {
        if (crashed) {
            return dead(key);
        }
        record("head", key);
        return delegate.head(key);
    }

    @Override
    public CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys) {
        if (crashed) {
            return dead(prefix);
        }
        record("list", prefix);
        return delegate.list(prefix, startAfter, maxKeys);
    }

    @Override
    public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
        if (crashed) {
            return dead(null);
        }
        for (String k : keys) {
            record("delete", k);
        }
        return delegate.delete(keys);
    }

    @Override
    public String describe() {
        return delegate.describe();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
