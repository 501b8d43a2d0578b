package io.shale.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.benchmarks.shale.ShaleReadBenchmark;
import io.shale.log.StoreConfig;
import io.shale.log.TopicConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The benchmark settings are parsed by the store only when a benchmark runs: check them here. */
class ShaleStoresTest {

    @Test
    void storeSettingsShouldBeAcceptedByStoreConfig() {
        StoreConfig config = StoreConfig.of(ShaleStores.STORE_SETTINGS);

        assertThat(config.retentionCheckIntervalMs()).isEqualTo(1_000L);
        assertThat(config.objectDeleteGraceMs()).isEqualTo(1_000L);
        assertThat(config.compactionIntervalMs()).isEqualTo(1_000L);
    }

    @Test
    void topicSettingsShouldBeAcceptedByTopicConfig() {
        TopicConfig config = TopicConfig.of(ShaleStores.TOPIC_SETTINGS);

        assertThat(config.retentionBytes()).isEqualTo(256L << 20);
        assertThat(config.segmentBytes()).isEqualTo(32 << 20);
    }

    @Test
    void readBenchmarkCacheSizeShouldBeAcceptedAndHoldTheReadSet() {
        StoreConfig config = StoreConfig.of(ShaleStores.STORE_SETTINGS)
                .with(Map.of(StoreConfig.LOG_CACHE_BYTES, ShaleReadBenchmark.LOG_CACHE_BYTES));

        assertThat(config.logCacheBytes()).isGreaterThanOrEqualTo(2 * Workload.READ_SET_BYTES);
    }
}
