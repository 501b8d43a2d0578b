package io.shale.storage.testkit;

import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.Payload;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/*
 * Design rationale.
 *
 * One wrapper for every fault an object store shows in practice, so that the engine (or any user
 * of the SPI) can be tested against all of them with one seed:
 *
 *  - TRANSIENT / THROTTLED / PERMANENT: the request is rejected before it reaches the inner store
 *    (nothing is written), with the matching ObjectStoreException reason.
 *  - LOST_RESPONSE: the request reaches the inner store and takes effect, but the caller sees a
 *    TRANSIENT failure, as when a connection resets after S3 answered 200. This is the ambiguous
 *    case the SPI warns about: a putIfAbsent that "failed" may have created the object.
 *  - LATENCY: the result (success or failure) is delivered after an added delay on another thread.
 *  - STALE_LIST: a listing omits keys written through this wrapper less than staleFor ago, as
 *    stores with eventually consistent listings do (S3 before 2020, several S3-compatible servers).
 *
 * Decisions are drawn from one SplittableRandom per wrapper under a lock, so for a given seed the
 * n-th call always gets the same decision; which call is the n-th depends on the caller's thread
 * interleaving, so a multi-threaded run is repeatable in distribution, not bit for bit. Rejected
 * requests are decided before the inner store is called, so a rejected write has no effect.
 */

/**
 * An {@link ObjectStore} that wraps another and injects faults at seeded random: failures
 * ({@code TRANSIENT}, {@code THROTTLED}, {@code PERMANENT}), added latency, lost responses (the
 * operation is applied to the inner store but the caller sees a {@code TRANSIENT} failure) and
 * stale listings (recently written keys are missing from a listing for a while).
 *
 * <pre>{@code
 * FaultInjectingObjectStore faulty = FaultInjectingObjectStore.builder(inner)
 *         .seed(42)
 *         .rate(Fault.TRANSIENT, 0.05)                 // every operation
 *         .rate(Op.PUT_IF_ABSENT, Fault.LOST_RESPONSE, 0.2)
 *         .latency(Duration.ofMillis(20))
 *         .build();
 * ...
 * faulty.stopFaults();                                 // from now on a plain pass-through
 * faulty.count(Fault.LOST_RESPONSE);                   // how many were injected
 * }</pre>
 *
 * <p><b>Threading.</b> Thread-safe. Calls without latency complete as the inner store completes
 * them; with latency, results are delivered on the configured executor (default: the common
 * fork-join pool) after the delay. The random decisions are serialised under a lock.
 *
 * <p><b>Idempotency.</b> Exactly as the inner store's; a rejected call has no effect, a lost
 * response has exactly the effect of the inner call.
 *
 * <p><b>Errors.</b> Injected failures are {@link ObjectStoreException}s whose message starts with
 * {@code "injected"} and names the operation and key. {@link #close()} closes the inner store
 * unless {@link Builder#closeInner(boolean)} says otherwise.
 */
public final class FaultInjectingObjectStore implements ObjectStore {

    /** The operations of the {@link ObjectStore} SPI. */
    public enum Op {
        PUT, PUT_IF_ABSENT, GET, HEAD, LIST, DELETE
    }

    /** The kinds of fault this wrapper injects. */
    public enum Fault {
        /** Rejected with {@code TRANSIENT} before reaching the inner store. */
        TRANSIENT,
        /** Rejected with {@code THROTTLED} before reaching the inner store. */
        THROTTLED,
        /** Rejected with {@code PERMANENT} before reaching the inner store. */
        PERMANENT,
        /** Applied to the inner store, then reported as a {@code TRANSIENT} failure. */
        LOST_RESPONSE,
        /** The result is delivered after an added delay (uniform up to the configured maximum). */
        LATENCY,
        /** {@link Op#LIST} only: keys written less than {@code staleFor} ago are left out. */
        STALE_LIST
    }

    private static final Fault[] FAILURES = {Fault.PERMANENT, Fault.THROTTLED, Fault.TRANSIENT, Fault.LOST_RESPONSE};

    private final ObjectStore inner;
    private final double[][] rates;
    private final long maxLatencyNanos;
    private final long staleForNanos;
    private final Predicate<String> keyFilter;
    private final Executor executor;
    private final LongSupplier nanoClock;
    private final boolean closeInner;
    private final SplittableRandom random;
    private final long seed;
    private volatile boolean faultsEnabled;

    private final Map<Fault, AtomicLong> counts = new EnumMap<>(Fault.class);
    private final Map<Op, Map<Fault, AtomicLong>> opCounts = new EnumMap<>(Op.class);
    private final AtomicLong calls = new AtomicLong();
    /** Keys written through this wrapper and when (nano clock), for stale listings. */
    private final ConcurrentHashMap<String, Long> recentWrites = new ConcurrentHashMap<>();

    private FaultInjectingObjectStore(Builder b) {
        this.inner = b.inner;
        this.rates = new double[Op.values().length][Fault.values().length];
        for (int i = 0; i < rates.length; i++) {
            rates[i] = b.rates[i].clone();
        }
        this.maxLatencyNanos = b.maxLatency.toNanos();
        this.staleForNanos = b.staleFor.toNanos();
        this.keyFilter = b.keyFilter;
        this.executor = b.executor;
        this.nanoClock = b.nanoClock;
        this.closeInner = b.closeInner;
        this.seed = b.seed;
        this.random = new SplittableRandom(b.seed);
        this.faultsEnabled = b.startEnabled;
        for (Fault f : Fault.values()) {
            counts.put(f, new AtomicLong());
        }
        for (Op op : Op.values()) {
            Map<Fault, AtomicLong> m = new EnumMap<>(Fault.class);
            for (Fault f : Fault.values()) {
                m.put(f, new AtomicLong());
            }
            opCounts.put(op, m);
        }
    }

    /** A builder wrapping {@code inner}; no fault is configured until a rate is set. */
    public static Builder builder(ObjectStore inner) {
        return new Builder(inner);
    }

    // ------------------------------------------------------------------ control and counters

    /** From now on every call passes straight through (in-flight delayed results still arrive). */
    public void stopFaults() {
        faultsEnabled = false;
    }

    /** From now on faults are injected again at the configured rates. */
    public void startFaults() {
        faultsEnabled = true;
    }

    /** Whether faults are currently injected. */
    public boolean faultsEnabled() {
        return faultsEnabled;
    }

    /** The seed this wrapper was built with (print it in failing tests). */
    public long seed() {
        return seed;
    }

    /** How many faults of this kind were injected so far. */
    public long count(Fault fault) {
        return counts.get(fault).get();
    }

    /** How many faults of this kind were injected into calls of {@code op} so far. */
    public long count(Op op, Fault fault) {
        return opCounts.get(op).get(fault).get();
    }

    /** Faults injected so far, all kinds. */
    public long totalFaults() {
        long t = 0;
        for (AtomicLong c : counts.values()) {
            t += c.get();
        }
        return t;
    }

    /** Calls made to this wrapper so far. */
    public long calls() {
        return calls.get();
    }

    /** A snapshot of the per-kind counters. */
    public Map<Fault, Long> counts() {
        Map<Fault, Long> out = new EnumMap<>(Fault.class);
        counts.forEach((f, c) -> out.put(f, c.get()));
        return out;
    }

    /** The wrapped store. */
    public ObjectStore inner() {
        return inner;
    }

    // ------------------------------------------------------------------ decisions

    /** What happens to one call. */
    private record Decision(Fault failure, long delayNanos, boolean stale) {
        static final Decision NONE = new Decision(null, 0, false);
    }

    private Decision decide(Op op, String key) {
        calls.incrementAndGet();
        if (!faultsEnabled || (key != null && !keyFilter.test(key))) {
            return Decision.NONE;
        }
        double[] r = rates[op.ordinal()];
        Fault failure = null;
        long delay = 0;
        boolean stale = false;
        synchronized (random) {
            for (Fault f : FAILURES) {
                double p = r[f.ordinal()];
                // always draw, so that the sequence of decisions does not depend on earlier outcomes
                double x = random.nextDouble();
                if (failure == null && p > 0 && x < p) {
                    failure = f;
                }
            }
            double xl = random.nextDouble();
            double xd = random.nextDouble();
            if (r[Fault.LATENCY.ordinal()] > 0 && xl < r[Fault.LATENCY.ordinal()] && maxLatencyNanos > 0) {
                delay = (long) (xd * maxLatencyNanos);
            }
            double xs = random.nextDouble();
            if (op == Op.LIST && r[Fault.STALE_LIST.ordinal()] > 0 && xs < r[Fault.STALE_LIST.ordinal()]) {
                stale = true;
            }
        }
        if (failure != null) {
            note(op, failure);
        }
        if (delay > 0) {
            note(op, Fault.LATENCY);
        }
        return failure == null && delay == 0 && !stale ? Decision.NONE : new Decision(failure, delay, stale);
    }

    private void note(Op op, Fault f) {
        counts.get(f).incrementAndGet();
        opCounts.get(op).get(f).incrementAndGet();
    }

    private static ObjectStoreException injected(Fault f, Op op, String key) {
        ObjectStoreException.Reason reason = switch (f) {
            case THROTTLED -> ObjectStoreException.Reason.THROTTLED;
            case PERMANENT -> ObjectStoreException.Reason.PERMANENT;
            default -> ObjectStoreException.Reason.TRANSIENT;
        };
        String what = f == Fault.LOST_RESPONSE ? "injected lost response (the operation took effect)"
                : "injected " + f + " failure";
        return new ObjectStoreException(reason, key, what + " of " + op + " " + (key == null ? "" : key));
    }

    /** Runs {@code call} as {@code d} says. */
    private <T> CompletableFuture<T> run(Op op, String key, Decision d, Supplier<CompletableFuture<T>> call) {
        if (d == Decision.NONE) {
            return call.get();
        }
        CompletableFuture<T> result;
        if (d.failure() != null && d.failure() != Fault.LOST_RESPONSE) {
            result = CompletableFuture.failedFuture(injected(d.failure(), op, key));
        } else {
            CompletableFuture<T> applied = call.get();
            if (d.failure() == Fault.LOST_RESPONSE) {
                // whatever the inner store answered, the caller learns nothing but a transient failure
                result = applied.handle((v, e) -> {
                    throw injected(Fault.LOST_RESPONSE, op, key);
                });
            } else {
                result = applied;
            }
        }
        if (d.delayNanos() <= 0) {
            return result;
        }
        CompletableFuture<T> delayed = new CompletableFuture<>();
        Executor later = CompletableFuture.delayedExecutor(d.delayNanos(), TimeUnit.NANOSECONDS, executor);
        result.whenComplete((v, e) -> later.execute(() -> {
            if (e != null) {
                delayed.completeExceptionally(e);
            } else {
                delayed.complete(v);
            }
        }));
        return delayed;
    }

    private void remember(String key) {
        if (staleForNanos > 0) {
            recentWrites.put(key, nanoClock.getAsLong());
        }
    }

    // ------------------------------------------------------------------ ObjectStore

    @Override
    public CompletableFuture<Void> put(String key, Payload payload, String token) {
        Decision d = decide(Op.PUT, key);
        return run(Op.PUT, key, d, () -> {
            remember(key);
            return inner.put(key, payload, token);
        });
    }

    @Override
    public CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) {
        Decision d = decide(Op.PUT_IF_ABSENT, key);
        return run(Op.PUT_IF_ABSENT, key, d, () -> inner.putIfAbsent(key, payload, token).thenApply(created -> {
            if (created) {
                remember(key);
            }
            return created;
        }));
    }

    @Override
    public CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
        Decision d = decide(Op.GET, key);
        return run(Op.GET, key, d, () -> inner.get(key, offset, length));
    }

    @Override
    public CompletableFuture<Optional<ObjectInfo>> head(String key) {
        Decision d = decide(Op.HEAD, key);
        return run(Op.HEAD, key, d, () -> inner.head(key));
    }

    @Override
    public CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys) {
        Decision d = decide(Op.LIST, prefix);
        return run(Op.LIST, prefix, d, () -> {
            CompletableFuture<ListPage> page = inner.list(prefix, startAfter, maxKeys);
            if (!d.stale() || staleForNanos <= 0) {
                return page;
            }
            return page.thenApply(this::withoutRecent);
        });
    }

    private ListPage withoutRecent(ListPage page) {
        long now = nanoClock.getAsLong();
        List<ObjectInfo> kept = new ArrayList<>(page.objects().size());
        boolean omitted = false;
        for (ObjectInfo o : page.objects()) {
            Long written = recentWrites.get(o.key());
            if (written != null && now - written < staleForNanos) {
                omitted = true;
                continue;
            }
            if (written != null) {
                recentWrites.remove(o.key(), written);
            }
            kept.add(o);
        }
        if (omitted) {
            counts.get(Fault.STALE_LIST).incrementAndGet();
            opCounts.get(Op.LIST).get(Fault.STALE_LIST).incrementAndGet();
        }
        return new ListPage(kept, page.nextStartAfter());
    }

    @Override
    public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
        String first = keys.isEmpty() ? null : keys.iterator().next();
        Decision d = decide(Op.DELETE, first);
        return run(Op.DELETE, first, d, () -> {
            keys.forEach(recentWrites::remove);
            return inner.delete(keys);
        });
    }

    @Override
    public String describe() {
        return "faulty(" + inner.describe() + ", seed " + seed + ")";
    }

    @Override
    public void close() {
        if (closeInner) {
            inner.close();
        }
    }

    @Override
    public String toString() {
        return describe() + counts();
    }

    /** Settings of a {@link FaultInjectingObjectStore}. Not thread-safe. */
    public static final class Builder {
        private final ObjectStore inner;
        private final double[][] rates = new double[Op.values().length][Fault.values().length];
        private long seed = 1;
        private Duration maxLatency = Duration.ofMillis(10);
        private Duration staleFor = Duration.ofMillis(500);
        private Predicate<String> keyFilter = k -> true;
        private Executor executor = ForkJoinPool.commonPool();
        private LongSupplier nanoClock = System::nanoTime;
        private boolean closeInner = true;
        private boolean startEnabled = true;

        private Builder(ObjectStore inner) {
            this.inner = Objects.requireNonNull(inner, "inner");
        }

        /** The seed of the fault decisions (default 1). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Probability in [0, 1] of {@code fault} on every call of {@code op}. */
        public Builder rate(Op op, Fault fault, double probability) {
            if (!(probability >= 0 && probability <= 1)) {
                throw new IllegalArgumentException("probability must be in [0, 1]: " + probability);
            }
            if (fault == Fault.STALE_LIST && op != Op.LIST) {
                throw new IllegalArgumentException("STALE_LIST applies to LIST only, not " + op);
            }
            rates[op.ordinal()][fault.ordinal()] = probability;
            return this;
        }

        /** Probability of {@code fault} on every operation it applies to. */
        public Builder rate(Fault fault, double probability) {
            for (Op op : Op.values()) {
                if (fault != Fault.STALE_LIST || op == Op.LIST) {
                    rate(op, fault, probability);
                }
            }
            return this;
        }

        /** Largest added delay of a {@link Fault#LATENCY} fault (uniform in [0, max)). Default 10 ms. */
        public Builder latency(Duration max) {
            this.maxLatency = Objects.requireNonNull(max, "max");
            return this;
        }

        /** How long a key written through the wrapper may be missing from stale listings. Default 500 ms. */
        public Builder staleFor(Duration staleFor) {
            this.staleFor = Objects.requireNonNull(staleFor, "staleFor");
            return this;
        }

        /**
         * Injects faults only into calls whose key (for {@code list}, the prefix; for
         * {@code delete}, the first key) matches. Default: every call.
         */
        public Builder onlyKeys(Predicate<String> filter) {
            this.keyFilter = Objects.requireNonNull(filter, "filter");
            return this;
        }

        /** Where delayed results are delivered. Default: the common fork-join pool. */
        public Builder executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /** The clock of stale listings (nanoseconds). Default {@link System#nanoTime()}. */
        public Builder nanoClock(LongSupplier nanoClock) {
            this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
            return this;
        }

        /** Whether {@link FaultInjectingObjectStore#close()} closes the inner store (default true). */
        public Builder closeInner(boolean closeInner) {
            this.closeInner = closeInner;
            return this;
        }

        /** Whether faults are injected from the start (default true); see {@link #startFaults()}. */
        public Builder startEnabled(boolean enabled) {
            this.startEnabled = enabled;
            return this;
        }

        public FaultInjectingObjectStore build() {
            return new FaultInjectingObjectStore(this);
        }
    }
}
