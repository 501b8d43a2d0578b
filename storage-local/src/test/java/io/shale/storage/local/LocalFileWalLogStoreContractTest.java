package io.shale.storage.local;

import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.WriteAheadLog;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import io.shale.storage.local.wal.FileWriteAheadLog;
import io.shale.storage.testkit.LogStoreContractTest;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/**
 * The end-to-end store contract in the embedded default layout: the local-directory object store
 * and the file WAL, one WAL directory per node (a restart reopens its node's directory, a second
 * writer has its own). Crash tests are skipped here: a file WAL's crash is a SIGKILLed process,
 * which the reliability module tests with child JVMs.
 */
class LocalFileWalLogStoreContractTest extends LogStoreContractTest {
    @TempDir
    Path dir;

    @Override
    protected ObjectStore openObjectStore() {
        return LocalDirectoryObjectStore.open(dir.resolve("bucket"));
    }

    @Override
    protected WriteAheadLog createWal(String node) {
        // small segments: the default 64 MiB ones are zero-filled up front, for every store instance
        return FileWriteAheadLog.builder(dir.resolve("wal-" + node)).segmentBytes(1 << 20).spareSegments(1).build();
    }

    @Override
    protected boolean walSurvivesLossOfNode() {
        return false;
    }
}
