package io.shale.reliability.crash;

import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.TopicPartition;
import io.shale.log.record.Record;
import io.shale.log.record.RecordBatch;
import io.shale.reliability.support.Payloads;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.NavigableMap;
import java.util.Set;
import java.util.function.LongPredicate;

/**
 * Checks one partition of a store against the acknowledgements child processes reported: batches
 * pass their CRC and are contiguous, offsets are contiguous from the log start, every record is one
 * some producer appended (its value is the one its id determines, and its producer is known), no
 * record appears twice, and every acknowledged append at or above the log start holds exactly the
 * bytes that were appended at exactly its offsets.
 */
public final class AckVerifier {
    /** One acknowledged append as a child reported it. */
    public record Ack(int partition, long base, long last, long hash, int cycle) {
        /**
         * Parses an {@code "A partition base last hash [millis]"} line (the acknowledgement time, if
         * present, is ignored here); null if the line is cut short.
         */
        public static Ack parse(String line, int cycle) {
            String[] f = line.split(" ");
            if ((f.length != 5 && f.length != 6) || !f[0].equals("A")) {
                return null;
            }
            try {
                return new Ack(Integer.parseInt(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]),
                        Long.parseUnsignedLong(f[4], 16), cycle);
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }

    private AckVerifier() {
    }

    /**
     * Verifies {@code tp}; returns the number of records read. {@code knownProducer} says whether a
     * producer index may have appended. Throws AssertionError naming the partition and offset.
     */
    public static long verify(LogStore store, TopicPartition tp, NavigableMap<Long, Ack> acks, int maxValue,
            LongPredicate knownProducer) {
        return check(store, tp, acks, maxValue, knownProducer, true);
    }

    /** Verifies as {@link #verify} but counts, instead of failing on, acknowledgements not in the store. */
    public static long countMissing(LogStore store, TopicPartition tp, NavigableMap<Long, Ack> acks, int maxValue,
            LongPredicate knownProducer) {
        return check(store, tp, acks, maxValue, knownProducer, false);
    }

    private static long check(LogStore store, TopicPartition tp, NavigableMap<Long, Ack> acks, int maxValue,
            LongPredicate knownProducer, boolean strict) {
        long start = store.logStartOffset(tp);
        long hw = store.highWatermark(tp);
        List<Record> records = new ArrayList<>();
        Set<Long> ids = new HashSet<>();
        long offset = start;
        long expected = start;
        long batchEnd = -1;
        while (offset < hw) {
            FetchResult f = store.read(tp, offset, 1 << 20);
            if (f.isEmpty()) {
                throw new AssertionError(tp + ": nothing readable at " + offset + " below the high watermark " + hw);
            }
            for (RecordBatch b : f.batches()) {
                if (!b.isValid()) {
                    throw new AssertionError(tp + ": batch at " + b.baseOffset() + " fails its CRC");
                }
                if (batchEnd >= 0 && b.baseOffset() != batchEnd) {
                    throw new AssertionError(tp + ": batch at " + b.baseOffset() + " after a batch ending at " + (batchEnd - 1));
                }
                batchEnd = b.nextOffset();
            }
            for (Record r : f.records()) {
                if (r.offset() != expected) {
                    throw new AssertionError(tp + ": record at " + r.offset() + ", expected " + expected);
                }
                long id = Payloads.idOf(r);
                if (!Payloads.valueMatches(r, maxValue) || !knownProducer.test(id >>> 40)) {
                    throw new AssertionError(tp + " offset " + r.offset() + ": record " + Long.toHexString(id)
                            + " is not one any producer appended (garbage)");
                }
                if (!ids.add(id)) {
                    throw new AssertionError(tp + " offset " + r.offset() + ": record " + Long.toHexString(id)
                            + " appears twice");
                }
                records.add(r);
                expected++;
            }
            offset = f.nextOffset();
        }
        long missing = 0;
        for (Ack a : acks.tailMap(start, true).values()) {
            String problem = null;
            if (a.last() >= hw) {
                problem = tp + ": offset " + a.last() + " was acknowledged (cycle " + a.cycle()
                        + ") but the high watermark is " + hw;
            } else if (CrashLog.hash(records.subList((int) (a.base() - start), (int) (a.last() - start + 1))) != a.hash()) {
                problem = tp + ": offsets " + a.base() + ".." + a.last() + " acknowledged in cycle " + a.cycle()
                        + " hold other bytes than were appended";
            }
            if (problem != null) {
                if (strict) {
                    throw new AssertionError(problem);
                }
                missing++;
            }
        }
        return strict ? records.size() : missing;
    }
}
