package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ConsumerOffsets;
import java.io.DataInputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.CreatePartitionsOptions;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.OffsetOutOfRangeException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.message.RequestHeaderData;
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

/** CreatePartitions, DeleteRecords, DescribeConfigs, IncrementalAlterConfigs (Admin) and OffsetForLeaderEpoch (raw). */
class AdminApisTest {
    @TempDir
    Path dir;
    BrokerFixture fx;
    Admin admin;

    @BeforeEach
    void start() {
        fx = new BrokerFixture(dir);
        admin = fx.admin();
    }

    @AfterEach
    void stop() {
        if (admin != null) {
            admin.close();
        }
        if (fx != null) {
            fx.close();
        }
    }

    private static <T> T get(org.apache.kafka.common.KafkaFuture<T> f) throws Exception {
        return f.get(20, TimeUnit.SECONDS);
    }

    private static Throwable cause(org.apache.kafka.common.KafkaFuture<?> f) {
        try {
            f.get(20, TimeUnit.SECONDS);
            throw new AssertionError("expected a failure");
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private void produce(String topic, int partition, int count) throws Exception {
        try (KafkaProducer<String, String> p = fx.producer("all", new Properties())) {
            for (int i = 0; i < count; i++) {
                p.send(new ProducerRecord<>(topic, partition, "k" + i, "v" + i)).get(20, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void createPartitionsGrowsATopicAndRefusesWhatKafkaRefuses() throws Exception {
        get(admin.createTopics(List.of(new NewTopic("grow", 1, (short) 1))).all());
        get(admin.createPartitions(Map.of("grow", NewPartitions.increaseTo(3)), new CreatePartitionsOptions().validateOnly(true)).all());
        assertThat(fx.store.describeTopic("grow").orElseThrow().partitionCount()).as("validate only").isEqualTo(1);

        get(admin.createPartitions(Map.of("grow", NewPartitions.increaseTo(3))).all());
        assertThat(get(admin.describeTopics(List.of("grow")).allTopicNames()).get("grow").partitions()).hasSize(3);
        produce("grow", 2, 1); // the new partition takes records

        assertThat(cause(admin.createPartitions(Map.of("grow", NewPartitions.increaseTo(2))).all()))
                .isInstanceOf(InvalidPartitionsException.class).hasMessageContaining("3");
        assertThat(cause(admin.createPartitions(Map.of("grow", NewPartitions.increaseTo(3))).all()))
                .isInstanceOf(InvalidPartitionsException.class);
        assertThat(cause(admin.createPartitions(Map.of("no-such", NewPartitions.increaseTo(3))).all()))
                .isInstanceOf(UnknownTopicOrPartitionException.class);
        assertThat(cause(admin.createPartitions(Map.of("grow", NewPartitions.increaseTo(4, List.of(List.of(99))))).all()))
                .isInstanceOf(org.apache.kafka.common.errors.InvalidReplicaAssignmentException.class);
        fx.store.createTopic(ConsumerOffsets.TOPIC, 1, Map.of("cleanup.policy", "compact"));
        assertThat(cause(admin.createPartitions(Map.of(ConsumerOffsets.TOPIC, NewPartitions.increaseTo(9))).all()))
                .isInstanceOf(InvalidTopicException.class);
        assertThat(fx.store.describeTopic("grow").orElseThrow().partitionCount()).isEqualTo(3);
    }

    @Test
    void deleteRecordsMovesTheLogStartAndConsumersStartThere() throws Exception {
        get(admin.createTopics(List.of(new NewTopic("trim", 2, (short) 1))).all());
        produce("trim", 0, 10);
        TopicPartition p0 = new TopicPartition("trim", 0);
        assertThat(get(admin.deleteRecords(Map.of(p0, RecordsToDelete.beforeOffset(4))).lowWatermarks().get(p0)).lowWatermark())
                .isEqualTo(4);
        try (KafkaConsumer<String, String> c = fx.consumer()) {
            List<ConsumerRecord<String, String>> got = BrokerFixture.consumeAll(c, List.of(p0), 6);
            assertThat(got).extracting(ConsumerRecord::offset).containsExactly(4L, 5L, 6L, 7L, 8L, 9L);
        }
        assertThat(cause(admin.deleteRecords(Map.of(p0, RecordsToDelete.beforeOffset(11))).all()))
                .isInstanceOf(OffsetOutOfRangeException.class);
        // -1: up to the high watermark, as in Kafka
        assertThat(get(admin.deleteRecords(Map.of(p0, RecordsToDelete.beforeOffset(-1))).lowWatermarks().get(p0)).lowWatermark())
                .isEqualTo(10);
        TopicPartition p1 = new TopicPartition("trim", 1);
        assertThat(get(admin.deleteRecords(Map.of(p1, RecordsToDelete.beforeOffset(0))).lowWatermarks().get(p1)).lowWatermark())
                .isZero();
        assertThat(fx.store.logStartOffset(io.shale.log.TopicPartition.of("trim", 0))).isEqualTo(10);
    }

    private Map<String, ConfigEntry> describe(String topic) throws Exception {
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Config c = get(admin.describeConfigs(List.of(r)).all()).get(r);
        Map<String, ConfigEntry> out = new java.util.HashMap<>();
        for (ConfigEntry e : c.entries()) {
            out.put(e.name(), e);
        }
        return out;
    }

    private org.apache.kafka.common.KafkaFuture<Void> alter(String topic, boolean validateOnly, AlterConfigOp... ops) {
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Map<ConfigResource, Collection<AlterConfigOp>> m = Map.of(r, List.of(ops));
        return admin.incrementalAlterConfigs(m, new AlterConfigsOptions().validateOnly(validateOnly)).all();
    }

    private static AlterConfigOp op(String name, String value, AlterConfigOp.OpType type) {
        return new AlterConfigOp(new ConfigEntry(name, value), type);
    }

    @Test
    void topicConfigsAreDescribedAndIncrementallyAlteredWithKafkasNamesAndRules() throws Exception {
        get(admin.createTopics(List.of(new NewTopic("conf", 1, (short) 1).configs(Map.of("retention.ms", "1000")))).all());
        Map<String, ConfigEntry> d = describe("conf");
        assertThat(d.get("retention.ms").value()).isEqualTo("1000");
        assertThat(d.get("retention.ms").source()).isEqualTo(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);
        assertThat(d.get("max.message.bytes").value()).isEqualTo("1048588");
        assertThat(d.get("max.message.bytes").source()).isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);
        assertThat(d.get("cleanup.policy").type()).isEqualTo(ConfigEntry.ConfigType.LIST);
        assertThat(d.get("retention.ms").type()).isEqualTo(ConfigEntry.ConfigType.LONG);
        assertThat(d).containsKeys("segment.bytes", "compression.type", "message.timestamp.type");

        get(alter("conf", true, op("retention.bytes", "5000", AlterConfigOp.OpType.SET)));
        assertThat(describe("conf").get("retention.bytes").value()).as("validate only").isEqualTo("-1");

        get(alter("conf", false, op("retention.bytes", "5000", AlterConfigOp.OpType.SET),
                op("retention.ms", null, AlterConfigOp.OpType.DELETE),
                op("cleanup.policy", "compact", AlterConfigOp.OpType.APPEND)));
        d = describe("conf");
        assertThat(d.get("retention.bytes").value()).isEqualTo("5000");
        assertThat(d.get("retention.ms").value()).isEqualTo("604800000");
        assertThat(d.get("retention.ms").source()).isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);
        assertThat(d.get("cleanup.policy").value()).isEqualTo("compact,delete");
        assertThat(fx.store.describeTopic("conf").orElseThrow().config().retentionBytes()).isEqualTo(5000);

        get(alter("conf", false, op("cleanup.policy", "delete", AlterConfigOp.OpType.SUBTRACT)));
        assertThat(describe("conf").get("cleanup.policy").value()).isEqualTo("compact");

        // refused, and nothing of the refused resource is applied
        assertThat(cause(alter("conf", false, op("retention.bytes", "7", AlterConfigOp.OpType.SET),
                op("retention.ms", "soon", AlterConfigOp.OpType.SET)))).isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("retention.ms");
        assertThat(cause(alter("conf", false, op("no.such.config", "1", AlterConfigOp.OpType.SET))))
                .isInstanceOf(InvalidConfigurationException.class).hasMessageContaining("no.such.config");
        assertThat(cause(alter("conf", false, op("retention.ms", "1", AlterConfigOp.OpType.APPEND))))
                .isInstanceOf(InvalidConfigurationException.class);
        assertThat(cause(alter("no-such", false, op("retention.ms", "1", AlterConfigOp.OpType.SET))))
                .isInstanceOf(UnknownTopicOrPartitionException.class);
        assertThat(describe("conf").get("retention.bytes").value()).isEqualTo("5000");

        // the internal topics keep their compaction: a retention policy would expire committed
        // offsets and transaction states
        fx.store.createTopic(ConsumerOffsets.TOPIC, 1, Map.of("cleanup.policy", "compact"));
        assertThat(cause(alter(ConsumerOffsets.TOPIC, false, op("cleanup.policy", "delete", AlterConfigOp.OpType.SET),
                op("retention.ms", "1", AlterConfigOp.OpType.SET)))).isInstanceOf(InvalidTopicException.class)
                .hasMessageContaining(ConsumerOffsets.TOPIC);
        assertThat(fx.store.describeTopic(ConsumerOffsets.TOPIC).orElseThrow().config().overrides())
                .containsEntry("cleanup.policy", "compact").doesNotContainKey("retention.ms");

        ConfigResource missing = new ConfigResource(ConfigResource.Type.TOPIC, "no-such");
        assertThat(cause(admin.describeConfigs(List.of(missing)).all())).isInstanceOf(UnknownTopicOrPartitionException.class);
    }

    // ---------------------------------------------------------------- raw protocol

    private ByteBuffer call(ApiKeys key, ApiMessage body) throws Exception {
        short version = key.latestVersion();
        RequestHeaderData h = new RequestHeaderData().setRequestApiKey(key.id).setRequestApiVersion(version)
                .setClientId("admin-test").setCorrelationId(1);
        ByteBuffer b = RequestUtils.serialize(h, key.requestHeaderVersion(version), body, version);
        try (Socket s = new Socket("127.0.0.1", fx.broker.port())) {
            s.setSoTimeout(10_000);
            java.io.DataOutputStream out = new java.io.DataOutputStream(s.getOutputStream());
            out.writeInt(b.remaining());
            out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
            out.flush();
            DataInputStream in = new DataInputStream(s.getInputStream());
            byte[] frame = new byte[in.readInt()];
            in.readFully(frame);
            ByteBuffer resp = ByteBuffer.wrap(frame);
            ResponseHeader.parse(resp, key.responseHeaderVersion(version));
            return resp;
        }
    }

    private OffsetForLeaderEpochResponseData.EpochEndOffset epochEnd(String topic, int partition, int current, int epoch)
            throws Exception {
        OffsetForLeaderEpochRequestData req = new OffsetForLeaderEpochRequestData().setReplicaId(-1);
        OffsetForLeaderEpochRequestData.OffsetForLeaderTopic t = new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic()
                .setTopic(topic);
        t.partitions().add(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(partition)
                .setCurrentLeaderEpoch(current).setLeaderEpoch(epoch));
        req.topics().add(t);
        ByteBuffer resp = call(ApiKeys.OFFSET_FOR_LEADER_EPOCH, req);
        OffsetForLeaderEpochResponseData data = new OffsetForLeaderEpochResponseData(new ByteBufferAccessor(resp),
                ApiKeys.OFFSET_FOR_LEADER_EPOCH.latestVersion());
        return data.topics().iterator().next().partitions().get(0);
    }

    @Test
    void offsetForLeaderEpochAnswersTheCurrentEpochAsKafkaWould() throws Exception {
        get(admin.createTopics(List.of(new NewTopic("epochs", 1, (short) 1))).all());
        produce("epochs", 0, 5);
        int epoch = fx.store.leaderEpoch();
        OffsetForLeaderEpochResponseData.EpochEndOffset e = epochEnd("epochs", 0, epoch, epoch);
        assertThat(Errors.forCode(e.errorCode())).isEqualTo(Errors.NONE);
        assertThat(e.leaderEpoch()).isEqualTo(epoch);
        assertThat(e.endOffset()).isEqualTo(5);
        e = epochEnd("epochs", 0, -1, epoch); // no current epoch stated
        assertThat(e.endOffset()).isEqualTo(5);

        e = epochEnd("epochs", 0, epoch, epoch + 3); // an epoch this log never had
        assertThat(Errors.forCode(e.errorCode())).isEqualTo(Errors.NONE);
        assertThat(e.leaderEpoch()).isEqualTo(-1);
        assertThat(e.endOffset()).isEqualTo(-1);

        assertThat(Errors.forCode(epochEnd("epochs", 0, epoch + 1, epoch).errorCode())).isEqualTo(Errors.UNKNOWN_LEADER_EPOCH);
        assertThat(Errors.forCode(epochEnd("epochs", 0, epoch - 1, epoch).errorCode())).isEqualTo(Errors.FENCED_LEADER_EPOCH);
        assertThat(Errors.forCode(epochEnd("epochs", 5, epoch, epoch).errorCode())).isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION);
        assertThat(Errors.forCode(epochEnd("no-such", 0, epoch, epoch).errorCode())).isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION);
    }

    @Test
    void apiVersionsAdvertisesTheAdminApis() throws Exception {
        ByteBuffer resp = call(ApiKeys.API_VERSIONS, new ApiVersionsRequestData().setClientSoftwareName("admin-test")
                .setClientSoftwareVersion("1.0"));
        ApiVersionsResponseData data = new ApiVersionsResponseData(new ByteBufferAccessor(resp), ApiKeys.API_VERSIONS.latestVersion());
        for (ApiKeys k : List.of(ApiKeys.CREATE_PARTITIONS, ApiKeys.DELETE_RECORDS, ApiKeys.DESCRIBE_CONFIGS,
                ApiKeys.INCREMENTAL_ALTER_CONFIGS, ApiKeys.OFFSET_FOR_LEADER_EPOCH)) {
            ApiVersionsResponseData.ApiVersion v = data.apiKeys().find(k.id);
            assertThat(v).as(k.name()).isNotNull();
            assertThat(v.maxVersion()).isEqualTo(k.latestVersion());
        }
        // still not served: the old whole-config AlterConfigs
        assertThat(data.apiKeys().find(ApiKeys.ALTER_CONFIGS.id)).isNull();
    }
}
