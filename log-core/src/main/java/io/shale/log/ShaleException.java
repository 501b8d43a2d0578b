package io.shale.log;

import java.util.Objects;

/**
 * The one exception type of Shale's public API. Callers switch on {@link #kind()}; the message
 * says what failed and where (topic, partition, offset, object key).
 *
 * <p>Asynchronous operations complete their future exceptionally with a {@code ShaleException}
 * (possibly wrapped in a {@link java.util.concurrent.CompletionException} by
 * {@code CompletableFuture.join()}); {@link #unwrap(Throwable)} recovers it.
 */
public class ShaleException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorKind kind;

    public ShaleException(ErrorKind kind, String message) {
        super(message);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    public ShaleException(ErrorKind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    public ErrorKind kind() {
        return kind;
    }

    /** Convenience for {@code kind().isRetriable()}. */
    public boolean isRetriable() {
        return kind.isRetriable();
    }

    @Override
    public String toString() {
        return "ShaleException[" + kind + "]: " + getMessage();
    }

    /**
     * Finds the {@code ShaleException} behind a throwable from a future ({@code CompletionException},
     * {@code ExecutionException} wrappers are looked through), or returns {@code null}.
     */
    public static ShaleException unwrap(Throwable t) {
        Throwable cur = t;
        for (int depth = 0; cur != null && depth < 16; depth++) {
            if (cur instanceof ShaleException) {
                return (ShaleException) cur;
            }
            cur = cur.getCause();
        }
        return null;
    }
}
