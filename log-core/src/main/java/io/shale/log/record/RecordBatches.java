package io.shale.log.record;

import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.List;

/**
 * Walks a run of concatenated record batches (what a Kafka produce request or a fetch response
 * carries, and what Shale stores).
 */
public final class RecordBatches {
    private RecordBatches() {
    }

    /**
     * Views every batch in {@code buffer} from its position to its limit. Fails with
     * {@code CORRUPT_RECORD} if the bytes do not divide exactly into whole batches.
     * Does not check CRCs.
     */
    public static List<RecordBatch> split(ByteBuffer buffer) {
        throw new UnsupportedOperationException("implemented by the record codec change");
    }

    /**
     * Iterates the batches of {@code buffer} lazily. A trailing partial batch ends the iteration
     * without error (like a Kafka fetch cut at maxBytes); a malformed header fails with
     * {@code CORRUPT_RECORD}.
     */
    public static Iterator<RecordBatch> iterate(ByteBuffer buffer) {
        throw new UnsupportedOperationException("implemented by the record codec change");
    }
}
