package io.shale.reliability.sim;

import io.shale.log.internal.engine.StoreEngine;
import java.util.ArrayList;
import java.util.List;

/**
 * One simulated process: a store instance (writer or read-only), the executors its runtime
 * created, and the host (disk) it runs on. Killing it drops all its pending events, as SIGKILL.
 */
final class SimNode {
    final int id;
    final String name;
    final SimHost host;
    final boolean readOnly;
    boolean alive = true;
    /** Set once open returned. */
    StoreEngine engine;
    /** Virtual time (ms) at which its open began: its claim comes after this. */
    long openStartedMs;
    /** Virtual time (ms) at which a newer writer's open returned: from then on this one is a zombie. */
    long supersededAtMs = Long.MAX_VALUE;
    /** When a newer writer began opening (its claim fences this one no earlier than this). */
    long supersedeStartedMs = Long.MAX_VALUE;
    private final List<SimExecutors.SimExecutor> executors = new ArrayList<>();

    SimNode(int id, SimHost host, boolean readOnly) {
        this.id = id;
        this.name = (readOnly ? "reader" : "node") + id;
        this.host = host;
        this.readOnly = readOnly;
    }

    private final List<Runnable> onKill = new ArrayList<>();

    /** Runs {@code hook} when the process is killed (a local WAL keeps what reached its disk). */
    void onKill(Runnable hook) {
        onKill.add(hook);
    }

    <E extends SimExecutors.SimExecutor> E track(E executor) {
        executors.add(executor);
        return executor;
    }

    /** SIGKILL: nothing of this process runs any more. */
    void kill() {
        alive = false;
        for (SimExecutors.SimExecutor e : executors) {
            e.shutdownNow();
        }
        onKill.forEach(Runnable::run);
    }

    @Override
    public String toString() {
        return name;
    }
}
