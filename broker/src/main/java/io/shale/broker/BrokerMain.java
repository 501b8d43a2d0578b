package io.shale.broker;

import io.shale.log.LogStore;
import io.shale.storage.local.LocalStorage;
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
 * local disk (file WAL and a local directory as the object store) and serves it until the process
 * gets SIGTERM or SIGINT, then stops the broker and closes the store (which uploads what it can).
 */
public final class BrokerMain {
    private static final Logger log = LoggerFactory.getLogger(BrokerMain.class);

    private static final String USAGE = String.join("\n",
            "Usage: java -jar shale-broker.jar --data DIR [options]",
            "  --data DIR                 the store's directory (created if needed): file WAL and objects",
            "  --listen HOST:PORT         where to listen (default 127.0.0.1:9092; port 0 picks a free one)",
            "  --advertise HOST:PORT      the address clients are told to use (default: the listen address)",
            "  --node-id N                this broker's node id (default 0)",
            "  --max-request-bytes N      largest request accepted (default 104857600)",
            "  --topic NAME[:PARTITIONS]  create this topic at start if it does not exist (default 1 partition;",
            "                             repeatable). Topics are never created on first use.",
            "  --help                     this text");

    private BrokerMain() {
    }

    public static void main(String[] args) {
        int code = run(args, System.out, System.err);
        if (code != 0) {
            System.exit(code);
        }
    }

    /** Parses, starts and (unless it failed) blocks until shutdown. Returns the exit code. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        Path data = null;
        String listen = "127.0.0.1:9092";
        String advertise = null;
        int nodeId = 0;
        int maxRequestBytes = ShaleBroker.DEFAULT_MAX_REQUEST_BYTES;
        String[] listenAt;
        int listenPort;
        String[] advertiseAt = null;
        java.util.Map<String, Integer> topics = new java.util.LinkedHashMap<>();
        int advertisePort = 0;
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--help") || a.equals("-h")) {
                    out.println(USAGE);
                    return 0;
                }
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("missing value after " + a);
                }
                String v = args[++i];
                switch (a) {
                    case "--data":
                        data = Path.of(v);
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
            if (data == null) {
                throw new IllegalArgumentException("--data DIR is required");
            }
            listenAt = hostPort("--listen", listen);
            listenPort = parseInt("--listen", listenAt[1]);
            if (advertise != null) {
                advertiseAt = hostPort("--advertise", advertise);
                advertisePort = parseInt("--advertise", advertiseAt[1]);
            }
        } catch (IllegalArgumentException e) {
            err.println("shale-broker: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }

        LogStore store;
        try {
            Files.createDirectories(data);
            store = LocalStorage.open(data);
        } catch (IOException | RuntimeException e) {
            err.println("shale-broker: cannot open the store in " + data + ": " + e.getMessage());
            return 1;
        }
        try {
            for (java.util.Map.Entry<String, Integer> t : topics.entrySet()) {
                if (store.describeTopic(t.getKey()).isEmpty()) {
                    store.createTopic(t.getKey(), t.getValue());
                    log.info("created topic {} with {} partition(s)", t.getKey(), t.getValue());
                }
            }
        } catch (RuntimeException e) {
            err.println("shale-broker: cannot create the topics asked for: " + e.getMessage());
            store.close();
            return 1;
        }
        ShaleBroker broker;
        try {
            ShaleBroker.Builder b = ShaleBroker.builder(store).listen(listenAt[0], listenPort)
                    .nodeId(nodeId).clusterId(clusterId(data)).maxRequestBytes(maxRequestBytes);
            if (advertiseAt != null) {
                b.advertise(advertiseAt[0], advertisePort);
            }
            broker = b.start();
        } catch (IOException | RuntimeException e) {
            err.println("shale-broker: " + e.getMessage());
            store.close();
            return e instanceof IllegalArgumentException ? 2 : 1;
        }
        Path dir = data;
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                broker.close();
            } finally {
                try {
                    store.close();
                    log.info("store in {} closed", dir);
                } finally {
                    stopped.countDown();
                }
            }
        }, "shale-broker-shutdown"));
        out.println("Shale broker listening on " + broker.bootstrapServers() + " (store " + data.toAbsolutePath() + ")");
        out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** The cluster id kept in {@code DIR/cluster.id}, created on the first start, so that it survives restarts. */
    private static String clusterId(Path data) throws IOException {
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
