package io.shale.storage.testkit;

import io.shale.log.spi.ObjectStore;
import io.shale.log.testing.InMemoryObjectStore;

/** The engine's in-memory test double must honour the same contract as the real stores. */
class InMemoryObjectStoreConformanceTest extends ObjectStoreConformanceTest {
    @Override
    protected ObjectStore createStore() {
        return new InMemoryObjectStore();
    }
}
