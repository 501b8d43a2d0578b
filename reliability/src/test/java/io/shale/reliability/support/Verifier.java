package io.shale.reliability.support;

import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.TopicPartition;
import io.shale.log.record.Record;
import io.shale.log.record.RecordBatch;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;

/**
 * Reads partitions end to end and checks them against a {@link Ledger}:
 * <ul>
 *   <li>every batch passes its CRC, batches are contiguous in offsets and records within them too;</li>
 *   <li>every record is one some producer attempted (its id is known) and its value is exactly the
 *       one its id determines (byte-identical);</li>
 *   <li>no id appears twice (exactly once);</li>
 *   <li>every acknowledged record at or above the log start offset is at its acknowledged offset,
 *       and the high watermark is past every acknowledged offset.</li>
 * </ul>
 * Failures are collected (up to a limit) and reported together with the partition and offset.
 */
public final class Verifier {
    private final int maxValueLen;
    private final List<String> problems = new ArrayList<>();
    private long recordsChecked;

    public Verifier(int maxValueLen) {
        this.maxValueLen = maxValueLen;
    }

    public long recordsChecked() {
        return recordsChecked;
    }

    public List<String> problems() {
        return problems;
    }

    private void problem(String p) {
        if (problems.size() < 50) {
            problems.add(p);
        }
    }

    /** Checks one partition; returns the ids found, offset to id. */
    public Map<Long, Long> verify(LogStore store, TopicPartition tp, Ledger ledger) {
        long start = store.logStartOffset(tp);
        long hw = store.highWatermark(tp);
        Map<Long, Long> idAt = new HashMap<>();
        Map<Long, Long> offsetOfId = new HashMap<>();
        long expectedOffset = start;
        long offset = start;
        long expectedBatchBase = -1;
        while (offset < hw) {
            FetchResult f = store.read(tp, offset, 256 << 10);
            if (f.isEmpty()) {
                problem(tp + ": empty read at " + offset + " below the high watermark " + hw);
                break;
            }
            for (RecordBatch b : f.batches()) {
                if (!b.isValid()) {
                    problem(tp + ": batch at " + b.baseOffset() + " fails its CRC");
                }
                if (expectedBatchBase >= 0 && b.baseOffset() != expectedBatchBase) {
                    problem(tp + ": batch at " + b.baseOffset() + " follows a batch ending at " + (expectedBatchBase - 1));
                }
                expectedBatchBase = b.nextOffset();
            }
            for (Record r : f.records()) {
                if (r.offset() < start) {
                    continue;
                }
                if (r.offset() != expectedOffset) {
                    problem(tp + ": record at offset " + r.offset() + ", expected " + expectedOffset);
                    expectedOffset = r.offset();
                }
                expectedOffset++;
                recordsChecked++;
                long id;
                try {
                    id = Payloads.idOf(r);
                } catch (AssertionError e) {
                    problem(tp + ": " + e.getMessage());
                    continue;
                }
                if (!ledger.wasAttempted(id)) {
                    problem(tp + " offset " + r.offset() + ": id " + Long.toHexString(id) + " was never appended");
                }
                if (!Payloads.valueMatches(r, maxValueLen)) {
                    problem(tp + " offset " + r.offset() + ": value of id " + Long.toHexString(id) + " differs");
                }
                Long prev = offsetOfId.put(id, r.offset());
                if (prev != null) {
                    problem(tp + ": id " + Long.toHexString(id) + " at offsets " + prev + " and " + r.offset());
                }
                idAt.put(r.offset(), id);
            }
            offset = f.nextOffset();
        }
        if (offset < hw) {
            problem(tp + ": reading stopped at " + offset + " below the high watermark " + hw);
        } else if (expectedOffset != hw && hw > start) {
            problem(tp + ": records end at " + expectedOffset + " but the high watermark is " + hw);
        }
        NavigableMap<Long, Long> acked = ledger.acked(tp);
        for (Map.Entry<Long, Long> e : acked.tailMap(start, true).entrySet()) {
            Long found = idAt.get(e.getKey());
            if (found == null) {
                problem(tp + ": acknowledged offset " + e.getKey() + " (id " + Long.toHexString(e.getValue())
                        + ") is missing (log start " + start + ", high watermark " + hw + ")");
            } else if (found.longValue() != e.getValue()) {
                problem(tp + ": acknowledged offset " + e.getKey() + " holds id " + Long.toHexString(found)
                        + " instead of " + Long.toHexString(e.getValue()));
            }
        }
        return idAt;
    }

    public String report() {
        return problems.isEmpty() ? "ok (" + recordsChecked + " records)" : String.join("\n", problems);
    }
}
