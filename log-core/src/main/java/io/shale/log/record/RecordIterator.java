package io.shale.log.record;

import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Decodes the records of one batch one at a time from a read-only view of the (stored or
 * decompressed) records bytes. Checks every length against what is left of the record and of the
 * batch before using it, and checks at the end that exactly {@code recordsCount} records filled
 * the section: a lying count or trailing bytes fail with {@code CORRUPT_RECORD} when
 * {@link #hasNext()} reaches the end. Allocates one {@link BatchRecord} per record and nothing
 * sized by a field.
 *
 * <p>Not thread-safe (an iterator belongs to one reader).
 */
final class RecordIterator implements Iterator<Record> {
    /** Smallest possible record: length, attributes, timestamp delta, offset delta, key and value lengths, header count. */
    static final int MIN_RECORD_SIZE = 7;

    private final RecordCursor cursor;
    private final int end;
    private final int count;
    private final long baseOffset;
    private final long baseTimestamp;
    private final boolean logAppendTime;
    private final long maxTimestamp;
    private final int baseSequence;
    private int index;

    RecordIterator(RecordBatch batch, ByteBuffer src, int start, int end, int count) {
        this.baseOffset = batch.baseOffset();
        this.cursor = new RecordCursor(src, start, end, baseOffset);
        this.end = end;
        this.count = count;
        this.baseTimestamp = batch.baseTimestamp();
        this.logAppendTime = batch.timestampType() == TimestampType.LOG_APPEND_TIME;
        this.maxTimestamp = batch.maxTimestamp();
        this.baseSequence = batch.baseSequence();
    }

    @Override
    public boolean hasNext() {
        if (index < count) {
            return true;
        }
        if (cursor.pos != end) {
            cursor.recordIndex = index;
            throw cursor.corrupt((end - cursor.pos) + " bytes left after the " + count
                    + " records the header declares");
        }
        return false;
    }

    @Override
    public Record next() {
        if (index >= count) {
            throw new NoSuchElementException();
        }
        RecordCursor c = cursor;
        c.recordIndex = index;
        c.limit = end;
        int length = c.readVarint("record length");
        if (length < 0) {
            throw c.corrupt("record length " + length + " is negative");
        }
        if (length > c.remaining()) {
            throw c.corrupt("record length " + length + " exceeds the " + c.remaining()
                    + " bytes left in the batch (declared records: " + count + ")");
        }
        int recordEnd = c.pos + length;
        c.limit = recordEnd;
        c.readByte("attributes");
        long timestampDelta = c.readVarlong("timestamp delta");
        int offsetDelta = c.readVarint("offset delta");
        int keyLen = c.readNullableLength("key");
        int keyPos = c.pos;
        if (keyLen > 0) {
            c.skip(keyLen);
        }
        int valueLen = c.readNullableLength("value");
        int valuePos = c.pos;
        if (valueLen > 0) {
            c.skip(valueLen);
        }
        int headerCount = c.readVarint("header count");
        if (headerCount < 0) {
            throw c.corrupt("header count " + headerCount + " is negative");
        }
        // each header takes at least two bytes (key length and value length)
        if (headerCount > c.remaining() / 2) {
            throw c.corrupt("header count " + headerCount + " cannot fit in the " + c.remaining()
                    + " bytes left in the record");
        }
        int headersPos = c.pos;
        for (int i = 0; i < headerCount; i++) {
            int klen = c.readVarint("header key length");
            if (klen < 0) {
                throw c.corrupt("header key length " + klen + " is negative");
            }
            if (klen > c.remaining()) {
                throw c.corrupt("header key length " + klen + " exceeds the " + c.remaining()
                        + " bytes left in the record");
            }
            c.skip(klen);
            int vlen = c.readNullableLength("header value");
            if (vlen > 0) {
                c.skip(vlen);
            }
        }
        if (c.pos != recordEnd) {
            throw c.corrupt("record length says " + length + " bytes but its fields end "
                    + (recordEnd - c.pos) + " bytes early");
        }
        c.limit = end;
        index++;
        long timestamp = logAppendTime ? maxTimestamp : baseTimestamp + timestampDelta;
        int sequence = baseSequence >= 0 ? incrementSequence(baseSequence, offsetDelta) : RecordBatchLayout.NO_SEQUENCE;
        return new BatchRecord(c.buf, baseOffset + offsetDelta, timestamp, sequence, keyPos, keyLen,
                valuePos, valueLen, headersPos, recordEnd, headerCount);
    }

    /** Kafka's sequence arithmetic: sequences wrap from Integer.MAX_VALUE to 0. */
    static int incrementSequence(int sequence, int increment) {
        if (sequence > Integer.MAX_VALUE - increment) {
            return increment - (Integer.MAX_VALUE - sequence) - 1;
        }
        return sequence + increment;
    }
}
