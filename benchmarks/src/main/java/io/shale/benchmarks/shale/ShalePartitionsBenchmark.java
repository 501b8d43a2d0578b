package io.shale.benchmarks.shale;

import io.shale.benchmarks.BenchDirs;
import io.shale.benchmarks.ForkArgs;
import io.shale.benchmarks.PayloadCounters;
import io.shale.benchmarks.ShaleStores;
import io.shale.log.AppendResult;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.TopicPartition;
import io.shale.log.record.RecordBatch;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
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
 * Many partitions in one store: 4 threads each take, in turn, the partitions whose index is
 * congruent to their thread index, append one 16 x 1 KiB batch (durable) and read it back
 * (CRC-32C in place). With 1, 100 and 10,000 partitions the WAL, the object count and the work per
 * append should not depend on the partition count (a design invariant).
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(4)
@Fork(value = 1, jvmArgsAppend = {ForkArgs.SHALE_HEAP_MIN, ForkArgs.SHALE_HEAP_MAX})
public class ShalePartitionsBenchmark {

    static final String TOPIC = "many";

    @Param({"1", "100", "10000"})
    public int partitions;

    @Param({"1024"})
    public int recordBytes;

    @Param({"16"})
    public int recordsPerBatch;

    private Path dir;
    private LogStore store;

    @Setup(Level.Trial)
    public void open() {
        dir = BenchDirs.create("shale-partitions");
        store = ShaleStores.open(dir, Map.of());
        store.createTopic(TOPIC, partitions, ShaleStores.TOPIC_SETTINGS);
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

    /** The partitions one thread cycles through, made once so the loop allocates nothing. */
    @State(Scope.Thread)
    public static class Cursor {
        TopicPartition[] mine;
        int next;
        ByteBuffer batch;
        long payloadBytes;

        @Setup(Level.Trial)
        public void prepare(ShalePartitionsBenchmark bench, ThreadParams thread, BenchmarkParams params) {
            int threads = params.getThreads();
            int index = thread.getThreadIndex();
            if (bench.partitions <= index) {
                mine = new TopicPartition[] {TopicPartition.of(TOPIC, index % bench.partitions)};
            } else {
                mine = new TopicPartition[(bench.partitions - index + threads - 1) / threads];
                for (int i = 0; i < mine.length; i++) {
                    mine[i] = TopicPartition.of(TOPIC, index + i * threads);
                }
            }
            batch = ShaleBatches.batch(bench.recordsPerBatch, bench.recordBytes);
            payloadBytes = (long) bench.recordsPerBatch * bench.recordBytes;
        }
    }

    @Benchmark
    public long appendThenRead(Cursor cursor, PayloadCounters counters) {
        TopicPartition tp = cursor.mine[cursor.next];
        cursor.next = (cursor.next + 1) % cursor.mine.length;
        AppendResult appended = store.appendBatch(tp, cursor.batch.position(0)).join();
        // maxBytes 1: exactly the batch that holds baseOffset (the first batch is always whole)
        FetchResult read = store.read(tp, appended.baseOffset(), 1);
        long sum = 0;
        for (RecordBatch batch : read.batches()) {
            sum += ShaleBatches.touch(batch);
        }
        counters.bytes += cursor.payloadBytes;
        counters.records += appended.offsetCount();
        return sum;
    }
}
