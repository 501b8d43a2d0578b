package io.shale.reliability.sim;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/** Runs many seeds (in parallel, one history per thread at a time), shrinks the first failure, reports. */
final class SimRunner {
    private SimRunner() {
    }

    /** Totals over a run of seeds. */
    record Report(long seeds, long failures, long steps, long events, long appends, long acknowledged, long opens,
            long crashes, long takeovers, long verifiedPartitions, long faults, long wallMillis, String firstFailureReport) {
    }

    static Report runSeeds(long firstSeed, int seeds, int steps, PrintStream out) {
        long start = System.nanoTime();
        int threads = Integer.getInteger("shale.sim.threads", Math.max(1, Runtime.getRuntime().availableProcessors()));
        Long only = Long.getLong("shale.sim.seed");
        long from = only != null ? only : firstSeed;
        int count = only != null ? 1 : seeds;
        AtomicLong stepsRun = new AtomicLong();
        AtomicLong events = new AtomicLong();
        AtomicLong appends = new AtomicLong();
        AtomicLong acked = new AtomicLong();
        AtomicLong opens = new AtomicLong();
        AtomicLong crashes = new AtomicLong();
        AtomicLong takeovers = new AtomicLong();
        AtomicLong verified = new AtomicLong();
        AtomicLong faults = new AtomicLong();
        List<StoreSimulation.Outcome> failed = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<StoreSimulation.Outcome>> results = new ArrayList<>();
            for (long s = from; s < from + count; s++) {
                long seed = s;
                results.add(pool.submit(() -> StoreSimulation.run(seed, steps)));
            }
            for (Future<StoreSimulation.Outcome> f : results) {
                StoreSimulation.Outcome o = f.get();
                stepsRun.addAndGet(o.stepsRun());
                events.addAndGet(o.eventsRun());
                appends.addAndGet(o.stats().appends());
                acked.addAndGet(o.stats().acknowledged());
                opens.addAndGet(o.stats().opens());
                crashes.addAndGet(o.stats().crashes());
                takeovers.addAndGet(o.stats().takeovers());
                verified.addAndGet(o.stats().verifiedPartitions());
                faults.addAndGet(o.stats().faults());
                if (!o.passed()) {
                    failed.add(o);
                    out.printf("seed %d FAILED at step %d: %s%n", o.seed(), o.stepsRun(), o.failure().getMessage());
                }
                if (only != null) {
                    out.printf("seed %d: %s%n  world: %s%n%s", o.seed(), o.passed() ? "passed" : "failed", o.world(),
                            SimShrinker.describe(o.history()));
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException("simulation run failed", e);
        } finally {
            pool.shutdownNow();
        }
        String report = "";
        if (!failed.isEmpty()) {
            StoreSimulation.Outcome first = failed.get(0);
            StoreSimulation.Outcome shrunk = SimShrinker.shrink(first, Integer.getInteger("shale.sim.shrinkRuns", 300));
            report = String.format("%d of %d seeds failed; first: seed %d (reproduce: -Dshale.sim.seed=%d -Dshale.sim.steps=%d)%n"
                            + "  failure: %s%n  world: %s%n  shrunk history (%d of %d steps):%n%s",
                    failed.size(), count, first.seed(), first.seed(), steps, shrunk.failure().getMessage(), shrunk.world(),
                    shrunk.history().size(), first.stepsRun() + 1, SimShrinker.describe(shrunk.history()));
            out.println(report);
            if (shrunk.failure().getCause() != null) {
                shrunk.failure().getCause().printStackTrace(out);
            }
        }
        long wall = (System.nanoTime() - start) / 1_000_000;
        Report r = new Report(count, failed.size(), stepsRun.get(), events.get(), appends.get(), acked.get(), opens.get(),
                crashes.get(), takeovers.get(), verified.get(), faults.get(), wall, report);
        out.printf("simulation: %d seeds from %d, %d failed; %d steps, %d events, %d appends (%d acknowledged), %d opens,"
                        + " %d crashes, %d takeovers, %d partition checks, %d faults injected; %d ms on %d threads%n",
                r.seeds(), from, r.failures(), r.steps(), r.events(), r.appends(), r.acknowledged(), r.opens(), r.crashes(),
                r.takeovers(), r.verifiedPartitions(), r.faults(), wall, threads);
        return r;
    }
}
