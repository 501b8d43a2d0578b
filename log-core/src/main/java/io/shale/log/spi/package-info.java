/**
 * The storage SPI: the two components a {@link io.shale.log.LogStore} is built from.
 *
 * <ul>
 *   <li>{@link io.shale.log.spi.WriteAheadLog}: makes appends durable before they are
 *       acknowledged; one WAL is shared by every partition of a store.</li>
 *   <li>{@link io.shale.log.spi.ObjectStore}: the primary durable home of the log (S3, an
 *       S3-compatible store, or a local directory). Correctness relies only on create-if-absent
 *       ({@code If-None-Match: *}).</li>
 * </ul>
 *
 * <p>Implementations live outside {@code log-core} ({@code storage-local}, {@code storage-s3});
 * the {@code storage-testkit} module holds the conformance suites every implementation must pass.
 * Retries, metrics and fault injection are wrappers around any implementation, not copies inside
 * each.
 */
package io.shale.log.spi;
