package io.shale.log.wal;

/**
 * The key of one WAL object: {@code <prefix><epoch, 20 digits>-<first sequence, 20 digits>}, e.g.
 * {@code wal/00000000000000000005-00000005497558138880}. Both numbers are zero-padded to the same
 * width, so lexicographic key order (the order a listing returns) is (epoch, first sequence)
 * order, which is sequence order because a sequence carries its epoch in its high bits.
 */
record WalObjectKey(String key, long epoch, long firstSequence) {
    static final int DIGITS = 20;

    static WalObjectKey of(String prefix, long epoch, long firstSequence) {
        return new WalObjectKey(prefix + pad(epoch) + "-" + pad(firstSequence), epoch, firstSequence);
    }

    /** Parses a key written by this WAL, or returns {@code null} for any other key under the prefix. */
    static WalObjectKey parse(String prefix, String key) {
        if (!key.startsWith(prefix) || key.length() != prefix.length() + 2 * DIGITS + 1
                || key.charAt(prefix.length() + DIGITS) != '-') {
            return null;
        }
        long epoch = digits(key, prefix.length());
        long first = digits(key, prefix.length() + DIGITS + 1);
        if (epoch < 0 || first < 0 || (first >>> ObjectWalFormat.EPOCH_SHIFT) != epoch) {
            return null;
        }
        return new WalObjectKey(key, epoch, first);
    }

    /** Sub-prefix (under the WAL prefix) of the claim records: {@code <prefix>claims/<epoch, 20 digits>}. */
    static final String CLAIMS = "claims/";

    /** The key of the claim record of writer epoch {@code epoch}. */
    static String claimRecordKey(String prefix, long epoch) {
        return prefix + CLAIMS + pad(epoch);
    }

    /** The epoch of a claim-record key, or -1 if {@code key} is not one. */
    static long parseClaimRecordEpoch(String prefix, String key) {
        int from = prefix.length() + CLAIMS.length();
        if (!key.startsWith(prefix) || key.length() != from + DIGITS || !key.startsWith(CLAIMS, prefix.length())) {
            return -1;
        }
        return digits(key, from);
    }

    /** An upper bound for the sequences this object can hold, from its epoch alone. */
    long epochLimit() {
        return epoch >= ObjectWriteAheadLog.MAX_EPOCH ? Long.MAX_VALUE : ((epoch + 1) << ObjectWalFormat.EPOCH_SHIFT) - 1;
    }

    private static long digits(String s, int from) {
        long v = 0;
        for (int i = from; i < from + DIGITS; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            if (v > (Long.MAX_VALUE - (c - '0')) / 10) {
                return -1; // overflow
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    private static String pad(long v) {
        String s = Long.toString(v);
        return "0".repeat(DIGITS - s.length()) + s;
    }
}
