package io.shale.catalog.postgres;

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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * One node's handle on the shared bucket: a pass-through that counts reads (LIST and GET) per key
 * prefix of interest and can die. After {@link #kill()} every call fails at once with a
 * {@code PERMANENT} error (not retried), as for a process that died: nothing it does reaches the
 * bucket any more, acknowledged WAL objects already there stay.
 */
final class DyingObjectStore implements ObjectStore {
    private final ObjectStore delegate;
    private final ConcurrentHashMap<String, LongAdder> reads = new ConcurrentHashMap<>();
    private volatile boolean dead;

    DyingObjectStore(ObjectStore delegate) {
        this.delegate = delegate;
    }

    void kill() {
        dead = true;
    }

    /** LIST and GET requests so far of keys (or list prefixes) under {@code walPrefix} ({@code wal/<node>/}). */
    long reads(String walPrefix) {
        LongAdder a = reads.get(walPrefix);
        return a == null ? 0 : a.sum();
    }

    private void read(String key) {
        if (key.startsWith("wal/")) {
            int slash = key.indexOf('/', 4);
            String family = slash < 0 ? key : key.substring(0, slash + 1);
            reads.computeIfAbsent(family, k -> new LongAdder()).increment();
        }
    }

    private <T> CompletableFuture<T> deadFuture(String key) {
        return CompletableFuture.failedFuture(new ObjectStoreException(ObjectStoreException.Reason.PERMANENT, key,
                "test: the node using " + delegate.describe() + " died"));
    }

    @Override
    public CompletableFuture<Void> put(String key, Payload payload, String token) {
        return dead ? deadFuture(key) : delegate.put(key, payload, token);
    }

    @Override
    public CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) {
        return dead ? deadFuture(key) : delegate.putIfAbsent(key, payload, token);
    }

    @Override
    public CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
        if (dead) {
            return deadFuture(key);
        }
        read(key);
        return delegate.get(key, offset, length);
    }

    @Override
    public CompletableFuture<Optional<ObjectInfo>> head(String key) {
        return dead ? deadFuture(key) : delegate.head(key);
    }

    @Override
    public CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys) {
        if (dead) {
            return deadFuture(prefix);
        }
        read(prefix);
        return delegate.list(prefix, startAfter, maxKeys);
    }

    @Override
    public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
        return dead ? deadFuture(null) : delegate.delete(keys);
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
