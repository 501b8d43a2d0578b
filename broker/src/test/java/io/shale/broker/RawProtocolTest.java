package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.requests.ResponseHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Requests written by hand on a socket: versions, pipelining, malformed and oversized frames. */
class RawProtocolTest {
    @TempDir
    Path dir;
    BrokerFixture fx;

    @BeforeEach
    void start() {
        fx = new BrokerFixture(dir);
    }

    @AfterEach
    void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    private Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", fx.broker.port());
        s.setSoTimeout(10_000);
        return s;
    }

    private static byte[] frame(ApiKeys key, short version, int correlationId, ApiMessage body) {
        return frame(key.id, version, key.requestHeaderVersion(version), correlationId, body, version);
    }

    /** A frame whose header says {@code version} while the body is written at {@code bodyVersion}. */
    private static byte[] frame(short apiKey, short version, short headerVersion, int correlationId, ApiMessage body,
            short bodyVersion) {
        RequestHeaderData h = new RequestHeaderData().setRequestApiKey(apiKey).setRequestApiVersion(version)
                .setClientId("raw-test").setCorrelationId(correlationId);
        ByteBuffer b = RequestUtils.serialize(h, headerVersion, body, bodyVersion);
        ByteBuffer out = ByteBuffer.allocate(4 + b.remaining());
        out.putInt(b.remaining()).put(b).flip();
        return out.array();
    }

    private static ApiVersionsRequestData apiVersionsBody() {
        return new ApiVersionsRequestData().setClientSoftwareName("raw-test").setClientSoftwareVersion("1.0");
    }

    /** The next response frame, or null if the broker closed the connection. */
    private static ByteBuffer readFrame(Socket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        try {
            int size = in.readInt();
            byte[] b = new byte[size];
            in.readFully(b);
            return ByteBuffer.wrap(b);
        } catch (EOFException | SocketException e) {
            return null;
        }
    }

    private static void send(Socket s, byte[]... frames) throws IOException {
        OutputStream out = s.getOutputStream();
        for (byte[] f : frames) {
            out.write(f);
        }
        out.flush();
    }

    @Test
    void apiVersionsIsAnsweredAtEveryVersionItServes() throws IOException {
        for (short v = ApiKeys.API_VERSIONS.oldestVersion(); v <= ApiKeys.API_VERSIONS.latestVersion(); v++) {
            try (Socket s = connect()) {
                send(s, frame(ApiKeys.API_VERSIONS, v, 42, apiVersionsBody()));
                ByteBuffer r = readFrame(s);
                assertThat(r).as("response at v%d", v).isNotNull();
                assertThat(ResponseHeader.parse(r, ApiKeys.API_VERSIONS.responseHeaderVersion(v)).correlationId()).isEqualTo(42);
                ApiVersionsResponseData d = new ApiVersionsResponseData(new ByteBufferAccessor(r), v);
                assertThat(Errors.forCode(d.errorCode())).isEqualTo(Errors.NONE);
                assertThat(d.apiKeys().find(ApiKeys.PRODUCE.id)).isNotNull();
                assertThat(d.apiKeys().find(ApiKeys.FETCH.id).maxVersion()).isEqualTo(ApiKeys.FETCH.latestVersion());
                assertThat(d.apiKeys().find(ApiKeys.JOIN_GROUP.id).maxVersion()).isEqualTo(ApiKeys.JOIN_GROUP.latestVersion());
                assertThat(d.apiKeys().find(ApiKeys.OFFSET_COMMIT.id).maxVersion()).as("v10 names topics by id only")
                        .isEqualTo((short) 9);
                assertThat(d.apiKeys().find(ApiKeys.CONSUMER_GROUP_HEARTBEAT.id).maxVersion()).as("KIP-848 groups")
                        .isEqualTo(ApiKeys.CONSUMER_GROUP_HEARTBEAT.latestVersion());
                assertThat(d.apiKeys().find(ApiKeys.CONSUMER_GROUP_DESCRIBE.id).maxVersion())
                        .isEqualTo(ApiKeys.CONSUMER_GROUP_DESCRIBE.latestVersion());
            }
        }
    }

    @Test
    void anApiVersionsRequestOfAnUnknownVersionGetsTheVersionZeroFallback() throws IOException {
        try (Socket s = connect()) {
            // a client newer than this broker: header v2, version 99
            send(s, frame(ApiKeys.API_VERSIONS.id, (short) 99, (short) 2, 7, apiVersionsBody(), (short) 3));
            ByteBuffer r = readFrame(s);
            assertThat(r).isNotNull();
            assertThat(ResponseHeader.parse(r, (short) 0).correlationId()).isEqualTo(7);
            ApiVersionsResponseData d = new ApiVersionsResponseData(new ByteBufferAccessor(r), (short) 0);
            assertThat(Errors.forCode(d.errorCode())).isEqualTo(Errors.UNSUPPORTED_VERSION);
            assertThat(d.apiKeys().find(ApiKeys.API_VERSIONS.id).maxVersion()).isEqualTo(ApiKeys.API_VERSIONS.latestVersion());
            // the connection stays usable: the client retries at a version it now knows
            send(s, frame(ApiKeys.API_VERSIONS, (short) 3, 8, apiVersionsBody()));
            ByteBuffer again = readFrame(s);
            assertThat(ResponseHeader.parse(again, (short) 0).correlationId()).isEqualTo(8);
        }
    }

    @Test
    void aServedApiAtAVersionNotServedGetsUnsupportedVersion() throws IOException {
        // ListOffsets is served up to v6; kafka-clients knows later versions
        short v = (short) (KafkaApis.SUPPORTED.get(ApiKeys.LIST_OFFSETS)[1] + 1);
        org.apache.kafka.common.message.ListOffsetsRequestData body = new org.apache.kafka.common.message.ListOffsetsRequestData()
                .setReplicaId(-1);
        body.topics().add(new org.apache.kafka.common.message.ListOffsetsRequestData.ListOffsetsTopic().setName("t")
                .setPartitions(List.of(new org.apache.kafka.common.message.ListOffsetsRequestData.ListOffsetsPartition()
                        .setPartitionIndex(0).setTimestamp(-3))));
        try (Socket s = connect()) {
            send(s, frame(ApiKeys.LIST_OFFSETS, v, 5, body));
            ByteBuffer r = readFrame(s);
            assertThat(r).isNotNull();
            assertThat(ResponseHeader.parse(r, ApiKeys.LIST_OFFSETS.responseHeaderVersion(v)).correlationId()).isEqualTo(5);
            org.apache.kafka.common.message.ListOffsetsResponseData d =
                    new org.apache.kafka.common.message.ListOffsetsResponseData(new ByteBufferAccessor(r), v);
            assertThat(Errors.forCode(d.topics().get(0).partitions().get(0).errorCode())).isEqualTo(Errors.UNSUPPORTED_VERSION);
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws IOException {
        try (Socket s = connect()) {
            byte[][] frames = new byte[40][];
            for (int i = 0; i < frames.length; i++) {
                frames[i] = i % 2 == 0 ? frame(ApiKeys.API_VERSIONS, (short) 3, i, apiVersionsBody())
                        : frame(ApiKeys.METADATA, (short) 12, i, new MetadataRequestData().setTopics(null));
            }
            send(s, frames);
            for (int i = 0; i < frames.length; i++) {
                ByteBuffer r = readFrame(s);
                assertThat(r).isNotNull();
                short hv = i % 2 == 0 ? (short) 0 : ApiKeys.METADATA.responseHeaderVersion((short) 12);
                assertThat(ResponseHeader.parse(r, hv).correlationId()).isEqualTo(i);
                if (i % 2 == 1) {
                    MetadataResponseData md = new MetadataResponseData(new ByteBufferAccessor(r), (short) 12);
                    assertThat(md.brokers().find(fx.broker.nodeId()).port()).isEqualTo(fx.broker.port());
                }
            }
        }
    }

    @Test
    void malformedAndOversizedFramesAreAnsweredAndTheConnectionStaysUsable() throws Exception {
        try (Socket s = connect()) {
            // an unknown API key: Kafka's ApiVersions fallback (header v0, v0 body, UNSUPPORTED_VERSION)
            send(s, new byte[] {0, 0, 0, 10, 0x7f, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0});
            ByteBuffer r = readFrame(s);
            assertThat(r).isNotNull();
            assertThat(ResponseHeader.parse(r, (short) 0).correlationId()).isEqualTo(1);
            ApiVersionsResponseData av = new ApiVersionsResponseData(new ByteBufferAccessor(r), (short) 0);
            assertThat(Errors.forCode(av.errorCode())).isEqualTo(Errors.UNSUPPORTED_VERSION);
            assertThat(av.apiKeys().find(ApiKeys.PRODUCE.id)).isNotNull();

            // a Metadata v12 request cut short inside its body: Metadata's own (empty) error response
            byte[] md = frame(ApiKeys.METADATA, (short) 12, 2, new MetadataRequestData().setTopics(null));
            byte[] cut = java.util.Arrays.copyOf(md, md.length - 3);
            ByteBuffer.wrap(cut).putInt(0, cut.length - 4);
            send(s, cut);
            r = readFrame(s);
            assertThat(r).isNotNull();
            assertThat(ResponseHeader.parse(r, ApiKeys.METADATA.responseHeaderVersion((short) 12)).correlationId()).isEqualTo(2);
            new MetadataResponseData(new ByteBufferAccessor(r), (short) 12);

            // a produce request over the broker's limit (1 MiB here): MESSAGE_TOO_LARGE, its bytes skipped unread
            byte[] big = new byte[(1 << 20) + 100];
            new Random(7).nextBytes(big);
            ProduceRequestData pr = new ProduceRequestData().setAcks((short) 1).setTimeoutMs(1000);
            ProduceRequestData.TopicProduceData td = new ProduceRequestData.TopicProduceData().setName("big");
            td.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0)
                    .setRecords(MemoryRecords.readableRecords(ByteBuffer.wrap(big))));
            pr.topicData().add(td);
            send(s, frame(ApiKeys.PRODUCE, (short) 9, 3, pr));
            r = readFrame(s);
            assertThat(r).isNotNull();
            assertThat(ResponseHeader.parse(r, ApiKeys.PRODUCE.responseHeaderVersion((short) 9)).correlationId()).isEqualTo(3);
            ProduceResponseData.PartitionProduceResponse tooLarge = new ProduceResponseData(new ByteBufferAccessor(r), (short) 9)
                    .responses().iterator().next().partitionResponses().get(0);
            assertThat(tooLarge.index()).isZero();
            assertThat(Errors.forCode(tooLarge.errorCode())).isEqualTo(Errors.MESSAGE_TOO_LARGE);

            // a request header that does not parse (client id longer than the frame): INVALID_REQUEST from Metadata
            send(s, new byte[] {0, 0, 0, 12, 0, 3, 0, 9, 0, 0, 0, 4, 0x7f, 0x7f, 0, 0});
            r = readFrame(s);
            assertThat(r).isNotNull();
            assertThat(ResponseHeader.parse(r, ApiKeys.METADATA.responseHeaderVersion((short) 9)).correlationId()).isEqualTo(4);

            // and the same connection still serves well-formed requests
            send(s, frame(ApiKeys.API_VERSIONS, (short) 3, 99, apiVersionsBody()));
            assertThat(ResponseHeader.parse(readFrame(s), (short) 0).correlationId()).isEqualTo(99);
        }
        // only frames too short for the header's fixed start (or of negative size) close the connection
        assertClosed(new byte[] {0, 0, 0, 2, 0, 3});
        assertClosed(new byte[] {0, 0, 0, 0});
        assertClosed(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xf0});
        assertRealClientsStillWork();
    }

    /** Sends one Produce v9 request for partition 0 of {@code topic} and returns the partition's response. */
    private ProduceResponseData.PartitionProduceResponse produce(String topic, short acks, ByteBuffer records)
            throws IOException {
        short v = 9;
        ProduceRequestData req = new ProduceRequestData().setAcks(acks).setTimeoutMs(10_000);
        ProduceRequestData.TopicProduceData td = new ProduceRequestData.TopicProduceData().setName(topic);
        td.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0)
                .setRecords(MemoryRecords.readableRecords(records)));
        req.topicData().add(td);
        try (Socket s = connect()) {
            send(s, frame(ApiKeys.PRODUCE, v, 3, req));
            ByteBuffer r = readFrame(s);
            assertThat(r).isNotNull();
            assertThat(ResponseHeader.parse(r, ApiKeys.PRODUCE.responseHeaderVersion(v)).correlationId()).isEqualTo(3);
            return new ProduceResponseData(new ByteBufferAccessor(r), v).responses().iterator().next()
                    .partitionResponses().get(0);
        }
    }

    @Test
    void produceErrorsAreKafkasAndAppendNothing() throws Exception {
        fx.store.createTopic("p", 1);
        io.shale.log.TopicPartition tp = io.shale.log.TopicPartition.of("p", 0);
        SimpleRecord rec = new SimpleRecord(1000L, "k".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8));

        ProduceResponseData.PartitionProduceResponse ok = produce("p", (short) -1,
                MemoryRecords.withRecords(Compression.NONE, rec).buffer());
        assertThat(Errors.forCode(ok.errorCode())).isEqualTo(Errors.NONE);
        assertThat(ok.baseOffset()).isZero();

        // a transactional batch of a producer id no transactional id holds: refused saying so
        ProduceResponseData.PartitionProduceResponse txn = produce("p", (short) -1,
                MemoryRecords.withTransactionalRecords(Compression.NONE, 7L, (short) 0, 0, rec).buffer());
        assertThat(Errors.forCode(txn.errorCode())).isEqualTo(Errors.INVALID_PRODUCER_ID_MAPPING);
        assertThat(txn.errorMessage()).contains("transaction");

        // a control batch (a transaction marker) from a producer: Kafka's INVALID_RECORD
        ProduceResponseData.PartitionProduceResponse marker = produce("p", (short) -1,
                MemoryRecords.withEndTransactionMarker(1000L, 7L, (short) 0,
                        new org.apache.kafka.common.record.internal.EndTransactionMarker(
                                org.apache.kafka.common.record.internal.ControlRecordType.COMMIT, 0)).buffer());
        assertThat(Errors.forCode(marker.errorCode())).isEqualTo(Errors.INVALID_RECORD);

        // a batch whose CRC does not match
        ByteBuffer corrupt = MemoryRecords.withRecords(Compression.NONE, rec).buffer();
        corrupt.put(corrupt.limit() - 1, (byte) (corrupt.get(corrupt.limit() - 1) ^ 0x55));
        assertThat(Errors.forCode(produce("p", (short) 1, corrupt).errorCode())).isEqualTo(Errors.CORRUPT_MESSAGE);

        // acks other than -1, 0, 1; an unknown topic
        assertThat(Errors.forCode(produce("p", (short) 2, MemoryRecords.withRecords(Compression.NONE, rec).buffer()).errorCode()))
                .isEqualTo(Errors.INVALID_REQUIRED_ACKS);
        assertThat(Errors.forCode(produce("nope", (short) 1, MemoryRecords.withRecords(Compression.NONE, rec).buffer()).errorCode()))
                .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION);

        // a batch over the topic's max.message.bytes
        fx.store.alterTopicConfig("p", java.util.Map.of("max.message.bytes", "200"));
        SimpleRecord big = new SimpleRecord(1000L, null, new byte[500]);
        assertThat(Errors.forCode(produce("p", (short) 1, MemoryRecords.withRecords(Compression.NONE, big).buffer()).errorCode()))
                .isEqualTo(Errors.MESSAGE_TOO_LARGE);

        // acks=0 has no response: a failed one closes the connection, Kafka's way of telling the producer
        ProduceRequestData req = new ProduceRequestData().setAcks((short) 0).setTimeoutMs(10_000);
        ProduceRequestData.TopicProduceData td = new ProduceRequestData.TopicProduceData().setName("nope");
        td.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0)
                .setRecords(MemoryRecords.withRecords(Compression.NONE, rec)));
        req.topicData().add(td);
        assertClosed(frame(ApiKeys.PRODUCE, (short) 9, 4, req));

        assertThat(fx.store.highWatermark(tp)).as("only the first batch was appended").isEqualTo(1);
        assertThat(fx.store.listTopics()).containsExactly("p");
    }

    /** InitProducerId at {@code version}; returns the response. */
    private InitProducerIdResponseData initProducerId(short version, String transactionalId) throws IOException {
        InitProducerIdRequestData body = new InitProducerIdRequestData().setTransactionalId(transactionalId)
                .setTransactionTimeoutMs(60_000).setProducerId(-1).setProducerEpoch((short) -1);
        try (Socket s = connect()) {
            send(s, frame(ApiKeys.INIT_PRODUCER_ID, version, 11, body));
            ByteBuffer r = readFrame(s);
            assertThat(r).isNotNull();
            assertThat(ResponseHeader.parse(r, ApiKeys.INIT_PRODUCER_ID.responseHeaderVersion(version)).correlationId())
                    .isEqualTo(11);
            return new InitProducerIdResponseData(new ByteBufferAccessor(r), version);
        }
    }

    private static ByteBuffer idempotent(long pid, int epoch, int seq, String... values) {
        SimpleRecord[] recs = new SimpleRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            recs[i] = new SimpleRecord(1000L, null, values[i].getBytes(StandardCharsets.UTF_8));
        }
        return MemoryRecords.withIdempotentRecords(Compression.NONE, pid, (short) epoch, seq, recs).buffer();
    }

    @Test
    void initProducerIdHandsOutNewIdsAtEveryVersionAndBumpsTheEpochOfATransactionalId() throws Exception {
        short[] range = KafkaApis.SUPPORTED.get(ApiKeys.INIT_PRODUCER_ID);
        assertThat(range).as("served").isNotNull();
        assertThat(range[1]).isEqualTo(ApiKeys.INIT_PRODUCER_ID.latestVersion());
        java.util.Set<Long> ids = new java.util.HashSet<>();
        for (short v = range[0]; v <= range[1]; v++) {
            InitProducerIdResponseData r = initProducerId(v, null);
            assertThat(Errors.forCode(r.errorCode())).as("version %d", v).isEqualTo(Errors.NONE);
            assertThat(r.producerId()).isNotNegative();
            assertThat(r.producerEpoch()).isZero();
            assertThat(ids.add(r.producerId())).as("a new id each time").isTrue();
        }
        InitProducerIdResponseData tx = initProducerId(range[1], "my-transaction");
        assertThat(Errors.forCode(tx.errorCode())).isEqualTo(Errors.NONE);
        assertThat(tx.producerEpoch()).isZero();
        InitProducerIdResponseData again = initProducerId(range[1], "my-transaction");
        assertThat(again.producerId()).as("the same id").isEqualTo(tx.producerId());
        assertThat(again.producerEpoch()).as("a new epoch").isEqualTo((short) 1);
    }

    @Test
    void theSameIdempotentBatchSentTwiceGetsTheSameBaseOffsetAndIsStoredOnce() throws Exception {
        fx.store.createTopic("idem", 1);
        io.shale.log.TopicPartition tp = io.shale.log.TopicPartition.of("idem", 0);
        long pid = initProducerId(KafkaApis.SUPPORTED.get(ApiKeys.INIT_PRODUCER_ID)[1], null).producerId();
        SimpleRecord rec = new SimpleRecord(1000L, null, "plain".getBytes(StandardCharsets.UTF_8));
        assertThat(produce("idem", (short) -1, MemoryRecords.withRecords(Compression.NONE, rec).buffer()).baseOffset())
                .isZero();
        ProduceResponseData.PartitionProduceResponse first = produce("idem", (short) -1, idempotent(pid, 0, 0, "a", "b"));
        ProduceResponseData.PartitionProduceResponse again = produce("idem", (short) -1, idempotent(pid, 0, 0, "a", "b"));
        assertThat(Errors.forCode(first.errorCode())).isEqualTo(Errors.NONE);
        assertThat(Errors.forCode(again.errorCode())).as("a duplicate is not an error").isEqualTo(Errors.NONE);
        assertThat(again.baseOffset()).isEqualTo(first.baseOffset()).isEqualTo(1);
        assertThat(fx.store.highWatermark(tp)).isEqualTo(3);

        // a gap in sequences, and an epoch older than the newest: Kafka's errors, nothing appended
        ProduceResponseData.PartitionProduceResponse gap = produce("idem", (short) -1, idempotent(pid, 0, 5, "c"));
        assertThat(Errors.forCode(gap.errorCode())).isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
        assertThat(produce("idem", (short) -1, idempotent(pid, 1, 0, "c")).baseOffset()).isEqualTo(3);
        ProduceResponseData.PartitionProduceResponse old = produce("idem", (short) -1, idempotent(pid, 0, 2, "d"));
        assertThat(Errors.forCode(old.errorCode())).isEqualTo(Errors.INVALID_PRODUCER_EPOCH);
        assertThat(fx.store.highWatermark(tp)).isEqualTo(4);

        // after a restart on the same directory the last batch is still recognised
        fx.close();
        fx = new BrokerFixture(dir);
        ProduceResponseData.PartitionProduceResponse retried = produce("idem", (short) -1, idempotent(pid, 1, 0, "c"));
        assertThat(Errors.forCode(retried.errorCode())).isEqualTo(Errors.NONE);
        assertThat(retried.baseOffset()).as("the original offset").isEqualTo(3);
        assertThat(produce("idem", (short) -1, idempotent(pid, 1, 1, "e")).baseOffset()).isEqualTo(4);
        assertThat(fx.store.highWatermark(tp)).isEqualTo(5);
        assertThat(initProducerId(KafkaApis.SUPPORTED.get(ApiKeys.INIT_PRODUCER_ID)[1], null).producerId()).as("ids are not reused after a restart")
                .isGreaterThan(pid);
    }

    @Test
    void aProducerWhoseRequestIsOverTheLimitGetsRecordTooLargeAndGoesOn() throws Exception {
        fx.store.createTopic("large", 1);
        Properties extra = new Properties();
        extra.put("max.request.size", 8 << 20); // the client allows more than the broker (1 MiB here)
        extra.put("buffer.memory", 32 << 20);
        try (KafkaProducer<String, String> p = fx.producer("all", extra)) {
            String big = "x".repeat(2 << 20);
            Throwable failure = null;
            try {
                p.send(new ProducerRecord<>("large", 0, "k", big)).get(20, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                failure = e.getCause();
            }
            assertThat(failure).as("the broker's answer, not a timeout or a disconnect")
                    .isInstanceOf(org.apache.kafka.common.errors.RecordTooLargeException.class);
            // the same producer (and connection) goes on
            assertThat(p.send(new ProducerRecord<>("large", 0, "k", "small")).get(20, TimeUnit.SECONDS).offset()).isZero();
        }
        assertThat(fx.store.highWatermark(io.shale.log.TopicPartition.of("large", 0))).isEqualTo(1);
    }

    private void assertClosed(byte[] bytes) throws IOException {
        try (Socket s = connect()) {
            send(s, bytes);
            assertThat(readFrame(s)).as("the broker closes the connection without an answer").isNull();
        }
    }

    private void assertRealClientsStillWork() throws Exception {
        try (var admin = fx.admin()) {
            admin.createTopics(List.of(new NewTopic("after-bad-input", 1, (short) 1))).all().get(20, TimeUnit.SECONDS);
        }
        try (KafkaProducer<String, String> p = fx.producer("all", new Properties())) {
            assertThat(p.send(new ProducerRecord<>("after-bad-input", "k", "v")).get(20, TimeUnit.SECONDS).offset()).isZero();
        }
    }
}
