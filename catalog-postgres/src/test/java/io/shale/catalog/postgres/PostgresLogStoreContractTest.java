package io.shale.catalog.postgres;

import io.shale.log.spi.CatalogFactory;
import io.shale.log.spi.ObjectStore;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import io.shale.storage.testkit.LogStoreContractTest;
import io.shale.storage.testkit.PostgresServer;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole store contract with the metadata in PostgreSQL: data objects and the object WAL in a
 * local directory, the catalog in a fresh schema of the run's throwaway PostgreSQL per test. The
 * catalog is wrapped in {@link ProcessBoundCatalog} so that the suite's simulated crashes (a dead
 * object-store handle) cut the store off from its database too, as a real crash would.
 */
@ExtendWith({PostgresServer.Extension.class, PostgresLogStoreContractTest.ServerParameter.class})
class PostgresLogStoreContractTest extends LogStoreContractTest {
    @TempDir
    Path dir;

    private CatalogFactory catalog;

    /** Hands the run's server to the test instance before each test. */
    static final class ServerParameter implements org.junit.jupiter.api.extension.BeforeEachCallback {
        @Override
        public void beforeEach(ExtensionContext context) {
            PostgresLogStoreContractTest test = (PostgresLogStoreContractTest) context.getRequiredTestInstance();
            test.catalog = ProcessBoundCatalog.factory(TestCatalogs.freshOptions(PostgresServer.get(context)).build());
        }
    }

    @BeforeEach
    void checkCatalog(TestInfo info) {
        if (catalog == null) {
            throw new AssertionError("no catalog for " + info.getDisplayName());
        }
    }

    @Override
    protected ObjectStore openObjectStore() {
        return LocalDirectoryObjectStore.open(dir.resolve("bucket"));
    }

    @Override
    protected CatalogFactory catalog() {
        return catalog;
    }
}
