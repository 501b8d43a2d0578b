package io.shale.cli;

import io.shale.log.LogStore;
import io.shale.log.StoreConfig;
import io.shale.log.internal.objectstore.RetryingObjectStore;
import io.shale.log.spi.ObjectStore;
import io.shale.log.wal.ObjectWriteAheadLog;
import io.shale.storage.local.LocalStorage;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import io.shale.storage.s3.S3ObjectStore;
import io.shale.storage.s3.S3StoreOptions;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Where the store is: a local directory ({@code --dir}) or a bucket and prefix on S3
 * ({@code --bucket}, ...). Credentials for S3 come from the AWS default credential chain only.
 */
final class StoreOptions {
    /** The layout marker every local object store directory holds (see storage-local's StoreLayout). */
    static final String LOCAL_LAYOUT_MARKER = "%shale-objectstore";

    @Option(names = "--dir", paramLabel = "DIR",
            description = "A local store: the directory given to LocalStorage.builder (holding wal/ and objects/).")
    Path dir;

    @Option(names = "--bucket", paramLabel = "BUCKET", description = "A store on S3 or an S3-compatible store: the bucket.")
    String bucket;

    @Option(names = "--prefix", paramLabel = "PREFIX", defaultValue = "",
            description = "Key prefix of the store in the bucket (one store per prefix), e.g. shale/orders/.")
    String prefix;

    @Option(names = "--endpoint", paramLabel = "URL",
            description = "Endpoint of an S3-compatible store (MinIO, Ceph RGW, R2: https://<account>.r2.cloudflarestorage.com).")
    String endpoint;

    @Option(names = "--region", paramLabel = "REGION",
            description = "Region, e.g. eu-west-1 (R2: auto). Default: the AWS default region chain.")
    String region;

    @Option(names = "--path-style", description = "Path-style addressing (MinIO, Ceph RGW, most S3-compatible stores).")
    boolean pathStyle;

    @Option(names = "--allow-http", description = "Allow a plain http:// endpoint (a local test server only).")
    boolean allowHttp;

    /** How long retriable object-store errors are retried before a command gives up. */
    static final Duration RETRY_DEADLINE = Duration.ofSeconds(30);

    /** What the store is, for output: a directory or s3://bucket/prefix. Never includes credentials. */
    String describe() {
        check();
        if (dir != null) {
            return dir.toAbsolutePath().normalize().toString();
        }
        return "s3://" + bucket + "/" + prefix;
    }

    /** Whether a store was named at all (cost works without one). */
    boolean given() {
        return dir != null || bucket != null;
    }

    boolean isLocal() {
        check();
        return dir != null;
    }

    private void check() {
        if ((dir == null) == (bucket == null)) {
            throw new CliException(dir == null
                    ? "say where the store is: --dir DIR for a local store, or --bucket BUCKET [--prefix PREFIX] for S3"
                    : "give either --dir or --bucket, not both");
        }
        if (dir != null && (endpoint != null || region != null || pathStyle || allowHttp || !prefix.isEmpty())) {
            throw new CliException("--prefix, --endpoint, --region, --path-style and --allow-http apply to S3 stores"
                    + " (--bucket), not to a local --dir");
        }
    }

    /**
     * The store's objects, opened for reading: nothing is created, swept or written. For a local
     * directory this checks first that it holds a store, so a mistyped path fails with a clear error
     * instead of opening an empty store. Object-store calls are retried for up to 30 s.
     */
    ObjectStore openObjectStore() {
        return RetryingObjectStore.builder(openRawObjectStore()).deadline(RETRY_DEADLINE).build();
    }

    private ObjectStore openRawObjectStore() {
        check();
        if (dir != null) {
            Path objects = requireLocalStore();
            // Read-only: no sweep of temp files (a live writer may own them), no probe file, nothing created.
            return LocalDirectoryObjectStore.open(objects, LocalDirectoryObjectStore.Options.defaults().withReadOnly(true));
        }
        return S3ObjectStore.create(s3Options());
    }

    /** Checks that {@link #dir} holds a local store; returns its objects directory. */
    Path requireLocalStore() {
        Path d = dir.toAbsolutePath().normalize();
        if (!Files.exists(d)) {
            throw new CliException("no such directory: " + dir);
        }
        if (!Files.isDirectory(d)) {
            throw new CliException("not a directory: " + dir);
        }
        Path objects = d.resolve(LocalStorage.OBJECTS_DIR);
        if (!Files.exists(objects.resolve(LOCAL_LAYOUT_MARKER))) {
            if (Files.exists(d.resolve(LOCAL_LAYOUT_MARKER))) {
                throw new CliException(dir + " is the objects directory of a store; give the store's directory, its"
                        + " parent: --dir " + (d.getParent() == null ? d : d.getParent()));
            }
            throw new CliException("no Shale store in " + dir + ": it has no " + LocalStorage.OBJECTS_DIR + "/"
                    + LOCAL_LAYOUT_MARKER + " (give the directory passed to LocalStorage.builder, e.g. ./shale-data)");
        }
        return objects;
    }

    S3StoreOptions s3Options() {
        S3StoreOptions.Builder b = S3StoreOptions.builder().bucket(bucket).keyPrefix(prefix).pathStyleAccess(pathStyle)
                .allowInsecureHttp(allowHttp);
        if (region != null) {
            b.region(region);
        }
        if (endpoint != null) {
            try {
                b.endpoint(new URI(endpoint));
            } catch (URISyntaxException e) {
                throw new CliException("--endpoint is not a URL: " + endpoint);
            }
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage() + (e.getMessage().contains("allowInsecureHttp") ? " (--allow-http)" : ""));
        }
    }

    /**
     * A read-only {@link LogStore} over the store: reads only, never claims the writer role; sees
     * data as the writer commits it.
     */
    LogStore openReadOnly(Map<String, ?> settings) {
        return LogStore.builder().objectStore(openRawObjectStore()).readOnly(true).config(settings).open();
    }

    /**
     * The store opened for writing. A local directory uses its file WAL (a store that another process
     * has open fails with IN_USE and is not disturbed); an S3 store uses the object-storage WAL, so
     * opening it takes over the writer role from a running writer (fencing it).
     */
    LogStore openWritable(Map<String, ?> settings) {
        check();
        if (dir != null) {
            Path d = dir.toAbsolutePath().normalize();
            if (!Files.isDirectory(d)) {
                throw new CliException("no such directory: " + dir + " (a store is created only in an existing directory)");
            }
            return LocalStorage.builder(d).config(settings).open();
        }
        return LogStore.builder()
                .objectStore(S3ObjectStore.create(s3Options()))
                .wal(ObjectWriteAheadLog.builder().build())
                .config(StoreConfig.defaults().with(settings))
                .open();
    }
}
