package io.shale.catalog.postgres;

import io.shale.log.internal.format.CorruptObjectException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a schema's tables up to the version this code knows, at open: the SQL files under
 * {@code migrations/} ({@code V<n>__<what>.sql}), applied in order, each recorded in
 * {@code schema_version}. Everything runs in one transaction under a transaction-scoped advisory
 * lock, so concurrent openers apply each file once and a failed file leaves nothing behind.
 * A schema already at a newer version than this code knows is refused: an older Shale must not
 * write tables whose meaning it does not know.
 */
final class SchemaMigrations {
    private static final Logger log = LoggerFactory.getLogger(SchemaMigrations.class);

    /** The files, in order; version n is the n-th. */
    static final List<String> FILES = List.of("V1__catalog.sql", "V2__partition_leases.sql", "V3__transactions.sql",
            "V4__takeover_wal_nodes.sql");

    private SchemaMigrations() {
    }

    static int latestVersion() {
        return FILES.size();
    }

    /** Applies what is missing; returns the schema's version. */
    static int migrate(Connection c, String schema) throws SQLException {
        return migrate(c, schema, latestVersion());
    }

    /**
     * Applies what is missing up to version {@code target} (tests make older schemas with it);
     * returns the schema's version afterwards.
     */
    static int migrate(Connection c, String schema, int target) throws SQLException {
        if (target < 1 || target > latestVersion()) {
            throw new IllegalArgumentException("no catalog schema version " + target);
        }
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            // one lock per schema name, held until the transaction ends
            try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
                lock.setString(1, "shale-catalog:" + schema);
                lock.execute();
            }
            // the name is validated (PostgresCatalogOptions: [a-z_][a-z0-9_]*), quoted so that keywords work too
            st.execute("CREATE SCHEMA IF NOT EXISTS \"" + schema + "\"");
            st.execute("SET LOCAL search_path TO \"" + schema + "\"");
            st.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY,"
                    + " file text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
            int current = 0;
            try (ResultSet rs = st.executeQuery("SELECT coalesce(max(version), 0) FROM schema_version")) {
                rs.next();
                current = rs.getInt(1);
            }
            if (current > latestVersion()) {
                throw new CorruptObjectException("the catalog schema '" + schema + "' is at version " + current
                        + ", newer than this version of Shale knows (" + latestVersion()
                        + "): open it with a newer Shale");
            }
            for (int v = current + 1; v <= target; v++) {
                String file = FILES.get(v - 1);
                st.execute(read(file));
                try (PreparedStatement ins = c.prepareStatement(
                        "INSERT INTO schema_version (version, file) VALUES (?, ?)")) {
                    ins.setInt(1, v);
                    ins.setString(2, file);
                    ins.executeUpdate();
                }
                log.info("catalog schema '{}': applied migration {}", schema, file);
            }
            c.commit();
            return Math.max(current, target);
        } catch (SQLException | RuntimeException e) {
            try {
                c.rollback();
            } catch (SQLException re) {
                e.addSuppressed(re);
            }
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    private static String read(String file) {
        String path = "migrations/" + file;
        try (InputStream in = SchemaMigrations.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("catalog migration " + path + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading catalog migration " + path, e);
        }
    }
}
