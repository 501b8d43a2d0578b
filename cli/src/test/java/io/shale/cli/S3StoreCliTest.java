package io.shale.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.LogStore;
import io.shale.log.wal.ObjectWriteAheadLog;
import io.shale.storage.s3.S3ObjectStore;
import io.shale.storage.s3.S3ProxyExtension;
import io.shale.storage.s3.S3ProxyServer;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.Payload;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * inspect, dump, verify and consume against a store on S3 (S3Proxy in-process), with credentials
 * from the AWS default chain (system properties here), as a user would run them.
 */
@ExtendWith(S3ProxyExtension.class)
class S3StoreCliTest {
    private static final String BUCKET = "cli";

    private final S3ProxyServer s3;
    private String prefix;

    S3StoreCliTest(S3ProxyServer s3) {
        this.s3 = s3;
    }

    @BeforeAll
    static void credentialsFromTheDefaultChain() {
        System.setProperty("aws.accessKeyId", S3ProxyServer.DEFAULT_ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", S3ProxyServer.DEFAULT_SECRET_KEY);
    }

    @AfterAll
    static void clearCredentials() {
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
    }

    @BeforeEach
    void store(TestInfo test) {
        s3.createBucket(BUCKET);
        prefix = "stores/" + test.getTestMethod().orElseThrow().getName() + "/";
        try (LogStore store = LogStore.builder()
                .objectStore(S3ObjectStore.create(s3.options(BUCKET, prefix).build()))
                .wal(ObjectWriteAheadLog.builder().build())
                .open()) {
            Cli.fill(store, 12);
        }
    }

    private String[] args(String command, String... more) {
        List<String> a = new ArrayList<>(List.of(command, "--bucket", BUCKET, "--prefix", prefix, "--endpoint",
                s3.endpoint().toString(), "--region", "us-east-1", "--path-style", "--allow-http"));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    /** The store's objects as the S3 API shows them (keys relative to the prefix). */
    private S3ObjectStore raw() {
        return S3ObjectStore.create(s3.options(BUCKET, prefix).build());
    }

    private String firstDataObject(S3ObjectStore raw) {
        List<String> keys = raw.list("data/", null, 1000).join().objects().stream().map(ObjectInfo::key).toList();
        assertThat(keys).isNotEmpty();
        return keys.get(0);
    }

    @Test
    void inspectAndVerifyAHealthyStore() {
        Cli.Result inspect = Cli.run(args("inspect"));
        assertThat(inspect.exitCode()).as(inspect.toString()).isZero();
        assertThat(inspect.out()).contains("store s3://" + BUCKET + "/" + prefix).contains("topic orders")
                .containsPattern("(?m)^  1\\s+0\\s+12\\s").contains("orders-1 [0, 12)");
        assertThat(inspect.out() + inspect.err()).doesNotContain(S3ProxyServer.DEFAULT_SECRET_KEY)
                .doesNotContain(S3ProxyServer.DEFAULT_ACCESS_KEY);

        Cli.Result verify = Cli.run(args("verify"));
        assertThat(verify.exitCode()).as(verify.toString()).isZero();
        assertThat(verify.out()).contains("OK: no problems found");

        Cli.Result dump = Cli.run(args("dump", "--topic", "events", "--print-data"));
        assertThat(dump.exitCode()).as(dump.toString()).isZero();
        assertThat(dump.out()).contains("key: b payload: e1");

        Cli.Result consume = Cli.run(args("consume", "--topic", "events"));
        assertThat(consume.exitCode()).as(consume.toString()).isZero();
        assertThat(consume.out().lines().toList()).containsExactly("e0", "e1", "e2");
    }

    @Test
    void verifyDetectsACorruptObjectOnS3() {
        String key;
        try (S3ObjectStore raw = raw()) {
            key = firstDataObject(raw);
            ByteBuffer b = raw.get(key).join();
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            bytes[30] ^= 0x01;
            raw.put(key, Payload.of(bytes), null).join();
        }
        Cli.Result r = Cli.run(args("verify"));
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(ShaleCli.EXIT_PROBLEMS);
        assertThat(r.out()).contains("PROBLEM: object " + key).contains("CRC-32C mismatch");
    }

    @Test
    void verifyDetectsAMissingObjectOnS3() {
        String key;
        try (S3ObjectStore raw = raw()) {
            key = firstDataObject(raw);
            raw.delete(List.of(key)).join();
        }
        Cli.Result r = Cli.run(args("verify"));
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(ShaleCli.EXIT_PROBLEMS);
        assertThat(r.out()).contains("PROBLEM: object " + key + " is missing");
    }

    @Test
    void aWrongPrefixIsAClearError() {
        prefix = "stores/typo/";
        Cli.Result r = Cli.run(args("inspect"));
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(ShaleCli.EXIT_USAGE);
        assertThat(r.err()).contains("no Shale store at s3://" + BUCKET + "/stores/typo/").contains("--prefix")
                .doesNotContain("\tat ");
    }
}
