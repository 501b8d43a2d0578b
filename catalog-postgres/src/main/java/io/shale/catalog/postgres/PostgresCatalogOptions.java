package io.shale.catalog.postgres;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where and how {@link PostgresCatalog} connects: the database (a JDBC URL), the credentials,
 * the schema holding one store's tables, and the pool's limits. Immutable; made with
 * {@link #builder(String)}.
 *
 * <pre>{@code
 * PostgresCatalogOptions options = PostgresCatalogOptions.builder("jdbc:postgresql://db:5432/shale")
 *         .user("shale").password(secret).schema("orders").build();
 * }</pre>
 *
 * <p>The password is never logged nor included in {@link #toString()} or error messages.
 */
public final class PostgresCatalogOptions {
    private static final Pattern SCHEMA = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    private final String jdbcUrl;
    private final String user;
    private final String password;
    private final String schema;
    private final int poolSize;
    private final Duration connectTimeout;
    private final Duration queryTimeout;
    private final String nodeId;

    private PostgresCatalogOptions(Builder b) {
        this.jdbcUrl = b.jdbcUrl;
        this.user = b.user;
        this.password = b.password;
        this.schema = b.schema;
        this.poolSize = b.poolSize;
        this.connectTimeout = b.connectTimeout;
        this.queryTimeout = b.queryTimeout;
        this.nodeId = b.nodeId;
    }

    /**
     * Starts options for the database at {@code jdbcUrl} ({@code jdbc:postgresql://host:port/database}).
     * Anything that speaks PostgreSQL's protocol and transactions works in principle; Shale is
     * tested against PostgreSQL 15.
     */
    public static Builder builder(String jdbcUrl) {
        return new Builder(jdbcUrl);
    }

    public String jdbcUrl() {
        return jdbcUrl;
    }

    public String user() {
        return user;
    }

    String password() {
        return password;
    }

    public String schema() {
        return schema;
    }

    public int poolSize() {
        return poolSize;
    }

    public Duration connectTimeout() {
        return connectTimeout;
    }

    public Duration queryTimeout() {
        return queryTimeout;
    }

    public String nodeId() {
        return nodeId;
    }

    /** The database and schema, without credentials (the URL's query string is left out). */
    public String describe() {
        int q = jdbcUrl.indexOf('?');
        return "PostgreSQL " + (q < 0 ? jdbcUrl : jdbcUrl.substring(0, q)) + " schema " + schema;
    }

    @Override
    public String toString() {
        return describe() + " (user " + user + ", pool " + poolSize + ", node " + nodeId + ")";
    }

    /** Builds {@link PostgresCatalogOptions}; not thread-safe. */
    public static final class Builder {
        private final String jdbcUrl;
        private String user;
        private String password;
        private String schema = "shale";
        private int poolSize = 4;
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration queryTimeout = Duration.ofSeconds(30);
        private String nodeId = defaultNodeId();

        private Builder(String jdbcUrl) {
            Objects.requireNonNull(jdbcUrl, "jdbcUrl");
            if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT,
                        "the catalog's JDBC URL must start with jdbc:postgresql:, got '" + redact(jdbcUrl) + "'");
            }
            this.jdbcUrl = jdbcUrl;
        }

        /** The database user (default: none, the driver's default or the URL's). */
        public Builder user(String user) {
            this.user = Objects.requireNonNull(user, "user");
            return this;
        }

        /** The database password (default: none). Never logged. */
        public Builder password(String password) {
            this.password = Objects.requireNonNull(password, "password");
            return this;
        }

        /**
         * The schema holding this store's tables (default {@code shale}); created with its tables
         * on first open. One schema holds one store: several stores share a database with one
         * schema each. Lower-case letters, digits and underscores, at most 63, not starting with a
         * digit.
         */
        public Builder schema(String schema) {
            Objects.requireNonNull(schema, "schema");
            if (!SCHEMA.matcher(schema).matches()) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "catalog schema name '" + schema
                        + "' must be 1 to 63 lower-case letters, digits or underscores, not starting with a digit");
            }
            this.schema = schema;
            return this;
        }

        /** Most connections the store's pool opens (default 4, at least 2: commits and fencing checks). */
        public Builder poolSize(int poolSize) {
            if (poolSize < 2 || poolSize > 100) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT,
                        "catalog pool size must be between 2 and 100, got " + poolSize);
            }
            this.poolSize = poolSize;
            return this;
        }

        /** How long getting a connection may take before the call fails {@code UNAVAILABLE} (default 10 s). */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connect timeout");
            return this;
        }

        /** How long one database round trip may take before the call fails {@code UNAVAILABLE} (default 30 s). */
        public Builder queryTimeout(Duration timeout) {
            this.queryTimeout = positive(timeout, "query timeout");
            return this;
        }

        /** This node's name in the catalog's node registry (default: host name and process id). */
        public Builder nodeId(String nodeId) {
            Objects.requireNonNull(nodeId, "nodeId");
            if (nodeId.isBlank() || nodeId.length() > 200) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "node id must be 1 to 200 characters, not blank");
            }
            this.nodeId = nodeId;
            return this;
        }

        public PostgresCatalogOptions build() {
            return new PostgresCatalogOptions(this);
        }

        private static Duration positive(Duration d, String what) {
            Objects.requireNonNull(d, what);
            if (d.isNegative() || d.isZero() || d.toSeconds() > 3600) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "catalog " + what
                        + " must be positive and at most an hour, got " + d);
            }
            return d;
        }

        private static String defaultNodeId() {
            String host;
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException | RuntimeException e) {
                host = "localhost";
            }
            return host + "-" + ProcessHandle.current().pid();
        }

        private static String redact(String url) {
            int q = url.indexOf('?');
            return q < 0 ? url : url.substring(0, q) + "?...";
        }
    }
}
