package io.shale.log.internal.engine;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.internal.format.CorruptObjectException;
import io.shale.log.record.RecordBatchLayout;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds the log cache from the WAL when a writer opens the store: every durable entry that is
 * not in an uploaded object yet comes back, exactly once, with its offsets.
 *
 * <p>Per partition, entries arrive in append order and are judged against the partition's end
 * of committed data (the manifest's end offset) and what has been recovered so far:
 * <ul>
 *   <li>wholly below the committed end: already uploaded, skipped;</li>
 *   <li>starting exactly at the recovered end: accepted;</li>
 *   <li>starting below the recovered end (but at or above the committed end) where a recovered
 *       entry starts: a later write of the same offsets, made after the earlier one failed and
 *       was rolled back; the recovered entries from that offset on are dropped and this one is
 *       accepted (the later entry wins);</li>
 *   <li>starting inside a recovered entry: appended after an entry that ended there and never
 *       reached the WAL, so rolled back with it; never acknowledged, skipped;</li>
 *   <li>starting above the recovered end: written after an earlier entry that failed, and rolled
 *       back with it; never acknowledged, skipped.</li>
 * </ul>
 * Entries of partitions that no longer exist (deleted topics) are skipped.
 *
 * <p><b>Memory pressure.</b> "The later entry wins" needs the whole WAL to be seen before
 * anything is made final: an entry that failed (but reached the WAL) may be replaced by one much
 * later in the WAL. So nothing recovered is uploaded during the first pass. If everything fits in
 * the log cache, the first pass is the only one. If it does not, the first pass continues with
 * offsets only and records which entries lose (replaced or rolled back); a second pass then loads
 * only the winners, uploading as the cache fills, which is safe because every entry it holds is
 * final. The second pass costs one more read of the WAL and happens only when the WAL holds more
 * than {@code log.cache.bytes} of unuploaded data.
 *
 * <p><b>Commit before acknowledging.</b> The writer commits what it recovered before it opens for
 * appends (see {@link #commitRecovered}): an open fails with {@code UNAVAILABLE} if that cannot be
 * done, rather than risk an order in which a fenced writer's late entries replace acknowledged ones.
 */
final class Recovery {
    private static final Logger log = LoggerFactory.getLogger(Recovery.class);

    private final StoreEngine engine;
    private long accepted;
    private long skipped;
    private long bytes;

    /** First pass: per partition, the recovered entries so far (sequence, base, next), a stack. */
    private final Map<Integer, Stack> stacks = new HashMap<>();
    /** Sequences of entries that do not survive: replaced by a later entry, or rolled back. Ascending. */
    private long[] losers = new long[16];
    private int loserCount;
    /** The first pass ran out of cache: stop loading, keep deciding. */
    private boolean offsetsOnly;

    /** Per-partition decisions of the first pass: parallel arrays used as a stack. */
    private static final class Stack {
        long[] seq = new long[8];
        long[] base = new long[8];
        long[] next = new long[8];
        int size;
        /** End of the committed data when the store opened. */
        final long committedEnd;
        /** Where the recovered chain starts: the committed end, or the log start beyond it. */
        long floor;

        Stack(long committedEnd) {
            this.committedEnd = committedEnd;
            this.floor = committedEnd;
        }

        long end() {
            return size == 0 ? floor : next[size - 1];
        }

        void push(long s, long b, long n) {
            if (size == seq.length) {
                seq = Arrays.copyOf(seq, size * 2);
                base = Arrays.copyOf(base, size * 2);
                next = Arrays.copyOf(next, size * 2);
            }
            seq[size] = s;
            base[size] = b;
            next[size] = n;
            size++;
        }
    }

    Recovery(StoreEngine engine) {
        this.engine = engine;
    }

    void replay() {
        engine.uploader.setRecovering(true);
        try {
            engine.wal.replay(this::decide);
            if (offsetsOnly) {
                log.info("the WAL of {} holds more unuploaded data than log.cache.bytes={}; replaying it again to"
                        + " load the {} surviving entries, uploading as the cache fills", engine.store.describe(),
                        engine.config.logCacheBytes(), accepted);
                accepted = 0;
                bytes = 0;
                engine.wal.replay(this::load);
            }
            if (accepted + skipped > 0) {
                commitRecovered();
            }
        } finally {
            engine.uploader.setRecovering(false);
        }
        log.info("recovered {} WAL entries ({} bytes) from {}; skipped {}", accepted, bytes, engine.wal.describe(),
                skipped);
    }

    /**
     * Commits everything recovered, then frees the WAL below it, before this writer acknowledges
     * anything new. Replay orders entries by sequence, that is by writer epoch first; a writer fenced
     * by an earlier claim may still have written WAL objects after that claim (never acknowledged:
     * its fence check fails), with sequences of its old epoch. If this writer acknowledged new
     * entries on top of uncommitted recovered ones and then crashed, a later writer would replay
     * those stale entries after what this one recovered and let them "win" over offsets this writer
     * had acknowledged. Once the recovered data is committed, such entries fall below the committed
     * end and are skipped.
     */
    private void commitRecovered() {
        engine.uploader.uploadDuringRecovery();
        engine.wal.trim(engine.wal.nextSequence());
    }

    /** First pass: decides every entry's fate; loads entries into the cache while they fit. */
    private void decide(long sequence, int streamId, long baseOffset, ByteBuffer payload) {
        PartitionLog p = engine.partitionsById.get(streamId);
        if (p == null) {
            skipped++;
            return;
        }
        long next = validate(p, baseOffset, payload);
        Stack st = stacks.computeIfAbsent(p.id, id -> new Stack(p.uploadedEnd()));
        if (st.size == 0 && continuesAtLogStart(p, st.floor, baseOffset)) {
            st.floor = baseOffset;
            if (!offsetsOnly) {
                p.continueAtLogStart();
            }
        }
        long committedEnd = st.committedEnd;
        if (next <= committedEnd) {
            skipped++; // already uploaded; skipped by the second pass for the same reason
            return;
        }
        if (baseOffset < committedEnd) {
            log.warn("WAL entry {} of {} (offsets {}..{}) overlaps data already committed up to {}; skipped",
                    sequence, p.tp, baseOffset, next - 1, committedEnd);
            lose(sequence);
            return;
        }
        long recoveredEnd = st.end();
        if (baseOffset > recoveredEnd) {
            log.debug("WAL entry {} of {} at {} follows a rolled-back append (end {}); skipped", sequence, p.tp,
                    baseOffset, recoveredEnd);
            lose(sequence);
            return;
        }
        if (baseOffset < recoveredEnd) {
            if (!startsAnEntry(st, baseOffset)) {
                // It starts inside an earlier entry: it was appended after an entry that ended there,
                // which never reached the WAL, so it was rolled back with it. Never acknowledged.
                log.debug("WAL entry {} of {} at {} starts inside an earlier entry and follows a rolled-back append;"
                        + " skipped", sequence, p.tp, baseOffset);
                lose(sequence);
                return;
            }
            // the later entry wins: everything recovered from its offset on was rolled back
            while (st.size > 0 && st.base[st.size - 1] >= baseOffset) {
                st.size--;
                loseOutOfOrder(st.seq[st.size]);
            }
            if (!offsetsOnly) {
                p.truncateRecovered(baseOffset);
            }
        }
        st.push(sequence, baseOffset, next);
        accepted++;
        if (offsetsOnly) {
            return;
        }
        CachedBatch b = tryAllocate(p, payload.remaining());
        if (b == null) {
            // Out of cache: uploading now could make a loser final. Decide the rest on offsets only,
            // then load the winners in a second pass.
            offsetsOnly = true;
            for (PartitionLog q : engine.partitionsById.values()) {
                q.truncateRecovered(q.uploadedEnd());
            }
            bytes = 0;
            return;
        }
        load(p, b, sequence, baseOffset, next, payload);
    }

    /** Whether {@code offset} is where one of the recovered entries of {@code st} starts (or the chain's floor). */
    private static boolean startsAnEntry(Stack st, long offset) {
        if (offset == st.floor) {
            return true;
        }
        for (int i = st.size - 1; i >= 0 && st.next[i] >= offset; i--) {
            if (st.base[i] == offset) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether an entry starts the log afresh at the log start: the log start is beyond the
     * committed end (records were deleted up to offsets whose data a writer on another machine
     * acknowledged but never uploaded), so the writer after it continued at the log start, and
     * this is the first entry recovered for the partition.
     */
    private static boolean continuesAtLogStart(PartitionLog p, long floor, long baseOffset) {
        long start = p.meta.logStartOffset();
        return start > floor && baseOffset == start;
    }

    /** Second pass: loads exactly the entries the first pass kept, uploading when the cache fills. */
    private void load(long sequence, int streamId, long baseOffset, ByteBuffer payload) {
        PartitionLog p = engine.partitionsById.get(streamId);
        if (p == null || isLoser(sequence)) {
            return;
        }
        long next = validate(p, baseOffset, payload);
        if (next <= p.uploadedEnd()) {
            return;
        }
        if (p.cachedAt(p.logEndOffset() - 1) == null && continuesAtLogStart(p, p.logEndOffset(), baseOffset)) {
            p.continueAtLogStart();
        }
        if (baseOffset != p.logEndOffset()) {
            throw corrupt(p, baseOffset, "was kept by the first replay pass but does not follow the recovered end "
                    + p.logEndOffset() + " in the second (the WAL changed between the passes)");
        }
        CachedBatch b = allocate(p, payload.remaining());
        load(p, b, sequence, baseOffset, next, payload);
    }

    private void load(PartitionLog p, CachedBatch b, long sequence, long baseOffset, long next, ByteBuffer payload) {
        int size = payload.remaining();
        b.data.put(0, payload, payload.position(), size);
        b.baseOffset = baseOffset;
        b.nextOffset = next;
        b.walSequence = sequence;
        b.maxTimestamp = maxTimestamp(b.data);
        p.addRecovered(b);
        accepted++;
        bytes += size;
    }

    private void lose(long sequence) {
        skipped++;
        if (loserCount == losers.length) {
            losers = Arrays.copyOf(losers, loserCount * 2);
        }
        losers[loserCount++] = sequence; // sequences arrive ascending
    }

    /** A loser found after later sequences were recorded: keep the array sorted. */
    private void loseOutOfOrder(long sequence) {
        accepted--;
        lose(sequence);
        for (int i = loserCount - 1; i > 0 && losers[i - 1] > losers[i]; i--) {
            long t = losers[i];
            losers[i] = losers[i - 1];
            losers[i - 1] = t;
        }
    }

    private boolean isLoser(long sequence) {
        return Arrays.binarySearch(losers, 0, loserCount, sequence) >= 0;
    }

    /** Cache space without waiting and without uploading, or null if the cache is full. */
    private CachedBatch tryAllocate(PartitionLog p, int size) {
        try {
            return engine.cache.allocate(size, 0, p);
        } catch (ShaleException e) {
            if (e.kind() != ErrorKind.UNAVAILABLE) {
                throw e;
            }
            return null;
        }
    }

    /** Second pass: cache space, uploading the (final) entries loaded so far to make room. */
    private CachedBatch allocate(PartitionLog p, int size) {
        for (int attempt = 0; ; attempt++) {
            try {
                return engine.cache.allocate(size, 0, p);
            } catch (ShaleException e) {
                if (e.kind() != ErrorKind.UNAVAILABLE || attempt >= 3) {
                    throw e;
                }
                engine.uploader.uploadDuringRecovery();
            }
        }
    }

    /** Checks the entry is whole batches starting at {@code baseOffset}; returns the next offset. */
    private static long validate(PartitionLog p, long baseOffset, ByteBuffer payload) {
        int pos = payload.position();
        int end = payload.limit();
        long expected = baseOffset;
        while (pos < end) {
            if (end - pos < RecordBatchLayout.HEADER_SIZE) {
                throw corrupt(p, baseOffset, "ends in a partial batch");
            }
            int size = payload.getInt(pos + RecordBatchLayout.LENGTH_OFFSET) + RecordBatchLayout.LOG_OVERHEAD;
            if (size < RecordBatchLayout.HEADER_SIZE || size > end - pos) {
                throw corrupt(p, baseOffset, "has a batch of impossible length " + size);
            }
            long base = payload.getLong(pos);
            int delta = payload.getInt(pos + RecordBatchLayout.LAST_OFFSET_DELTA_OFFSET);
            if (base != expected || delta < 0) {
                throw corrupt(p, baseOffset, "has a batch at offset " + base + ", expected " + expected);
            }
            expected = base + delta + 1;
            pos += size;
        }
        if (expected == baseOffset) {
            throw corrupt(p, baseOffset, "is empty");
        }
        return expected;
    }

    private static long maxTimestamp(ByteBuffer data) {
        long max = Long.MIN_VALUE;
        int pos = 0;
        while (pos < data.capacity()) {
            max = Math.max(max, data.getLong(pos + RecordBatchLayout.MAX_TIMESTAMP_OFFSET));
            pos += data.getInt(pos + RecordBatchLayout.LENGTH_OFFSET) + RecordBatchLayout.LOG_OVERHEAD;
        }
        return max;
    }

    private static CorruptObjectException corrupt(PartitionLog p, long base, String what) {
        return new CorruptObjectException("WAL entry for " + p.tp + " at offset " + base + " " + what
                + " although its checksum matched");
    }
}
