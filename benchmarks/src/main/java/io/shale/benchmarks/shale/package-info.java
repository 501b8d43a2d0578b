/**
 * Shale itself, through its public API only ({@code io.shale.log.LogStore}), built by
 * {@link io.shale.benchmarks.ShaleStores}. Batches are Kafka v2 batches of 16 x 1 KiB records, the
 * same bytes the Kafka peer appends.
 */
package io.shale.benchmarks.shale;
