package io.shale.storage.local;

import io.shale.log.spi.ObjectStore;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import io.shale.storage.testkit.LogStoreContractTest;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/**
 * The end-to-end store contract on the local-directory object store (the embedded default bucket),
 * with the object WAL in the same directory: restarts and crashes are new store instances on it.
 * {@link LocalFileWalLogStoreContractTest} runs the same suite with the file WAL.
 */
class LocalLogStoreContractTest extends LogStoreContractTest {
    @TempDir
    Path dir;

    @Override
    protected ObjectStore openObjectStore() {
        return LocalDirectoryObjectStore.open(dir.resolve("bucket"));
    }
}
