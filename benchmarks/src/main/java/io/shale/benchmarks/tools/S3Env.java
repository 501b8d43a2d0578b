package io.shale.benchmarks.tools;

import io.shale.storage.s3.S3ObjectStore;
import io.shale.storage.s3.S3ProxyServer;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.SdkEventLoopGroup;

/**
 * The in-process S3 server (S3Proxy, from storage-s3's test-jar) with one bucket, and S3 stores
 * pointing at it. The stores share one set of Netty event loops owned here, so closing a store does
 * not wait for the SDK's 2 s event-loop quiet period.
 *
 * <p>Not thread-safe to create stores from many threads at once (the tools do it from main);
 * the stores themselves are thread-safe. {@link #close()} stops the server and deletes its data.
 */
final class S3Env implements AutoCloseable {
    static final String BUCKET = "shale-measure";

    private final S3ProxyServer server;
    private final String backend;
    private final SdkEventLoopGroup loops;

    private S3Env(S3ProxyServer server, String backend, SdkEventLoopGroup loops) {
        this.server = server;
        this.backend = backend;
        this.loops = loops;
    }

    /**
     * Starts S3Proxy on a random localhost port with the given backend: {@code "filesystem"} (files
     * in a temporary directory; memory stays bounded whatever the data size) or {@code "transient"}
     * (in memory).
     */
    static S3Env start(String backend) {
        S3ProxyServer server = S3ProxyServer.start(backend, S3ProxyServer.DEFAULT_ACCESS_KEY,
                S3ProxyServer.DEFAULT_SECRET_KEY);
        try {
            server.createBucket(BUCKET);
            SdkEventLoopGroup loops = SdkEventLoopGroup.builder()
                    .numberOfThreads(Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors())))
                    .build();
            return new S3Env(server, backend, loops);
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    String backendName() {
        return backend;
    }

    /** A new S3 store over {@code prefix} in the bucket, its HTTP requests counted by {@code counter}. */
    S3ObjectStore store(String prefix, S3RequestCounter counter) {
        var options = server.options(BUCKET, prefix).build();
        var http = NettyNioAsyncHttpClient.builder()
                .eventLoopGroup(loops)
                .maxConcurrency(options.maxConcurrency())
                .connectionTimeout(options.connectionTimeout())
                .connectionAcquisitionTimeout(options.apiCallTimeout());
        return S3ObjectStore.create(options, counter.wrap(http));
    }

    @Override
    public void close() {
        try {
            server.close();
        } finally {
            loops.eventLoopGroup().shutdownGracefully(0, 5, TimeUnit.SECONDS);
        }
    }
}
