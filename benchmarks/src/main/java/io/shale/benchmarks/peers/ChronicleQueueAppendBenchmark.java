package io.shale.benchmarks.peers;

import io.shale.benchmarks.BenchDirs;
import io.shale.benchmarks.ForkArgs;
import io.shale.benchmarks.PayloadCounters;
import io.shale.benchmarks.Workload;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.rollcycles.TestRollCycles;
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
 * Chronicle Queue appending one 1 KiB message per operation ({@code ExcerptAppender.writeBytes})
 * into its memory-mapped file: no fsync, so not durable; the kernel writes the pages back when it
 * likes.
 *
 * <p>The queue rolls to a new file every second and deletes released files, so a long run does
 * not fill the disk (one file creation per second is the price; it is in the figures). Java 17
 * needs the flags in {@link ForkArgs}.
 */
@State(Scope.Thread)
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {ForkArgs.HEAP_MIN, ForkArgs.HEAP_MAX,
        ForkArgs.CQ_EXPORT_REF, ForkArgs.CQ_EXPORT_NIO, ForkArgs.CQ_EXPORT_MISC, ForkArgs.CQ_EXPORT_JAVAC_FILE,
        ForkArgs.CQ_OPEN_JAVAC, ForkArgs.CQ_OPEN_LANG, ForkArgs.CQ_OPEN_REFLECT, ForkArgs.CQ_OPEN_IO,
        ForkArgs.CQ_OPEN_UTIL, ForkArgs.CQ_NO_ANALYTICS})
public class ChronicleQueueAppendBenchmark {

    @Param({"1024"})
    public int recordBytes;

    private Path dir;
    private SingleChronicleQueue queue;
    private ExcerptAppender appender;
    private BytesStore<?, byte[]> message;

    @Setup(Level.Trial)
    public void open() {
        dir = BenchDirs.create("chronicle-append");
        queue = ChronicleQueues.open(dir, TestRollCycles.TEST_SECONDLY, true);
        appender = queue.createAppender(); // appenders are single-threaded: made on the benchmark thread
        message = BytesStore.wrap(Workload.randomBytes(recordBytes, 1));
    }

    @Benchmark
    public void append(PayloadCounters counters) {
        appender.writeBytes(message);
        counters.bytes += recordBytes;
        counters.records++;
    }

    @TearDown(Level.Trial)
    public void close() {
        try {
            if (appender != null) {
                appender.close();
            }
            if (queue != null) {
                queue.close();
            }
        } finally {
            BenchDirs.delete(dir);
        }
    }
}
