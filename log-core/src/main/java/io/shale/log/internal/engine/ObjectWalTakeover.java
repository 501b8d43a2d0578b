package io.shale.log.internal.engine;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.internal.manifest.ClusterCatalog;
import io.shale.log.record.RecordBatchLayout;
import io.shale.log.spi.ObjectStore;
import io.shale.log.wal.ObjectWalReader;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link TakeoverRecovery} of a cluster node whose WAL is an object WAL (RFC 0005, "What each
 * WAL guarantees on takeover"): for a partition just claimed, reads the WAL of each node the
 * catalog names as a possible holder of its entries above the committed end
 * ({@link ClusterCatalog#walNodesOf}), oldest owner first, each WAL on its own (sequences of
 * different nodes' WALs are not comparable), each from where the one before ended, and delivers
 * what continues the partition's log.
 *
 * <p><b>Where another node's WAL is.</b> Every node of a cluster uses the same prefix pattern
 * {@code <base><node id>/} (checked at open: the prefix ends with the node's own id), so node X's
 * WAL is under this node's prefix with its own id replaced by X ({@link #walPrefixOf}).
 */
final class ObjectWalTakeover implements TakeoverRecovery {
    private static final Logger log = LoggerFactory.getLogger(ObjectWalTakeover.class);

    private final ObjectStore store;
    private final ClusterCatalog cluster;
    private final String ownPrefix;
    private final Predicate<String> committedDataObjects;

    ObjectWalTakeover(ObjectStore store, ClusterCatalog cluster, String ownPrefix, Predicate<String> committedDataObjects) {
        this.store = store;
        this.cluster = cluster;
        this.ownPrefix = ownPrefix;
        this.committedDataObjects = committedDataObjects;
    }

    /**
     * The WAL prefix of node {@code nodeId} in a cluster where this node ({@code ownNodeId}) uses
     * {@code ownPrefix}, which ends with {@code <ownNodeId>/}: the same prefix with the node id replaced.
     */
    static String walPrefixOf(String ownPrefix, String ownNodeId, String nodeId) {
        String suffix = ownNodeId + "/";
        if (!ownPrefix.endsWith(suffix)) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "object WAL keyPrefix '" + ownPrefix
                    + "' does not end with the node id '" + ownNodeId + "/'");
        }
        return ownPrefix.substring(0, ownPrefix.length() - suffix.length()) + nodeId + "/";
    }

    @Override
    public void recover(int partitionId, long committedEnd, Delivery delivery) {
        List<String> nodes = cluster.walNodesOf(partitionId);
        long end = committedEnd;
        for (String node : nodes) {
            String prefix = walPrefixOf(ownPrefix, cluster.nodeId(), node);
            ObjectWalReader reader = ObjectWalReader.builder(store, prefix)
                    .committedDataObjects(committedDataObjects)
                    .build();
            long[] next = {end};
            ObjectWalReader.Result r = reader.read(Map.of(partitionId, end), (sequence, stream, base, payload) -> {
                if (stream != partitionId || base != next[0]) {
                    return; // the reader delivers only entries continuing from the start; defensive
                }
                long entryEnd = endOf(payload);
                delivery.entry(base, payload);
                next[0] = entryEnd;
            });
            log.info("cluster node {}: takeover of partition {} read the WAL of node {} ({}) from offset {}: {} entries"
                    + " delivered, up to offset {} ({} objects read)", cluster.nodeId(), partitionId, node,
                    reader.describe(), end, r.entriesDelivered(), next[0], r.objectsRead());
            end = next[0];
        }
    }

    /** The offset after the last record of the Kafka record batches in {@code payload}. */
    static long endOf(ByteBuffer payload) {
        int pos = payload.position();
        int limit = payload.limit();
        long next = -1;
        while (pos < limit) {
            if (limit - pos < RecordBatchLayout.LAST_OFFSET_DELTA_OFFSET + 4) {
                throw new ShaleException(ErrorKind.CORRUPT_STORAGE, "a WAL entry ends inside a record batch header");
            }
            next = payload.getLong(pos) + payload.getInt(pos + RecordBatchLayout.LAST_OFFSET_DELTA_OFFSET) + 1L;
            pos += payload.getInt(pos + RecordBatchLayout.LENGTH_OFFSET) + RecordBatchLayout.LOG_OVERHEAD;
        }
        if (next < 0) {
            throw new ShaleException(ErrorKind.CORRUPT_STORAGE, "a WAL entry holds no record batch");
        }
        return next;
    }
}
