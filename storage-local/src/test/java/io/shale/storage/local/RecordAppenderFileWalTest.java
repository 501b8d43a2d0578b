package io.shale.storage.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.AppenderOptions;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.RecordAppender;
import io.shale.log.RecordMetadata;
import io.shale.log.TopicPartition;
import io.shale.log.record.Record;
import io.shale.log.record.SimpleRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The appender on the embedded default (file WAL, local directory): records of producers
 * appending one at a time from several threads are stored in each producer's order at the offsets
 * their futures gave, close completes every future, and all of it is there after a reopen.
 */
class RecordAppenderFileWalTest {
    @TempDir
    Path dir;

    @Test
    void recordsFromConcurrentProducersShouldSurviveCloseAndReopenAtTheOffsetsTheirFuturesGave() throws Exception {
        int partitions = 3;
        int producers = 4;
        int perProducer = 3_000;
        List<List<CompletableFuture<RecordMetadata>>> futures = new ArrayList<>();
        try (LogStore store = LocalStorage.open(dir)) {
            store.createTopic("events", partitions);
            RecordAppender appender = store.appender(AppenderOptions.builder()
                    .batchBytes(4_096).linger(Duration.ofMillis(2)).build());
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < producers; t++) {
                List<CompletableFuture<RecordMetadata>> mine = new ArrayList<>();
                futures.add(mine);
                int id = t;
                Thread thread = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < perProducer; i++) {
                        mine.add(appender.append(TopicPartition.of("events", i % partitions),
                                SimpleRecord.of("p" + id, id + ":" + i)));
                    }
                });
                threads.add(thread);
                thread.start();
            }
            go.countDown();
            for (Thread thread : threads) {
                thread.join(TimeUnit.MINUTES.toMillis(2));
            }
            appender.close(); // sends the last batches; every future is complete when it returns
            for (List<CompletableFuture<RecordMetadata>> mine : futures) {
                assertThat(mine).hasSize(perProducer).allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
            }
        }
        try (LogStore reopened = LocalStorage.open(dir)) {
            Map<TopicPartition, Map<Long, String>> stored = new HashMap<>();
            for (int p = 0; p < partitions; p++) {
                TopicPartition tp = TopicPartition.of("events", p);
                Map<Long, String> byOffset = new HashMap<>();
                long offset = reopened.logStartOffset(tp);
                while (offset < reopened.highWatermark(tp)) {
                    FetchResult f = reopened.read(tp, offset, 1 << 20);
                    for (Record r : f.records()) {
                        byte[] b = new byte[r.value().remaining()];
                        r.value().duplicate().get(b);
                        byOffset.put(r.offset(), new String(b, StandardCharsets.UTF_8));
                    }
                    offset = f.nextOffset();
                }
                stored.put(tp, byOffset);
            }
            assertThat(stored.values().stream().mapToInt(Map::size).sum()).isEqualTo(producers * perProducer);
            for (int t = 0; t < producers; t++) {
                long[] last = new long[partitions];
                java.util.Arrays.fill(last, -1);
                for (int i = 0; i < perProducer; i++) {
                    RecordMetadata md = futures.get(t).get(i).join();
                    int p = i % partitions;
                    assertThat(md.partition()).isEqualTo(TopicPartition.of("events", p));
                    assertThat(stored.get(md.partition()).get(md.offset())).isEqualTo(t + ":" + i);
                    assertThat(md.offset()).isGreaterThan(last[p]);
                    last[p] = md.offset();
                }
            }
        }
    }
}
