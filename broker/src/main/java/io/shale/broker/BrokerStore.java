package io.shale.broker;

import io.shale.log.LogStore;
import io.shale.log.LogStoreBuilder;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.WriteAheadLog;
import io.shale.log.wal.ObjectWriteAheadLog;
import io.shale.storage.local.LocalStorage;
import io.shale.storage.local.wal.FileWriteAheadLog;
import io.shale.storage.s3.S3ObjectStore;
import io.shale.storage.s3.S3StoreOptions;
import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.Uuid;

/**
 * Where the broker's store is, from the command line ({@code --data DIR}: the embedded default) or
 * from a properties file ({@code --config FILE}):
 *
 * <pre>
 * store=s3                      # or local (the default unless s3.bucket is set)
 * s3.bucket=my-bucket
 * s3.prefix=shale/broker-1/     # one store per prefix
 * s3.endpoint=http://127.0.0.1:9000   # S3-compatible stores (MinIO, Ceph RGW, R2); default: AWS
 * s3.region=eu-west-1           # default: the AWS default region chain
 * s3.path-style=true            # path-style addressing (most S3-compatible stores)
 * s3.allow-http=false           # a plain http:// endpoint (a local test server only)
 * wal=object                    # object: the WAL in the bucket too; file: a local file WAL in wal.dir
 * wal.dir=/var/lib/shale/wal
 * data.dir=./shale-data         # store=local: the store's directory (or --data)
 * config.upload.interval.ms=250 # any store setting, by its name after "config."
 * security.protocol=SASL_SSL    # the listener: PLAINTEXT (default), SSL, SASL_PLAINTEXT, SASL_SSL
 * ssl.keystore.location=...     # and the other ssl.* and sasl.* settings of ShaleBroker.Builder#security
 * </pre>
 *
 * S3 credentials are never read from this file (nor from the command line): an S3 store takes them
 * from the AWS default credential chain (environment, system properties, profile files, container
 * or instance roles), and a file naming a key that looks like one is refused. Nothing here logs
 * them. The cluster id of a local store is kept in {@code DIR/cluster.id}; that of an S3 store is
 * derived from its bucket and prefix, so that every start (on any machine) reports the same one.
 */
final class BrokerStore {
    static final String STORE = "store";
    static final String BUCKET = "s3.bucket";
    static final String PREFIX = "s3.prefix";
    static final String ENDPOINT = "s3.endpoint";
    static final String REGION = "s3.region";
    static final String PATH_STYLE = "s3.path-style";
    static final String ALLOW_HTTP = "s3.allow-http";
    static final String WAL = "wal";
    static final String WAL_DIR = "wal.dir";
    static final String DATA_DIR = "data.dir";
    static final String CONFIG_PREFIX = "config.";

    private static final Set<String> KEYS = Set.of(STORE, BUCKET, PREFIX, ENDPOINT, REGION, PATH_STYLE, ALLOW_HTTP, WAL,
            WAL_DIR, DATA_DIR);

    enum Wal { FILE, OBJECT }

    final boolean s3;
    final Path dataDir;
    final String bucket;
    final String prefix;
    final URI endpoint;
    final String region;
    final boolean pathStyle;
    final boolean allowHttp;
    final Wal wal;
    final Path walDir;
    final Map<String, String> settings;
    /** The listener's security settings (Kafka's names: security.protocol, ssl.*, sasl.*), see ShaleBroker.Builder#security. */
    Map<String, String> security = Map.of();

    private BrokerStore(boolean s3, Path dataDir, String bucket, String prefix, URI endpoint, String region,
            boolean pathStyle, boolean allowHttp, Wal wal, Path walDir, Map<String, String> settings) {
        this.s3 = s3;
        this.dataDir = dataDir;
        this.bucket = bucket;
        this.prefix = prefix;
        this.endpoint = endpoint;
        this.region = region;
        this.pathStyle = pathStyle;
        this.allowHttp = allowHttp;
        this.wal = wal;
        this.walDir = walDir;
        this.settings = settings;
    }

    /** The embedded default: file WAL and local directory in {@code dir}. */
    static BrokerStore local(Path dir) {
        return new BrokerStore(false, dir, null, null, null, null, false, false, Wal.FILE, null, Map.of());
    }

    /**
     * Reads a properties file; {@code dataOverride} ({@code --data}, may be null) sets a local store's
     * directory.
     *
     * @throws IllegalArgumentException naming the file and the key that is wrong
     */
    static BrokerStore fromFile(Path file, Path dataOverride) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the config file " + file + ": " + e.getMessage());
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (String k : new TreeSet<>(p.stringPropertyNames())) {
            m.put(k, p.getProperty(k).strip());
        }
        return fromProperties(m, dataOverride, file.toString());
    }

    static BrokerStore fromProperties(Map<String, String> props, Path dataOverride, String source) {
        BrokerStore s = storeFromProperties(props, dataOverride, source);
        Map<String, String> security = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : props.entrySet()) {
            if (ListenerSecurity.KEYS.contains(e.getKey())) {
                security.put(e.getKey(), e.getValue());
            }
        }
        s.security = Map.copyOf(security);
        return s;
    }

    private static BrokerStore storeFromProperties(Map<String, String> allProps, Path dataOverride, String source) {
        Map<String, String> settings = new LinkedHashMap<>();
        Map<String, String> props = new LinkedHashMap<>(allProps);
        props.keySet().removeAll(ListenerSecurity.KEYS); // the listener's, not the store's (Kafka's names)
        for (Map.Entry<String, String> e : props.entrySet()) {
            String k = e.getKey();
            String lower = k.toLowerCase(Locale.ROOT);
            if (lower.startsWith("ssl.") || lower.startsWith("sasl.") || lower.startsWith("security.")) {
                // a misspelt listener setting (the known ones were taken out above)
                throw new IllegalArgumentException(source + ": unknown listener security setting '" + k + "' (known: "
                        + new TreeSet<>(ListenerSecurity.KEYS) + ")");
            }
            if (lower.contains("secret") || lower.contains("access-key") || lower.contains("accesskey")
                    || lower.contains("access.key") || lower.contains("password") || lower.contains("session-token")
                    || lower.contains("sessiontoken") || lower.contains("credential")) {
                throw new IllegalArgumentException(source + ": '" + k + "' looks like a credential; credentials come"
                        + " from the AWS default credential chain only (environment variables AWS_ACCESS_KEY_ID and"
                        + " AWS_SECRET_ACCESS_KEY, ~/.aws/credentials, or an instance or container role), never from this file");
            }
            if (k.startsWith(CONFIG_PREFIX)) {
                settings.put(k.substring(CONFIG_PREFIX.length()), e.getValue());
            } else if (!KEYS.contains(k)) {
                throw new IllegalArgumentException(source + ": unknown key '" + k + "' (known: " + new TreeSet<>(KEYS)
                        + ", the listener's " + new TreeSet<>(ListenerSecurity.KEYS) + ", and store settings as config.<name>)");
            }
        }
        try {
            io.shale.log.StoreConfig.defaults().with(settings); // names a wrong setting now, with the file
        } catch (io.shale.log.ShaleException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage() + " (as config.<name>)");
        }
        String bucket = blankToNull(props.get(BUCKET));
        String store = props.getOrDefault(STORE, bucket != null ? "s3" : "local").toLowerCase(Locale.ROOT);
        if (!store.equals("s3") && !store.equals("local")) {
            throw new IllegalArgumentException(source + ": " + STORE + " must be s3 or local, not '" + props.get(STORE) + "'");
        }
        if (store.equals("local")) {
            for (String k : new String[] {BUCKET, PREFIX, ENDPOINT, REGION, PATH_STYLE, ALLOW_HTTP, WAL, WAL_DIR}) {
                if (props.containsKey(k)) {
                    throw new IllegalArgumentException(source + ": " + k + " applies to store=s3, not to a local store"
                            + " (a local store keeps its file WAL and objects in " + DATA_DIR + ")");
                }
            }
            Path dir = dataOverride != null ? dataOverride : pathOrNull(props.get(DATA_DIR));
            if (dir == null) {
                throw new IllegalArgumentException(source + ": a local store needs " + DATA_DIR + " (or --data DIR)");
            }
            return new BrokerStore(false, dir, null, null, null, null, false, false, Wal.FILE, null, Map.copyOf(settings));
        }
        if (dataOverride != null || props.containsKey(DATA_DIR)) {
            throw new IllegalArgumentException(source + ": --data and " + DATA_DIR + " are for a local store; an S3"
                    + " store's file WAL directory is " + WAL_DIR);
        }
        if (bucket == null) {
            throw new IllegalArgumentException(source + ": store=s3 needs " + BUCKET);
        }
        URI endpoint = null;
        String ep = blankToNull(props.get(ENDPOINT));
        if (ep != null) {
            try {
                endpoint = new URI(ep);
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException(source + ": " + ENDPOINT + " is not a URL: " + ep);
            }
        }
        String walName = props.getOrDefault(WAL, "object").toLowerCase(Locale.ROOT);
        Wal wal;
        if (walName.equals("object")) {
            wal = Wal.OBJECT;
        } else if (walName.equals("file")) {
            wal = Wal.FILE;
        } else {
            throw new IllegalArgumentException(source + ": " + WAL + " must be object or file, not '" + props.get(WAL) + "'");
        }
        Path walDir = pathOrNull(props.get(WAL_DIR));
        if (wal == Wal.FILE && walDir == null) {
            throw new IllegalArgumentException(source + ": wal=file needs " + WAL_DIR + " (a local directory for the file WAL)");
        }
        if (wal == Wal.OBJECT && walDir != null) {
            throw new IllegalArgumentException(source + ": " + WAL_DIR + " applies to wal=file; the object WAL is in the bucket");
        }
        BrokerStore s = new BrokerStore(true, null, bucket, props.getOrDefault(PREFIX, ""), endpoint,
                blankToNull(props.get(REGION)), bool(source, props, PATH_STYLE), bool(source, props, ALLOW_HTTP), wal, walDir,
                Map.copyOf(settings));
        try {
            s.s3Options(); // checks bucket, prefix, endpoint now, with the file named
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage());
        }
        return s;
    }

    S3StoreOptions s3Options() {
        S3StoreOptions.Builder b = S3StoreOptions.builder().bucket(bucket).keyPrefix(prefix).pathStyleAccess(pathStyle)
                .allowInsecureHttp(allowHttp);
        if (region != null) {
            b.region(region);
        }
        if (endpoint != null) {
            b.endpoint(endpoint);
        }
        try {
            return b.build();
        } catch (IllegalArgumentException | io.shale.log.ShaleException e) {
            throw new IllegalArgumentException("S3 store settings: " + e.getMessage()
                    + (String.valueOf(e.getMessage()).contains("allowInsecureHttp") ? " (" + ALLOW_HTTP + "=true)" : ""));
        }
    }

    /**
     * Opens the store for writing (claiming the writer role). A local store is
     * {@code LocalStorage.builder(dir)}; an S3 store is {@link S3ObjectStore} with the object WAL
     * ({@link ObjectWriteAheadLog}, so opening it fences a previous writer of the same prefix) or a
     * file WAL in {@code wal.dir}. Errors as {@link LogStoreBuilder#open()}.
     */
    LogStore open() throws IOException {
        if (!s3) {
            Files.createDirectories(dataDir);
            return LocalStorage.builder(dataDir).config(settings).open();
        }
        WriteAheadLog w;
        if (wal == Wal.FILE) {
            Files.createDirectories(walDir);
            w = FileWriteAheadLog.builder(walDir).build();
        } else {
            w = ObjectWriteAheadLog.builder().build();
        }
        ObjectStore objects;
        try {
            objects = S3ObjectStore.create(s3Options());
        } catch (RuntimeException e) {
            closeQuietly(w);
            throw e;
        }
        return LogStore.builder().objectStore(objects).wal(w).config(settings).open();
    }

    /**
     * Opens the store as a node of a cluster (preview): {@code node} as its catalog. A local store
     * keeps its objects in {@code DIR/objects}, shared by the brokers of one machine given the same
     * {@code --data DIR}, and each broker's file WAL in {@code DIR/wal-node-ID}; an S3 store's object
     * WAL gets the key prefix {@code wal/node-ID/} of its own (a file WAL: {@code wal.dir}, one per broker).
     */
    LogStore openClusterNode(io.shale.catalog.postgres.PostgresClusterNode node) throws IOException {
        String id = node.nodeId();
        WriteAheadLog w;
        ObjectStore objects;
        if (!s3) {
            Files.createDirectories(dataDir);
            w = FileWriteAheadLog.builder(dataDir.resolve("wal-node-" + id)).build();
            try {
                objects = io.shale.storage.local.objectstore.LocalDirectoryObjectStore.open(
                        dataDir.resolve(io.shale.storage.local.LocalStorage.OBJECTS_DIR));
            } catch (RuntimeException e) {
                closeQuietly(w);
                throw e;
            }
        } else {
            if (wal == Wal.FILE) {
                Files.createDirectories(walDir);
                w = FileWriteAheadLog.builder(walDir).build();
            } else {
                w = ObjectWriteAheadLog.builder().keyPrefix("wal/node-" + id + "/").build();
            }
            try {
                objects = S3ObjectStore.create(s3Options());
            } catch (RuntimeException e) {
                closeQuietly(w);
                throw e;
            }
        }
        return LogStore.builder().objectStore(objects).wal(w).catalog(node).config(settings).open();
    }

    /** The store, for messages and logs: a directory, or s3://bucket/prefix with endpoint and WAL. Never credentials. */
    String describe() {
        if (!s3) {
            return dataDir.toAbsolutePath().toString();
        }
        return "s3://" + bucket + "/" + prefix + (endpoint != null ? " at " + endpoint : "")
                + (region != null ? " (" + region + ")" : "")
                + (wal == Wal.OBJECT ? ", object WAL" : ", file WAL in " + walDir.toAbsolutePath());
    }

    /**
     * The cluster id: kept in {@code DIR/cluster.id} for a local store (created on the first start);
     * derived from bucket and prefix for an S3 store (the same on every start, on every machine).
     */
    String clusterId() throws IOException {
        if (!s3) {
            return BrokerMain.clusterId(dataDir);
        }
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(("shale:s3:" + bucket + "/" + prefix)
                    .getBytes(StandardCharsets.UTF_8));
            long msb = 0;
            long lsb = 0;
            for (int i = 0; i < 8; i++) {
                msb = (msb << 8) | (h[i] & 0xff);
                lsb = (lsb << 8) | (h[8 + i] & 0xff);
            }
            return new Uuid(msb, lsb).toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // the open failed already; that error is the one to report
        }
    }

    private static boolean bool(String source, Map<String, String> props, String key) {
        String v = props.get(key);
        if (v == null || v.isEmpty()) {
            return false;
        }
        if (v.equalsIgnoreCase("true")) {
            return true;
        }
        if (v.equalsIgnoreCase("false")) {
            return false;
        }
        throw new IllegalArgumentException(source + ": " + key + " must be true or false, not '" + v + "'");
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }

    private static Path pathOrNull(String s) {
        return s == null || s.isBlank() ? null : Path.of(s.strip());
    }
}
