package io.shale.broker;

import io.shale.log.CommittedOffset;
import io.shale.log.ErrorKind;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.ShaleException;
import io.shale.log.TopicConfig;
import io.shale.log.TopicPartition;
import io.shale.log.record.Record;
import io.shale.log.record.SimpleRecord;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transaction coordinator of this one-node broker, as Kafka's {@code TransactionCoordinator}
 * with transaction version 1 (the client adds partitions with AddPartitionsToTxn): one state per
 * transactional id (producer id, epoch, timeout, state, the partitions and groups of the open
 * transaction and its pending offset commits), written to the internal compacted topic
 * {@value #TOPIC} before every answer, so a restarted broker continues every transaction where it
 * was (a transaction left half-completed by a crash is completed at start).
 *
 * <p>Ending a transaction writes a COMMIT or ABORT marker to each of its partitions through
 * {@link LogStore#writeTxnMarker}, then (on commit) makes its pending offsets the group's
 * committed offsets; the answer goes out once all of that is durable. A new InitProducerId for a
 * transactional id bumps its epoch (fencing the previous producer: its requests get
 * {@code PRODUCER_FENCED}) and aborts a transaction left open. A transaction open longer than its
 * timeout is aborted with a bumped epoch, as Kafka does.
 *
 * <p>Thread-safe: every operation holds this object's monitor, waiting at most
 * {@link #STORE_TIMEOUT_MS} for the store.
 */
final class TransactionCoordinator implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TransactionCoordinator.class);

    /** The internal topic holding the transactions' state (one partition, compacted). */
    static final String TOPIC = "__shale_transactions";
    /** Kafka's {@code transactional.id.expiration.ms} default: 7 days. */
    static final long DEFAULT_ID_EXPIRATION_MS = 7L * 24 * 60 * 60 * 1000;
    /** Kafka's {@code transaction.max.timeout.ms} default: longer timeouts are refused. */
    static final int MAX_TIMEOUT_MS = 900_000;
    static final long STORE_TIMEOUT_MS = 30_000;
    private static final TopicPartition TP = TopicPartition.of(TOPIC, 0);
    private static final short VALUE_VERSION = 0;

    enum State { EMPTY, ONGOING, PREPARE_COMMIT, PREPARE_ABORT, COMPLETE_COMMIT, COMPLETE_ABORT }

    /** One transactional id's state. Guarded by the coordinator's monitor. */
    static final class Txn {
        final String id;
        long producerId;
        short epoch;
        int timeoutMs;
        State state = State.EMPTY;
        long startedMs = -1;
        /**
         * When this state was last written ({@link Clock#millis()}; at load, the record's timestamp).
         * Not part of the encoded value: the record carries it.
         */
        long updatedMs;
        final Set<TopicPartition> partitions = new LinkedHashSet<>();
        /** Offsets committed in the transaction, per group (a group added with AddOffsetsToTxn maps to {} first). */
        final Map<String, Map<TopicPartition, CommittedOffset>> offsets = new LinkedHashMap<>();

        Txn(String id) {
            this.id = id;
        }
    }

    /** A result with an error: {@code NONE} or what Kafka answers. */
    record Init(Errors error, long producerId, short epoch) {
    }

    private final LogStore store;
    private final GroupCoordinator groups;
    private final Clock clock;
    private final long idExpirationMs;
    private final Map<String, Txn> txns = new HashMap<>();
    private final ScheduledExecutorService timer;
    private boolean topicExists;
    /**
     * Why the state in {@value #TOPIC} could not be read at start (a record that is not a transaction state),
     * or null: then the transaction APIs answer {@code COORDINATOR_NOT_AVAILABLE} and the rest of the broker
     * keeps serving, instead of the broker failing every start (as Kafka's coordinator, whose partition stays
     * unloaded when its log cannot be read).
     */
    private final ShaleException loadFailure;

    TransactionCoordinator(LogStore store, GroupCoordinator groups, Clock clock, long timeoutCheckMs) {
        this(store, groups, clock, timeoutCheckMs, DEFAULT_ID_EXPIRATION_MS, true);
    }

    /**
     * @param idExpirationMs a transactional id with no transaction open whose state was not written for this
     *     long is forgotten (Kafka's {@code transactional.id.expiration.ms})
     */
    TransactionCoordinator(LogStore store, GroupCoordinator groups, Clock clock, long timeoutCheckMs,
            long idExpirationMs) {
        this(store, groups, clock, timeoutCheckMs, idExpirationMs, true);
    }

    /**
     * @param idExpirationMs as above
     * @param active false for a broker of a cluster that does not own {@value #TOPIC}'s partition:
     *     nothing is loaded, no transaction is completed or aborted by timeout and no id expires (no
     *     marker or state is written: another broker coordinates), and the APIs are not called
     *     (KafkaApis answers NOT_COORDINATOR)
     */
    TransactionCoordinator(LogStore store, GroupCoordinator groups, Clock clock, long timeoutCheckMs,
            long idExpirationMs, boolean active) {
        if (idExpirationMs < 1) {
            throw new IllegalArgumentException("transactional id expiration must be at least 1 ms: " + idExpirationMs);
        }
        this.store = store;
        this.groups = groups;
        this.clock = clock;
        this.idExpirationMs = idExpirationMs;
        ShaleException failure = null;
        if (active && store.describeTopic(TOPIC).isPresent()) {
            topicExists = true;
            try {
                load();
            } catch (ShaleException e) {
                if (e.kind() != ErrorKind.CORRUPT_STORAGE) {
                    throw e;
                }
                failure = e;
                txns.clear();
                log.error("transactions are unavailable (the transaction APIs answer COORDINATOR_NOT_AVAILABLE) until"
                        + " {} is repaired: {}", TOPIC, e.getMessage());
            }
        }
        loadFailure = failure;
        synchronized (this) {
            for (Txn t : List.copyOf(txns.values())) {
                if (t.state == State.PREPARE_COMMIT || t.state == State.PREPARE_ABORT) {
                    log.info("completing transaction '{}' left in {} by the previous broker", t.id, t.state);
                    try {
                        complete(t, t.state == State.PREPARE_COMMIT);
                    } catch (RuntimeException e) {
                        log.warn("could not complete transaction '{}' at start; it is retried by its timeout", t.id, e);
                    }
                }
            }
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread th = new Thread(r, "shale-broker-txn-timeouts");
            th.setDaemon(true);
            return th;
        });
        if (active) {
            timer.scheduleWithFixedDelay(this::checkTimeouts, timeoutCheckMs, timeoutCheckMs, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }

    // ---------------------------------------------------------------- the APIs

    /**
     * InitProducerId with a transactional id: a new producer id (epoch 0) the first time, otherwise
     * the same id with the epoch bumped, after aborting a transaction left open (with the bumped
     * epoch, so the previous producer is fenced on every partition it wrote to).
     */
    synchronized Init initProducerId(String txnId, int timeoutMs, long producerId, short epoch) {
        if (loadFailure != null) {
            return new Init(Errors.COORDINATOR_NOT_AVAILABLE, -1, (short) -1);
        }
        if (txnId.isEmpty()) {
            return new Init(Errors.INVALID_REQUEST, -1, (short) -1);
        }
        if (timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) {
            return new Init(Errors.INVALID_TRANSACTION_TIMEOUT, -1, (short) -1);
        }
        Txn t = txns.get(txnId);
        if (t == null) {
            t = new Txn(txnId);
            t.producerId = store.allocateProducerId();
            t.epoch = 0;
            t.timeoutMs = timeoutMs;
            persist(t);
            txns.put(txnId, t);
            return new Init(Errors.NONE, t.producerId, t.epoch);
        }
        if (t.state == State.PREPARE_COMMIT || t.state == State.PREPARE_ABORT) {
            complete(t, t.state == State.PREPARE_COMMIT); // a completion that failed earlier
            t = txns.get(txnId);
        }
        if (producerId >= 0 && (producerId != t.producerId || epoch != t.epoch)) {
            // KIP-360: a producer re-initialising with its own id and epoch; anything else is stale
            return new Init(Errors.PRODUCER_FENCED, -1, (short) -1);
        }
        Txn next = copy(t);
        next.timeoutMs = timeoutMs;
        if (t.state == State.ONGOING) {
            // abort the previous producer's transaction with the next epoch of its producer id: fences it
            // everywhere (a new producer id would leave the transaction open in its partitions)
            fence(next);
            next.state = State.PREPARE_ABORT;
            persist(next);
            install(next);
            complete(next, false);
            if (next.epoch >= Short.MAX_VALUE - 1) {
                next = copy(txns.get(txnId));
                bump(next); // the epochs of this producer id are used up: the producer gets a new one
                persist(next);
                install(next);
            }
        } else {
            bump(next);
            next.state = State.EMPTY;
            next.partitions.clear();
            next.offsets.clear();
            persist(next);
            install(next);
        }
        return new Init(Errors.NONE, next.producerId, next.epoch);
    }

    /** AddPartitionsToTxn (versions 0-3): the error for every partition (or NONE). */
    synchronized Errors addPartitions(String txnId, long producerId, short epoch, List<TopicPartition> partitions) {
        Txn t = txns.get(txnId);
        Errors e = check(t, producerId, epoch);
        if (e != Errors.NONE) {
            return e;
        }
        if (t.state == State.ONGOING && t.partitions.containsAll(partitions)) {
            return Errors.NONE;
        }
        Txn next = copy(t);
        begin(next);
        next.partitions.addAll(partitions);
        persist(next);
        install(next);
        return Errors.NONE;
    }

    /** AddOffsetsToTxn: the group's offsets commit with the transaction. */
    synchronized Errors addOffsets(String txnId, long producerId, short epoch, String groupId) {
        Txn t = txns.get(txnId);
        Errors e = check(t, producerId, epoch);
        if (e != Errors.NONE) {
            return e;
        }
        if (groupId == null || groupId.isEmpty()) {
            return Errors.INVALID_GROUP_ID;
        }
        if (t.state == State.ONGOING && t.offsets.containsKey(groupId)) {
            return Errors.NONE;
        }
        Txn next = copy(t);
        begin(next);
        next.offsets.putIfAbsent(groupId, new LinkedHashMap<>());
        persist(next);
        install(next);
        return Errors.NONE;
    }

    /**
     * TxnOffsetCommit: offsets held with the transaction (durable in its state), committed to the
     * group when it commits, dropped when it aborts.
     */
    synchronized Errors commitOffsets(String txnId, long producerId, short epoch, String groupId,
            Map<TopicPartition, CommittedOffset> offsets) {
        Txn t = txns.get(txnId);
        Errors e = check(t, producerId, epoch);
        if (e != Errors.NONE) {
            return e;
        }
        if (t.state != State.ONGOING || !t.offsets.containsKey(groupId)) {
            return Errors.INVALID_TXN_STATE; // AddOffsetsToTxn comes first
        }
        Txn next = copy(t);
        next.offsets.get(groupId).putAll(offsets);
        persist(next);
        install(next);
        return Errors.NONE;
    }

    /** EndTxn: writes the markers (and commits the offsets) before answering. */
    synchronized Errors endTxn(String txnId, long producerId, short epoch, boolean commit) {
        Txn t = txns.get(txnId);
        Errors e = check(t, producerId, epoch);
        if (e != Errors.NONE) {
            return e;
        }
        switch (t.state) {
            case ONGOING:
                break;
            case COMPLETE_COMMIT:
                return commit ? Errors.NONE : Errors.INVALID_TXN_STATE; // a retried EndTxn
            case COMPLETE_ABORT:
                return commit ? Errors.INVALID_TXN_STATE : Errors.NONE;
            case EMPTY:
                return Errors.INVALID_TXN_STATE;
            default:
                return Errors.CONCURRENT_TRANSACTIONS;
        }
        Txn next = copy(t);
        next.state = commit ? State.PREPARE_COMMIT : State.PREPARE_ABORT;
        persist(next);
        install(next);
        complete(next, commit);
        return Errors.NONE;
    }

    /** The outcome of {@link #appendVerified}: an error, or the append's future. */
    record Verified(Errors error, CompletableFuture<io.shale.log.AppendResult> append) {
    }

    /**
     * Produce of transactional batches: appended (the store call, which assigns offsets before it
     * returns) only if every transactional batch comes from the producer id and epoch of
     * {@code txnId}'s open transaction and that transaction added {@code tp}; all under this
     * monitor, so no marker of the transaction can be written between the check and the append
     * (which would leave the batch in a transaction nobody ends). Otherwise what Kafka answers: an
     * unknown producer id {@code INVALID_PRODUCER_ID_MAPPING}, another epoch
     * {@code INVALID_PRODUCER_EPOCH}, a partition not added {@code INVALID_TXN_STATE}.
     */
    synchronized Verified appendVerified(String txnId, org.apache.kafka.common.record.internal.MemoryRecords records,
            TopicPartition tp, java.util.function.Supplier<CompletableFuture<io.shale.log.AppendResult>> append) {
        Txn t = txnId == null ? null : txns.get(txnId);
        for (org.apache.kafka.common.record.internal.MutableRecordBatch b : records.batches()) {
            if (!b.isTransactional() || b.isControlBatch()) {
                continue;
            }
            if (t == null || t.producerId != b.producerId()) {
                return new Verified(Errors.INVALID_PRODUCER_ID_MAPPING, null);
            }
            if (b.producerEpoch() != t.epoch) {
                return new Verified(Errors.INVALID_PRODUCER_EPOCH, null);
            }
            if (t.state != State.ONGOING || !t.partitions.contains(tp)) {
                return new Verified(Errors.INVALID_TXN_STATE, null);
            }
        }
        return new Verified(Errors.NONE, append.get());
    }

    /**
     * Whether an open transaction holds an offset of {@code group} for {@code tp}: what OffsetFetch
     * with {@code requireStable} answers {@code UNSTABLE_OFFSET_COMMIT} for (KIP-447).
     */
    synchronized boolean holdsOffset(String group, TopicPartition tp) {
        for (Txn t : txns.values()) {
            if (t.state != State.COMPLETE_COMMIT && t.state != State.COMPLETE_ABORT && t.state != State.EMPTY) {
                Map<TopicPartition, CommittedOffset> held = t.offsets.get(group);
                if (held != null && held.containsKey(tp)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The state of a transactional id (tests, diagnostics), or null. */
    synchronized State state(String txnId) {
        Txn t = txns.get(txnId);
        return t == null ? null : t.state;
    }

    // ---------------------------------------------------------------- state changes

    /** Whether a request of {@code producerId} at {@code epoch} may change {@code t} now. */
    private Errors check(Txn t, long producerId, short epoch) {
        if (loadFailure != null) {
            return Errors.COORDINATOR_NOT_AVAILABLE; // the state could not be read: nothing is known
        }
        if (t == null || t.producerId != producerId) {
            return Errors.INVALID_PRODUCER_ID_MAPPING;
        }
        if (epoch != t.epoch) {
            return Errors.PRODUCER_FENCED;
        }
        if (t.state == State.PREPARE_COMMIT || t.state == State.PREPARE_ABORT) {
            return Errors.CONCURRENT_TRANSACTIONS;
        }
        return Errors.NONE;
    }

    private void begin(Txn t) {
        if (t.state != State.ONGOING) {
            t.state = State.ONGOING;
            t.startedMs = clock.millis();
            t.partitions.clear();
            t.offsets.clear();
        }
    }

    /**
     * The epoch that fences the producer of {@code t}'s open transaction, on the same producer id (the
     * transaction's batches carry it): one more, up to {@link Short#MAX_VALUE} (as Kafka's epoch fence).
     */
    private static void fence(Txn t) {
        if (t.epoch < Short.MAX_VALUE) {
            t.epoch++;
        }
    }

    /** A new epoch; past the last usable one, a new producer id at epoch 0 (as Kafka does). */
    private void bump(Txn t) {
        if (t.epoch >= Short.MAX_VALUE - 1) {
            t.producerId = store.allocateProducerId();
            t.epoch = 0;
        } else {
            t.epoch++;
        }
    }

    /**
     * Writes the markers of {@code t} (in a PREPARE state, persisted), commits or drops its
     * offsets, and records it complete.
     */
    private void complete(Txn t, boolean commit) {
        List<CompletableFuture<?>> markers = new ArrayList<>();
        for (TopicPartition tp : t.partitions) {
            markers.add(store.writeTxnMarker(tp, t.producerId, t.epoch, 0, commit).exceptionally(err -> {
                ShaleException se = ShaleException.unwrap(err);
                if (se != null && se.kind() == ErrorKind.UNKNOWN_TOPIC_OR_PARTITION) {
                    return null; // deleted meanwhile: nothing to mark
                }
                throw new java.util.concurrent.CompletionException(err);
            }));
        }
        await(CompletableFuture.allOf(markers.toArray(new CompletableFuture<?>[0])), "transaction markers of '" + t.id + "'");
        if (commit) {
            for (Map.Entry<String, Map<TopicPartition, CommittedOffset>> g : t.offsets.entrySet()) {
                if (!g.getValue().isEmpty()) {
                    await(groups.commit(g.getKey(), g.getValue()), "offsets of transaction '" + t.id + "'");
                }
            }
        }
        Txn done = copy(t);
        done.state = commit ? State.COMPLETE_COMMIT : State.COMPLETE_ABORT;
        done.partitions.clear();
        done.offsets.clear();
        done.startedMs = -1;
        persist(done);
        install(done);
    }

    /**
     * Aborts, with a bumped epoch, the transactions open longer than their timeout, completes those a failure
     * left prepared, and forgets the transactional ids idle longer than the expiration. Runs on the timer; a
     * failure is logged and retried at the next check.
     */
    void checkTimeouts() {
        try {
            synchronized (this) {
                long now = clock.millis();
                for (Txn t : List.copyOf(txns.values())) {
                    boolean stuck = t.state == State.PREPARE_COMMIT || t.state == State.PREPARE_ABORT;
                    if (stuck) {
                        complete(t, t.state == State.PREPARE_COMMIT); // a completion that failed earlier
                    } else if (t.state == State.ONGOING && now - t.startedMs > t.timeoutMs) {
                        log.info("aborting transaction '{}' of producer {}: open longer than its timeout of {} ms",
                                t.id, t.producerId, t.timeoutMs);
                        Txn next = copy(t);
                        fence(next);
                        next.state = State.PREPARE_ABORT;
                        persist(next);
                        install(next);
                        complete(next, false);
                    } else if (t.state != State.ONGOING && now - t.updatedMs > idExpirationMs) {
                        forget(t);
                    }
                }
            }
        } catch (RuntimeException e) {
            log.warn("transaction timeout check failed; retried on the next check", e);
        }
    }

    /**
     * Forgets an idle transactional id: a tombstone in {@value #TOPIC} (so compaction drops its state and a
     * restart does not load it), then the map. The id's next InitProducerId starts afresh with a new producer
     * id, as in Kafka; its former producer id is never handed out again.
     */
    private void forget(Txn t) {
        ensureTopic();
        await(store.append(TP, List.of(SimpleRecord.of(clock.millis(), t.id.getBytes(StandardCharsets.UTF_8), null))),
                "the expiry of transactional id '" + t.id + "'");
        txns.remove(t.id);
        log.info("transactional id '{}' (producer {}) expired: idle for more than {} ms", t.id, t.producerId,
                idExpirationMs);
    }

    private void install(Txn t) {
        txns.put(t.id, t);
    }

    private static Txn copy(Txn t) {
        Txn c = new Txn(t.id);
        c.producerId = t.producerId;
        c.epoch = t.epoch;
        c.timeoutMs = t.timeoutMs;
        c.state = t.state;
        c.startedMs = t.startedMs;
        c.updatedMs = t.updatedMs;
        c.partitions.addAll(t.partitions);
        for (Map.Entry<String, Map<TopicPartition, CommittedOffset>> e : t.offsets.entrySet()) {
            c.offsets.put(e.getKey(), new LinkedHashMap<>(e.getValue()));
        }
        return c;
    }

    private static <T> T await(CompletableFuture<T> f, String what) {
        try {
            return f.get(STORE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShaleException(ErrorKind.UNAVAILABLE, "interrupted writing " + what, e);
        } catch (TimeoutException e) {
            throw new ShaleException(ErrorKind.UNAVAILABLE, "writing " + what + " took longer than "
                    + STORE_TIMEOUT_MS + " ms", e);
        } catch (ExecutionException e) {
            ShaleException se = ShaleException.unwrap(e.getCause());
            throw se != null ? se : new ShaleException(ErrorKind.UNAVAILABLE, "writing " + what + " failed: "
                    + e.getCause(), e.getCause());
        }
    }

    // ---------------------------------------------------------------- the internal topic

    /** Writes {@code t} durably; callers install it only afterwards, so on failure nothing changed. */
    private void persist(Txn t) {
        ensureTopic();
        byte[] key = t.id.getBytes(StandardCharsets.UTF_8);
        long now = clock.millis();
        await(store.append(TP, List.of(SimpleRecord.of(now, key, encode(t)))), "the state of transaction '"
                + t.id + "'");
        t.updatedMs = now;
    }

    private void ensureTopic() {
        if (topicExists) {
            return;
        }
        if (store.describeTopic(TOPIC).isEmpty()) {
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

    private void load() {
        long offset = store.logStartOffset(TP);
        long end = store.highWatermark(TP);
        while (offset < end) {
            FetchResult r = store.read(TP, offset, 1 << 20);
            if (r.isEmpty()) {
                break;
            }
            for (Record rec : r.records()) {
                if (rec.offset() < offset || rec.key() == null) {
                    continue;
                }
                String id = StandardCharsets.UTF_8.decode(rec.key().duplicate()).toString();
                if (rec.value() == null) {
                    txns.remove(id);
                } else {
                    try {
                        Txn t = decode(id, rec.value().duplicate());
                        t.updatedMs = rec.timestamp();
                        txns.put(id, t);
                    } catch (RuntimeException e) {
                        throw new ShaleException(ErrorKind.CORRUPT_STORAGE, TOPIC + " record at offset " + rec.offset()
                                + " is not a transaction state: " + e, e);
                    }
                }
            }
            offset = r.nextOffset();
        }
        log.info("loaded {} transactional ids from {}", txns.size(), TOPIC);
    }

    static byte[] encode(Txn t) {
        ByteWriter w = new ByteWriter();
        w.b.putShort(VALUE_VERSION);
        w.ensure(64);
        w.b.putLong(t.producerId).putShort(t.epoch).putInt(t.timeoutMs).put((byte) t.state.ordinal()).putLong(t.startedMs);
        w.ensure(4);
        w.b.putInt(t.partitions.size());
        for (TopicPartition tp : t.partitions) {
            w.string(tp.topic());
            w.ensure(4);
            w.b.putInt(tp.partition());
        }
        w.ensure(4);
        w.b.putInt(t.offsets.size());
        for (Map.Entry<String, Map<TopicPartition, CommittedOffset>> g : t.offsets.entrySet()) {
            w.string(g.getKey());
            w.ensure(4);
            w.b.putInt(g.getValue().size());
            for (Map.Entry<TopicPartition, CommittedOffset> o : g.getValue().entrySet()) {
                w.string(o.getKey().topic());
                w.ensure(16);
                w.b.putInt(o.getKey().partition()).putLong(o.getValue().offset())
                        .putInt(o.getValue().leaderEpoch().orElse(-1));
                w.string(o.getValue().metadata() == null ? "" : o.getValue().metadata());
            }
        }
        byte[] out = new byte[w.b.position()];
        w.b.flip().get(out);
        return out;
    }

    static Txn decode(String id, ByteBuffer v) {
        short version = v.getShort();
        if (version != VALUE_VERSION) {
            throw new IllegalArgumentException("value version " + version + ", not " + VALUE_VERSION);
        }
        Txn t = new Txn(id);
        t.producerId = v.getLong();
        t.epoch = v.getShort();
        t.timeoutMs = v.getInt();
        t.state = State.values()[v.get()];
        t.startedMs = v.getLong();
        int n = v.getInt();
        for (int i = 0; i < n; i++) {
            t.partitions.add(TopicPartition.of(string(v), v.getInt()));
        }
        int groupCount = v.getInt();
        for (int i = 0; i < groupCount; i++) {
            Map<TopicPartition, CommittedOffset> offs = new LinkedHashMap<>();
            t.offsets.put(string(v), offs);
            int m = v.getInt();
            for (int j = 0; j < m; j++) {
                TopicPartition tp = TopicPartition.of(string(v), v.getInt());
                long offset = v.getLong();
                int epoch = v.getInt();
                offs.put(tp, new CommittedOffset(offset, string(v), epoch < 0 ? OptionalInt.empty() : OptionalInt.of(epoch), -1));
            }
        }
        if (v.hasRemaining()) {
            throw new IllegalArgumentException(v.remaining() + " bytes after the state");
        }
        return t;
    }

    private static String string(ByteBuffer v) {
        int len = v.getInt();
        if (len < 0 || len > v.remaining()) {
            throw new IllegalArgumentException("string of " + len + " bytes");
        }
        byte[] b = new byte[len];
        v.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    /** A growing buffer for {@link #encode}. */
    private static final class ByteWriter {
        ByteBuffer b = ByteBuffer.allocate(256);

        void ensure(int n) {
            if (b.remaining() < n) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(b.capacity() * 2, b.position() + n));
                b.flip();
                bigger.put(b);
                b = bigger;
            }
        }

        void string(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            ensure(4 + bytes.length);
            b.putInt(bytes.length).put(bytes);
        }
    }
}
