package io.shale.log.internal.engine;

import java.nio.ByteBuffer;

/**
 * Cluster nodes: where the acknowledged entries of a partition's previous owner come from when
 * this node takes the partition over (with the object WAL, the dead node's WAL objects in the
 * bucket). Set with {@link StoreEngine#takeoverRecovery}; called by {@code recoverTakenOver}
 * after the claim and before the partition accepts appends.
 */
@FunctionalInterface
public interface TakeoverRecovery {

    /**
     * Delivers, in offset order, the entries of partition {@code partitionId} that its previous
     * owner acknowledged from {@code committedEnd} on: the first starts exactly there and each
     * continues where the one before ended. Delivers nothing if there are none. May block (reads
     * the object store); throws {@code ShaleException} if they cannot be read, which fails the claim.
     */
    void recover(int partitionId, long committedEnd, Delivery delivery);

    /** Receives one entry: Kafka record batches with their offsets assigned, starting at {@code baseOffset}. */
    @FunctionalInterface
    interface Delivery {
        void entry(long baseOffset, ByteBuffer batches);
    }
}
