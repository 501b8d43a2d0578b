/**
 * A {@link io.shale.log.spi.WriteAheadLog} whose durability is the object store:
 * {@link io.shale.log.wal.ObjectWriteAheadLog} batches the appends of every partition into one
 * object every flush interval or flush size, and acknowledges them once the object exists and the
 * writer is verified not fenced. A store using it survives the loss of its machine; a new writer
 * replays the objects. The object layout is {@link io.shale.log.wal.ObjectWalFormat}.
 *
 * <p>With {@link io.shale.log.wal.ObjectWriteAheadLog.Builder#dataObjects} the objects are data
 * objects as well (format version 2) and a store whose {@link io.shale.log.spi.WalContext}
 * implements {@link io.shale.log.wal.WalDataObjectSink} (Shale's engine) commits them to its
 * manifest as its first-level data objects instead of uploading the bytes again
 * ({@link io.shale.log.wal.WalDataObject}; design: docs/rfcs/0006-object-wal-data-objects.md).
 */
package io.shale.log.wal;
