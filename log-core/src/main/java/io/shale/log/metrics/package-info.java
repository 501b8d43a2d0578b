/**
 * Metrics hooks of a store: {@link io.shale.log.metrics.StoreMetrics} (what the store reports),
 * {@link io.shale.log.metrics.StoreGauges} (its live sizes and lags) and
 * {@link io.shale.log.metrics.CommittedOffsets} (the extension point for consumer lag). No
 * metrics library is needed here; {@code shale-metrics-micrometer} binds these to Micrometer.
 */
package io.shale.log.metrics;
