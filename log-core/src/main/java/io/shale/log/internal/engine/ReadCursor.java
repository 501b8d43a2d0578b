package io.shale.log.internal.engine;

import io.shale.log.record.RecordBatch;
import java.util.ArrayList;
import java.util.List;

/** Accumulates the batches of one read, enforcing Kafka's maxBytes rule. Not thread-safe. */
final class ReadCursor {
    final List<RecordBatch> out = new ArrayList<>();
    final int maxBytes;
    long bytes;
    /** The offset the next batch must hold. */
    long next;
    /** No more batches fit (or the limit offset was reached). */
    boolean full;

    ReadCursor(long offset, int maxBytes) {
        this.next = offset;
        this.maxBytes = maxBytes;
    }

    /** Whether a batch of {@code size} bytes fits: the first always does, later ones within maxBytes. */
    boolean offer(int size) {
        if (!out.isEmpty() && bytes + size > maxBytes) {
            full = true;
            return false;
        }
        return true;
    }

    void add(RecordBatch batch, int size, long nextOffset) {
        out.add(batch);
        bytes += size;
        next = nextOffset;
        if (bytes >= maxBytes) {
            full = true;
        }
    }
}
