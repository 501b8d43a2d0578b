package io.shale.log.internal.manifest;

import io.shale.log.internal.format.CorruptObjectException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The store's metadata as of one manifest version: topics, partitions, data objects and the
 * objects waiting for deletion. A deterministic state machine: applying the same deltas to the
 * same snapshot gives the same state in every process.
 *
 * <p>Mutated only by the thread that commits or refreshes the manifest, under the catalog's
 * lock. {@link PartitionMeta} fields are published for lock-free readers; the maps here are not
 * and must be read under the catalog's lock.
 *
 * <p>Objects are reference-counted by the partition runs that point at them. An object whose
 * count drops to zero (compaction replaced it, retention or a topic deletion dropped its runs)
 * is recorded as pending deletion with the delta's timestamp; the writer deletes it after the
 * grace period and records {@link ManifestOp.ObjectsDeleted}.
 */
public final class ManifestState {

    /** Told about changes as they are applied (used by the engine to keep its views current). */
    public interface Listener {
        default void topicCreated(TopicMeta topic) {
        }

        default void topicChanged(TopicMeta topic) {
        }

        default void topicDeleted(TopicMeta topic) {
        }

        default void partitionChanged(PartitionMeta partition) {
        }

        /** The whole state was replaced (a reader reloaded from a newer snapshot). */
        default void reset() {
        }
    }

    private static final Listener NO_LISTENER = new Listener() {
    };

    private long version;
    private long writerEpoch;
    private int nextPartitionId;
    private long nextProducerId;
    private final Map<String, TopicMeta> topics = new TreeMap<>();
    private final Map<Integer, PartitionMeta> partitions = new HashMap<>();
    private final Map<String, ObjectMeta> objects = new HashMap<>();
    private final Map<String, Integer> refCounts = new HashMap<>();
    private final Map<String, Long> pendingDeletes = new LinkedHashMap<>();

    public long version() {
        return version;
    }

    public long writerEpoch() {
        return writerEpoch;
    }

    public int nextPartitionId() {
        return nextPartitionId;
    }

    /** Idempotent producers: every producer id below this was allocated (0 if none ever was). */
    public long nextProducerId() {
        return nextProducerId;
    }

    public Map<String, TopicMeta> topics() {
        return Collections.unmodifiableMap(topics);
    }

    public TopicMeta topic(String name) {
        return topics.get(name);
    }

    public PartitionMeta partition(int id) {
        return partitions.get(id);
    }

    public Collection<PartitionMeta> partitions() {
        return Collections.unmodifiableCollection(partitions.values());
    }

    public Map<String, ObjectMeta> objects() {
        return Collections.unmodifiableMap(objects);
    }

    public int refCount(String key) {
        return refCounts.getOrDefault(key, 0);
    }

    /** Unreferenced objects and when they became unreferenced (epoch ms). */
    public Map<String, Long> pendingDeletes() {
        return Collections.unmodifiableMap(pendingDeletes);
    }

    /** Applies one delta's ops; {@code number} must be {@code version() + 1}. */
    public void applyDelta(long number, long timestampMs, List<ManifestOp> ops, Listener listener) {
        if (number != version + 1) {
            throw new IllegalStateException("delta " + number + " applied to manifest version " + version);
        }
        Listener l = listener == null ? NO_LISTENER : listener;
        for (ManifestOp op : ops) {
            apply(number, op, timestampMs, l);
        }
        version = number;
    }

    /**
     * Applies ops committed outside the chain of versions (a cluster node's commits, fenced per
     * partition, do not move the store's version): the version stays as it is.
     */
    public void applyUnversioned(long timestampMs, List<ManifestOp> ops, Listener listener) {
        Listener l = listener == null ? NO_LISTENER : listener;
        for (ManifestOp op : ops) {
            apply(version, op, timestampMs, l);
        }
    }

    private void apply(long number, ManifestOp op, long ts, Listener l) {
        if (op instanceof ManifestOp.ClaimEpoch c) {
            if (c.epoch() <= writerEpoch) {
                throw bad(number, "claims epoch " + c.epoch() + " but epoch " + writerEpoch + " was already claimed");
            }
            writerEpoch = c.epoch();
        } else if (op instanceof ManifestOp.CreateTopic c) {
            if (topics.containsKey(c.name())) {
                throw bad(number, "creates topic '" + c.name() + "' which exists");
            }
            TopicMeta t = new TopicMeta(c.name(), c.topicId(), c.configs(), c.partitionIds());
            addPartitions(number, t, c.partitionIds(), 0);
            topics.put(t.name(), t);
            l.topicCreated(t);
        } else if (op instanceof ManifestOp.AddPartitions a) {
            TopicMeta old = requireTopic(number, a.name());
            int[] ids = new int[old.partitionCount() + a.partitionIds().length];
            System.arraycopy(old.partitionIds(), 0, ids, 0, old.partitionCount());
            System.arraycopy(a.partitionIds(), 0, ids, old.partitionCount(), a.partitionIds().length);
            TopicMeta t = new TopicMeta(old.name(), old.topicId(), old.configs(), ids);
            addPartitions(number, t, a.partitionIds(), old.partitionCount());
            topics.put(t.name(), t);
            l.topicChanged(t);
        } else if (op instanceof ManifestOp.AlterTopicConfig a) {
            TopicMeta old = requireTopic(number, a.name());
            TopicMeta t = new TopicMeta(old.name(), old.topicId(), a.configs(), old.partitionIds());
            topics.put(t.name(), t);
            l.topicChanged(t);
        } else if (op instanceof ManifestOp.DeleteTopic d) {
            TopicMeta t = requireTopic(number, d.name());
            for (int id : t.partitionIds()) {
                PartitionMeta p = partitions.remove(id);
                if (p != null) {
                    for (RangeRef r : p.ranges()) {
                        unref(r.object().key(), ts);
                    }
                    p.setRanges(new RangeRef[0]);
                }
            }
            topics.remove(t.name());
            l.topicDeleted(t);
        } else if (op instanceof ManifestOp.AddObject a) {
            ObjectMeta o = a.object();
            if (objects.containsKey(o.key())) {
                throw bad(number, "adds object '" + o.key() + "' which is already known");
            }
            objects.put(o.key(), o);
            refCounts.put(o.key(), 0);
            Set<PartitionMeta> touched = new HashSet<>();
            for (RangeRef r : a.ranges()) {
                PartitionMeta p = partitions.get(r.partitionId());
                if (p == null) {
                    continue; // partition deleted while the object was in flight
                }
                p.setEndOffset(Math.max(p.endOffset(), r.nextOffset()));
                if (r.nextOffset() <= p.logStartOffset()) {
                    touched.add(p);
                    continue; // records deleted while the object was in flight
                }
                RangeRef bound = r.object() == o ? r : rebind(r, o);
                p.addRange(bound);
                refCounts.merge(o.key(), 1, Integer::sum);
                touched.add(p);
            }
            if (refCounts.get(o.key()) == 0) {
                refCounts.remove(o.key());
                pendingDeletes.put(o.key(), ts);
            }
            touched.forEach(l::partitionChanged);
        } else if (op instanceof ManifestOp.RemoveRanges rr) {
            PartitionMeta p = partitions.get(rr.partitionId());
            if (p == null) {
                return;
            }
            Set<ManifestOp.RangeId> ids = new HashSet<>(rr.ranges());
            List<RangeRef> keep = new ArrayList<>();
            for (RangeRef r : p.ranges()) {
                if (ids.contains(new ManifestOp.RangeId(r.object().key(), r.baseOffset()))) {
                    unref(r.object().key(), ts);
                } else {
                    keep.add(r);
                }
            }
            p.setRanges(keep.toArray(new RangeRef[0]));
            l.partitionChanged(p);
        } else if (op instanceof ManifestOp.SetLogStart s) {
            PartitionMeta p = partitions.get(s.partitionId());
            if (p == null || s.offset() <= p.logStartOffset()) {
                return;
            }
            p.setLogStartOffset(s.offset());
            dropBelow(p, s.offset(), ts);
            l.partitionChanged(p);
        } else if (op instanceof ManifestOp.SetCleanedOffset c) {
            PartitionMeta p = partitions.get(c.partitionId());
            if (p == null || c.offset() <= p.cleanedOffset()) {
                return;
            }
            p.setCleanedOffset(c.offset());
        } else if (op instanceof ManifestOp.UpdateProducers u) {
            PartitionMeta p = partitions.get(u.partitionId());
            if (p == null) {
                return; // deleted while its data was in flight
            }
            Map<Long, ProducerEntry> next = new HashMap<>(p.producers());
            for (ProducerEntry e : u.entries()) {
                next.put(e.producerId(), e);
            }
            for (Long id : u.expired()) {
                next.remove(id);
            }
            p.setProducers(next);
        } else if (op instanceof ManifestOp.UpdateTransactions u) {
            PartitionMeta p = partitions.get(u.partitionId());
            if (p == null) {
                return; // deleted while its data was in flight
            }
            List<io.shale.log.AbortedTransaction> aborted = new ArrayList<>(p.abortedTransactions());
            aborted.addAll(u.aborted());
            p.setTransactions(u.ongoing(), aborted);
        } else if (op instanceof ManifestOp.AllocateProducerIds a) {
            if (a.next() < nextProducerId) {
                throw bad(number, "moves the next producer id back from " + nextProducerId + " to " + a.next());
            }
            nextProducerId = a.next();
        } else if (op instanceof ManifestOp.ObjectsDeleted d) {
            for (String key : d.keys()) {
                if (refCounts.getOrDefault(key, 0) > 0) {
                    throw bad(number, "records deletion of object '" + key + "' which is still referenced");
                }
                pendingDeletes.remove(key);
                objects.remove(key);
            }
        } else {
            throw bad(number, "unknown op " + op);
        }
    }

    private static RangeRef rebind(RangeRef r, ObjectMeta o) {
        return new RangeRef(o, r.partitionId(), r.baseOffset(), r.nextOffset(), r.maxTimestamp(), r.position(),
                r.length(), r.firstBlock(), r.blockCount(), r.singleBlockCrc());
    }

    private void dropBelow(PartitionMeta p, long offset, long ts) {
        RangeRef[] rs = p.ranges();
        int drop = 0;
        while (drop < rs.length && rs[drop].nextOffset() <= offset) {
            unref(rs[drop].object().key(), ts);
            drop++;
        }
        if (drop > 0) {
            RangeRef[] keep = new RangeRef[rs.length - drop];
            System.arraycopy(rs, drop, keep, 0, keep.length);
            p.setRanges(keep);
        }
    }

    private void unref(String key, long ts) {
        Integer c = refCounts.get(key);
        if (c == null) {
            return;
        }
        if (c <= 1) {
            refCounts.remove(key);
            pendingDeletes.put(key, ts);
        } else {
            refCounts.put(key, c - 1);
        }
    }

    private void addPartitions(long number, TopicMeta t, int[] ids, int firstIndex) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < nextPartitionId || partitions.containsKey(ids[i])) {
                throw bad(number, "reuses partition id " + ids[i]);
            }
            partitions.put(ids[i], new PartitionMeta(ids[i], t.name(), firstIndex + i));
            nextPartitionId = ids[i] + 1;
        }
    }

    private TopicMeta requireTopic(long number, String name) {
        TopicMeta t = topics.get(name);
        if (t == null) {
            throw bad(number, "refers to unknown topic '" + name + "'");
        }
        return t;
    }

    private static CorruptObjectException bad(long number, String what) {
        return new CorruptObjectException("manifest delta " + number + " " + what);
    }

    // ------------------------------------------------------------ snapshot support
    //
    // Used by the snapshot decoder and by catalogs that keep the metadata elsewhere and rebuild a
    // state from it (shale-catalog-postgres), in this order: restoreHeader, restoreTopic for each
    // topic, restoreObject for each object, restorePartition, restoreCleanedOffset and
    // restoreProducers for each partition, restoreNextProducerId, restorePendingDelete, then
    // verifyRestored. Each throws CorruptObjectException
    // (CORRUPT_STORAGE) on a reference it cannot resolve.

    /** Restores the counters of a snapshot (used by the snapshot decoder). */
    public void restoreHeader(long version, long writerEpoch, int nextPartitionId) {
        this.version = version;
        this.writerEpoch = writerEpoch;
        this.nextPartitionId = nextPartitionId;
    }

    public void restoreTopic(TopicMeta t) {
        topics.put(t.name(), t);
        for (int i = 0; i < t.partitionCount(); i++) {
            partitions.put(t.partitionId(i), new PartitionMeta(t.partitionId(i), t.name(), i));
        }
    }

    public void restoreNextProducerId(long next) {
        this.nextProducerId = next;
    }

    public void restoreProducers(int id, Map<Long, ProducerEntry> producers) {
        PartitionMeta p = partitions.get(id);
        if (p == null) {
            throw new CorruptObjectException("manifest snapshot: producer state of partition id " + id
                    + ", which belongs to no topic");
        }
        p.setProducers(producers);
    }

    public void restoreTransactions(int id, Map<Long, Long> ongoing, List<io.shale.log.AbortedTransaction> aborted) {
        PartitionMeta p = partitions.get(id);
        if (p == null) {
            throw new CorruptObjectException("manifest snapshot: transaction state of partition id " + id
                    + ", which belongs to no topic");
        }
        p.setTransactions(ongoing, aborted);
    }

    public void restoreObject(ObjectMeta o) {
        objects.put(o.key(), o);
    }

    public void restorePartition(int id, long logStart, long endOffset, RangeRef[] ranges) {
        PartitionMeta p = partitions.get(id);
        if (p == null) {
            throw new CorruptObjectException("manifest snapshot: partition id " + id + " belongs to no topic");
        }
        p.setLogStartOffset(logStart);
        p.setEndOffset(endOffset);
        p.setRanges(ranges);
        for (RangeRef r : ranges) {
            refCounts.merge(r.object().key(), 1, Integer::sum);
        }
    }

    public void restoreCleanedOffset(int id, long offset) {
        PartitionMeta p = partitions.get(id);
        if (p == null) {
            throw new CorruptObjectException("manifest snapshot: cleaned offset of partition id " + id
                    + ", which belongs to no topic");
        }
        p.setCleanedOffset(offset);
    }

    public void restorePendingDelete(String key, long since) {
        pendingDeletes.put(key, since);
    }

    /** Checks cross-references after a snapshot was restored. */
    public void verifyRestored() {
        for (String key : pendingDeletes.keySet()) {
            if (refCounts.containsKey(key)) {
                throw new CorruptObjectException("manifest snapshot: object '" + key + "' is both referenced and pending deletion");
            }
        }
        for (String key : objects.keySet()) {
            if (!refCounts.containsKey(key) && !pendingDeletes.containsKey(key)) {
                pendingDeletes.put(key, 0L);
            }
        }
    }

    /** Total bytes referenced by partitions. */
    public long storedBytes() {
        long total = 0;
        for (PartitionMeta p : partitions.values()) {
            total += p.storedBytes();
        }
        return total;
    }
}
