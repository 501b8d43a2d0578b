/**
 * The peers Shale is measured against, in the same JMH run: Kafka 4.4's log layer
 * ({@code UnifiedLog}, created standalone as Kafka's own TestLinearWriteSpeed does) and Chronicle
 * Queue (memory-mapped, no fsync).
 */
package io.shale.benchmarks.peers;
