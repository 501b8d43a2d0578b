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
 *
 * <p>For a cluster of nodes sharing a bucket and a catalog (docs/rfcs/0005-postgres-catalog-and-cluster.md),
 * each node has its own WAL: {@link io.shale.log.wal.ObjectWalReader} lets a node that took over
 * partitions of a dead node read that node's WAL, read-only, for exactly those partitions; and a
 * node's context that implements {@link io.shale.log.wal.WalCommittedOffsets} makes its WAL keep an
 * object until every partition in it is committed past it, by whichever node. Both are used by the
 * store's engine, not by applications.
 */
package io.shale.log.wal;
