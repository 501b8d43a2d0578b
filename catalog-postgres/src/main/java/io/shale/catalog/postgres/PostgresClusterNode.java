package io.shale.catalog.postgres;

import io.shale.log.TopicPartition;
import io.shale.log.spi.CatalogFactory;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One node of a cluster of Shale nodes sharing one bucket and one PostgreSQL catalog (preview):
 * made by {@link PostgresCatalog#clusterNode}, given to
 * {@link io.shale.log.LogStoreBuilder#catalog(CatalogFactory)}, and then the handle on the
 * partitions this node owns.
 *
 * <pre>{@code
 * PostgresClusterNode node = PostgresCatalog.clusterNode(PostgresCatalogOptions.builder(jdbcUrl)
 *         .nodeId("node-1").build(), Duration.ofSeconds(10));
 * LogStore store = S3Storage.builder(...).catalog(node).open();   // owns nothing yet
 * store.createTopic("events", 12, Map.of());                      // once, on any node
 * node.claim(List.of(new TopicPartition("events", 0)));           // this node appends to events-0
 * }</pre>
 *
 * <p><b>What a node does.</b> It appends only to the partitions it owns: an append to any other
 * fails {@link io.shale.log.ErrorKind#NOT_OWNER} naming the owner when known, and so does an append
 * in flight when the partition is lost (never acknowledged). It reads every partition: those it
 * does not own from their committed data, following the other nodes' commits every
 * {@code refresh.interval.ms}. Ownership is a lease per partition with a partition epoch (bumped by
 * every claim): the node renews its leases every {@code lease}/3, acknowledges an append only while
 * the partition's lease holds once the append is durable, and stamps the partition epoch into the
 * batches as their leader epoch. Uploads are committed in one transaction fenced on the epochs of
 * their partitions; if a partition was taken over meanwhile, the upload is committed again without
 * it. Retention, compaction and {@code deleteRecordsBefore} act on owned partitions only (the latter
 * fails {@code NOT_OWNER} elsewhere). Topics are created on any node ({@code createTopic}, unowned
 * partitions); adding partitions, altering and deleting topics are not supported on a cluster store
 * yet ({@code INVALID_ARGUMENT}).
 *
 * <p><b>Durability on a move.</b> A planned move ({@link #release} here, then {@link #claim} on
 * the new owner) loses nothing: the old owner stops appending, uploads and commits what it holds,
 * then releases; the new owner starts at the committed end. When a node dies instead and another
 * claims its partitions after the lease ran out: with the object WAL, the claim reads the WALs of
 * the partition's earlier owners, serves what they acknowledged at the same offsets and commits it
 * before it returns (nothing acknowledged is lost); with a WAL on the dead node's disk, what that
 * node acknowledged after its last committed upload of the partition is lost and its offsets are
 * reused (docs/rfcs/0005, "What each WAL guarantees on takeover"). An object WAL must have a key
 * prefix of its own per node ending with the node id, the same pattern on every node (e.g.
 * {@code wal/<node id>/}): a takeover finds another node's WAL by replacing the id.
 *
 * <p><b>Threading.</b> Thread-safe. {@link #ownedPartitions}, {@link #owner} and {@link #owners} read
 * this node's view without I/O; {@link #claim} and {@link #release} block for database round trips
 * (and {@code release} for the upload), each bounded. Listeners hear of claims and releases on the
 * caller's thread, before {@code claim} or {@code release} returns, and of losses (a partition taken
 * over, or a lease that could not be renewed) on the node's own notification thread, after appends
 * to the partition were already stopped; they must be quick and must not block.
 *
 * <p><b>Lifecycle.</b> One store at a time: the node registers when a writable store opens with it
 * (fencing an earlier process of the same node id: node ids must be unique among live nodes), and
 * leaves when the store closes, without releasing (its leases run out; release first for a planned
 * shutdown). A second writable open while one is open fails {@code IN_USE}; read-only opens read
 * the store as any reader. Before the open and after the close the ownership methods fail
 * {@code CLOSED}.
 *
 * <p><b>Errors</b> ({@link io.shale.log.ShaleException}): {@code UNAVAILABLE} when the database
 * cannot be reached in time (retry), {@code UNKNOWN_TOPIC_OR_PARTITION} for a partition the store
 * does not have, {@code CLOSED} as above; see {@link PostgresCatalog} for the rest.
 *
 * <p><b>Leader epochs.</b> A partition's epoch is per partition: read it from
 * {@link #ownedPartitions()} or {@link #owners()} (and from the batches, which carry it). The
 * store-wide {@code LogStore.leaderEpoch()} of a cluster node's store is its registration number,
 * not a partition's epoch.
 *
 * <p>Implemented by this module only; not meant to be implemented elsewhere.
 */
public interface PostgresClusterNode extends CatalogFactory {

    /** This node's id ({@link PostgresCatalogOptions#nodeId()}). */
    String nodeId();

    /** How long a claim or renewal holds a partition. */
    Duration lease();

    /**
     * The partitions this node owns now, with their partition epochs (the leader epochs it stamps):
     * those it claimed and has not released or learnt that it lost. No I/O.
     */
    Map<TopicPartition, Long> ownedPartitions();

    /**
     * Every partition of the store and its owner, as this node last saw them: its own claims,
     * releases and losses at once, other nodes' changes as of the last refresh
     * ({@code refresh.interval.ms}). No I/O.
     */
    List<PartitionOwner> owners();

    /** {@code partition}'s entry of {@link #owners()}, or empty if this node does not know the partition. */
    Optional<PartitionOwner> owner(TopicPartition partition);

    /**
     * Claims those of {@code partitions} that are unowned or whose owner's lease ran out (each gets
     * this node as owner and its epoch + 1), restarts each at its committed end and opens it for
     * appends; partitions another node holds under a live lease are left out. Blocks for two
     * database transactions and a reload of the catalog. A partition this node still believed it
     * held, whose lease ran out (renewals failed), can be claimed again too: it restarts at its
     * committed end under the new epoch, and its appends not acknowledged yet fail {@code NOT_OWNER}.
     *
     * @return the partitions claimed, with their new epochs (they accept appends when this returns)
     * @throws io.shale.log.ShaleException {@code UNKNOWN_TOPIC_OR_PARTITION} naming a partition the
     *     store does not have (nothing claimed); see the class comment for the rest
     */
    Map<TopicPartition, Long> claim(Collection<TopicPartition> partitions);

    /**
     * A planned release (rebalance, shutdown): refuses new appends to {@code partitions}
     * ({@code NOT_OWNER}), uploads and commits everything appended to them within {@code timeout},
     * then releases them, so that the next owner starts at their committed end with nothing to
     * replay. If the upload does not finish in time, nothing is released and the partitions accept
     * appends again ({@code UNAVAILABLE} is thrown).
     *
     * @return the partitions released (those this node no longer held are left out, and were reported lost)
     */
    Set<TopicPartition> release(Collection<TopicPartition> partitions, Duration timeout);

    /** Adds a listener of this node's ownership changes (see the class comment for its thread). */
    void addListener(OwnershipListener listener);

    void removeListener(OwnershipListener listener);

    /**
     * A partition's owner: {@code nodeId} null when nobody owns it (never claimed, or released);
     * {@code epoch} its partition epoch (Kafka's leader epoch).
     */
    record PartitionOwner(TopicPartition partition, String nodeId, long epoch) {
    }

    /** Told of this node's ownership changes. */
    interface OwnershipListener {
        /** This node claimed {@code partition} with {@code epoch}; it accepts appends now. */
        default void gained(TopicPartition partition, long epoch) {
        }

        /**
         * This node no longer owns {@code partition}: released, or lost (taken over after its lease
         * ran out, or its lease could not be renewed in time). Appends to it now fail {@code NOT_OWNER}.
         */
        default void lost(TopicPartition partition, String why) {
        }
    }
}
