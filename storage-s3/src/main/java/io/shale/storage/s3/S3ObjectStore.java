package io.shale.storage.s3;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.Payload;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.async.SdkAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.SdkEventLoopGroup;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.S3Object;

/*
 * Design rationale.
 *
 * One request per call: the SDK's own retries are switched off (AwsRetryStrategy.doNotRetry()).
 * The one exception is a pooled connection that the server closed before answering: an
 * idempotent request (GET, HEAD, LIST, DELETE) that met one is sent once more at once (see
 * idempotent()); servers close keep-alive connections after some answers (S3Proxy after errors,
 * S3 after idle time), and the request never reached them.
 * The engine wraps every store in one RetryingObjectStore with a deadline; SDK retries underneath
 * would multiply attempts (SDK 3 x wrapper N), hide throttling from the wrapper's counters, and,
 * worst, retry a conditional PUT whose first attempt may have succeeded: the second attempt's 412
 * would then be reported as "lost" with nobody knowing an ambiguous attempt came first. With one
 * request per call, every ambiguous outcome reaches the wrapper, which resolves it by token.
 *
 * HTTP client: Netty (netty-nio-client) for now. Measured with S3HttpClientBench (test sources;
 * the command is in its Javadoc) against the in-process S3 server, 4 requests in flight, 5 rounds
 * on a noisy shared 2-core VM: for 1 MiB objects CRT had the higher PUT throughput in all 5
 * rounds (52-162 vs 33-75 MB/s) and the lower GET p50 in 4 of 5 (10-15 ms there; Netty 17-160
 * ms, CRT 97 ms in the fifth); for 16 MiB the rounds overlapped (PUT 46-373 vs
 * 44-148 MB/s, GET 47-305 vs 80-199 MB/s). After S3Proxy answers 412 to a conditional PUT, Netty
 * reused a connection the server was closing in 3 of 500 follow-up calls (TRANSIENT, retried by
 * the wrapper), CRT in 0. Netty is kept as the default because it is pure Java (no native
 * library per platform, no threads outside the JVM's view), is the client the fault-injection
 * suite (S3FaultTest) verifies, and its failure types map cleanly; CRT's have not been through
 * that suite yet. The numbers argue for switching once they have: pass
 * AwsCrtAsyncHttpClient.builder() to create(options, httpClientBuilder) meanwhile.
 *
 * Writes: the token goes in user metadata (x-amz-meta-shale-token) and comes back from HEAD.
 * Payloads up to multipartThreshold are one PutObject streamed from Payload.open() without a
 * copy; larger ones are a multipart upload cut from one pass over the payload, at most
 * partUploadConcurrency parts (each a list of slices of the caller's buffers) in flight, so memory
 * is bounded by parts in flight, not by the object. Any failure aborts the upload. putIfAbsent
 * sends If-None-Match: * on the PutObject, or on CompleteMultipartUpload for large payloads;
 * 412 means the key exists (false), 409 ConditionalRequestConflict is TRANSIENT.
 *
 * Reads: a ranged GET collected into one exact-size buffer (RangeCollector); 416 for a range
 * starting at or past the end of an existing object is the SPI's empty buffer.
 *
 * Listing: ListObjectsV2 (StartAfter, MaxKeys <= 1000), keys relative to the prefix. Directory
 * buckets (S3 Express One Zone) return keys unsorted, ignore StartAfter and accept only prefixes
 * ending in '/', so there the store lists the enclosing "directory" in full, sorts, filters and
 * pages itself: correct, but O(keys in that directory) per page.
 */

/**
 * An {@link ObjectStore} over Amazon S3 or an S3-compatible store, using aws-sdk-java-v2's async
 * client. All keys live under the options' key prefix in one bucket.
 *
 * <p><b>Threading.</b> Thread-safe; futures complete on the SDK's completion executor, never on a
 * network I/O thread. {@link #close()} is idempotent and fails in-flight operations.
 *
 * <p><b>Idempotency and durability.</b> A completed {@code put}/{@code putIfAbsent} is durable in
 * S3. {@code put} and {@code delete} are idempotent. Each call makes one attempt (see the class
 * comment): callers wrap the store in the engine's retry wrapper.
 *
 * <p><b>Errors</b> (all as {@link ObjectStoreException}): NOT_FOUND for a missing object;
 * PERMANENT for a missing bucket (the message names it), access denied and bad credentials
 * (bucket and key named); THROTTLED for 503/429; TRANSIENT for other 5xx, 409 conditional
 * conflicts, timeouts and connection failures. A {@link Payload} whose iterator throws surfaces its
 * own exception unchanged. Invalid keys throw {@link IllegalArgumentException} before any I/O.
 *
 * <p>{@code head} cannot tell a missing bucket from a missing key (HEAD answers carry no error
 * code), so it reports both as empty; {@link #verifyBucket()} checks the bucket explicitly.
 */
public final class S3ObjectStore implements ObjectStore {
    private static final Logger LOG = LoggerFactory.getLogger(S3ObjectStore.class);
    /** User metadata key of the write token; S3 sends it as {@code x-amz-meta-shale-token}. */
    static final String TOKEN_METADATA = "shale-token";
    private static final int MAX_DELETE_BATCH = 1000;
    private static final int ABORT_ATTEMPTS = 3;
    private static final int MAX_LIST_KEYS = 1000;
    /** Base64 of the big-endian CRC32 of no bytes. */
    private static final String EMPTY_CRC32 = "AAAAAA==";
    /** Quiet period of the event loops' background shutdown (see {@link #create(S3StoreOptions)}). */
    private static final long LOOP_QUIET_PERIOD_MS = 200;

    private final S3StoreOptions options;
    private final S3AsyncClient client;
    private final String bucket;
    private final String root;
    private final String description;
    private final boolean directoryBucket;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Runnable onClose = () -> { };
    /**
     * Reads payloads. A streamed payload may block while it produces bytes (the compactor fetches
     * source objects as it goes), so its iterator must never run on the HTTP client's event loop:
     * that loop may be the one that has to deliver the very response the iterator waits for.
     */
    private final ExecutorService payloadReader = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "shale-s3-payload");
        t.setDaemon(true);
        return t;
    });

    private S3ObjectStore(S3StoreOptions options, S3AsyncClient client) {
        this.options = options;
        this.client = client;
        this.bucket = options.bucket();
        this.root = options.keyPrefix();
        this.description = options.describe();
        this.directoryBucket = options.isDirectoryBucket();
    }

    /**
     * A store with the default HTTP client (Netty) sized by the options. No I/O happens here.
     *
     * @throws ShaleException {@code INVALID_ARGUMENT} if the client cannot be built from the options
     *     (no region given and none in the default region chain, for AWS's own endpoint)
     */
    public static S3ObjectStore create(S3StoreOptions options) {
        Objects.requireNonNull(options, "options");
        // The store owns its event loops and shuts them down without waiting: the SDK's own close
        // of a client-created group blocks for its 2 s quiet period. The loops keep a short quiet
        // period of their own, in the background: closing the client closes its pooled channels on
        // their loops, and a loop that stopped at once would reject the pool's close listeners
        // (Netty logs that as a WARN with a RejectedExecutionException, or an ERROR when it cannot
        // notify a listener) whenever a request was still in flight, as after a failed open.
        SdkEventLoopGroup loops = SdkEventLoopGroup.builder()
                .numberOfThreads(Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors())))
                .build();
        try {
            S3ObjectStore store = create(options, NettyNioAsyncHttpClient.builder()
                    .eventLoopGroup(loops)
                    .maxConcurrency(options.maxConcurrency())
                    .connectionTimeout(options.connectionTimeout())
                    .connectionAcquisitionTimeout(options.apiCallTimeout()));
            store.onClose = () -> loops.eventLoopGroup().shutdownGracefully(LOOP_QUIET_PERIOD_MS, 5_000,
                    TimeUnit.MILLISECONDS);
            return store;
        } catch (RuntimeException e) {
            loops.eventLoopGroup().shutdownGracefully(0, 5, TimeUnit.SECONDS);
            throw e;
        }
    }

    /**
     * A store using another async HTTP client (e.g. the CRT client), which the store owns and
     * closes. The options' {@code maxConcurrency} and {@code connectionTimeout} are not applied to
     * it: configure them on the builder. Errors as {@link #create(S3StoreOptions)}.
     */
    public static S3ObjectStore create(S3StoreOptions options, SdkAsyncHttpClient.Builder<?> httpClient) {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(httpClient, "httpClient");
        try {
            return createClient(options, httpClient);
        } catch (ShaleException e) {
            throw e;
        } catch (RuntimeException e) { // the SDK refused its configuration
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "cannot create an S3 client for " + options.describe()
                    + ": " + e.getMessage(), e);
        }
    }

    private static S3ObjectStore createClient(S3StoreOptions options, SdkAsyncHttpClient.Builder<?> httpClient) {
        S3AsyncClientBuilder b = S3AsyncClient.builder()
                .httpClientBuilder(httpClient)
                .credentialsProvider(credentials(options))
                .region(region(options))
                .forcePathStyle(options.pathStyleAccess())
                .requestChecksumCalculation(options.requestChecksums()
                        ? RequestChecksumCalculation.WHEN_SUPPORTED : RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(options.requestChecksums()
                        ? ResponseChecksumValidation.WHEN_SUPPORTED : ResponseChecksumValidation.WHEN_REQUIRED)
                .overrideConfiguration(c -> c
                        .retryStrategy(AwsRetryStrategy.doNotRetry())
                        .apiCallTimeout(options.apiCallTimeout())
                        .apiCallAttemptTimeout(options.apiCallAttemptTimeout()));
        options.endpoint().ifPresent(b::endpointOverride);
        return new S3ObjectStore(options, b.build());
    }

    private static AwsCredentialsProvider credentials(S3StoreOptions o) {
        if (!o.hasStaticCredentials()) {
            return DefaultCredentialsProvider.builder().build();
        }
        String id = o.accessKeyId().orElseThrow();
        return StaticCredentialsProvider.create(o.sessionToken() == null
                ? AwsBasicCredentials.create(id, o.secretAccessKey())
                : AwsSessionCredentials.create(id, o.secretAccessKey(), o.sessionToken()));
    }

    private static Region region(S3StoreOptions o) {
        if (o.region().isPresent()) {
            return Region.of(o.region().get());
        }
        try {
            return new DefaultAwsRegionProviderChain().getRegion();
        } catch (SdkClientException e) {
            if (o.endpoint().isPresent()) {
                // S3-compatible stores rarely care about the region; any value signs correctly for them.
                return Region.US_EAST_1;
            }
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "no region for bucket " + o.bucket()
                    + ": set S3StoreOptions.region or AWS_REGION / a profile region", e);
        }
    }

    /** The options this store was created with. */
    public S3StoreOptions options() {
        return options;
    }

    /**
     * Checks that the bucket exists and is reachable with these credentials (HeadBucket). Fails
     * with PERMANENT naming the bucket if it does not exist or access is denied.
     */
    public CompletableFuture<Void> verifyBucket() {
        ensureOpen();
        return client.headBucket(b -> b.bucket(bucket)).handle((r, t) -> {
            if (t == null) {
                return null;
            }
            if (S3Errors.status(t) == 404) {
                throw new ObjectStoreException(ObjectStoreException.Reason.PERMANENT, null,
                        "bucket '" + bucket + "' does not exist (" + description + ")", S3Errors.unwrap(t));
            }
            throw asFailure(t, "verifyBucket", null, null);
        });
    }

    @Override
    public CompletableFuture<Void> put(String key, Payload payload, String token) {
        S3Keys.validate(key);
        validateToken(token, false);
        Objects.requireNonNull(payload, "payload");
        ensureOpen();
        return write(key, payload, token, false).thenApply(created -> null);
    }

    @Override
    public CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) {
        S3Keys.validate(key);
        validateToken(token, true);
        Objects.requireNonNull(payload, "payload");
        ensureOpen();
        return write(key, payload, token, true);
    }

    private CompletableFuture<Boolean> write(String key, Payload payload, String token, boolean ifAbsent) {
        String fullKey = root + key;
        Map<String, String> metadata = token == null ? Map.of() : Map.of(TOKEN_METADATA, token);
        if (payload.length() > options.multipartThreshold()) {
            return new MultipartWrite(key, fullKey, payload, metadata, ifAbsent).start();
        }
        // In-memory bytes are written straight from the event loop; a hop to the payload reader
        // between the headers and the body let a server's early error answer (403, 404 bucket,
        // 412) and connection close overtake the request, which then surfaced as "connection
        // closed" instead of the answer.
        PayloadBody body = new PayloadBody(payload.length(), payload::open,
                payload.isInMemory() ? Runnable::run : payloadReader);
        return client.putObject(b -> {
            b.bucket(bucket).key(fullKey).contentLength(payload.length()).metadata(metadata)
                    .overrideConfiguration(o -> o.apiCallAttemptTimeout(attemptTimeout(payload.length())));
            if (payload.length() == 0 && options.requestChecksums()) {
                // A precomputed checksum goes in a header instead of an aws-chunked trailer. Empty
                // aws-chunked bodies made S3Proxy (Jetty) drop ~0.5% of connections under load.
                b.checksumCRC32(EMPTY_CRC32);
            }
            if (ifAbsent) {
                b.ifNoneMatch("*");
            }
        }, body).handle((r, t) -> {
            if (t == null) {
                return true;
            }
            if (ifAbsent && S3Errors.status(t) == 412) {
                return false;
            }
            if (body.sourceFailure() != null) {
                throw body.sourceFailure(); // the caller's payload failed, not S3
            }
            throw asFailure(t, ifAbsent ? "putIfAbsent" : "put", fullKey, key);
        });
    }

    /**
     * The limit on one attempt that transfers {@code bytes} of body (up or down): the options'
     * attempt timeout plus {@link S3StoreOptions#attemptTimeoutPerMiB()} per MiB, at most the
     * call's timeout. Small requests thus fail fast when a connection stalls (and the engine's
     * retry wrapper tries again) while large transfers still get the time they need.
     */
    private Duration attemptTimeout(long bytes) {
        long perMiBNanos = options.attemptTimeoutPerMiB().toNanos();
        double mib = bytes / (double) (1 << 20);
        long extra = (long) Math.min(Long.MAX_VALUE / 2.0, perMiBNanos * mib);
        Duration d = options.apiCallAttemptTimeout().plusNanos(extra);
        return d.compareTo(options.apiCallTimeout()) > 0 ? options.apiCallTimeout() : d;
    }

    @Override
    public CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
        S3Keys.validate(key);
        if (offset < 0 || length < -1) {
            throw new IllegalArgumentException("invalid range offset=" + offset + " length=" + length + " for " + key);
        }
        ensureOpen();
        String fullKey = root + key;
        if (length == 0) {
            // No byte range can express zero bytes; the object must still exist.
            return head(key).thenApply(info -> {
                if (info.isEmpty()) {
                    throw new ObjectStoreException(ObjectStoreException.Reason.NOT_FOUND, key,
                            "get s3://" + bucket + "/" + fullKey + ": no such object");
                }
                return ByteBuffer.allocate(0);
            });
        }
        String range = null;
        if (offset > 0 || length > 0) {
            long last = length < 0 ? -1 : offset + length - 1;
            if (length > 0 && last < offset) {
                last = Long.MAX_VALUE - 1; // offset + length overflowed: read to the end
            }
            range = "bytes=" + offset + "-" + (last < 0 ? "" : Long.toString(last));
        }
        String where = "s3://" + bucket + "/" + fullKey;
        String rangeHeader = range;
        Duration attempt = length > 0 ? attemptTimeout(length) : options.apiCallTimeout(); // unknown size: the call's limit
        return idempotent(() -> client.getObject(b -> {
            b.bucket(bucket).key(fullKey).overrideConfiguration(o -> o.apiCallAttemptTimeout(attempt));
            if (rangeHeader != null) {
                b.range(rangeHeader);
            }
        }, new RangeCollector(where, key, offset, length))).handle((buf, t) -> {
            if (t == null) {
                return buf;
            }
            if (S3Errors.status(t) == 416) {
                // The object exists and the range starts at or past its end.
                return ByteBuffer.allocate(0);
            }
            throw asFailure(t, "get", fullKey, key);
        });
    }

    @Override
    public CompletableFuture<Optional<ObjectInfo>> head(String key) {
        S3Keys.validate(key);
        ensureOpen();
        String fullKey = root + key;
        return idempotent(() -> client.headObject(b -> b.bucket(bucket).key(fullKey))).handle((r, t) -> {
            if (t == null) {
                return Optional.of(info(key, r));
            }
            if (S3Errors.status(t) == 404) {
                return Optional.empty();
            }
            throw asFailure(t, "head", fullKey, key);
        });
    }

    /**
     * Sends an idempotent request, and sends it once more at once if the connection closed before
     * an answer came ({@link S3Errors#isClosedBeforeAnswer}): the request met a pooled connection
     * the server was closing. Any other failure, and a second one, is the caller's to retry.
     */
    private <T> CompletableFuture<T> idempotent(Supplier<CompletableFuture<T>> send) {
        CompletableFuture<T> result = new CompletableFuture<>();
        send.get().whenComplete((r, t) -> {
            if (t == null) {
                result.complete(r);
            } else if (!S3Errors.isClosedBeforeAnswer(t) || closed.get()) {
                result.completeExceptionally(t);
            } else {
                CompletableFuture<T> again;
                try {
                    again = send.get();
                } catch (RuntimeException e) {
                    e.addSuppressed(t);
                    result.completeExceptionally(e);
                    return;
                }
                again.whenComplete((r2, t2) -> {
                    if (t2 == null) {
                        result.complete(r2);
                    } else {
                        result.completeExceptionally(t2);
                    }
                });
            }
        });
        return result;
    }

    private static ObjectInfo info(String key, HeadObjectResponse r) {
        String token = r.hasMetadata() ? r.metadata().get(TOKEN_METADATA) : null;
        long modified = r.lastModified() == null ? 0 : r.lastModified().toEpochMilli();
        return new ObjectInfo(key, r.contentLength() == null ? 0 : r.contentLength(), modified, token);
    }

    /**
     * As {@link ObjectStore#list}. Tokens are not reported ({@code null}): ListObjectsV2 does not
     * return user metadata. On a directory bucket each call lists the whole enclosing "directory"
     * of the prefix, then sorts and pages locally (see the class comment).
     */
    @Override
    public CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys) {
        Objects.requireNonNull(prefix, "prefix");
        if (maxKeys < 1) {
            throw new IllegalArgumentException("maxKeys must be positive: " + maxKeys);
        }
        ensureOpen();
        if (directoryBucket) {
            return listDirectoryBucket(prefix, startAfter, maxKeys);
        }
        String fullPrefix = root + prefix;
        // Keys below the prefix can be skipped by the server; a startAfter before the prefix means "from the start".
        // Compared in S3's order (UTF-8 bytes): String.compareTo would put an astral startAfter before a prefix
        // in U+E000..U+FFFF and list keys the caller has already seen.
        String fullStartAfter = startAfter == null || compareUtf8(startAfter, prefix) < 0 ? null : root + startAfter;
        return listPage(fullPrefix, fullStartAfter, null, Math.min(maxKeys, MAX_LIST_KEYS));
    }

    private CompletableFuture<ListPage> listPage(String fullPrefix, String fullStartAfter, String continuation, int maxKeys) {
        return idempotent(() -> client.listObjectsV2(b -> {
            b.bucket(bucket).prefix(fullPrefix).maxKeys(maxKeys);
            if (continuation != null) {
                b.continuationToken(continuation);
            } else if (fullStartAfter != null) {
                b.startAfter(fullStartAfter);
            }
        })).handle((r, t) -> {
            if (t != null) {
                throw asFailure(t, "list", fullPrefix, null);
            }
            return r;
        }).thenCompose(r -> {
            List<ObjectInfo> out = new ArrayList<>(r.contents().size());
            for (S3Object o : r.contents()) {
                if (!o.key().startsWith(root) || (fullStartAfter != null && compareUtf8(o.key(), fullStartAfter) <= 0)) {
                    // Defensive: a server that ignores StartAfter or the prefix. In S3's order (UTF-8 bytes):
                    // String.compareTo would drop astral keys that follow a startAfter in U+E000..U+FFFF.
                    continue;
                }
                out.add(info(o));
            }
            boolean more = Boolean.TRUE.equals(r.isTruncated());
            if (more && out.isEmpty() && r.nextContinuationToken() != null) {
                // Nothing usable on this page but more to come: follow the continuation token so the
                // caller never gets an empty page without a key to resume from.
                return listPage(fullPrefix, fullStartAfter, r.nextContinuationToken(), maxKeys);
            }
            String next = more && !out.isEmpty() ? out.get(out.size() - 1).key() : null;
            return CompletableFuture.completedFuture(new ListPage(out, next));
        });
    }

    private ObjectInfo info(S3Object o) {
        long modified = o.lastModified() == null ? 0 : o.lastModified().toEpochMilli();
        return new ObjectInfo(o.key().substring(root.length()), o.size() == null ? 0 : o.size(), modified, null);
    }

    private CompletableFuture<ListPage> listDirectoryBucket(String prefix, String startAfter, int maxKeys) {
        String fullPrefix = root + prefix;
        int slash = fullPrefix.lastIndexOf('/');
        String dirPrefix = slash < 0 ? "" : fullPrefix.substring(0, slash + 1);
        TreeMap<String, ObjectInfo> sorted = new TreeMap<>(S3ObjectStore::compareUtf8);
        return listAllDirectory(dirPrefix, null, fullPrefix, sorted).thenApply(v -> {
            List<ObjectInfo> out = new ArrayList<>();
            Map<String, ObjectInfo> tail = startAfter == null ? sorted : sorted.tailMap(startAfter, false);
            boolean more = false;
            for (ObjectInfo i : tail.values()) {
                if (out.size() == maxKeys) {
                    more = true;
                    break;
                }
                out.add(i);
            }
            return new ListPage(out, more ? out.get(out.size() - 1).key() : null);
        });
    }

    private CompletableFuture<Void> listAllDirectory(String dirPrefix, String continuation, String fullPrefix,
            TreeMap<String, ObjectInfo> into) {
        return client.listObjectsV2(b -> {
            b.bucket(bucket).prefix(dirPrefix).maxKeys(MAX_LIST_KEYS);
            if (continuation != null) {
                b.continuationToken(continuation);
            }
        }).handle((r, t) -> {
            if (t != null) {
                throw asFailure(t, "list", dirPrefix, null);
            }
            return r;
        }).thenCompose((ListObjectsV2Response r) -> {
            for (S3Object o : r.contents()) {
                if (o.key().startsWith(fullPrefix)) {
                    ObjectInfo i = info(o);
                    into.put(i.key(), i);
                }
            }
            if (Boolean.TRUE.equals(r.isTruncated()) && r.nextContinuationToken() != null) {
                return listAllDirectory(dirPrefix, r.nextContinuationToken(), fullPrefix, into);
            }
            return CompletableFuture.completedFuture(null);
        });
    }

    /** Compares strings by their UTF-8 bytes (S3's order), which differs from String order for surrogate pairs. */
    static int compareUtf8(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; i++) {
            char ca = a.charAt(i);
            char cb = b.charAt(i);
            if (ca != cb) {
                // Code units >= 0xE000 encode above surrogates in UTF-8 but below them in UTF-16.
                boolean sa = Character.isSurrogate(ca);
                boolean sb = Character.isSurrogate(cb);
                if (sa != sb && (ca >= 0xE000 || cb >= 0xE000)) {
                    return sa ? 1 : -1;
                }
                return Character.compare(ca, cb);
            }
        }
        return Integer.compare(a.length(), b.length());
    }

    /**
     * As {@link ObjectStore#delete}: DeleteObjects in batches of 1,000 keys (quiet mode), one batch
     * at a time. Per-key errors are reported in the result with S3's error code; a key reported
     * as NoSuchKey counts as deleted. If a whole batch request fails, the future fails (repeating
     * the call is safe: delete is idempotent).
     */
    @Override
    public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
        Objects.requireNonNull(keys, "keys");
        List<String> unique = new ArrayList<>(new java.util.LinkedHashSet<>(keys));
        for (String k : unique) {
            S3Keys.validate(k);
        }
        ensureOpen();
        if (unique.isEmpty()) {
            return CompletableFuture.completedFuture(DeleteResult.ok());
        }
        Map<String, String> failed = new LinkedHashMap<>();
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        for (int from = 0; from < unique.size(); from += MAX_DELETE_BATCH) {
            List<String> batch = unique.subList(from, Math.min(unique.size(), from + MAX_DELETE_BATCH));
            chain = chain.thenCompose(v -> deleteBatch(batch, failed));
        }
        return chain.thenApply(v -> failed.isEmpty() ? DeleteResult.ok() : new DeleteResult(failed));
    }

    private CompletableFuture<Void> deleteBatch(List<String> batch, Map<String, String> failed) {
        List<ObjectIdentifier> ids = new ArrayList<>(batch.size());
        for (String k : batch) {
            ids.add(ObjectIdentifier.builder().key(root + k).build());
        }
        return idempotent(() -> client.deleteObjects(b -> b.bucket(bucket).delete(d -> d.objects(ids).quiet(true))))
                .handle((DeleteObjectsResponse r, Throwable t) -> {
                    if (t != null) {
                        throw asFailure(t, "delete (" + batch.size() + " keys)", root, null);
                    }
                    synchronized (failed) {
                        for (S3Error e : r.errors()) {
                            if ("NoSuchKey".equals(e.code())) {
                                continue;
                            }
                            if ("NoSuchBucket".equals(e.code())) {
                                // Some servers (S3Proxy) report a missing bucket per key: nothing could be deleted.
                                throw new ObjectStoreException(ObjectStoreException.Reason.PERMANENT, null,
                                        "bucket '" + bucket + "' does not exist: delete " + description);
                            }
                            String k = e.key() != null && e.key().startsWith(root) ? e.key().substring(root.length()) : e.key();
                            failed.put(k, e.code() + (e.message() == null ? "" : ": " + e.message()));
                        }
                    }
                    return null;
                });
    }

    /**
     * Aborts multipart uploads under the key prefix that were started before {@code initiatedBefore}
     * (uploads left by crashed writers; they are billed until aborted). Completes with how many
     * were aborted. An upload that vanished meanwhile (NoSuchUpload) is not counted. Safe to run
     * concurrently with writers as long as {@code initiatedBefore} is older than any upload still
     * in progress (e.g. now minus a day). Buckets on AWS should also carry a lifecycle rule
     * AbortIncompleteMultipartUpload as a backstop.
     */
    public CompletableFuture<Integer> abortIncompleteUploads(Instant initiatedBefore) {
        Objects.requireNonNull(initiatedBefore, "initiatedBefore");
        ensureOpen();
        AtomicInteger aborted = new AtomicInteger();
        return abortPage(initiatedBefore, null, null, aborted).thenApply(v -> aborted.get());
    }

    private CompletableFuture<Void> abortPage(Instant cutoff, String keyMarker, String uploadIdMarker, AtomicInteger aborted) {
        return client.listMultipartUploads(b -> {
            b.bucket(bucket).prefix(root);
            if (keyMarker != null) {
                b.keyMarker(keyMarker);
            }
            if (uploadIdMarker != null) {
                b.uploadIdMarker(uploadIdMarker);
            }
        }).handle((ListMultipartUploadsResponse r, Throwable t) -> {
            if (t != null) {
                throw asFailure(t, "listMultipartUploads", root, null);
            }
            return r;
        }).thenCompose(r -> {
            List<CompletableFuture<Void>> aborts = new ArrayList<>();
            for (MultipartUpload u : r.uploads()) {
                if (u.initiated() != null && u.initiated().isBefore(cutoff) && u.key().startsWith(root)) {
                    aborts.add(client.abortMultipartUpload(b -> b.bucket(bucket).key(u.key()).uploadId(u.uploadId()))
                            .handle((ok, t) -> {
                                if (t == null) {
                                    aborted.incrementAndGet();
                                } else if (S3Errors.status(t) != 404) {
                                    throw asFailure(t, "abortMultipartUpload", u.key(), null);
                                }
                                return null;
                            }));
                }
            }
            CompletableFuture<Void> all = CompletableFuture.allOf(aborts.toArray(new CompletableFuture<?>[0]));
            if (Boolean.TRUE.equals(r.isTruncated())) {
                return all.thenCompose(v -> abortPage(cutoff, r.nextKeyMarker(), r.nextUploadIdMarker(), aborted));
            }
            return all;
        });
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                client.close();
            } finally {
                payloadReader.shutdownNow();
                onClose.run();
            }
        }
    }

    @Override
    public String toString() {
        return "S3ObjectStore[" + description + "]";
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("object store closed: " + description);
        }
    }

    private static void validateToken(String token, boolean required) {
        if (token == null) {
            if (required) {
                throw new NullPointerException("token is required for putIfAbsent");
            }
            return;
        }
        if (token.isEmpty() || token.length() > 64) {
            throw new IllegalArgumentException("token must be 1 to 64 characters: '" + token + "'");
        }
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
            if (!ok) {
                throw new IllegalArgumentException("token may contain only ASCII letters, digits, '-' and '_': '" + token + "'");
            }
        }
    }

    /** The exception to throw from a handle stage: mapped, and unchecked. */
    private RuntimeException asFailure(Throwable t, String op, String fullKey, String key) {
        Throwable mapped = S3Errors.map(t, op, bucket, fullKey, key);
        if (mapped instanceof RuntimeException re) {
            return re;
        }
        return new java.util.concurrent.CompletionException(mapped);
    }

    /**
     * One multipart upload: create, parts cut from a single pass over the payload with at most
     * {@code partUploadConcurrency} in flight, complete (conditionally for putIfAbsent), and
     * abort on any failure.
     */
    private final class MultipartWrite {
        private final String key;
        private final String fullKey;
        private final Payload payload;
        private final Map<String, String> metadata;
        private final boolean ifAbsent;
        private final long partSize;
        private final boolean checksums = options.requestChecksums();
        private final CompletableFuture<Boolean> result = new CompletableFuture<>();
        private final List<CompletedPart> completed = new ArrayList<>();
        private final Object lock = new Object();
        private String uploadId;
        private Iterator<ByteBuffer> source;
        private ByteBuffer current;
        private long cutBytes;
        private int nextPartNumber = 1;
        private int inFlight;
        private boolean sourceDone;
        private boolean failed;
        private boolean abortStarted;
        private Throwable firstFailure;

        MultipartWrite(String key, String fullKey, Payload payload, Map<String, String> metadata, boolean ifAbsent) {
            this.key = key;
            this.fullKey = fullKey;
            this.payload = payload;
            this.metadata = metadata;
            this.ifAbsent = ifAbsent;
            long minForCount = (payload.length() + S3StoreOptions.MAX_PARTS - 1) / S3StoreOptions.MAX_PARTS;
            this.partSize = Math.max(options.partSize(), minForCount);
        }

        CompletableFuture<Boolean> start() {
            client.createMultipartUpload(b -> {
                b.bucket(bucket).key(fullKey).metadata(metadata);
                if (checksums) {
                    b.checksumAlgorithm(ChecksumAlgorithm.CRC32);
                }
            }).whenComplete((r, t) -> {
                if (t != null) {
                    result.completeExceptionally(asFailure(t, op(), fullKey, key));
                    return;
                }
                uploadId = r.uploadId();
                payloadReader.execute(() -> {
                    try {
                        source = payload.open();
                    } catch (RuntimeException e) {
                        abortAndFail(e);
                        return;
                    }
                    pump();
                });
            });
            return result;
        }

        private String op() {
            return ifAbsent ? "putIfAbsent (multipart)" : "put (multipart)";
        }

        /** Starts parts while there is room; completes the upload once the source is drained and no part is in flight. */
        private void pump() {
            List<Runnable> starts = new ArrayList<>();
            boolean finish = false;
            synchronized (lock) {
                while (!failed && !sourceDone && inFlight < options.partUploadConcurrency()) {
                    List<ByteBuffer> slices;
                    try {
                        slices = cutPart();
                    } catch (RuntimeException e) {
                        failed = true;
                        firstFailure = e;
                        break;
                    }
                    if (slices == null) {
                        sourceDone = true;
                        break;
                    }
                    int partNumber = nextPartNumber++;
                    inFlight++;
                    starts.add(() -> uploadPart(partNumber, slices));
                }
                if (!failed && sourceDone && inFlight == 0) {
                    if (cutBytes != payload.length()) {
                        failed = true;
                        firstFailure = new IllegalStateException("payload produced " + cutBytes + " bytes, declared " + payload.length());
                    } else {
                        finish = true;
                    }
                }
            }
            starts.forEach(Runnable::run);
            if (finish) {
                complete();
            }
            abortIfFailedAndIdle();
        }

        /** After a failure, aborts once the parts still in flight have finished (so none lands after the abort). */
        private void abortIfFailedAndIdle() {
            Throwable cause;
            synchronized (lock) {
                if (!failed || inFlight > 0 || abortStarted) {
                    return;
                }
                abortStarted = true;
                cause = firstFailure;
            }
            abortAndFail(cause);
        }

        /** The next part as slices of the payload's buffers (no copy), or null when the payload is exhausted. */
        private List<ByteBuffer> cutPart() {
            List<ByteBuffer> slices = new ArrayList<>();
            long size = 0;
            while (size < partSize) {
                if (current == null || !current.hasRemaining()) {
                    if (!source.hasNext()) {
                        break;
                    }
                    current = source.next().duplicate();
                    continue;
                }
                int take = (int) Math.min(current.remaining(), partSize - size);
                ByteBuffer slice = current.duplicate();
                slice.limit(slice.position() + take);
                current.position(current.position() + take);
                slices.add(slice);
                size += take;
            }
            cutBytes += size;
            if (cutBytes > payload.length()) {
                throw new IllegalStateException("payload produced more than its declared " + payload.length() + " bytes");
            }
            return size == 0 ? null : slices;
        }

        private void uploadPart(int partNumber, List<ByteBuffer> slices) {
            long size = 0;
            for (ByteBuffer s : slices) {
                size += s.remaining();
            }
            long partLength = size;
            PayloadBody body = new PayloadBody(partLength, slices::iterator, Runnable::run); // slices already pulled
            client.uploadPart(b -> {
                b.bucket(bucket).key(fullKey).uploadId(uploadId).partNumber(partNumber).contentLength(partLength)
                        .overrideConfiguration(o -> o.apiCallAttemptTimeout(attemptTimeout(partLength)));
                if (checksums) {
                    b.checksumAlgorithm(ChecksumAlgorithm.CRC32);
                }
            }, body).whenComplete((r, t) -> {
                synchronized (lock) {
                    inFlight--;
                    if (t != null) {
                        if (!failed) {
                            failed = true;
                            firstFailure = body.sourceFailure() != null ? body.sourceFailure()
                                    : asFailure(t, op() + " part " + partNumber, fullKey, key);
                        }
                    } else {
                        completed.add(CompletedPart.builder().partNumber(partNumber).eTag(r.eTag())
                                .checksumCRC32(r.checksumCRC32()).build());
                    }
                }
                payloadReader.execute(this::pump); // cutting the next part may block on the source
            });
        }

        private void complete() {
            List<CompletedPart> parts;
            synchronized (lock) {
                parts = new ArrayList<>(completed);
            }
            parts.sort((a, b) -> Integer.compare(a.partNumber(), b.partNumber()));
            client.completeMultipartUpload(b -> {
                // S3 may take a while to assemble a large object (it keeps the connection alive meanwhile).
                b.bucket(bucket).key(fullKey).uploadId(uploadId).multipartUpload(m -> m.parts(parts))
                        .overrideConfiguration(o -> o.apiCallAttemptTimeout(options.apiCallTimeout()));
                if (ifAbsent) {
                    b.ifNoneMatch("*");
                }
            }).whenComplete((r, t) -> {
                if (t == null) {
                    result.complete(true);
                } else if (ifAbsent && S3Errors.status(t) == 412) {
                    abort().whenComplete((v, e) -> result.complete(false));
                } else {
                    abortAndFail(asFailure(t, op() + " complete", fullKey, key));
                }
            });
        }

        private void abortAndFail(Throwable cause) {
            abort().whenComplete((v, e) -> {
                if (e != null) {
                    cause.addSuppressed(e);
                }
                result.completeExceptionally(cause);
            });
        }

        /**
         * Best effort, with up to {@link #ABORT_ATTEMPTS} attempts on transient failures (a server
         * may close the connection after answering the failed request that led here, and the
         * abort would otherwise ride on that dying connection); a failed abort is logged and left
         * to {@link #abortIncompleteUploads}.
         */
        private CompletableFuture<Void> abort() {
            return uploadId == null ? CompletableFuture.completedFuture(null) : abort(1);
        }

        private CompletableFuture<Void> abort(int attempt) {
            return client.abortMultipartUpload(b -> b.bucket(bucket).key(fullKey).uploadId(uploadId)).handle((r, t) -> {
                if (t == null || S3Errors.status(t) == 404) {
                    return CompletableFuture.<Void>completedFuture(null);
                }
                if (attempt < ABORT_ATTEMPTS && S3Errors.isRetryable(t)) {
                    return abort(attempt + 1);
                }
                LOG.warn("could not abort multipart upload {} of s3://{}/{}: {}", uploadId, bucket, fullKey,
                        S3Errors.unwrap(t).toString());
                return CompletableFuture.<Void>completedFuture(null);
            }).thenCompose(f -> f);
        }
    }
}
