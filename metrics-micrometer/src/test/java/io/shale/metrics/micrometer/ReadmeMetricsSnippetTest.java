package io.shale.metrics.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shale.log.LogStore;
import io.shale.storage.local.LocalStorage;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's "Metrics" snippet, as written there (only the directory differs). */
class ReadmeMetricsSnippetTest {
    @TempDir
    Path dir;

    @Test
    void theReadmeSnippetShouldRunAndServeShaleMeters() {
        String served;
        // ---- README "Metrics" snippet (Path.of("/var/lib/app/shale") -> dir)
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (LogStore store = LocalStorage.builder(dir)
                .metrics(MicrometerStoreMetrics.builder(registry)
                        .tags("store", "orders")        // common tags: tell several stores apart
                        .build())
                .open()) {
            // create topics, append, read: the meters follow
            String text = registry.scrape();            // Prometheus text format: serve it on /metrics
            // ---- end of snippet
            served = text;
        }
        assertThat(served).contains("shale_upload_lag_bytes{store=\"orders\"} 0")
                .contains("shale_append_latency_seconds_count{store=\"orders\"} 0");
    }
}
