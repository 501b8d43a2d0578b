package io.shale.benchmarks.shale;

import io.shale.benchmarks.BenchDirs;
import io.shale.benchmarks.ForkArgs;
import io.shale.benchmarks.PayloadCounters;
import io.shale.benchmarks.ShaleStores;
import io.shale.log.AppendResult;
import io.shale.log.LogStore;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.record.SimpleRecord;
import java.nio.ByteBuffer;
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
 * Durable appends: each producer thread appends to its own partition and waits until the append
 * is durable in the file WAL ({@code join()} on the future), so concurrent producers share the
 * WAL's group commits. Compare with Kafka's {@code appendAsLeader} (the same 16 x 1 KiB batch) with
 * and without a flush per batch, and with the raw fdatasync limit.
 *
 * <ul>
 *   <li>{@code appendBatchPipelined}: 4 producers, each keeping up to {@code inFlight} appends
 *       outstanding (as a Kafka producer or a broker serving many clients does), {@code appendBatch}
 *       of a ready Kafka v2 batch (the broker path). Durable throughput: the target.</li>
 *   <li>{@code appendBatchConcurrent}: 4 producers, each waiting for every append before the next.
 *       Throughput and latency; bounded by fsync latency times 4 batches.</li>
 *   <li>{@code appendBatchSingleProducer}: 1 producer: latency at moderate load (target:
 *       p99 at most 1.5x the raw preallocated 16 KiB fdatasync p99).</li>
 *   <li>{@code appendRecordsConcurrent}: 4 producers, {@code append(List<SimpleRecord>)} (the
 *       library path: Shale encodes the batch).</li>
 * </ul>
 *
 * <p>Compaction is switched off here (it reads uploaded data back in the background).
 *
 * <p>Allocation per record: run with {@code -prof gc}; the report divides
 * {@code gc.alloc.rate.norm} by records per operation (target: at most 64 B per record).
 * Thread counts can be overridden with {@code -t N}.
 */
@State(Scope.Benchmark)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {ForkArgs.SHALE_HEAP_MIN, ForkArgs.SHALE_HEAP_MAX})
public class ShaleAppendBenchmark {

    static final String TOPIC = "append";

    @Param({"1024"})
    public int recordBytes;

    @Param({"16"})
    public int recordsPerBatch;

    /** Appends each pipelined producer keeps outstanding. */
    @Param({"32"})
    public int inFlight;

    private Path dir;
    private LogStore store;

    @Setup(Level.Trial)
    public void open(BenchmarkParams params) {
        dir = BenchDirs.create("shale-append");
        // Compaction reads uploaded data back (a background cost, like Kafka's log cleaner); it is
        // kept out of this benchmark so that -prof gc shows the append path's own allocation.
        store = ShaleStores.open(dir, Map.of(StoreConfig.COMPACTION_INTERVAL_MS, 3_600_000L));
        store.createTopic(TOPIC, params.getThreads(), ShaleStores.TOPIC_SETTINGS);
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

    /** One producer: its partition and what it appends. */
    @State(Scope.Thread)
    public static class Producer {
        TopicPartition partition;
        ByteBuffer batch;
        List<SimpleRecord> records;
        long payloadBytes;
        CompletableFuture<AppendResult>[] window;
        int next;

        @Setup(Level.Trial)
        public void prepare(ShaleAppendBenchmark bench, ThreadParams thread) {
            partition = TopicPartition.of(TOPIC, thread.getThreadIndex());
            batch = ShaleBatches.batch(bench.recordsPerBatch, bench.recordBytes);
            records = ShaleBatches.records(bench.recordsPerBatch, bench.recordBytes);
            payloadBytes = (long) bench.recordsPerBatch * bench.recordBytes;
            @SuppressWarnings("unchecked")
            CompletableFuture<AppendResult>[] w = new CompletableFuture[bench.inFlight];
            window = w;
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
        }
    }

    private AppendResult appendBatch(Producer p, PayloadCounters counters) {
        // the store copies the batch before appendBatch returns, so the buffer is reused
        AppendResult result = store.appendBatch(p.partition, p.batch.position(0)).join();
        counters.bytes += p.payloadBytes;
        counters.records += result.offsetCount();
        return result;
    }

    /**
     * Keeps {@code inFlight} appends outstanding per producer: an operation is one append; it waits
     * only for the append issued {@code inFlight} operations earlier. Every counted byte is durable
     * before the iteration ends (the window is drained in teardown).
     */
    @Benchmark
    @Threads(4)
    @BenchmarkMode(Mode.Throughput)
    public AppendResult appendBatchPipelined(Producer p, PayloadCounters counters) {
        CompletableFuture<AppendResult> oldest = p.window[p.next];
        AppendResult done = oldest == null ? null : oldest.join();
        // the store copies the batch before appendBatch returns, so the buffer is reused
        p.window[p.next] = store.appendBatch(p.partition, p.batch.position(0));
        p.next = (p.next + 1) % p.window.length;
        counters.bytes += p.payloadBytes;
        counters.records += recordsPerBatch;
        return done;
    }

    @Benchmark
    @Threads(4)
    @BenchmarkMode({Mode.Throughput, Mode.SampleTime})
    public AppendResult appendBatchConcurrent(Producer p, PayloadCounters counters) {
        return appendBatch(p, counters);
    }

    @Benchmark
    @Threads(1)
    @BenchmarkMode({Mode.Throughput, Mode.SampleTime})
    public AppendResult appendBatchSingleProducer(Producer p, PayloadCounters counters) {
        return appendBatch(p, counters);
    }

    @Benchmark
    @Threads(4)
    @BenchmarkMode(Mode.Throughput)
    public AppendResult appendRecordsConcurrent(Producer p, PayloadCounters counters) {
        AppendResult result = store.append(p.partition, p.records).join();
        counters.bytes += p.payloadBytes;
        counters.records += result.offsetCount();
        return result;
    }
}
