package io.shale.log.internal.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.internal.util.StoreCalls;
import io.shale.log.testing.InMemoryObjectStore;
import io.shale.log.testing.MutableClock;
import io.shale.log.testing.SharedObjectStore;
import io.shale.storage.testkit.FaultInjectingObjectStore;
import io.shale.storage.testkit.FaultInjectingObjectStore.Fault;
import io.shale.storage.testkit.FaultInjectingObjectStore.Op;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The manifest catalog when the object store's answer to a commit is lost (the commit landed but
 * the writer saw a failure) or the fence check after a commit fails. Regression tests for what the
 * fault-injection runs of {@code ObjectStoreFaultTest} found; each names what broke.
 *
 * <p>The catalog is used without a retry wrapper here, so every injected failure reaches it as
 * the "outcome unknown" case the retry wrapper leaves behind once its deadline is spent.
 */
class CatalogAmbiguityTest {
    private final MutableClock clock = new MutableClock(1_700_000_000_000L);
    private final InMemoryObjectStore memory = new InMemoryObjectStore(clock);
    private final FaultInjectingObjectStore lostCommits = FaultInjectingObjectStore.builder(new SharedObjectStore(memory))
            .startEnabled(false)
            .onlyKeys(k -> k.startsWith("manifest/deltas/"))
            .rate(Op.PUT_IF_ABSENT, Fault.LOST_RESPONSE, 1.0)
            .build();

    private ObjectStoreCatalog writer(FaultInjectingObjectStore store) {
        ObjectStoreCatalog c = new ObjectStoreCatalog(store, clock, 64, 1_000);
        c.load(null);
        c.claimWriter();
        return c;
    }

    private ManifestState reload() {
        ObjectStoreCatalog reader = new ObjectStoreCatalog(memory, clock, 64, 1_000);
        reader.load(null);
        return reader.state();
    }

    private static ManifestOp createTopic(String name, int id) {
        return new ManifestOp.CreateTopic(name, UUID.nameUUIDFromBytes(name.getBytes()), Map.of(), new int[] {id});
    }

    private static ManifestOp.AddObject addObject(String key, int partition, long base, long next) {
        ObjectMeta o = new ObjectMeta(key, 200, 100, ObjectMeta.KIND_MULTI, 1L);
        return new ManifestOp.AddObject(o, List.of(new RangeRef(o, partition, base, next, 1L, 0, 100, 0, 1, 7)));
    }

    private static ErrorKind kindOf(Runnable r) {
        try {
            r.run();
            return null;
        } catch (ShaleException e) {
            return e.kind();
        }
    }

    @Test
    void repeatOfACommitWhoseLostResponseAnotherCommitResolvedShouldNotApplyItTwice() {
        ObjectStoreCatalog c = writer(lostCommits);
        c.commit(List.of(createTopic("t", 0)), StoreCalls.newToken());

        // The uploader's commit lands but its answer is lost: it keeps the token to repeat it.
        String uploadToken = StoreCalls.newToken();
        lostCommits.startFaults();
        assertThatThrownBy(() -> c.commit(List.of(addObject("data/a", 0, 0, 10)), uploadToken))
                .satisfies(e -> assertThat(((ShaleException) e).kind()).isEqualTo(ErrorKind.UNAVAILABLE));
        lostCommits.stopFaults();

        // Another commit (retention, an admin call) resolves the unknown outcome first...
        kindOf(() -> c.commit(List.of(new ManifestOp.SetLogStart(0, 5)), StoreCalls.newToken()));
        // ...then the uploader repeats its commit with the same token, as the Catalog contract allows.
        ErrorKind repeat = kindOf(() -> c.commit(List.of(addObject("data/a", 0, 0, 10)), uploadToken));

        assertThat(repeat).as("the repeat of a commit that landed").isNotEqualTo(ErrorKind.CORRUPT_STORAGE);
        assertThat(c.isFenced()).as("writer fenced by its own duplicate").isFalse();
        ManifestState reloaded = reload();
        assertThat(reloaded.objects()).containsOnlyKeys("data/a");
        assertThat(reloaded.partition(0).ranges()).hasSize(1);
    }

    @Test
    void commitPlannedBeforeAnUnknownOutcomeWasResolvedShouldNotLeaveTheManifestUnreadable() {
        ObjectStoreCatalog c = writer(lostCommits);
        lostCommits.startFaults();
        assertThatThrownBy(() -> c.commit(List.of(createTopic("t", 0)), StoreCalls.newToken()))
                .isInstanceOf(ShaleException.class);
        lostCommits.stopFaults();

        // The caller validated against the state it saw (no topic "t") and tries again.
        assertThat(c.state().topic("t")).isNull();
        ErrorKind retry = kindOf(() -> c.commit(List.of(createTopic("t", 0)), StoreCalls.newToken()));

        assertThat(retry).as("a retry planned against a stale state").isNotEqualTo(ErrorKind.CORRUPT_STORAGE);
        assertThat(c.state().topic("t")).isNotNull();
        ManifestState reloaded = reload(); // throws CORRUPT_STORAGE if a second CreateTopic "t" was written
        assertThat(reloaded.topics()).containsOnlyKeys("t");
    }

    @Test
    void compactionPlannedBeforeAnUnknownOutcomeWasResolvedShouldNotDuplicateRanges() {
        ObjectStoreCatalog c = writer(lostCommits);
        c.commit(List.of(createTopic("t", 0)), StoreCalls.newToken());
        c.commit(List.of(addObject("data/u1", 0, 0, 10)), StoreCalls.newToken());
        c.commit(List.of(addObject("data/u2", 0, 10, 20)), StoreCalls.newToken());
        List<ManifestOp.RangeId> sources = List.of(new ManifestOp.RangeId("data/u1", 0), new ManifestOp.RangeId("data/u2", 10));

        lostCommits.startFaults();
        assertThatThrownBy(() -> c.commit(List.of(addObject("data/c1", 0, 0, 20),
                new ManifestOp.RemoveRanges(0, sources)), StoreCalls.newToken())).isInstanceOf(ShaleException.class);
        lostCommits.stopFaults();

        // The next compaction run plans from the state it sees: the same sources, another object.
        kindOf(() -> c.commit(List.of(addObject("data/c2", 0, 0, 20), new ManifestOp.RemoveRanges(0, sources)),
                StoreCalls.newToken()));

        RangeRef[] ranges = reload().partition(0).ranges();
        for (int i = 1; i < ranges.length; i++) {
            assertThat(ranges[i].baseOffset()).as("ranges overlap: %s", List.of(ranges))
                    .isGreaterThanOrEqualTo(ranges[i - 1].nextOffset());
        }
    }

    @Test
    void failedFenceCheckAfterACreatedDeltaShouldNotFenceTheWriter() {
        FaultInjectingObjectStore failingFenceCheck = FaultInjectingObjectStore.builder(new SharedObjectStore(memory))
                .startEnabled(false)
                .onlyKeys(k -> k.startsWith("manifest/fence/"))
                .rate(Op.HEAD, Fault.TRANSIENT, 1.0)
                .build();
        ObjectStoreCatalog c = writer(failingFenceCheck);
        c.commit(List.of(createTopic("t", 0)), StoreCalls.newToken());

        String token = StoreCalls.newToken();
        failingFenceCheck.startFaults();
        ErrorKind first = kindOf(() -> c.commit(List.of(addObject("data/a", 0, 0, 10)), token));
        failingFenceCheck.stopFaults();
        assertThat(first).isEqualTo(ErrorKind.UNAVAILABLE);

        // No other writer exists: the next commits must succeed.
        assertThat(kindOf(() -> c.commit(List.of(addObject("data/a", 0, 0, 10)), token))).isNull();
        assertThat(kindOf(() -> c.commit(List.of(addObject("data/b", 0, 10, 20)), StoreCalls.newToken()))).isNull();
        assertThat(c.isFenced()).isFalse();
        assertThat(reload().objects()).containsOnlyKeys("data/a", "data/b");
    }
}
