package io.shale.log.internal.engine;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.TopicConfig;
import io.shale.log.TopicPartition;
import io.shale.log.record.Record;
import io.shale.log.record.RecordBatch;
import io.shale.log.record.RecordBatchLayout;
import io.shale.log.record.RecordBatches;
import io.shale.log.record.TimestampType;

import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.List;

/**
 * Strict validation of an {@code appendBatch} ({@code append.validation=strict}), as strict as
 * Kafka's broker (its LogValidator): besides the header, length, CRC and size checks, every record
 * of every batch is decoded (a compressed batch is decompressed, at most 64 MiB, so a
 * decompression bomb fails as CORRUPT_RECORD), so that nothing is stored that a reader cannot decode.
 *
 * <p>Checks, per batch: codec id 0-4; no delete-horizon flag (only a log cleaner sets it); no
 * LogAppendTime flag on a CreateTime topic; a producer id with a base sequence, except on a
 * control batch (written by a transaction coordinator, as in Kafka), and a producer id on a
 * transactional batch; a control batch is transactional with exactly one record whose key
 * holds a version and a type; recordsCount &ge; 1 and lastOffsetDelta = recordsCount - 1; then
 * every record: length, varints and fields within the record and the batch, offset deltas
 * 0..n-1 in order, exactly recordsCount records and no trailing bytes; every record's timestamp
 * within message.timestamp.before/after.max.ms (CreateTime topics); a key on every record of a
 * compacted topic.
 *
 * <p>Timestamps: like Kafka's broker, a CreateTime batch whose maxTimestamp differs from its records'
 * largest timestamp is rewritten (maxTimestamp set, CRC recomputed) rather than rejected, so that
 * time indexes and retention see the records' real times. LogAppendTime topics are stamped as before.
 *
 * <p>Errors: {@code ShaleException(CORRUPT_RECORD)} naming the partition, the batch (its index in the
 * call and its producer-assigned base offset), the record index when one is at fault, and what was
 * wrong; timestamps out of range stay INVALID_ARGUMENT and a missing codec library INVALID_ARGUMENT,
 * as in basic validation.
 */
final class AppendValidator {
    private static final int KNOWN_CODECS = 4; // none, gzip, snappy, lz4, zstd

    private AppendValidator() {
    }

    /** Validates (and fixes max timestamps / stamps LogAppendTime in) {@code data}; returns the largest timestamp. */
    static long validate(TopicPartition tp, TopicConfig tc, ByteBuffer data, long now) {
        List<RecordBatch> views = RecordBatches.split(data);
        boolean logAppendTime = tc.messageTimestampType() == TimestampType.LOG_APPEND_TIME;
        boolean compacted = tc.cleanupPolicy().compacts();
        long maxTs = Long.MIN_VALUE;
        int pos = 0;
        for (int i = 0; i < views.size(); i++) {
            RecordBatch v = views.get(i);
            if (v.sizeInBytes() > tc.maxMessageBytes()) {
                throw StoreEngine.tooLarge(tp, v.sizeInBytes(), tc);
            }
            v.ensureValid();
            long batchMax = checkBatch(tp, tc, v, i, now, logAppendTime, compacted);
            if (logAppendTime) {
                RecordBatch.setLogAppendTime(data, pos, now);
                maxTs = Math.max(maxTs, now);
            } else {
                if (batchMax != v.maxTimestamp()) {
                    RecordBatch.setMaxTimestamp(data, pos, batchMax);
                }
                maxTs = Math.max(maxTs, batchMax);
            }
            pos += v.sizeInBytes();
        }
        return maxTs;
    }

    /** Checks one batch header and all its records; returns the records' largest timestamp. */
    private static long checkBatch(TopicPartition tp, TopicConfig tc, RecordBatch v, int index, long now,
                                   boolean logAppendTime, boolean compacted) {
        int codec = v.attributes() & RecordBatchLayout.COMPRESSION_CODEC_MASK;
        if (codec > KNOWN_CODECS) {
            throw corrupt(tp, v, index, "has unknown compression codec id " + codec + " (valid: 0-4)");
        }
        if (v.isDeleteHorizonSet()) {
            throw corrupt(tp, v, index, "has the delete-horizon attribute set, which only a log cleaner may set");
        }
        if (!logAppendTime && v.timestampType() == TimestampType.LOG_APPEND_TIME) {
            throw corrupt(tp, v, index, "has the LogAppendTime attribute set but topic '" + tp.topic()
                    + "' uses CreateTime (message.timestamp.type); a producer does not set it");
        }
        int count = v.recordCount();
        if (count < 1 || v.lastOffsetDelta() != count - 1) {
            throw corrupt(tp, v, index, "has recordsCount " + count + " but lastOffsetDelta " + v.lastOffsetDelta()
                    + "; producer batches hold at least one record with consecutive offset deltas");
        }
        long pid = v.producerId();
        if (pid >= 0 && v.baseSequence() == RecordBatchLayout.NO_SEQUENCE && !v.isControlBatch()) {
            throw corrupt(tp, v, index, "has producer id " + pid + " but base sequence " + RecordBatchLayout.NO_SEQUENCE
                    + " (no sequence); an idempotent producer numbers its batches");
        }
        if (pid < 0 && v.isTransactional()) {
            throw corrupt(tp, v, index, "is transactional but has no producer id (" + pid + ")");
        }
        boolean control = v.isControlBatch();
        if (control && (!v.isTransactional() || count != 1)) {
            throw corrupt(tp, v, index, "is a control batch but " + (v.isTransactional()
                    ? "holds " + count + " records (a control batch holds exactly one)" : "is not transactional"));
        }
        long base = v.baseOffset();
        long maxTs = RecordBatchLayout.NO_TIMESTAMP;
        int r = 0;
        try {
            Iterator<Record> it = v.iterator();
            while (it.hasNext()) {
                Record rec = it.next();
                long delta = rec.offset() - base;
                if (delta != r) {
                    throw corrupt(tp, v, index, "record " + r + " has offset delta " + delta + ", expected " + r
                            + " (offset deltas must be 0..recordsCount-1 in order)");
                }
                if (control) {
                    checkControlKey(tp, v, index, rec);
                } else {
                    if (!logAppendTime) {
                        StoreEngine.checkTimestamp(tp, tc, rec.timestamp(), now);
                    }
                    if (compacted && rec.key() == null) {
                        throw StoreEngine.keyless(tp);
                    }
                }
                maxTs = Math.max(maxTs, rec.timestamp());
                r++;
            }
        } catch (ShaleException e) {
            if (e.kind() != ErrorKind.CORRUPT_RECORD || e.getMessage().startsWith(prefix(tp, v, index))) {
                throw e;
            }
            throw new ShaleException(ErrorKind.CORRUPT_RECORD, prefix(tp, v, index) + " does not decode at record "
                    + r + ": " + e.getMessage(), e);
        }
        return maxTs;
    }

    /** A control record's key: version (int16, 0) and type (int16, &ge; 0), as Kafka's ControlRecordType reads it. */
    private static void checkControlKey(TopicPartition tp, RecordBatch v, int index, Record rec) {
        ByteBuffer key = rec.key();
        if (key == null || key.remaining() < 4) {
            throw corrupt(tp, v, index, "is a control batch whose record key is "
                    + (key == null ? "null" : key.remaining() + " bytes") + "; a control key holds a version and a type (4 bytes)");
        }
        short version = key.getShort(key.position());
        short type = key.getShort(key.position() + 2);
        if (version < 0 || type < 0) {
            throw corrupt(tp, v, index, "is a control batch whose record key has version " + version + " and type "
                    + type + "; both must be non-negative");
        }
    }

    private static String prefix(TopicPartition tp, RecordBatch v, int index) {
        return "batch " + index + " (base offset " + v.baseOffset() + ") appended to " + tp;
    }

    private static ShaleException corrupt(TopicPartition tp, RecordBatch v, int index, String what) {
        return new ShaleException(ErrorKind.CORRUPT_RECORD, prefix(tp, v, index) + " " + what);
    }
}
