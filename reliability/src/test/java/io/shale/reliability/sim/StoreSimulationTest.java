package io.shale.reliability.sim;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The deterministic simulation of the whole store (see {@link StoreSimulation}): many seeded
 * histories of appends, admin operations, crashes, takeovers, zombies, read-only tailers, time
 * jumps and object-store and disk faults, each checked against a model.
 *
 * <p>Properties: {@code -Dshale.sim.seeds=N} (histories), {@code -Dshale.sim.firstSeed=S},
 * {@code -Dshale.sim.steps=N} (steps per history), {@code -Dshale.sim.seed=S} (one seed, printed
 * with its history), {@code -Dshale.sim.log=true} (engine logs). A failure prints the seed, the
 * world it drew and a shrunk history; the same seed reproduces it exactly.
 */
class StoreSimulationTest {
    private static Level before;

    @BeforeAll
    static void quiet() {
        Logger shale = (Logger) LoggerFactory.getLogger("io.shale");
        before = shale.getLevel();
        if (!Boolean.getBoolean("shale.sim.log")) {
            shale.setLevel(Level.OFF); // faults make the engine warn a lot; the model is the judge here
        }
    }

    @AfterAll
    static void restore() {
        ((Logger) LoggerFactory.getLogger("io.shale")).setLevel(before);
    }

    @Test
    void seededHistoriesShouldKeepEveryPromise() {
        SimRunner.Report r = SimRunner.runSeeds(Long.getLong("shale.sim.firstSeed", 1), Integer.getInteger("shale.sim.seeds", 400),
                Integer.getInteger("shale.sim.steps", 250), System.out);
        assertThat(r.failures()).as(r.firstFailureReport()).isZero();
    }

    @Tag("slow")
    @Test
    void moreSeededHistoriesShouldKeepEveryPromise() {
        SimRunner.Report r = SimRunner.runSeeds(Long.getLong("shale.sim.firstSeed", 1_000_000), Integer.getInteger("shale.sim.seeds", 1_000),
                Integer.getInteger("shale.sim.steps", 400), System.out);
        assertThat(r.failures()).as(r.firstFailureReport()).isZero();
    }

    /** One seed is one history: the same events in the same order, the same result. */
    @Test
    void aSeedShouldReplayTheSameHistory() {
        for (long seed = 7; seed < 10; seed++) {
            StoreSimulation.Outcome a = StoreSimulation.run(seed, 120);
            StoreSimulation.Outcome b = StoreSimulation.run(seed, 120);
            assertThat(b.eventsRun()).as("events of seed %d", seed).isEqualTo(a.eventsRun());
            assertThat(b.traceHash()).as("trace of seed %d", seed).isEqualTo(a.traceHash());
            assertThat(b.stats()).isEqualTo(a.stats());
            assertThat(a.eventsRun()).isGreaterThan(1_000);
        }
    }
}
