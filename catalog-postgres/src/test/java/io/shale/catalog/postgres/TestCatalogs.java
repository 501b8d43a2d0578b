package io.shale.catalog.postgres;

import io.shale.storage.testkit.PostgresServer;

/** Catalog options for the tests' PostgreSQL server. */
final class TestCatalogs {
    private TestCatalogs() {
    }

    /** Options on a schema no other test used (a fresh, empty catalog), as user {@code postgres}. */
    static PostgresCatalogOptions.Builder freshOptions(PostgresServer server) {
        return PostgresCatalogOptions.builder(server.jdbcUrl()).user("postgres").schema(server.freshSchema());
    }
}
