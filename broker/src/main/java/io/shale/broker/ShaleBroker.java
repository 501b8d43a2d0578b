package io.shale.broker;

import io.shale.log.ConsumerOffsets;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.shale.log.LogStore;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kafka-protocol broker serving one {@link LogStore}: Kafka clients (producers, consumers with
 * assigned partitions or in consumer groups, the admin client) connect to it as to a single-node
 * Kafka cluster.
 * This broker is the only node and leads every partition of every topic in the store, unless it is
 * one broker of a cluster ({@link Builder#cluster}, preview): then each partition is led by the
 * broker whose node owns it, and the coordinators run on the owner of their internal partition.
 *
 * <p>Served: ApiVersions, Metadata, Produce (acks 0, 1 and all: every acknowledged batch is durable
 * in the store's WAL), Fetch (long poll; no incremental fetch sessions), ListOffsets, CreateTopics,
 * DeleteTopics, DescribeCluster, InitProducerId for idempotent producers (kafka-clients' default
 * {@code enable.idempotence=true}: producer ids from {@link LogStore#allocateProducerId()}, retried
 * batches answered with their original offsets, Kafka's {@code OUT_OF_ORDER_SEQUENCE_NUMBER} and
 * {@code INVALID_PRODUCER_EPOCH}), and consumer groups with the classic protocol (FindCoordinator,
 * JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, OffsetDelete, ListGroups,
 * DescribeGroups, DeleteGroups; committed offsets in the store, see {@link #consumerOffsets()};
 * group membership in memory, so consumers rejoin after a restart) and with the KIP-848 consumer
 * protocol (ConsumerGroupHeartbeat, ConsumerGroupDescribe: the broker assigns with the
 * {@code uniform} or {@code range} assignor, members reconcile incrementally; see
 * {@link Builder#consumerGroupTimeouts}), and transactions (a transaction coordinator on this node).
 * Not yet: ACLs. The listener speaks PLAINTEXT, SSL, SASL_PLAINTEXT or
 * SASL_SSL (SASL PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512), see {@link Builder#security}.
 *
 * <p><b>Lifecycle.</b> {@link Builder#start()} binds the listener and returns a running broker;
 * {@link #close()} stops accepting connections, closes the open ones and waits (a few seconds at
 * most) for the network and request threads to stop. The store belongs to the caller: close it
 * after the broker.
 *
 * <p><b>Threading.</b> Network I/O runs on Netty event loops; requests are handled on a pool of
 * request threads, so a store call that blocks (an append under back-pressure, an admin operation,
 * a read from the object store) never stalls a network thread. Responses on one connection go out
 * in request order.
 */
public final class ShaleBroker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ShaleBroker.class);

    /** Kafka's default {@code socket.request.max.bytes}: 100 MiB. */
    public static final int DEFAULT_MAX_REQUEST_BYTES = 100 * 1024 * 1024;

    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final ExecutorService requestThreads;
    private final Channel serverChannel;
    private final InetSocketAddress address;
    private final String clusterId;
    private final int nodeId;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile GroupCoordinator groups;
    private volatile TransactionCoordinator txns;
    /** In a cluster: the brokers, the ownership policy; null on a single broker. */
    private final BrokerCluster cluster;
    /** In a cluster: reloads the coordinators when their internal partitions move (one at a time). */
    private final ExecutorService coordinatorReloads;
    private final BoundPort bound = new BoundPort();
    private final LogStore store;
    private final Builder builder;
    private BrokerConfigs configs;

    private static ConsumerGroup.Topics storeTopics(LogStore store) {
        return new ConsumerGroup.Topics() {
            @Override
            public java.util.Collection<String> names() {
                return store.listTopics();
            }

            @Override
            public int partitionCount(String topic) {
                return store.describeTopic(topic).map(d -> d.partitionCount()).orElse(-1);
            }
        };
    }

    private final ListenerSecurity security;

    private ShaleBroker(Builder b) {
        // TLS stores and SASL users are read (and a wrong setting named) before anything starts
        ListenerSecurity security = ListenerSecurity.from(b.security, b.saslUsers);
        this.security = security;
        this.store = b.store;
        this.builder = b;
        if (b.clusterNode != null) {
            Map<Integer, Placement.Broker> brokers = BrokerCluster.parseBrokers(b.clusterBrokers);
            // the internal topics exist before the policy places them (created by whichever broker comes first)
            for (String internal : List.of(ConsumerOffsets.TOPIC, TransactionCoordinator.TOPIC)) {
                try {
                    if (b.store.describeTopic(internal).isEmpty()) {
                        b.store.createTopic(internal, 1, Map.of("cleanup.policy", "compact"));
                    }
                } catch (io.shale.log.ShaleException e) {
                    if (e.kind() != io.shale.log.ErrorKind.TOPIC_ALREADY_EXISTS) {
                        throw e;
                    }
                }
            }
            cluster = new BrokerCluster(b.clusterNode, brokers, b.nodeId, b.ownershipInterval, security.protocol.tls);
            coordinatorReloads = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "shale-broker-coordinators-" + b.nodeId);
                t.setDaemon(true);
                return t;
            });
        } else {
            cluster = null;
            coordinatorReloads = null;
        }
        // reads the committed offsets (the internal topic) before anything listens
        // and the transactions' state (completing any a previous broker left half done)
        try {
            loadCoordinators(b, null);
        } catch (RuntimeException | Error e) {
            if (cluster != null) {
                cluster.close();
                coordinatorReloads.shutdownNow();
            }
            throw e;
        }
        bossGroup = new NioEventLoopGroup(1, new DefaultThreadFactory("shale-broker-accept", true));
        workerGroup = new NioEventLoopGroup(b.networkThreads, new DefaultThreadFactory("shale-broker-network", true));
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(b.requestThreads, b.requestThreads, 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "shale-broker-request-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        requestThreads = pool;
        clusterId = b.clusterId;
        nodeId = b.nodeId;
        try {
            // the advertised port is known only after binding (port 0): the handler reads it lazily
            ServerBootstrap sb = new ServerBootstrap().group(bossGroup, workerGroup)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .option(ChannelOption.AUTO_READ, false) // accept nothing until the APIs exist (below)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            if (security.protocol.tls) {
                                ch.pipeline().addLast("tls", security.sslHandler());
                            }
                            ch.pipeline().addLast("frames", new KafkaFrameDecoder(b.maxRequestBytes));
                            ch.pipeline().addLast("requests", new KafkaConnection(() -> bound.apis, requestThreads,
                                    b.maxRequestBytes, security));
                        }
                    });
            io.netty.channel.ChannelFuture bind = sb.bind(b.host, b.port).awaitUninterruptibly();
            if (!bind.isSuccess()) {
                throw new IllegalStateException("cannot listen on " + b.host + ":" + b.port + ": " + bind.cause(),
                        bind.cause());
            }
            serverChannel = bind.channel();
            address = (InetSocketAddress) serverChannel.localAddress();
            String advertisedHost = cluster != null ? cluster.self().host()
                    : b.advertisedHost != null ? b.advertisedHost : advertisedHostFor(address);
            int advertisedPort = cluster != null ? cluster.self().port()
                    : b.advertisedPort > 0 ? b.advertisedPort : address.getPort();
            configs = brokerConfigs(b, address, advertisedHost, advertisedPort);
            synchronized (this) {
                bound.apis = apis(advertisedHost, advertisedPort, groups, txns, coordinatingNow);
            }
            if (cluster != null) {
                cluster.node().addListener(new io.shale.catalog.postgres.PostgresClusterNode.OwnershipListener() {
                    @Override
                    public void gained(io.shale.log.TopicPartition partition, long epoch) {
                        moved(partition);
                    }

                    @Override
                    public void lost(io.shale.log.TopicPartition partition, String why) {
                        moved(partition);
                    }
                });
                // a claim that came before the listener
                coordinatorReloads.execute(this::reloadIfMoved);
            }
            serverChannel.config().setAutoRead(true);
            if (cluster != null) {
                cluster.start(); // the first round of the ownership policy before start() returns
            }
            log.info("Shale broker {} listening on {} (advertised as {}:{}, {}), cluster id {}", nodeId, address,
                    advertisedHost, advertisedPort, security.describe(), clusterId);
        } catch (RuntimeException | Error e) {
            shutdownThreads();
            if (cluster != null) {
                cluster.close();
                coordinatorReloads.shutdownNow();
            }
            txns.close();
            groups.close();
            throw e;
        }
    }

    /** The internal partitions this broker owned (at their epochs) when its coordinators were loaded; null if single. */
    private Map<io.shale.log.TopicPartition, Integer> coordinatingNow;

    private KafkaApis apis(String host, int port, GroupCoordinator g, TransactionCoordinator t,
            Map<io.shale.log.TopicPartition, Integer> coordinating) {
        Placement placement = cluster != null ? cluster : Placement.single(store, new Placement.Broker(nodeId, host, port));
        return new KafkaApis(store, requestThreads, clusterId, g, t, configs, placement, coordinating);
    }

    /**
     * Loads the group and transaction coordinators from the committed internal topics. In a cluster
     * they are loaded again whenever this broker gains or loses an internal partition, and serve
     * only while it owns that partition at the epoch it had when loading (KafkaApis answers
     * NOT_COORDINATOR otherwise; the store refuses a lost partition's writes with NOT_OWNER).
     */
    private void loadCoordinators(Builder b, Map<io.shale.log.TopicPartition, Integer> coordinating) {
        // in a cluster a fresh view of the store: ConsumerOffsets keeps one instance per store object
        LogStore view = cluster == null ? b.store : freshView(b.store);
        GroupCoordinator g = new GroupCoordinator(ConsumerOffsets.open(view), b.groupInitialRebalanceDelayMs,
                b.groupMinSessionTimeoutMs, b.groupMaxSessionTimeoutMs, 100, storeTopics(b.store),
                b.consumerSessionTimeoutMs, b.consumerHeartbeatIntervalMs);
        TransactionCoordinator t;
        try {
            // in a cluster only the owner of the transactions' partition loads them and writes markers
            t = new TransactionCoordinator(b.store, g, java.time.Clock.systemUTC(), b.transactionTimeoutCheckMs,
                    b.transactionalIdExpirationMs, cluster == null || (coordinating != null && coordinating.containsKey(KafkaApis.TXNS_PARTITION)));
        } catch (RuntimeException | Error e) {
            g.close();
            throw e;
        }
        groups = g;
        txns = t;
        coordinatingNow = coordinating == null && cluster != null ? Map.of() : coordinating;
    }

    private void moved(io.shale.log.TopicPartition partition) {
        if (partition.equals(KafkaApis.GROUPS_PARTITION) || partition.equals(KafkaApis.TXNS_PARTITION)) {
            try {
                coordinatorReloads.execute(this::reloadIfMoved);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // closing
            }
        }
    }

    /** Reloads the coordinators if the internal partitions this broker owns changed since they were loaded. */
    private void reloadIfMoved() {
        if (closed.get()) {
            return;
        }
        Map<io.shale.log.TopicPartition, Integer> now = new java.util.HashMap<>();
        for (io.shale.log.TopicPartition tp : List.of(KafkaApis.GROUPS_PARTITION, KafkaApis.TXNS_PARTITION)) {
            int e = cluster.ownedEpoch(tp);
            if (e >= 0) {
                now.put(tp, e);
            }
        }
        if (now.equals(coordinatingNow)) {
            return;
        }
        GroupCoordinator oldGroups = groups;
        TransactionCoordinator oldTxns = txns;
        try {
            loadCoordinators(builder, now);
        } catch (RuntimeException e) {
            log.warn("broker {}: loading the coordinators failed (retried at the next ownership change): {}", nodeId,
                    e.toString());
            return;
        }
        synchronized (this) {
            bound.apis = apis(cluster.self().host(), cluster.self().port(), groups, txns, coordinatingNow);
        }
        oldTxns.close();
        oldGroups.close();
        log.info("broker {} coordinates {}", nodeId, now.keySet());
    }

    /** A LogStore that delegates to {@code store} but is another object (its own ConsumerOffsets instance). */
    private static LogStore freshView(LogStore store) {
        return (LogStore) java.lang.reflect.Proxy.newProxyInstance(LogStore.class.getClassLoader(),
                new Class<?>[] {LogStore.class}, (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "equals":
                            if (args != null && args.length == 1 && method.getParameterTypes()[0] == Object.class) {
                                return proxy == args[0];
                            }
                            break;
                        case "hashCode":
                            if (args == null || args.length == 0) {
                                return System.identityHashCode(proxy);
                            }
                            break;
                        case "toString":
                            if (args == null || args.length == 0) {
                                return "view of " + store;
                            }
                            break;
                        case "close":
                            if (args == null || args.length == 0) {
                                return null; // the store belongs to the broker's owner
                            }
                            break;
                        default:
                            break;
                    }
                    try {
                        return method.invoke(store, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** The effective settings under Kafka's broker config names, for DescribeConfigs (passwords: sensitive). */
    private BrokerConfigs brokerConfigs(Builder b, InetSocketAddress bound, String advertisedHost, int advertisedPort) {
        List<BrokerConfigs.Entry> e = new ArrayList<>();
        String protocol = security.protocol.name();
        e.add(entry(b, "node.id", String.valueOf(nodeId), "0", ConfigType.INT));
        e.add(entry(b, "broker.id", String.valueOf(nodeId), "0", ConfigType.INT));
        e.add(entry(b, "listeners", protocol + "://" + b.host + ":" + bound.getPort(), "PLAINTEXT://127.0.0.1:9092",
                ConfigType.LIST));
        e.add(entry(b, "advertised.listeners", protocol + "://" + advertisedHost + ":" + advertisedPort, null,
                ConfigType.LIST));
        e.add(entry(b, "socket.request.max.bytes", String.valueOf(b.maxRequestBytes),
                String.valueOf(DEFAULT_MAX_REQUEST_BYTES), ConfigType.INT));
        e.add(entry(b, "num.network.threads", String.valueOf(b.networkThreads), null, ConfigType.INT));
        e.add(entry(b, "num.io.threads", String.valueOf(b.requestThreads), "8", ConfigType.INT));
        e.add(entry(b, "group.initial.rebalance.delay.ms", String.valueOf(b.groupInitialRebalanceDelayMs), "3000",
                ConfigType.INT));
        e.add(entry(b, "group.min.session.timeout.ms", String.valueOf(b.groupMinSessionTimeoutMs), "6000", ConfigType.INT));
        e.add(entry(b, "group.max.session.timeout.ms", String.valueOf(b.groupMaxSessionTimeoutMs), "1800000",
                ConfigType.INT));
        for (String k : new java.util.TreeSet<>(ListenerSecurity.KEYS)) {
            boolean password = ListenerSecurity.SENSITIVE.contains(k);
            ConfigType type = password ? ConfigType.PASSWORD
                    : k.equals(ListenerSecurity.ENABLED_PROTOCOLS) || k.equals(ListenerSecurity.CIPHER_SUITES)
                            || k.equals(ListenerSecurity.SASL_MECHANISMS) ? ConfigType.LIST : ConfigType.STRING;
            e.add(new BrokerConfigs.Entry(k, b.security.get(k), ListenerSecurity.DEFAULTS.get(k), b.security.containsKey(k),
                    type, password));
        }
        return new BrokerConfigs(nodeId, e);
    }

    /** A setting from the builder: set if its setter was called (the name is in {@code b.set}). */
    private static BrokerConfigs.Entry entry(Builder b, String name, String value, String defaultValue, ConfigType type) {
        boolean set = b.set.contains(name);
        return new BrokerConfigs.Entry(name, value, defaultValue != null ? defaultValue : set ? null : value, set, type,
                false);
    }

    /** Holds the APIs, created once the listener's port is known (before any connection is accepted). */
    private static final class BoundPort {
        volatile KafkaApis apis;
    }

    private static String advertisedHostFor(InetSocketAddress bound) {
        InetAddress a = bound.getAddress();
        if (a.isAnyLocalAddress()) {
            try {
                return InetAddress.getLocalHost().getCanonicalHostName();
            } catch (java.net.UnknownHostException e) {
                return "localhost";
            }
        }
        return a.getHostAddress();
    }

    /** Starts building a broker for {@code store}. */
    public static Builder builder(LogStore store) {
        return new Builder(store);
    }

    /** The address the listener is bound to (with the actual port when 0 was asked for). */
    public InetSocketAddress address() {
        return address;
    }

    /** The port the listener is bound to. */
    public int port() {
        return address.getPort();
    }

    /** {@code host:port} for a Kafka client's {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return address.getAddress().getHostAddress() + ":" + address.getPort();
    }

    public String clusterId() {
        return clusterId;
    }

    public int nodeId() {
        return nodeId;
    }

    /**
     * The committed offsets of the consumer groups, in the store's internal topic
     * {@value ConsumerOffsets#TOPIC}: the instance this broker uses, for embedded users of the same
     * store (open no second one on it).
     */
    public ConsumerOffsets consumerOffsets() {
        return groups.offsets();
    }

    /**
     * Stops the broker: no new connections, open ones closed, threads stopped (waiting a few seconds
     * at most). Requests still being handled may complete in the store but get no response.
     * Idempotent. Does not close the store.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        serverChannel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        if (cluster != null) {
            cluster.close();
            coordinatorReloads.shutdown();
            try {
                coordinatorReloads.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        txns.close();
        groups.close();
        shutdownThreads();
        log.info("Shale broker {} on {} stopped", nodeId, address);
    }

    private void shutdownThreads() {
        bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        bossGroup.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
        workerGroup.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
        requestThreads.shutdown();
        try {
            if (!requestThreads.awaitTermination(5, TimeUnit.SECONDS)) {
                requestThreads.shutdownNow();
            }
        } catch (InterruptedException e) {
            requestThreads.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    /** Settings of a broker; every one has a default except the store. */
    public static final class Builder {
        private final LogStore store;
        private String host = "127.0.0.1";
        private int port = 9092;
        private String advertisedHost;
        private int advertisedPort;
        private int nodeId = 0;
        private String clusterId = Uuid.randomUuid().toString();
        private int maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES;
        private int networkThreads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
        private int requestThreads = 8;
        private long groupInitialRebalanceDelayMs = 3_000;
        private long transactionTimeoutCheckMs = 10_000;
        private long transactionalIdExpirationMs = TransactionCoordinator.DEFAULT_ID_EXPIRATION_MS;
        private int groupMinSessionTimeoutMs = 6_000;
        private int groupMaxSessionTimeoutMs = 1_800_000;
        private int consumerSessionTimeoutMs = 45_000;
        private int consumerHeartbeatIntervalMs = 5_000;
        private Map<String, String> security = Map.of();
        private io.shale.catalog.postgres.PostgresClusterNode clusterNode;
        private String clusterBrokers;
        private java.time.Duration ownershipInterval = java.time.Duration.ofSeconds(1);
        /** Kafka's names of the settings given (for DescribeConfigs sources). */
        private final java.util.Set<String> set = new java.util.HashSet<>();
        private final Map<String, String> saslUsers = new LinkedHashMap<>();

        private Builder(LogStore store) {
            this.store = Objects.requireNonNull(store, "store");
        }

        /** Where to listen: a host name or address ({@code 0.0.0.0} for all) and a port (0 picks a free one). Default 127.0.0.1:9092. */
        public Builder listen(String host, int port) {
            this.host = Objects.requireNonNull(host, "host");
            this.port = checkPort(port, "listen port");
            set.add("listeners");
            return this;
        }

        /** The host and port clients are told to connect to (Metadata); default: the bound address. */
        public Builder advertise(String host, int port) {
            this.advertisedHost = Objects.requireNonNull(host, "host");
            this.advertisedPort = checkPort(port, "advertised port");
            set.add("advertised.listeners");
            return this;
        }

        /** This broker's node id in Metadata (default 0). */
        public Builder nodeId(int nodeId) {
            if (nodeId < 0) {
                throw new IllegalArgumentException("node id must not be negative: " + nodeId);
            }
            this.nodeId = nodeId;
            set.add("node.id");
            set.add("broker.id");
            return this;
        }

        /** The cluster id clients see (default: a random one per start). */
        public Builder clusterId(String clusterId) {
            if (clusterId == null || clusterId.isBlank()) {
                throw new IllegalArgumentException("cluster id must not be blank");
            }
            this.clusterId = clusterId;
            return this;
        }

        /**
         * Largest request frame accepted (Kafka's {@code socket.request.max.bytes}, default 100 MiB);
         * a larger one is answered with an error ({@code MESSAGE_TOO_LARGE} for produce,
         * {@code INVALID_REQUEST} otherwise) and its bytes are skipped as they arrive, never buffered.
         */
        public Builder maxRequestBytes(int maxRequestBytes) {
            if (maxRequestBytes < 64) {
                throw new IllegalArgumentException("max request bytes must be at least 64: " + maxRequestBytes);
            }
            this.maxRequestBytes = maxRequestBytes;
            set.add("socket.request.max.bytes");
            return this;
        }

        /** Threads that handle requests (default 8): store calls that block hold one. */
        public Builder requestThreads(int requestThreads) {
            if (requestThreads < 1) {
                throw new IllegalArgumentException("request threads must be at least 1: " + requestThreads);
            }
            this.requestThreads = requestThreads;
            set.add("num.io.threads");
            return this;
        }

        /** Netty event loop threads (default: the number of CPUs, at most 4). */
        public Builder networkThreads(int networkThreads) {
            if (networkThreads < 1) {
                throw new IllegalArgumentException("network threads must be at least 1: " + networkThreads);
            }
            this.networkThreads = networkThreads;
            set.add("num.network.threads");
            return this;
        }

        /**
         * How long the first rebalance of an empty group waits for more members to join (Kafka's
         * {@code group.initial.rebalance.delay.ms}, default 3 s; at most each member's rebalance timeout).
         */
        public Builder groupInitialRebalanceDelay(java.time.Duration delay) {
            if (delay == null || delay.isNegative()) {
                throw new IllegalArgumentException("group initial rebalance delay must be zero or positive: " + delay);
            }
            this.groupInitialRebalanceDelayMs = delay.toMillis();
            set.add("group.initial.rebalance.delay.ms");
            return this;
        }

        /**
         * The session timeout and heartbeat interval of members of {@code consumer}-protocol groups
         * (KIP-848; Kafka's {@code group.consumer.session.timeout.ms} and
         * {@code group.consumer.heartbeat.interval.ms}, default 45 s and 5 s). A member that sends no
         * heartbeat within the session timeout is removed and its partitions go to the others.
         *
         * @throws IllegalArgumentException unless 1 ms &lt;= heartbeat interval &lt; session timeout
         */
        public Builder consumerGroupTimeouts(java.time.Duration sessionTimeout, java.time.Duration heartbeatInterval) {
            if (sessionTimeout == null || heartbeatInterval == null || heartbeatInterval.toMillis() < 1
                    || sessionTimeout.compareTo(heartbeatInterval) <= 0 || sessionTimeout.toMillis() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("consumer group timeouts must satisfy 1 ms <= heartbeat interval"
                        + " < session timeout <= " + Integer.MAX_VALUE + " ms: " + sessionTimeout + ", " + heartbeatInterval);
            }
            this.consumerSessionTimeoutMs = (int) sessionTimeout.toMillis();
            this.consumerHeartbeatIntervalMs = (int) heartbeatInterval.toMillis();
            return this;
        }

        /**
         * The session timeouts a classic-protocol group member may ask for (Kafka's {@code group.min.session.timeout.ms}
         * and {@code group.max.session.timeout.ms}, default 6 s to 30 min); a JoinGroup outside gets
         * INVALID_SESSION_TIMEOUT.
         */
        public Builder groupSessionTimeouts(java.time.Duration min, java.time.Duration max) {
            if (min == null || max == null || min.toMillis() < 1 || max.compareTo(min) < 0
                    || max.toMillis() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("group session timeouts must satisfy 1 ms <= min <= max <= "
                        + Integer.MAX_VALUE + " ms: min " + min + ", max " + max);
            }
            this.groupMinSessionTimeoutMs = (int) min.toMillis();
            this.groupMaxSessionTimeoutMs = (int) max.toMillis();
            set.add("group.min.session.timeout.ms");
            set.add("group.max.session.timeout.ms");
            return this;
        }

        /**
         * The listener's security, in Kafka's setting names (default: PLAINTEXT, no TLS, no SASL):
         * <ul>
         * <li>{@code security.protocol}: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL;
         * <li>TLS (SSL and SASL_SSL): {@code ssl.keystore.location}, {@code ssl.keystore.password},
         *     {@code ssl.keystore.type} (default: the JVM's, PKCS12), {@code ssl.key.password} (default:
         *     the key store's password), {@code ssl.truststore.location}, {@code ssl.truststore.password},
         *     {@code ssl.truststore.type}, {@code ssl.client.auth} (none, requested or required; default
         *     none), {@code ssl.enabled.protocols} (default TLSv1.3,TLSv1.2), {@code ssl.cipher.suites}
         *     (default: the JVM's);
         * <li>SASL (SASL_PLAINTEXT and SASL_SSL): {@code sasl.enabled.mechanisms} (any of PLAIN,
         *     SCRAM-SHA-256, SCRAM-SHA-512; default all three: PLAIN sends the password itself, so use
         *     it with SASL_SSL), {@code sasl.users.file} (a properties file of {@code NAME=PASSWORD} lines;
         *     SCRAM credentials are derived from them at start with a random salt), and/or
         *     {@link #saslUser}.
         * </ul>
         * The stores and users are read by {@link #start()}, which throws {@link IllegalArgumentException}
         * naming a missing or wrong setting. Passwords are never logged nor put in a message.
         */
        public Builder security(Map<String, String> settings) {
            Map<String, String> copy = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : Objects.requireNonNull(settings, "settings").entrySet()) {
                String k = Objects.requireNonNull(e.getKey(), "setting name");
                if (!ListenerSecurity.KEYS.contains(k)) {
                    throw new IllegalArgumentException("unknown listener security setting '" + k + "' (known: "
                            + new java.util.TreeSet<>(ListenerSecurity.KEYS) + ")");
                }
                copy.put(k, Objects.requireNonNull(e.getValue(), () -> "value of " + k));
            }
            this.security = Map.copyOf(copy);
            return this;
        }

        /** A SASL user (with those of {@code sasl.users.file}); for a SASL listener only. */
        public Builder saslUser(String name, String password) {
            if (name == null || name.isBlank() || password == null || password.isEmpty()) {
                throw new IllegalArgumentException("a SASL user needs a name and a non-empty password");
            }
            saslUsers.put(name, password);
            return this;
        }

        /**
         * How often transactions open longer than their timeout ({@code transaction.timeout.ms} of
         * the producer) are looked for and aborted (Kafka's
         * {@code transaction.abort.timed.out.transaction.cleanup.interval.ms}, default 10 s).
         */
        public Builder transactionTimeoutCheckInterval(java.time.Duration interval) {
            if (interval == null || interval.toMillis() < 1) {
                throw new IllegalArgumentException("transaction timeout check interval must be at least 1 ms: " + interval);
            }
            this.transactionTimeoutCheckMs = interval.toMillis();
            return this;
        }

        /**
         * How long a transactional id with no transaction open is remembered after its state was last written
         * (Kafka's {@code transactional.id.expiration.ms}, default 7 days). An expired id's next producer
         * starts afresh with a new producer id; without expiry, every transactional id ever used would stay in
         * memory and in {@code __shale_transactions} for good. Checked at the transaction timeout interval.
         */
        public Builder transactionalIdExpiration(java.time.Duration expiration) {
            if (expiration == null || expiration.toMillis() < 1) {
                throw new IllegalArgumentException("transactional id expiration must be at least 1 ms: " + expiration);
            }
            this.transactionalIdExpirationMs = expiration.toMillis();
            return this;
        }

        /**
         * Runs this broker as one of a cluster (preview): {@code node} is the cluster node the store was
         * opened with ({@code PostgresCatalog.clusterNode}), whose node id must be this broker's
         * {@link #nodeId} as a string; {@code brokers} names every broker of the cluster with the
         * address clients connect to, {@code id@host:port,...} (Kafka's
         * {@code controller.quorum.voters} style; the same list on every broker). This broker
         * advertises its own entry. Partitions are led by their owner's broker at their partition
         * epoch; the brokers share the partitions out among themselves (see {@link #ownershipInterval}).
         *
         * @throws IllegalArgumentException (at {@link #start()}) naming what is wrong with the list
         */
        public Builder cluster(io.shale.catalog.postgres.PostgresClusterNode node, String brokers) {
            this.clusterNode = Objects.requireNonNull(node, "node");
            this.clusterBrokers = Objects.requireNonNull(brokers, "brokers");
            return this;
        }

        /**
         * In a cluster: how often this broker checks which brokers are up and claims or releases
         * partitions to hold its share of each topic (default 1 s).
         */
        public Builder ownershipInterval(java.time.Duration interval) {
            if (interval == null || interval.toMillis() < 1) {
                throw new IllegalArgumentException("ownership interval must be at least 1 ms: " + interval);
            }
            this.ownershipInterval = interval;
            return this;
        }

        private static int checkPort(int port, String what) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException(what + " must be 0 to 65535: " + port);
            }
            return port;
        }

        /** Binds the listener and starts serving; throws {@link IllegalStateException} naming the address if it cannot be bound. */
        public ShaleBroker start() {
            return new ShaleBroker(this);
        }
    }
}
