package io.shale.log.internal.objectstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.metrics.StoreMetrics;
import io.shale.log.metrics.StoreMetrics.Outcome;
import io.shale.log.metrics.StoreMetrics.RequestKind;
import io.shale.log.spi.ForwardingObjectStore;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.ObjectStoreException.Reason;
import io.shale.log.spi.Payload;
import io.shale.log.testing.InMemoryObjectStore;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class MeteredObjectStoreTest {
    record Event(RequestKind kind, Outcome outcome, long bytes) {
    }

    private final List<Event> events = new CopyOnWriteArrayList<>();
    private final StoreMetrics metrics = new StoreMetrics() {
        @Override
        public void objectStoreRequest(RequestKind kind, Outcome outcome, long bytes, long nanos) {
            assertThat(nanos).isNotNegative();
            events.add(new Event(kind, outcome, bytes));
        }
    };

    /** Fails GETs of keys named after a reason ("THROTTLED", ...) with that reason. */
    private final InMemoryObjectStore inner = new InMemoryObjectStore();
    private final MeteredObjectStore store = new MeteredObjectStore(new ForwardingObjectStore(inner) {
        @Override
        public CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
            for (Reason r : Reason.values()) {
                if (key.equals(r.name())) {
                    return CompletableFuture.failedFuture(new ObjectStoreException(r, key, "scripted " + r));
                }
            }
            if (key.equals("boom")) {
                throw new IllegalArgumentException("bad key");
            }
            return super.get(key, offset, length);
        }
    }, metrics);

    @Test
    void eachRequestShouldBeReportedWithItsKindOutcomeAndBytes() {
        store.put("a", Payload.of(new byte[10]), null).join();
        assertThat(store.putIfAbsent("a", Payload.of(new byte[3]), "t1").join()).isFalse();
        assertThat(store.putIfAbsent("b", Payload.of(new byte[4]), "t2").join()).isTrue();
        assertThat(store.get("a", 2, 5).join().remaining()).isEqualTo(5);
        assertThat(store.head("a").join()).isPresent();
        assertThat(store.head("missing").join()).isEmpty();
        store.list("", null, 10).join();
        store.delete(List.of("a")).join();
        for (Reason r : Reason.values()) {
            assertThat(store.get(r.name(), 0, -1)).isCompletedExceptionally();
        }
        assertThatThrownBy(() -> store.get("boom", 0, -1)).isInstanceOf(IllegalArgumentException.class);

        assertThat(events).containsExactly(
                new Event(RequestKind.PUT, Outcome.OK, 10),
                new Event(RequestKind.PUT_IF_ABSENT, Outcome.ALREADY_EXISTS, 3),
                new Event(RequestKind.PUT_IF_ABSENT, Outcome.OK, 4),
                new Event(RequestKind.GET, Outcome.OK, 5),
                new Event(RequestKind.HEAD, Outcome.OK, 0),
                new Event(RequestKind.HEAD, Outcome.NOT_FOUND, 0),
                new Event(RequestKind.LIST, Outcome.OK, 0),
                new Event(RequestKind.DELETE, Outcome.OK, 0),
                new Event(RequestKind.GET, Outcome.NOT_FOUND, 0),
                new Event(RequestKind.GET, Outcome.THROTTLED, 0),
                new Event(RequestKind.GET, Outcome.TRANSIENT, 0),
                new Event(RequestKind.GET, Outcome.PERMANENT, 0),
                new Event(RequestKind.GET, Outcome.CORRUPT, 0),
                new Event(RequestKind.GET, Outcome.ERROR, 0));
    }
}
