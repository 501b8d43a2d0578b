package io.shale.benchmarks.shale;

import io.shale.log.record.CompressionType;
import io.shale.log.record.Record;
import io.shale.log.record.RecordBatch;
import io.shale.log.record.RecordBatchBuilder;
import io.shale.log.record.SimpleRecord;
import java.nio.ByteBuffer;
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

/**
 * CPU cost of appendBatch's validation of one batch (the benchmark batch: 16 x 1 KiB records),
 * without the WAL: {@code basic} is what {@code append.validation=basic} does (header and
 * CRC-32C over the batch); {@code strict} adds what {@code append.validation=strict} (the default)
 * does on top: decompress if needed and decode every record (offset, timestamp, key, headers).
 * Compare both with the durable append latency of {@link ShaleAppendBenchmark} (tens of
 * microseconds to milliseconds, bounded by fsync).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
public class AppendValidationBenchmark {

    @Param({"none", "lz4", "zstd"})
    public String compression;

    @Param({"16"})
    public int recordsPerBatch;

    @Param({"1024"})
    public int recordBytes;

    private ByteBuffer batch;

    @Setup(Level.Trial)
    public void build() {
        RecordBatchBuilder builder = new RecordBatchBuilder().compression(CompressionType.forName(compression));
        for (SimpleRecord r : ShaleBatches.records(recordsPerBatch, recordBytes)) {
            builder.append(r);
        }
        ByteBuffer built = builder.build();
        batch = ByteBuffer.allocate(built.remaining());
        batch.put(built).flip();
    }

    @Benchmark
    public long basic() {
        RecordBatch b = RecordBatch.wrap(batch.position(0));
        b.ensureValid();
        return b.checksum();
    }

    @Benchmark
    public long strict() {
        RecordBatch b = RecordBatch.wrap(batch.position(0));
        b.ensureValid();
        long sum = 0;
        int expected = 0;
        for (Record r : b) {
            if (r.offset() - b.baseOffset() != expected++) {
                throw new IllegalStateException("offset delta");
            }
            sum += r.timestamp() + (r.key() == null ? 0 : 1) + r.headers().size();
        }
        return sum;
    }
}
