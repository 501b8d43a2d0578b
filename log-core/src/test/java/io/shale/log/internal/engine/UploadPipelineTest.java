package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.ErrorKind;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.spi.ForwardingObjectStore;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.Payload;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The upload pipeline: several objects in flight, committed in order, batched, abandoned on failure. */
class UploadPipelineTest extends EngineFixture {

    /** Holds data-object PUTs until released, or fails the next ones. */
    private final class GatedStore extends ForwardingObjectStore {
        final List<CompletableFuture<Void>> held = new ArrayList<>();
        final List<Runnable> release = new ArrayList<>();
        volatile boolean hold;
        final AtomicInteger failNext = new AtomicInteger();

        GatedStore() {
            super(objects);
        }

        @Override
        public synchronized CompletableFuture<Void> put(String key, Payload payload, String token) {
            if (!key.startsWith("data/")) {
                return objects.put(key, payload, token);
            }
            if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                return CompletableFuture.failedFuture(new ObjectStoreException(
                        ObjectStoreException.Reason.PERMANENT, key, "injected PUT failure of " + key));
            }
            if (!hold) {
                return objects.put(key, payload, token);
            }
            CompletableFuture<Void> f = new CompletableFuture<>();
            held.add(f);
            release.add(() -> objects.put(key, payload, token).whenComplete((v, e) -> f.complete(null)));
            return f;
        }

        /** Completes the held PUTs, the oldest last: when the head is done, all behind it are too. */
        synchronized void releaseAll() {
            hold = false;
            List<Runnable> r = new ArrayList<>(release);
            release.clear();
            java.util.Collections.reverse(r);
            r.forEach(Runnable::run);
        }

        @Override
        public void close() {
            // the in-memory store outlives the store instances of the test
        }
    }

    private final GatedStore gated = new GatedStore();

    private StoreEngine openGated(Map<String, ?> settings) {
        StoreEngine s = (StoreEngine) StoreEngine.open(gated, wal, clock,
                StoreConfig.of(QUIET).with(StoreConfig.OBJECT_STORE_RETRY_DEADLINE_MS, 0).with(settings));
        opened.add(s);
        return s;
    }

    private long deltas() {
        return objects.keys().stream().filter(k -> k.startsWith("manifest/deltas/")).count();
    }

    @Test
    void uploadsWrittenTogetherShouldBeCommittedInOneDeltaInOrder() throws Exception {
        StoreEngine s = openGated(Map.of(StoreConfig.UPLOAD_MAX_BYTES, 2048, StoreConfig.UPLOAD_MAX_IN_FLIGHT, 4));
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        for (int i = 0; i < 8; i++) {
            append(s, tp, "v" + i + "-" + "x".repeat(900));
        }
        gated.hold = true;
        long deltasBefore = deltas();
        CompletableFuture<Void> flush = CompletableFuture.runAsync(s::flush);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (gated.release.size() < 4 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(gated.release).as("four uploads in flight at once").hasSize(4);
        gated.releaseAll();
        flush.join();
        assertThat(dataObjects()).isGreaterThanOrEqualTo(4);
        assertThat(deltas() - deltasBefore).as("one manifest delta for the four objects").isEqualTo(1);
        s.close();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            expected.add("v" + i + "-" + "x".repeat(900));
        }
        assertThat(readAll(open(), tp)).isEqualTo(expected);
    }

    @Test
    void aFailedPutShouldAbandonThePipelineAndTheDataShouldBeUploadedAgainOnce() {
        StoreEngine s = openGated(Map.of());
        s.createTopic("t", 2);
        TopicPartition tp = TopicPartition.of("t", 0);
        append(s, tp, "a", "b");
        gated.failNext.set(1);
        assertKind(s::flush, ErrorKind.STORAGE_ACCESS); // the injected failure is PERMANENT
        assertThat(s.partition(tp).meta.ranges()).isEmpty();
        append(s, tp, "c");
        s.flush();
        assertThat(s.partition(tp).meta.ranges()).hasSize(1);
        s.close();
        assertThat(readAll(open(), tp)).containsExactly("a", "b", "c");
    }
}
