package io.shale.storage.testkit;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A throwaway PostgreSQL cluster for one test run, from the machine's PostgreSQL binaries
 * (Debian's {@code postgresql} package: {@code /usr/lib/postgresql/<version>/bin}): initdb into a
 * temp directory, started with pg_ctl on a free port of 127.0.0.1 (its unix socket in the same
 * directory), stopped ({@code pg_ctl stop -m immediate}) and deleted when the run ends, whether
 * the tests passed or not (JUnit closes the root store's resources; a shutdown hook covers a JVM
 * that exits otherwise). As root, initdb and the server run as the {@code postgres} OS user (initdb
 * refuses root).
 *
 * <p>Missing binaries skip the tests, or fail them with {@code -Dshale.test.postgres=required}
 * (set by .ci/run). {@code -Dshale.test.postgres.bin=<dir>} names the binaries' directory;
 * {@code -Dshale.test.postgres.options="-c name=value ..."} adds server settings (the defaults are
 * PostgreSQL's own: fsync and synchronous commit on).
 */
public final class PostgresServer implements ExtensionContext.Store.CloseableResource, AutoCloseable {
    private static final AtomicInteger SCHEMAS = new AtomicInteger();

    private final Path dir;
    private final Path bin;
    private final int port;
    private final boolean asPostgresUser;
    private final Thread hook;
    private boolean stopped;

    private PostgresServer(Path dir, Path bin, int port, boolean asPostgresUser) {
        this.dir = dir;
        this.bin = bin;
        this.port = port;
        this.asPostgresUser = asPostgresUser;
        this.hook = new Thread(this::stop, "postgres-test-server-stop");
    }

    /** JUnit extension: starts the run's server once (root store) and stops it at the end of the run. */
    public static final class Extension implements BeforeAllCallback {
        @Override
        public void beforeAll(ExtensionContext context) {
            get(context);
        }
    }

    /** The run's server, started on first use; skips the test (or fails it, see the class comment) without PostgreSQL. */
    public static PostgresServer get(ExtensionContext context) {
        Path bin = findBin();
        if (bin == null) {
            if ("required".equals(System.getProperty("shale.test.postgres"))) {
                throw new AssertionError("PostgreSQL's binaries (initdb, pg_ctl) are not installed but"
                        + " -Dshale.test.postgres=required (Debian package postgresql; or -Dshale.test.postgres.bin=<dir>)");
            }
            Assumptions.abort("PostgreSQL's binaries (initdb, pg_ctl) are not installed (Debian package postgresql)");
        }
        return context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                .getOrComputeIfAbsent(PostgresServer.class, k -> start(bin), PostgresServer.class);
    }

    private static Path findBin() {
        String given = System.getProperty("shale.test.postgres.bin");
        if (given != null) {
            Path p = Path.of(given);
            return Files.isExecutable(p.resolve("pg_ctl")) ? p : null;
        }
        Path base = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(base)) {
            try (Stream<Path> versions = Files.list(base)) {
                Path best = versions.filter(v -> Files.isExecutable(v.resolve("bin/pg_ctl"))
                        && Files.isExecutable(v.resolve("bin/initdb")))
                        .max(Comparator.comparing(v -> versionOf(v.getFileName().toString()))).orElse(null);
                if (best != null) {
                    return best.resolve("bin");
                }
            } catch (IOException e) {
                return null;
            }
        }
        return null;
    }

    private static int versionOf(String name) {
        try {
            return Integer.parseInt(name);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static PostgresServer start(Path bin) {
        boolean root = "root".equals(System.getProperty("user.name"));
        Path dir;
        try {
            dir = Files.createTempDirectory("shale-pg-");
        } catch (IOException e) {
            throw new AssertionError("creating the PostgreSQL test directory", e);
        }
        int port = freePort();
        PostgresServer server = new PostgresServer(dir, bin, port, root);
        Runtime.getRuntime().addShutdownHook(server.hook);
        try {
            if (root) {
                run(List.of("chown", "postgres:postgres", dir.toString()), 30);
            }
            server.runAsOwner(List.of(bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(),
                    "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"), 120);
            server.runAsOwner(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(),
                    "-l", dir.resolve("server.log").toString(), "-w", "-t", "60", "-o",
                    "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c max_connections=200 "
                            + System.getProperty("shale.test.postgres.options", ""), "start"),
                    90);
            return server;
        } catch (RuntimeException | Error e) {
            server.stop();
            throw e;
        }
    }

    /** A JDBC URL of the cluster's {@code postgres} database (user {@code postgres}, no password). */
    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    public int port() {
        return port;
    }

    /** A schema name no other test of this run used (a fresh, empty catalog), for user {@code postgres}. */
    public String freshSchema() {
        return "t" + SCHEMAS.incrementAndGet() + "_" + Long.toHexString(System.nanoTime() & 0xffffffL);
    }

    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: the hook runs (or ran) stop(), which is idempotent
        }
    }

    private synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        try {
            if (Files.exists(dir.resolve("data/postmaster.pid"))) {
                runAsOwner(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "stop",
                        "-m", "immediate", "-w", "-t", "30"), 60);
            }
        } catch (RuntimeException | Error e) {
            System.err.println("stopping the test PostgreSQL failed: " + e);
        } finally {
            deleteRecursively(dir);
        }
    }

    private void runAsOwner(List<String> command, int timeoutSeconds) {
        List<String> full = new ArrayList<>();
        if (asPostgresUser) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.addAll(command);
        run(full, timeoutSeconds);
    }

    private static void run(List<String> command, int timeoutSeconds) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[][] out = new byte[1][];
            Thread reader = new Thread(() -> {
                try {
                    out[0] = p.getInputStream().readAllBytes();
                } catch (IOException e) {
                    out[0] = new byte[0];
                }
            });
            reader.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " did not finish within " + timeoutSeconds + " s");
            }
            reader.join(5_000);
            if (p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", command) + " exited with " + p.exitValue() + ":\n"
                        + (out[0] == null ? "" : new String(out[0], StandardCharsets.UTF_8)));
            }
        } catch (IOException e) {
            throw new AssertionError("running " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + command.get(0), e);
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new AssertionError("finding a free port", e);
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // best effort: a file the server still held
                }
            });
        } catch (IOException e) {
            System.err.println("deleting " + dir + " failed: " + e);
        }
    }
}
