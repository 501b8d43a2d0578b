package io.shale.broker;

import io.shale.catalog.postgres.PostgresClusterNode;
import io.shale.catalog.postgres.PostgresClusterNode.PartitionOwner;
import io.shale.log.TopicPartition;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The brokers of a cluster of Shale nodes (preview): each broker runs over a store opened as a
 * {@link PostgresClusterNode} whose node id is its Kafka broker id as a string, and knows every
 * broker from a static list ({@code cluster.brokers=0@host:9092,1@host:9093,...}, as Kafka's
 * {@code controller.quorum.voters}). A partition's leader is the broker of its owner, at its
 * partition epoch.
 *
 * <p><b>Ownership policy.</b> Every {@code interval} each broker probes the others (an ApiVersions
 * request to their advertised address answered within one second, or on a TLS listener a TCP
 * connect: a broker that does not answer is taken as down)
 * and, per topic, computes every live broker's share of the topic's partitions: {@code n / live}
 * each, and one more for {@code n % live} of them, chosen by rotating the sorted live brokers by a
 * hash of the topic name (deterministic, so every broker computes the same shares from the same
 * view). It then claims unowned partitions and partitions of brokers it takes as down (the claim
 * succeeds only once their lease ran out) up to its share, and releases (a planned release: nothing
 * is lost) the partitions it holds above its share while some live broker holds fewer than its own
 * share. The internal topics' partitions (and with them the group and transaction coordinators) are
 * placed the same way.
 */
final class BrokerCluster implements Placement, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BrokerCluster.class);

    private final PostgresClusterNode node;
    private final Map<Integer, Broker> brokers;
    private final Broker self;
    private final ScheduledExecutorService timer;
    private final Duration releaseTimeout;
    private final boolean tlsListeners;
    private volatile boolean closed;

    BrokerCluster(PostgresClusterNode node, Map<Integer, Broker> brokers, int selfId, Duration interval,
            boolean tlsListeners) {
        this.tlsListeners = tlsListeners;
        this.node = node;
        this.brokers = Collections.unmodifiableMap(new TreeMap<>(brokers));
        this.self = brokers.get(selfId);
        if (self == null) {
            throw new IllegalArgumentException("cluster.brokers " + brokers.keySet() + " does not name this broker's id "
                    + selfId);
        }
        if (!node.nodeId().equals(String.valueOf(selfId))) {
            throw new IllegalArgumentException("the cluster node's id '" + node.nodeId() + "' must be this broker's id "
                    + selfId + " (as a string)");
        }
        this.releaseTimeout = Duration.ofSeconds(30);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "shale-broker-ownership-" + selfId);
            t.setDaemon(true);
            return t;
        });
        this.intervalMs = Math.max(1, interval.toMillis());
    }

    private final long intervalMs;

    /** Runs the policy's first round on the caller's thread, then every interval on the policy's own thread. */
    void start() {
        tickSafely();
        timer.scheduleWithFixedDelay(this::tickSafely, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
    }

    /**
     * Parses {@code 0@host:9092,1@host:9093}: a broker id, {@code @}, and the host and port clients
     * connect to, for every broker of the cluster.
     */
    static Map<Integer, Broker> parseBrokers(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("cluster.brokers is empty: expected id@host:port,... e.g. 0@localhost:9092");
        }
        Map<Integer, Broker> out = new TreeMap<>();
        for (String part : spec.split(",")) {
            String p = part.trim();
            int at = p.indexOf('@');
            int colon = p.lastIndexOf(':');
            if (at <= 0 || colon <= at + 1 || colon == p.length() - 1) {
                throw new IllegalArgumentException("cluster.brokers entry '" + p + "' is not id@host:port");
            }
            int id;
            int port;
            try {
                id = Integer.parseInt(p.substring(0, at));
                port = Integer.parseInt(p.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("cluster.brokers entry '" + p + "' is not id@host:port (numbers)");
            }
            if (id < 0 || port < 1 || port > 65535) {
                throw new IllegalArgumentException("cluster.brokers entry '" + p + "': id must be >= 0, port 1 to 65535");
            }
            if (out.put(id, new Broker(id, p.substring(at + 1, colon), port)) != null) {
                throw new IllegalArgumentException("cluster.brokers names broker " + id + " twice");
            }
        }
        return out;
    }

    PostgresClusterNode node() {
        return node;
    }

    @Override
    public List<Broker> brokers() {
        return List.copyOf(brokers.values());
    }

    @Override
    public Broker self() {
        return self;
    }

    private Broker brokerOf(String nodeId) {
        if (nodeId == null) {
            return null;
        }
        try {
            return brokers.get(Integer.parseInt(nodeId));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public Broker leader(TopicPartition tp) {
        Long mine = node.ownedPartitions().get(tp);
        if (mine != null) {
            return self;
        }
        Optional<PartitionOwner> o = node.owner(tp);
        if (o.isEmpty() || String.valueOf(self.id()).equals(o.get().nodeId())) {
            return null; // our own view says we lost it: not ours, and the new owner not known yet
        }
        return brokerOf(o.get().nodeId());
    }

    @Override
    public int epoch(TopicPartition tp) {
        Long mine = node.ownedPartitions().get(tp);
        if (mine != null) {
            return (int) (long) mine;
        }
        return node.owner(tp).map(o -> (int) o.epoch()).orElse(-1);
    }

    /** This broker's epoch of {@code tp} if it owns it, else -1. */
    int ownedEpoch(TopicPartition tp) {
        Long mine = node.ownedPartitions().get(tp);
        return mine == null ? -1 : (int) (long) mine;
    }

    // ---------------------------------------------------------------- ownership policy

    private void tickSafely() {
        if (closed) {
            return;
        }
        try {
            tick(liveBrokers());
        } catch (RuntimeException e) {
            log.warn("broker {}: ownership round failed (retried): {}", self.id(), e.toString());
        }
    }

    private Set<Integer> liveBrokers() {
        Set<Integer> live = new java.util.TreeSet<>();
        for (Broker b : brokers.values()) {
            if (b.id() == self.id() || reachable(b)) {
                live.add(b.id());
            }
        }
        return live;
    }

    /**
     * Whether {@code b} answers: an ApiVersions request (v0) answered within a second on a plain
     * listener (a frozen process accepts connections but answers nothing), a TCP connect on a TLS one.
     */
    private boolean reachable(Broker b) {
        return answers(b, tlsListeners);
    }

    static boolean answers(Broker b, boolean tlsListeners) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(b.host(), b.port()), 1_000);
            if (tlsListeners) {
                return true;
            }
            s.setSoTimeout(1_000);
            byte[] clientId = "shale-broker-probe".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            java.nio.ByteBuffer req = java.nio.ByteBuffer.allocate(4 + 2 + 2 + 4 + 2 + clientId.length);
            req.putInt(req.capacity() - 4).putShort((short) 18).putShort((short) 0).putInt(1)
                    .putShort((short) clientId.length).put(clientId);
            s.getOutputStream().write(req.array());
            s.getOutputStream().flush();
            java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
            int size = in.readInt();
            return size > 4 && in.readInt() == 1; // the correlation id
        } catch (IOException e) {
            return false;
        }
    }

    /** One round of the policy (see the class comment) over this node's view, with {@code live} brokers. */
    void tick(Set<Integer> live) {
        List<Integer> liveSorted = new ArrayList<>(live);
        Collections.sort(liveSorted);
        Map<String, List<PartitionOwner>> byTopic = new TreeMap<>();
        for (PartitionOwner o : node.owners()) {
            byTopic.computeIfAbsent(o.partition().topic(), k -> new ArrayList<>()).add(o);
        }
        String me = String.valueOf(self.id());
        List<TopicPartition> toClaim = new ArrayList<>();
        List<TopicPartition> toRelease = new ArrayList<>();
        for (Map.Entry<String, List<PartitionOwner>> e : byTopic.entrySet()) {
            List<PartitionOwner> parts = e.getValue();
            parts.sort(Comparator.comparingInt(o -> o.partition().partition()));
            Map<Integer, Integer> share = shares(e.getKey(), parts.size(), liveSorted);
            Map<Integer, Integer> held = new HashMap<>();
            List<TopicPartition> mine = new ArrayList<>();
            List<TopicPartition> orphans = new ArrayList<>();
            for (PartitionOwner o : parts) {
                Broker b = brokerOf(o.nodeId());
                if (me.equals(o.nodeId()) && node.ownedPartitions().containsKey(o.partition())) {
                    mine.add(o.partition());
                } else if (b == null || !live.contains(b.id()) || me.equals(o.nodeId())) {
                    orphans.add(o.partition());
                    continue;
                }
                if (b != null) {
                    held.merge(b.id(), 1, Integer::sum);
                }
            }
            int myShare = share.getOrDefault(self.id(), 0);
            if (mine.size() < myShare && !orphans.isEmpty()) {
                // start at a place of our own among the orphans, so that brokers claiming at once differ
                int start = Math.floorMod(self.id() * 7919 + e.getKey().hashCode(), orphans.size());
                for (int i = 0; i < orphans.size() && mine.size() + countIn(toClaim, e.getKey()) < myShare; i++) {
                    toClaim.add(orphans.get((start + i) % orphans.size()));
                }
            } else if (mine.size() > myShare) {
                boolean someoneShort = false;
                for (int id : liveSorted) {
                    if (id != self.id() && held.getOrDefault(id, 0) < share.getOrDefault(id, 0)) {
                        someoneShort = true;
                    }
                }
                if (someoneShort) {
                    // the highest partitions go first
                    for (int i = mine.size() - 1; i >= myShare; i--) {
                        toRelease.add(mine.get(i));
                    }
                }
            }
        }
        if (!toClaim.isEmpty()) {
            Map<TopicPartition, Long> got = node.claim(toClaim);
            if (!got.isEmpty()) {
                log.info("broker {} claimed {}", self.id(), got);
            }
        }
        if (!toRelease.isEmpty()) {
            Set<TopicPartition> released = node.release(toRelease, releaseTimeout);
            log.info("broker {} released {} for brokers with fewer partitions", self.id(), released);
        }
    }

    private static int countIn(List<TopicPartition> tps, String topic) {
        int n = 0;
        for (TopicPartition tp : tps) {
            if (tp.topic().equals(topic)) {
                n++;
            }
        }
        return n;
    }

    /** Every live broker's share of a topic of {@code n} partitions (see the class comment). */
    static Map<Integer, Integer> shares(String topic, int n, List<Integer> liveSorted) {
        Map<Integer, Integer> share = new HashMap<>();
        int k = liveSorted.size();
        if (k == 0) {
            return share;
        }
        int rot = Math.floorMod(topic.hashCode(), k);
        for (int i = 0; i < k; i++) {
            int id = liveSorted.get((rot + i) % k);
            share.put(id, n / k + (i < n % k ? 1 : 0));
        }
        return share;
    }

    /** Stops the policy's rounds (claims nothing more; releases nothing). */
    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
        try {
            timer.awaitTermination(35, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
