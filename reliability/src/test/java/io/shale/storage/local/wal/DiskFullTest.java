package io.shale.storage.local.wal;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.AppendResult;
import io.shale.log.ErrorKind;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.ShaleException;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.record.Record;
import io.shale.log.record.SimpleRecord;
import io.shale.log.testing.InMemoryObjectStore;
import io.shale.reliability.support.SimpleWalContext;
import io.shale.reliability.support.TestEntry;
import io.shale.storage.local.LocalStorage;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full disk under the file WAL, injected through its channel-factory seam (a tmpfs of limited
 * size would need root and is not CI material): while the disk is full, appends fail with
 * UNAVAILABLE naming the WAL file, and nothing they wrote is ever served; once space returns the
 * store continues at the next offset, and everything acknowledged before, during and after the
 * episode is readable, also after a restart.
 */
class DiskFullTest {
    private static final Map<String, Object> QUIET = Map.of(StoreConfig.UPLOAD_INTERVAL_MS, 3_600_000,
            StoreConfig.UPLOAD_BYTES, 1 << 30, StoreConfig.COMPACTION_INTERVAL_MS, 3_600_000);

    @TempDir
    Path dir;

    private LogStore open(ChannelFactory channels) {
        FileWriteAheadLog wal = FileWriteAheadLog.builder(dir.resolve(LocalStorage.WAL_DIR)).segmentBytes(64 << 10)
                .spareSegments(1).channelFactory(channels).build();
        return LogStore.builder().objectStore(LocalDirectoryObjectStore.open(dir.resolve(LocalStorage.OBJECTS_DIR)))
                .wal(wal).config(QUIET).open();
    }

    private static String v(String tag, int i) {
        return tag + i + "-" + "z".repeat(200);
    }

    private static List<String> readAll(LogStore s, TopicPartition tp) {
        List<String> out = new ArrayList<>();
        long offset = s.logStartOffset(tp);
        while (offset < s.highWatermark(tp)) {
            FetchResult f = s.read(tp, offset, 1 << 20);
            for (Record r : f.records()) {
                out.add(StandardCharsets.UTF_8.decode(r.value().duplicate()).toString());
            }
            offset = f.nextOffset();
        }
        return out;
    }

    @Test
    @Timeout(120)
    void appendsShouldFailNamingTheWalFileWhileTheDiskIsFullAndTheStoreContinueWhenSpaceReturns() throws Exception {
        DiskFullChannels disk = new DiskFullChannels();
        TopicPartition tp = TopicPartition.of("t", 0);
        List<String> acked = new ArrayList<>();
        try (LogStore s = open(disk)) {
            s.createTopic("t", 1);
            for (int i = 0; i < 50; i++) {
                s.append(tp, List.of(SimpleRecord.of("k", v("a", i)))).get(10, TimeUnit.SECONDS);
                acked.add(v("a", i));
            }

            disk.full = true;
            List<CompletableFuture<AppendResult>> during = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                during.add(s.append(tp, List.of(SimpleRecord.of("k", v("lost", i)))));
            }
            for (CompletableFuture<AppendResult> f : during) {
                try {
                    f.get(10, TimeUnit.SECONDS);
                    throw new AssertionError("an append succeeded while the disk was full");
                } catch (ExecutionException e) {
                    ShaleException se = ShaleException.unwrap(e);
                    assertThat(se).isNotNull();
                    assertThat(se.kind()).isEqualTo(ErrorKind.UNAVAILABLE);
                    assertThat(se.getMessage()).contains(dir.resolve(LocalStorage.WAL_DIR).toString())
                            .contains("No space left on device");
                }
            }
            assertThat(disk.failures.get()).isPositive();
            assertThat(s.highWatermark(tp)).as("nothing of the failed appends is visible").isEqualTo(acked.size());

            disk.full = false;
            // the WAL moves to a fresh segment; the first append after the episode may still see it end
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (true) {
                try {
                    AppendResult r = s.append(tp, List.of(SimpleRecord.of("k", v("b", 0)))).get(10, TimeUnit.SECONDS);
                    assertThat(r.baseOffset()).as("the next offset after the acknowledged ones").isEqualTo(acked.size());
                    acked.add(v("b", 0));
                    break;
                } catch (ExecutionException e) {
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("the store did not continue after space returned", e);
                    }
                    Thread.sleep(50);
                }
            }
            for (int i = 1; i < 40; i++) {
                s.append(tp, List.of(SimpleRecord.of("k", v("b", i)))).get(10, TimeUnit.SECONDS);
                acked.add(v("b", i));
            }
            assertThat(readAll(s, tp)).isEqualTo(acked);
        }
        try (LogStore again = open(ChannelFactory.DEFAULT)) {
            assertThat(readAll(again, tp)).as("after a restart").isEqualTo(acked);
        }
    }

    @Test
    @Timeout(120)
    void walReplayAfterADiskFullEpisodeShouldDeliverExactlyTheDurableEntries() throws Exception {
        DiskFullChannels disk = new DiskFullChannels();
        Path walDir = dir.resolve("wal-only");
        List<Long> durable = new ArrayList<>();
        try (SimpleWalContext ctx = new SimpleWalContext(1, new InMemoryObjectStore())) {
            FileWriteAheadLog wal = FileWriteAheadLog.builder(walDir).segmentBytes(64 << 10).spareSegments(1)
                    .channelFactory(disk).build();
            wal.open(ctx);
            wal.replay((s, i, o, p) -> {
            });
            int failed = 0;
            for (int round = 0; round < 3; round++) {
                disk.full = round == 1;
                for (int i = 0; i < 100; i++) {
                    TestEntry e = new TestEntry(round, i, v("r" + round + "-", i).getBytes(StandardCharsets.UTF_8));
                    long seq = wal.append(e);
                    try {
                        e.done.get(10, TimeUnit.SECONDS);
                        durable.add(seq);
                    } catch (ExecutionException ex) {
                        failed++;
                        assertThat(ShaleException.unwrap(ex).getMessage()).contains(walDir.toString());
                    }
                }
            }
            wal.close();
            assertThat(failed).as("appends that failed while the disk was full").isGreaterThanOrEqualTo(100);
        }
        List<Long> replayed = new ArrayList<>();
        try (SimpleWalContext ctx = new SimpleWalContext(2, new InMemoryObjectStore())) {
            FileWriteAheadLog wal = FileWriteAheadLog.builder(walDir).segmentBytes(64 << 10).build();
            wal.open(ctx);
            wal.replay((seq, stream, base, p) -> {
                replayed.add(seq);
                ByteBuffer copy = p.duplicate();
                String s = StandardCharsets.UTF_8.decode(copy).toString();
                assertThat(s).isEqualTo(v("r" + stream + "-", (int) base));
            });
            wal.close();
        }
        assertThat(replayed).isEqualTo(durable);
    }
}
