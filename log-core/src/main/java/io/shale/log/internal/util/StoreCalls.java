package io.shale.log.internal.util;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.spi.ObjectStoreException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;

/** Blocking helpers that turn object-store failures into the public error kinds. */
public final class StoreCalls {
    private StoreCalls() {
    }

    /**
     * Waits for {@code f}. Object-store failures become {@code ShaleException} of the kind
     * {@link #kindOf} gives; {@code what} says what was being done. A {@code ShaleException} passes
     * through unchanged.
     */
    public static <T> T await(CompletableFuture<T> f, String what) {
        try {
            return Blocking.get(f);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShaleException(ErrorKind.UNAVAILABLE, "interrupted while " + what, e);
        } catch (ExecutionException | CompletionException | CancellationException e) {
            throw translate(e.getCause() == null ? e : e.getCause(), what);
        }
    }

    /** Maps a failure from the object store (or anything else) to a {@code ShaleException}. */
    public static ShaleException translate(Throwable t, String what) {
        ShaleException se = ShaleException.unwrap(t);
        if (se != null) {
            return se;
        }
        ObjectStoreException ose = ObjectStoreException.find(t);
        if (ose != null) {
            return new ShaleException(kindOf(ose), what + ": " + ose.getMessage(), ose);
        }
        return new ShaleException(ErrorKind.UNAVAILABLE, what + ": " + t, t);
    }

    /**
     * The public error kind of an object-store failure: corrupt bytes {@code CORRUPT_STORAGE}; a
     * refusal that repeating will not fix (access denied, bad credentials, a missing bucket or
     * root, a rejected request) {@code STORAGE_ACCESS}, so that it fails at once instead of
     * looking retriable; throttling, transient faults and anything else {@code UNAVAILABLE}.
     */
    public static ErrorKind kindOf(ObjectStoreException ose) {
        return switch (ose.reason()) {
            case CORRUPT -> ErrorKind.CORRUPT_STORAGE;
            case PERMANENT -> ErrorKind.STORAGE_ACCESS;
            default -> ErrorKind.UNAVAILABLE;
        };
    }

    /**
     * Whether {@code e} is an object-store call that failed (UNAVAILABLE, or STORAGE_ACCESS for a
     * refusal): the request may or may not have taken effect, so a conditional write that failed
     * this way has an unknown outcome and is resolved by its token later, never assumed lost.
     */
    public static boolean isStoreFailure(ShaleException e) {
        return e.kind() == ErrorKind.UNAVAILABLE || e.kind() == ErrorKind.STORAGE_ACCESS;
    }

    /** Whether {@code t} is (or wraps) an object-store NOT_FOUND. */
    public static boolean isNotFound(Throwable t) {
        ObjectStoreException ose = ObjectStoreException.find(t);
        return ose != null && ose.reason() == ObjectStoreException.Reason.NOT_FOUND;
    }

    /** A unique write token (object-store metadata value). */
    public static String newToken() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return Long.toHexString(r.nextLong() | Long.MIN_VALUE) + Long.toHexString(r.nextLong() | Long.MIN_VALUE);
    }

    /** Zero-padded decimal so that lexicographic order is numeric order. */
    public static String pad(long n) {
        String s = Long.toString(n);
        return "0".repeat(Math.max(0, 20 - s.length())) + s;
    }
}
