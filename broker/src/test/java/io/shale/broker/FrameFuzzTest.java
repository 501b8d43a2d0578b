package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.requests.ResponseHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes the frame decoder and request parsing with seeded random and mutated frames: every frame
 * that holds a request header's fixed start (API key, version, correlation id) is answered with its
 * correlation id, in order, with a response that parses; the connection stays usable (a well-formed
 * request after the fuzzed ones is answered on it, and on a fresh one). Every wait is bounded (the
 * socket read timeout), so a missing answer fails the test instead of hanging it.
 */
class FrameFuzzTest {
    private static final long SEED = 20261207L;
    private static final int CASES = 4000;
    private static final int FRAMES_PER_CONNECTION = 40;
    private static final int PROBE_BASE = 1_000_000_000;

    /** Served APIs whose requests are quick and harmless whatever their field values (no long polls, no topic creation). */
    private static final List<ApiKeys> SAFE = List.of(ApiKeys.API_VERSIONS, ApiKeys.METADATA, ApiKeys.LIST_OFFSETS,
            ApiKeys.PRODUCE, ApiKeys.DESCRIBE_CLUSTER, ApiKeys.DESCRIBE_CONFIGS, ApiKeys.FIND_COORDINATOR,
            ApiKeys.OFFSET_FETCH, ApiKeys.LIST_GROUPS, ApiKeys.DESCRIBE_GROUPS, ApiKeys.OFFSET_FOR_LEADER_EPOCH,
            ApiKeys.CONSUMER_GROUP_HEARTBEAT, ApiKeys.CONSUMER_GROUP_DESCRIBE);
    /** APIs kafka-clients knows that this broker does not serve: answered without being run. */
    private static final List<ApiKeys> UNSERVED = List.of(ApiKeys.SASL_HANDSHAKE, ApiKeys.ELECT_LEADERS,
            ApiKeys.ALTER_CONFIGS, ApiKeys.DESCRIBE_ACLS, ApiKeys.ADD_PARTITIONS_TO_TXN, ApiKeys.INIT_PRODUCER_ID,
            ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS, ApiKeys.DESCRIBE_LOG_DIRS);

    @TempDir
    Path dir;
    BrokerFixture fx;

    @BeforeEach
    void start() {
        fx = new BrokerFixture(dir);
        fx.store.createTopic("fuzz", 2);
    }

    @AfterEach
    void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    /** One generated frame (size prefix included) and what the broker must do with it. */
    private record Case(byte[] frame, int correlationId, boolean mustAnswer) {
    }

    @Test
    void randomAndMutatedFramesAreAllAnsweredAndNeverBreakTheConnection() throws Exception {
        Random random = new Random(SEED);
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < CASES; i++) {
            cases.add(generate(random, i));
        }
        int answered = 0;
        int alone = 0;
        List<Case> batch = new ArrayList<>();
        for (Case c : cases) {
            if (!c.mustAnswer()) {
                runAlone(c);
                alone++;
                continue;
            }
            batch.add(c);
            if (batch.size() == FRAMES_PER_CONNECTION) {
                answered += runBatch(batch);
                batch.clear();
            }
        }
        answered += runBatch(batch);
        System.out.printf("%d fuzzed frames: %d answered on shared connections, %d alone (too short, or acks=0 produce)%n",
                CASES, answered, alone);
        assertThat(answered + alone).isEqualTo(CASES);
        assertThat(answered).as("most cases hold a header start and must be answered").isGreaterThan(CASES * 3 / 4);
        probeOnFreshConnection(-1);
    }

    /** Sends the frames and a probe on one connection; each frame's answer comes, in order, then the probe's. */
    private int runBatch(List<Case> batch) throws IOException {
        if (batch.isEmpty()) {
            return 0;
        }
        int probeId = PROBE_BASE + batch.get(0).correlationId();
        try (Socket s = connect()) {
            OutputStream out = s.getOutputStream();
            // write from another thread: a large batch must not deadlock against unread responses
            Thread writer = new Thread(() -> {
                try {
                    for (Case c : batch) {
                        out.write(c.frame());
                    }
                    out.write(apiVersionsFrame(probeId));
                    out.flush();
                } catch (IOException e) {
                    // the reader reports what is missing
                }
            }, "fuzz-writer");
            writer.setDaemon(true);
            writer.start();
            for (Case c : batch) {
                ByteBuffer r = readFrame(s);
                assertThat(r).as("answer to case %s (frame %s)", c.correlationId(), hex(c.frame())).isNotNull();
                assertThat(r.getInt(0)).as("correlation id of the answer to case %s (frame %s)", c.correlationId(),
                        hex(c.frame())).isEqualTo(c.correlationId());
                assertParses(r, c);
            }
            ByteBuffer probe = readFrame(s);
            assertThat(probe).as("probe after the batch").isNotNull();
            assertThat(probe.getInt(0)).isEqualTo(probeId);
        }
        return batch.size();
    }

    /** A frame the broker may close on (too short for a header, or an acks=0 produce): then a fresh connection works. */
    private void runAlone(Case c) throws IOException {
        try (Socket s = connect()) {
            s.getOutputStream().write(c.frame());
            s.getOutputStream().write(apiVersionsFrame(PROBE_BASE + c.correlationId()));
            s.getOutputStream().flush();
            while (true) {
                ByteBuffer r = readFrame(s);
                if (r == null || r.getInt(0) == PROBE_BASE + c.correlationId()) {
                    break; // closed, or still serving
                }
                assertThat(r.getInt(0)).isEqualTo(c.correlationId());
            }
        }
        probeOnFreshConnection(c.correlationId());
    }

    private void probeOnFreshConnection(int after) throws IOException {
        try (Socket s = connect()) {
            s.getOutputStream().write(apiVersionsFrame(PROBE_BASE - 1));
            s.getOutputStream().flush();
            ByteBuffer r = readFrame(s);
            assertThat(r).as("a fresh connection after case %s", after).isNotNull();
            assertThat(r.getInt(0)).isEqualTo(PROBE_BASE - 1);
        }
    }

    /** The answer is a response of the request's API and version, or Kafka's ApiVersions v0 fallback. */
    private static void assertParses(ByteBuffer r, Case c) {
        ByteBuffer f = ByteBuffer.wrap(c.frame());
        short key = f.getShort(4);
        short version = f.getShort(6);
        boolean known = ApiKeys.hasId(key) && ApiKeys.forId(key).isVersionSupported(version)
                && ApiKeys.forId(key) != ApiKeys.DESCRIBE_ACLS;
        ApiKeys k = known ? ApiKeys.forId(key) : ApiKeys.API_VERSIONS;
        short v = known ? version : 0;
        ByteBuffer b = r.duplicate();
        try {
            ResponseHeader.parse(b, k.responseHeaderVersion(v));
            AbstractResponse.parseResponse(k, new org.apache.kafka.common.protocol.ByteBufferAccessor(b), v);
        } catch (RuntimeException e) {
            throw new AssertionError("the answer to case " + c.correlationId() + " (" + k + " v" + v + ", frame "
                    + hex(c.frame()) + ") does not parse: " + e + "; answer " + hex(r.array()), e);
        }
    }

    // ---------------------------------------------------------------- generation

    private Case generate(Random random, int id) {
        int kind = random.nextInt(10);
        byte[] payload; // the frame without its size prefix
        if (kind < 2) {
            payload = new byte[random.nextInt(200)];
            random.nextBytes(payload);
        } else if (kind < 4) {
            // a header of a known API (served or not) at any version, with a random body
            ApiKeys key = random.nextBoolean() ? SAFE.get(random.nextInt(SAFE.size()))
                    : UNSERVED.get(random.nextInt(UNSERVED.size()));
            short v = (short) (random.nextInt(key.latestVersion() + 3) - 1);
            short hv = key.isVersionSupported(v) ? key.requestHeaderVersion(v) : 1;
            ByteBuffer h = MessageUtil.toByteBufferAccessor(new RequestHeaderData().setRequestApiKey(key.id)
                    .setRequestApiVersion(v).setClientId("fuzz").setCorrelationId(id), hv).buffer();
            byte[] body = new byte[random.nextInt(150)];
            random.nextBytes(body);
            payload = ByteBuffer.allocate(h.remaining() + body.length).put(h).put(body).array();
        } else {
            payload = mutate(random, validRequest(random, id));
        }
        if (payload.length >= 8) {
            ByteBuffer.wrap(payload).putInt(4, id);
        }
        byte[] frame = ByteBuffer.allocate(4 + payload.length).putInt(payload.length).put(payload).array();
        boolean mustAnswer = payload.length >= 8 && !(ByteBuffer.wrap(payload).getShort(0) == ApiKeys.PRODUCE.id
                && mayBeAcksZero(payload));
        return new Case(frame, id, mustAnswer);
    }

    /**
     * A produce frame whose header parses and whose acks field (after the transactional id) reads 0:
     * the client expects no answer, so the broker may close (as Kafka does when an acks=0 produce fails).
     */
    private static boolean mayBeAcksZero(byte[] payload) {
        try {
            ByteBuffer b = ByteBuffer.wrap(payload);
            org.apache.kafka.common.requests.RequestHeader h = org.apache.kafka.common.requests.RequestHeader.parse(b);
            org.apache.kafka.common.protocol.ByteBufferAccessor a = new org.apache.kafka.common.protocol.ByteBufferAccessor(b);
            int idLength = h.apiVersion() >= 9 ? a.readUnsignedVarint() - 1 : a.readShort();
            if (idLength > 0) {
                a.readArray(idLength);
            }
            return a.readShort() == 0;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static byte[] mutate(Random random, byte[] p) {
        switch (random.nextInt(6)) {
            case 0: { // flip a few bytes after the header start
                byte[] m = p.clone();
                for (int n = 1 + random.nextInt(6); n > 0 && m.length > 8; n--) {
                    m[8 + random.nextInt(m.length - 8)] = (byte) random.nextInt(256);
                }
                return m;
            }
            case 1: // cut short
                return java.util.Arrays.copyOf(p, random.nextInt(p.length + 1));
            case 2: { // extra bytes at the end
                byte[] extra = new byte[1 + random.nextInt(40)];
                random.nextBytes(extra);
                return ByteBuffer.allocate(p.length + extra.length).put(p).put(extra).array();
            }
            case 3: { // a bad version
                byte[] m = p.clone();
                ByteBuffer.wrap(m).putShort(2, (short) (random.nextBoolean() ? -1 - random.nextInt(5) : 20 + random.nextInt(100)));
                return m;
            }
            case 4: { // an unknown API key
                byte[] m = p.clone();
                ByteBuffer.wrap(m).putShort(0, (short) (100 + random.nextInt(20000)));
                return m;
            }
            default: { // an array or string length turned huge or negative
                byte[] m = p.clone();
                if (m.length > 12) {
                    int at = 8 + random.nextInt(m.length - 11);
                    ByteBuffer.wrap(m).putShort(at, random.nextBoolean() ? (short) 0x7fff : (short) -2);
                }
                return m;
            }
        }
    }

    /** A well-formed request of a safe API at a random version it serves. */
    private static byte[] validRequest(Random random, int id) {
        ApiKeys key = SAFE.get(random.nextInt(SAFE.size()));
        short[] range = KafkaApis.SUPPORTED.get(key);
        short v = (short) (range[0] + random.nextInt(range[1] - range[0] + 1));
        ApiMessage body;
        switch (key) {
            case METADATA:
                body = new MetadataRequestData().setTopics(List.of(new MetadataRequestData.MetadataRequestTopic()
                        .setName("fuzz")));
                break;
            case LIST_OFFSETS: {
                ListOffsetsRequestData d = new ListOffsetsRequestData().setReplicaId(-1);
                ListOffsetsRequestData.ListOffsetsTopic t = new ListOffsetsRequestData.ListOffsetsTopic().setName("fuzz");
                t.partitions().add(new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0).setTimestamp(-1));
                d.topics().add(t);
                body = d;
                break;
            }
            case PRODUCE: {
                v = (short) Math.min(v, 12); // v13 names topics by id
                ProduceRequestData d = new ProduceRequestData().setAcks((short) 1).setTimeoutMs(5000);
                ProduceRequestData.TopicProduceData t = new ProduceRequestData.TopicProduceData().setName("fuzz");
                t.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(random.nextInt(2))
                        .setRecords(MemoryRecords.withRecords(Compression.NONE,
                                new SimpleRecord(("v" + id).getBytes(StandardCharsets.UTF_8)))));
                d.topicData().add(t);
                body = d;
                break;
            }
            case DESCRIBE_CLUSTER:
                body = new DescribeClusterRequestData();
                break;
            case DESCRIBE_CONFIGS: {
                DescribeConfigsRequestData d = new DescribeConfigsRequestData();
                d.resources().add(new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType((byte) 2)
                        .setResourceName("fuzz"));
                body = d;
                break;
            }
            case FIND_COORDINATOR:
                body = v >= 4 ? new FindCoordinatorRequestData().setCoordinatorKeys(List.of("g"))
                        : new FindCoordinatorRequestData().setKey("g");
                break;
            case OFFSET_FETCH:
                body = v >= 8 ? new OffsetFetchRequestData().setGroups(List.of(
                        new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId("g")))
                        : new OffsetFetchRequestData().setGroupId("g");
                break;
            case LIST_GROUPS:
                body = new ListGroupsRequestData();
                break;
            case DESCRIBE_GROUPS:
                body = new DescribeGroupsRequestData().setGroups(List.of("g"));
                break;
            case OFFSET_FOR_LEADER_EPOCH: {
                OffsetForLeaderEpochRequestData d = new OffsetForLeaderEpochRequestData().setReplicaId(-1);
                OffsetForLeaderEpochRequestData.OffsetForLeaderTopic t = new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic()
                        .setTopic("fuzz");
                t.partitions().add(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(0)
                        .setLeaderEpoch(random.nextInt(5)));
                d.topics().add(t);
                body = d;
                break;
            }
            default:
                body = new ApiVersionsRequestData().setClientSoftwareName("fuzz").setClientSoftwareVersion("1");
        }
        RequestHeaderData h = new RequestHeaderData().setRequestApiKey(key.id).setRequestApiVersion(v)
                .setClientId("fuzz").setCorrelationId(id);
        ByteBuffer b = RequestUtils.serialize(h, key.requestHeaderVersion(v), body, v);
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    // ---------------------------------------------------------------- wire

    private Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", fx.broker.port());
        s.setSoTimeout(10_000);
        return s;
    }

    private static byte[] apiVersionsFrame(int correlationId) {
        RequestHeaderData h = new RequestHeaderData().setRequestApiKey(ApiKeys.API_VERSIONS.id).setRequestApiVersion((short) 3)
                .setClientId("probe").setCorrelationId(correlationId);
        ByteBuffer b = RequestUtils.serialize(h, ApiKeys.API_VERSIONS.requestHeaderVersion((short) 3),
                new ApiVersionsRequestData().setClientSoftwareName("probe").setClientSoftwareVersion("1"), (short) 3);
        return ByteBuffer.allocate(4 + b.remaining()).putInt(b.remaining()).put(b).array();
    }

    /** The next response frame, or null if the broker closed the connection (a read timeout fails the test). */
    private static ByteBuffer readFrame(Socket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        try {
            byte[] b = new byte[in.readInt()];
            in.readFully(b);
            return ByteBuffer.wrap(b);
        } catch (EOFException | SocketException e) {
            return null;
        }
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(b.length, 64); i++) {
            sb.append(String.format("%02x", b[i]));
        }
        return sb.append(b.length > 64 ? "..." : "").toString();
    }
}
