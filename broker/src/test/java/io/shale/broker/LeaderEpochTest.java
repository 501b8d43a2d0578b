package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.LogStore;
import io.shale.storage.local.LocalStorage;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.requests.ResponseHeader;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Leader epochs across restarts: each reopen of the store is a new writer epoch, so a new leader
 * epoch; batches carry the epoch they were written under; OffsetForLeaderEpoch finds where each
 * epoch ended; a consumer that read under the old epoch validates its position against the new
 * leader and goes on without loss or duplicates.
 */
class LeaderEpochTest {
    private static final String TOPIC = "epochs";
    private static final String CLUSTER = "leader-epoch-test-cluster";

    @TempDir
    Path dir;
    private LogStore store;
    private ShaleBroker broker;
    private int port;

    private void start() {
        store = LocalStorage.open(dir);
        broker = ShaleBroker.builder(store).listen("127.0.0.1", port).clusterId(CLUSTER).start();
        port = broker.port();
    }

    private void stop() {
        if (broker != null) {
            broker.close();
            broker = null;
        }
        if (store != null) {
            store.close();
            store = null;
        }
    }

    @AfterEach
    void tearDown() {
        stop();
    }

    private void produce(int from, int count) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int i = from; i < from + count; i++) {
                producer.send(new ProducerRecord<>(TOPIC, 0, "k" + i, "v" + i)).get(20, TimeUnit.SECONDS);
            }
        }
    }

    private KafkaConsumer<String, String> consumer(Properties extra) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 200);
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        p.putAll(extra);
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    private static List<ConsumerRecord<String, String>> poll(KafkaConsumer<String, String> c, int count) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (out.size() < count && System.nanoTime() < deadline) {
            c.poll(Duration.ofMillis(200)).forEach(out::add);
        }
        // anything beyond what was expected (duplicates) shows in one more short poll
        c.poll(Duration.ofMillis(300)).forEach(out::add);
        return out;
    }

    private static List<String> values(List<ConsumerRecord<String, String>> records) {
        return records.stream().map(ConsumerRecord::value).toList();
    }

    private static List<String> range(int from, int to) {
        List<String> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add("v" + i);
        }
        return out;
    }

    @Test
    void everyReopenIsANewEpochAndOffsetForLeaderEpochFindsWhereEachEnded() throws Exception {
        start();
        store.createTopic(TOPIC, 1);
        int e1 = store.leaderEpoch();
        assertThat(metadataEpoch()).isEqualTo(e1);
        produce(0, 5);

        TopicPartition tp = new TopicPartition(TOPIC, 0);
        Properties cp = new Properties();
        cp.put("metadata.max.age.ms", 500);
        cp.put("reconnect.backoff.max.ms", 200);
        try (KafkaConsumer<String, String> consumer = consumer(cp)) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            List<ConsumerRecord<String, String>> first = poll(consumer, 5);
            assertThat(values(first)).isEqualTo(range(0, 5));
            assertThat(first).allSatisfy(r -> assertThat(r.leaderEpoch()).isEqualTo(Optional.of(e1)));

            // restart on the same port: a new writer epoch
            stop();
            start();
            int e2 = store.leaderEpoch();
            assertThat(e2).isGreaterThan(e1);
            assertThat(metadataEpoch()).isEqualTo(e2);
            produce(5, 3);

            // the consumer, positioned at 5 with epoch e1, validates against the new leader and goes on
            List<ConsumerRecord<String, String>> second = poll(consumer, 3);
            assertThat(values(second)).isEqualTo(range(5, 8));
            assertThat(second).allSatisfy(r -> assertThat(r.leaderEpoch()).isEqualTo(Optional.of(e2)));

            stop();
            start();
            int e3 = store.leaderEpoch();
            assertThat(e3).isGreaterThan(e2);
            produce(8, 2);
            List<ConsumerRecord<String, String>> third = poll(consumer, 2);
            assertThat(values(third)).isEqualTo(range(8, 10));

            assertThat(epochEnd(e3, e1)).isEqualTo(new long[] {e1, 5});
            assertThat(epochEnd(e3, e2)).isEqualTo(new long[] {e2, 8});
            assertThat(epochEnd(-1, e3)).isEqualTo(new long[] {e3, 10});
            assertThat(epochEnd(e3, e3 + 1)).isEqualTo(new long[] {-1, -1});
            assertThat(epochEnd(e3, -1)).isEqualTo(new long[] {-1, -1});
            if (e1 > 0) { // an epoch older than anything in the log: Kafka answers it with the start of the next
                assertThat(epochEnd(e3, e1 - 1)).isEqualTo(new long[] {e1 - 1, 0});
            }
            if (e2 > e1 + 1) { // an epoch between two writers': ends where the next began, reported as the older one
                assertThat(epochEnd(e3, e1 + 1)).isEqualTo(new long[] {e1, 5});
            }
            assertThat(epochEndError(e2)).isEqualTo(Errors.FENCED_LEADER_EPOCH);
            assertThat(epochEndError(e3 + 1)).isEqualTo(Errors.UNKNOWN_LEADER_EPOCH);
            assertThat(fetchError(e1)).isEqualTo(Errors.FENCED_LEADER_EPOCH);
            assertThat(fetchError(e3 + 1)).isEqualTo(Errors.UNKNOWN_LEADER_EPOCH);
            assertThat(fetchError(e3)).isEqualTo(Errors.NONE);
            assertThat(listOffsetsError(e2)).isEqualTo(Errors.FENCED_LEADER_EPOCH);
            assertThat(listOffsetsError(e3 + 1)).isEqualTo(Errors.UNKNOWN_LEADER_EPOCH);
            assertThat(listOffsets(e3, -2)).isEqualTo(new long[] {0, e1});
            assertThat(listOffsets(-1, -1)).isEqualTo(new long[] {10, e3});
            for (short v = 1; v < 4; v++) { // before version 4 a ListOffsets answer has no leader epoch
                ListOffsetsResponseData.ListOffsetsPartitionResponse old = listOffsetsRaw(-1, -2, v);
                assertThat(Errors.forCode(old.errorCode())).as("ListOffsets v%s", v).isEqualTo(Errors.NONE);
                assertThat(old.offset()).isZero();
            }
        }

        // a fresh consumer reads everything, each record with the epoch it was written under
        try (KafkaConsumer<String, String> fresh = consumer(new Properties())) {
            List<ConsumerRecord<String, String>> all = BrokerFixture.consumeAll(fresh, List.of(tp), 10);
            assertThat(values(all)).isEqualTo(range(0, 10));
            assertThat(all.stream().map(r -> r.leaderEpoch().orElseThrow()).distinct().count()).isEqualTo(3);
        }
    }

    // ---------------------------------------------------------------- raw protocol

    private ByteBuffer call(ApiKeys key, short version, ApiMessage body) throws Exception {
        RequestHeaderData h = new RequestHeaderData().setRequestApiKey(key.id).setRequestApiVersion(version)
                .setClientId("epoch-test").setCorrelationId(7);
        ByteBuffer b = RequestUtils.serialize(h, key.requestHeaderVersion(version), body, version);
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(b.remaining());
            out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
            out.flush();
            DataInputStream in = new DataInputStream(s.getInputStream());
            byte[] frame = new byte[in.readInt()];
            in.readFully(frame);
            ByteBuffer resp = ByteBuffer.wrap(frame);
            assertThat(ResponseHeader.parse(resp, key.responseHeaderVersion(version)).correlationId()).isEqualTo(7);
            return resp;
        }
    }

    private int metadataEpoch() throws Exception {
        short v = ApiKeys.METADATA.latestVersion();
        MetadataRequestData req = new MetadataRequestData().setTopics(List.of(
                new MetadataRequestData.MetadataRequestTopic().setName(TOPIC)));
        MetadataResponseData resp = new MetadataResponseData(new ByteBufferAccessor(call(ApiKeys.METADATA, v, req)), v);
        return resp.topics().find(TOPIC).partitions().get(0).leaderEpoch();
    }

    private OffsetForLeaderEpochResponseData.EpochEndOffset epochEndRaw(int current, int epoch) throws Exception {
        short v = ApiKeys.OFFSET_FOR_LEADER_EPOCH.latestVersion();
        OffsetForLeaderEpochRequestData req = new OffsetForLeaderEpochRequestData().setReplicaId(-1);
        OffsetForLeaderEpochRequestData.OffsetForLeaderTopic t = new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic()
                .setTopic(TOPIC);
        t.partitions().add(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(0)
                .setCurrentLeaderEpoch(current).setLeaderEpoch(epoch));
        req.topics().add(t);
        OffsetForLeaderEpochResponseData data = new OffsetForLeaderEpochResponseData(
                new ByteBufferAccessor(call(ApiKeys.OFFSET_FOR_LEADER_EPOCH, v, req)), v);
        return data.topics().iterator().next().partitions().get(0);
    }

    private long[] epochEnd(int current, int epoch) throws Exception {
        OffsetForLeaderEpochResponseData.EpochEndOffset e = epochEndRaw(current, epoch);
        assertThat(Errors.forCode(e.errorCode())).isEqualTo(Errors.NONE);
        return new long[] {e.leaderEpoch(), e.endOffset()};
    }

    private Errors epochEndError(int current) throws Exception {
        return Errors.forCode(epochEndRaw(current, 0).errorCode());
    }

    private Errors fetchError(int current) throws Exception {
        short v = ApiKeys.FETCH.latestVersion();
        FetchRequestData req = new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(0).setMaxBytes(1 << 20)
                .setSessionId(0).setSessionEpoch(-1);
        FetchRequestData.FetchTopic t = new FetchRequestData.FetchTopic()
                .setTopicId(org.apache.kafka.common.Uuid.fromString(topicId()));
        t.partitions().add(new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(0)
                .setCurrentLeaderEpoch(current).setPartitionMaxBytes(1 << 20).setLogStartOffset(-1));
        req.topics().add(t);
        FetchResponseData resp = new FetchResponseData(new ByteBufferAccessor(call(ApiKeys.FETCH, v, req)), v);
        return Errors.forCode(resp.responses().get(0).partitions().get(0).errorCode());
    }

    private String topicId() throws Exception {
        short v = ApiKeys.METADATA.latestVersion();
        MetadataRequestData req = new MetadataRequestData().setTopics(List.of(
                new MetadataRequestData.MetadataRequestTopic().setName(TOPIC)));
        MetadataResponseData resp = new MetadataResponseData(new ByteBufferAccessor(call(ApiKeys.METADATA, v, req)), v);
        return resp.topics().find(TOPIC).topicId().toString();
    }

    private ListOffsetsResponseData.ListOffsetsPartitionResponse listOffsetsRaw(int current, long timestamp) throws Exception {
        return listOffsetsRaw(current, timestamp, (short) 6);
    }

    private ListOffsetsResponseData.ListOffsetsPartitionResponse listOffsetsRaw(int current, long timestamp, short v)
            throws Exception {
        ListOffsetsRequestData req = new ListOffsetsRequestData().setReplicaId(-1);
        ListOffsetsRequestData.ListOffsetsTopic t = new ListOffsetsRequestData.ListOffsetsTopic().setName(TOPIC);
        t.partitions().add(new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0)
                .setCurrentLeaderEpoch(current).setTimestamp(timestamp));
        req.topics().add(t);
        ListOffsetsResponseData resp = new ListOffsetsResponseData(new ByteBufferAccessor(call(ApiKeys.LIST_OFFSETS, v, req)), v);
        return resp.topics().get(0).partitions().get(0);
    }

    private Errors listOffsetsError(int current) throws Exception {
        return Errors.forCode(listOffsetsRaw(current, -1).errorCode());
    }

    /** {offset, leader epoch} of a ListOffsets answer (no error). */
    private long[] listOffsets(int current, long timestamp) throws Exception {
        ListOffsetsResponseData.ListOffsetsPartitionResponse r = listOffsetsRaw(current, timestamp);
        assertThat(Errors.forCode(r.errorCode())).isEqualTo(Errors.NONE);
        return new long[] {r.offset(), r.leaderEpoch()};
    }
}
