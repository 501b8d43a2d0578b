package io.shale.log.internal.engine;

import java.nio.ByteBuffer;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/*
 * Design:
 *
 * Key-based compaction needs, for the dirty part of a partition, the newest offset of every key.
 * Keys can be large and numerous, so, as Kafka's cleaner does (its SkimpyOffsetMap), a key is
 * represented by a 128-bit digest (MD5) and an entry costs 24 bytes: the two halves of the digest
 * and the offset, in three parallel long arrays (open addressing, linear probing, at most 3/4
 * full). Two keys with the same digest would be treated as one (the older record of the other key
 * removed); at 128 bits that is as unlikely as Kafka assumes it to be.
 *
 * The arrays start small and double as keys arrive, up to the byte budget, so a partition with few
 * keys costs little. A cleaning pass asks for room for a whole batch before adding its keys
 * (hasRoomFor counts records, an upper bound on new keys): when the budget is exhausted the pass
 * cleans the prefix it mapped, as Kafka's cleaner does when its map fills. An empty map always takes
 * the first batch, growing past the budget if it must, so cleaning always makes progress.
 */
/** Newest offset per key digest, within a byte budget. One thread (the maintenance thread). */
final class OffsetMap {
    static final int BYTES_PER_ENTRY = 24;
    private static final int MIN_SLOTS = 1024;

    private final int maxSlots;
    private final MessageDigest md5;
    private long[] hi;
    private long[] lo;
    private long[] offsets;
    private int size;
    private long hashHi;
    private long hashLo;
    private final byte[] scratch = new byte[16];

    OffsetMap(long budgetBytes) {
        long slots = Math.max(MIN_SLOTS, budgetBytes / BYTES_PER_ENTRY);
        this.maxSlots = (int) Math.min(1 << 30, Long.highestOneBit(slots));
        try {
            this.md5 = MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always provides MD5", e);
        }
        allocate(Math.min(MIN_SLOTS, maxSlots));
    }

    private void allocate(int slots) {
        hi = new long[slots];
        lo = new long[slots];
        offsets = new long[slots];
        Arrays.fill(offsets, -1L);
    }

    int size() {
        return size;
    }

    /** Bytes held by the arrays now. */
    long bytes() {
        return (long) offsets.length * BYTES_PER_ENTRY;
    }

    void clear() {
        size = 0;
        if (offsets.length > MIN_SLOTS) {
            allocate(Math.min(MIN_SLOTS, maxSlots));
        } else {
            Arrays.fill(offsets, -1L);
        }
    }

    /**
     * Whether {@code records} more keys fit in the budget. An empty map says yes to anything (the
     * first batch of a pass is always taken).
     */
    boolean hasRoomFor(int records) {
        return size == 0 || (long) size + records <= capacity(maxSlots);
    }

    /** Records {@code offset} as the newest offset of {@code key} (offsets must be put in increasing order). */
    void put(ByteBuffer key, long offset) {
        if (size + 1 > capacity(offsets.length)) {
            grow();
        }
        digest(key);
        int mask = offsets.length - 1;
        int i = (int) hashLo & mask;
        while (offsets[i] >= 0) {
            if (hi[i] == hashHi && lo[i] == hashLo) {
                offsets[i] = offset;
                return;
            }
            i = (i + 1) & mask;
        }
        hi[i] = hashHi;
        lo[i] = hashLo;
        offsets[i] = offset;
        size++;
    }

    /** The newest offset recorded for {@code key}, or -1. */
    long get(ByteBuffer key) {
        if (size == 0) {
            return -1;
        }
        digest(key);
        int mask = offsets.length - 1;
        int i = (int) hashLo & mask;
        while (offsets[i] >= 0) {
            if (hi[i] == hashHi && lo[i] == hashLo) {
                return offsets[i];
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    private static long longAt(byte[] b, int at) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[at + i] & 0xFF);
        }
        return v;
    }

    private static long capacity(int slots) {
        return slots - (slots >> 2);
    }

    private void grow() {
        long[] oldHi = hi;
        long[] oldLo = lo;
        long[] oldOffsets = offsets;
        // past the budget only when one batch alone needs it (see hasRoomFor)
        allocate(oldOffsets.length * 2);
        int mask = offsets.length - 1;
        for (int j = 0; j < oldOffsets.length; j++) {
            if (oldOffsets[j] < 0) {
                continue;
            }
            int i = (int) oldLo[j] & mask;
            while (offsets[i] >= 0) {
                i = (i + 1) & mask;
            }
            hi[i] = oldHi[j];
            lo[i] = oldLo[j];
            offsets[i] = oldOffsets[j];
        }
    }

    private void digest(ByteBuffer key) {
        md5.reset();
        md5.update(key.duplicate());
        try {
            md5.digest(scratch, 0, scratch.length);
        } catch (DigestException e) {
            throw new IllegalStateException("MD5 digest into a 16-byte array", e);
        }
        hashHi = longAt(scratch, 0);
        hashLo = longAt(scratch, 8);
    }
}
