package io.shale.broker;

import io.shale.log.LogStore;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker as a program:
 * {@code java -jar shale-broker.jar --data ./shale-data --listen 127.0.0.1:9092}. Opens a store on
 * local disk (file WAL and a local directory as the object store), or the store a
 * {@code --config FILE} describes (S3 with the object WAL or a file WAL, see {@link BrokerStore}),
 * and serves it until the process gets SIGTERM or SIGINT, then stops the broker and closes the
 * store (which uploads what it can).
 */
public final class BrokerMain {
    private static final Logger log = LoggerFactory.getLogger(BrokerMain.class);

    private static final String USAGE = String.join("\n",
            "Usage: java -jar shale-broker.jar --data DIR [options]",
            "Usage: java -jar shale-broker.jar --config broker.properties [options]",
            "  --data DIR                 the store's directory (created if needed): file WAL and objects",
            "  --config FILE              the store from a properties file: store=s3, s3.bucket, s3.prefix, s3.endpoint,",
            "                             s3.region, s3.path-style, wal=object|file, wal.dir, config.<setting>;",
            "                             S3 credentials come from the AWS default chain only (see the README);",
            "                             the listener's security.protocol, ssl.* and sasl.* (Kafka's names)",
            "  --listen HOST:PORT         where to listen (default 127.0.0.1:9092; port 0 picks a free one)",
            "  --advertise HOST:PORT      the address clients are told to use (default: the listen address)",
            "  --node-id N                this broker's node id (default 0)",
            "  --max-request-bytes N      largest request accepted (default 104857600)",
            "  --topic NAME[:PARTITIONS]  create this topic at start if it does not exist (default 1 partition;",
            "                             repeatable). Topics are never created on first use.",
            "  --cluster-brokers LIST     run as one broker of a cluster (preview): every broker as ID@HOST:PORT,",
            "                             comma-separated, the same list on each; this broker is --node-id and",
            "                             advertises its own entry. Needs --postgres-url",
            "  --postgres-url JDBC_URL    the cluster's PostgreSQL catalog (jdbc:postgresql://HOST:PORT/DB); the",
            "                             password, if any, from the environment variable SHALE_POSTGRES_PASSWORD",
            "  --postgres-user NAME       its user (default postgres)",
            "  --postgres-schema NAME     its schema (default shale)",
            "  --lease-ms N               how long a broker's claim on a partition lasts (default 10000): a broker",
            "                             that stops is replaced after this long",
            "  --help                     this text");

    private BrokerMain() {
    }

    public static void main(String[] args) {
        int code = run(args, System.out, System.err);
        if (code != 0) {
            System.exit(code);
        }
    }

    /** A started broker on its open store. */
    static final class Launched {
        final ShaleBroker broker;
        final LogStore store;
        final BrokerStore where;

        Launched(ShaleBroker broker, LogStore store, BrokerStore where) {
            this.broker = broker;
            this.store = store;
            this.where = where;
        }

        /** Stops the broker, then closes the store. */
        void close() {
            try {
                broker.close();
            } finally {
                store.close();
            }
        }
    }

    /** Why a launch failed, with the exit code to give. */
    static final class LaunchException extends Exception {
        private static final long serialVersionUID = 1L;
        final int exitCode;

        LaunchException(int exitCode, String message) {
            super(message, null, false, false);
            this.exitCode = exitCode;
        }
    }

    /** Parses, starts and (unless it failed) blocks until shutdown. Returns the exit code. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        for (String a : args) {
            if (a.equals("--help") || a.equals("-h")) {
                out.println(USAGE);
                return 0;
            }
        }
        Launched launched;
        try {
            launched = launch(args);
        } catch (LaunchException e) {
            err.println("shale-broker: " + e.getMessage());
            if (e.exitCode == 2) {
                err.println(USAGE);
            }
            return e.exitCode;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                launched.close();
                log.info("store {} closed", launched.where.describe());
            } finally {
                stopped.countDown();
            }
        }, "shale-broker-shutdown"));
        out.println("Shale broker listening on " + launched.broker.bootstrapServers() + " (store "
                + launched.where.describe() + ")");
        out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /**
     * Parses the arguments, opens the store, creates the topics asked for and starts the broker.
     *
     * @throws LaunchException exit code 2 for bad arguments or configuration, 1 if the store cannot be
     *     opened or the broker cannot start
     */
    static Launched launch(String[] args) throws LaunchException {
        Path data = null;
        Path config = null;
        String listen = "127.0.0.1:9092";
        String advertise = null;
        Integer nodeId = null; // null: the builder's default (DescribeConfigs reports the source)
        Integer maxRequestBytes = null;
        String[] listenAt;
        int listenPort;
        String[] advertiseAt = null;
        java.util.Map<String, Integer> topics = new java.util.LinkedHashMap<>();
        int advertisePort = 0;
        BrokerStore where;
        String clusterBrokers = null;
        String pgUrl = null;
        String pgUser = "postgres";
        String pgSchema = "shale";
        long leaseMs = 10_000;
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("missing value after " + a);
                }
                String v = args[++i];
                switch (a) {
                    case "--cluster-brokers":
                        clusterBrokers = v;
                        break;
                    case "--postgres-url":
                        pgUrl = v;
                        break;
                    case "--postgres-user":
                        pgUser = v;
                        break;
                    case "--postgres-schema":
                        pgSchema = v;
                        break;
                    case "--lease-ms":
                        leaseMs = parseInt("--lease-ms", v);
                        break;
                    case "--data":
                        data = Path.of(v);
                        break;
                    case "--config":
                        config = Path.of(v);
                        break;
                    case "--listen":
                        listen = v;
                        break;
                    case "--advertise":
                        advertise = v;
                        break;
                    case "--node-id":
                        nodeId = parseInt(a, v);
                        break;
                    case "--max-request-bytes":
                        maxRequestBytes = parseInt(a, v);
                        break;
                    case "--topic":
                        int colon = v.lastIndexOf(':');
                        String name = colon < 0 ? v : v.substring(0, colon);
                        int partitions = colon < 0 ? 1 : parseInt(a, v.substring(colon + 1));
                        if (name.isEmpty() || partitions < 1) {
                            throw new IllegalArgumentException("--topic wants NAME or NAME:PARTITIONS (at least 1), not '" + v + "'");
                        }
                        topics.put(name, partitions);
                        break;
                    default:
                        throw new IllegalArgumentException("unknown option: " + a);
                }
            }
            if (config != null) {
                where = BrokerStore.fromFile(config, data);
            } else if (data != null) {
                where = BrokerStore.local(data);
            } else {
                throw new IllegalArgumentException("--data DIR is required (or --config FILE for a store described in a file)");
            }
            if ((clusterBrokers == null) != (pgUrl == null)) {
                throw new IllegalArgumentException("--cluster-brokers and --postgres-url go together (a cluster's"
                        + " brokers share one PostgreSQL catalog)");
            }
            if (clusterBrokers != null) {
                java.util.Map<Integer, Placement.Broker> brokers = BrokerCluster.parseBrokers(clusterBrokers);
                int id = nodeId == null ? 0 : nodeId;
                if (!brokers.containsKey(id)) {
                    throw new IllegalArgumentException("--cluster-brokers " + brokers.keySet()
                            + " does not name this broker's --node-id " + id);
                }
                if (listen.equals("127.0.0.1:9092")) {
                    // the default listen address: this broker's entry of the list
                    listen = brokers.get(id).host() + ":" + brokers.get(id).port();
                }
            }
            listenAt = hostPort("--listen", listen);
            listenPort = parseInt("--listen", listenAt[1]);
            if (advertise != null) {
                advertiseAt = hostPort("--advertise", advertise);
                advertisePort = parseInt("--advertise", advertiseAt[1]);
            }
        } catch (IllegalArgumentException e) {
            throw new LaunchException(2, e.getMessage());
        }

        LogStore store;
        String clusterId;
        io.shale.catalog.postgres.PostgresClusterNode clusterNode = null;
        try {
            if (clusterBrokers != null) {
                io.shale.catalog.postgres.PostgresCatalogOptions.Builder o =
                        io.shale.catalog.postgres.PostgresCatalogOptions.builder(pgUrl).user(pgUser).schema(pgSchema)
                                .nodeId(String.valueOf(nodeId == null ? 0 : nodeId));
                String password = System.getenv("SHALE_POSTGRES_PASSWORD");
                if (password != null && !password.isEmpty()) {
                    o.password(password);
                }
                clusterNode = io.shale.catalog.postgres.PostgresCatalog.clusterNode(o.build(),
                        java.time.Duration.ofMillis(leaseMs));
                store = where.openClusterNode(clusterNode);
            } else {
                store = where.open();
            }
        } catch (IOException | RuntimeException e) {
            throw new LaunchException(1, "cannot open the store " + where.describe() + ": " + e.getMessage());
        }
        try {
            // a cluster's id: the same on every broker of it, from its catalog's address
            clusterId = clusterNode != null ? clusterIdOf(pgUrl + "/" + pgSchema) : where.clusterId();
            for (java.util.Map.Entry<String, Integer> t : topics.entrySet()) {
                if (store.describeTopic(t.getKey()).isEmpty()) {
                    try {
                        store.createTopic(t.getKey(), t.getValue());
                        log.info("created topic {} with {} partition(s)", t.getKey(), t.getValue());
                    } catch (io.shale.log.ShaleException e) {
                        if (e.kind() != io.shale.log.ErrorKind.TOPIC_ALREADY_EXISTS) {
                            throw e; // (another broker of the cluster created it meanwhile)
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            store.close();
            throw new LaunchException(1, "cannot create the topics asked for: " + e.getMessage());
        }
        try {
            ShaleBroker.Builder b = ShaleBroker.builder(store).listen(listenAt[0], listenPort)
                    .clusterId(clusterId).security(where.security);
            if (nodeId != null) {
                b.nodeId(nodeId);
            }
            if (maxRequestBytes != null) {
                b.maxRequestBytes(maxRequestBytes);
            }
            if (advertiseAt != null) {
                b.advertise(advertiseAt[0], advertisePort);
            }
            if (clusterNode != null) {
                b.cluster(clusterNode, clusterBrokers);
            }
            return new Launched(b.start(), store, where);
        } catch (RuntimeException e) {
            store.close();
            throw new LaunchException(e instanceof IllegalArgumentException ? 2 : 1, String.valueOf(e.getMessage()));
        }
    }

    /** A cluster's id derived from its catalog's JDBC URL and schema (no password in either). */
    static String clusterIdOf(String catalog) {
        java.util.UUID u = java.util.UUID.nameUUIDFromBytes(("shale:postgres:" + catalog).getBytes(StandardCharsets.UTF_8));
        return new Uuid(u.getMostSignificantBits(), u.getLeastSignificantBits()).toString();
    }

    /** The cluster id kept in {@code DIR/cluster.id}, created on the first start, so that it survives restarts. */
    static String clusterId(Path data) throws IOException {
        Path file = data.resolve("cluster.id");
        if (Files.exists(file)) {
            String id = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (!id.isEmpty()) {
                return id;
            }
        }
        String id = Uuid.randomUuid().toString();
        Path tmp = data.resolve("cluster.id.tmp");
        Files.writeString(tmp, id + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return id;
    }

    private static String[] hostPort(String option, String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new IllegalArgumentException(option + " wants HOST:PORT, not '" + value + "'");
        }
        return new String[] {value.substring(0, colon), value.substring(colon + 1)};
    }

    private static int parseInt(String option, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " wants a number, not '" + value + "'");
        }
    }
}
