package io.shale.benchmarks.tools;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.async.AsyncExecuteRequest;
import software.amazon.awssdk.http.async.SdkAsyncHttpClient;
import software.amazon.awssdk.utils.AttributeMap;

/**
 * Counts the HTTP requests an {@code S3ObjectStore} sends, by S3 operation (PutObject, UploadPart,
 * GetObject, ListObjectsV2, ...). One SPI call is not always one request: a put larger than the
 * store's multipart threshold is CreateMultipartUpload + UploadParts + CompleteMultipartUpload, and
 * S3 bills requests, so the tools report both.
 *
 * <p>Use {@link #wrap} around the HTTP client builder given to
 * {@code S3ObjectStore.create(options, httpClientBuilder)}. Thread-safe.
 */
final class S3RequestCounter {
    private final ConcurrentHashMap<String, LongAdder> counts = new ConcurrentHashMap<>();

    /** A builder of an HTTP client that counts each request and then hands it to {@code delegate}'s client. */
    SdkAsyncHttpClient.Builder<?> wrap(SdkAsyncHttpClient.Builder<?> delegate) {
        return new CountingBuilder(delegate, this);
    }

    void record(SdkHttpRequest request) {
        counts.computeIfAbsent(operation(request.method(), request.encodedPath(), request.rawQueryParameters()),
                k -> new LongAdder()).increment();
    }

    /** Requests per operation so far, sorted by name. */
    Map<String, Long> snapshot() {
        Map<String, Long> out = new TreeMap<>();
        counts.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    void reset() {
        counts.values().forEach(LongAdder::reset);
    }

    /** Counts of {@code now} minus {@code earlier}, leaving out zeros. */
    static Map<String, Long> minus(Map<String, Long> now, Map<String, Long> earlier) {
        Map<String, Long> out = new TreeMap<>();
        now.forEach((k, v) -> {
            long d = v - earlier.getOrDefault(k, 0L);
            if (d != 0) {
                out.put(k, d);
            }
        });
        return out;
    }

    /**
     * The S3 operation of a path-style request ({@code /bucket} or {@code /bucket/key}), from its
     * method, path and query parameters, as S3's API reference names them.
     */
    static String operation(SdkHttpMethod method, String encodedPath, Map<String, ?> query) {
        String path = encodedPath == null ? "" : encodedPath;
        while (path.startsWith("/")) {
            path = path.substring(1);
        }
        int slash = path.indexOf('/');
        boolean objectLevel = slash >= 0 && slash < path.length() - 1;
        switch (method) {
            case PUT:
                if (!objectLevel) {
                    return "CreateBucket";
                }
                return query.containsKey("partNumber") ? "UploadPart" : "PutObject";
            case POST:
                if (query.containsKey("delete")) {
                    return "DeleteObjects";
                }
                if (query.containsKey("uploads")) {
                    return "CreateMultipartUpload";
                }
                if (query.containsKey("uploadId")) {
                    return "CompleteMultipartUpload";
                }
                return "POST (other)";
            case GET:
                if (!objectLevel) {
                    if (query.containsKey("uploads")) {
                        return "ListMultipartUploads";
                    }
                    return query.containsKey("list-type") ? "ListObjectsV2" : "ListObjects";
                }
                return query.containsKey("uploadId") ? "ListParts" : "GetObject";
            case HEAD:
                return objectLevel ? "HeadObject" : "HeadBucket";
            case DELETE:
                if (!objectLevel) {
                    return "DeleteBucket";
                }
                return query.containsKey("uploadId") ? "AbortMultipartUpload" : "DeleteObject";
            default:
                return method.name() + " (other)";
        }
    }

    private static final class CountingBuilder implements SdkAsyncHttpClient.Builder<CountingBuilder> {
        private final SdkAsyncHttpClient.Builder<?> delegate;
        private final S3RequestCounter counter;

        CountingBuilder(SdkAsyncHttpClient.Builder<?> delegate, S3RequestCounter counter) {
            this.delegate = Objects.requireNonNull(delegate, "delegate");
            this.counter = counter;
        }

        @Override
        public SdkAsyncHttpClient buildWithDefaults(AttributeMap serviceDefaults) {
            return new CountingClient(delegate.buildWithDefaults(serviceDefaults), counter);
        }
    }

    private static final class CountingClient implements SdkAsyncHttpClient {
        private final SdkAsyncHttpClient delegate;
        private final S3RequestCounter counter;

        CountingClient(SdkAsyncHttpClient delegate, S3RequestCounter counter) {
            this.delegate = delegate;
            this.counter = counter;
        }

        @Override
        public CompletableFuture<Void> execute(AsyncExecuteRequest request) {
            counter.record(request.request());
            return delegate.execute(request);
        }

        @Override
        public String clientName() {
            return delegate.clientName();
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
