package io.shale.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.ErrorKind;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.ShaleException;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.record.Record;
import io.shale.log.testing.InMemoryObjectStore;
import io.shale.log.testing.InMemoryWal;
import io.shale.log.spi.WriteAheadLog;
import io.shale.log.testing.SharedObjectStore;
import io.shale.log.wal.ObjectWriteAheadLog;
import io.shale.reliability.support.Ledger;
import io.shale.reliability.support.Payloads;
import io.shale.reliability.support.Producers;
import io.shale.reliability.support.Stores;
import io.shale.reliability.support.Verifier;
import io.shale.storage.testkit.FaultInjectingObjectStore;
import io.shale.storage.testkit.FaultInjectingObjectStore.Fault;
import io.shale.storage.testkit.FaultInjectingObjectStore.Op;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The engine over an object store that fails on purpose, one fault class at a time and all mixed:
 * producers, a reader, flushes, uploads, compaction, snapshots and deletions run while faults are
 * injected; then faults stop and the store must make progress (a flush succeeds) and serve every
 * acknowledged record exactly once, before and after a reopen, and after a reopen with an empty
 * WAL (proving the data reached the object store).
 *
 * <p>The faults sit directly under the engine, which wraps every store in its retry policy
 * ({@code RetryingObjectStore}, deadline {@code object.store.retry.deadline.ms}). Seeds: {@code -Dshale.fault.seed=N} repeats a run; the seed is in every failure message.
 */
class ObjectStoreFaultTest {
    private static final int PARTITIONS = 8;
    private static final int MAX_VALUE = 300;
    /**
     * What a call may fail with while faults are injected: UNAVAILABLE, and STORAGE_ACCESS where a
     * request met an injected PERMANENT failure (the store reports those at once, as it must for a
     * real 403 or a missing bucket; here they are random, so the next call may succeed).
     */
    private static final java.util.Set<ErrorKind> FAILED_BY_FAULTS = java.util.EnumSet.of(ErrorKind.UNAVAILABLE,
            ErrorKind.STORAGE_ACCESS);
    private static final long BASE_SEED = Long.getLong("shale.fault.seed", 0x5EED_FA17L);

    static Stream<Arguments> scenarios() {
        return Stream.of(
                scenario("transient", b -> b.rate(Fault.TRANSIENT, 0.2)),
                scenario("throttled", b -> b.rate(Fault.THROTTLED, 0.2)),
                scenario("permanent", b -> b.rate(Fault.PERMANENT, 0.03)),
                scenario("lost-responses", b -> b.rate(Fault.LOST_RESPONSE, 0.15)),
                scenario("latency", b -> b.rate(Fault.LATENCY, 1.0).latency(Duration.ofMillis(15))),
                scenario("stale-listings", b -> b.rate(Fault.STALE_LIST, 1.0).staleFor(Duration.ofSeconds(2))),
                scenario("lost-manifest-responses", b -> b.rate(Op.PUT_IF_ABSENT, Fault.LOST_RESPONSE, 0.5)
                        .rate(Op.HEAD, Fault.TRANSIENT, 0.2)),
                scenario("mixed", b -> b.rate(Fault.TRANSIENT, 0.05).rate(Fault.THROTTLED, 0.05)
                        .rate(Fault.PERMANENT, 0.01).rate(Fault.LOST_RESPONSE, 0.05).rate(Fault.LATENCY, 0.3)
                        .rate(Fault.STALE_LIST, 0.5).latency(Duration.ofMillis(10))),
                // the object WAL lives in the failing store too: appends themselves meet the faults
                scenario("object-wal-transient", b -> b.rate(Fault.TRANSIENT, 0.1)),
                scenario("object-wal-lost-responses", b -> b.rate(Fault.LOST_RESPONSE, 0.1)),
                scenario("object-wal-mixed", b -> b.rate(Fault.TRANSIENT, 0.05).rate(Fault.THROTTLED, 0.03)
                        .rate(Fault.LOST_RESPONSE, 0.05).rate(Fault.LATENCY, 0.3).rate(Fault.STALE_LIST, 0.5)
                        .latency(Duration.ofMillis(10))),
                // the object WAL's objects are the data objects (RFC 0006)
                scenario("object-wal-data-transient", b -> b.rate(Fault.TRANSIENT, 0.1)),
                scenario("object-wal-data-lost-responses", b -> b.rate(Fault.LOST_RESPONSE, 0.1)),
                scenario("object-wal-data-mixed", b -> b.rate(Fault.TRANSIENT, 0.05).rate(Fault.THROTTLED, 0.03)
                        .rate(Fault.LOST_RESPONSE, 0.05).rate(Fault.LATENCY, 0.3).rate(Fault.STALE_LIST, 0.5)
                        .latency(Duration.ofMillis(10))));
    }

    private static java.util.function.Supplier<WriteAheadLog> walFor(String scenario, InMemoryWal memory) {
        if (scenario.startsWith("object-wal")) {
            boolean dataObjects = scenario.startsWith("object-wal-data");
            return () -> ObjectWriteAheadLog.builder().flushInterval(Duration.ofMillis(5)).flushBytes(32 << 10)
                    .dataObjects(dataObjects).build();
        }
        return () -> memory;
    }

    private static Arguments scenario(String name, UnaryOperator<FaultInjectingObjectStore.Builder> faults) {
        return Arguments.of(name, faults);
    }

    /** {@code -Dshale.fault.only=name} runs one scenario. */
    private static boolean selected(String name) {
        String only = System.getProperty("shale.fault.only", "");
        return only.isEmpty() || only.equals(name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    @Timeout(120)
    void everyAcknowledgedRecordShouldSurviveFaultsAndTheStoreShouldRecoverWhenTheyStop(String name,
            UnaryOperator<FaultInjectingObjectStore.Builder> faults) {
        org.junit.jupiter.api.Assumptions.assumeTrue(selected(name), "not selected by -Dshale.fault.only");
        run(name, faults, BASE_SEED ^ name.hashCode(), Long.getLong("shale.fault.ms", 1_500), 1_500);
    }

    /** More seeds, longer runs: {@code -Pslow}; {@code -Dshale.fault.rounds=N} for N seeds per scenario. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    @Tag("slow")
    @Timeout(1800)
    void everyAcknowledgedRecordShouldSurviveLongerFaultRunsWithMoreSeeds(String name,
            UnaryOperator<FaultInjectingObjectStore.Builder> faults) {
        org.junit.jupiter.api.Assumptions.assumeTrue(selected(name), "not selected by -Dshale.fault.only");
        int rounds = Integer.getInteger("shale.fault.rounds", 4);
        for (int round = 1; round <= rounds; round++) {
            run(name, faults, BASE_SEED ^ name.hashCode() ^ ((long) round << 32), Long.getLong("shale.fault.ms", 5_000),
                    6_000);
        }
    }

    /** Runs producers for up to {@code durationMs} and {@code appendsPerProducer} appends each. */
    private void run(String name, UnaryOperator<FaultInjectingObjectStore.Builder> faults, long seed, long durationMs,
            long appendsPerProducer) {
        String ctx = "scenario " + name + ", seed " + seed + " (-Dshale.fault.seed=" + BASE_SEED + ")";
        Clock clock = Clock.systemUTC();
        InMemoryObjectStore memory = new InMemoryObjectStore(clock);
        FaultInjectingObjectStore faulty = faults.apply(FaultInjectingObjectStore.builder(new SharedObjectStore(memory))
                .seed(seed).closeInner(false)).build();
        InMemoryWal wal = new InMemoryWal();
        StoreConfig config = StoreConfig.of(Stores.busy());
        Ledger ledger = new Ledger();
        List<TopicPartition> tps = Stores.partitions("events", PARTITIONS);

        java.util.function.Supplier<WriteAheadLog> wals = walFor(name, wal);
        LogStore store = Stores.open(() -> faulty, wals, clock, config, 50);
        ConcurrentLinkedQueue<String> readerProblems = new ConcurrentLinkedQueue<>();
        Producers producers;
        try {
            Stores.createTopic(store, "events", PARTITIONS, Stores.smallSegments());
            producers = new Producers(store, tps, 3, 0, seed, MAX_VALUE, 5, 16, ledger, null).limit(appendsPerProducer).start();
            Thread reader = startReader(store, tps, ledger, seed, readerProblems);
            SplittableRandom rnd = new SplittableRandom(seed);
            long end = System.nanoTime() + durationMs * 1_000_000;
            while (System.nanoTime() < end && !producers.finished()) {
                Stores.sleep(100 + rnd.nextInt(200));
                try {
                    store.flush();
                } catch (ShaleException e) {
                    assertThat(e.kind()).as(ctx + ": flush under faults failed with " + e).isIn(FAILED_BY_FAULTS);
                }
            }
            producers.stop();
            reader.interrupt();
            join(reader);
            if (name.equals("stale-listings")) {
                // The writer lists only on its timers, and a fast run can end between two of them:
                // a reader opening now lists the manifest deltas just written, so the fault is met
                // (and the reader must load the manifest in spite of it).
                try {
                    store.flush();
                } catch (ShaleException e) {
                    assertThat(e.kind()).as(ctx + ": flush").isIn(FAILED_BY_FAULTS);
                }
                try (LogStore staleReader = LogStore.builder().objectStore(faulty).readOnly(true).open()) {
                    assertThat(staleReader.listTopics()).as(ctx + ": a reader opened under stale listings").contains("events");
                }
            }

            // Faults stop: the store must make progress on its own and serve everything acknowledged.
            faulty.stopFaults();
            flushUntilDone(store, ctx);
            assertThat(producers.hung.get()).as(ctx + ": appends that never completed").isZero();
            assertThat(producers.failures(ErrorKind.FENCED)).as(ctx + ": appends failed as FENCED (no other writer exists)")
                    .isZero();
            verify(store, tps, ledger, ctx + ", after faults stopped");
            assertThat(readerProblems).as(ctx + ": reads during faults").isEmpty();
        } finally {
            store.close();
        }
        assertThat(ledger.ackedRecords.get()).as(ctx + ": acknowledged records").isGreaterThan(1000);
        assertThat(faulty.totalFaults()).as(ctx + ": faults injected " + faulty.counts()).isPositive();

        LogStore reopened = Stores.open(() -> faulty, wals, clock, config, 5);
        try {
            verify(reopened, tps, ledger, ctx + ", after reopen");
            flushUntilDone(reopened, ctx);
        } finally {
            reopened.close();
        }
        LogStore fromObjectsOnly = Stores.open(() -> faulty, name.startsWith("object-wal") ? wals : InMemoryWal::new,
                clock, config, 5);
        try {
            verify(fromObjectsOnly, tps, ledger, ctx + ", after reopen with an empty WAL");
        } finally {
            fromObjectsOnly.close();
        }
        System.out.printf("%s: %d appends (%d records acknowledged, %d failed), %d store calls, faults %s%n", ctx,
                producers.appends.get(), ledger.ackedRecords.get(), ledger.failedAppends.get(), faulty.calls(),
                faulty.counts());
    }

    private static void flushUntilDone(LogStore store, String ctx) {
        ShaleException last = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                store.flush();
                return;
            } catch (ShaleException e) {
                assertThat(e.kind()).as(ctx + ": flush after faults stopped failed with " + e)
                        .isEqualTo(ErrorKind.UNAVAILABLE);
                last = e;
                Stores.sleep(50);
            }
        }
        throw new AssertionError(ctx + ": the store made no progress within 30 s after faults stopped", last);
    }

    private static void verify(LogStore store, List<TopicPartition> tps, Ledger ledger, String ctx) {
        Verifier v = new Verifier(MAX_VALUE);
        for (TopicPartition tp : tps) {
            try {
                v.verify(store, tp, ledger);
            } catch (ShaleException e) {
                throw new AssertionError(ctx + ": reading " + tp + " failed: " + e, e);
            }
        }
        assertThat(v.problems()).as(ctx).isEmpty();
        long acked = ledger.acked().values().stream().mapToLong(Map::size).sum();
        assertThat(v.recordsChecked()).as(ctx + ": records read").isGreaterThanOrEqualTo(acked);
    }

    /** Reads random ranges while faults happen: a read may fail as UNAVAILABLE, never return wrong bytes. */
    private static Thread startReader(LogStore store, List<TopicPartition> tps, Ledger ledger, long seed,
            ConcurrentLinkedQueue<String> problems) {
        Thread t = new Thread(() -> {
            SplittableRandom rnd = new SplittableRandom(seed + 1);
            while (!Thread.currentThread().isInterrupted()) {
                TopicPartition tp = tps.get(rnd.nextInt(tps.size()));
                try {
                    long start = store.logStartOffset(tp);
                    long hw = store.highWatermark(tp);
                    long offset = hw == start ? start : start + rnd.nextLong(hw - start);
                    FetchResult f = store.read(tp, offset, 64 << 10);
                    for (Record r : f.records()) {
                        long id = Payloads.idOf(r);
                        if (!ledger.wasAttempted(id) || !Payloads.valueMatches(r, MAX_VALUE)) {
                            problems.add(tp + " offset " + r.offset() + " served a record nobody wrote");
                        }
                    }
                } catch (ShaleException e) {
                    if (!FAILED_BY_FAULTS.contains(e.kind()) && e.kind() != ErrorKind.OFFSET_OUT_OF_RANGE) {
                        problems.add("read of " + tp + " failed with " + e);
                    }
                }
            }
        }, "reader");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void join(Thread t) {
        try {
            t.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
