package io.shale.benchmarks.limits;

import io.shale.benchmarks.BenchDirs;
import io.shale.benchmarks.ForkArgs;
import io.shale.benchmarks.PayloadCounters;
import io.shale.benchmarks.Workload;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 * The raw durable-write limit: one thread writes a group of bytes with {@code FileChannel.write}
 * and then calls {@code force(false)} (fdatasync), in a loop. This is the floor under any durable
 * append on this disk: a WAL that syncs groups of this size cannot beat it.
 *
 * <ul>
 *   <li>{@code GROWING}: appends at the end of a file, so every sync also commits the new size and
 *       block allocation through the filesystem journal. At 1 GiB the file is truncated to zero
 *       and grows again (one truncate per GiB written).</li>
 *   <li>{@code PREALLOCATED}: overwrites, round-robin, a 128 MiB file that was fully written and
 *       synced during setup, so a sync only writes data (how a WAL that reuses its files
 *       behaves).</li>
 * </ul>
 *
 * <p>Throughput mode gives MB/s (counter {@code bytes}); SampleTime gives the latency distribution
 * of one write + sync. Records are counted as 1 KiB equivalents so rows compare with record
 * benchmarks.
 */
@State(Scope.Thread)
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {ForkArgs.HEAP_MIN, ForkArgs.HEAP_MAX})
public class FsyncLimitBenchmark {

    /** How the written file behaves. */
    public enum FileKind { PREALLOCATED, GROWING }

    static final long PREALLOCATED_BYTES = 128L << 20;
    static final long GROWING_MAX_BYTES = 1L << 30;

    @Param({"16384", "65536", "262144", "1048576"})
    public int groupBytes;

    @Param({"PREALLOCATED", "GROWING"})
    public FileKind file;

    private Path dir;
    private FileChannel channel;
    private ByteBuffer group;
    private long position;
    private long wrapAt;

    @Setup(Level.Trial)
    public void open() throws IOException {
        dir = BenchDirs.create("fsync-limit");
        channel = FileChannel.open(dir.resolve("data"),
                StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
        group = Workload.randomDirect(groupBytes, 42);
        if (file == FileKind.PREALLOCATED) {
            ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
            for (long pos = 0; pos < PREALLOCATED_BYTES; ) {
                zeros.clear();
                while (zeros.hasRemaining()) {
                    pos += channel.write(zeros, pos);
                }
            }
            channel.force(true);
            wrapAt = PREALLOCATED_BYTES;
        } else {
            wrapAt = GROWING_MAX_BYTES;
        }
        position = 0;
    }

    @Benchmark
    public long writeAndSync(PayloadCounters counters) throws IOException {
        if (position + groupBytes > wrapAt) {
            if (file == FileKind.GROWING) {
                channel.truncate(0);
            }
            position = 0;
        }
        group.clear();
        while (group.hasRemaining()) {
            position += channel.write(group, position);
        }
        channel.force(false);
        counters.bytes += groupBytes;
        counters.records += groupBytes / Workload.RECORD_BYTES;
        return position;
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        if (channel != null) {
            channel.close();
        }
        BenchDirs.delete(dir);
    }
}
