package io.shale.broker;

import io.shale.log.LogStore;
import io.shale.log.TopicPartition;
import java.util.List;

/**
 * Where partitions and coordinators live, as Metadata, Produce, Fetch and FindCoordinator answer:
 * on one broker ({@link #single}) every partition is led by this broker at the store's leader
 * epoch; in a cluster ({@link BrokerCluster}) by its owner's broker at its partition epoch.
 */
interface Placement {
    /** A broker's id and the address clients are told to connect to. */
    record Broker(int id, String host, int port) {
    }

    /** Every broker of the cluster (this one included), by id. */
    List<Broker> brokers();

    /** This broker. */
    Broker self();

    /** The broker leading {@code tp} now, or null when no broker does (clients retry). */
    Broker leader(TopicPartition tp);

    /** {@code tp}'s leader epoch (Kafka's; -1 if unknown). */
    int epoch(TopicPartition tp);

    /** Whether this broker leads {@code tp} (appends to it go here). */
    default boolean leads(TopicPartition tp) {
        Broker l = leader(tp);
        return l != null && l.id() == self().id();
    }

    /** The single broker of a store of its own: it leads everything at the store's leader epoch. */
    static Placement single(LogStore store, Broker self) {
        return new Placement() {
            @Override
            public List<Broker> brokers() {
                return List.of(self);
            }

            @Override
            public Broker self() {
                return self;
            }

            @Override
            public Broker leader(TopicPartition tp) {
                return self;
            }

            @Override
            public int epoch(TopicPartition tp) {
                return store.leaderEpoch();
            }
        };
    }
}
