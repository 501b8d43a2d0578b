package io.shale.log.record;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Walks a run of concatenated record batches (what a Kafka produce request or a fetch response
 * carries, and what Shale stores).
 *
 * <p>Both methods take a snapshot of the buffer's position and limit when called and never move
 * the caller's position; the returned views are {@link RecordBatch#wrap} views (no copy, CRC not
 * checked). Thread-safe as long as nobody writes the bytes concurrently.
 */
public final class RecordBatches {
    private RecordBatches() {
    }

    /**
     * Views every batch in {@code buffer} from its position to its limit. Fails with
     * {@code CORRUPT_RECORD} if the bytes do not divide exactly into whole batches.
     * Does not check CRCs.
     *
     * @return an unmodifiable list, empty if the buffer has no remaining bytes
     */
    public static List<RecordBatch> split(ByteBuffer buffer) {
        ByteBuffer b = buffer.slice();
        List<RecordBatch> batches = new ArrayList<>();
        int pos = 0;
        int limit = b.limit();
        while (pos < limit) {
            int size = RecordBatch.sizeAt(b, pos);
            if (size < 0 || size > limit - pos) {
                throw new ShaleException(ErrorKind.CORRUPT_RECORD, "record batches do not fill the buffer exactly: "
                        + (limit - pos) + " bytes at position " + (buffer.position() + pos)
                        + " (after " + batches.size() + " whole batches) are not a whole batch"
                        + (size < 0 ? "" : " (its length field says " + size + " bytes)"));
            }
            b.position(pos);
            batches.add(RecordBatch.wrap(b));
            pos += size;
        }
        return Collections.unmodifiableList(batches);
    }

    /**
     * Iterates the batches of {@code buffer} lazily. A trailing partial batch ends the iteration
     * without error (like a Kafka fetch cut at maxBytes); a malformed header fails with
     * {@code CORRUPT_RECORD}.
     *
     * <p>"Partial" means fewer than 12 bytes left, or a length field that reaches past the limit;
     * a length field below the v2 minimum, or a whole batch with a bad magic, is malformed.
     */
    public static Iterator<RecordBatch> iterate(ByteBuffer buffer) {
        return new BatchIterator(buffer.slice(), buffer.position());
    }

    private static final class BatchIterator implements Iterator<RecordBatch> {
        private final ByteBuffer b;
        private final int basePosition;
        private int pos;
        private RecordBatch next;

        BatchIterator(ByteBuffer b, int basePosition) {
            this.b = b;
            this.basePosition = basePosition;
        }

        @Override
        public boolean hasNext() {
            if (next != null) {
                return true;
            }
            int limit = b.limit();
            int size = RecordBatch.sizeAt(b, pos);
            if (size < 0) {
                return false; // fewer than 12 bytes left
            }
            if (size < RecordBatchLayout.HEADER_SIZE) {
                throw new ShaleException(ErrorKind.CORRUPT_RECORD, "record batch at position " + (basePosition + pos)
                        + " has length field " + (size - RecordBatchLayout.LOG_OVERHEAD)
                        + ", below the minimum " + (RecordBatchLayout.HEADER_SIZE - RecordBatchLayout.LOG_OVERHEAD));
            }
            if (size > limit - pos) {
                return false; // partial batch at the end
            }
            b.position(pos);
            next = RecordBatch.wrap(b);
            pos += size;
            return true;
        }

        @Override
        public RecordBatch next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            RecordBatch r = next;
            next = null;
            return r;
        }
    }
}
