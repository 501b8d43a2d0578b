package io.shale.broker;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;

/**
 * Runs tasks one at a time, in submission order, on a shared executor: a connection's requests
 * start in the order they arrived (so that pipelined produce requests are appended in that order),
 * while different connections run in parallel.
 */
final class SerialExecutor implements Executor {
    private final Executor pool;
    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
    private boolean running;

    SerialExecutor(Executor pool) {
        this.pool = pool;
    }

    @Override
    public void execute(Runnable task) {
        synchronized (tasks) {
            tasks.add(task);
            if (running) {
                return;
            }
            running = true;
        }
        try {
            pool.execute(this::runAll);
        } catch (RuntimeException e) {
            synchronized (tasks) {
                tasks.remove(task);
                running = false;
            }
            throw e;
        }
    }

    private void runAll() {
        while (true) {
            Runnable next;
            synchronized (tasks) {
                next = tasks.poll();
                if (next == null) {
                    running = false;
                    return;
                }
            }
            next.run(); // tasks catch their own failures (KafkaConnection.handle completes its future always)
        }
    }
}
