package io.shale.log;

import io.shale.log.metrics.CommittedOffsets;
import io.shale.log.record.Record;
import io.shale.log.record.SimpleRecord;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.WeakHashMap;
import java.util.concurrent.CompletableFuture;

/**
 * Committed consumer positions per group and partition, kept in the store itself: in the internal
 * compacted topic {@value #TOPIC} (one partition, {@code cleanup.policy=compact}), as Kafka keeps
 * them in {@code __consumer_offsets}. Each commit appends one batch with one record per partition,
 * key = (group, topic, partition), value = (offset, leader epoch, commit time, metadata); a delete
 * appends tombstones (null values), so compaction keeps only the newest position of each key.
 *
 * <p>{@link #open(LogStore)} rebuilds the positions by reading the topic once (a store that never
 * had a commit has no such topic: the first write creates it); afterwards every read is served
 * from memory. There is one instance per store: {@link #open} on a store that already has a
 * reachable instance returns that instance (two instances would each see only their own later
 * commits), so a {@code ShaleBroker} and embedded code on the same store share it. Two processes
 * cannot write one store at once (the second open of a writer fences or fails), so this holds
 * across processes too. The topic is an ordinary topic of the
 * store: {@link LogStore#listTopics()} shows it (a broker marks it internal, as Kafka does), and
 * it must not be written to or deleted by other means.
 *
 * <p><b>Threading and durability.</b> Thread-safe. {@link #commit} and the deletes return a future
 * that completes once the records are durable in the store's WAL; only then do {@link #fetch}
 * and {@link #groups()} show the change. The future fails with the store's {@link ShaleException}
 * ({@code READ_ONLY}, {@code CLOSED}, {@code UNAVAILABLE}, ...) and then nothing changed in memory
 * (a commit the WAL could not confirm may still reappear after a restart, as any append).
 *
 * <p>It is also a {@link CommittedOffsets} source: give it to a metrics implementation's
 * {@code committedOffsets(...)} for the consumer-lag gauge.
 *
 * <p><b>Errors.</b> Blank group ids, negative offsets, group ids and topic names with an unpaired
 * surrogate (UTF-8 cannot store them), null arguments throw {@link IllegalArgumentException} or
 * {@link NullPointerException} naming the argument.
 */
public final class ConsumerOffsets implements CommittedOffsets {
    /** The internal topic holding the commits. */
    public static final String TOPIC = "__shale_offsets";

    private static final TopicPartition TP = TopicPartition.of(TOPIC, 0);
    private static final short KEY_VERSION = 0;
    private static final short VALUE_VERSION = 0;
    private static final int READ_BYTES = 1 << 20;

    /** The live instance of each store (weakly: dropping both store and instance frees them). */
    private static final Map<LogStore, WeakReference<ConsumerOffsets>> INSTANCES = new WeakHashMap<>();

    private final LogStore store;
    private volatile boolean topicExists;
    /** group -> partition -> entry; an entry with a null offset is a deleted position. */
    private final Map<String, Map<TopicPartition, Entry>> groups = new HashMap<>();

    private record Entry(CommittedOffset offset, long logOffset) {}

    private ConsumerOffsets(LogStore store) {
        this.store = store;
    }

    /**
     * The positions kept in {@code store}: its existing instance if one is reachable, otherwise a
     * new one that reads all of the internal topic if it exists (it is created by the first commit
     * or delete).
     *
     * @throws ShaleException as {@link LogStore#read}, or
     *     {@code CORRUPT_STORAGE} if a record of the topic is not a commit this class wrote
     */
    public static ConsumerOffsets open(LogStore store) {
        Objects.requireNonNull(store, "store");
        synchronized (INSTANCES) {
            WeakReference<ConsumerOffsets> ref = INSTANCES.get(store);
            ConsumerOffsets o = ref == null ? null : ref.get();
            if (o != null) {
                return o;
            }
            o = new ConsumerOffsets(store);
            if (store.describeTopic(TOPIC).isPresent()) {
                o.topicExists = true;
                o.load();
            }
            INSTANCES.put(store, new WeakReference<>(o));
            return o;
        }
    }

    /** Creates the internal topic on the first write. */
    private void ensureTopic() {
        if (topicExists) {
            return;
        }
        synchronized (this) {
            if (!topicExists && store.describeTopic(TOPIC).isEmpty()) {
                try {
                    store.createTopic(TOPIC, 1, Map.of(TopicConfig.CLEANUP_POLICY, "compact"));
                } catch (ShaleException e) {
                    if (e.kind() != ErrorKind.TOPIC_ALREADY_EXISTS) {
                        throw e;
                    }
                }
            }
            topicExists = true;
        }
    }

    private void load() {
        long offset = store.logStartOffset(TP);
        long end = store.highWatermark(TP);
        while (offset < end) {
            FetchResult r = store.read(TP, offset, READ_BYTES);
            if (r.isEmpty()) {
                break;
            }
            for (Record rec : r.records()) {
                if (rec.offset() < offset) {
                    continue;
                }
                apply(rec.key(), rec.value(), rec.offset());
            }
            offset = r.nextOffset();
        }
    }

    private synchronized void apply(ByteBuffer key, ByteBuffer value, long logOffset) {
        if (key == null) {
            throw new ShaleException(ErrorKind.CORRUPT_STORAGE, TOPIC + " holds a record without a key at offset " + logOffset);
        }
        try {
            ByteBuffer k = key.duplicate();
            short kv = k.getShort();
            if (kv != KEY_VERSION) {
                throw new ShaleException(ErrorKind.CORRUPT_STORAGE, TOPIC + " record at offset " + logOffset
                        + " has key version " + kv + ", not " + KEY_VERSION);
            }
            String group = readString(k);
            String topic = readString(k);
            int partition = k.getInt();
            CommittedOffset co = null;
            if (value != null) {
                ByteBuffer v = value.duplicate();
                short vv = v.getShort();
                if (vv != VALUE_VERSION) {
                    throw new ShaleException(ErrorKind.CORRUPT_STORAGE, TOPIC + " record at offset " + logOffset
                            + " has value version " + vv + ", not " + VALUE_VERSION);
                }
                long off = v.getLong();
                int epoch = v.getInt();
                long ts = v.getLong();
                String meta = readString(v);
                co = new CommittedOffset(off, meta, epoch < 0 ? OptionalInt.empty() : OptionalInt.of(epoch), ts);
            }
            put(group, TopicPartition.of(topic, partition), co, logOffset);
        } catch (RuntimeException e) {
            if (e instanceof ShaleException) {
                throw e;
            }
            throw new ShaleException(ErrorKind.CORRUPT_STORAGE, TOPIC + " record at offset " + logOffset
                    + " is not a committed offset: " + e, e);
        }
    }

    private void put(String group, TopicPartition tp, CommittedOffset co, long logOffset) {
        Map<TopicPartition, Entry> g = groups.computeIfAbsent(group, x -> new HashMap<>());
        Entry old = g.get(tp);
        if (old == null || old.logOffset < logOffset) {
            g.put(tp, new Entry(co, logOffset));
        }
    }

    /**
     * Commits positions of {@code group}; the future completes (with nothing) once they are durable.
     * An empty map completes at once.
     */
    public CompletableFuture<Void> commit(String group, Map<TopicPartition, CommittedOffset> offsets) {
        checkGroup(group);
        Objects.requireNonNull(offsets, "offsets");
        long now = System.currentTimeMillis();
        List<SimpleRecord> records = new ArrayList<>(offsets.size());
        for (Map.Entry<TopicPartition, CommittedOffset> e : offsets.entrySet()) {
            TopicPartition tp = checkPartition(e.getKey());
            CommittedOffset co = Objects.requireNonNull(e.getValue(), "offset of " + tp);
            byte[] meta = co.metadata().getBytes(StandardCharsets.UTF_8);
            ByteBuffer v = ByteBuffer.allocate(2 + 8 + 4 + 8 + 4 + meta.length);
            v.putShort(VALUE_VERSION).putLong(co.offset()).putInt(co.leaderEpoch().orElse(-1)).putLong(now)
                    .putInt(meta.length).put(meta).flip();
            records.add(new SimpleRecord(now, key(group, tp), v, List.of()));
        }
        return write(records);
    }

    /** Deletes every position of {@code group}; afterwards it is no longer in {@link #groups()}. */
    public CompletableFuture<Void> deleteGroup(String group) {
        checkGroup(group);
        List<TopicPartition> all;
        synchronized (this) {
            all = new ArrayList<>(fetch(group).keySet());
        }
        return delete(group, all);
    }

    /** Deletes the positions of {@code group} for these partitions (those without one are ignored). */
    public CompletableFuture<Void> delete(String group, Collection<TopicPartition> partitions) {
        checkGroup(group);
        Objects.requireNonNull(partitions, "partitions");
        List<SimpleRecord> records = new ArrayList<>();
        long now = System.currentTimeMillis();
        for (TopicPartition tp : partitions) {
            records.add(new SimpleRecord(now, key(group, checkPartition(tp)), null, List.of()));
        }
        return write(records);
    }

    private CompletableFuture<Void> write(List<SimpleRecord> records) {
        if (records.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<AppendResult> append;
        try {
            ensureTopic();
            append = store.append(TP, records);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return append.thenAccept(r -> {
            for (int i = 0; i < records.size(); i++) {
                apply(records.get(i).key(), records.get(i).value(), r.baseOffset() + i);
            }
        });
    }

    /** The positions of {@code group} (empty if it has none). */
    public synchronized Map<TopicPartition, CommittedOffset> fetch(String group) {
        checkGroup(group);
        Map<TopicPartition, CommittedOffset> out = new HashMap<>();
        Map<TopicPartition, Entry> g = groups.get(group);
        if (g != null) {
            g.forEach((tp, e) -> {
                if (e.offset != null) {
                    out.put(tp, e.offset);
                }
            });
        }
        return out;
    }

    /** The positions of {@code group} for these partitions; partitions without one are absent. */
    public synchronized Map<TopicPartition, CommittedOffset> fetch(String group, Collection<TopicPartition> partitions) {
        Objects.requireNonNull(partitions, "partitions");
        Map<TopicPartition, CommittedOffset> all = fetch(group);
        Map<TopicPartition, CommittedOffset> out = new HashMap<>();
        for (TopicPartition tp : partitions) {
            CommittedOffset co = all.get(tp);
            if (co != null) {
                out.put(tp, co);
            }
        }
        return out;
    }

    /** The groups that have at least one position, sorted. */
    public synchronized Set<String> groups() {
        Set<String> out = new TreeSet<>();
        groups.forEach((g, m) -> {
            if (m.values().stream().anyMatch(e -> e.offset != null)) {
                out.add(g);
            }
        });
        return out;
    }

    /** Every group's positions as next offsets (for consumer lag); a snapshot. */
    @Override
    public synchronized Map<String, Map<TopicPartition, Long>> committedOffsets() {
        Map<String, Map<TopicPartition, Long>> out = new HashMap<>();
        groups.forEach((g, m) -> m.forEach((tp, e) -> {
            if (e.offset != null) {
                out.computeIfAbsent(g, x -> new HashMap<>()).put(tp, e.offset.offset());
            }
        }));
        return out;
    }

    private static void checkGroup(String group) {
        Objects.requireNonNull(group, "group");
        if (group.isEmpty()) {
            throw new IllegalArgumentException("group id must not be empty");
        }
        if (group.getBytes(StandardCharsets.UTF_8).length > Short.MAX_VALUE) {
            throw new IllegalArgumentException("group id must be at most " + Short.MAX_VALUE + " bytes of UTF-8");
        }
        checkUnicode("group id", group);
    }

    /**
     * Keys are stored as UTF-8, which has no encoding for an unpaired surrogate: it would be stored
     * as '?', and the commit would be acknowledged under a name no fetch of the given one finds.
     */
    private static void checkUnicode(String what, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException(what + " has an unpaired surrogate (\\u"
                        + String.format("%04x", (int) c) + ") at index " + i + ", which UTF-8 cannot store");
            }
        }
    }

    private static TopicPartition checkPartition(TopicPartition tp) {
        Objects.requireNonNull(tp, "partition");
        checkUnicode("topic name", tp.topic());
        return tp;
    }

    private static ByteBuffer key(String group, TopicPartition tp) {
        byte[] g = group.getBytes(StandardCharsets.UTF_8);
        byte[] t = tp.topic().getBytes(StandardCharsets.UTF_8);
        ByteBuffer k = ByteBuffer.allocate(2 + 4 + g.length + 4 + t.length + 4);
        k.putShort(KEY_VERSION).putInt(g.length).put(g).putInt(t.length).put(t).putInt(tp.partition()).flip();
        return k;
    }

    private static String readString(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) {
            throw new IllegalArgumentException("string length " + n + " out of range");
        }
        byte[] bytes = new byte[n];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
