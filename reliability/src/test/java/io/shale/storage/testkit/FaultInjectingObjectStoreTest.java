package io.shale.storage.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.Payload;
import io.shale.log.testing.InMemoryObjectStore;
import io.shale.storage.testkit.FaultInjectingObjectStore.Fault;
import io.shale.storage.testkit.FaultInjectingObjectStore.Op;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The fault injector itself: each fault does what it says, decisions follow the seed, faults stop on demand. */
class FaultInjectingObjectStoreTest {
    private final InMemoryObjectStore inner = new InMemoryObjectStore();

    private static ObjectStoreException.Reason reasonOf(CompletableFuture<?> f) {
        try {
            f.join();
            return null;
        } catch (CompletionException e) {
            return ObjectStoreException.find(e).reason();
        }
    }

    @Test
    void rejectedWritesShouldNotReachTheInnerStore() {
        for (Fault f : List.of(Fault.TRANSIENT, Fault.THROTTLED, Fault.PERMANENT)) {
            FaultInjectingObjectStore s = FaultInjectingObjectStore.builder(inner).rate(Op.PUT, f, 1.0).build();
            assertThat(reasonOf(s.put("k-" + f, Payload.of(new byte[] {1}), null))).isEqualTo(
                    ObjectStoreException.Reason.valueOf(f.name()));
            assertThat(inner.keys()).doesNotContain("k-" + f);
            assertThat(s.count(f)).isEqualTo(1);
            assertThat(s.count(Op.PUT, f)).isEqualTo(1);
        }
    }

    @Test
    void lostResponseShouldApplyTheWriteAndReportATransientFailure() {
        FaultInjectingObjectStore s = FaultInjectingObjectStore.builder(inner)
                .rate(Op.PUT_IF_ABSENT, Fault.LOST_RESPONSE, 1.0).build();
        assertThat(reasonOf(s.putIfAbsent("k", Payload.of(new byte[] {7}), "tok")))
                .isEqualTo(ObjectStoreException.Reason.TRANSIENT);
        assertThat(inner.bytes("k")).containsExactly(7);
        assertThat(inner.head("k").join().orElseThrow().token()).isEqualTo("tok");
        // the retry that follows learns the object exists
        s.stopFaults();
        assertThat(s.putIfAbsent("k", Payload.of(new byte[] {7}), "tok").join()).isFalse();
        assertThat(s.count(Fault.LOST_RESPONSE)).isEqualTo(1);
    }

    @Test
    void latencyShouldDelayTheResultNotChangeIt() {
        FaultInjectingObjectStore s = FaultInjectingObjectStore.builder(inner).rate(Fault.LATENCY, 1.0)
                .latency(Duration.ofMillis(30)).build();
        s.put("k", Payload.of(new byte[] {1, 2}), null).join();
        assertThat(s.get("k").join().remaining()).isEqualTo(2);
        assertThat(s.count(Fault.LATENCY)).isEqualTo(2);
    }

    @Test
    void staleListingShouldOmitRecentWritesUntilTheyAreOldEnough() {
        AtomicLong now = new AtomicLong();
        FaultInjectingObjectStore s = FaultInjectingObjectStore.builder(inner).rate(Fault.STALE_LIST, 1.0)
                .staleFor(Duration.ofSeconds(1)).nanoClock(now::get).build();
        inner.put("a/old", Payload.of(new byte[1]), null).join();
        s.put("a/new", Payload.of(new byte[1]), null).join();
        ListPage page = s.list("a/", null, 10).join();
        assertThat(page.objects()).extracting(ObjectInfo::key).containsExactly("a/old");
        assertThat(s.count(Fault.STALE_LIST)).isEqualTo(1);
        now.addAndGet(Duration.ofSeconds(2).toNanos());
        assertThat(s.list("a/", null, 10).join().objects()).extracting(ObjectInfo::key).containsExactly("a/new", "a/old");
    }

    @Test
    void theSameSeedShouldGiveTheSameFaultsInTheSameCallOrder() {
        List<List<ObjectStoreException.Reason>> runs = new ArrayList<>();
        for (int run = 0; run < 2; run++) {
            FaultInjectingObjectStore s = FaultInjectingObjectStore.builder(new InMemoryObjectStore()).seed(42)
                    .rate(Fault.TRANSIENT, 0.3).rate(Fault.THROTTLED, 0.2).build();
            List<ObjectStoreException.Reason> outcomes = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                outcomes.add(reasonOf(s.put("k" + i, Payload.of(new byte[1]), null)));
            }
            runs.add(outcomes);
        }
        assertThat(runs.get(0)).isEqualTo(runs.get(1)).contains(ObjectStoreException.Reason.TRANSIENT,
                ObjectStoreException.Reason.THROTTLED, null);
    }

    @Test
    void stoppedFaultsShouldPassEverythingThroughAndOnlyMatchingKeysShouldFail() {
        FaultInjectingObjectStore s = FaultInjectingObjectStore.builder(inner).rate(Fault.PERMANENT, 1.0)
                .onlyKeys(k -> k.startsWith("manifest/")).build();
        s.put("data/x", Payload.of(new byte[1]), null).join();
        assertThat(reasonOf(s.put("manifest/x", Payload.of(new byte[1]), null)))
                .isEqualTo(ObjectStoreException.Reason.PERMANENT);
        s.stopFaults();
        s.put("manifest/x", Payload.of(new byte[1]), null).join();
        assertThat(inner.keys()).containsExactly("data/x", "manifest/x");
        assertThat(s.totalFaults()).isEqualTo(1);
    }

    @Test
    void ratesOutsideZeroToOneShouldBeRejected() {
        assertThatThrownBy(() -> FaultInjectingObjectStore.builder(inner).rate(Fault.TRANSIENT, 1.5))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FaultInjectingObjectStore.builder(inner).rate(Op.PUT, Fault.STALE_LIST, 0.5))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
