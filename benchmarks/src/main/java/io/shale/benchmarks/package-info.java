/**
 * JMH benchmarks of Shale beside its peers (Kafka's log layer, Chronicle Queue) and the machine's
 * limits (raw fdatasync, memory copy and CRC), measured in one run so that ratios are meaningful.
 *
 * <p>Sub-packages: {@code limits} (what the hardware allows), {@code peers} (Kafka, Chronicle),
 * {@code shale} (the store under test, built by {@link io.shale.benchmarks.ShaleStores}) and
 * {@code report} (turns JMH's JSON into RESULTS.md and PNG charts). Shared conventions live in
 * {@link io.shale.benchmarks.Workload}; every benchmark reports payload bytes and records moved
 * through {@link io.shale.benchmarks.PayloadCounters}.
 */
package io.shale.benchmarks;
