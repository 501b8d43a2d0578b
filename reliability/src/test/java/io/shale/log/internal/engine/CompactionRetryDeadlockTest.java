package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.StoreConfig;
import io.shale.log.TopicConfig;
import io.shale.log.TopicPartition;
import io.shale.log.spi.ForwardingObjectStore;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.Payload;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Regression: the engine's retry wrapper ran every retry on its one scheduler thread, and a
 * compaction's PUT streams its payload by reading the source objects with blocking GETs. When the
 * PUT was retried, the retry thread itself iterated the payload; a GET failing transiently then
 * scheduled its retry on that same (blocked) thread: the compaction, the maintenance thread and
 * every later retry of the store hung for good. Found by {@code ObjectStoreFaultTest}
 * ("transient"). Here the two failures are scripted: the first PUT of a compacted object fails
 * (without reading the payload), then the first GET made from the retry thread fails.
 */
class CompactionRetryDeadlockTest extends EngineFixture {

    @Test
    void compactionWhosePutIsRetriedShouldNotDeadlockOnItsOwnSourceReads() throws Exception {
        Scripted scripted = new Scripted(objects);
        StoreEngine s = (StoreEngine) StoreEngine.open(scripted, wal, clock, StoreConfig.of(QUIET)
                .with(Map.of(StoreConfig.COMPACTION_MAX_SMALL_OBJECTS, 2, StoreConfig.OBJECT_STORE_RETRY_DEADLINE_MS,
                        10_000)));
        opened.add(s);
        s.createTopic("t", 1, Map.of(TopicConfig.SEGMENT_BYTES, 1024));
        TopicPartition tp = TopicPartition.of("t", 0);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String v = "v" + i + "-" + "x".repeat(400);
            append(s, tp, v);
            expected.add(v);
            s.flush();
        }

        CompletableFuture<Void> compaction = CompletableFuture.runAsync(
                () -> s.maintenance.runNow(s.maintenance::runCompaction));
        try {
            compaction.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("compaction did not finish within 30 s (retry thread deadlocked)", e);
        }
        assertThat(scripted.putFailed.get()).isTrue();
        assertThat(scripted.getFailedOnRetryThread.get()).isTrue();
        assertThat(readAll(s, tp)).isEqualTo(expected);
    }

    /** Fails the first PUT of a compacted object, then the first GET issued from the retry thread. */
    private static final class Scripted extends ForwardingObjectStore {
        final AtomicBoolean putFailed = new AtomicBoolean();
        final AtomicBoolean getFailedOnRetryThread = new AtomicBoolean();

        Scripted(ObjectStore inner) {
            super(inner);
        }

        @Override
        public CompletableFuture<Void> put(String key, Payload payload, String token) {
            if (key.contains("-c") && putFailed.compareAndSet(false, true)) {
                return CompletableFuture.failedFuture(new ObjectStoreException(ObjectStoreException.Reason.TRANSIENT,
                        key, "scripted transient failure of the first compaction PUT"));
            }
            return super.put(key, payload, token);
        }

        @Override
        public CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
            if (Thread.currentThread().getName().startsWith("shale-object-store-retry")
                    && getFailedOnRetryThread.compareAndSet(false, true)) {
                return CompletableFuture.failedFuture(new ObjectStoreException(ObjectStoreException.Reason.TRANSIENT,
                        key, "scripted transient failure of a GET made on the retry thread"));
            }
            return super.get(key, offset, length);
        }

        @Override
        public String describe() {
            return "scripted(" + super.describe() + ")";
        }

        @Override
        public void close() {
            // the in-memory store belongs to the fixture
        }
    }
}
