package io.shale.benchmarks.peers;

import io.shale.benchmarks.BenchDirs;
import io.shale.benchmarks.ForkArgs;
import io.shale.benchmarks.PayloadCounters;
import io.shale.benchmarks.Workload;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.record.internal.FileRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Records;
import org.apache.kafka.server.common.RequestLocal;
import org.apache.kafka.server.common.TransactionVersion;
import org.apache.kafka.server.storage.log.FetchIsolation;
import org.apache.kafka.server.util.KafkaScheduler;
import org.apache.kafka.storage.internals.log.AppendOrigin;
import org.apache.kafka.storage.internals.log.FetchDataInfo;
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
 * Kafka 4.4's log layer serving a consumer: {@code UnifiedLog.read} of 1 MiB from the next offset
 * (up to the high watermark), the returned file slice copied into a reused direct buffer (one
 * copy, as a fetch into a socket buffer would be), and every batch checked with
 * {@code ensureValid()} (CRC-32C over the batch). The log holds 128 MiB of 16 x 1 KiB batches
 * written during setup, in the page cache; the reader loops over it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {ForkArgs.HEAP_MIN, ForkArgs.HEAP_MAX})
public class KafkaLogReadBenchmark {

    @Param({"1024"})
    public int recordBytes;

    @Param({"16"})
    public int recordsPerBatch;

    private Path dir;
    private KafkaScheduler scheduler;
    private UnifiedLog log;
    private ByteBuffer copy;
    private long nextOffset;

    @Setup(Level.Trial)
    public void fill() throws IOException {
        dir = BenchDirs.create("kafka-read");
        scheduler = new KafkaScheduler(1);
        scheduler.startup();
        log = KafkaLogs.create(dir.resolve("bench-0").toFile(), KafkaLogs.config(), scheduler);
        MemoryRecords batch = KafkaLogs.batch(recordsPerBatch, recordBytes);
        MutableRecordBatch header = batch.batches().iterator().next();
        long payload = 0;
        while (payload < Workload.READ_SET_BYTES) {
            header.setLastOffset(header.lastOffset() - header.baseOffset());
            log.appendAsLeader(batch, 0, AppendOrigin.CLIENT, RequestLocal.noCaching(),
                    VerificationGuard.SENTINEL, TransactionVersion.TV_UNKNOWN);
            payload += (long) recordsPerBatch * recordBytes;
        }
        log.flush(false);
        log.updateHighWatermark(log.logEndOffset());
        // a read returns at most 1 MiB unless the first batch alone is larger
        copy = ByteBuffer.allocateDirect(Math.max(Workload.READ_CHUNK_BYTES, batch.sizeInBytes()));
        nextOffset = log.logStartOffset();
    }

    @Benchmark
    public long read(PayloadCounters counters) throws IOException {
        FetchDataInfo info = log.read(nextOffset, Workload.READ_CHUNK_BYTES, FetchIsolation.HIGH_WATERMARK, true);
        Records records = info.records;
        int size = records.sizeInBytes();
        if (size == 0) {
            nextOffset = log.logStartOffset(); // reached the high watermark: start over
            return nextOffset;
        }
        copy.clear().limit(size);
        ((FileRecords) records).readInto(copy, 0); // reads from the slice's start, then flips the buffer
        long from = nextOffset;
        // a 1 MiB slice may end inside a batch; the iterator stops before an incomplete batch
        for (MutableRecordBatch batch : MemoryRecords.readableRecords(copy).batches()) {
            batch.ensureValid();
            int count = batch.countOrNull();
            counters.records += count;
            counters.bytes += (long) count * recordBytes;
            nextOffset = batch.nextOffset();
        }
        if (nextOffset == from) {
            throw new IllegalStateException("Kafka returned " + size + " bytes at offset " + from + " but no whole batch");
        }
        return nextOffset;
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
