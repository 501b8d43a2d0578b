package io.shale.storage.s3;

import io.shale.log.spi.ObjectStore;
import io.shale.storage.testkit.LogStoreContractTest;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The end-to-end store contract on S3: an {@link S3ObjectStore} against the in-process S3 server
 * (S3Proxy), one bucket for the run and a fresh key prefix per test, with the object WAL in the
 * same prefix. The engine wraps the store in its own retry policy, as in production.
 */
@ExtendWith(S3ProxyExtension.class)
class S3LogStoreContractTest extends LogStoreContractTest {
    private static final String BUCKET = "shale-e2e";
    private static S3ProxyServer s3;

    /** JUnit makes a new instance per test, so every test gets its own prefix. */
    private final String prefix = "e2e-" + UUID.randomUUID();

    @BeforeAll
    static void startServer(S3ProxyServer server) {
        s3 = server;
        s3.createBucket(BUCKET);
    }

    @Override
    protected ObjectStore openObjectStore() {
        return S3ObjectStore.create(s3.options(BUCKET, prefix).build());
    }

    /**
     * Known issue: a segment roll streams its output with {@code Payload.ofStream}, whose iterator
     * fetches each source run with a blocking GET ({@code Compactor.Stream.sourceBytes}).
     * {@link PayloadBody} pulls that iterator from the SDK's subscription, i.e. on a Netty event
     * loop thread; when the GET's connection belongs to the same event loop, the thread waits for
     * a response only it could read. The PUT and every request on that loop hang until the SDK's
     * 60 s attempt timeout, then compaction fails and retries (and readers on that loop fail with
     * UNAVAILABLE).
     */
    @Override
    @Test
    @Tag("known-issue")
    protected void compactionShouldRollEachPartitionsRunsIntoSegmentsPreservingEveryOffset() {
        super.compactionShouldRollEachPartitionsRunsIntoSegmentsPreservingEveryOffset();
    }
}
