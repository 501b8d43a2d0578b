package io.shale.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class S3StoreOptionsTest {
    private static S3StoreOptions.Builder valid() {
        return S3StoreOptions.builder().bucket("my-bucket").region("eu-west-1");
    }

    @Test
    void toStringShouldNeverShowTheSecretOrSessionToken() {
        S3StoreOptions o = valid().staticCredentials("AKIAEXAMPLEKEY1", "wJalrXUtnFEMI-secret", "session-token-xyz").build();
        assertThat(o.toString()).doesNotContain("wJalrXUtnFEMI-secret").doesNotContain("session-token-xyz")
                .doesNotContain("AKIAEXAMPLEKEY1").contains("AKIA****");
        assertThat(o.describe()).doesNotContain("AKIA").doesNotContain("secret");
    }

    @Test
    void defaultsShouldUseTheDefaultChainsAndTls() {
        S3StoreOptions o = S3StoreOptions.builder().bucket("b12").build();
        assertThat(o.region()).isEmpty();
        assertThat(o.hasStaticCredentials()).isFalse();
        assertThat(o.endpoint()).isEmpty();
        assertThat(o.keyPrefix()).isEmpty();
        assertThat(o.partSize()).isGreaterThanOrEqualTo(S3StoreOptions.MIN_PART_SIZE);
        assertThat(o.toString()).contains("<default chain>");
    }

    @Test
    void keyPrefixShouldBeNormalisedToEndInASlash() {
        assertThat(valid().keyPrefix("stores/orders").build().keyPrefix()).isEqualTo("stores/orders/");
        assertThat(valid().keyPrefix("stores/orders/").build().keyPrefix()).isEqualTo("stores/orders/");
        assertThat(valid().keyPrefix("").build().describe()).isEqualTo("s3://my-bucket/");
    }

    @Test
    void invalidSettingsShouldBeRejectedWithTheSettingNamed() {
        assertThatThrownBy(() -> S3StoreOptions.builder().build()).hasMessageContaining("bucket");
        assertThatThrownBy(() -> valid().bucket("My_Bucket").build()).hasMessageContaining("bucket name");
        assertThatThrownBy(() -> valid().keyPrefix("a/../b").build()).hasMessageContaining("keyPrefix");
        assertThatThrownBy(() -> valid().keyPrefix("/abs").build()).hasMessageContaining("keyPrefix");
        assertThatThrownBy(() -> valid().partSize(4L << 20).build()).hasMessageContaining("partSize");
        assertThatThrownBy(() -> valid().multipartThreshold(1024).build()).hasMessageContaining("multipartThreshold");
        assertThatThrownBy(() -> valid().maxConcurrency(0).build()).hasMessageContaining("maxConcurrency");
        assertThatThrownBy(() -> valid().apiCallTimeout(Duration.ofSeconds(1)).apiCallAttemptTimeout(Duration.ofSeconds(2)).build())
                .hasMessageContaining("apiCallAttemptTimeout");
        assertThatThrownBy(() -> valid().attemptTimeoutPerMiB(Duration.ofSeconds(-1)).build())
                .hasMessageContaining("attemptTimeoutPerMiB");
        assertThatThrownBy(() -> valid().region("EU-WEST-1").build()).hasMessageContaining("region");
        assertThatThrownBy(() -> valid().endpoint(URI.create("ftp://x")).build()).hasMessageContaining("endpoint");
    }

    @Test
    void plainHttpEndpointShouldNeedAnExplicitOptIn() {
        assertThatThrownBy(() -> valid().endpoint(URI.create("http://minio:9000")).build()).hasMessageContaining("allowInsecureHttp");
        assertThat(valid().endpoint(URI.create("http://minio:9000")).allowInsecureHttp(true).build().endpoint()).isPresent();
        assertThat(valid().endpoint(URI.create("https://minio:9000")).build().describe()).endsWith(" at https://minio:9000");
        assertThatThrownBy(() -> valid().endpoint(URI.create("https://user:pw@minio:9000")).build()).hasMessageContaining("user info");
    }

    @Test
    void directoryBucketsShouldBeRecognisedAndRefusePathStyle() {
        S3StoreOptions o = valid().bucket("logs--usw2-az1--x-s3").build();
        assertThat(o.isDirectoryBucket()).isTrue();
        assertThat(valid().bucket("plain-bucket").build().isDirectoryBucket()).isFalse();
        assertThatThrownBy(() -> valid().bucket("logs--usw2-az1--x-s3").pathStyleAccess(true).build())
                .hasMessageContaining("virtual-hosted");
    }
}
