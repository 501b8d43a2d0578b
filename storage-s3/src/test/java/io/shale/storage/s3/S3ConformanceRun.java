package io.shale.storage.s3;

import io.shale.log.internal.objectstore.RetryingObjectStore;
import io.shale.log.spi.ObjectStore;
import io.shale.storage.testkit.ObjectStoreConformanceTest;
import java.time.Duration;
import java.util.UUID;

/**
 * The SPI conformance suite against a real S3 server; subclasses name the server (the class names
 * say which: S3ObjectStoreConformanceOn...Test). One bucket, a fresh key prefix per test. The
 * multipart threshold is lowered to 8 MiB (5 MiB parts) so the suite's 24 MiB streamed payload
 * goes through the multipart path.
 *
 * <p>The store is wrapped in the engine's {@link RetryingObjectStore}, as the engine always uses
 * it: under the suite's concurrent load S3Proxy's Jetty occasionally closes a kept-alive
 * connection while a request is on it, which the store correctly reports as TRANSIENT (see
 * S3ObjectStoreTest for the bare store's behaviour). Without the wrapper those rare closes fail
 * the concurrency tests; with it the suite checks the semantics the engine actually gets, and the
 * wrapper's ambiguity handling is exercised against a real server.
 */
abstract class S3ConformanceRun extends ObjectStoreConformanceTest {
    static final String BUCKET = "shale-conformance";

    private String prefix;

    /** Options for the server under test, for {@link #BUCKET} and this key prefix. */
    protected abstract S3StoreOptions.Builder options(String keyPrefix);

    @Override
    protected ObjectStore createStore() {
        prefix = "t-" + UUID.randomUUID();
        return open(prefix);
    }

    @Override
    protected ObjectStore createPeerStore(ObjectStore first) {
        return open(prefix);
    }

    private ObjectStore open(String keyPrefix) {
        S3ObjectStore raw = S3ObjectStore.create(options(keyPrefix)
                .multipartThreshold(8L << 20)
                .partSize(5L << 20)
                .build());
        return RetryingObjectStore.builder(raw)
                .deadline(Duration.ofSeconds(30))
                .backoff(Duration.ofMillis(5), Duration.ofMillis(200))
                .build();
    }
}
