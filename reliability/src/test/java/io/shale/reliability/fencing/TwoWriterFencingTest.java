package io.shale.reliability.fencing;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.LogStore;
import io.shale.log.TopicPartition;
import io.shale.log.spi.ObjectStore;
import io.shale.reliability.crash.AckVerifier;
import io.shale.reliability.crash.AckVerifier.Ack;
import io.shale.reliability.crash.CrashLog;
import io.shale.reliability.support.ChildJvm;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import io.shale.storage.s3.S3ObjectStore;
import io.shale.storage.s3.S3ProxyServer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two processes open the same store for writing. The first (A) writes; the second (B) opens,
 * claiming a newer epoch, and writes too. A must be fenced (its appends fail with FENCED and it
 * stops), no append B acknowledged may be lost, and the store must stay consistent (contiguous
 * offsets, every record one that A or B appended, none twice).
 *
 * <p>With the object WAL (local-directory bucket, and S3 through an in-process S3Proxy), A's WAL
 * lives in the shared bucket: B replays it when it opens, and A checks that it is not fenced before
 * acknowledging, so every append A acknowledged must survive as well. With a file WAL per process
 * that cannot hold: what A acknowledged but had not uploaded when B claimed the store stays in A's
 * WAL directory, which B never reads (the documented hand-over needs a flush or the object WAL);
 * the test reports how many such acknowledgements exist.
 */
class TwoWriterFencingTest {
    private static final int PARTITIONS = 4;
    private static final int PRODUCER_A = 10;
    private static final int PRODUCER_B = 20;

    @TempDir
    Path dir;

    @Test
    @Timeout(180)
    void olderWriterWithAFileWalShouldBeFencedAndLoseNothingOfTheNewer() throws Exception {
        Path bucket = dir.resolve("objects");
        run("file", bucket.toString(), () -> LocalDirectoryObjectStore.open(bucket), false);
    }

    @Test
    @Timeout(180)
    void olderWriterWithTheObjectWalShouldBeFencedAndNoAcknowledgedAppendOfEitherLost() throws Exception {
        Path bucket = dir.resolve("objects");
        run("object", bucket.toString(), () -> LocalDirectoryObjectStore.open(bucket), true);
    }

    /** The object WAL writing data objects the store commits (RFC 0006): the older writer holds uncommitted ones. */
    @Test
    @Timeout(180)
    void olderWriterWithTheObjectWalWritingDataObjectsShouldBeFencedAndNoAcknowledgedAppendOfEitherLost()
            throws Exception {
        Path bucket = dir.resolve("objects");
        run("object-data", bucket.toString(), () -> LocalDirectoryObjectStore.open(bucket), true);
    }

    /** Over S3 (in-process S3Proxy, object WAL); slow: about 45 s. */
    @Test
    @Tag("slow")
    @Timeout(300)
    void olderWriterOverS3ShouldBeFencedAndNoAcknowledgedAppendOfEitherLost() throws Exception {
        try (S3ProxyServer s3 = S3ProxyServer.start()) {
            s3.createBucket("shale");
            String spec = s3.endpoint() + ",shale," + s3.accessKey() + "," + s3.secretKey();
            run("s3", spec, () -> S3ObjectStore.create(s3.options("shale", "fencing/").build()), true);
        }
    }

    /** Child stderr goes to target/ so that it survives the test's temporary directory. */
    private static Path logs(String wal, String child) throws java.io.IOException {
        Path d = Path.of("target", "fencing-logs");
        java.nio.file.Files.createDirectories(d);
        return d.resolve(wal + "-" + child + ".err");
    }

    interface StoreFactory {
        ObjectStore open();
    }

    private void run(String wal, String bucket, StoreFactory objects, boolean everyAckSurvives) throws Exception {
        long seed = ThreadLocalRandom.current().nextLong();
        String ctx = wal + " WAL, seed " + seed;
        ChildJvm a = ChildJvm.start(WriterChild.class, List.of(), List.of(wal, bucket, dir.resolve("wal-a").toString(),
                Integer.toString(PRODUCER_A), Long.toString(seed), Integer.toString(PARTITIONS), "60000"),
                logs(wal, "a"));
        a.awaitReady(60);
        long waitUntil = System.nanoTime() + 20_000_000_000L;
        while (a.count("A ") < 200 && System.nanoTime() < waitUntil && a.isAlive()) {
            Thread.sleep(20);
        }
        assertThat(a.count("A ")).as(ctx + ": A acknowledged appends before B opened").isPositive();

        ChildJvm b = ChildJvm.start(WriterChild.class, List.of(), List.of(wal, bucket, dir.resolve("wal-b").toString(),
                Integer.toString(PRODUCER_B), Long.toString(seed + 1), Integer.toString(PARTITIONS), "3000"),
                logs(wal, "b"));
        long bStarted = System.nanoTime();
        b.awaitReady(60);
        String timeline = String.format("B ready after %d ms, when A had %d acknowledgements",
                (System.nanoTime() - bStarted) / 1_000_000, a.count("A "));
        int exitA = a.awaitExit(60); // A stops once it learns it is fenced
        int exitB = b.awaitExit(60);
        assertThat(exitA).as(ctx + ": A's exit status; see " + a.stderr).isZero();
        assertThat(exitB).as(ctx + ": B's exit status; see " + b.stderr).isZero();
        assertThat(a.lines()).as(ctx + ": A's appends failed as FENCED (" + timeline + ", " + a.count("A ")
                + " in all; A's log: " + a.stderr + ")").anyMatch(l -> l.startsWith("F FENCED "));
        assertThat(b.lines()).as(ctx + ": B was not fenced").noneMatch(l -> l.startsWith("F FENCED "));

        Map<Integer, NavigableMap<Long, Ack>> ackA = acks(a.lines());
        Map<Integer, NavigableMap<Long, Ack>> ackB = acks(b.lines());
        assertThat(ackB.values().stream().mapToInt(Map::size).sum()).as(ctx + ": B acknowledged appends").isPositive();

        long lostA = 0;
        try (LogStore store = LogStore.builder().objectStore(objects.open()).readOnly(true).open()) {
            for (int p = 0; p < PARTITIONS; p++) {
                TopicPartition tp = new TopicPartition(CrashLog.TOPIC, p);
                NavigableMap<Long, Ack> mine = new TreeMap<>(ackB.getOrDefault(p, new TreeMap<>()));
                NavigableMap<Long, Ack> fromA = ackA.getOrDefault(p, new TreeMap<>());
                if (everyAckSurvives) {
                    for (Ack x : fromA.values()) {
                        Map.Entry<Long, Ack> clash = mine.floorEntry(x.last());
                        assertThat(clash == null || clash.getValue().last() < x.base())
                                .as(ctx + ": %s offsets %d..%d were acknowledged to both writers", tp, x.base(), x.last())
                                .isTrue();
                        mine.put(x.base(), x);
                    }
                }
                AckVerifier.verify(store, tp, mine, 200,
                        producer -> producer >= PRODUCER_A && producer < PRODUCER_A + 2
                                || producer >= PRODUCER_B && producer < PRODUCER_B + 2);
                if (!everyAckSurvives) {
                    lostA += AckVerifier.countMissing(store, tp, fromA, 200, producer -> true);
                }
            }
        }
        // The bound on a fenced writer: B's claim came before B reported READY, and A acknowledges
        // nothing more than writer.lease.ms after that claim (the object WAL: nothing after it at all,
        // but an acknowledgement being printed may still trail B's READY by a little).
        long bReady = readyMillis(b.lines());
        long latestA = a.lines().stream().mapToLong(TwoWriterFencingTest::ackMillis).max().orElse(0);
        long afterB = a.lines().stream().filter(l -> ackMillis(l) > bReady).count();
        assertThat(latestA).as(ctx + ": A's last acknowledgement (%d) vs B's claim (before %d) + writer.lease.ms (%d)",
                latestA, bReady, WriterChild.LEASE_MS).isLessThanOrEqualTo(bReady + WriterChild.LEASE_MS);
        System.out.printf("%s: A acknowledged %d appends, B %d; A's appends failed %s; A acknowledgements not in the"
                + " store (file WAL only): %d; A acknowledged %d appends after B was open, the last %d ms after"
                + " (bound: writer.lease.ms = %d)%n", ctx, a.count("A "), b.count("A "),
                a.lines().stream().filter(l -> l.startsWith("F ")).toList(), lostA, afterB,
                Math.max(0, latestA - bReady), WriterChild.LEASE_MS);
    }

    private static long readyMillis(List<String> lines) {
        return lines.stream().filter(l -> l.startsWith("READY ")).mapToLong(l -> Long.parseLong(l.substring(6)))
                .findFirst().orElseThrow(() -> new AssertionError("no READY line"));
    }

    /** The acknowledgement time of an "A ..." line, or 0. */
    private static long ackMillis(String line) {
        String[] f = line.split(" ");
        return f.length == 6 && f[0].equals("A") ? Long.parseLong(f[5]) : 0;
    }

    private static Map<Integer, NavigableMap<Long, Ack>> acks(List<String> lines) {
        Map<Integer, NavigableMap<Long, Ack>> out = new HashMap<>();
        for (String l : lines) {
            Ack a = Ack.parse(l, 0);
            if (a != null) {
                out.computeIfAbsent(a.partition(), k -> new TreeMap<>()).put(a.base(), a);
            }
        }
        return out;
    }
}
