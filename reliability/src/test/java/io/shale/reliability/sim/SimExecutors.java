package io.shale.reliability.sim;

import io.shale.log.internal.engine.EngineRuntime;
import io.shale.log.internal.objectstore.RetryingObjectStore;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Executors, a timer and an {@link EngineRuntime} whose work is events of a {@link Sim}. */
final class SimExecutors {
    private SimExecutors() {
    }

    /**
     * An executor of events of one kind, owned by a node. Serial executors run one task at a time,
     * in submission order (a single-threaded pool); others run each task as its own event.
     */
    static class SimExecutor extends AbstractExecutorService {
        final Sim sim;
        final SimNode owner;
        final String name;
        final Sim.Kind kind;
        private final boolean serial;
        private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
        private boolean scheduled;
        volatile boolean shutdown;

        SimExecutor(Sim sim, SimNode owner, String name, Sim.Kind kind, boolean serial) {
            this.sim = sim;
            this.owner = owner;
            this.name = name;
            this.kind = kind;
            this.serial = serial;
        }

        @Override
        public void execute(Runnable command) {
            if (shutdown) {
                throw new RejectedExecutionException(name + " is shut down");
            }
            if (!serial) {
                sim.schedule(kind, owner, 0, name, () -> {
                    if (!shutdown) {
                        command.run();
                    }
                });
                return;
            }
            queue.add(command);
            if (!scheduled) {
                scheduleNext();
            }
        }

        private void scheduleNext() {
            scheduled = true;
            sim.schedule(kind, owner, 0, name, () -> {
                Runnable r = queue.poll();
                try {
                    if (r != null && !shutdown) {
                        r.run();
                    }
                } finally {
                    scheduled = false;
                    if (!queue.isEmpty() && !shutdown) {
                        scheduleNext();
                    }
                }
            });
        }

        @Override
        public void shutdown() {
            shutdown = true;
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown = true;
            List<Runnable> dropped = new ArrayList<>(queue);
            queue.clear();
            return dropped;
        }

        @Override
        public boolean isShutdown() {
            return shutdown;
        }

        @Override
        public boolean isTerminated() {
            return shutdown;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return true;
        }
    }

    /** A timer: delayed and periodic tasks as WORLD events (the engine's timer tasks never block). */
    static final class SimTimer extends SimExecutor implements ScheduledExecutorService {
        SimTimer(Sim sim, SimNode owner, String name) {
            super(sim, owner, name, Sim.Kind.WORLD, false);
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            return schedule(() -> {
                command.run();
                return null;
            }, delay, unit);
        }

        @Override
        public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
            check();
            SimScheduledFuture<V> f = new SimScheduledFuture<>(sim);
            long nanos = unit.toNanos(delay);
            f.due = sim.nanos() + nanos;
            f.event = sim.schedule(kind, owner, nanos, name, () -> {
                if (shutdown || f.isDone()) {
                    return;
                }
                try {
                    f.complete(callable.call());
                } catch (Exception e) {
                    f.completeExceptionally(e);
                }
            });
            return f;
        }

        @Override
        public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
            return scheduleWithFixedDelay(command, initialDelay, period, unit);
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
            check();
            SimScheduledFuture<Void> f = new SimScheduledFuture<>(sim);
            repeat(f, command, unit.toNanos(initialDelay), unit.toNanos(delay));
            return f;
        }

        private void repeat(SimScheduledFuture<Void> f, Runnable command, long delayNanos, long periodNanos) {
            f.due = sim.nanos() + delayNanos;
            f.event = sim.schedule(kind, owner, delayNanos, name, () -> {
                if (shutdown || f.isDone()) {
                    return;
                }
                try {
                    command.run();
                } catch (RuntimeException e) {
                    f.completeExceptionally(e); // a periodic task that throws stops, as in the JDK
                    throw e;
                }
                repeat(f, command, periodNanos, periodNanos);
            });
        }

        private void check() {
            if (shutdown) {
                throw new RejectedExecutionException(name + " is shut down");
            }
        }
    }

    /** A scheduled task's handle: cancelling removes its event. */
    static final class SimScheduledFuture<V> extends CompletableFuture<V> implements ScheduledFuture<V> {
        private final Sim sim;
        Sim.Event event;
        long due;

        SimScheduledFuture(Sim sim) {
            this.sim = sim;
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            if (event != null) {
                event.cancelled = true;
            }
            return super.cancel(mayInterruptIfRunning);
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(due - sim.nanos(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed o) {
            return Long.compare(getDelay(TimeUnit.NANOSECONDS), o.getDelay(TimeUnit.NANOSECONDS));
        }

        @Override
        public V get() throws InterruptedException, ExecutionException {
            return io.shale.log.internal.util.Blocking.get(this);
        }

        @Override
        public V get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
            return io.shale.log.internal.util.Blocking.get(this, timeout, unit);
        }
    }

    /** The runtime a simulated store instance runs on: everything owned by its node. */
    static final class SimRuntime implements EngineRuntime {
        private final Sim sim;
        private final SimNode node;

        SimRuntime(Sim sim, SimNode node) {
            this.sim = sim;
            this.node = node;
        }

        @Override
        public ScheduledExecutorService newTimer(String name) {
            return node.track(new SimTimer(sim, node, node.name + "/" + name));
        }

        @Override
        public ExecutorService newSerialExecutor(String name) {
            return node.track(new SimExecutor(sim, node, node.name + "/" + name, Sim.Kind.TASK, true));
        }

        @Override
        public ExecutorService newPool(String name, int maxThreads) {
            return node.track(new SimExecutor(sim, node, node.name + "/" + name, Sim.Kind.TASK, false));
        }

        @Override
        public RetryingObjectStore.Builder configure(RetryingObjectStore.Builder retries) {
            String label = node.name + "/retry";
            return retries
                    .scheduler((delayMillis, task) -> sim.schedule(Sim.Kind.WORLD, node,
                            TimeUnit.MILLISECONDS.toNanos(delayMillis), label, task))
                    .nanoClock(sim::nanos)
                    .random(new Random(sim.rng().nextLong()));
        }
    }
}
