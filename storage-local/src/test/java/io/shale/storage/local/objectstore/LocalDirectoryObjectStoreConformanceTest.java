package io.shale.storage.local.objectstore;

import io.shale.log.spi.ObjectStore;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore.MetadataPlacement;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore.Options;
import io.shale.storage.testkit.ObjectStoreConformanceTest;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The SPI conformance suite against a directory keeping metadata in extended attributes. */
class LocalDirectoryObjectStoreConformanceTest extends ObjectStoreConformanceTest {
    @TempDir
    Path root;

    @Override
    protected ObjectStore createStore() {
        return LocalDirectoryObjectStore.open(root, Options.defaults().withMetadataPlacement(MetadataPlacement.EXTENDED_ATTRIBUTE));
    }

    @Override
    protected ObjectStore createPeerStore(ObjectStore first) {
        return LocalDirectoryObjectStore.open(root);
    }
}
