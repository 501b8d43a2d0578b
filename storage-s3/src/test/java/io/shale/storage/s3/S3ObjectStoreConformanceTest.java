package io.shale.storage.s3;

import io.shale.log.internal.objectstore.RetryingObjectStore;
import io.shale.log.spi.ObjectStore;
import io.shale.storage.testkit.ObjectStoreConformanceTest;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The SPI conformance suite against a real S3 server (S3Proxy, in process). One bucket, a fresh
 * key prefix per test. The multipart threshold is lowered to 8 MiB (5 MiB parts) so the suite's
 * 24 MiB streamed payload goes through the multipart path. Tests S3Proxy itself fails are skipped
 * with their reason by {@link S3ProxyQuirks}.
 *
 * <p>The store is wrapped in the engine's {@link RetryingObjectStore}, as the engine always uses
 * it: under the suite's concurrent load S3Proxy's Jetty occasionally closes a kept-alive
 * connection while a request is on it, which the store correctly reports as TRANSIENT (see
 * S3ObjectStoreTest for the bare store's behaviour). Without the wrapper those rare closes fail
 * the concurrency tests; with it the suite checks the semantics the engine actually gets, and the
 * wrapper's ambiguity handling is exercised against a real server.
 */
@ExtendWith({S3ProxyExtension.class, S3ProxyQuirks.class})
class S3ObjectStoreConformanceTest extends ObjectStoreConformanceTest {
    private static final String BUCKET = "shale-conformance";
    private static S3ProxyServer s3;

    @BeforeAll
    static void startServer(S3ProxyServer server) {
        s3 = server;
        s3.createBucket(BUCKET);
    }

    private String prefix;

    @Override
    protected ObjectStore createStore() {
        prefix = "t-" + UUID.randomUUID();
        return open(prefix);
    }

    @Override
    protected ObjectStore createPeerStore(ObjectStore first) {
        return open(prefix);
    }

    private static ObjectStore open(String prefix) {
        S3ObjectStore raw = S3ObjectStore.create(s3.options(BUCKET, prefix)
                .multipartThreshold(8L << 20)
                .partSize(5L << 20)
                .build());
        return RetryingObjectStore.builder(raw)
                .deadline(Duration.ofSeconds(30))
                .backoff(Duration.ofMillis(5), Duration.ofMillis(200))
                .build();
    }
}
