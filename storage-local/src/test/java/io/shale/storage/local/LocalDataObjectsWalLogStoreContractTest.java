package io.shale.storage.local;

import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.WriteAheadLog;
import io.shale.log.wal.ObjectWriteAheadLog;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import io.shale.storage.testkit.LogStoreContractTest;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;

/**
 * The end-to-end store contract on the local-directory object store with the object WAL committing
 * its own objects as the first-level data objects ({@link ObjectWriteAheadLog.Builder#dataObjects},
 * RFC 0006). {@link LocalLogStoreContractTest} runs the same suite with the WAL's default layout.
 */
class LocalDataObjectsWalLogStoreContractTest extends LogStoreContractTest {
    @TempDir
    Path dir;

    @Override
    protected ObjectStore openObjectStore() {
        return LocalDirectoryObjectStore.open(dir.resolve("bucket"));
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
