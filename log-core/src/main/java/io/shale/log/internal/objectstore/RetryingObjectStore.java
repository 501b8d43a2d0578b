package io.shale.log.internal.objectstore;

import io.shale.log.StoreConfig;
import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.Payload;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Collection;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Design rationale.
 *
 * Policy: the one place where object-store operations are repeated. Stores (S3, local) make one
 * attempt per call and classify failures with ObjectStoreException.Reason; this wrapper repeats
 * THROTTLED and TRANSIENT failures and surfaces everything else at once. Keeping retries here and
 * out of the stores (the S3 store switches the SDK's own retries off) means one budget, one set
 * of counters, and one place that knows which conditional writes were ambiguous.
 *
 * Backoff: exponential with full jitter (delay uniform in [0, min(max, base * 2^n)]), which
 * spreads a herd of clients that failed together better than equal or decorrelated jitter for
 * the same mean wait. THROTTLED uses a separate, larger base and cap: S3 answers SlowDown while
 * it scales a prefix, which takes seconds, not milliseconds. The randomness and the scheduler
 * are injected so tests see the exact sequence of requested delays without waiting.
 *
 * Deadline: each operation gets a fixed budget measured from its first attempt. A retry is not
 * scheduled if its delay would end at or after the deadline; the operation then fails with the
 * last error (wrapped, same reason and key, cause = that error). An attempt in flight is never
 * cut short here: the store's own request timeouts bound a single attempt.
 *
 * Ambiguity: a TRANSIENT failure of putIfAbsent may hide a success (the response was lost). Every
 * attempt sends the caller's token, so when a later attempt reports "already exists" after an
 * ambiguous one, a HEAD tells whether the existing object carries our token: if so, the earlier
 * attempt won and the call completes with true. Without a preceding ambiguous attempt a false is
 * final and no HEAD is made. THROTTLED counts as ambiguous too: AWS's SlowDown is a rejection,
 * but a 503 can also come from a proxy or load balancer after the request reached the store, and
 * S3-compatible stores differ; one HEAD after a throttled conditional write costs little, treating
 * our own landed write as someone else's costs a fenced writer.
 *
 * Cut-off: the store's open and close have deadlines of their own (open.timeout.ms, close's
 * timeout), shorter than the sum of the per-operation deadlines of everything they do. While one
 * runs, the engine sets a cut-off: operations started before it passes retry only until it, an
 * operation still in flight when it passes (even one whose attempt hangs) fails then, and
 * operations started after it fail at once without an attempt. Operations are tracked while in
 * flight for that, and so that close() completes every one of them.
 *
 * Logging: a retried failure is logged (operation, key, attempt, error; the store's messages
 * name bucket and key, never credentials), at most one line per LOG_INTERVAL per store so that
 * an outage does not flood the log: INFO while operations have been failing for a short while,
 * WARN once one has been retrying for WARN_AFTER.
 */

/**
 * An {@link ObjectStore} that retries another store's retriable failures
 * ({@link ObjectStoreException.Reason#THROTTLED}, {@link ObjectStoreException.Reason#TRANSIENT})
 * with exponential backoff and full jitter, within a deadline per operation.
 *
 * <p><b>Threading.</b> Thread-safe, like every store. The first attempt runs on the caller's
 * thread; retries run where the scheduler runs them: by default a timer thread owned by this
 * wrapper waits out the backoff and hands each retry to a pool of daemon threads, so a retry that
 * blocks (a put whose streamed payload reads other objects) never holds up other retries.
 *
 * <p><b>Errors.</b> Non-retriable failures (and exceptions that are not
 * {@code ObjectStoreException}s) pass through unchanged after the first attempt that produced
 * them. When the deadline is spent, the future fails with an {@code ObjectStoreException} of the
 * last failure's reason and key whose cause is that last failure. An exception the inner store
 * throws synchronously on the first attempt (e.g. {@link IllegalArgumentException} for a bad key)
 * is thrown to the caller as is.
 *
 * <p><b>Idempotency.</b> {@code put}, {@code get}, {@code head}, {@code list} and {@code delete} are
 * idempotent and simply repeated. {@code putIfAbsent} is repeated with the caller's token; an
 * ambiguous outcome is resolved by comparing tokens (see {@link #putIfAbsent}).
 */
public final class RetryingObjectStore implements ObjectStore {
    private static final Logger log = LoggerFactory.getLogger(RetryingObjectStore.class);
    /** At most one retry line per this interval per store. */
    private static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** Retry lines are WARN once the operation has been failing for this long, INFO before. */
    private static final long WARN_AFTER_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** Runs a task after a delay. Injected by tests to record the delays without waiting. */
    @FunctionalInterface
    public interface Scheduler {
        void schedule(long delayMillis, Runnable task);
    }

    /**
     * Counters since creation, for metrics.
     *
     * @param attempts calls made to the inner store (first attempts and retries)
     * @param retries attempts after the first
     * @param throttles failures classified THROTTLED
     * @param exhausted operations that failed because the deadline was spent
     * @param ambiguousWon putIfAbsent calls resolved as won by token after an ambiguous attempt
     */
    public record Stats(long attempts, long retries, long throttles, long exhausted, long ambiguousWon) {
    }

    private final ObjectStore inner;
    private final long deadlineNanos;
    private final long baseDelayMillis;
    private final long maxDelayMillis;
    private final long throttledBaseDelayMillis;
    private final long throttledMaxDelayMillis;
    private final Random random;
    private final Scheduler scheduler;
    private final LongSupplier nanoClock;
    private final ScheduledExecutorService ownedExecutor;
    private final ExecutorService ownedPool;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Operations not yet completed (see the cut-off in the class comment). */
    private final Set<Operation<?>> inFlight = ConcurrentHashMap.newKeySet();
    /** The cut-off in force, or null. */
    private volatile Cutoff cutoff;
    /** When the last retry line was logged (nanoClock), and how many retries went unlogged since. */
    private final AtomicLong lastRetryLogNanos = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong unloggedRetries = new AtomicLong();

    private final LongAdder attempts = new LongAdder();
    private final LongAdder retries = new LongAdder();
    private final LongAdder throttles = new LongAdder();
    private final LongAdder exhausted = new LongAdder();
    private final LongAdder ambiguousWon = new LongAdder();

    private RetryingObjectStore(Builder b) {
        this.inner = b.inner;
        this.deadlineNanos = b.deadline.toNanos();
        this.baseDelayMillis = b.baseDelay.toMillis();
        this.maxDelayMillis = b.maxDelay.toMillis();
        this.throttledBaseDelayMillis = b.throttledBaseDelay.toMillis();
        this.throttledMaxDelayMillis = b.throttledMaxDelay.toMillis();
        this.random = b.random != null ? b.random : new Random();
        this.nanoClock = b.nanoClock;
        if (b.scheduler != null) {
            this.scheduler = b.scheduler;
            this.ownedExecutor = null;
            this.ownedPool = null;
        } else {
            ScheduledExecutorService ses = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "shale-object-store-retry-timer");
                t.setDaemon(true);
                return t;
            });
            // Attempts do not run on the timer thread: an attempt may block (a streamed payload that
            // reads other objects while a put consumes it), and a retry of such a read must not wait
            // behind it on the same thread.
            AtomicInteger threads = new AtomicInteger();
            ExecutorService pool = Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "shale-object-store-retry-" + threads.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            this.ownedExecutor = ses;
            this.ownedPool = pool;
            this.scheduler = (delay, task) -> ses.schedule(() -> pool.execute(task), delay, TimeUnit.MILLISECONDS);
        }
    }

    /** A builder wrapping {@code inner}; defaults: 60 s deadline, 20 ms..2 s backoff, 200 ms..10 s when throttled. */
    public static Builder builder(ObjectStore inner) {
        return new Builder(inner);
    }

    /** The wrapped store. */
    public ObjectStore inner() {
        return inner;
    }

    /** A deadline that overrides every operation's own (see {@link #cutOffAfter}). */
    private static final class Cutoff {
        final long atNanos;
        final String why;

        Cutoff(long atNanos, String why) {
            this.atNanos = atNanos;
            this.why = why;
        }
    }

    /**
     * Sets a cut-off {@code delayMillis} from now: until {@link #clearCutoff()}, operations retry
     * only until then; operations in flight when it passes (even one waiting on an attempt that
     * hangs) fail then with a {@code TRANSIENT} {@link ObjectStoreException} naming {@code why},
     * and operations started after it fail at once. Replaces an earlier cut-off. The store's open
     * and close use it to keep their deadlines.
     */
    public void cutOffAfter(long delayMillis, String why) {
        long delay = Math.max(0, delayMillis);
        Cutoff c = new Cutoff(nanoClock.getAsLong() + TimeUnit.MILLISECONDS.toNanos(delay), Objects.requireNonNull(why));
        cutoff = c;
        for (Operation<?> op : inFlight) {
            op.cutoff = c;
        }
        try {
            scheduler.schedule(delay, () -> cutOff(c));
        } catch (RuntimeException e) {
            cutOff(c); // no timer left (closed): in-flight operations fail now
        }
    }

    /** Removes the cut-off for operations started from now on. */
    public void clearCutoff() {
        cutoff = null;
    }

    /** The cut-off passed: every operation it applies to that is still in flight fails now. */
    private void cutOff(Cutoff c) {
        for (Operation<?> op : inFlight) {
            if (op.cutoff == c) {
                op.giveUp(c);
            }
        }
    }

    /** A snapshot of the counters. */
    public Stats stats() {
        return new Stats(attempts.sum(), retries.sum(), throttles.sum(), exhausted.sum(), ambiguousWon.sum());
    }

    @Override
    public CompletableFuture<Void> put(String key, Payload payload, String token) {
        return new Operation<>("put", key, nanoClock.getAsLong(), () -> inner.put(key, payload, token)).start();
    }

    /**
     * As {@link ObjectStore#putIfAbsent}, retried. If an attempt failed TRANSIENT (it may have
     * created the object) and a later attempt reports that the key exists, the existing object's
     * token is read with {@link #head}: equal to {@code token} means the earlier attempt created
     * it and the call completes with {@code true}; otherwise {@code false}.
     */
    @Override
    public CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) {
        Objects.requireNonNull(token, "token");
        long start = nanoClock.getAsLong();
        Operation<Boolean> op = new Operation<>("putIfAbsent", key, start, () -> inner.putIfAbsent(key, payload, token));
        return op.start().thenCompose(created -> {
            if (created || !op.sawAmbiguousFailure) {
                return CompletableFuture.completedFuture(created);
            }
            return new Operation<>("head", key, start, () -> inner.head(key)).start().thenApply(info -> {
                boolean ours = info.isPresent() && token.equals(info.get().token());
                if (ours) {
                    ambiguousWon.increment();
                }
                return ours;
            });
        });
    }

    @Override
    public CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
        return new Operation<>("get", key, nanoClock.getAsLong(), () -> inner.get(key, offset, length)).start();
    }

    @Override
    public CompletableFuture<Optional<ObjectInfo>> head(String key) {
        return new Operation<>("head", key, nanoClock.getAsLong(), () -> inner.head(key)).start();
    }

    @Override
    public CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys) {
        return new Operation<>("list", prefix, nanoClock.getAsLong(), () -> inner.list(prefix, startAfter, maxKeys)).start();
    }

    @Override
    public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
        return new Operation<>("delete", null, nanoClock.getAsLong(), () -> inner.delete(keys)).start();
    }

    @Override
    public String describe() {
        return inner.describe();
    }

    /**
     * Closes the inner store and the wrapper's own scheduler thread (not an injected scheduler),
     * and fails every operation still in flight (retrying or waiting on an attempt) with
     * {@link IllegalStateException}. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            for (Operation<?> op : inFlight) {
                op.result.completeExceptionally(new IllegalStateException("object store " + inner.describe()
                        + " was closed while " + op.name + (op.key == null ? "" : " '" + op.key + "'")
                        + " was in flight"));
            }
            inner.close();
        } finally {
            if (ownedExecutor != null) {
                ownedExecutor.shutdownNow();
            }
            if (ownedPool != null) {
                ownedPool.shutdown(); // attempts in flight finish; no new ones are scheduled
            }
        }
    }

    /** The delay before retry number {@code retry} (0 for the first retry) after a failure of this reason. */
    long backoffMillis(int retry, ObjectStoreException.Reason reason) {
        boolean throttled = reason == ObjectStoreException.Reason.THROTTLED;
        long base = throttled ? throttledBaseDelayMillis : baseDelayMillis;
        long max = throttled ? throttledMaxDelayMillis : maxDelayMillis;
        long ceiling = retry >= 62 || base > (max >> Math.min(retry, 62)) ? max : Math.min(max, base << retry);
        double u;
        synchronized (random) {
            u = random.nextDouble();
        }
        return Math.min(ceiling, (long) (u * (ceiling + 1)));
    }

    /** One logical operation: attempts until success, a non-retriable failure, or the deadline. */
    private final class Operation<T> {
        private final String name;
        private final String key;
        private final long startNanos;
        private final Supplier<CompletableFuture<T>> attempt;
        private final CompletableFuture<T> result = new CompletableFuture<>();
        private volatile int attemptsMade;
        /** Whether any attempt failed retriably (for a write: the outcome is unknown). */
        volatile boolean sawAmbiguousFailure;
        /** The cut-off that applies to this operation, or null. */
        volatile Cutoff cutoff;
        /** The last retriable failure, for the message when the cut-off ends the operation. */
        private volatile ObjectStoreException lastFailure;

        Operation(String name, String key, long startNanos, Supplier<CompletableFuture<T>> attempt) {
            this.name = name;
            this.key = key;
            this.startNanos = startNanos;
            this.attempt = attempt;
        }

        CompletableFuture<T> start() {
            Cutoff c = RetryingObjectStore.this.cutoff;
            if (c != null && nanoClock.getAsLong() - c.atNanos >= 0) {
                result.completeExceptionally(cutOffFailure(c));
                return result;
            }
            cutoff = c;
            inFlight.add(this);
            result.whenComplete((v, t) -> inFlight.remove(this));
            attempts.increment();
            attemptsMade = 1;
            // A synchronous throw on the first attempt (bad argument, closed store) reaches the caller as is.
            CompletableFuture<T> first;
            try {
                first = attempt.get();
            } catch (ObjectStoreException e) {
                first = CompletableFuture.failedFuture(e);
            } catch (RuntimeException | Error e) {
                inFlight.remove(this);
                throw e;
            }
            first.whenComplete(this::onAttemptDone);
            return result;
        }

        /** The cut-off passed while this operation was in flight. */
        void giveUp(Cutoff c) {
            if (!result.isDone()) {
                result.completeExceptionally(cutOffFailure(c));
            }
        }

        private ObjectStoreException cutOffFailure(Cutoff c) {
            ObjectStoreException last = lastFailure;
            long elapsed = nanoClock.getAsLong() - startNanos;
            String what = name + " " + (key == null ? "" : "'" + key + "' ") + "on " + inner.describe();
            return new ObjectStoreException(last != null ? last.reason() : ObjectStoreException.Reason.TRANSIENT,
                    last != null && last.key() != null ? last.key() : key,
                    (attemptsMade == 0 ? what + " was not attempted: "
                            : what + " gave up after " + attemptsMade + " attempt(s) in "
                                    + TimeUnit.NANOSECONDS.toMillis(elapsed) + " ms: ")
                            + c.why + (last != null ? "; last error: " + last.getMessage() : ""),
                    last);
        }

        private void retry() {
            if (result.isDone()) {
                return; // cut off or closed meanwhile
            }
            if (closed.get()) {
                result.completeExceptionally(new IllegalStateException("object store closed: " + inner.describe()));
                return;
            }
            attempts.increment();
            retries.increment();
            attemptsMade++;
            CompletableFuture<T> f;
            try {
                f = attempt.get();
            } catch (RuntimeException | Error e) {
                f = CompletableFuture.failedFuture(e);
            }
            f.whenComplete(this::onAttemptDone);
        }

        private void onAttemptDone(T value, Throwable failure) {
            if (failure == null) {
                result.complete(value);
                return;
            }
            Throwable cause = unwrap(failure);
            ObjectStoreException ose = ObjectStoreException.find(cause);
            if (ose == null || !ose.isRetriable()) {
                result.completeExceptionally(cause);
                return;
            }
            if (ose.reason() == ObjectStoreException.Reason.THROTTLED) {
                throttles.increment();
            }
            sawAmbiguousFailure = true; // the attempt may have been executed (see the class comment)
            lastFailure = ose;
            if (result.isDone()) {
                return; // cut off or closed while the attempt ran
            }
            long delay = backoffMillis(attemptsMade - 1, ose.reason());
            long now = nanoClock.getAsLong();
            long elapsed = now - startNanos;
            Cutoff c = cutoff;
            if (c != null && now + TimeUnit.MILLISECONDS.toNanos(delay) - c.atNanos >= 0) {
                result.completeExceptionally(cutOffFailure(c));
                return;
            }
            if (elapsed + TimeUnit.MILLISECONDS.toNanos(delay) >= deadlineNanos) {
                exhausted.increment();
                result.completeExceptionally(new ObjectStoreException(ose.reason(), ose.key() != null ? ose.key() : key,
                        name + " " + (key == null ? "" : "'" + key + "' ") + "on " + inner.describe() + " failed after "
                                + attemptsMade + " attempt(s) in " + TimeUnit.NANOSECONDS.toMillis(elapsed)
                                + " ms (retry deadline " + TimeUnit.NANOSECONDS.toMillis(deadlineNanos) + " ms): "
                                + ose.getMessage(),
                        ose));
                return;
            }
            logRetry(this, ose, delay, elapsed);
            try {
                scheduler.schedule(delay, this::retry);
            } catch (RuntimeException e) {
                // e.g. the scheduler was shut down by close()
                e.addSuppressed(ose);
                result.completeExceptionally(e);
            }
        }
    }

    /** Logs a retry unless one was logged less than LOG_INTERVAL ago (then counts it). */
    private void logRetry(Operation<?> op, ObjectStoreException failure, long delayMillis, long failingNanos) {
        long now = nanoClock.getAsLong();
        long last = lastRetryLogNanos.get();
        if (last != Long.MIN_VALUE && now - last < LOG_INTERVAL_NANOS) {
            unloggedRetries.incrementAndGet();
            return;
        }
        if (!lastRetryLogNanos.compareAndSet(last, now)) {
            unloggedRetries.incrementAndGet();
            return;
        }
        long unlogged = unloggedRetries.getAndSet(0);
        String more = unlogged == 0 ? "" : " (" + unlogged + " other retries since the last message)";
        String what = op.name + (op.key == null ? "" : " '" + op.key + "'");
        if (failingNanos >= WARN_AFTER_NANOS) {
            log.warn("object store {}: {} still failing after {} attempts in {} ms, retrying in {} ms{}: {} {}",
                    inner.describe(), what, op.attemptsMade, TimeUnit.NANOSECONDS.toMillis(failingNanos), delayMillis,
                    more, failure.reason(), failure.getMessage());
        } else {
            log.info("object store {}: {} failed (attempt {}), retrying in {} ms{}: {} {}", inner.describe(), what,
                    op.attemptsMade, delayMillis, more, failure.reason(), failure.getMessage());
        }
    }

    private static Throwable unwrap(Throwable t) {
        Throwable cur = t;
        while ((cur instanceof CompletionException || cur instanceof ExecutionException) && cur.getCause() != null) {
            cur = cur.getCause();
        }
        return cur;
    }

    /** Settings of a {@link RetryingObjectStore}; validated by {@link #build()}. */
    public static final class Builder {
        private final ObjectStore inner;
        private Duration deadline = Duration.ofMinutes(1);
        private Duration baseDelay = Duration.ofMillis(20);
        private Duration maxDelay = Duration.ofSeconds(2);
        private Duration throttledBaseDelay = Duration.ofMillis(200);
        private Duration throttledMaxDelay = Duration.ofSeconds(10);
        private Random random;
        private Scheduler scheduler;
        private LongSupplier nanoClock = System::nanoTime;

        private Builder(ObjectStore inner) {
            this.inner = Objects.requireNonNull(inner, "inner");
        }

        /** How long one operation may keep retrying, from its first attempt. Zero means a single attempt. */
        public Builder deadline(Duration deadline) {
            this.deadline = Objects.requireNonNull(deadline, "deadline");
            return this;
        }

        /** Takes the deadline from {@code object.store.retry.deadline.ms}. */
        public Builder config(StoreConfig config) {
            return deadline(Duration.ofMillis(config.objectStoreRetryDeadlineMs()));
        }

        /** Backoff after TRANSIENT failures: the first retry waits up to {@code base}, doubling up to {@code max}. */
        public Builder backoff(Duration base, Duration max) {
            this.baseDelay = Objects.requireNonNull(base, "base");
            this.maxDelay = Objects.requireNonNull(max, "max");
            return this;
        }

        /** Backoff after THROTTLED failures (longer than {@link #backoff} by default). */
        public Builder throttledBackoff(Duration base, Duration max) {
            this.throttledBaseDelay = Objects.requireNonNull(base, "base");
            this.throttledMaxDelay = Objects.requireNonNull(max, "max");
            return this;
        }

        /** The source of jitter; a seeded instance makes delays reproducible. */
        public Builder random(Random random) {
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        /** Where retries are scheduled; by default a daemon thread owned by the wrapper. */
        public Builder scheduler(Scheduler scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /** A monotonic nanosecond clock for deadlines ({@code System::nanoTime} by default). */
        public Builder nanoClock(LongSupplier nanoClock) {
            this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
            return this;
        }

        public RetryingObjectStore build() {
            requireNonNegative("deadline", deadline);
            requirePositive("backoff base", baseDelay);
            requirePositive("throttled backoff base", throttledBaseDelay);
            if (maxDelay.compareTo(baseDelay) < 0 || throttledMaxDelay.compareTo(throttledBaseDelay) < 0) {
                throw new IllegalArgumentException("backoff max must be >= base: " + baseDelay + ".." + maxDelay
                        + ", throttled " + throttledBaseDelay + ".." + throttledMaxDelay);
            }
            return new RetryingObjectStore(this);
        }

        private static void requireNonNegative(String what, Duration d) {
            if (d.isNegative()) {
                throw new IllegalArgumentException(what + " must not be negative: " + d);
            }
        }

        private static void requirePositive(String what, Duration d) {
            if (d.isNegative() || d.isZero() || d.toMillis() == 0) {
                throw new IllegalArgumentException(what + " must be at least 1 ms: " + d);
            }
        }
    }
}
