package io.shale.storage.s3;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The SPI conformance suite against S3Proxy's in-memory ("transient") backend, the run's shared
 * server. In S3Proxy 4.1 that backend is the same nio2 file-tree code as the filesystem one, over
 * an in-memory file system, so it has the same quirks; {@link S3ProxyQuirks} skips those tests
 * with their reasons, and {@link S3ObjectStoreConformanceOnCephRgwTest} runs them on a server
 * without the quirks.
 */
@ExtendWith({S3ProxyExtension.class, S3ProxyQuirks.class})
class S3ObjectStoreConformanceOnS3ProxyInMemoryTest extends S3ConformanceRun {
    private static S3ProxyServer s3;

    @BeforeAll
    static void startServer(S3ProxyServer server) {
        s3 = server;
        s3.createBucket(BUCKET);
    }

    @Override
    protected S3StoreOptions.Builder options(String keyPrefix) {
        return s3.options(BUCKET, keyPrefix);
    }
}
