/**
 * Shale's public API: {@link io.shale.log.LogStore} and the types it takes and returns.
 *
 * <p>Start with {@link io.shale.log.LogStore#builder()}. The record format (Kafka record batch
 * v2) is in {@link io.shale.log.record}; the storage SPI in {@link io.shale.log.spi}. Packages
 * under {@code io.shale.log.internal} are the engine and are not API.
 */
package io.shale.log;
