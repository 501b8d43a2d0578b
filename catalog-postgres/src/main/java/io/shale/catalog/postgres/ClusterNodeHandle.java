package io.shale.catalog.postgres;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.internal.manifest.Catalog;
import io.shale.log.internal.manifest.EngineCatalogFactory;
import io.shale.log.spi.ObjectStore;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link PostgresClusterNode}: the catalog factory of a cluster node and the handle on its ownership. */
final class ClusterNodeHandle implements PostgresClusterNode, EngineCatalogFactory {
    private static final Logger log = LoggerFactory.getLogger(ClusterNodeHandle.class);

    private final PostgresCatalogOptions options;
    private final Duration lease;
    private final AtomicReference<PgClusterCatalog> open = new AtomicReference<>();
    private final List<OwnershipListener> listeners = new CopyOnWriteArrayList<>();

    ClusterNodeHandle(PostgresCatalogOptions options, Duration lease) {
        this.options = options;
        this.lease = lease;
    }

    @Override
    public Catalog open(ObjectStore store, Clock clock, StoreConfig config, boolean readOnly) {
        if (readOnly) {
            return PgCatalog.open(options, store, clock, true); // a reader of the cluster store, not a node
        }
        PgClusterCatalog c = new PgClusterCatalog(options, lease, store, clock, this);
        if (!open.compareAndSet(null, c)) {
            c.close();
            throw new ShaleException(ErrorKind.IN_USE, "cluster node " + options.nodeId() + " already has a store"
                    + " open; one node serves one store at a time");
        }
        return c;
    }

    void detach(PgClusterCatalog c) {
        open.compareAndSet(c, null);
    }

    @Override
    public String describe() {
        return options.describe() + " as cluster node " + options.nodeId();
    }

    @Override
    public String nodeId() {
        return options.nodeId();
    }

    @Override
    public Duration lease() {
        return lease;
    }

    @Override
    public Map<TopicPartition, Long> ownedPartitions() {
        return current().owned();
    }

    @Override
    public List<PartitionOwner> owners() {
        return current().owners();
    }

    @Override
    public Optional<PartitionOwner> owner(TopicPartition partition) {
        Objects.requireNonNull(partition, "partition");
        return Optional.ofNullable(current().owner(partition));
    }

    @Override
    public Map<TopicPartition, Long> claim(Collection<TopicPartition> partitions) {
        return current().claim(partitions);
    }

    @Override
    public Set<TopicPartition> release(Collection<TopicPartition> partitions, Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        return current().release(partitions, timeout);
    }

    @Override
    public void addListener(OwnershipListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public void removeListener(OwnershipListener listener) {
        listeners.remove(listener);
    }

    void fireGained(TopicPartition tp, long epoch) {
        for (OwnershipListener l : listeners) {
            try {
                l.gained(tp, epoch);
            } catch (RuntimeException e) {
                log.error("an ownership listener of cluster node {} failed", options.nodeId(), e);
            }
        }
    }

    void fireLost(TopicPartition tp, String why) {
        for (OwnershipListener l : listeners) {
            try {
                l.lost(tp, why);
            } catch (RuntimeException e) {
                log.error("an ownership listener of cluster node {} failed", options.nodeId(), e);
            }
        }
    }

    PgClusterCatalog current() {
        PgClusterCatalog c = open.get();
        if (c == null) {
            throw new ShaleException(ErrorKind.CLOSED, "cluster node " + options.nodeId() + " has no store open:"
                    + " open a LogStore with LogStoreBuilder.catalog(node) first");
        }
        return c;
    }
}
