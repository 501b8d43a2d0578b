package io.shale.storage.s3;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Objects;
import java.util.Properties;
import java.util.stream.Stream;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.Constants;

/**
 * A real S3-compatible server (S3Proxy) in this JVM on a random localhost port, for tests and
 * benchmarks of any module (storage-s3 publishes it in its test-jar).
 *
 * <p>Backends: {@code "transient"} (in memory, the default) or {@code "filesystem"} (files under
 * a temporary directory deleted on close). Requests must be signed (AWS signature v2 or v4) with
 * {@link #accessKey()}/{@link #secretKey()}. {@link #close()} stops the server, drops every
 * bucket and is idempotent.
 *
 * <pre>{@code
 * try (S3ProxyServer s3 = S3ProxyServer.start()) {
 *     s3.createBucket("b");
 *     try (S3ObjectStore store = S3ObjectStore.create(s3.options("b", "prefix").build())) { ... }
 * }
 * }</pre>
 */
public final class S3ProxyServer implements AutoCloseable {
    public static final String DEFAULT_ACCESS_KEY = "shale-test-access";
    public static final String DEFAULT_SECRET_KEY = "shale-test-secret-do-not-use";

    private final S3Proxy proxy;
    private final BlobStore blobStore;
    private final Path baseDir;
    private final String accessKey;
    private final String secretKey;
    private final URI endpoint;
    private boolean closed;

    private S3ProxyServer(String backend, String accessKey, String secretKey) throws Exception {
        this.accessKey = accessKey;
        this.secretKey = secretKey;
        Properties props = new Properties();
        props.setProperty(Constants.PROPERTY_IDENTITY, accessKey);
        props.setProperty(Constants.PROPERTY_CREDENTIAL, secretKey);
        if (backend.equals("filesystem")) {
            baseDir = Files.createTempDirectory("shale-s3proxy");
            props.setProperty("jclouds.filesystem.basedir", baseDir.toString());
        } else {
            baseDir = null;
        }
        this.blobStore = BlobStores.create(backend, props);
        this.proxy = S3Proxy.builder()
                .blobStore(blobStore)
                .endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                .stopTimeout(0)
                .build();
        proxy.start();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
            }
            Thread.sleep(5);
        }
        this.endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
    }

    /** Starts an in-memory server with the default test credentials. */
    public static S3ProxyServer start() {
        return start("transient", DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY);
    }

    /** Starts a server with the given backend ({@code "transient"} or {@code "filesystem"}) and credentials. */
    public static S3ProxyServer start(String backend, String accessKey, String secretKey) {
        Objects.requireNonNull(backend, "backend");
        if (!backend.equals("transient") && !backend.equals("filesystem")) {
            throw new IllegalArgumentException("backend must be 'transient' or 'filesystem': " + backend);
        }
        try {
            return new S3ProxyServer(backend, accessKey, secretKey);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("could not start S3Proxy", e);
        }
    }

    /** {@code http://127.0.0.1:port}. */
    public URI endpoint() {
        return endpoint;
    }

    public int port() {
        return endpoint.getPort();
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    /** Creates a bucket unless it exists. */
    public void createBucket(String bucket) {
        if (!blobStore.containerExists(bucket)) {
            blobStore.createContainer(bucket);
        }
    }

    /** The server's backend, to inspect or tamper with stored objects behind the S3 API. */
    public BlobStore blobStore() {
        return blobStore;
    }

    /** Store options pointing at this server (path style, plain HTTP, static credentials, us-east-1). */
    public S3StoreOptions.Builder options(String bucket, String keyPrefix) {
        return optionsFor(endpoint, bucket, keyPrefix).staticCredentials(accessKey, secretKey);
    }

    /** Store options for an S3Proxy-like endpoint (e.g. a fault proxy in front of this server), without credentials. */
    public static S3StoreOptions.Builder optionsFor(URI endpoint, String bucket, String keyPrefix) {
        return S3StoreOptions.builder()
                .bucket(bucket)
                .keyPrefix(keyPrefix)
                .region("us-east-1")
                .endpoint(endpoint)
                .pathStyleAccess(true)
                .allowInsecureHttp(true);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            proxy.stop();
        } catch (Exception e) {
            throw new IllegalStateException("could not stop S3Proxy", e);
        } finally {
            try {
                for (var b : blobStore.list().buckets()) {
                    blobStore.deleteContainer(b.name());
                }
                blobStore.close();
            } finally {
                if (baseDir != null) {
                    deleteTree(baseDir);
                }
            }
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
