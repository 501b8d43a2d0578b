/**
 * A {@link io.shale.log.spi.WriteAheadLog} whose durability is the object store:
 * {@link io.shale.log.wal.ObjectWriteAheadLog} batches the appends of every partition into one
 * object every flush interval or flush size, and acknowledges them once the object exists and the
 * writer is verified not fenced. A store using it survives the loss of its machine; a new writer
 * replays the objects. The object layout is {@link io.shale.log.wal.ObjectWalFormat}.
 */
package io.shale.log.wal;
