/**
 * The local file write-ahead log: {@link io.shale.storage.local.wal.FileWriteAheadLog}, configured
 * through its {@link io.shale.storage.local.wal.FileWriteAheadLog.Builder}. Everything else in this
 * package is an implementation detail; the on-disk format is described in {@code WalFormat}.
 */
package io.shale.storage.local.wal;
