package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.StoreConfig;
import io.shale.log.TopicConfig;
import io.shale.log.TopicPartition;
import io.shale.log.record.SimpleRecord;
import io.shale.log.testing.InMemoryWal;
import io.shale.storage.s3.S3ObjectStore;
import io.shale.storage.s3.S3ProxyServer;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Regression: a segment roll over S3 stalled the S3 client. The compactor streams its output
 * ({@code Payload.ofStream}) and reads each source run with a blocking GET from inside the
 * payload's iterator; the S3 store pulled the payload on a Netty event-loop thread, which then
 * blocked on a GET whose response it would have had to process itself. Every request on that event
 * loop (WAL PUTs, commits, fence checks) stalled until the SDK's attempt timeout (1 minute). Found by
 * {@code TwoWriterFencingTest} over S3; fixed in main by 0336ed0 (the S3 store reads payloads off
 * the event loop). A roll of a few KiB must complete in seconds.
 */
class CompactionOverS3Test {

    @Test
    @Timeout(180)
    void segmentRollOverS3ShouldNotStallTheClient() throws Exception {
        try (S3ProxyServer s3 = S3ProxyServer.start()) {
            s3.createBucket("roll");
            StoreEngine s = (StoreEngine) StoreEngine.open(S3ObjectStore.create(s3.options("roll", "t/").build()),
                    new InMemoryWal(), Clock.systemUTC(), StoreConfig.of(Map.of(
                            StoreConfig.UPLOAD_INTERVAL_MS, 3_600_000, StoreConfig.COMPACTION_INTERVAL_MS, 3_600_000,
                            StoreConfig.OBJECT_DELETE_GRACE_MS, 3_600_000)));
            try {
                s.createTopic("t", 1, Map.of(TopicConfig.SEGMENT_BYTES, 2048));
                TopicPartition tp = TopicPartition.of("t", 0);
                for (int i = 0; i < 6; i++) {
                    s.append(tp, List.of(SimpleRecord.of("k", "v" + i + "x".repeat(600)))).join();
                    s.flush();
                }
                CompletableFuture<Void> roll = CompletableFuture.runAsync(
                        () -> s.maintenance.runNow(s.maintenance::runCompaction));
                try {
                    roll.get(20, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    throw new AssertionError("a segment roll of a few KiB over S3 did not finish in 20 s", e);
                }
                synchronized (s.catalog.lock()) {
                    assertThat(s.catalog.state().objects().values()).anyMatch(o -> o.isSegment());
                }
            } finally {
                s.close();
            }
        }
    }
}
