package io.shale.log.internal.manifest;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@link Catalog} shared by the nodes of a cluster: each node owns some of the store's
 * partitions (each under a lease and a partition epoch), appends only to those, commits its
 * uploads fenced on their epochs, and reads every partition from committed data. The engine
 * opened over one runs as a cluster node (see {@code StoreEngine}).
 *
 * <p>Differences from the single-writer contract of {@link Catalog}: {@link #claimWriter()}
 * registers the node (fencing an earlier process of the same node id) and returns its
 * registration number, which also names its keys; {@link #commit} accepts only ops on partitions
 * this node holds (uploads, log-start moves, compaction results, object deletions) and fails
 * {@code FENCED} naming the partitions lost if any was taken from it, after which
 * {@link #holds} is false for those partitions, so the caller can commit again without them;
 * admin ops (topics, producer ids) go through the methods below. {@link #refresh()} also works
 * for the writable node: it follows other nodes' commits.
 *
 * <p><b>Threading.</b> Thread-safe, as {@link Catalog}. {@link #holds}, {@link #mayAcknowledge},
 * {@link #partitionEpoch} and {@link #knownOwner} never block and never do I/O.
 */
public interface ClusterCatalog extends Catalog {

    /** This node's id, unique among the cluster's live nodes. */
    String nodeId();

    /**
     * The prefix of every data object this node process writes ({@code data/node/<id>/<registration>-}):
     * unique to this registration, so nodes never write the same key.
     */
    String dataKeyPrefix();

    /** The prefix of every data object any process of this node id writes ({@code data/node/<id>/}). */
    String nodeKeyPrefix();

    /**
     * Whether {@code key} is a data object written by this node id under this registration or an
     * earlier one (an earlier process of this node, fenced by the registration): the only keys this
     * node's orphan cleanup may judge.
     */
    boolean writtenByThisNode(String key);

    /** Whether this node holds {@code partitionId} now (has not learnt that it lost it). */
    boolean holds(int partitionId);

    /** Whether an append to {@code partitionId} may be acknowledged now (held, lease not run out). */
    boolean mayAcknowledge(int partitionId);

    /** The epoch under which this node holds {@code partitionId}, or -1 if it does not. */
    long partitionEpoch(int partitionId);

    /** The partition's owner as last seen (this node's own claims, or the last refresh); null if none or unknown. */
    String knownOwner(int partitionId);

    /**
     * {@link #commit} of an upload whose data was appended under {@code epochs} (partition id to
     * partition epoch): fails {@code FENCED} if this node holds any of them at another epoch now
     * (lost and claimed again), so the caller leaves those partitions out, as for lost ones.
     */
    void commitUpload(List<ManifestOp> ops, Map<Integer, Long> epochs);

    /** Creates a topic of unowned partitions; the state shows it when this returns. */
    void createTopic(String name, int partitions, Map<String, String> configs);

    /** Reserves {@code count} producer ids for this node; returns the first. */
    long allocateProducerIds(long count);

    /**
     * Takeover with the object WAL: the nodes whose WALs may hold acknowledged entries of
     * {@code partitionId} above its committed end, oldest owner first, as recorded when this node
     * last claimed it (this node among them if it owned the partition before without handing it
     * over committed). Empty: nothing to replay (a planned move, or a partition never written).
     * Meaningful during {@link Engine#claimed}. No I/O.
     */
    List<String> walNodesOf(int partitionId);

    /**
     * For each of {@code partitionIds}, the end offset committed in the catalog now by any node; a
     * partition that no longer exists is left out. One query, off the caller's thread (the object
     * WAL's {@code WalCommittedOffsets}).
     */
    java.util.concurrent.CompletableFuture<Map<Integer, Long>> committedEnds(Set<Integer> partitionIds);

    /** Called once by the engine after {@link #claimWriter()}: where ownership changes are reported. */
    void bind(Engine engine);

    /** The engine's side of ownership changes. */
    interface Engine {
        /**
         * Partitions just claimed ({@code id -> partition epoch}); the state holds their committed
         * data. The engine restarts each at its committed end, recovers what a dead owner left
         * (see {@code StoreEngine#recoverTakenOver}) and then accepts appends to it.
         */
        void claimed(Map<Integer, Long> epochs);

        /**
         * A planned release is starting: refuse new appends to {@code partitionIds} and upload and
         * commit everything appended to them, within {@code timeoutMs}. Throws if that fails (the
         * partitions then accept appends again and are not released).
         */
        void drain(Set<Integer> partitionIds, long timeoutMs);

        /**
         * This node no longer owns {@code partitionIds} (released, taken over, lease ran out):
         * stop acknowledging, fail what is pending, serve their committed data only. May be called
         * on any thread, must be quick.
         */
        void lost(Set<Integer> partitionIds, String why);
    }
}
