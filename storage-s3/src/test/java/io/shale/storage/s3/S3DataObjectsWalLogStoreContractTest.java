package io.shale.storage.s3;

import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.WriteAheadLog;
import io.shale.log.wal.ObjectWriteAheadLog;
import io.shale.storage.testkit.LogStoreContractTest;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The end-to-end store contract on S3 (S3Proxy in-process, a fresh key prefix per test) with the
 * object WAL committing its own objects as the first-level data objects
 * ({@link ObjectWriteAheadLog.Builder#dataObjects}, RFC 0006). {@link S3LogStoreContractTest} runs
 * the same suite with the WAL's default layout.
 */
@ExtendWith(S3ProxyExtension.class)
class S3DataObjectsWalLogStoreContractTest extends LogStoreContractTest {
    private static final String BUCKET = "shale-e2e-walobj";
    private static S3ProxyServer s3;

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

    @Override
    protected WriteAheadLog createWal(String node) {
        return ObjectWriteAheadLog.builder()
                .flushInterval(Duration.ofMillis(5))
                .closeTimeout(Duration.ofSeconds(10))
                .maxBlock(Duration.ofSeconds(WAIT_SECONDS))
                .dataObjects(true)
                .build();
    }

    @Override
    protected boolean walObjectsAreDataObjects() {
        return true;
    }
}
