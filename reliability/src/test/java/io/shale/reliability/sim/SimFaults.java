package io.shale.reliability.sim;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * What the simulated object store and local disk do wrong, and how slowly: error rates, 503
 * storms, lost answers (the write landed, the caller saw an error), writes that land after the
 * caller gave up, listings that lag, short and empty listing pages, latency with spikes, failed
 * fsyncs whose bytes may still have reached the disk. Rates are drawn per history from its seed;
 * every decision comes from the simulation's random source.
 */
final class SimFaults {
    enum Outcome { OK, TRANSIENT, THROTTLED, LOST_ANSWER, LANDS_LATE }

    private final Sim sim;
    double errorRate;
    double lostAnswerRate;
    double landsLateRate;
    double spikeRate;
    long listLagMillis;
    boolean shortPages;
    double walFailRate;
    long stormUntilNanos;
    long diskTroubleUntilNanos;
    /** Faults off (the end of a history heals the world before the final checks). */
    boolean healed;
    /** Faults injected so far (refused requests, lost answers, late landings, failed syncs). */
    long injected;

    /**
     * {@code lagListings}: whether listings may lag behind writes. That breaks the SPI's consistency
     * promise (S3 has listed what was written since 2020), on which one thing rests: a new writer's
     * object-WAL replay lists every WAL object the old writer wrote before its fence check. So it is
     * injected only into worlds with a local WAL, where nothing relies on it (manifest loads read
     * deltas until one is missing, orphan scans and garbage collection merely do less).
     */
    SimFaults(Sim sim, Random setup, boolean lagListings) {
        this.sim = sim;
        double level = setup.nextDouble();
        errorRate = level < 0.3 ? 0 : setup.nextDouble() * 0.08;
        lostAnswerRate = setup.nextDouble() < 0.5 ? 0 : setup.nextDouble() * 0.05;
        landsLateRate = setup.nextDouble() < 0.5 ? 0 : setup.nextDouble() * 0.03;
        spikeRate = setup.nextDouble() * 0.03;
        long lag = setup.nextDouble() < 0.8 ? 0 : 1 + setup.nextInt(200);
        listLagMillis = lagListings ? lag : 0;
        shortPages = setup.nextBoolean();
        walFailRate = setup.nextDouble() < 0.5 ? 0 : setup.nextDouble() * 0.05;
    }

    /** Starts a storm: every request fails (throttled or transient) for a while. */
    void storm(long millis) {
        stormUntilNanos = Math.max(stormUntilNanos, sim.nanos() + TimeUnit.MILLISECONDS.toNanos(millis));
    }

    /** The disk fails half of the fsyncs for a while. */
    void diskTrouble(long millis) {
        diskTroubleUntilNanos = Math.max(diskTroubleUntilNanos, sim.nanos() + TimeUnit.MILLISECONDS.toNanos(millis));
    }

    void heal() {
        healed = true;
        stormUntilNanos = 0;
        diskTroubleUntilNanos = 0;
    }

    Outcome write() {
        Outcome o = decideWrite();
        if (o != Outcome.OK) {
            injected++;
        }
        return o;
    }

    private Outcome decideWrite() {
        Random r = sim.rng();
        if (healed) {
            return Outcome.OK;
        }
        if (sim.nanos() < stormUntilNanos) {
            return r.nextBoolean() ? Outcome.THROTTLED : Outcome.TRANSIENT;
        }
        double x = r.nextDouble();
        if (x < errorRate) {
            return r.nextBoolean() ? Outcome.THROTTLED : Outcome.TRANSIENT;
        }
        x -= errorRate;
        if (x < lostAnswerRate) {
            return Outcome.LOST_ANSWER;
        }
        x -= lostAnswerRate;
        if (x < landsLateRate) {
            return Outcome.LANDS_LATE;
        }
        return Outcome.OK;
    }

    Outcome read() {
        Outcome o = decideRead();
        if (o != Outcome.OK) {
            injected++;
        }
        return o;
    }

    private Outcome decideRead() {
        Random r = sim.rng();
        if (healed) {
            return Outcome.OK;
        }
        if (sim.nanos() < stormUntilNanos) {
            return r.nextBoolean() ? Outcome.THROTTLED : Outcome.TRANSIENT;
        }
        if (r.nextDouble() < errorRate) {
            return r.nextBoolean() ? Outcome.THROTTLED : Outcome.TRANSIENT;
        }
        return Outcome.OK;
    }

    /** One leg of a request (to the store, or back): a few ms, sometimes hundreds. */
    long latencyNanos() {
        Random r = sim.rng();
        long micros = 500 + r.nextInt(15_000);
        if (!healed && r.nextDouble() < spikeRate) {
            micros += 100_000 + r.nextInt(2_000_000);
        }
        return TimeUnit.MICROSECONDS.toNanos(micros);
    }

    /** How long after the caller gave up a late write lands. */
    long lateLandingNanos() {
        return TimeUnit.MILLISECONDS.toNanos(50 + sim.rng().nextInt(20_000));
    }

    /** A listing page's size: the requested maximum, or (short pages) fewer, even none. */
    int pageSize(int maxKeys) {
        if (healed || !shortPages || maxKeys <= 1) {
            return maxKeys;
        }
        int x = sim.rng().nextInt(4);
        return x == 0 ? 0 : x == 1 ? 1 + sim.rng().nextInt(maxKeys) : maxKeys;
    }

    long walSyncNanos() {
        return TimeUnit.MICROSECONDS.toNanos(100 + sim.rng().nextInt(2_000));
    }

    boolean walGroupFails() {
        double rate = sim.nanos() < diskTroubleUntilNanos ? 0.5 : walFailRate;
        boolean fails = !healed && sim.rng().nextDouble() < rate;
        if (fails) {
            injected++;
        }
        return fails;
    }

    boolean failedGroupLanded() {
        return sim.rng().nextBoolean();
    }

    @Override
    public String toString() {
        return String.format("errors=%.3f lostAnswers=%.3f landsLate=%.3f spikes=%.3f listLag=%dms shortPages=%s walFail=%.3f",
                errorRate, lostAnswerRate, landsLateRate, spikeRate, listLagMillis, shortPages, walFailRate);
    }
}
