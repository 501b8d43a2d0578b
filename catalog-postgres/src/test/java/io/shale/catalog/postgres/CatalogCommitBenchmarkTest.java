package io.shale.catalog.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.internal.manifest.ManifestOp;
import io.shale.log.internal.manifest.ObjectMeta;
import io.shale.log.internal.manifest.RangeRef;
import io.shale.storage.testkit.PostgresServer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Measurement, not a check of speed: catalog commits per second and commit latency with 1, 3 and
 * 10 concurrent committers, each committing small multi-partition objects (one AddObject of 4
 * partition runs out of its 16 partitions, as an upload does) back to back, on both commit paths:
 * <ul>
 *   <li>{@code single-writer}: each committer a separate store (its own schema, catalog and pool),
 *       fenced and serialized on its store row;
 *   <li>{@code partition-epoch}: the committers are nodes of ONE cluster store ({@link ClusterNode},
 *       a pool of 2 each plus a connection for lease renewals), each owning 16 partitions under leases and
 *       committing fenced on their epochs, with no store-wide row.
 * </ul>
 * Prints one table; asserts only that every commit landed.
 *
 * <pre>
 * mvn -pl catalog-postgres test -Dtest=CatalogCommitBenchmarkTest -Dgroups=slow -Dsurefire.excludedGroups=known-issue \
 *     -Dshale.bench.seconds=10
 * </pre>
 */
@Tag("slow")
@ExtendWith({PostgresServer.Extension.class, CatalogCommitBenchmarkTest.Server.class})
class CatalogCommitBenchmarkTest {
    private PostgresServer server;

    static final class Server implements org.junit.jupiter.api.extension.BeforeEachCallback {
        @Override
        public void beforeEach(ExtensionContext context) {
            ((CatalogCommitBenchmarkTest) context.getRequiredTestInstance()).server = PostgresServer.get(context);
        }
    }

    @Test
    void commitsPerSecondAndLatencyWithOneThreeAndTenCommitters() throws Exception {
        long seconds = Long.getLong("shale.bench.seconds", 5);
        StringBuilder table = new StringBuilder(String.format("%n%-16s %-11s %10s %12s %9s %9s %9s%n",
                "path", "committers", "commits", "commits/s", "p50 ms", "p99 ms", "max ms"));
        for (boolean cluster : new boolean[] {false, true}) {
            for (int committers : new int[] {1, 3, 10}) {
                Result r = cluster ? runCluster(committers, seconds) : run(committers, seconds);
                table.append(String.format("%-16s %-11d %10d %12.0f %9.2f %9.2f %9.2f%n",
                        cluster ? "partition-epoch" : "single-writer", committers, r.commits,
                        r.commits / (double) seconds, r.percentile(0.50), r.percentile(0.99), r.percentile(1.0)));
            }
        }
        System.out.println(table);
    }

    /**
     * The catalog's share of a planned move, 100 times: the old owner commits its last upload of the
     * partition together with the release (one transaction), then the new owner claims it (epoch + 1).
     * The engine's share (the upload PUT, stopping and starting appends) and the clients' metadata
     * refresh come on top.
     */
    @Test
    void catalogShareOfPlannedPartitionMoves() throws Exception {
        PostgresCatalogOptions.Builder store = TestCatalogs.freshOptions(server).poolSize(2);
        java.util.Queue<String> losses = new java.util.concurrent.ConcurrentLinkedQueue<>();
        try (ClusterNode a = ClusterNode.register(store.nodeId("a").build(), java.time.Duration.ofSeconds(10),
                        (lost, why) -> losses.add(lost + ": " + why));
                ClusterNode b = ClusterNode.register(store.nodeId("b").build(), java.time.Duration.ofSeconds(10),
                        (lost, why) -> losses.add(lost + ": " + why))) {
            a.createTopic("t", 16, Map.of());
            List<Integer> all = new ArrayList<>();
            for (int p = 0; p < 16; p++) {
                all.add(p);
            }
            assertThat(a.claim(all)).hasSize(16);
            ClusterNode[] nodes = {a, b};
            long[] next = new long[16];
            int moves = 100;
            long[] nanos = new long[moves];
            for (int i = 0; i < moves + 10; i++) {
                int partition = i % 16;
                ClusterNode from = nodes[(i / 16) % 2];
                ClusterNode to = nodes[(i / 16 + 1) % 2];
                ObjectMeta o = new ObjectMeta("data/move-" + i, 4_096, 4_000, ObjectMeta.KIND_MULTI, i);
                var last = new ManifestOp.AddObject(o, List.of(new RangeRef(o, partition, next[partition],
                        next[partition] + 10, i, 0, 1_000, 0, 1, 0)));
                next[partition] += 10;
                long t0 = System.nanoTime();
                from.commit(List.of(last), List.of(partition));
                assertThat(to.claim(List.of(partition))).hasSize(1);
                long t1 = System.nanoTime();
                if (i >= 10) { // the first ten warm up
                    nanos[i - 10] = t1 - t0;
                }
            }
            assertThat(losses).isEmpty();
            Arrays.sort(nanos);
            Result r = new Result(moves, nanos);
            System.out.printf("%nplanned moves (commit of the last upload with the release, then the claim): %d,"
                    + " p50 %.2f ms, p99 %.2f ms, max %.2f ms%n", moves, r.percentile(0.5), r.percentile(0.99),
                    r.percentile(1.0));
        }
    }

    /** What one committer does per commit: commit an object of committer n, sequence seq. */
    @FunctionalInterface
    private interface Committer {
        void commit(int n, long seq);
    }

    private record Result(long commits, long[] nanos) {
        double percentile(double q) {
            if (nanos.length == 0) {
                return Double.NaN;
            }
            int i = (int) Math.min(nanos.length - 1, Math.ceil(q * nanos.length) - 1);
            return nanos[Math.max(0, i)] / 1e6;
        }
    }

    /** The single-writer path: one store per committer. */
    private Result run(int committers, long seconds) throws Exception {
        List<PgCatalog> catalogs = new ArrayList<>();
        try {
            for (int i = 0; i < committers; i++) {
                PgCatalog c = PgCatalog.open(TestCatalogs.freshOptions(server).poolSize(2).build(), Clock.systemUTC(), false);
                catalogs.add(c);
                c.load(null);
                c.claimWriter();
                int[] ids = new int[16];
                Arrays.setAll(ids, p -> p);
                c.commit(List.of(new ManifestOp.CreateTopic("t", UUID.randomUUID(), Map.of(), ids)), "create");
            }
            long[][] next = new long[committers][16];
            return measure(committers, seconds,
                    (n, seq) -> catalogs.get(n).commit(List.of(object(n, seq, next[n], 0)), "c" + seq));
        } finally {
            catalogs.forEach(PgCatalog::close);
        }
    }

    /** The partition-epoch path: one cluster store, each committer a node owning 16 partitions. */
    private Result runCluster(int committers, long seconds) throws Exception {
        List<ClusterNode> nodes = new ArrayList<>();
        java.util.Queue<String> losses = new java.util.concurrent.ConcurrentLinkedQueue<>();
        try {
            PostgresCatalogOptions.Builder store = TestCatalogs.freshOptions(server).poolSize(2);
            for (int i = 0; i < committers; i++) {
                nodes.add(ClusterNode.register(store.nodeId("node-" + i).build(), java.time.Duration.ofSeconds(10),
                        (lost, why) -> losses.add(lost + ": " + why)));
            }
            nodes.get(0).createTopic("t", 16 * committers, Map.of());
            for (int i = 0; i < committers; i++) {
                List<Integer> mine = new ArrayList<>();
                for (int p = 0; p < 16; p++) {
                    mine.add(16 * i + p);
                }
                assertThat(nodes.get(i).claim(mine)).hasSize(16);
            }
            long[][] next = new long[committers][16];
            Result r = measure(committers, seconds,
                    (n, seq) -> nodes.get(n).commit(List.of(object(n, seq, next[n], 16 * n))));
            assertThat(losses).as("no node lost a partition").isEmpty();
            return r;
        } finally {
            nodes.forEach(ClusterNode::close);
        }
    }

    private Result measure(int committers, long seconds, Committer committer) throws Exception {
        long[][] latencies = new long[committers][];
        int[] counts = new int[committers];
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < committers; i++) {
            int n = i;
            Thread t = new Thread(() -> {
                long[] lat = new long[1 << 20];
                int k = 0;
                try {
                    start.await();
                    long warmEnd = System.nanoTime() + 1_000_000_000L;
                    long end = warmEnd + seconds * 1_000_000_000L;
                    for (long seq = 0; ; seq++) {
                        long t0 = System.nanoTime();
                        if (t0 >= end) {
                            break;
                        }
                        committer.commit(n, seq);
                        long t1 = System.nanoTime();
                        if (t0 >= warmEnd && k < lat.length) {
                            lat[k++] = t1 - t0;
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                latencies[n] = Arrays.copyOf(lat, k);
                counts[n] = k;
            }, "committer-" + i);
            threads.add(t);
            t.start();
        }
        start.countDown();
        for (Thread t : threads) {
            t.join(seconds * 1000 + 120_000);
            assertThat(t.isAlive()).as("committer finished").isFalse();
        }
        long total = 0;
        List<Long> all = new ArrayList<>();
        for (int i = 0; i < committers; i++) {
            assertThat(latencies[i]).as("committer %d measured", i).isNotNull();
            total += counts[i];
            for (long l : latencies[i]) {
                all.add(l);
            }
        }
        long[] sorted = all.stream().mapToLong(Long::longValue).sorted().toArray();
        return new Result(total, sorted);
    }

    /**
     * An upload's commit: one object holding 4 runs of 10 records, of 4 of the committer's 16
     * partitions (ids {@code firstId} to {@code firstId + 15}).
     */
    private static ManifestOp.AddObject object(int committer, long seq, long[] next, int firstId) {
        ObjectMeta o = new ObjectMeta("data/" + committer + "-" + seq, 4_096, 4_000, ObjectMeta.KIND_MULTI, seq);
        List<RangeRef> ranges = new ArrayList<>();
        int first = ThreadLocalRandom.current().nextInt(16);
        for (int i = 0; i < 4; i++) {
            int p = (first + i * 4) % 16;
            ranges.add(new RangeRef(o, firstId + p, next[p], next[p] + 10, seq, i * 1_000L, 1_000, i, 1, 0));
            next[p] += 10;
        }
        return new ManifestOp.AddObject(o, ranges);
    }
}
