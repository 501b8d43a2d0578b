package io.shale.log.testing;

import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.Payload;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Hands one object store to several store instances in turn (restarts, a second process): the
 * store instances own and close their object store, so this view ignores {@link #close()}.
 */
public final class SharedObjectStore implements ObjectStore {
    private final ObjectStore delegate;

    public SharedObjectStore(ObjectStore delegate) {
        this.delegate = delegate;
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
        // owned by the test
    }
}
