package io.shale.benchmarks.limits;

import io.shale.benchmarks.ForkArgs;
import io.shale.benchmarks.PayloadCounters;
import io.shale.benchmarks.Workload;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * The memory limits for readers and non-durable writers: one thread walks a 128 MiB buffer (the
 * read set of the read benchmarks, far larger than the CPU caches) in 1 MiB chunks and
 *
 * <ul>
 *   <li>{@code copy}: copies each chunk into a reused 1 MiB buffer (what a page-cache write or a
 *       copying read costs at best);</li>
 *   <li>{@code crc32c}: computes CRC-32C over each chunk in place (a zero-copy reader that checks
 *       every byte);</li>
 *   <li>{@code copyThenCrc32c}: both (a copying reader that checks every byte, like the Kafka and
 *       Chronicle read peers).</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {ForkArgs.HEAP_MIN, ForkArgs.HEAP_MAX})
public class MemoryLimitBenchmark {

    private ByteBuffer source;
    private ByteBuffer chunk;
    private ByteBuffer destination;
    private final CRC32C crc = new CRC32C();
    private int position;

    @Setup(Level.Trial)
    public void allocate() {
        source = Workload.randomDirect((int) Workload.READ_SET_BYTES, 7);
        chunk = source.duplicate();
        destination = ByteBuffer.allocateDirect(Workload.READ_CHUNK_BYTES);
    }

    private ByteBuffer nextChunk() {
        if (position + Workload.READ_CHUNK_BYTES > source.capacity()) {
            position = 0;
        }
        chunk.clear();
        chunk.position(position).limit(position + Workload.READ_CHUNK_BYTES);
        position += Workload.READ_CHUNK_BYTES;
        return chunk;
    }

    private static void count(PayloadCounters counters) {
        counters.bytes += Workload.READ_CHUNK_BYTES;
        counters.records += Workload.READ_CHUNK_BYTES / Workload.RECORD_BYTES;
    }

    @Benchmark
    public byte copy(PayloadCounters counters) {
        destination.clear();
        destination.put(nextChunk());
        count(counters);
        return destination.get(destination.position() - 1);
    }

    @Benchmark
    public long crc32c(PayloadCounters counters) {
        crc.reset();
        crc.update(nextChunk());
        count(counters);
        return crc.getValue();
    }

    @Benchmark
    public long copyThenCrc32c(PayloadCounters counters) {
        destination.clear();
        destination.put(nextChunk());
        destination.flip();
        crc.reset();
        crc.update(destination);
        count(counters);
        return crc.getValue();
    }
}
