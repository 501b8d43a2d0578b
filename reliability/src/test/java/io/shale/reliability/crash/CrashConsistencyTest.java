package io.shale.reliability.crash;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash consistency with real child JVMs killed by SIGKILL (see {@link CrashHarness}): after every
 * verified cycle, every append any child acknowledged is present exactly once, in order,
 * byte-identical, offsets are contiguous from the log start, and nothing is present that no
 * producer appended.
 *
 * <p>Seeded: the seed is printed and {@code -Dshale.crash.seed=N} repeats a run;
 * {@code -Dshale.crash.cycles=N} sets the cycle count of the slow test (the long run:
 * {@code mvn -B -pl reliability verify -Pslow -Dtest=CrashConsistencyTest -Dshale.crash.cycles=10000},
 * or {@code CrashSoak}).
 */
class CrashConsistencyTest {

    static long seed() {
        Long fixed = Long.getLong("shale.crash.seed");
        return fixed != null ? fixed : ThreadLocalRandom.current().nextLong();
    }

    @Test
    @Timeout(300)
    void acknowledgedAppendsShouldSurviveAFewSigkills(@TempDir Path dir) throws Exception {
        CrashHarness.Stats stats = new CrashHarness(CrashHarness.Settings.of(dir.resolve("store"), seed(), 4),
                System.out::println).run();
        assertThat(stats.acknowledgedAppends).isPositive();
        assertThat(stats.verifications).isPositive();
    }

    @Test
    @Tag("slow")
    @Timeout(1800)
    void acknowledgedAppendsShouldSurviveSigkillsWithTheObjectWal(@TempDir Path dir) throws Exception {
        int cycles = Integer.getInteger("shale.crash.objectWalCycles", 20);
        CrashHarness.Stats stats = new CrashHarness(CrashHarness.Settings.of(dir.resolve("store"), seed(), cycles)
                .withObjectWal(), System.out::println).run();
        System.out.println("object-WAL crash run finished: " + stats);
        assertThat(stats.cycles).isEqualTo(cycles);
        assertThat(stats.acknowledgedAppends).isPositive();
    }

    /** SIGKILLed children with data only in object-WAL objects the store commits as data objects. */
    @Test
    @Timeout(600)
    void acknowledgedAppendsShouldSurviveSigkillsWithTheObjectWalWritingDataObjects(@TempDir Path dir) throws Exception {
        int cycles = Integer.getInteger("shale.crash.objectWalCycles", 6);
        CrashHarness.Stats stats = new CrashHarness(CrashHarness.Settings.of(dir.resolve("store"), seed(), cycles)
                .withObjectWalDataObjects(), System.out::println).run();
        System.out.println("object-WAL (data objects) crash run finished: " + stats);
        assertThat(stats.cycles).isEqualTo(cycles);
        assertThat(stats.acknowledgedAppends).isPositive();
        assertThat(stats.verifications).isPositive();
    }

    @Test
    @Tag("slow")
    @Timeout(value = 7, unit = java.util.concurrent.TimeUnit.DAYS)
    void acknowledgedAppendsShouldSurviveManySigkillsAndCrashPoints(@TempDir Path dir) throws Exception {
        int cycles = Integer.getInteger("shale.crash.cycles", 40);
        CrashHarness.Stats stats = new CrashHarness(CrashHarness.Settings.of(dir.resolve("store"), seed(), cycles),
                System.out::println).run();
        System.out.println("crash run finished: " + stats);
        assertThat(stats.cycles).isEqualTo(cycles);
        assertThat(stats.acknowledgedAppends).isPositive();
        if (cycles >= 20) {
            assertThat(stats.crashPointHits).as("children halted at a crash point").isPositive();
        }
    }
}
