package io.shale.catalog.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.LogStore;
import io.shale.log.TopicPartition;
import io.shale.log.record.SimpleRecord;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import io.shale.storage.local.wal.FileWriteAheadLog;
import io.shale.storage.testkit.PostgresServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;

/**
 * Planned partition moves between two cluster nodes (two {@code LogStore}s in this JVM over one
 * PostgreSQL schema and one local-directory bucket, each with its own file WAL fsyncing every
 * group): the time from the old owner's {@code release} call to the new owner's first acknowledged
 * append, p50/p99 over {@code shale.bench.moves} moves (default 100) after 10 warm-up moves. Before
 * each move the old owner has 20 acknowledged appends not uploaded yet, so each release uploads
 * and commits one object. Command: benchmarks/README.md. No assertion on the times (not a unit test).
 */
@Tag("slow")
@ExtendWith({PostgresServer.Extension.class, ClusterMoveBenchmarkTest.Server.class})
class ClusterMoveBenchmarkTest {
    @TempDir
    Path dir;

    PostgresServer server;
    final List<AutoCloseable> toClose = new ArrayList<>();

    static final class Server implements org.junit.jupiter.api.extension.BeforeEachCallback {
        @Override
        public void beforeEach(ExtensionContext context) {
            ((ClusterMoveBenchmarkTest) context.getRequiredTestInstance()).server = PostgresServer.get(context);
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    @Test
    void plannedMoveFromReleaseToTheNewOwnersFirstAcknowledgedAppend() {
        String schema = TestCatalogs.freshOptions(server).build().schema();
        PostgresClusterNode[] handles = new PostgresClusterNode[2];
        LogStore[] stores = new LogStore[2];
        for (int i = 0; i < 2; i++) {
            handles[i] = PostgresCatalog.clusterNode(TestCatalogs.freshOptions(server).schema(schema).nodeId("node-" + i).build(),
                    Duration.ofSeconds(10));
            stores[i] = LogStore.builder()
                    .objectStore(LocalDirectoryObjectStore.open(dir.resolve("bucket")))
                    .wal(FileWriteAheadLog.builder(dir.resolve("wal-" + i)).build())
                    .catalog(handles[i])
                    .config(Map.of("refresh.interval.ms", 200))
                    .open();
            toClose.add(stores[i]);
        }
        TopicPartition tp = new TopicPartition("moving", 0);
        stores[0].createTopic("moving", 1, Map.of());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (stores[1].describeTopic("moving").isEmpty() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        handles[0].claim(List.of(tp));
        int moves = Integer.getInteger("shale.bench.moves", 100);
        int warmup = 10;
        long[] nanos = new long[moves];
        long expected = 0;
        int owner = 0;
        for (int m = 0; m < warmup + moves; m++) {
            for (int i = 0; i < 20; i++) {
                long offset = append(stores[owner], tp, "m" + m + "-" + i);
                assertThat(offset).isEqualTo(expected++);
            }
            int next = 1 - owner;
            long t0 = System.nanoTime();
            assertThat(handles[owner].release(List.of(tp), Duration.ofSeconds(30))).containsExactly(tp);
            assertThat(handles[next].claim(List.of(tp))).containsOnlyKeys(tp);
            long offset = append(stores[next], tp, "m" + m + "-first");
            long elapsed = System.nanoTime() - t0;
            assertThat(offset).as("no gap and no duplicate after the move").isEqualTo(expected++);
            if (m >= warmup) {
                nanos[m - warmup] = elapsed;
            }
            owner = next;
        }
        Arrays.sort(nanos);
        System.out.printf("planned moves: %d (after %d warm-up), request to the new owner's first acknowledged append:"
                + " p50 %.1f ms, p99 %.1f ms, max %.1f ms%n", moves, warmup, nanos[moves / 2] / 1e6,
                nanos[Math.min(moves - 1, (int) Math.ceil(moves * 0.99) - 1)] / 1e6, nanos[moves - 1] / 1e6);
    }

    private static long append(LogStore store, TopicPartition tp, String value) {
        return store.append(tp, List.of(SimpleRecord.of(null, value.getBytes(StandardCharsets.UTF_8))))
                .orTimeout(30, TimeUnit.SECONDS).join().baseOffset();
    }
}
