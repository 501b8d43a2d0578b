package io.shale.benchmarks.shale;

import io.shale.benchmarks.Workload;
import io.shale.log.record.RecordBatch;
import io.shale.log.record.RecordBatchBuilder;
import io.shale.log.record.SimpleRecord;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** Record batches and records for the Shale benchmarks (and the measurement tools), and the checking every reader does. */
public final class ShaleBatches {
    private ShaleBatches() {
    }

    /** Records with {@code recordBytes}-byte values, no key, timestamps now. */
    static List<SimpleRecord> records(int count, int recordBytes) {
        long now = System.currentTimeMillis();
        List<SimpleRecord> records = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            records.add(SimpleRecord.of(now, null, Workload.randomBytes(recordBytes, i)));
        }
        return records;
    }

    /** One uncompressed Kafka v2 batch of those records, in a direct buffer (position 0). */
    public static ByteBuffer batch(int count, int recordBytes) {
        RecordBatchBuilder builder = new RecordBatchBuilder();
        for (SimpleRecord r : records(count, recordBytes)) {
            builder.append(r);
        }
        ByteBuffer built = builder.build();
        ByteBuffer direct = ByteBuffer.allocateDirect(built.remaining());
        direct.put(built).flip();
        return direct;
    }

    /**
     * Touches every byte of a batch as a checking consumer would: verifies its CRC-32C with
     * {@link RecordBatch#isValid()} over the bytes Shale returned (no copy). Returns the checksum so
     * that JMH cannot drop the work.
     */
    static long touch(RecordBatch batch) {
        if (!batch.isValid()) {
            throw new IllegalStateException("corrupt batch at offset " + batch.baseOffset());
        }
        return batch.checksum();
    }
}
