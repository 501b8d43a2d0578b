package io.shale.storage.s3;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;

/**
 * A real S3 server for tests: Ceph's RADOS Gateway (Debian packages {@code radosgw},
 * {@code ceph-mon}, {@code ceph-osd}) over a throw-away one-node Ceph cluster (one monitor, one
 * in-memory "memstore" OSD) in a temporary directory, on random loopback ports. Started from
 * the test JVM, stopped by {@link #close()} (or at JVM exit), leaving nothing behind.
 *
 * <p>Unlike S3Proxy's file-tree backends, RGW keeps keys in a sorted bucket index: "a/b" and
 * "a/b/c" coexist, and listings are in UTF-8 byte order as on S3. Starting takes about ten
 * seconds. {@link #available()} tells whether the binaries are installed.
 */
public final class CephRgwServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CephRgwServer.class);
    private static final List<String> BINARIES = List.of("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph",
            "ceph-authtool", "monmaptool");
    private static final long STEP_SECONDS = 120;

    private final Path dir;
    private final Path conf;
    private final List<Process> daemons = new ArrayList<>();
    private final Thread shutdownHook = new Thread(this::stopAndDelete, "ceph-rgw-stop");
    private final String accessKey = "shale-rgw-" + UUID.randomUUID().toString().substring(0, 8);
    private final String secretKey = UUID.randomUUID().toString();
    private URI endpoint;
    private boolean closed;

    private CephRgwServer() throws IOException {
        this.dir = Files.createTempDirectory("shale-ceph-rgw");
        this.conf = dir.resolve("ceph.conf");
    }

    /** Whether every binary needed is on the PATH. */
    public static boolean available() {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        return BINARIES.stream().allMatch(b -> Stream.of(path.split(File.pathSeparator))
                .anyMatch(d -> Files.isExecutable(Path.of(d, b))));
    }

    /** What to install when {@link #available()} is false. */
    public static String installHint() {
        return "Ceph RGW is not installed (Debian: apt-get install --no-install-recommends radosgw ceph-mon ceph-osd)";
    }

    /** Starts a cluster and its gateway; fails with the daemons' log tails if it does not come up. */
    public static CephRgwServer start() {
        CephRgwServer s;
        try {
            s = new CephRgwServer();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            s.boot();
            return s;
        } catch (RuntimeException | Error e) {
            String logs = s.logTails();
            s.close();
            throw new IllegalStateException("Ceph RGW did not start: " + e.getMessage() + logs, e);
        } catch (Exception e) {
            String logs = s.logTails();
            s.close();
            throw new IllegalStateException("Ceph RGW did not start: " + e + logs, e);
        }
    }

    private void boot() throws Exception {
        long started = System.nanoTime();
        int monPort = freePort();
        int rgwPort = freePort();
        String fsid = UUID.randomUUID().toString();
        String d = dir.toString();
        Files.createDirectories(dir.resolve("mon.a"));
        Files.createDirectories(dir.resolve("osd.0"));
        Files.createDirectories(dir.resolve("run"));
        Files.createDirectories(dir.resolve("log"));
        Files.writeString(conf, String.join("\n",
                "[global]",
                "fsid = " + fsid,
                "mon host = v2:127.0.0.1:" + monPort,
                "keyring = " + d + "/$name.keyring",
                "ms bind ipv4 = true",
                "ms bind ipv6 = false",
                "public network = 127.0.0.0/8",
                "osd pool default size = 1",
                "osd pool default min size = 1",
                "osd pool default pg num = 8",
                "osd pool default pgp num = 8",
                "osd pool default pg autoscale mode = off",
                "mon allow pool size one = true",
                "mon warn on pool no redundancy = false",
                "mon data avail warn = 1",
                "mon data avail crit = 0",
                "osd crush chooseleaf type = 0",
                "run dir = " + d + "/run",
                "admin socket = " + d + "/run/$name.asok",
                "log file = " + d + "/log/$name.log",
                "[mon]",
                "mon data = " + d + "/mon.$id",
                "[osd]",
                "osd data = " + d + "/osd.$id",
                "osd objectstore = memstore",
                "memstore device bytes = 4294967296",
                "[client.rgw]",
                "rgw frontends = beast endpoint=127.0.0.1:" + rgwPort,
                ""));
        String c = conf.toString();
        run("ceph-authtool", "--create-keyring", d + "/mon.keyring", "--gen-key", "-n", "mon.", "--cap", "mon", "allow *");
        run("ceph-authtool", "--create-keyring", d + "/client.admin.keyring", "--gen-key", "-n", "client.admin",
                "--cap", "mon", "allow *", "--cap", "osd", "allow *", "--cap", "mgr", "allow *");
        run("ceph-authtool", d + "/mon.keyring", "--import-keyring", d + "/client.admin.keyring");
        run("monmaptool", "--create", "--addv", "a", "[v2:127.0.0.1:" + monPort + "]", "--fsid", fsid, d + "/monmap");
        run("ceph-mon", "-c", c, "--mkfs", "-i", "a", "--monmap", d + "/monmap", "--keyring", d + "/mon.keyring");
        spawn("mon.a", "ceph-mon", "-c", c, "-i", "a", "-f");
        run("ceph", "-c", c, "--connect-timeout", "60", "osd", "create");
        run("ceph", "-c", c, "auth", "get-or-create", "osd.0", "mon", "allow profile osd", "osd", "allow *",
                "mgr", "allow profile osd", "-o", d + "/osd.0.keyring");
        run("ceph-osd", "-c", c, "-i", "0", "--mkfs");
        spawn("osd.0", "ceph-osd", "-c", c, "-i", "0", "-f");
        run("ceph", "-c", c, "auth", "get-or-create", "client.rgw", "mon", "allow rw", "osd", "allow rwx",
                "-o", d + "/client.rgw.keyring");
        spawn("client.rgw", "radosgw", "-c", c, "-n", "client.rgw", "-f");
        run("radosgw-admin", "-c", c, "user", "create", "--uid", "shale", "--display-name", "shale",
                "--access-key", accessKey, "--secret", secretKey);
        endpoint = URI.create("http://127.0.0.1:" + rgwPort);
        awaitHttp(endpoint, System.nanoTime() + TimeUnit.SECONDS.toNanos(STEP_SECONDS));
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        LOG.info("Ceph RGW up at {} in {} ms (cluster in {})", endpoint,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), dir);
    }

    public URI endpoint() {
        return endpoint;
    }

    /** Creates a bucket unless this user already owns it. */
    public void createBucket(String bucket) {
        try (S3AsyncClient client = S3AsyncClient.builder().endpointOverride(endpoint).forcePathStyle(true)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
                .build()) {
            client.createBucket(b -> b.bucket(bucket)).join();
        } catch (CompletionException e) {
            if (!(e.getCause() instanceof BucketAlreadyOwnedByYouException)) {
                throw e;
            }
        }
    }

    /** Store options pointing at this gateway (path style, plain HTTP, this user's keys, us-east-1). */
    public S3StoreOptions.Builder options(String bucket, String keyPrefix) {
        return S3ProxyServer.optionsFor(endpoint, bucket, keyPrefix).staticCredentials(accessKey, secretKey);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException | IllegalArgumentException e) {
            // shutting down already, or never registered
        }
        stopAndDelete();
    }

    private void stopAndDelete() {
        stopDaemons();
        deleteTree(dir);
    }

    private void stopDaemons() {
        List<Process> reversed = new ArrayList<>(daemons);
        java.util.Collections.reverse(reversed);
        for (Process p : reversed) {
            p.destroy();
        }
        for (Process p : reversed) {
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Runs one setup command to completion; fails with its output unless it exits 0. */
    private void run(String... command) throws IOException, InterruptedException {
        Path out = dir.resolve("log/setup.out");
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile())).start();
        if (!p.waitFor(STEP_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(command[0] + " did not finish within " + STEP_SECONDS + " s");
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited " + p.exitValue());
        }
    }

    /** Starts a daemon in the foreground as a child of this JVM. */
    private void spawn(String name, String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("log/" + name + ".out").toFile()).start();
        daemons.add(p);
    }

    private void awaitHttp(URI uri, long deadline) throws InterruptedException {
        while (true) {
            for (Process p : daemons) {
                if (!p.isAlive()) {
                    throw new IllegalStateException(p.info().command().orElse("a daemon") + " exited " + p.exitValue());
                }
            }
            try {
                HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
                c.setConnectTimeout(1_000);
                c.setReadTimeout(5_000);
                int status = c.getResponseCode();
                c.disconnect();
                if (status == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the gateway did not answer at " + uri + " within " + STEP_SECONDS + " s");
            }
            Thread.sleep(200);
        }
    }

    private String logTails() {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> logs = Files.list(dir.resolve("log"))) {
            for (Path log : (Iterable<Path>) logs.sorted()::iterator) {
                List<String> lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
                sb.append("\n--- ").append(log.getFileName()).append(" (last lines)\n");
                lines.subList(Math.max(0, lines.size() - 15), lines.size()).forEach(l -> sb.append(l).append('\n'));
            }
        } catch (IOException | UncheckedIOException e) {
            sb.append("\n(no logs: ").append(e).append(')');
        }
        return sb.toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.warn("Could not delete {}: {}", root, e.toString());
        }
    }
}
