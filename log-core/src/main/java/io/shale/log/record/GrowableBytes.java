package io.shale.log.record;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;

import java.util.Arrays;

/**
 * A growable byte array with a hard cap: the builder's reusable record and compression buffers,
 * and the output of a decompressor. Growth doubles, so the cost of appending is amortised and a
 * reused instance stops allocating once it has reached the working size. When growing would pass
 * {@link #cap}, {@link #ensureRoom} fails instead: a decompressor therefore only allocates in
 * proportion to bytes it actually produced, never to a size some header claimed.
 *
 * <p>Not thread-safe.
 */
final class GrowableBytes {
    byte[] array;
    int length;
    private final int cap;

    GrowableBytes(int initialCapacity, int cap) {
        this.cap = cap;
        this.array = new byte[Math.min(Math.max(initialCapacity, 16), cap)];
    }

    /** Thrown when the output would pass the cap. */
    static final class LimitExceededException extends Exception {
        private static final long serialVersionUID = 1L;

        LimitExceededException(String message) {
            super(message, null, false, false);
        }
    }

    int cap() {
        return cap;
    }

    /** Room currently free without growing. */
    int free() {
        return array.length - length;
    }

    /**
     * Makes {@code needed} more bytes writable at {@link #length}.
     *
     * @throws LimitExceededException if that would pass the cap
     */
    void ensureRoom(int needed) throws LimitExceededException {
        long required = (long) length + needed;
        if (required <= array.length) {
            return;
        }
        if (required > cap) {
            throw new LimitExceededException("output would exceed the limit of " + cap + " bytes");
        }
        long grown = Math.max(required, (long) array.length * 2);
        array = Arrays.copyOf(array, (int) Math.min(grown, cap));
    }

    /** Grows without a cap check; for the builder, whose input the caller owns. */
    void ensureRoomUnchecked(int needed) {
        long required = (long) length + needed;
        if (required <= array.length) {
            return;
        }
        if (required > Integer.MAX_VALUE - 16) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "record batch would be larger than 2 GiB");
        }
        long grown = Math.max(required, Math.min((long) array.length * 2, Integer.MAX_VALUE - 16));
        array = Arrays.copyOf(array, (int) grown);
    }

    void clear() {
        length = 0;
    }
}
