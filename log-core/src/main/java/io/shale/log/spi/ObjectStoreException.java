package io.shale.log.spi;

import java.util.Objects;

/**
 * A failed {@link ObjectStore} operation. The {@link Reason} tells the caller (usually the retry
 * wrapper in the engine) what to do; the message names the bucket/root and key.
 */
public class ObjectStoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What kind of failure this was. */
    public enum Reason {
        /** The object (or the bucket/root) does not exist. Not retried. */
        NOT_FOUND,
        /** The store asked the client to slow down (S3 503 SlowDown, 429). Retried with backoff. */
        THROTTLED,
        /**
         * A transient fault: 5xx, a connection reset, a timeout, S3's 409 for a conditional
         * request racing another. Retried. For a write the outcome is unknown: the object may
         * or may not have been written.
         */
        TRANSIENT,
        /** A fault that repeating will not fix: access denied, bad credentials, bad request. */
        PERMANENT,
        /** The object exists but its bytes are not what was written (short read, bad length). */
        CORRUPT
    }

    private final Reason reason;
    private final String key;

    public ObjectStoreException(Reason reason, String key, String message) {
        this(reason, key, message, null);
    }

    public ObjectStoreException(Reason reason, String key, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.key = key;
    }

    public Reason reason() {
        return reason;
    }

    /** The key the operation was about, or {@code null} for store-wide failures. */
    public String key() {
        return key;
    }

    /** Whether the retry wrapper may repeat the operation. */
    public boolean isRetriable() {
        return reason == Reason.THROTTLED || reason == Reason.TRANSIENT;
    }

    /** Finds an {@code ObjectStoreException} in a cause chain, or returns {@code null}. */
    public static ObjectStoreException find(Throwable t) {
        Throwable cur = t;
        for (int depth = 0; cur != null && depth < 16; depth++) {
            if (cur instanceof ObjectStoreException) {
                return (ObjectStoreException) cur;
            }
            cur = cur.getCause();
        }
        return null;
    }
}
