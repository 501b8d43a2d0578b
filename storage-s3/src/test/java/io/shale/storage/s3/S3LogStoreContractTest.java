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
}
