package io.shale.benchmarks.shale;

import io.shale.benchmarks.BenchDirs;
import io.shale.benchmarks.ForkArgs;
import io.shale.benchmarks.PayloadCounters;
import io.shale.benchmarks.ShaleStores;
import io.shale.log.AppendResult;
import io.shale.log.AppenderOptions;
import io.shale.log.LogStore;
import io.shale.log.RecordAppender;
import io.shale.log.RecordMetadata;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.record.SimpleRecord;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * Single-record appends with and without {@link RecordAppender}, beside 100-record batches, on the
 * embedded default (file WAL, local directory). Four producers, each on its own partition, each
 * keeping up to {@code recordsInFlight} records outstanding (an operation waits only for the append
 * issued that many records earlier; what is outstanding is drained at the end of each iteration, so
 * every counted record is durable). Compare {@code records} per second within one run:
 *
 * <ul>
 *   <li>{@code storeAppendOneRecordSync}: {@code store.append(tp, List.of(record)).join()}: one
 *       record per append, waiting for each (the simple call without an appender).</li>
 *   <li>{@code storeAppendOneRecord}: the same without waiting: one WAL entry per record.</li>
 *   <li>{@code appenderOneRecord}: {@code appender.append(tp, record)} with the default
 *       {@link AppenderOptions} (16 KiB batches, 5 ms linger).</li>
 *   <li>{@code storeAppendHundredRecords}: {@code store.append(tp, records)} of 100 records: the
 *       batch a caller builds by hand.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {ForkArgs.SHALE_HEAP_MIN, ForkArgs.SHALE_HEAP_MAX})
public class ShaleSingleRecordBenchmark {

    static final String TOPIC = "single";
    static final int BATCH = 100;

    /** Value size of a record (no key): small events, where batching matters most. */
    @Param({"100"})
    public int recordBytes;

    /** Records each producer keeps outstanding (a window of that many, or of that many / 100 batches). */
    @Param({"1000"})
    public int recordsInFlight;

    private Path dir;
    private LogStore store;
    private RecordAppender appender;

    @Setup(Level.Trial)
    public void open(BenchmarkParams params) {
        dir = BenchDirs.create("shale-single");
        store = ShaleStores.open(dir, Map.of(StoreConfig.COMPACTION_INTERVAL_MS, 3_600_000L));
        store.createTopic(TOPIC, params.getThreads(), ShaleStores.TOPIC_SETTINGS);
        appender = store.appender(AppenderOptions.defaults());
    }

    @TearDown(Level.Trial)
    public void close() {
        try {
            if (appender != null) {
                appender.close();
            }
            if (store != null) {
                store.close();
            }
        } finally {
            BenchDirs.delete(dir);
        }
    }

    /** One producer: its partition, what it appends, and its window of outstanding appends. */
    @State(Scope.Thread)
    public static class Producer {
        TopicPartition partition;
        SimpleRecord record;
        List<SimpleRecord> one;
        List<SimpleRecord> hundred;
        CompletableFuture<?>[] window;
        int next;

        @Setup(Level.Trial)
        public void prepare(ShaleSingleRecordBenchmark bench, ThreadParams thread) {
            partition = TopicPartition.of(TOPIC, thread.getThreadIndex());
            hundred = ShaleBatches.records(BATCH, bench.recordBytes);
            record = hundred.get(0);
            one = List.of(record);
            window = new CompletableFuture<?>[bench.recordsInFlight];
        }

        /** The window's slot for the next append: waits for the append that used it before. */
        Object slot(int size) {
            if (next >= size) {
                next = 0;
            }
            CompletableFuture<?> oldest = window[next];
            return oldest == null ? null : oldest.join();
        }

        void put(CompletableFuture<?> f) {
            window[next++] = f;
        }

        /** Waits for what is still outstanding, so no append spills into the next iteration. */
        @TearDown(Level.Iteration)
        public void drain() {
            for (int i = 0; i < window.length; i++) {
                if (window[i] != null) {
                    window[i].join();
                    window[i] = null;
                }
            }
            next = 0;
        }
    }

    @Benchmark
    @Threads(4)
    @BenchmarkMode(Mode.Throughput)
    public AppendResult storeAppendOneRecordSync(Producer p, PayloadCounters counters) {
        AppendResult r = store.append(p.partition, p.one).join();
        counters.bytes += recordBytes;
        counters.records++;
        return r;
    }

    @Benchmark
    @Threads(4)
    @BenchmarkMode(Mode.Throughput)
    public Object storeAppendOneRecord(Producer p, PayloadCounters counters) {
        Object done = p.slot(recordsInFlight);
        p.put(store.append(p.partition, p.one));
        counters.bytes += recordBytes;
        counters.records++;
        return done;
    }

    @Benchmark
    @Threads(4)
    @BenchmarkMode(Mode.Throughput)
    public Object appenderOneRecord(Producer p, PayloadCounters counters) {
        Object done = p.slot(recordsInFlight);
        CompletableFuture<RecordMetadata> f = appender.append(p.partition, p.record);
        p.put(f);
        counters.bytes += recordBytes;
        counters.records++;
        return done;
    }

    @Benchmark
    @Threads(4)
    @BenchmarkMode(Mode.Throughput)
    public Object storeAppendHundredRecords(Producer p, PayloadCounters counters) {
        Object done = p.slot(Math.max(1, recordsInFlight / BATCH));
        p.put(store.append(p.partition, p.hundred));
        counters.bytes += (long) BATCH * recordBytes;
        counters.records += BATCH;
        return done;
    }
}
