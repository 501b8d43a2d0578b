package io.shale.log.internal.objectstore;

import static io.shale.log.internal.objectstore.ScriptedObjectStore.failure;
import static io.shale.log.spi.ObjectStoreException.Reason.NOT_FOUND;
import static io.shale.log.spi.ObjectStoreException.Reason.PERMANENT;
import static io.shale.log.spi.ObjectStoreException.Reason.THROTTLED;
import static io.shale.log.spi.ObjectStoreException.Reason.TRANSIENT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.StoreConfig;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.Payload;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class RetryingObjectStoreTest {
    private static final long BASE_MS = 10;
    private static final long MAX_MS = 1_000;
    private static final long THROTTLED_BASE_MS = 100;
    private static final long THROTTLED_MAX_MS = 5_000;

    /** A scheduler that records each requested delay, advances a fake clock by it and runs the task at once. */
    private static final class RecordingScheduler implements RetryingObjectStore.Scheduler {
        final List<Long> delays = new ArrayList<>();
        long nowNanos = 1_000_000_000L;

        @Override
        public void schedule(long delayMillis, Runnable task) {
            delays.add(delayMillis);
            nowNanos += TimeUnit.MILLISECONDS.toNanos(delayMillis);
            task.run();
        }
    }

    /** A Random whose doubles are always just below 1, so every jittered delay is its ceiling. */
    private static final class MaxRandom extends Random {
        private static final long serialVersionUID = 1L;

        @Override
        public double nextDouble() {
            return Math.nextDown(1.0);
        }
    }

    private final ScriptedObjectStore inner = new ScriptedObjectStore();
    private final RecordingScheduler scheduler = new RecordingScheduler();

    private RetryingObjectStore wrap(Duration deadline, Random random) {
        return RetryingObjectStore.builder(inner)
                .deadline(deadline)
                .backoff(Duration.ofMillis(BASE_MS), Duration.ofMillis(MAX_MS))
                .throttledBackoff(Duration.ofMillis(THROTTLED_BASE_MS), Duration.ofMillis(THROTTLED_MAX_MS))
                .random(random)
                .scheduler(scheduler)
                .nanoClock(() -> scheduler.nowNanos)
                .build();
    }

    private RetryingObjectStore wrap() {
        return wrap(Duration.ofSeconds(60), new Random(7));
    }

    private static Throwable failureOf(CompletableFuture<?> f) {
        assertThat(f).isCompletedExceptionally();
        try {
            f.join();
            throw new AssertionError("expected failure");
        } catch (CompletionException e) {
            return e.getCause();
        }
    }

    @Test
    void getShouldRetryTransientAndThrottledFailuresAndReturnTheFirstSuccess() {
        ByteBuffer content = ByteBuffer.wrap("hello".getBytes(StandardCharsets.UTF_8));
        inner.answerGet(failure(TRANSIENT, "reset"), failure(THROTTLED, "SlowDown"), content);
        RetryingObjectStore store = wrap();

        ByteBuffer got = store.get("k").join();

        assertThat(got).isEqualTo(content);
        assertThat(inner.count("get")).isEqualTo(3);
        assertThat(scheduler.delays).hasSize(2);
        assertThat(store.stats()).isEqualTo(new RetryingObjectStore.Stats(3, 2, 1, 0, 0));
    }

    @Test
    void putShouldReadThePayloadAgainOnEveryAttempt() {
        byte[] bytes = "payload".getBytes(StandardCharsets.UTF_8);
        inner.answerPut(failure(TRANSIENT, "timeout"), Void.TYPE);
        RetryingObjectStore store = wrap();

        store.put("k", Payload.of(bytes), "t1").join();

        assertThat(inner.calls).hasSize(2);
        assertThat(inner.calls).allSatisfy(c -> {
            assertThat(c.payloadBytes()).isEqualTo(bytes);
            assertThat(c.token()).isEqualTo("t1");
        });
    }

    @Test
    void operationShouldFailWithTheLastErrorOnceTheDeadlineIsSpent() {
        List<Object> answers = new ArrayList<>();
        for (int i = 1; i <= 100; i++) {
            answers.add(failure(i % 2 == 0 ? THROTTLED : TRANSIENT, "failure #" + i));
        }
        inner.answerHead(answers.toArray());
        long deadlineMs = 3_000;
        RetryingObjectStore store = wrap(Duration.ofMillis(deadlineMs), new Random(11));

        Throwable t = failureOf(store.head("k"));

        long calls = inner.count("head");
        assertThat(calls).isBetween(2L, 99L);
        assertThat(t).isInstanceOf(ObjectStoreException.class);
        ObjectStoreException e = (ObjectStoreException) t;
        assertThat(e.getCause()).isInstanceOf(ObjectStoreException.class);
        assertThat(e.getCause().getMessage()).isEqualTo("failure #" + calls);
        assertThat(e.reason()).isEqualTo(((ObjectStoreException) e.getCause()).reason());
        assertThat(e.getMessage()).contains("head", "'k'", calls + " attempt(s)");
        assertThat(scheduler.delays.stream().mapToLong(Long::longValue).sum()).isLessThan(deadlineMs);
        assertThat(store.stats().exhausted()).isEqualTo(1);
    }

    @Test
    void zeroDeadlineShouldMakeExactlyOneAttempt() {
        inner.answerGet(failure(TRANSIENT, "reset"));
        RetryingObjectStore store = wrap(Duration.ZERO, new Random(1));

        Throwable t = failureOf(store.get("k"));

        assertThat(inner.count("get")).isEqualTo(1);
        assertThat(((ObjectStoreException) t).reason()).isEqualTo(TRANSIENT);
        assertThat(scheduler.delays).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(value = ObjectStoreException.Reason.class, names = {"NOT_FOUND", "PERMANENT", "CORRUPT"})
    void nonRetriableFailureShouldSurfaceImmediatelyAndUnchanged(ObjectStoreException.Reason reason) {
        ObjectStoreException original = failure(reason, "no");
        inner.answerGet(original);
        RetryingObjectStore store = wrap();

        Throwable t = failureOf(store.get("k", 3, 4));

        assertThat(t).isSameAs(original);
        assertThat(inner.count("get")).isEqualTo(1);
        assertThat(scheduler.delays).isEmpty();
    }

    @Test
    void failureThatIsNotAnObjectStoreExceptionShouldPassThroughWithoutRetry() {
        IllegalStateException boom = new IllegalStateException("store closed");
        inner.answerList(boom);
        RetryingObjectStore store = wrap();

        assertThat(failureOf(store.list("p/", null, 10))).isSameAs(boom);
        assertThat(inner.count("list")).isEqualTo(1);
    }

    @Test
    void ambiguousPutIfAbsentShouldCompleteTrueWhenTheExistingObjectCarriesOurToken() {
        inner.answerPutIfAbsent(failure(TRANSIENT, "response lost"), false)
                .answerHead(Optional.of(new ObjectInfo("k", 3, 0, "mine")));
        RetryingObjectStore store = wrap();

        boolean created = store.putIfAbsent("k", Payload.of(new byte[3]), "mine").join();

        assertThat(created).isTrue();
        assertThat(inner.calls).extracting(ScriptedObjectStore.Call::op).containsExactly("putIfAbsent", "putIfAbsent", "head");
        assertThat(inner.calls.subList(0, 2)).extracting(ScriptedObjectStore.Call::token).containsOnly("mine");
        assertThat(store.stats().ambiguousWon()).isEqualTo(1);
    }

    @Test
    void ambiguousPutIfAbsentShouldCompleteFalseWhenTheExistingObjectCarriesAnotherToken() {
        inner.answerPutIfAbsent(failure(TRANSIENT, "response lost"), failure(THROTTLED, "SlowDown"), false)
                .answerHead(failure(TRANSIENT, "head timeout"), Optional.of(new ObjectInfo("k", 3, 0, "theirs")));
        RetryingObjectStore store = wrap();

        boolean created = store.putIfAbsent("k", Payload.of(new byte[3]), "mine").join();

        assertThat(created).isFalse();
        assertThat(inner.count("putIfAbsent")).isEqualTo(3);
        assertThat(inner.count("head")).isEqualTo(2);
        assertThat(store.stats().ambiguousWon()).isZero();
    }

    @Test
    void putIfAbsentThatLosesAtTheFirstAttemptShouldNotAskForTheToken() {
        inner.answerPutIfAbsent(false);
        RetryingObjectStore store = wrap();

        assertThat(store.putIfAbsent("k", Payload.of(new byte[1]), "mine").join()).isFalse();
        assertThat(inner.count("head")).isZero();
    }

    /** Regression (issue 9, item 6): a 503 before the 412 skipped the token check. */
    @Test
    void putIfAbsentThrottledThenExistingShouldCompleteTrueWhenTheObjectCarriesOurToken() {
        inner.answerPutIfAbsent(failure(THROTTLED, "503 from a proxy after the write landed"), false)
                .answerHead(Optional.of(new ObjectInfo("k", 1, 0, "mine")));
        RetryingObjectStore store = wrap();

        assertThat(store.putIfAbsent("k", Payload.of(new byte[1]), "mine").join()).isTrue();
        assertThat(inner.count("head")).isEqualTo(1);
        assertThat(store.stats().ambiguousWon()).isEqualTo(1);
    }

    @Test
    void backoffCeilingShouldDoubleFromTheBaseUpToTheMaximum() {
        List<Object> answers = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            answers.add(failure(TRANSIENT, "t" + i));
        }
        answers.add(ByteBuffer.allocate(0));
        inner.answerGet(answers.toArray());
        RetryingObjectStore store = wrap(Duration.ofHours(1), new MaxRandom());

        store.get("k").join();

        List<Long> expected = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            expected.add(Math.min(MAX_MS, BASE_MS * (1L << i)));
        }
        assertThat(scheduler.delays).containsExactlyElementsOf(expected);
    }

    @Test
    void throttledFailuresShouldBackOffFromTheLongerThrottledBase() {
        inner.answerGet(failure(THROTTLED, "a"), failure(THROTTLED, "b"), failure(THROTTLED, "c"), ByteBuffer.allocate(0));
        RetryingObjectStore store = wrap(Duration.ofHours(1), new MaxRandom());

        store.get("k").join();

        assertThat(scheduler.delays).containsExactly(THROTTLED_BASE_MS, 2 * THROTTLED_BASE_MS, 4 * THROTTLED_BASE_MS);
        assertThat(store.stats().throttles()).isEqualTo(3);
    }

    @Test
    void delaysShouldBeJitteredBelowTheirCeilingAndReproducibleFromTheSeed() {
        List<List<Long>> runs = new ArrayList<>();
        for (int run = 0; run < 2; run++) {
            ScriptedObjectStore script = new ScriptedObjectStore();
            List<Object> answers = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                answers.add(failure(TRANSIENT, "t" + i));
            }
            answers.add(ByteBuffer.allocate(0));
            script.answerGet(answers.toArray());
            RecordingScheduler rec = new RecordingScheduler();
            RetryingObjectStore store = RetryingObjectStore.builder(script)
                    .deadline(Duration.ofHours(1))
                    .backoff(Duration.ofMillis(BASE_MS), Duration.ofMillis(MAX_MS))
                    .random(new Random(42))
                    .scheduler(rec)
                    .nanoClock(() -> rec.nowNanos)
                    .build();
            store.get("k").join();
            runs.add(rec.delays);
        }

        List<Long> delays = runs.get(0);
        assertThat(runs.get(1)).isEqualTo(delays);
        assertThat(delays).hasSize(12);
        for (int i = 0; i < delays.size(); i++) {
            assertThat(delays.get(i)).isBetween(0L, Math.min(MAX_MS, BASE_MS << i));
        }
        // Jittered: not every delay sits at its ceiling, and the values are spread out.
        long atCeiling = 0;
        for (int i = 0; i < delays.size(); i++) {
            if (delays.get(i) == Math.min(MAX_MS, BASE_MS << i)) {
                atCeiling++;
            }
        }
        assertThat(atCeiling).isLessThan(delays.size() / 2);
        assertThat(delays.stream().distinct().count()).isGreaterThan(delays.size() / 2);
        // Grows: the later half waits longer than the earlier half in total.
        long early = delays.subList(0, 6).stream().mapToLong(Long::longValue).sum();
        long late = delays.subList(6, 12).stream().mapToLong(Long::longValue).sum();
        assertThat(late).isGreaterThan(early);
    }

    @Test
    void synchronousArgumentErrorOfTheFirstAttemptShouldReachTheCaller() {
        RetryingObjectStore store = RetryingObjectStore.builder(new ScriptedObjectStore() {
            @Override
            public synchronized CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
                throw new IllegalArgumentException("invalid object key '" + key + "'");
            }
        }).scheduler(scheduler).build();

        assertThatThrownBy(() -> store.get("../x")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("../x");
        assertThat(scheduler.delays).isEmpty();
    }

    @Test
    void deadlineShouldComeFromTheStoreConfigKey() {
        inner.answerGet(failure(TRANSIENT, "a"), failure(TRANSIENT, "b"));
        RetryingObjectStore store = RetryingObjectStore.builder(inner)
                .config(StoreConfig.of(java.util.Map.of(StoreConfig.OBJECT_STORE_RETRY_DEADLINE_MS, 0)))
                .scheduler(scheduler)
                .nanoClock(() -> scheduler.nowNanos)
                .build();

        assertThat(((ObjectStoreException) failureOf(store.get("k"))).reason()).isEqualTo(TRANSIENT);
        assertThat(inner.count("get")).isEqualTo(1);
    }

    @Test
    void closeShouldCloseTheInnerStoreOnce() {
        RetryingObjectStore store = RetryingObjectStore.builder(inner).build();
        store.close();
        store.close();
        assertThat(inner.closed).isTrue();
    }

    @Test
    void headShouldPassEmptyAndNonRetriableAnswersThrough() {
        inner.answerHead(Optional.empty());
        assertThat(wrap().head("k").join()).isEmpty();
        inner.answerHead(failure(NOT_FOUND, "bucket gone"));
        assertThat(((ObjectStoreException) failureOf(wrap().head("k"))).reason()).isEqualTo(NOT_FOUND);
        inner.answerHead(failure(PERMANENT, "denied"));
        assertThat(((ObjectStoreException) failureOf(wrap().head("k"))).reason()).isEqualTo(PERMANENT);
    }
}
