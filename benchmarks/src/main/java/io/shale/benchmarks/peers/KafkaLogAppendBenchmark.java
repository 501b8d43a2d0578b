package io.shale.benchmarks.peers;

import io.shale.benchmarks.BenchDirs;
import io.shale.benchmarks.ForkArgs;
import io.shale.benchmarks.PayloadCounters;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.server.common.RequestLocal;
import org.apache.kafka.server.common.TransactionVersion;
import org.apache.kafka.server.util.KafkaScheduler;
import org.apache.kafka.storage.internals.log.AppendOrigin;
import org.apache.kafka.storage.internals.log.LogAppendInfo;
import org.apache.kafka.storage.internals.log.UnifiedLog;
import org.apache.kafka.storage.internals.log.VerificationGuard;
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
 * Kafka 4.4's log layer appending as a partition leader: {@code UnifiedLog.appendAsLeader} of one
 * uncompressed batch of 16 x 1 KiB records from a client (validation, offset assignment, segment
 * and index writes), one thread, as Kafka's TestLinearWriteSpeed does.
 *
 * <ul>
 *   <li>{@code flush=false}: what a broker does by default; the data is in the page cache, not
 *       durable (Kafka relies on replication).</li>
 *   <li>{@code flush=true}: {@code flush(false)} after every batch (fsync of the segment, its
 *       indexes, to the log end), the durable configuration ({@code flush.messages=1}).</li>
 * </ul>
 *
 * <p>Segments roll at Kafka's default 1 GiB; retention (2 GiB) runs every second on Kafka's own
 * scheduler, as on a broker, so the disk stays bounded.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {ForkArgs.HEAP_MIN, ForkArgs.HEAP_MAX})
public class KafkaLogAppendBenchmark {

    @Param({"false", "true"})
    public boolean flush;

    @Param({"1024"})
    public int recordBytes;

    @Param({"16"})
    public int recordsPerBatch;

    private Path dir;
    private KafkaScheduler scheduler;
    private UnifiedLog log;
    private MemoryRecords batch;
    private MutableRecordBatch header;
    private long payloadBytes;

    @Setup(Level.Trial)
    public void open() throws IOException {
        dir = BenchDirs.create("kafka-append");
        scheduler = new KafkaScheduler(1);
        scheduler.startup();
        log = KafkaLogs.create(dir.resolve("bench-0").toFile(), KafkaLogs.config(), scheduler);
        batch = KafkaLogs.batch(recordsPerBatch, recordBytes);
        header = batch.batches().iterator().next();
        payloadBytes = (long) recordsPerBatch * recordBytes;
        scheduler.schedule("bench-retention", () -> KafkaLogs.enforceRetention(log), 1000, 1000);
    }

    @Benchmark
    public long append(PayloadCounters counters) throws IOException {
        // appendAsLeader assigns offsets in place; a client batch must arrive with base offset 0
        header.setLastOffset(header.lastOffset() - header.baseOffset());
        LogAppendInfo info = log.appendAsLeader(batch, 0, AppendOrigin.CLIENT, RequestLocal.noCaching(),
                VerificationGuard.SENTINEL, TransactionVersion.TV_UNKNOWN);
        if (flush) {
            log.flush(false);
        }
        counters.bytes += payloadBytes;
        counters.records += recordsPerBatch;
        return info.lastOffset();
    }

    @TearDown(Level.Trial)
    public void close() throws InterruptedException {
        try {
            if (scheduler != null) {
                scheduler.shutdown();
            }
            if (log != null) {
                log.close();
            }
        } finally {
            BenchDirs.delete(dir);
        }
    }
}
