/**
 * Measurement tools for figures that JMH does not measure well, each a plain main program that
 * prints a markdown section and stores it in {@code benchmarks/MEASUREMENTS.md}:
 * {@link io.shale.benchmarks.tools.RequestCounts} (object-store requests per GiB written and read,
 * metadata share), {@link io.shale.benchmarks.tools.ObjectWalLatency} (object-WAL append latency
 * against S3 PUT latency), {@link io.shale.benchmarks.tools.ColdRead} (cold catch-up reads against
 * raw ranged GETs) and {@link io.shale.benchmarks.tools.IdlePartitionMemory} (heap per idle
 * partition). Run them with {@code benchmarks/measure.sh [--smoke] [all|requests|objectwal|coldread|memory]}.
 *
 * <p>They count object-store calls with {@link io.shale.benchmarks.tools.CountingObjectStore}, a
 * decorator of the store handed to {@code LogStore.builder()}, and S3 HTTP requests with a counting
 * HTTP client; S3 runs against S3Proxy started in the same JVM (storage-s3's test-jar).
 */
package io.shale.benchmarks.tools;
