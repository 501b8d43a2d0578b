package io.shale.benchmarks.shale;

import io.shale.benchmarks.BenchDirs;
import io.shale.benchmarks.ForkArgs;
import io.shale.benchmarks.PayloadCounters;
import io.shale.benchmarks.ShaleStores;
import io.shale.benchmarks.Workload;
import io.shale.log.AppendResult;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.TopicPartition;
import io.shale.log.record.RecordBatch;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A consumer right behind a producer on one partition: the producer keeps up to
 * {@code inFlight} durable appends outstanding; the consumer reads from where it stopped, up to
 * the high watermark, and computes CRC-32C over every batch in place. The counters {@code bytes}
 * and {@code records} are the consumer's (what reached it); {@code appendedBytes} is the
 * producer's. A read that finds nothing new counts as an operation that moved no bytes.
 */
@State(Scope.Group)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {ForkArgs.SHALE_HEAP_MIN, ForkArgs.SHALE_HEAP_MAX})
public class ShaleTailBenchmark {

    static final String TOPIC = "tail";

    @Param({"1024"})
    public int recordBytes;

    @Param({"16"})
    public int recordsPerBatch;

    @Param({"16"})
    public int inFlight;

    private Path dir;
    private LogStore store;
    final TopicPartition tp = TopicPartition.of(TOPIC, 0);

    @Setup(Level.Trial)
    public void open() {
        dir = BenchDirs.create("shale-tail");
        store = ShaleStores.open(dir, Map.of());
        store.createTopic(TOPIC, 1, ShaleStores.TOPIC_SETTINGS);
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

    /** What the producer appended, reported apart from what the consumer read. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class ProducerCounters {
        public long appendedBytes;

        @Setup(Level.Iteration)
        public void reset() {
            appendedBytes = 0;
        }
    }

    /** The producer's batch and its window of outstanding appends. */
    @State(Scope.Thread)
    public static class Producer {
        ByteBuffer batch;
        CompletableFuture<?>[] window;
        int next;
        long payloadBytes;

        @Setup(Level.Trial)
        public void prepare(ShaleTailBenchmark bench) {
            batch = ShaleBatches.batch(bench.recordsPerBatch, bench.recordBytes);
            window = new CompletableFuture<?>[bench.inFlight];
            payloadBytes = (long) bench.recordsPerBatch * bench.recordBytes;
        }

        /** Waits for what is still in flight; failures after the measurement no longer matter. */
        @TearDown(Level.Trial)
        public void drain() {
            for (CompletableFuture<?> f : window) {
                if (f != null) {
                    f.handle((r, e) -> null).join();
                }
            }
        }
    }

    /** Where the consumer is. */
    @State(Scope.Thread)
    public static class Consumer {
        long nextOffset;
    }

    @Benchmark
    @Group("tail")
    @GroupThreads(1)
    public void produce(Producer p, ProducerCounters counters) {
        CompletableFuture<?> oldest = p.window[p.next];
        if (oldest != null) {
            oldest.join(); // keep at most inFlight appends outstanding
        }
        CompletableFuture<AppendResult> f = store.appendBatch(tp, p.batch.position(0));
        p.window[p.next] = f;
        p.next = (p.next + 1) % p.window.length;
        counters.appendedBytes += p.payloadBytes;
    }

    @Benchmark
    @Group("tail")
    @GroupThreads(1)
    public long consume(Consumer c, PayloadCounters counters) {
        FetchResult result = store.read(tp, c.nextOffset, Workload.READ_CHUNK_BYTES);
        if (result.isEmpty()) {
            Thread.onSpinWait();
            return c.nextOffset;
        }
        long sum = 0;
        for (RecordBatch batch : result.batches()) {
            sum += ShaleBatches.touch(batch);
            int count = batch.recordCount();
            counters.records += count;
            counters.bytes += (long) count * recordBytes;
        }
        c.nextOffset = result.nextOffset();
        return sum;
    }
}
