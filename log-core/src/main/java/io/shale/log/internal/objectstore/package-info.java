/**
 * Wrappers around any {@link io.shale.log.spi.ObjectStore}: the engine's single retry policy
 * ({@link io.shale.log.internal.objectstore.RetryingObjectStore}). Not exported API.
 */
package io.shale.log.internal.objectstore;
