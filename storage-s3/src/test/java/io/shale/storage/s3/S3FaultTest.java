package io.shale.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.shale.log.internal.objectstore.RetryingObjectStore;
import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.ObjectStoreException.Reason;
import io.shale.log.spi.Payload;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * The S3 store and the retry wrapper against faults injected between the client and a real S3
 * server ({@link FaultProxy} in front of S3Proxy): 503 SlowDown storms, error answers, slow
 * responses, connection resets, truncated and lost responses.
 */
@ExtendWith(S3ProxyExtension.class)
class S3FaultTest {
    private static final String BUCKET = "shale-faults";

    private final S3ProxyServer s3;
    private final String prefix = "f-" + UUID.randomUUID();
    private FaultProxy proxy;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    S3FaultTest(S3ProxyServer s3) {
        this.s3 = s3;
        s3.createBucket(BUCKET);
    }

    @BeforeEach
    void startProxy() {
        proxy = FaultProxy.start(s3.endpoint(), r -> FaultProxy.Fault.pass());
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
        proxy.close();
    }

    private S3ObjectStore bare() {
        return bare(b -> b);
    }

    private S3ObjectStore bare(java.util.function.UnaryOperator<S3StoreOptions.Builder> tweak) {
        S3ObjectStore store = S3ObjectStore.create(tweak.apply(S3ProxyServer.optionsFor(proxy.endpoint(), BUCKET, prefix)
                .staticCredentials(s3.accessKey(), s3.secretKey())).build());
        toClose.add(store);
        return store;
    }

    private RetryingObjectStore retrying(S3ObjectStore inner, Duration deadline) {
        RetryingObjectStore store = RetryingObjectStore.builder(inner)
                .deadline(deadline)
                .backoff(Duration.ofMillis(5), Duration.ofMillis(50))
                .throttledBackoff(Duration.ofMillis(10), Duration.ofMillis(100))
                .random(new Random(3))
                .build();
        toClose.add(store);
        return store;
    }

    /** A plan that applies {@code fault} to the first {@code n} requests matching {@code which}, then passes. */
    private static FaultProxy.Plan firstN(int n, Predicate<FaultProxy.Request> which, FaultProxy.Fault fault) {
        AtomicInteger left = new AtomicInteger(n);
        return r -> which.test(r) && left.getAndDecrement() > 0 ? fault : FaultProxy.Fault.pass();
    }

    private static Predicate<FaultProxy.Request> method(String m) {
        return r -> r.method().equals(m);
    }

    private static ObjectStoreException failure(CompletableFuture<?> f) {
        Throwable t = catchThrowable(() -> f.get(60, TimeUnit.SECONDS));
        assertThat(t).isNotNull();
        Throwable cause = t.getCause();
        assertThat(cause).isInstanceOf(ObjectStoreException.class);
        return (ObjectStoreException) cause;
    }

    private static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] array(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Test
    void retryWrapperShouldRideOutAShortSlowDownStorm() {
        byte[] content = bytes(10_000, 1);
        proxy.plan(firstN(6, method("PUT"), FaultProxy.Fault.error(503, "SlowDown")));
        RetryingObjectStore store = retrying(bare(), Duration.ofSeconds(20));

        store.put("storm", Payload.of(content), "t1").join();

        assertThat(array(store.get("storm").join())).isEqualTo(content);
        assertThat(proxy.requests().stream().filter(method("PUT")).count()).isEqualTo(7);
        assertThat(store.stats().throttles()).isEqualTo(6);
        assertThat(store.stats().exhausted()).isZero();
    }

    @Test
    void slowDownStormOutlastingTheDeadlineShouldFailThrottledWithTheLastError() {
        proxy.plan(r -> FaultProxy.Fault.error(503, "SlowDown"));
        RetryingObjectStore store = retrying(bare(), Duration.ofMillis(400));

        ObjectStoreException e = failure(store.get("anything"));

        assertThat(e.reason()).isEqualTo(Reason.THROTTLED);
        assertThat(e.getCause()).isInstanceOf(ObjectStoreException.class);
        assertThat(e.getMessage()).contains("retry deadline 400 ms", "SlowDown");
        assertThat(store.stats().exhausted()).isEqualTo(1);
        assertThat(proxy.requests()).hasSizeGreaterThan(1);
    }

    @ParameterizedTest(name = "{0} {1} on {2} -> {3}")
    @CsvSource({
        "500, InternalError,              get,         TRANSIENT",
        "502, BadGateway,                 get,         TRANSIENT",
        "504, GatewayTimeout,             list,        TRANSIENT",
        "503, SlowDown,                   get,         THROTTLED",
        "503, ServiceUnavailable,         head,        THROTTLED",
        "429, TooManyRequests,            list,        THROTTLED",
        "400, RequestTimeout,             put,         TRANSIENT",
        "400, InvalidArgument,            put,         PERMANENT",
        "403, AccessDenied,               get,         PERMANENT",
        "403, InvalidAccessKeyId,         put,         PERMANENT",
        "403, SignatureDoesNotMatch,      list,        PERMANENT",
        "404, NoSuchKey,                  get,         NOT_FOUND",
        "404, NoSuchBucket,               get,         PERMANENT",
        "409, ConditionalRequestConflict, putIfAbsent, TRANSIENT",
        "409, OperationAborted,           put,         TRANSIENT",
    })
    void errorAnswersShouldMapToTheirReasons(int status, String code, String op, Reason expected) {
        proxy.plan(r -> FaultProxy.Fault.error(status, code));
        S3ObjectStore store = bare();
        CompletableFuture<?> f = switch (op) {
            case "get" -> store.get("k/x", 0, 10);
            case "head" -> store.head("k/x");
            case "list" -> store.list("k/", null, 10);
            case "put" -> store.put("k/x", Payload.of(new byte[] {1}), "tok");
            case "putIfAbsent" -> store.putIfAbsent("k/x", Payload.of(new byte[] {1}), "tok");
            default -> throw new IllegalArgumentException(op);
        };

        ObjectStoreException e = failure(f);

        assertThat(e.reason()).isEqualTo(expected);
        assertThat(e.getMessage()).contains(BUCKET);
        if (!op.equals("list")) {
            assertThat(e.getMessage()).contains(prefix + "/k/x");
        }
        if (code.equals("NoSuchBucket")) {
            assertThat(e.getMessage()).contains("bucket '" + BUCKET + "' does not exist");
        }
    }

    @Test
    void preconditionFailedOnAConditionalPutShouldMeanTheKeyExists() {
        proxy.plan(r -> FaultProxy.Fault.error(412, "PreconditionFailed"));
        assertThat(bare().putIfAbsent("k", Payload.of(new byte[] {1}), "tok").join()).isFalse();
    }

    @Test
    void slowResponseShouldTimeOutAsTransientAndSucceedWhenRetried() {
        byte[] content = bytes(1000, 2);
        bare().put("slow", Payload.of(content), null).join();
        proxy.plan(firstN(1, method("GET"), FaultProxy.Fault.delay(3_000)));
        S3ObjectStore impatient = bare(b -> b.apiCallAttemptTimeout(Duration.ofMillis(500)).apiCallTimeout(Duration.ofSeconds(1)));

        ObjectStoreException e = failure(impatient.get("slow"));
        assertThat(e.reason()).isEqualTo(Reason.TRANSIENT);

        proxy.plan(firstN(1, method("GET"), FaultProxy.Fault.delay(3_000)));
        RetryingObjectStore store = retrying(impatient, Duration.ofSeconds(20));
        assertThat(array(store.get("slow").join())).isEqualTo(content);
        assertThat(store.stats().retries()).isEqualTo(1);
    }

    @Test
    void attemptTimeoutShouldCoverSmallRequestsAndGrowWithTheBody() {
        // The attempt limit applies per request (the call's limit is far away) ...
        S3ObjectStore strict = bare(b -> b.apiCallAttemptTimeout(Duration.ofMillis(500))
                .attemptTimeoutPerMiB(Duration.ZERO).apiCallTimeout(Duration.ofSeconds(60)));
        proxy.plan(firstN(1, method("PUT"), FaultProxy.Fault.delay(3_000)));
        ObjectStoreException e = failure(strict.put("small", Payload.of(bytes(1000, 3)), null));
        assertThat(e.reason()).isEqualTo(Reason.TRANSIENT);

        // ... and grows by attemptTimeoutPerMiB for each MiB of body: 0.5 s + 2 x 10 s here.
        byte[] twoMiB = bytes(2 << 20, 4);
        S3ObjectStore patient = bare(b -> b.apiCallAttemptTimeout(Duration.ofMillis(500))
                .attemptTimeoutPerMiB(Duration.ofSeconds(10)).apiCallTimeout(Duration.ofSeconds(60)));
        proxy.plan(firstN(1, method("PUT"), FaultProxy.Fault.delay(3_000)));
        patient.put("large", Payload.of(twoMiB), null).join();
        proxy.plan(firstN(1, method("GET"), FaultProxy.Fault.delay(3_000)));
        assertThat(array(patient.get("large", 0, twoMiB.length).join())).isEqualTo(twoMiB);
    }

    @Test
    void connectionResetShouldBeTransient() {
        proxy.plan(r -> FaultProxy.Fault.reset());
        ObjectStoreException e = failure(bare().get("k"));
        assertThat(e.reason()).isEqualTo(Reason.TRANSIENT);
        assertThat(e.key()).isEqualTo("k");
    }

    @Test
    void idempotentRequestsShouldBeSentOnceMoreWhenTheConnectionClosedBeforeAnswering() {
        byte[] content = bytes(1024, 5);
        S3ObjectStore store = bare();
        store.put("k", Payload.of(content), null).join();

        assertThat(array(sentTwice("GET", () -> store.get("k")))).isEqualTo(content);
        assertThat(sentTwice("HEAD", () -> store.head("k"))).isPresent();
        assertThat(sentTwice("GET", () -> store.list("", null, 10)).objects()).hasSize(1);
        assertThat(sentTwice("POST", () -> store.delete(List.of("k"))).isComplete()).isTrue();
        assertThat(store.head("k").join()).isEmpty();
    }

    /** Runs a call whose first request of this method the proxy closes unanswered; checks it was sent twice. */
    private <T> T sentTwice(String method, java.util.function.Supplier<CompletableFuture<T>> call) {
        proxy.plan(firstN(1, method(method), FaultProxy.Fault.close()));
        int before = proxy.requests().size();
        T result = call.get().join();
        assertThat(proxy.requests().subList(before, proxy.requests().size()))
                .as(method).extracting(FaultProxy.Request::method).containsExactly(method, method);
        return result;
    }

    @Test
    void aConnectionClosedTwiceOrUnderAPutShouldBeLeftToTheCallersRetries() {
        proxy.plan(firstN(2, method("GET"), FaultProxy.Fault.close()));
        assertThat(failure(bare().get("k")).reason()).isEqualTo(Reason.TRANSIENT);
        assertThat(proxy.requests()).hasSize(2);

        proxy.plan(firstN(1, method("PUT"), FaultProxy.Fault.close()));
        assertThat(failure(bare().put("p", Payload.of(new byte[8]), "t")).reason()).isEqualTo(Reason.TRANSIENT);
        assertThat(proxy.requests()).hasSize(3);
    }

    @Test
    void truncatedResponseShouldFailTransientAndNeverYieldAShortBuffer() {
        byte[] content = bytes(256 * 1024, 3);
        bare().put("big", Payload.of(content), null).join();
        proxy.plan(firstN(1, method("GET"), FaultProxy.Fault.truncateResponse(64 * 1024)));

        ObjectStoreException e = failure(bare().get("big"));

        assertThat(e.reason()).isEqualTo(Reason.TRANSIENT);
    }

    @Test
    void lostResponseOfAConditionalPutShouldResolveAsWonByToken() {
        proxy.plan(firstN(1, method("PUT"), FaultProxy.Fault.dropResponse()));
        RetryingObjectStore store = retrying(bare(), Duration.ofSeconds(20));

        boolean created = store.putIfAbsent("manifest/0001", Payload.of(new byte[] {42}), "writer-a").join();

        assertThat(created).isTrue();
        assertThat(proxy.requests().stream().filter(method("PUT")).count()).as("the original and one retry").isEqualTo(2);
        assertThat(proxy.requests().stream().filter(method("HEAD")).count()).isEqualTo(1);
        assertThat(store.head("manifest/0001").join()).hasValueSatisfying(i -> assertThat(i.token()).isEqualTo("writer-a"));
        assertThat(store.stats().ambiguousWon()).isEqualTo(1);
    }

    @Test
    void ambiguousConditionalPutShouldResolveAsLostWhenAnotherWriterHoldsTheKey() {
        S3ObjectStore direct = S3ObjectStore.create(s3.options(BUCKET, prefix).build());
        toClose.add(direct);
        assertThat(direct.putIfAbsent("manifest/0002", Payload.of(new byte[] {1}), "writer-b").join()).isTrue();
        proxy.plan(firstN(1, method("PUT"), FaultProxy.Fault.reset()));
        RetryingObjectStore store = retrying(bare(), Duration.ofSeconds(20));

        boolean created = store.putIfAbsent("manifest/0002", Payload.of(new byte[] {2}), "writer-a").join();

        assertThat(created).isFalse();
        assertThat(array(direct.get("manifest/0002").join())).containsExactly(1);
        assertThat(proxy.requests().stream().filter(method("HEAD")).count()).isEqualTo(1);
    }

    @Test
    void deleteShouldSendOneRequestPerThousandKeys() {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 2_100; i++) {
            String key = String.format("del/%04d", i);
            keys.add(key);
            s3.blobStore().putBlob(PutObjectRequest.builder().bucket(BUCKET).key(prefix + "/" + key).contentLength(1L).build(),
                    new ByteArrayInputStream(new byte[] {7}));
        }
        keys.add("del/never-existed");
        S3ObjectStore store = bare();

        DeleteResult result = store.delete(keys).join();

        assertThat(result.isComplete()).isTrue();
        assertThat(proxy.requests().stream().filter(r -> r.method().equals("POST") && r.hasQueryParam("delete")).count())
                .isEqualTo(3);
        assertThat(store.list("del/", null, 1000).join().objects()).isEmpty();
    }

    @Test
    void deleteShouldReportPerKeyErrorsButNotMissingKeys() {
        proxy.plan(r -> r.method().equals("POST") && r.hasQueryParam("delete")
                ? FaultProxy.Fault.respond(200, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        + "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                        + "<Error><Key>" + prefix + "/a</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
                        + "<Error><Key>" + prefix + "/b</Key><Code>NoSuchKey</Code><Message>gone</Message></Error>"
                        + "<Error><Key>" + prefix + "/c</Key><Code>InternalError</Code><Message>try again</Message></Error>"
                        + "</DeleteResult>")
                : FaultProxy.Fault.pass());

        DeleteResult result = bare().delete(List.of("a", "b", "c", "d")).join();

        assertThat(result.failed()).containsOnlyKeys("a", "c");
        assertThat(result.failed().get("a")).startsWith("AccessDenied");
        assertThat(result.failed().get("c")).startsWith("InternalError");
    }

    @Test
    void multipartUploadShouldBeAbortedWhenAPartFails() throws Exception {
        proxy.plan(r -> r.method().equals("PUT") && r.hasQueryParam("partNumber") && r.target().contains("partNumber=2")
                ? FaultProxy.Fault.error(500, "InternalError") : FaultProxy.Fault.pass());
        S3ObjectStore store = bare(b -> b.multipartThreshold(5L << 20).partSize(5L << 20).partUploadConcurrency(1));

        ObjectStoreException e = failure(store.put("mp", Payload.of(new byte[(12 << 20) + 5]), "t"));

        assertThat(e.reason()).isEqualTo(Reason.TRANSIENT);
        assertThat(store.head("mp").join()).isEmpty();
        assertThat(proxy.requests().stream().filter(r -> r.method().equals("DELETE") && r.hasQueryParam("uploadId")).count())
                .isEqualTo(1);
        assertThat(s3.blobStore().listMultipartUploads(BUCKET)).noneMatch(u -> u.key().startsWith(prefix + "/"));
    }

    @Test
    void bareStoreShouldNotRetryOnItsOwn() {
        proxy.plan(r -> FaultProxy.Fault.error(503, "SlowDown"));
        assertThat(failure(bare().get("x")).reason()).isEqualTo(Reason.THROTTLED);
        assertThat(proxy.requests()).hasSize(1);
    }
}
