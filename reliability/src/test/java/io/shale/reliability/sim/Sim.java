package io.shale.reliability.sim;

import io.shale.log.internal.util.Blocking;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/*
 * Design rationale.
 *
 * One thread runs everything. The engine's executors, its timer, the retry policy's backoff timer,
 * the object WAL's executor, the simulated object store's answers and the simulated local WAL's
 * syncs are all events in virtual time; nothing happens unless this class runs it, so a seed
 * decides the whole history: which operation comes next, each store request's latency and fault,
 * and the order of events due at the same instant (ties are broken by a random number drawn when
 * the event is scheduled).
 *
 * Two kinds of events. TASK events are the engine's own threads (upload, maintenance, long-poll
 * completion): they may block, waiting for a store answer. WORLD events never block: store
 * answers, landings of writes, WAL syncs, timers, the object WAL's callbacks, retry backoffs.
 *
 * Blocking: the engine waits through io.shale.log.internal.util.Blocking, which calls back into
 * runUntil here. A wait inside a TASK runs only WORLD events (another TASK running nested on the
 * same stack would break the engine's one-thread-per-executor assumption and Java monitors, which
 * are re-entrant, would not stop it). A wait at the top (a user call such as close) may run TASK
 * events too, unless the caller holds a catalog lock (createTopic waits for its commit holding it).
 * A wait that nothing can complete is a deadlock: reported, never hung.
 *
 * Processes: every event belongs to a node (a store instance, "process") or to nobody (a write
 * that has left the machine and lands in the bucket). Killing a node drops its events, as SIGKILL
 * would; writes already sent still land.
 */

/** The deterministic world of one simulated history: virtual time, the event queue, the random source. */
final class Sim implements Blocking.Driver {
    static final long EPOCH_MS = 1_700_000_000_000L;
    /** A wait without a deadline that takes longer than this (virtual) is a stuck thread. */
    static final long STUCK_NANOS = TimeUnit.MINUTES.toNanos(30);

    enum Kind { WORLD, TASK }

    /** Something that happens at a virtual instant. */
    static final class Event implements Comparable<Event> {
        final long time;
        final long order;
        final Kind kind;
        final SimNode owner;
        final String label;
        final Runnable action;
        boolean cancelled;

        Event(long time, long order, Kind kind, SimNode owner, String label, Runnable action) {
            this.time = time;
            this.order = order;
            this.kind = kind;
            this.owner = owner;
            this.label = label;
            this.action = action;
        }

        @Override
        public int compareTo(Event o) {
            int c = Long.compare(time, o.time);
            return c != 0 ? c : Long.compare(order, o.order);
        }
    }

    private final PriorityQueue<Event> world = new PriorityQueue<>();
    private final PriorityQueue<Event> tasks = new PriorityQueue<>();
    private long nowNanos;
    private int taskDepth;
    private Random rng;
    /** Whether the current thread holds a lock under which no engine task may run nested. */
    private BooleanSupplier lockHeld = () -> false;
    final Clock clock = new SimClock();

    // what happened, for the determinism check and the report
    long eventsRun;
    long traceHash = 1;
    final List<String> failures = new ArrayList<>();

    Sim(long seed) {
        this.rng = new Random(seed);
    }

    /** Replaces the random source (each operation of a history brings its own, so shrinking keeps faults). */
    void reseed(long seed) {
        this.rng = new Random(seed);
    }

    Random rng() {
        return rng;
    }

    long nanos() {
        return nowNanos;
    }

    long millis() {
        return EPOCH_MS + nowNanos / 1_000_000;
    }

    void lockCheck(BooleanSupplier lockHeld) {
        this.lockHeld = lockHeld;
    }

    /** Schedules {@code action} after {@code delayNanos}; ties with other events are broken at random. */
    Event schedule(Kind kind, SimNode owner, long delayNanos, String label, Runnable action) {
        Event e = new Event(nowNanos + Math.max(0, delayNanos), rng.nextLong(), kind, owner, label, action);
        (kind == Kind.TASK ? tasks : world).add(e);
        return e;
    }

    /** Runs every event due up to {@code now + nanos}, then moves the clock there. Top level only. */
    void advance(long nanos) {
        long until = nowNanos + nanos;
        while (true) {
            Event e = next(true);
            if (e == null || e.time > until) {
                break;
            }
            poll(e);
            run(e);
        }
        nowNanos = Math.max(nowNanos, until);
    }

    @Override
    public void runUntil(CompletableFuture<?> future, long timeoutNanos) {
        long start = nowNanos;
        long deadline = timeoutNanos == Long.MAX_VALUE ? Long.MAX_VALUE : nowNanos + timeoutNanos;
        while (!future.isDone()) {
            boolean tasksAllowed = taskDepth == 0 && !lockHeld.getAsBoolean();
            Event e = next(tasksAllowed);
            if (e == null) {
                if (deadline != Long.MAX_VALUE) {
                    nowNanos = Math.max(nowNanos, deadline);
                    return;
                }
                throw new SimulationFailure("stuck", "a " + (taskDepth > 0 ? "background task" : "caller")
                        + " waits for something no event can complete (deadlock)");
            }
            if (e.time > deadline) {
                nowNanos = Math.max(nowNanos, deadline);
                return;
            }
            if (deadline == Long.MAX_VALUE && e.time - start > STUCK_NANOS) {
                throw new SimulationFailure("stuck", "a " + (taskDepth > 0 ? "background task" : "caller")
                        + " waited " + TimeUnit.NANOSECONDS.toMinutes(e.time - start) + " virtual minutes without a deadline");
            }
            poll(e);
            run(e);
        }
    }

    private Event next(boolean tasksAllowed) {
        Event w = peekLive(world);
        Event t = tasksAllowed ? peekLive(tasks) : null;
        if (w == null) {
            return t;
        }
        if (t == null) {
            return w;
        }
        return w.compareTo(t) <= 0 ? w : t;
    }

    private static Event peekLive(PriorityQueue<Event> q) {
        while (true) {
            Event e = q.peek();
            if (e == null || (!e.cancelled && (e.owner == null || e.owner.alive))) {
                return e;
            }
            q.poll();
        }
    }

    private void poll(Event e) {
        PriorityQueue<Event> q = e.kind == Kind.TASK ? tasks : world;
        if (q.peek() == e) {
            q.poll();
        } else {
            q.remove(e);
        }
    }

    private void run(Event e) {
        nowNanos = Math.max(nowNanos, e.time);
        eventsRun++;
        traceHash = traceHash * 1_000_003 + e.label.hashCode() * 31L + e.time;
        if (e.kind == Kind.TASK) {
            taskDepth++;
        }
        try {
            e.action.run();
        } catch (SimulationFailure f) {
            throw f;
        } catch (Throwable t) {
            throw new SimulationFailure("background-exception", e.label + " threw " + t, t);
        } finally {
            if (e.kind == Kind.TASK) {
                taskDepth--;
            }
        }
    }

    /** Events still queued (for the report). */
    int queued() {
        return world.size() + tasks.size();
    }

    /** The engines' clock: virtual time, in milliseconds since {@link #EPOCH_MS}. */
    private final class SimClock extends Clock {
        @Override
        public long millis() {
            return Sim.this.millis();
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis());
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
