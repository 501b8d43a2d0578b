package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.LogStore;
import io.shale.storage.local.LocalStorage;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.requests.ResponseHeader;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TLS and SASL listeners with kafka-clients: key stores made by the JDK's keytool in the test,
 * producers, consumers and admin clients with security.protocol SSL, SASL_PLAINTEXT and SASL_SSL,
 * and the refusals (a plaintext client on a TLS port, mutual TLS without a certificate, wrong
 * passwords, requests before authentication).
 */
class TlsSaslTest {
    static final String BROKER_PASS = "broker-store-secret";
    static final String CLIENT_PASS = "client-store-secret";
    static final String TRUST_PASS = "trust-store-secret";

    @TempDir
    static Path keys;
    static Path brokerKeystore;
    static Path clientKeystore;
    static Path clientTruststore; // trusts the broker's certificate
    static Path brokerTruststore; // trusts the client's certificate

    @TempDir
    Path dir;
    LogStore store;
    ShaleBroker broker;
    final List<AutoCloseable> clients = new ArrayList<>();

    @BeforeAll
    static void keyStores() throws Exception {
        brokerKeystore = keys.resolve("broker.p12");
        clientKeystore = keys.resolve("client.p12");
        clientTruststore = keys.resolve("client-trust.p12");
        brokerTruststore = keys.resolve("broker-trust.p12");
        keyPair(brokerKeystore, "broker", "CN=localhost", "SAN=dns:localhost,ip:127.0.0.1", BROKER_PASS);
        keyPair(clientKeystore, "client", "CN=client-app", null, CLIENT_PASS);
        trust(brokerKeystore, "broker", BROKER_PASS, clientTruststore);
        trust(clientKeystore, "client", CLIENT_PASS, brokerTruststore);
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("keytool finished").isTrue();
        assertThat(p.exitValue()).as("keytool %s: %s", args[0], out).isZero();
    }

    private static void keyPair(Path store, String alias, String dn, String san, String pass) throws Exception {
        List<String> a = new ArrayList<>(List.of("-genkeypair", "-alias", alias, "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", dn, "-validity", "3", "-storetype", "PKCS12", "-keystore", store.toString(),
                "-storepass", pass, "-keypass", pass));
        if (san != null) {
            a.addAll(List.of("-ext", san));
        }
        keytool(a.toArray(new String[0]));
    }

    private static void trust(Path keystore, String alias, String pass, Path truststore) throws Exception {
        Path cert = keys.resolve(alias + ".crt");
        keytool("-exportcert", "-alias", alias, "-keystore", keystore.toString(), "-storepass", pass, "-file",
                cert.toString());
        keytool("-importcert", "-noprompt", "-alias", alias, "-file", cert.toString(), "-storetype", "PKCS12",
                "-keystore", truststore.toString(), "-storepass", TRUST_PASS);
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : clients) {
            c.close();
        }
        if (broker != null) {
            broker.close();
        }
        if (store != null) {
            store.close();
        }
    }

    private void start(Map<String, String> security, Map<String, String> users) {
        store = LocalStorage.open(dir);
        ShaleBroker.Builder b = ShaleBroker.builder(store).listen("127.0.0.1", 0).security(security);
        users.forEach(b::saslUser);
        broker = b.start();
    }

    private static Map<String, String> tls(String clientAuth) {
        Map<String, String> m = new HashMap<>();
        m.put("security.protocol", "SSL");
        m.put("ssl.keystore.location", brokerKeystore.toString());
        m.put("ssl.keystore.password", BROKER_PASS);
        m.put("ssl.keystore.type", "PKCS12");
        if (clientAuth != null) {
            m.put("ssl.client.auth", clientAuth);
            m.put("ssl.truststore.location", brokerTruststore.toString());
            m.put("ssl.truststore.password", TRUST_PASS);
        }
        return m;
    }

    /** Client settings for TLS trusting the broker's certificate (and presenting the client's, if asked). */
    private static Properties clientTls(String protocol, boolean withCertificate) {
        Properties p = new Properties();
        p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, protocol);
        p.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, clientTruststore.toString());
        p.put(SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, TRUST_PASS);
        p.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12");
        if (withCertificate) {
            p.put(SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG, clientKeystore.toString());
            p.put(SslConfigs.SSL_KEYSTORE_PASSWORD_CONFIG, CLIENT_PASS);
            p.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PKCS12");
        }
        return p;
    }

    private static Properties clientSasl(String protocol, String mechanism, String user, String password) {
        Properties p = protocol.equals("SASL_SSL") ? clientTls(protocol, false) : new Properties();
        p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, protocol);
        p.put(SaslConfigs.SASL_MECHANISM, mechanism);
        String module = mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
        p.put(SaslConfigs.SASL_JAAS_CONFIG, module + " required username=\"" + user + "\" password=\"" + password + "\";");
        return p;
    }

    private Admin admin(Properties security) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:" + broker.port());
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.putAll(security);
        Admin a = Admin.create(p);
        clients.add(a);
        return a;
    }

    /** Creates a topic, produces three records with acks=all and consumes them back, all with {@code security}. */
    private void produceAndConsume(Properties security) throws Exception {
        String topic = "t-" + Math.abs(System.nanoTime() % 100000);
        store.createTopic(topic, 1);
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:" + broker.port());
        pp.put(ProducerConfig.ACKS_CONFIG, "all");
        pp.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        pp.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        pp.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 20_000);
        pp.putAll(security);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 3; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k" + i, "secret-value-" + i)).get(30, TimeUnit.SECONDS);
            }
        }
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:" + broker.port());
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        cp.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 200);
        cp.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        cp.putAll(security);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp, new StringDeserializer(), new StringDeserializer())) {
            List<ConsumerRecord<String, String>> got = BrokerFixture.consumeAll(consumer,
                    List.of(new TopicPartition(topic, 0)), 3);
            assertThat(got).extracting(ConsumerRecord::value).containsExactly("secret-value-0", "secret-value-1",
                    "secret-value-2");
        }
    }

    // ---------------------------------------------------------------- TLS

    @Test
    void producerAndConsumerOverTls() throws Exception {
        start(tls(null), Map.of());
        produceAndConsume(clientTls("SSL", false));
        assertThat(admin(clientTls("SSL", false)).describeCluster().clusterId().get(20, TimeUnit.SECONDS))
                .isEqualTo(broker.clusterId());
    }

    @Test
    void aPlaintextClientOnTheTlsPortFailsAndTheListenerKeepsServing() throws Exception {
        start(tls(null), Map.of());
        Properties plain = new Properties();
        plain.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3_000);
        plain.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000);
        Admin a = admin(plain);
        assertThatThrownBy(() -> a.describeCluster().clusterId().get(30, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(org.apache.kafka.common.errors.TimeoutException.class);
        // the raw view: a plaintext ApiVersions request is not answered, the connection is closed
        try (Socket s = new Socket("127.0.0.1", broker.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(frame(ApiKeys.API_VERSIONS, (short) 3, 1, new ApiVersionsRequestData()
                    .setClientSoftwareName("raw").setClientSoftwareVersion("1")));
            s.getOutputStream().flush();
            byte[] got = s.getInputStream().readAllBytes(); // returns once the broker closed the connection
            assertThat(got.length == 0 || got[0] == 0x15).as("nothing, or a TLS alert record: %s bytes", got.length).isTrue();
        }
        assertThat(admin(clientTls("SSL", false)).describeCluster().clusterId().get(20, TimeUnit.SECONDS))
                .isEqualTo(broker.clusterId());
    }

    @Test
    void mutualTlsRequiredServesAClientWithACertificateAndRefusesOneWithout() throws Exception {
        start(tls("required"), Map.of());
        produceAndConsume(clientTls("SSL", true));
        Properties noCert = clientTls("SSL", false);
        noCert.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        assertThatThrownBy(() -> admin(noCert).describeCluster().clusterId().get(30, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(SslAuthenticationException.class);
    }

    @Test
    void mutualTlsRequestedServesAClientWithoutACertificate() throws Exception {
        start(tls("requested"), Map.of());
        assertThat(admin(clientTls("SSL", false)).describeCluster().clusterId().get(20, TimeUnit.SECONDS))
                .isEqualTo(broker.clusterId());
    }

    @Test
    void wrongTlsSettingsAreNamedWithoutTheirValues() throws IOException {
        Map<String, String> wrongPassword = tls(null);
        wrongPassword.put("ssl.keystore.password", "not-the-password-xyz");
        Map<String, String> noKeystore = tls(null);
        noKeystore.remove("ssl.keystore.location");
        Map<String, String> badAuth = tls(null);
        badAuth.put("ssl.client.auth", "sometimes");
        Map<String, String> badProtocol = tls(null);
        badProtocol.put("ssl.enabled.protocols", "TLSv0.9");
        Map<String, String> requiredWithoutTrust = tls(null);
        requiredWithoutTrust.put("ssl.client.auth", "required");
        try (LogStore s = LocalStorage.open(dir)) {
            assertThatThrownBy(() -> ShaleBroker.builder(s).listen("127.0.0.1", 0).security(wrongPassword).start())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ssl.keystore.location")
                    .hasMessageContaining("wrong password").message().doesNotContain("not-the-password-xyz");
            assertThatThrownBy(() -> ShaleBroker.builder(s).listen("127.0.0.1", 0).security(noKeystore).start())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs ssl.keystore.location");
            assertThatThrownBy(() -> ShaleBroker.builder(s).listen("127.0.0.1", 0).security(badAuth).start())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ssl.client.auth");
            assertThatThrownBy(() -> ShaleBroker.builder(s).listen("127.0.0.1", 0).security(badProtocol).start())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("TLSv0.9");
            assertThatThrownBy(() -> ShaleBroker.builder(s).listen("127.0.0.1", 0).security(requiredWithoutTrust).start())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ssl.truststore.location");
            assertThatThrownBy(() -> ShaleBroker.builder(s).security(Map.of("ssl.keystore.pasword", "x")))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ssl.keystore.pasword");
            assertThatThrownBy(() -> ShaleBroker.builder(s).listen("127.0.0.1", 0)
                    .security(Map.of("ssl.keystore.location", "x")).start())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not to PLAINTEXT");
        }
    }

    /** DescribeConfigs of the BROKER resource: the effective settings with their sources, passwords hidden. */
    @Test
    void describeConfigsOfTheBrokerShowsItsSettingsWithPasswordsHidden() throws Exception {
        store = LocalStorage.open(dir);
        broker = ShaleBroker.builder(store).listen("127.0.0.1", 0).nodeId(3).maxRequestBytes(1 << 20)
                .security(tls(null)).start();
        Admin a = admin(clientTls("SSL", false));
        org.apache.kafka.common.config.ConfigResource r = new org.apache.kafka.common.config.ConfigResource(
                org.apache.kafka.common.config.ConfigResource.Type.BROKER, "3");
        org.apache.kafka.clients.admin.Config c = a.describeConfigs(List.of(r),
                new org.apache.kafka.clients.admin.DescribeConfigsOptions().includeSynonyms(true)).all()
                .get(20, TimeUnit.SECONDS).get(r);
        org.apache.kafka.clients.admin.ConfigEntry.ConfigSource stat =
                org.apache.kafka.clients.admin.ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG;
        org.apache.kafka.clients.admin.ConfigEntry.ConfigSource dflt =
                org.apache.kafka.clients.admin.ConfigEntry.ConfigSource.DEFAULT_CONFIG;
        assertThat(c.get("node.id").value()).isEqualTo("3");
        assertThat(c.get("node.id").source()).isEqualTo(stat);
        assertThat(c.get("socket.request.max.bytes").value()).isEqualTo(String.valueOf(1 << 20));
        assertThat(c.get("socket.request.max.bytes").source()).isEqualTo(stat);
        assertThat(c.get("socket.request.max.bytes").synonyms()).extracting(s -> s.source()).containsExactly(stat, dflt);
        assertThat(c.get("num.io.threads").value()).isEqualTo("8");
        assertThat(c.get("num.io.threads").source()).isEqualTo(dflt);
        assertThat(c.get("listeners").value()).isEqualTo("SSL://127.0.0.1:" + broker.port());
        assertThat(c.get("security.protocol").value()).isEqualTo("SSL");
        assertThat(c.get("ssl.keystore.location").value()).isEqualTo(brokerKeystore.toString());
        assertThat(c.get("ssl.enabled.protocols").value()).isEqualTo("TLSv1.3,TLSv1.2");
        assertThat(c.get("ssl.enabled.protocols").source()).isEqualTo(dflt);
        assertThat(c.get("ssl.keystore.password").isSensitive()).isTrue();
        assertThat(c.get("ssl.keystore.password").value()).isNull();
        assertThat(c.get("ssl.keystore.password").source()).isEqualTo(stat);
        assertThat(c.get("ssl.keystore.password").synonyms()).allSatisfy(s -> assertThat(s.value()).isNull());
        assertThat(c.get("ssl.key.password").isSensitive()).isTrue();
        assertThat(c.entries()).allSatisfy(e -> assertThat(e.isReadOnly()).isTrue());
        assertThat(c.entries().toString()).doesNotContain(BROKER_PASS);
        // the cluster-wide default resource (kafka-configs --entity-type brokers --entity-default): no dynamic defaults
        org.apache.kafka.common.config.ConfigResource all = new org.apache.kafka.common.config.ConfigResource(
                org.apache.kafka.common.config.ConfigResource.Type.BROKER, "");
        assertThat(a.describeConfigs(List.of(all)).all().get(20, TimeUnit.SECONDS).get(all).entries()).isEmpty();
    }

    // ---------------------------------------------------------------- SASL

    private static Map<String, String> sasl(String protocol, String mechanisms) {
        Map<String, String> m = protocol.equals("SASL_SSL") ? tls(null) : new HashMap<>();
        m.put("security.protocol", protocol);
        m.put("sasl.enabled.mechanisms", mechanisms);
        return m;
    }

    @ParameterizedTest
    @ValueSource(strings = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"})
    void saslRightPasswordWorksAndAWrongOneFails(String mechanism) throws Exception {
        start(sasl("SASL_PLAINTEXT", "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"), Map.of("alice", "alice-secret", "bob", "bob-secret"));
        produceAndConsume(clientSasl("SASL_PLAINTEXT", mechanism, "alice", "alice-secret"));
        assertThatThrownBy(() -> admin(clientSasl("SASL_PLAINTEXT", mechanism, "alice", "bob-secret")).describeCluster()
                .clusterId().get(30, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).cause().isInstanceOf(SaslAuthenticationException.class);
        assertThatThrownBy(() -> admin(clientSasl("SASL_PLAINTEXT", mechanism, "mallory", "alice-secret")).describeCluster()
                .clusterId().get(30, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).cause().isInstanceOf(SaslAuthenticationException.class);
        // a producer with a wrong password fails its send with the same error
        Properties pp = clientSasl("SASL_PLAINTEXT", mechanism, "bob", "alice-secret");
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:" + broker.port());
        pp.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>("anything", "v")).get(30, TimeUnit.SECONDS))
                    .satisfiesAnyOf(e -> assertThat(e).isInstanceOf(SaslAuthenticationException.class),
                            e -> assertThat(e).cause().isInstanceOf(SaslAuthenticationException.class));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"PLAIN", "SCRAM-SHA-512"})
    void saslOverTls(String mechanism) throws Exception {
        Path users = keys.resolve("users-" + mechanism + ".properties");
        Files.writeString(users, "alice=alice secret with spaces\ncarol=carol-secret\n");
        Map<String, String> s = sasl("SASL_SSL", mechanism);
        s.put("sasl.users.file", users.toString());
        start(s, Map.of());
        produceAndConsume(clientSasl("SASL_SSL", mechanism, "alice", "alice secret with spaces"));
        assertThatThrownBy(() -> admin(clientSasl("SASL_SSL", mechanism, "carol", "alice secret with spaces"))
                .describeCluster().clusterId().get(30, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).cause().isInstanceOf(SaslAuthenticationException.class);
    }

    @Test
    void aMechanismNotEnabledIsRefused() throws Exception {
        start(sasl("SASL_PLAINTEXT", "SCRAM-SHA-256"), Map.of("alice", "alice-secret"));
        assertThatThrownBy(() -> admin(clientSasl("SASL_PLAINTEXT", "PLAIN", "alice", "alice-secret")).describeCluster()
                .clusterId().get(30, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(org.apache.kafka.common.errors.UnsupportedSaslMechanismException.class);
        try (Socket s = connect()) {
            send(s, frame(ApiKeys.SASL_HANDSHAKE, (short) 1, 5, new SaslHandshakeRequestData().setMechanism("PLAIN")));
            ByteBuffer r = readFrame(s);
            assertThat(ResponseHeader.parse(r, ApiKeys.SASL_HANDSHAKE.responseHeaderVersion((short) 1)).correlationId())
                    .isEqualTo(5);
            SaslHandshakeResponseData d = new SaslHandshakeResponseData(new ByteBufferAccessor(r), (short) 1);
            assertThat(Errors.forCode(d.errorCode())).isEqualTo(Errors.UNSUPPORTED_SASL_MECHANISM);
            assertThat(d.mechanisms()).containsExactly("SCRAM-SHA-256");
            assertThat(readFrame(s)).as("closed after the answer").isNull();
        }
    }

    @Test
    void beforeAuthenticationOnlyApiVersionsAndSaslRequestsAreServed() throws Exception {
        start(sasl("SASL_PLAINTEXT", "PLAIN"), Map.of("alice", "alice-secret"));
        // ApiVersions is answered (with the SASL APIs), Metadata closes the connection unanswered
        try (Socket s = connect()) {
            send(s, frame(ApiKeys.API_VERSIONS, (short) 3, 1, new ApiVersionsRequestData()
                    .setClientSoftwareName("raw").setClientSoftwareVersion("1")));
            ByteBuffer r = readFrame(s);
            ResponseHeader.parse(r, ApiKeys.API_VERSIONS.responseHeaderVersion((short) 3));
            ApiVersionsResponseData av = new ApiVersionsResponseData(new ByteBufferAccessor(r), (short) 3);
            assertThat(av.apiKeys().find(ApiKeys.SASL_HANDSHAKE.id).maxVersion()).isEqualTo((short) 1);
            assertThat(av.apiKeys().find(ApiKeys.SASL_AUTHENTICATE.id).maxVersion())
                    .isEqualTo(ApiKeys.SASL_AUTHENTICATE.latestVersion());
            send(s, frame(ApiKeys.METADATA, (short) 12, 2, new MetadataRequestData().setTopics(null)));
            assertThat(readFrame(s)).as("Metadata before authentication: closed, unanswered").isNull();
        }
        // a frame over 512 KiB (Kafka's sasl.server.max.receive.size) before authentication: closed unread
        try (Socket s = connect()) {
            send(s, ByteBuffer.allocate(8).putInt(600_000).putShort(ApiKeys.METADATA.id).putShort((short) 12).array());
            assertThat(readFrame(s)).isNull();
        }
        // after the handshake, a request other than SaslAuthenticate gets ILLEGAL_SASL_STATE and the connection closes
        try (Socket s = connect()) {
            send(s, frame(ApiKeys.SASL_HANDSHAKE, (short) 1, 3, new SaslHandshakeRequestData().setMechanism("PLAIN")));
            ByteBuffer r = readFrame(s);
            ResponseHeader.parse(r, ApiKeys.SASL_HANDSHAKE.responseHeaderVersion((short) 1));
            assertThat(Errors.forCode(new SaslHandshakeResponseData(new ByteBufferAccessor(r), (short) 1).errorCode()))
                    .isEqualTo(Errors.NONE);
            send(s, frame(ApiKeys.SASL_HANDSHAKE, (short) 1, 4, new SaslHandshakeRequestData().setMechanism("PLAIN")));
            r = readFrame(s);
            assertThat(ResponseHeader.parse(r, ApiKeys.SASL_HANDSHAKE.responseHeaderVersion((short) 1)).correlationId())
                    .isEqualTo(4);
            assertThat(Errors.forCode(new SaslHandshakeResponseData(new ByteBufferAccessor(r), (short) 1).errorCode()))
                    .isEqualTo(Errors.ILLEGAL_SASL_STATE);
            assertThat(readFrame(s)).isNull();
        }
        // the whole exchange by hand: a wrong password answers SASL_AUTHENTICATION_FAILED, then closes
        try (Socket s = connect()) {
            send(s, frame(ApiKeys.SASL_HANDSHAKE, (short) 1, 3, new SaslHandshakeRequestData().setMechanism("PLAIN")));
            readFrame(s);
            send(s, frame(ApiKeys.SASL_AUTHENTICATE, (short) 2, 4, new SaslAuthenticateRequestData()
                    .setAuthBytes("\0alice\0wrong".getBytes(StandardCharsets.UTF_8))));
            ByteBuffer r = readFrame(s);
            ResponseHeader.parse(r, ApiKeys.SASL_AUTHENTICATE.responseHeaderVersion((short) 2));
            SaslAuthenticateResponseData d = new SaslAuthenticateResponseData(new ByteBufferAccessor(r), (short) 2);
            assertThat(Errors.forCode(d.errorCode())).isEqualTo(Errors.SASL_AUTHENTICATION_FAILED);
            assertThat(d.errorMessage()).doesNotContain("wrong");
            assertThat(readFrame(s)).isNull();
        }
        // and the right one: then Metadata is served, and another SaslHandshake gets ILLEGAL_SASL_STATE (connection kept)
        try (Socket s = connect()) {
            send(s, frame(ApiKeys.SASL_HANDSHAKE, (short) 1, 3, new SaslHandshakeRequestData().setMechanism("PLAIN")));
            readFrame(s);
            send(s, frame(ApiKeys.SASL_AUTHENTICATE, (short) 2, 4, new SaslAuthenticateRequestData()
                    .setAuthBytes("\0alice\0alice-secret".getBytes(StandardCharsets.UTF_8))));
            ByteBuffer r = readFrame(s);
            ResponseHeader.parse(r, ApiKeys.SASL_AUTHENTICATE.responseHeaderVersion((short) 2));
            assertThat(Errors.forCode(new SaslAuthenticateResponseData(new ByteBufferAccessor(r), (short) 2).errorCode()))
                    .isEqualTo(Errors.NONE);
            send(s, frame(ApiKeys.SASL_HANDSHAKE, (short) 1, 5, new SaslHandshakeRequestData().setMechanism("PLAIN")));
            r = readFrame(s);
            ResponseHeader.parse(r, ApiKeys.SASL_HANDSHAKE.responseHeaderVersion((short) 1));
            assertThat(Errors.forCode(new SaslHandshakeResponseData(new ByteBufferAccessor(r), (short) 1).errorCode()))
                    .isEqualTo(Errors.ILLEGAL_SASL_STATE);
            send(s, frame(ApiKeys.METADATA, (short) 12, 6, new MetadataRequestData().setTopics(null)));
            r = readFrame(s);
            assertThat(r).isNotNull();
            assertThat(ResponseHeader.parse(r, ApiKeys.METADATA.responseHeaderVersion((short) 12)).correlationId())
                    .isEqualTo(6);
            // once authenticated, frames over 512 KiB are read (up to the maximum request size): answered
            byte[] metadata = frame(ApiKeys.METADATA, (short) 12, 7, new MetadataRequestData().setTopics(null));
            ByteBuffer big = ByteBuffer.allocate(metadata.length + 600_000);
            big.put(metadata).putInt(0, metadata.length - 4 + 600_000);
            send(s, big.array());
            r = readFrame(s);
            assertThat(r).as("a large request after authentication is answered").isNotNull();
            assertThat(ResponseHeader.parse(r, ApiKeys.METADATA.responseHeaderVersion((short) 12)).correlationId())
                    .isEqualTo(7);
        }
    }

    /** SaslHandshake v0 (listed because librdkafka requires it): the tokens follow as bare size-prefixed frames. */
    @Test
    void saslHandshakeVersionZeroTakesBareTokens() throws Exception {
        start(sasl("SASL_PLAINTEXT", "PLAIN"), Map.of("alice", "alice-secret"));
        try (Socket s = connect()) {
            send(s, frame(ApiKeys.SASL_HANDSHAKE, (short) 0, 1, new SaslHandshakeRequestData().setMechanism("PLAIN")));
            ByteBuffer r = readFrame(s);
            ResponseHeader.parse(r, ApiKeys.SASL_HANDSHAKE.responseHeaderVersion((short) 0));
            assertThat(Errors.forCode(new SaslHandshakeResponseData(new ByteBufferAccessor(r), (short) 0).errorCode()))
                    .isEqualTo(Errors.NONE);
            byte[] token = "\0alice\0alice-secret".getBytes(StandardCharsets.UTF_8);
            send(s, ByteBuffer.allocate(4 + token.length).putInt(token.length).put(token).array());
            assertThat(readFrame(s)).as("PLAIN's empty challenge, bare").isNotNull().satisfies(b -> assertThat(b.remaining()).isZero());
            send(s, frame(ApiKeys.METADATA, (short) 12, 2, new MetadataRequestData().setTopics(null)));
            r = readFrame(s);
            assertThat(ResponseHeader.parse(r, ApiKeys.METADATA.responseHeaderVersion((short) 12)).correlationId()).isEqualTo(2);
        }
        try (Socket s = connect()) {
            send(s, frame(ApiKeys.SASL_HANDSHAKE, (short) 0, 1, new SaslHandshakeRequestData().setMechanism("PLAIN")));
            readFrame(s);
            byte[] token = "\0alice\0nope".getBytes(StandardCharsets.UTF_8);
            send(s, ByteBuffer.allocate(4 + token.length).putInt(token.length).put(token).array());
            assertThat(readFrame(s)).as("a wrong password closes the connection unanswered").isNull();
        }
    }

    /**
     * Seeded random sequences of SASL steps (handshakes of any version and mechanism, tokens of random
     * bytes or wrong passwords, ApiVersions, other APIs, garbage frames) never get a request served
     * without the password: a Metadata request sent after them is never answered with the cluster.
     */
    @Test
    void noSequenceOfSaslStepsWithoutThePasswordGetsARequestServed() throws Exception {
        start(sasl("SASL_PLAINTEXT", "PLAIN,SCRAM-SHA-256"), Map.of("alice", "alice-secret"));
        java.util.Random random = new java.util.Random(42);
        String[] mechanisms = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI", ""};
        for (int round = 0; round < 200; round++) {
            try (Socket s = connect()) {
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                if (random.nextBoolean()) {
                    // most sequences start as a client would: a handshake for an enabled mechanism
                    out.write(frame(ApiKeys.SASL_HANDSHAKE, (short) 1, 100,
                            new SaslHandshakeRequestData().setMechanism(mechanisms[random.nextInt(2)])));
                }
                int steps = 1 + random.nextInt(4);
                for (int i = 0; i < steps; i++) {
                    switch (random.nextInt(7)) {
                        case 0:
                            out.write(frame(ApiKeys.SASL_HANDSHAKE, (short) random.nextInt(2), i,
                                    new SaslHandshakeRequestData().setMechanism(mechanisms[random.nextInt(mechanisms.length)])));
                            break;
                        case 1:
                            byte[] junk = new byte[random.nextInt(64)];
                            random.nextBytes(junk);
                            out.write(frame(ApiKeys.SASL_AUTHENTICATE, (short) random.nextInt(3), i,
                                    new SaslAuthenticateRequestData().setAuthBytes(junk)));
                            break;
                        case 2:
                        case 6:
                            out.write(frame(ApiKeys.SASL_AUTHENTICATE, (short) random.nextInt(3), i,
                                    new SaslAuthenticateRequestData().setAuthBytes(random.nextBoolean()
                                            ? "\0alice\0alice-secreT".getBytes(StandardCharsets.UTF_8)
                                            : "n,,n=alice,r=fuzznonce".getBytes(StandardCharsets.UTF_8))));
                            break;
                        case 3:
                            out.write(frame(ApiKeys.API_VERSIONS, (short) 3, i, new ApiVersionsRequestData()
                                    .setClientSoftwareName("fuzz").setClientSoftwareVersion("1")));
                            break;
                        case 4:
                            byte[] bare = new byte[random.nextInt(40)];
                            random.nextBytes(bare);
                            out.write(ByteBuffer.allocate(4 + bare.length).putInt(bare.length).put(bare).array());
                            break;
                        default:
                            out.write(frame(ApiKeys.METADATA, (short) 12, i, new MetadataRequestData().setTopics(null)));
                            break;
                    }
                }
                out.write(frame(ApiKeys.METADATA, (short) 12, 999, new MetadataRequestData().setTopics(null)));
                s.getOutputStream().write(out.toByteArray());
                s.getOutputStream().flush();
                ByteBuffer r;
                try {
                    while ((r = readFrame(s)) != null) {
                        if (r.remaining() >= 4 && r.getInt(0) == 999) {
                            ResponseHeader.parse(r, ApiKeys.METADATA.responseHeaderVersion((short) 12));
                            assertThat(new org.apache.kafka.common.message.MetadataResponseData(new ByteBufferAccessor(r),
                                    (short) 12).brokers()).as("round %d: Metadata served without authentication", round)
                                    .isEmpty();
                        }
                    }
                } catch (IOException e) {
                    // reset by the broker closing with unread bytes: closed, which is the point
                }
            }
        }
        produceAndConsume(clientSasl("SASL_PLAINTEXT", "SCRAM-SHA-256", "alice", "alice-secret"));
    }

    @Test
    void aPlaintextListenerAnswersSaslRequestsWithIllegalSaslState() throws Exception {
        start(Map.of(), Map.of());
        try (Socket s = connect()) {
            send(s, frame(ApiKeys.SASL_HANDSHAKE, (short) 1, 3, new SaslHandshakeRequestData().setMechanism("PLAIN")));
            ByteBuffer r = readFrame(s);
            ResponseHeader.parse(r, ApiKeys.SASL_HANDSHAKE.responseHeaderVersion((short) 1));
            assertThat(Errors.forCode(new SaslHandshakeResponseData(new ByteBufferAccessor(r), (short) 1).errorCode()))
                    .isEqualTo(Errors.ILLEGAL_SASL_STATE);
        }
    }

    @Test
    void saslSettingsAreChecked() throws IOException {
        try (LogStore s = LocalStorage.open(dir)) {
            assertThatThrownBy(() -> ShaleBroker.builder(s).listen("127.0.0.1", 0)
                    .security(Map.of("security.protocol", "SASL_PLAINTEXT")).start())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sasl.users.file");
            assertThatThrownBy(() -> ShaleBroker.builder(s).listen("127.0.0.1", 0)
                    .security(Map.of("security.protocol", "SASL_PLAINTEXT", "sasl.enabled.mechanisms", "GSSAPI"))
                    .saslUser("a", "b").start())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("GSSAPI");
            assertThatThrownBy(() -> ShaleBroker.builder(s).listen("127.0.0.1", 0)
                    .security(Map.of("security.protocol", "SASL_PLAINTEXT", "sasl.users.file", dir.resolve("none").toString()))
                    .start())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sasl.users.file");
            assertThatThrownBy(() -> ShaleBroker.builder(s).listen("127.0.0.1", 0)
                    .security(Map.of("security.protocol", "TLS")).start())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("security.protocol");
            assertThatThrownBy(() -> ShaleBroker.builder(s).listen("127.0.0.1", 0).saslUser("a", "b").start())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("SASL users");
        }
    }

    @Test
    void brokerPropertiesTakesTheListenerSettingsAndNamesAMisspeltOne() {
        BrokerStore ok = BrokerStore.fromProperties(Map.of("data.dir", "d", "security.protocol", "SSL",
                "ssl.keystore.password", "p", "ssl.keystore.location", "k"), null, "broker.properties");
        assertThat(ok.security).containsOnlyKeys("security.protocol", "ssl.keystore.password", "ssl.keystore.location");
        assertThatThrownBy(() -> BrokerStore.fromProperties(Map.of("data.dir", "d", "ssl.keystore.pasword", "p"), null,
                "broker.properties")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown listener security setting 'ssl.keystore.pasword'")
                .message().doesNotContain("AWS");
    }

    /** The command line: a broker.properties with a local store, SASL_SSL and a users file. */
    @Test
    void brokerMainReadsTheListenerSecurityFromItsConfigFile() throws Exception {
        Path users = keys.resolve("users-main.properties");
        Files.writeString(users, "alice=alice-secret\n");
        Path config = keys.resolve("broker.properties");
        Files.writeString(config, String.join("\n",
                "data.dir=" + dir.resolve("data"),
                "security.protocol=SASL_SSL",
                "ssl.keystore.location=" + brokerKeystore,
                "ssl.keystore.password=" + BROKER_PASS,
                "ssl.keystore.type=PKCS12",
                "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
                "sasl.users.file=" + users, ""));
        Path pem = keys.resolve("broker-ca-main.pem");
        keytool("-exportcert", "-rfc", "-alias", "broker", "-keystore", brokerKeystore.toString(), "-storepass",
                BROKER_PASS, "-file", pem.toString());
        BrokerMain.Launched l = BrokerMain.launch(new String[] {"--config", config.toString(), "--listen", "127.0.0.1:0"});
        try {
            broker = null;
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:" + l.broker.port());
            p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
            p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
            // the README's client.properties: SCRAM-SHA-512, the broker's certificate as a PEM trust store
            p.put("security.protocol", "SASL_SSL");
            p.put("sasl.mechanism", "SCRAM-SHA-512");
            p.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required"
                    + " username=\"alice\" password=\"alice-secret\";");
            p.put("ssl.truststore.location", pem.toString());
            p.put("ssl.truststore.type", "PEM");
            try (Admin a = Admin.create(p)) {
                assertThat(a.describeCluster().clusterId().get(20, TimeUnit.SECONDS)).isEqualTo(l.broker.clusterId());
            }
        } finally {
            l.close();
        }
    }

    /**
     * kcat (librdkafka) with SASL_SSL and PLAIN, as the README shows it; where kcat is installed. (Not
     * SCRAM: librdkafka before 2.6.1, such as Debian 12's 2.0.2, repeats the client nonce in its final
     * SCRAM message, which kafka-clients' ScramSaslServer, and so Kafka 4.x itself, refuses.)
     */
    @Test
    void kcatOverSaslSsl() throws Exception {
        String kcat = null;
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, "kcat"))) {
                kcat = Path.of(d, "kcat").toString();
            }
        }
        if (kcat == null && "required".equals(System.getProperty("shale.test.kcat"))) {
            throw new AssertionError("kcat is not installed but -Dshale.test.kcat=required (Debian package kcat)");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(kcat != null, "kcat is not installed");
        Path pem = keys.resolve("broker-ca.pem");
        if (!Files.exists(pem)) {
            keytool("-exportcert", "-rfc", "-alias", "broker", "-keystore", brokerKeystore.toString(), "-storepass",
                    BROKER_PASS, "-file", pem.toString());
        }
        start(sasl("SASL_SSL", "PLAIN"), Map.of("alice", "alice-secret"));
        store.createTopic("greetings", 1);
        List<String> common = List.of(kcat, "-b", "localhost:" + broker.port(), "-X", "security.protocol=SASL_SSL",
                "-X", "sasl.mechanisms=PLAIN", "-X", "sasl.username=alice", "-X", "ssl.ca.location=" + pem);
        List<String> produce = new ArrayList<>(common);
        produce.addAll(List.of("-X", "sasl.password=alice-secret", "-P", "-t", "greetings", "-p", "0"));
        assertThat(runKcat(produce, "hello\nworld\n")).isEmpty();
        List<String> consume = new ArrayList<>(common);
        consume.addAll(List.of("-X", "sasl.password=alice-secret", "-C", "-t", "greetings", "-p", "0", "-o", "beginning", "-e"));
        assertThat(runKcat(consume, "")).isEqualTo("hello\nworld\n");
        List<String> wrong = new ArrayList<>(common);
        wrong.addAll(List.of("-X", "sasl.password=wrong-secret", "-L", "-m", "5"));
        assertThatThrownBy(() -> runKcat(wrong, "")).isInstanceOf(AssertionError.class).hasMessageContaining("exit code");
    }

    private Path kcatScratch() {
        return keys.resolve("kcat-" + System.nanoTime());
    }

    private String runKcat(List<String> cmd, String input) throws Exception {
        Path in = kcatScratch();
        Path out = kcatScratch();
        Files.writeString(in, input, StandardCharsets.UTF_8);
        Path err = kcatScratch();
        Process p = new ProcessBuilder(cmd).redirectInput(in.toFile()).redirectOutput(out.toFile())
                .redirectError(err.toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("kcat finished").isTrue();
        assertThat(p.exitValue()).as("exit code of kcat; its errors: %s", Files.readString(err, StandardCharsets.UTF_8))
                .isZero();
        return Files.readString(out, StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- raw frames

    private Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", broker.port());
        s.setSoTimeout(10_000);
        return s;
    }

    private static byte[] frame(ApiKeys key, short version, int correlationId, ApiMessage body) {
        RequestHeaderData h = new RequestHeaderData().setRequestApiKey(key.id).setRequestApiVersion(version)
                .setClientId("raw-test").setCorrelationId(correlationId);
        ByteBuffer b = RequestUtils.serialize(h, key.requestHeaderVersion(version), body, version);
        ByteBuffer out = ByteBuffer.allocate(4 + b.remaining());
        out.putInt(b.remaining()).put(b).flip();
        return out.array();
    }

    private static void send(Socket s, byte[] frame) throws IOException {
        s.getOutputStream().write(frame);
        s.getOutputStream().flush();
    }

    /** The next response frame, or null if the broker closed the connection. */
    private static ByteBuffer readFrame(Socket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        try {
            int size = in.readInt();
            assertThat(size).as("a Kafka frame's size").isBetween(0, 1 << 20);
            byte[] b = new byte[size];
            in.readFully(b);
            return ByteBuffer.wrap(b);
        } catch (EOFException | SocketException e) {
            return null;
        }
    }
}
