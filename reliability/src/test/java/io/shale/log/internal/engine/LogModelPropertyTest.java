package io.shale.log.internal.engine;

import io.shale.log.AppendResult;
import io.shale.log.ErrorKind;
import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.ShaleException;
import io.shale.log.StoreConfig;
import io.shale.log.TopicConfig;
import io.shale.log.TopicPartition;
import io.shale.log.record.CompressionType;
import io.shale.log.record.Record;
import io.shale.log.record.RecordBatchBuilder;
import io.shale.log.record.SimpleRecord;
import io.shale.log.testing.InMemoryObjectStore;
import io.shale.log.testing.InMemoryWal;
import io.shale.log.testing.MutableClock;
import io.shale.log.testing.SharedObjectStore;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tag;
import net.jqwik.api.Tuple;

/**
 * Model-based property test: random sequences of store operations (create, append, appendBatch,
 * asynchronous appends, reads, deleteRecordsBefore, clock moves and retention, flush, compaction,
 * deletion of unreferenced objects and orphans, manifest snapshots, clean restarts and crashes)
 * run against the engine and against a trivial reference log (per partition: the records with
 * their offsets, and the log start offset). After every step the visible state (high watermark,
 * log start, the records a read returns) must agree with the model.
 *
 * <p>Background timers are effectively off (hour-long intervals): each background task runs when
 * the sequence says so, so a failing sequence replays exactly and jqwik can shrink it. Loose
 * where the engine is allowed latitude: retention may drop less than the model would (whole runs
 * only, and run boundaries depend on upload and compaction history), but never a record newer than
 * the cut-off; after a crash, appends that were in flight may survive only as a whole-append
 * prefix, in order.
 *
 * <p>CI runs {@code 60} tries; {@code -Pslow} runs {@code 1000} more.
 */
class LogModelPropertyTest {
    private static final int TOPICS = 3;
    private static final long RETENTION_MS = 60_000;

    // ------------------------------------------------------------------ commands

    sealed interface Cmd permits Create, Append, Read, DeleteBefore, Advance, Retention, Flush, Compact, Gc,
            Snapshot, Settle, Restart, Crash {
    }

    record Create(int topic, int partitions) implements Cmd {
    }

    record Append(int topic, int partition, int count, int valueLen, boolean batchApi, boolean async) implements Cmd {
    }

    record Read(int topic, int partition, int offsetPick, int maxBytes) implements Cmd {
    }

    record DeleteBefore(int topic, int partition, int offsetPick) implements Cmd {
    }

    record Advance(long ms) implements Cmd {
    }

    record Retention() implements Cmd {
    }

    record Flush() implements Cmd {
    }

    record Compact() implements Cmd {
    }

    record Gc() implements Cmd {
    }

    record Snapshot() implements Cmd {
    }

    record Settle() implements Cmd {
    }

    record Restart() implements Cmd {
    }

    record Crash() implements Cmd {
    }

    @Provide
    Arbitrary<List<Cmd>> commands() {
        Arbitrary<Integer> topic = Arbitraries.integers().between(0, TOPICS - 1);
        Arbitrary<Integer> partition = Arbitraries.integers().between(0, 2);
        Arbitrary<Cmd> create = Combinators.combine(topic, Arbitraries.integers().between(1, 3)).as(Create::new);
        Arbitrary<Cmd> append = Combinators.combine(topic, partition, Arbitraries.integers().between(1, 6),
                Arbitraries.integers().between(0, 700), Arbitraries.of(false, true),
                Arbitraries.integers().between(0, 3).map(i -> i == 0)).as(Append::new);
        Arbitrary<Cmd> read = Combinators.combine(topic, partition, Arbitraries.integers().between(0, 1000),
                Arbitraries.of(0, 1, 200, 4096, 1 << 20)).as(Read::new);
        Arbitrary<Cmd> deleteBefore = Combinators.combine(topic, partition, Arbitraries.integers().between(0, 1000))
                .as(DeleteBefore::new);
        Arbitrary<Cmd> advance = Arbitraries.longs().between(1, 90_000).map(Advance::new);
        return Arbitraries.frequencyOf(
                Tuple.of(3, create),
                Tuple.of(14, append),
                Tuple.of(5, read),
                Tuple.of(2, deleteBefore),
                Tuple.of(2, advance),
                Tuple.of(2, Arbitraries.just(new Retention())),
                Tuple.of(4, Arbitraries.just(new Flush())),
                Tuple.of(2, Arbitraries.just(new Compact())),
                Tuple.of(1, Arbitraries.just(new Gc())),
                Tuple.of(1, Arbitraries.just(new Snapshot())),
                Tuple.of(2, Arbitraries.just(new Settle())),
                Tuple.of(2, Arbitraries.just(new Restart())),
                Tuple.of(2, Arbitraries.just(new Crash())))
                .list().ofMinSize(1).ofMaxSize(50);
    }

    @Property(tries = 60)
    void storeShouldBehaveLikeTheReferenceLog(@ForAll("commands") List<Cmd> commands) {
        new Run(false).execute(commands);
    }

    /**
     * The same with uploads, compaction, deletion, orphan scans and snapshots also running on their
     * own timers every few milliseconds (retention stays explicit: it changes what is visible), so
     * background work interleaves with every step. Not replayable step for step; the seed still
     * reproduces the sequence.
     */
    @Property(tries = 25)
    void storeShouldBehaveLikeTheReferenceLogWithBackgroundWorkRunning(@ForAll("commands") List<Cmd> commands) {
        new Run(true).execute(commands);
    }

    @Property(tries = 1000)
    @Tag("slow")
    void storeShouldBehaveLikeTheReferenceLogOverManyMoreSequences(@ForAll("commands") List<Cmd> commands) {
        new Run(false).execute(commands);
    }

    @Property(tries = 300)
    @Tag("slow")
    void storeShouldBehaveLikeTheReferenceLogOverManyMoreSequencesWithBackgroundWork(
            @ForAll("commands") List<Cmd> commands) {
        new Run(true).execute(commands);
    }

    // ------------------------------------------------------------------ the model

    record ModelRecord(long offset, byte[] key, byte[] value, long timestamp) {
    }

    /** An append whose outcome is not known yet. */
    record Pending(long base, List<ModelRecord> records, CompletableFuture<AppendResult> future) {
    }

    static final class ModelPartition {
        final List<ModelRecord> records = new ArrayList<>(); // every record ever acknowledged, by offset
        final List<Pending> pending = new ArrayList<>();
        long logStart;

        long end() {
            return records.size();
        }

        long assignedEnd() {
            return pending.isEmpty() ? end() : pending.get(pending.size() - 1).base + pending.get(pending.size() - 1).records.size();
        }
    }

    static Map<String, Object> topicConfig(int topic) {
        return switch (topic) {
            case 0 -> Map.of();
            case 1 -> Map.of(TopicConfig.RETENTION_MS, RETENTION_MS, TopicConfig.SEGMENT_BYTES, 2048);
            default -> Map.of(TopicConfig.COMPRESSION_TYPE, "lz4", TopicConfig.SEGMENT_BYTES, 1024,
                    TopicConfig.SEGMENT_MS, 30_000);
        };
    }

    /** One run of a command sequence: a fresh store, a fresh model. */
    static final class Run {
        final MutableClock clock = new MutableClock(1_700_000_000_000L);
        final InMemoryObjectStore objects = new InMemoryObjectStore(clock);
        InMemoryWal wal = new InMemoryWal();
        final StoreConfig config;
        final Map<Integer, ModelPartition[]> topics = new HashMap<>();
        final List<String> log = new ArrayList<>();
        StoreEngine store;
        long nextKey;

        Run(boolean busy) {
            long quiet = 3_600_000;
            config = StoreConfig.of(Map.ofEntries(
                    Map.entry(StoreConfig.UPLOAD_INTERVAL_MS, busy ? 5 : quiet),
                    Map.entry(StoreConfig.UPLOAD_BYTES, busy ? 2048 : 8 << 20),
                    Map.entry(StoreConfig.OBJECT_BLOCK_BYTES, 1024),
                    Map.entry(StoreConfig.RETENTION_CHECK_INTERVAL_MS, quiet),
                    Map.entry(StoreConfig.COMPACTION_INTERVAL_MS, busy ? 10 : quiet),
                    Map.entry(StoreConfig.COMPACTION_MAX_SMALL_OBJECTS, 3),
                    Map.entry(StoreConfig.ORPHAN_SCAN_INTERVAL_MS, busy ? 15 : quiet),
                    Map.entry(StoreConfig.OBJECT_DELETE_GRACE_MS, 0),
                    Map.entry(StoreConfig.MANIFEST_SNAPSHOT_DELTAS, 2),
                    Map.entry(StoreConfig.LOG_CACHE_BYTES, 4 << 20)));
        }

        void execute(List<Cmd> commands) {
            store = open();
            try {
                for (Cmd c : commands) {
                    log.add(c.toString());
                    step(c);
                    checkAll(c);
                }
                step(new Restart());
                checkAll(new Restart());
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("after " + log.size() + " steps " + log + ": " + e.getMessage(), e);
            } finally {
                store.close();
            }
        }

        StoreEngine open() {
            return (StoreEngine) StoreEngine.open(new SharedObjectStore(objects), wal, clock, config);
        }

        static String name(int topic) {
            return "t" + topic;
        }

        ModelPartition model(int topic, int partition) {
            ModelPartition[] ps = topics.get(topic);
            return ps == null || partition >= ps.length ? null : ps[partition];
        }

        void step(Cmd c) {
            if (c instanceof Create cr) {
                boolean exists = topics.containsKey(cr.topic());
                ErrorKind k = kindOf(() -> store.createTopic(name(cr.topic()), cr.partitions(), topicConfig(cr.topic())));
                if (exists) {
                    expect(k, ErrorKind.TOPIC_ALREADY_EXISTS, c);
                } else {
                    expect(k, null, c);
                    ModelPartition[] ps = new ModelPartition[cr.partitions()];
                    for (int i = 0; i < ps.length; i++) {
                        ps[i] = new ModelPartition();
                    }
                    topics.put(cr.topic(), ps);
                }
            } else if (c instanceof Append a) {
                append(a);
            } else if (c instanceof Read r) {
                read(r);
            } else if (c instanceof DeleteBefore d) {
                deleteBefore(d);
            } else if (c instanceof Advance adv) {
                clock.advance(adv.ms());
            } else if (c instanceof Retention) {
                settle();
                Map<TopicPartition, Long> before = starts();
                store.maintenance.runNow(store.maintenance::runRetention);
                adoptRetention(before);
            } else if (c instanceof Flush) {
                store.flush();
            } else if (c instanceof Compact) {
                store.maintenance.runNow(store.maintenance::runCompaction);
            } else if (c instanceof Gc) {
                store.maintenance.runNow(store.maintenance::deleteUnreferenced);
                store.maintenance.runNow(store.maintenance::deleteOrphans);
            } else if (c instanceof Snapshot) {
                store.maintenance.runNow(store.catalog::maintain);
            } else if (c instanceof Settle) {
                settle();
            } else if (c instanceof Restart) {
                store.close();
                settle(); // close completed or failed every append in flight
                store = open();
            } else if (c instanceof Crash) {
                store.crashForTesting();
                wal.crash();
                store = open();
                adoptSurvivors();
            }
        }

        // -------------------------------------------------------------- appends

        void append(Append a) {
            ModelPartition m = model(a.topic(), a.partition());
            TopicPartition tp = new TopicPartition(name(a.topic()), a.partition());
            long now = clock.millis();
            List<ModelRecord> recs = new ArrayList<>();
            List<SimpleRecord> simple = new ArrayList<>();
            long base = m == null ? -1 : m.assignedEnd();
            for (int i = 0; i < a.count(); i++) {
                byte[] key = ByteBuffer.allocate(8).putLong(nextKey++).array();
                byte[] value = new byte[a.valueLen()];
                Arrays.fill(value, (byte) (nextKey * 31 + i));
                recs.add(new ModelRecord(base + i, key, value, now));
                simple.add(SimpleRecord.of(key, value));
            }
            CompletableFuture<AppendResult> f;
            if (a.batchApi()) {
                RecordBatchBuilder b = new RecordBatchBuilder().compression(a.topic() == 2 ? CompressionType.GZIP
                        : CompressionType.NONE).defaultTimestamp(now);
                simple.forEach(b::append);
                f = store.appendBatch(tp, b.build());
            } else {
                f = store.append(tp, simple);
            }
            if (m == null) {
                expect(kindOf(f::join), ErrorKind.UNKNOWN_TOPIC_OR_PARTITION, a);
                return;
            }
            m.pending.add(new Pending(base, recs, f));
            if (!a.async()) {
                settle();
            }
        }

        void settle() {
            for (Map.Entry<Integer, ModelPartition[]> e : topics.entrySet()) {
                for (int p = 0; p < e.getValue().length; p++) {
                    ModelPartition m = e.getValue()[p];
                    for (Pending pd : m.pending) {
                        AppendResult r;
                        try {
                            r = pd.future().get(30, TimeUnit.SECONDS);
                        } catch (Exception ex) {
                            throw new AssertionError("append to " + name(e.getKey()) + "-" + p + " at " + pd.base()
                                    + " failed: " + ex, ex);
                        }
                        check(r.baseOffset() == pd.base() && r.lastOffset() == pd.base() + pd.records().size() - 1,
                                "append acknowledged at " + r.baseOffset() + ".." + r.lastOffset() + ", model expected "
                                        + pd.base());
                        m.records.addAll(pd.records());
                    }
                    m.pending.clear();
                }
            }
        }

        /** After a crash: appends that were in flight may survive, as a whole-append prefix, in order. */
        void adoptSurvivors() {
            for (Map.Entry<Integer, ModelPartition[]> e : topics.entrySet()) {
                for (int p = 0; p < e.getValue().length; p++) {
                    ModelPartition m = e.getValue()[p];
                    TopicPartition tp = new TopicPartition(name(e.getKey()), p);
                    long hw = store.highWatermark(tp);
                    check(hw >= m.end(), tp + ": high watermark " + hw + " after a crash is below the acknowledged end "
                            + m.end());
                    for (Pending pd : m.pending) {
                        if (m.end() >= hw) {
                            break;
                        }
                        check(pd.base() == m.end() && pd.base() + pd.records().size() <= hw, tp
                                + ": after a crash the high watermark " + hw + " ends inside an append that was in flight at "
                                + pd.base() + ".." + (pd.base() + pd.records().size() - 1));
                        m.records.addAll(pd.records()); // contents are checked by checkAll
                    }
                    check(m.end() == hw, tp + ": high watermark " + hw + " after a crash, but in-flight appends end at "
                            + m.assignedEnd());
                    m.pending.clear();
                }
            }
        }

        // -------------------------------------------------------------- reads and deletes

        void read(Read r) {
            ModelPartition m = model(r.topic(), r.partition());
            TopicPartition tp = new TopicPartition(name(r.topic()), r.partition());
            if (m == null) {
                expect(kindOf(() -> store.read(tp, 0, r.maxBytes())), ErrorKind.UNKNOWN_TOPIC_OR_PARTITION, r);
                return;
            }
            settle();
            long span = m.end() - m.logStart + 3;
            long offset = m.logStart - 1 + r.offsetPick() % span; // one below the start .. one above the end
            if (offset < m.logStart || offset > m.end()) {
                expect(kindOf(() -> store.read(tp, offset, r.maxBytes())), ErrorKind.OFFSET_OUT_OF_RANGE, r);
                return;
            }
            FetchResult f = store.read(tp, offset, r.maxBytes());
            check(f.highWatermark() == m.end() && f.logStartOffset() == m.logStart, tp + ": read reported hw "
                    + f.highWatermark() + " start " + f.logStartOffset());
            if (offset == m.end()) {
                check(f.isEmpty(), tp + ": read at the high watermark returned data");
                return;
            }
            check(!f.isEmpty(), tp + ": read at " + offset + " below the high watermark returned nothing");
            long expected = offset;
            for (Record rec : f.records()) {
                compare(tp, m, rec, expected++);
            }
            check(f.nextOffset() == expected, tp + ": nextOffset " + f.nextOffset() + " but records end at " + expected);
        }

        void deleteBefore(DeleteBefore d) {
            ModelPartition m = model(d.topic(), d.partition());
            TopicPartition tp = new TopicPartition(name(d.topic()), d.partition());
            if (m == null) {
                expect(kindOf(() -> store.deleteRecordsBefore(tp, 0)), ErrorKind.UNKNOWN_TOPIC_OR_PARTITION, d);
                return;
            }
            settle();
            long target = d.offsetPick() % (m.end() + 2); // 0 .. one above the high watermark
            if (target > m.end()) {
                expect(kindOf(() -> store.deleteRecordsBefore(tp, target)), ErrorKind.OFFSET_OUT_OF_RANGE, d);
                return;
            }
            long start = store.deleteRecordsBefore(tp, target);
            m.logStart = Math.max(m.logStart, target);
            check(start == m.logStart, tp + ": deleteRecordsBefore(" + target + ") returned " + start + ", model "
                    + m.logStart);
        }

        Map<TopicPartition, Long> starts() {
            Map<TopicPartition, Long> out = new HashMap<>();
            topics.forEach((t, ps) -> {
                for (int p = 0; p < ps.length; p++) {
                    out.put(new TopicPartition(name(t), p), ps[p].logStart);
                }
            });
            return out;
        }

        /** Retention may move the start forward only past records older than the cut-off (topic 1 only). */
        void adoptRetention(Map<TopicPartition, Long> before) {
            long cutoff = clock.millis() - RETENTION_MS;
            topics.forEach((t, ps) -> {
                for (int p = 0; p < ps.length; p++) {
                    TopicPartition tp = new TopicPartition(name(t), p);
                    long start = store.logStartOffset(tp);
                    ModelPartition m = ps[p];
                    if (t != 1) {
                        check(start == m.logStart, tp + ": retention moved the start of a topic without retention to "
                                + start);
                        continue;
                    }
                    check(start >= m.logStart && start <= m.end(), tp + ": retention moved the start from " + m.logStart
                            + " to " + start + " (high watermark " + m.end() + ")");
                    for (long o = m.logStart; o < start; o++) {
                        check(m.records.get((int) o).timestamp() < cutoff, tp + ": retention dropped offset " + o
                                + " whose timestamp is not older than the cut-off");
                    }
                    m.logStart = start;
                }
            });
        }

        // -------------------------------------------------------------- checks

        void checkAll(Cmd after) {
            topics.forEach((t, ps) -> {
                for (int p = 0; p < ps.length; p++) {
                    ModelPartition m = ps[p];
                    if (!m.pending.isEmpty()) {
                        continue; // checked once settled
                    }
                    TopicPartition tp = new TopicPartition(name(t), p);
                    check(store.highWatermark(tp) == m.end(), tp + ": high watermark " + store.highWatermark(tp)
                            + ", model " + m.end());
                    check(store.logStartOffset(tp) == m.logStart, tp + ": log start " + store.logStartOffset(tp)
                            + ", model " + m.logStart);
                    if (after instanceof Restart || after instanceof Crash || after instanceof Compact
                            || after instanceof Gc || after instanceof Flush) {
                        readAll(tp, m);
                    }
                }
            });
        }

        void readAll(TopicPartition tp, ModelPartition m) {
            long offset = m.logStart;
            while (offset < m.end()) {
                FetchResult f = store.read(tp, offset, 1500);
                check(!f.isEmpty(), tp + ": read at " + offset + " returned nothing below " + m.end());
                for (Record rec : f.records()) {
                    compare(tp, m, rec, offset++);
                }
                check(f.nextOffset() == offset, tp + ": nextOffset " + f.nextOffset() + ", records end at " + offset);
            }
        }

        void compare(TopicPartition tp, ModelPartition m, Record rec, long expectedOffset) {
            check(rec.offset() == expectedOffset, tp + ": record at " + rec.offset() + ", expected " + expectedOffset);
            check(expectedOffset < m.end(), tp + ": record at " + expectedOffset + " above the high watermark " + m.end());
            ModelRecord want = m.records.get((int) expectedOffset);
            check(Arrays.equals(bytes(rec.key()), want.key()) && Arrays.equals(bytes(rec.value()), want.value()),
                    tp + ": record at " + expectedOffset + " differs from the one appended");
            check(rec.timestamp() == want.timestamp(), tp + ": timestamp at " + expectedOffset + " is "
                    + rec.timestamp() + ", appended " + want.timestamp());
        }

        static byte[] bytes(ByteBuffer b) {
            if (b == null) {
                return null;
            }
            byte[] out = new byte[b.remaining()];
            b.duplicate().get(out);
            return out;
        }

        static void check(boolean ok, String what) {
            if (!ok) {
                throw new AssertionError(what);
            }
        }

        static void expect(ErrorKind actual, ErrorKind expected, Cmd c) {
            check(actual == expected, c + " failed with " + actual + ", expected " + (expected == null ? "success" : expected));
        }

        static ErrorKind kindOf(Runnable r) {
            try {
                r.run();
                return null;
            } catch (RuntimeException e) {
                ShaleException se = ShaleException.unwrap(e);
                if (se == null) {
                    throw e;
                }
                return se.kind();
            }
        }

        @SuppressWarnings("unused")
        LogStore store() {
            return store;
        }
    }
}
