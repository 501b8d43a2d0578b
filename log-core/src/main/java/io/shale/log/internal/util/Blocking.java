package io.shale.log.internal.util;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/*
 * Design rationale.
 *
 * The engine blocks in a handful of places: a background task waiting for an object-store call,
 * flush() and close() waiting for the upload thread, the object WAL's replay and close. In
 * production those are plain Future.get calls. The deterministic simulation runs the whole engine
 * on ONE thread, with every executor and timer replaced by a virtual-time event queue; a plain
 * get() there would wait forever for an event that only this very thread can run. So every wait
 * goes through this class: with no driver installed (production) it is Future.get; with a driver
 * installed on the calling thread (the simulation) the driver runs queued events until the future
 * is done or the virtual deadline passes.
 */

/**
 * Waits for futures. The one place the engine and the object WAL block, so that a deterministic
 * scheduler can take over waiting on its own thread (see {@link Driver}).
 *
 * <p><b>Threading.</b> Thread-safe; a driver applies only to the thread that installed it.
 */
public final class Blocking {

    /**
     * Runs other work while the installing thread waits: called instead of blocking, it must
     * return once {@code future} is done or {@code timeoutNanos} (of its own time) have passed.
     */
    public interface Driver {
        void runUntil(CompletableFuture<?> future, long timeoutNanos);
    }

    private static final ThreadLocal<Driver> DRIVER = new ThreadLocal<>();

    /** The longest wait {@link #timeoutNanos} returns: about 73 years, far from overflowing a deadline. */
    public static final long MAX_TIMEOUT_NANOS = Long.MAX_VALUE / 4;

    /**
     * A caller's timeout in nanoseconds, safe to add to {@code System.nanoTime()}: negative is 0,
     * and a duration too long for a long of nanoseconds (or one that would overflow a deadline),
     * {@link #MAX_TIMEOUT_NANOS}, so that any {@code Duration} is a valid timeout.
     */
    public static long timeoutNanos(java.time.Duration timeout) {
        if (timeout.isNegative()) {
            return 0;
        }
        if (timeout.compareTo(java.time.Duration.ofNanos(MAX_TIMEOUT_NANOS)) >= 0) {
            return MAX_TIMEOUT_NANOS;
        }
        return timeout.toNanos();
    }

    private Blocking() {
    }

    /** Installs {@code driver} for the calling thread (null removes it). Simulation only. */
    public static void install(Driver driver) {
        if (driver == null) {
            DRIVER.remove();
        } else {
            DRIVER.set(driver);
        }
    }

    /** Whether the calling thread waits through a driver (it is the simulation's thread). */
    public static boolean driven() {
        return DRIVER.get() != null;
    }

    /** {@link CompletableFuture#get()}, or the driver's way of waiting. */
    public static <T> T get(CompletableFuture<T> future) throws InterruptedException, ExecutionException {
        Objects.requireNonNull(future, "future");
        Driver d = DRIVER.get();
        if (d != null && !future.isDone()) {
            d.runUntil(future, Long.MAX_VALUE);
            if (!future.isDone()) {
                throw new IllegalStateException("simulation driver returned before the awaited future completed");
            }
        }
        return future.get();
    }

    /** {@link CompletableFuture#get(long, TimeUnit)}, or the driver's way of waiting. */
    public static <T> T get(CompletableFuture<T> future, long timeout, TimeUnit unit)
            throws InterruptedException, ExecutionException, TimeoutException {
        Objects.requireNonNull(future, "future");
        Driver d = DRIVER.get();
        if (d != null) {
            if (!future.isDone()) {
                d.runUntil(future, unit.toNanos(timeout));
            }
            if (!future.isDone()) {
                throw new TimeoutException();
            }
            return future.get();
        }
        return future.get(timeout, unit);
    }
}
