package io.shale.log.internal.util;

import java.util.concurrent.atomic.AtomicLong;

/*
 * Design rationale.
 *
 * Crash tests kill a child JVM with SIGKILL at random moments; most kills land while the process
 * waits on I/O, rarely in the narrow windows where a crash is most dangerous (a data object PUT
 * but not yet committed, a manifest delta created but not yet applied, a compacted object written
 * but not committed, objects deleted but their deletion not yet recorded). A crash point is a named
 * place in the engine where such a window opens: when the JVM was started with
 * -Dshale.crashpoint=<name> the process halts there (Runtime.halt, which is what SIGKILL looks like
 * from the outside: no shutdown hooks, no finalisation, no flushing of anything not yet written).
 *
 * Cost when disabled: one read of a static final boolean, which the JIT folds away.
 */

/**
 * Named places in the engine where a test may make the process die abruptly (exit status 137, as
 * for SIGKILL). Disabled unless the system property {@code shale.crashpoint} names a point; then
 * the {@code shale.crashpoint.after}-th hit of that point (default 1) halts the JVM with
 * {@link Runtime#halt(int)} (no shutdown hooks run).
 *
 * <p>Points: {@code upload.afterDataPut}, {@code manifest.afterDeltaCreated},
 * {@code manifest.afterSnapshotPut}, {@code compaction.afterPut}, {@code cleaning.afterPut} (key-based
 * compaction: cleaned segments written, not committed), {@code maintenance.beforeDelete},
 * {@code maintenance.afterDelete}.
 *
 * <p><b>Threading.</b> Thread-safe. For tests only: production code never sets the property.
 */
public final class CrashPoints {
    /** System property naming the point to crash at. */
    public static final String PROPERTY = "shale.crashpoint";
    /** System property: crash at the N-th hit of the point (default 1). */
    public static final String AFTER_PROPERTY = "shale.crashpoint.after";
    /** Exit status of a crash at a crash point (128 + SIGKILL). */
    public static final int EXIT_STATUS = 137;

    private static final String POINT = System.getProperty(PROPERTY, "");
    private static final boolean ENABLED = !POINT.isEmpty();
    private static final long AFTER = Math.max(1, Long.getLong(AFTER_PROPERTY, 1));
    private static final AtomicLong HITS = new AtomicLong();

    private CrashPoints() {
    }

    /** Halts the JVM if {@code name} is the configured crash point and its hit count is reached. */
    public static void hit(String name) {
        if (ENABLED && POINT.equals(name) && HITS.incrementAndGet() >= AFTER) {
            Runtime.getRuntime().halt(EXIT_STATUS);
        }
    }

    /** Whether a crash point is configured in this JVM. */
    public static boolean enabled() {
        return ENABLED;
    }
}
