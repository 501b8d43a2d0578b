package io.shale.storage.local;

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
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A real store behind a switch: PASS forwards, HANG answers with futures that never complete (a
 * black-holed network), FAIL answers TRANSIENT (a store that refuses connections).
 */
final class SwitchableObjectStore implements ObjectStore {
    enum Mode { PASS, HANG, FAIL }

    private final ObjectStore inner;
    private volatile Mode mode = Mode.PASS;
    final AtomicLong refused = new AtomicLong();

    SwitchableObjectStore(ObjectStore inner) {
        this.inner = inner;
    }

    void mode(Mode mode) {
        this.mode = mode;
    }

    private <T> CompletableFuture<T> call(String op, String key, Supplier<CompletableFuture<T>> call) {
        switch (mode) {
            case HANG:
                refused.incrementAndGet();
                return new CompletableFuture<>();
            case FAIL:
                refused.incrementAndGet();
                return CompletableFuture.failedFuture(new ObjectStoreException(ObjectStoreException.Reason.TRANSIENT,
                        key, op + " '" + key + "' on " + describe() + ": connection refused (test)"));
            default:
                return call.get();
        }
    }

    @Override
    public CompletableFuture<Void> put(String key, Payload payload, String token) {
        return call("put", key, () -> inner.put(key, payload, token));
    }

    @Override
    public CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) {
        return call("putIfAbsent", key, () -> inner.putIfAbsent(key, payload, token));
    }

    @Override
    public CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
        return call("get", key, () -> inner.get(key, offset, length));
    }

    @Override
    public CompletableFuture<Optional<ObjectInfo>> head(String key) {
        return call("head", key, () -> inner.head(key));
    }

    @Override
    public CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys) {
        return call("list", prefix, () -> inner.list(prefix, startAfter, maxKeys));
    }

    @Override
    public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
        return call("delete", null, () -> inner.delete(keys));
    }

    @Override
    public String describe() {
        return "switchable:" + inner.describe();
    }

    @Override
    public void close() {
        inner.close();
    }
}
