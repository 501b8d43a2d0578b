package io.shale.log.spi;

import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * An {@link ObjectStore} that forwards every call to another one: the base for wrappers (metrics,
 * fault injection, test gates), which override only what they change. Threading, errors and
 * idempotency are the delegate's. {@link #close()} closes the delegate.
 */
public abstract class ForwardingObjectStore implements ObjectStore {
    private final ObjectStore delegate;

    protected ForwardingObjectStore(ObjectStore delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** The wrapped store. */
    protected ObjectStore delegate() {
        return delegate;
    }

    @Override
    public CompletableFuture<Void> put(String key, Payload payload, String token) {
        return delegate.put(key, payload, token);
    }

    @Override
    public CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) {
        return delegate.putIfAbsent(key, payload, token);
    }

    @Override
    public CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
        return delegate.get(key, offset, length);
    }

    @Override
    public CompletableFuture<Optional<ObjectInfo>> head(String key) {
        return delegate.head(key);
    }

    @Override
    public CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys) {
        return delegate.list(prefix, startAfter, maxKeys);
    }

    @Override
    public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
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
