package io.shale.reliability.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * Shrinks a failing history: removes chunks of steps (halves, quarters, ... single steps) while
 * the history still fails the same way (same failure kind), within a budget of replays. Steps
 * are valid in any state and carry their own fault seeds, so a shorter history is still a
 * history of the same world.
 */
final class SimShrinker {
    private SimShrinker() {
    }

    static StoreSimulation.Outcome shrink(StoreSimulation.Outcome failing, int maxRuns) {
        String kind = failing.failure().kind;
        // steps after the failure never ran
        List<SimOp> best = new ArrayList<>(failing.history().subList(0, Math.min(failing.history().size(),
                failing.stepsRun() + 1)));
        StoreSimulation.Outcome bestOutcome = failing;
        int runs = 0;
        int chunk = Math.max(1, best.size() / 2);
        while (chunk >= 1 && runs < maxRuns) {
            boolean removed = false;
            for (int from = 0; from < best.size() && runs < maxRuns; ) {
                List<SimOp> candidate = new ArrayList<>(best.subList(0, from));
                candidate.addAll(best.subList(Math.min(best.size(), from + chunk), best.size()));
                if (candidate.size() == best.size()) {
                    break;
                }
                StoreSimulation.Outcome o = StoreSimulation.replay(failing.seed(), candidate);
                runs++;
                if (!o.passed() && o.failure().kind.equals(kind)) {
                    best = new ArrayList<>(o.history().subList(0, Math.min(o.history().size(), o.stepsRun() + 1)));
                    bestOutcome = o;
                    removed = true;
                } else {
                    from += chunk;
                }
            }
            if (!removed) {
                chunk /= 2;
            }
        }
        return bestOutcome;
    }

    /** The history as lines, for the report. */
    static String describe(List<SimOp> history) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < history.size(); i++) {
            b.append(String.format("  %3d  %s%n", i, history.get(i)));
        }
        return b.toString();
    }
}
