package io.shale.log.internal.objectstore;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.ErrorKind;
import io.shale.log.LogStore;
import io.shale.log.ShaleException;
import io.shale.log.StoreConfig;
import io.shale.log.internal.engine.StoreEngine;
import io.shale.log.internal.util.StoreCalls;
import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.Payload;
import io.shale.log.testing.InMemoryWal;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

/** The retry policy's cut-off (open and close deadlines) and what PERMANENT failures become. */
class RetryCutoffTest {

    /** Every call hangs (HANG) or fails with the given reason. */
    static final class Refusing implements ObjectStore {
        final ObjectStoreException.Reason reason;

        Refusing(ObjectStoreException.Reason reason) {
            this.reason = reason;
        }

        private <T> CompletableFuture<T> call(String key) {
            return reason == null ? new CompletableFuture<>()
                    : CompletableFuture.failedFuture(new ObjectStoreException(reason, key, "refused " + key + " (test)"));
        }

        @Override public CompletableFuture<Void> put(String key, Payload payload, String token) { return call(key); }
        @Override public CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) { return call(key); }
        @Override public CompletableFuture<ByteBuffer> get(String key, long offset, long length) { return call(key); }
        @Override public CompletableFuture<Optional<ObjectInfo>> head(String key) { return call(key); }
        @Override public CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys) { return call(prefix); }
        @Override public CompletableFuture<DeleteResult> delete(Collection<String> keys) { return call(null); }
        @Override public String describe() { return "refusing"; }
        @Override public void close() { }
    }

    @Test
    void aCutOffEndsHangingAndRetryingOperationsAndLaterOnesFailAtOnce() throws Exception {
        RetryingObjectStore hanging = RetryingObjectStore.builder(new Refusing(null)).build();
        RetryingObjectStore failing = RetryingObjectStore.builder(new Refusing(ObjectStoreException.Reason.TRANSIENT)).build();
        try {
            CompletableFuture<?> hung = hanging.get("k");
            CompletableFuture<?> retried = failing.get("k");
            hanging.cutOffAfter(200, "test deadline");
            failing.cutOffAfter(200, "test deadline");
            for (CompletableFuture<?> f : java.util.List.of(hung, retried)) {
                Assertions.assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS))
                        .hasCauseInstanceOf(ObjectStoreException.class).hasMessageContaining("test deadline");
            }
            assertThat(hanging.get("later")).isCompletedExceptionally();
            hanging.clearCutoff();
            assertThat(hanging.get("after-clear")).isNotDone();
        } finally {
            hanging.close();
            failing.close();
        }
    }

    @Test
    void closeCompletesEveryOperationInFlight() {
        RetryingObjectStore hanging = RetryingObjectStore.builder(new Refusing(null)).build();
        CompletableFuture<?> hung = hanging.head("k");
        hanging.close();
        assertThat(hung).isCompletedExceptionally();
    }

    @Test
    void permanentFailuresBecomeStorageAccessAndAreNotRetried() {
        assertThat(StoreCalls.kindOf(new ObjectStoreException(ObjectStoreException.Reason.PERMANENT, "k", "403")))
                .isEqualTo(ErrorKind.STORAGE_ACCESS);
        Refusing denied = new Refusing(ObjectStoreException.Reason.PERMANENT);
        long t0 = System.nanoTime();
        Assertions.assertThatThrownBy(() -> StoreEngine.open(denied, new InMemoryWal(), Clock.systemUTC(),
                        StoreConfig.defaults()))
                .isInstanceOfSatisfying(ShaleException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE_ACCESS);
                    assertThat(e.isRetriable()).isFalse();
                });
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(30_000);
    }

    @Test
    void openWithAHangingStoreFailsAtOpenTimeout() {
        LogStore[] opened = new LogStore[1];
        Assertions.assertThatThrownBy(() -> opened[0] = StoreEngine.open(new Refusing(null), new InMemoryWal(),
                        Clock.systemUTC(), StoreConfig.of(java.util.Map.of(StoreConfig.OPEN_TIMEOUT_MS, 300))))
                .isInstanceOfSatisfying(ShaleException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.UNAVAILABLE);
                    assertThat(e.getMessage()).contains(StoreConfig.OPEN_TIMEOUT_MS);
                });
        assertThat(opened[0]).isNull();
    }
}
