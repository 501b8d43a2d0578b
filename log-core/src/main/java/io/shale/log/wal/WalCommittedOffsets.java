package io.shale.log.wal;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Implemented by a {@link io.shale.log.spi.WalContext} whose store is one node of a cluster
 * sharing a catalog (RFC 0005): partitions of this node's WAL may be taken over by other nodes,
 * which replay this WAL's entries for them ({@link ObjectWalReader}) and commit them. Its WAL
 * must then keep an object until every partition with entries in it is committed past them,
 * whoever committed them. An {@link ObjectWriteAheadLog} checks whether its context implements
 * this interface; without it, trim deletes by sequence alone (one writer owns every partition of
 * its WAL, which is today's single-writer rule).
 *
 * <p><b>The deletion rule.</b> With this interface, trim deletes an object that its sequence rule
 * would delete (every entry below the trim point) only if, for every stream with an entry in the
 * object, {@link #committedEnds} answers {@link #GONE} or an end offset at or above the largest
 * end offset of that stream's entries in the object. An object the store owns as a committed data
 * object ({@link WalDataObjectSink}) is never deleted by the WAL either way. Objects kept by the
 * rule are checked again at the next trim.
 *
 * <p><b>Threading.</b> Called from the WAL's threads, once per trim pass that has objects to
 * judge, with every stream of those objects. Must not block: answer with a future (a catalog
 * query). A future that fails, or does not complete within the WAL's close timeout, keeps every
 * object of that pass (the WAL logs it and tries again at the next trim).
 */
public interface WalCommittedOffsets {
    /** The answer for a stream (partition) that no longer exists: its entries are needed by no one. */
    long GONE = Long.MAX_VALUE;

    /**
     * For each of {@code streamIds}, the end offset committed to the store's catalog now by any
     * node (every offset below it is in a committed data object), or {@link #GONE}. The answer must
     * come from the catalog as of this call or later (not a view older than the call), so that a
     * commit made by another node is seen. A stream missing from the map is treated as not
     * committed at all (its objects are kept).
     */
    CompletableFuture<Map<Integer, Long>> committedEnds(Set<Integer> streamIds);
}
