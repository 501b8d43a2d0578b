package io.shale.benchmarks.peers;

import io.shale.benchmarks.BenchDirs;
import io.shale.benchmarks.ForkArgs;
import io.shale.benchmarks.PayloadCounters;
import io.shale.benchmarks.Workload;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
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
 * Chronicle Queue's tailer reading messages from its memory-mapped file: each message is copied
 * into a reused byte array and CRC-32C is computed over it (a consumer that checks what it reads).
 * One operation reads 1 MiB worth of messages (1,024 of 1 KiB), like one Kafka or Shale read. The
 * queue holds 128 MiB written during setup (page cache); at its end the tailer starts over.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {ForkArgs.HEAP_MIN, ForkArgs.HEAP_MAX,
        ForkArgs.CQ_EXPORT_REF, ForkArgs.CQ_EXPORT_NIO, ForkArgs.CQ_EXPORT_MISC, ForkArgs.CQ_EXPORT_JAVAC_FILE,
        ForkArgs.CQ_OPEN_JAVAC, ForkArgs.CQ_OPEN_LANG, ForkArgs.CQ_OPEN_REFLECT, ForkArgs.CQ_OPEN_IO,
        ForkArgs.CQ_OPEN_UTIL, ForkArgs.CQ_NO_ANALYTICS})
public class ChronicleQueueReadBenchmark {

    @Param({"1024"})
    public int recordBytes;

    private Path dir;
    private SingleChronicleQueue queue;
    private ExcerptTailer tailer;
    private byte[] copy;
    private final CRC32C crc = new CRC32C();
    private int messagesPerRead;

    @Setup(Level.Trial)
    public void fill() {
        dir = BenchDirs.create("chronicle-read");
        // one daily cycle: the whole read set stays in one file, nothing rolls while reading
        queue = ChronicleQueues.open(dir, RollCycles.FAST_DAILY, false);
        BytesStore<?, byte[]> message = BytesStore.wrap(Workload.randomBytes(recordBytes, 1));
        try (ExcerptAppender appender = queue.createAppender()) {
            for (long written = 0; written < Workload.READ_SET_BYTES; written += recordBytes) {
                appender.writeBytes(message);
            }
        }
        tailer = queue.createTailer();
        copy = new byte[recordBytes];
        messagesPerRead = Math.max(1, Workload.READ_CHUNK_BYTES / recordBytes);
    }

    @Benchmark
    public long tailerRead(PayloadCounters counters) {
        crc.reset();
        for (int i = 0; i < messagesPerRead; i++) {
            boolean atEnd;
            try (DocumentContext dc = tailer.readingDocument()) {
                atEnd = !dc.isPresent();
                if (!atEnd) {
                    Bytes<?> bytes = dc.wire().bytes();
                    int n = (int) Math.min(bytes.readRemaining(), copy.length);
                    bytes.read(copy, 0, n);
                    crc.update(copy, 0, n);
                    counters.bytes += n;
                    counters.records++;
                }
            }
            if (atEnd) {
                tailer.toStart();
            }
        }
        return crc.getValue();
    }

    @TearDown(Level.Trial)
    public void close() {
        try {
            if (tailer != null) {
                tailer.close();
            }
            if (queue != null) {
                queue.close();
            }
        } finally {
            BenchDirs.delete(dir);
        }
    }
}
