package io.shale.log.internal.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.spi.ForwardingObjectStore;
import io.shale.log.spi.ListPage;
import io.shale.log.testing.InMemoryObjectStore;
import io.shale.log.testing.MutableClock;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * A claimer whose manifest view is stale can win create-if-absent for a delta number that was
 * used and then garbage-collected; it must notice the snapshot covering that number and claim
 * again on the real history. The check lists snapshots after its number, and the SPI lets a store
 * return empty pages before the last: regression (issue 9, item 8) for a check that read only the
 * first page (a forked manifest the readers never see).
 */
class ClaimAfterCollectionTest {
    private final MutableClock clock = new MutableClock(1_700_000_000_000L);
    private final InMemoryObjectStore memory = new InMemoryObjectStore(clock);

    /** The first listing page of each (prefix, startAfter) is empty, as the SPI allows. */
    private final ForwardingObjectStore emptyFirstPages = new ForwardingObjectStore(memory) {
        private final Set<String> seen = new HashSet<>();

        @Override
        public CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys) {
            String key = prefix + "|" + startAfter;
            synchronized (seen) {
                if (seen.add(key)) {
                    return CompletableFuture.completedFuture(new ListPage(List.of(),
                            startAfter == null ? prefix : startAfter));
                }
            }
            return memory.list(prefix, startAfter, maxKeys);
        }
    };

    @Test
    void aClaimOnACollectedNumberShouldBeNoticedThroughEmptyListingPages() {
        ObjectStoreCatalog writer = new ObjectStoreCatalog(memory, clock, 2, 1_000);
        writer.load(null);
        long first = writer.claimWriter();
        commit(writer, "a");
        commit(writer, "b");

        ObjectStoreCatalog stale = new ObjectStoreCatalog(emptyFirstPages, clock, 2, 1_000);
        stale.load(null); // sees the history up to here

        commit(writer, "c");
        commit(writer, "d");
        writer.maintain(); // snapshot at the current version
        clock.advance(5_000);
        writer.maintain(); // deletes the deltas the snapshot covers: their numbers are free again
        assertThat(memory.keys()).noneMatch(k -> k.equals(ObjectStoreCatalog.deltaKey(stale.state().version() + 1)));

        long claimed = stale.claimWriter();

        ObjectStoreCatalog fresh = new ObjectStoreCatalog(memory, clock, 2, 1_000);
        fresh.load(null);
        assertThat(claimed).isGreaterThan(first);
        assertThat(fresh.state().writerEpoch()).as("the claim is part of the history readers load").isEqualTo(claimed);
        assertThat(fresh.state().topics()).containsKeys("a", "b", "c", "d");
    }

    private static void commit(ObjectStoreCatalog c, String topic) {
        int id = c.state().nextPartitionId();
        c.commit(List.of(new ManifestOp.CreateTopic(topic, UUID.randomUUID(), Map.of(), new int[] {id})),
                io.shale.log.internal.util.StoreCalls.newToken());
    }
}
