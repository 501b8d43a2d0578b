package io.shale.benchmarks.shale;

import io.shale.benchmarks.BenchDirs;
import io.shale.benchmarks.ForkArgs;
import io.shale.benchmarks.PayloadCounters;
import io.shale.benchmarks.ShaleStores;
import io.shale.benchmarks.Workload;
import io.shale.log.AppendResult;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.record.RecordBatch;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
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

/**
 * Reads served from Shale's log cache: one partition holds 128 MiB of 16 x 1 KiB batches appended
 * during setup (the cache is sized to keep them all); one reader loops over it with
 * {@code read(tp, offset, 1 MiB)} and computes CRC-32C over every returned batch, in place (the
 * batches are views of the cached bytes; no copy). Compare with Chronicle Queue's tailer and
 * Kafka's {@code UnifiedLog.read}, which copy and then check (target: at least 1.2x
 * Chronicle's tailer).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {ForkArgs.SHALE_HEAP_MIN, ForkArgs.SHALE_HEAP_MAX})
public class ShaleReadBenchmark {

    static final String TOPIC = "read";
    /** Log cache large enough for the whole read set and the engine's headroom. */
    public static final long LOG_CACHE_BYTES = 4 * Workload.READ_SET_BYTES;

    @Param({"1024"})
    public int recordBytes;

    @Param({"16"})
    public int recordsPerBatch;

    private Path dir;
    private LogStore store;
    private final TopicPartition tp = TopicPartition.of(TOPIC, 0);
    private long nextOffset;

    @Setup(Level.Trial)
    public void fill() {
        dir = BenchDirs.create("shale-read");
        store = ShaleStores.open(dir, Map.of(StoreConfig.LOG_CACHE_BYTES, LOG_CACHE_BYTES));
        store.createTopic(TOPIC, 1, ShaleStores.TOPIC_SETTINGS);
        ByteBuffer batch = ShaleBatches.batch(recordsPerBatch, recordBytes);
        ArrayDeque<CompletableFuture<AppendResult>> inFlight = new ArrayDeque<>();
        for (long payload = 0; payload < Workload.READ_SET_BYTES; payload += (long) recordsPerBatch * recordBytes) {
            inFlight.add(store.appendBatch(tp, batch.position(0)));
            if (inFlight.size() >= 64) {
                inFlight.remove().join();
            }
        }
        inFlight.forEach(CompletableFuture::join);
        nextOffset = store.logStartOffset(tp);
    }

    @Benchmark
    public long cacheRead(PayloadCounters counters) {
        FetchResult result = store.read(tp, nextOffset, Workload.READ_CHUNK_BYTES);
        if (result.isEmpty()) {
            nextOffset = result.logStartOffset(); // reached the high watermark: start over
            return nextOffset;
        }
        long sum = 0;
        for (RecordBatch batch : result.batches()) {
            sum += ShaleBatches.touch(batch);
            int count = batch.recordCount();
            counters.records += count;
            counters.bytes += (long) count * recordBytes;
        }
        if (result.nextOffset() <= nextOffset) {
            throw new IllegalStateException("Shale read at " + nextOffset + " did not advance: " + result);
        }
        nextOffset = result.nextOffset();
        return sum;
    }

    @TearDown(Level.Trial)
    public void close() {
        try {
            if (store != null) {
                store.close();
            }
        } finally {
            BenchDirs.delete(dir);
        }
    }
}
