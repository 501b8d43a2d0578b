package io.shale.log.internal.engine;

import io.shale.log.internal.objectstore.RetryingObjectStore;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Where a store's background work runs: its timer, its single-threaded upload and maintenance
 * executors, its pool for completing long polls, and the object-store retry policy's scheduler.
 * {@link #threads()} is the production runtime (daemon threads); the deterministic simulation
 * gives the engine a runtime whose executors are queues in virtual time, all run by one thread,
 * so that a seed reproduces a whole history.
 *
 * <p>Executors returned here are owned by the engine, which shuts them down on close.
 */
public interface EngineRuntime {

    /** A timer for periodic and delayed tasks; tasks on it must be short and never block. */
    ScheduledExecutorService newTimer(String name);

    /** An executor that runs one task at a time, in submission order. */
    ExecutorService newSerialExecutor(String name);

    /** An executor of up to {@code maxThreads} concurrent tasks, idle threads reclaimed. */
    ExecutorService newPool(String name, int maxThreads);

    /** Applies this runtime's scheduling (retry timer, clock, jitter) to the store's retry wrapper. */
    RetryingObjectStore.Builder configure(RetryingObjectStore.Builder retries);

    /** The production runtime: daemon threads named after their role. */
    static EngineRuntime threads() {
        return ThreadRuntime.INSTANCE;
    }

    /** Daemon threads. */
    final class ThreadRuntime implements EngineRuntime {
        static final ThreadRuntime INSTANCE = new ThreadRuntime();

        private ThreadRuntime() {
        }

        @Override
        public ScheduledExecutorService newTimer(String name) {
            ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, StoreEngine.named(name));
            t.setRemoveOnCancelPolicy(true);
            return t;
        }

        @Override
        public ExecutorService newSerialExecutor(String name) {
            return new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                    StoreEngine.named(name));
        }

        @Override
        public ExecutorService newPool(String name, int maxThreads) {
            ThreadPoolExecutor p = new ThreadPoolExecutor(maxThreads, maxThreads, 30, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), StoreEngine.named(name));
            p.allowCoreThreadTimeOut(true);
            return p;
        }

        @Override
        public RetryingObjectStore.Builder configure(RetryingObjectStore.Builder retries) {
            return retries;
        }
    }
}
