package io.shale.log.internal.manifest;

import io.shale.log.internal.format.CorruptObjectException;
import io.shale.log.internal.util.ByteReader;
import io.shale.log.internal.util.ByteWriter;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * Binary encoding of manifest deltas and snapshots.
 *
 * <pre>
 * +--------------------------------------------------------------+
 * | magic i32 "SHMF" | format version u16 | kind u8 | pad u8      |  0
 * | number i64   (delta number, or the version a snapshot holds)  |  8
 * | writerEpoch i64 (epoch of the writer that wrote the file)     | 16
 * | timestampMs i64 (writer's clock)                               | 24
 * | bodyLength i32                                                 | 32
 * | body (bodyLength bytes, see below)                             | 36
 * | crc u32: CRC-32C of every byte before it                       |
 * +--------------------------------------------------------------+
 * delta body:    opCount uvar, then per op: type u8 + fields (varints; strings are uvar length + UTF-8)
 * snapshot body: writerEpoch, nextPartitionId, topics, objects, partitions (runs point into the
 *                object table by index), pending deletions;
 *                version 2 adds: cleanedCount uvar, then per partition (id uvar, cleanedOffset uvar)
 *                version 3 adds: nextProducerId uvar, producerPartitionCount uvar, then per partition
 *                (id uvar, producerCount uvar, then per producer an entry as below)
 * producer entry: producerId uvar, epoch uvar, batchCount uvar (1..5), then per batch: firstSeq i32,
 *                lastSeq i32, firstOffset uvar, lastOffset - firstOffset uvar, timestamp varlong
 * </pre>
 *
 * <p><b>Versions.</b> Version 2 adds key-based compaction's cleaned offsets: the op
 * {@link ManifestOp.SetCleanedOffset} in deltas and the cleaned-offset section in snapshots.
 * Everything else is as in version 1. A file is written as version 1 unless it holds something only
 * version 2 can say (a {@code SetCleanedOffset} op; a partition with a cleaned offset), so stores
 * that never use {@code cleanup.policy=compact} stay readable by version-1 readers.
 *
 * <p>Version 3 adds idempotent producers: the ops {@link ManifestOp.UpdateProducers} and
 * {@link ManifestOp.AllocateProducerIds} in deltas, the next producer id and each partition's
 * producer state in snapshots (after the cleaned-offset section, which version 3 always carries).
 * A file is written as version 3 only if it holds one of these (a store that never served an
 * idempotent producer keeps writing versions 1 and 2). All three versions are decoded; a file
 * holding an op its version does not know is corrupt.
 *
 * <p>Version 4 adds transactions: the op {@link ManifestOp.UpdateTransactions} (partition id uvar,
 * ongoingCount uvar, per open transaction producerId uvar and firstOffset uvar; abortedCount uvar,
 * per aborted transaction producerId uvar, firstOffset uvar, lastOffset - firstOffset uvar) and,
 * in snapshots after the producer section, txnPartitionCount uvar then per partition (id uvar, the
 * same two lists). Written only by a store that has seen a transactional batch; versions 1 to 3
 * are still decoded.
 *
 * Decoding checks the magic, version, length and CRC before parsing, and every count against
 * the bytes that remain, so a damaged file fails with {@link CorruptObjectException}.
 */
public final class ManifestCodec {
    public static final int MAGIC = 0x53484d46; // "SHMF"
    /** The first format: everything but key-based compaction's cleaned offsets. */
    public static final int FORMAT_VERSION_1 = 1;
    /** Version 1 plus cleaned offsets ({@link ManifestOp.SetCleanedOffset}, snapshot section). */
    public static final int FORMAT_VERSION_2 = 2;
    /** Version 2 plus idempotent producers' state and the producer id counter. */
    public static final int FORMAT_VERSION_3 = 3;
    /** Version 3 plus transactions' state (open and aborted transactions per partition). */
    public static final int FORMAT_VERSION_4 = 4;
    /** The newest version this code reads and writes. */
    public static final int FORMAT_VERSION = FORMAT_VERSION_4;
    public static final int KIND_DELTA = 1;
    public static final int KIND_SNAPSHOT = 2;
    public static final int HEADER_SIZE = 36;

    private static final int OP_CLAIM_EPOCH = 1;
    private static final int OP_CREATE_TOPIC = 2;
    private static final int OP_ADD_PARTITIONS = 3;
    private static final int OP_ALTER_CONFIG = 4;
    private static final int OP_DELETE_TOPIC = 5;
    private static final int OP_ADD_OBJECT = 6;
    private static final int OP_REMOVE_RANGES = 7;
    private static final int OP_SET_LOG_START = 8;
    private static final int OP_OBJECTS_DELETED = 9;
    private static final int OP_SET_CLEANED_OFFSET = 10;
    private static final int OP_UPDATE_PRODUCERS = 11;
    private static final int OP_ALLOCATE_PRODUCER_IDS = 12;
    private static final int OP_UPDATE_TRANSACTIONS = 13;

    private ManifestCodec() {
    }

    /** A decoded delta. */
    public record Delta(long number, long writerEpoch, long timestampMs, List<ManifestOp> ops) {
    }

    // ------------------------------------------------------------------ deltas

    public static byte[] encodeDelta(long number, long writerEpoch, long timestampMs, List<ManifestOp> ops) {
        int version = FORMAT_VERSION_1;
        for (ManifestOp op : ops) {
            if (op instanceof ManifestOp.UpdateTransactions) {
                version = FORMAT_VERSION_4;
            } else if (op instanceof ManifestOp.UpdateProducers || op instanceof ManifestOp.AllocateProducerIds) {
                version = Math.max(version, FORMAT_VERSION_3);
            } else if (op instanceof ManifestOp.SetCleanedOffset) {
                version = Math.max(version, FORMAT_VERSION_2);
            }
        }
        ByteWriter w = header(KIND_DELTA, version, number, writerEpoch, timestampMs);
        int bodyStart = w.position();
        w.uvarlong(ops.size());
        for (ManifestOp op : ops) {
            writeOp(w, op);
        }
        return finish(w, bodyStart);
    }

    public static Delta decodeDelta(String key, ByteBuffer bytes) {
        ByteReader r = open(key, bytes, KIND_DELTA);
        int version = versionOf(bytes);
        long number = r.i64();
        long epoch = r.i64();
        long ts = r.i64();
        r.i32();
        int count = r.count(1);
        List<ManifestOp> ops = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            ops.add(readOp(r, version));
        }
        return new Delta(number, epoch, ts, ops);
    }

    private static void writeOp(ByteWriter w, ManifestOp op) {
        if (op instanceof ManifestOp.ClaimEpoch c) {
            w.u8(OP_CLAIM_EPOCH).uvarlong(c.epoch());
        } else if (op instanceof ManifestOp.CreateTopic c) {
            w.u8(OP_CREATE_TOPIC).string(c.name());
            writeUuid(w, c.topicId());
            writeConfigs(w, c.configs());
            writeIds(w, c.partitionIds());
        } else if (op instanceof ManifestOp.AddPartitions a) {
            w.u8(OP_ADD_PARTITIONS).string(a.name());
            writeIds(w, a.partitionIds());
        } else if (op instanceof ManifestOp.AlterTopicConfig a) {
            w.u8(OP_ALTER_CONFIG).string(a.name());
            writeConfigs(w, a.configs());
        } else if (op instanceof ManifestOp.DeleteTopic d) {
            w.u8(OP_DELETE_TOPIC).string(d.name());
        } else if (op instanceof ManifestOp.AddObject a) {
            w.u8(OP_ADD_OBJECT);
            writeObject(w, a.object());
            w.uvarlong(a.ranges().size());
            for (RangeRef rr : a.ranges()) {
                writeRange(w, rr);
            }
        } else if (op instanceof ManifestOp.RemoveRanges rr) {
            w.u8(OP_REMOVE_RANGES).uvarlong(rr.partitionId()).uvarlong(rr.ranges().size());
            for (ManifestOp.RangeId id : rr.ranges()) {
                w.string(id.objectKey()).uvarlong(id.baseOffset());
            }
        } else if (op instanceof ManifestOp.SetLogStart s) {
            w.u8(OP_SET_LOG_START).uvarlong(s.partitionId()).uvarlong(s.offset());
        } else if (op instanceof ManifestOp.SetCleanedOffset c) {
            w.u8(OP_SET_CLEANED_OFFSET).uvarlong(c.partitionId()).uvarlong(c.offset());
        } else if (op instanceof ManifestOp.UpdateProducers u) {
            w.u8(OP_UPDATE_PRODUCERS).uvarlong(u.partitionId()).uvarlong(u.entries().size());
            for (ProducerEntry e : u.entries()) {
                writeProducer(w, e);
            }
            w.uvarlong(u.expired().size());
            for (long id : u.expired()) {
                w.uvarlong(id);
            }
        } else if (op instanceof ManifestOp.AllocateProducerIds a) {
            w.u8(OP_ALLOCATE_PRODUCER_IDS).uvarlong(a.next());
        } else if (op instanceof ManifestOp.UpdateTransactions u) {
            w.u8(OP_UPDATE_TRANSACTIONS).uvarlong(u.partitionId());
            writeTransactions(w, u.ongoing(), u.aborted());
        } else if (op instanceof ManifestOp.ObjectsDeleted d) {
            w.u8(OP_OBJECTS_DELETED).uvarlong(d.keys().size());
            d.keys().forEach(w::string);
        } else {
            throw new IllegalArgumentException("unknown op " + op);
        }
    }

    private static ManifestOp readOp(ByteReader r, int version) {
        int type = r.u8();
        switch (type) {
            case OP_CLAIM_EPOCH:
                return new ManifestOp.ClaimEpoch(nonNegative(r, r.uvarlong(), "epoch"));
            case OP_CREATE_TOPIC: {
                String name = r.string();
                UUID id = readUuid(r);
                Map<String, String> configs = readConfigs(r);
                return new ManifestOp.CreateTopic(name, id, configs, readIds(r));
            }
            case OP_ADD_PARTITIONS:
                return new ManifestOp.AddPartitions(r.string(), readIds(r));
            case OP_ALTER_CONFIG:
                return new ManifestOp.AlterTopicConfig(r.string(), readConfigs(r));
            case OP_DELETE_TOPIC:
                return new ManifestOp.DeleteTopic(r.string());
            case OP_ADD_OBJECT: {
                ObjectMeta o = readObject(r);
                int n = r.count(8);
                List<RangeRef> ranges = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    ranges.add(readRange(r, o));
                }
                return new ManifestOp.AddObject(o, ranges);
            }
            case OP_REMOVE_RANGES: {
                int pid = readPartitionId(r);
                int n = r.count(2);
                List<ManifestOp.RangeId> ids = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    ids.add(new ManifestOp.RangeId(r.string(), nonNegative(r, r.uvarlong(), "base offset")));
                }
                return new ManifestOp.RemoveRanges(pid, ids);
            }
            case OP_SET_LOG_START:
                return new ManifestOp.SetLogStart(readPartitionId(r), nonNegative(r, r.uvarlong(), "offset"));
            case OP_OBJECTS_DELETED: {
                int n = r.count(1);
                List<String> keys = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    keys.add(r.string());
                }
                return new ManifestOp.ObjectsDeleted(keys);
            }
            case OP_SET_CLEANED_OFFSET:
                if (version < FORMAT_VERSION_2) {
                    throw r.corrupt("op type " + type + " in a version " + version + " file");
                }
                return new ManifestOp.SetCleanedOffset(readPartitionId(r), nonNegative(r, r.uvarlong(), "offset"));
            case OP_UPDATE_PRODUCERS: {
                if (version < FORMAT_VERSION_3) {
                    throw r.corrupt("op type " + type + " in a version " + version + " file");
                }
                int pid = readPartitionId(r);
                int n = r.count(MIN_PRODUCER_BYTES);
                List<ProducerEntry> entries = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    entries.add(readProducer(r));
                }
                int m = r.count(1);
                List<Long> expired = new ArrayList<>(m);
                for (int i = 0; i < m; i++) {
                    expired.add(nonNegative(r, r.uvarlong(), "producer id"));
                }
                return new ManifestOp.UpdateProducers(pid, entries, expired);
            }
            case OP_ALLOCATE_PRODUCER_IDS:
                if (version < FORMAT_VERSION_3) {
                    throw r.corrupt("op type " + type + " in a version " + version + " file");
                }
                return new ManifestOp.AllocateProducerIds(nonNegative(r, r.uvarlong(), "next producer id"));
            case OP_UPDATE_TRANSACTIONS: {
                if (version < FORMAT_VERSION_4) {
                    throw r.corrupt("op type " + type + " in a version " + version + " file");
                }
                int pid = readPartitionId(r);
                Map<Long, Long> ongoing = new HashMap<>();
                List<io.shale.log.AbortedTransaction> aborted = new ArrayList<>();
                readTransactions(r, ongoing, aborted);
                return new ManifestOp.UpdateTransactions(pid, ongoing, aborted);
            }
            default:
                throw r.corrupt("unknown op type " + type);
        }
    }

    // ------------------------------------------------------------------ snapshots

    public static byte[] encodeSnapshot(ManifestState s, long writerEpoch, long timestampMs) {
        List<PartitionMeta> parts = new ArrayList<>(s.partitions());
        parts.sort((a, b) -> Integer.compare(a.id(), b.id()));
        List<PartitionMeta> cleaned = new ArrayList<>();
        List<PartitionMeta> withProducers = new ArrayList<>();
        List<PartitionMeta> withTxns = new ArrayList<>();
        for (PartitionMeta p : parts) {
            if (!p.ongoingTransactions().isEmpty() || !p.abortedTransactions().isEmpty()) {
                withTxns.add(p);
            }
            if (p.cleanedOffset() > 0) {
                cleaned.add(p);
            }
            if (!p.producers().isEmpty()) {
                withProducers.add(p);
            }
        }
        int version = !withTxns.isEmpty() ? FORMAT_VERSION_4
                : !withProducers.isEmpty() || s.nextProducerId() > 0 ? FORMAT_VERSION_3
                : cleaned.isEmpty() ? FORMAT_VERSION_1 : FORMAT_VERSION_2;
        ByteWriter w = header(KIND_SNAPSHOT, version, s.version(), writerEpoch, timestampMs);
        int bodyStart = w.position();
        w.uvarlong(s.writerEpoch()).uvarlong(s.nextPartitionId());
        w.uvarlong(s.topics().size());
        for (TopicMeta t : s.topics().values()) {
            w.string(t.name());
            writeUuid(w, t.topicId());
            writeConfigs(w, t.configs());
            writeIds(w, t.partitionIds());
        }
        List<ObjectMeta> objects = new ArrayList<>(new TreeMap<>(s.objects()).values());
        Map<String, Integer> objectIndex = new HashMap<>();
        w.uvarlong(objects.size());
        for (ObjectMeta o : objects) {
            objectIndex.put(o.key(), objectIndex.size());
            writeObject(w, o);
        }
        w.uvarlong(parts.size());
        for (PartitionMeta p : parts) {
            RangeRef[] ranges = p.ranges();
            w.uvarlong(p.id()).uvarlong(p.logStartOffset()).uvarlong(p.endOffset()).uvarlong(ranges.length);
            for (RangeRef rr : ranges) {
                w.uvarlong(objectIndex.get(rr.object().key()));
                writeRange(w, rr);
            }
        }
        w.uvarlong(s.pendingDeletes().size());
        for (Map.Entry<String, Long> e : s.pendingDeletes().entrySet()) {
            w.uvarlong(objectIndex.get(e.getKey())).varlong(e.getValue());
        }
        if (version >= FORMAT_VERSION_2) {
            w.uvarlong(cleaned.size());
            for (PartitionMeta p : cleaned) {
                w.uvarlong(p.id()).uvarlong(p.cleanedOffset());
            }
        }
        if (version >= FORMAT_VERSION_3) {
            w.uvarlong(s.nextProducerId()).uvarlong(withProducers.size());
            for (PartitionMeta p : withProducers) {
                List<ProducerEntry> entries = new ArrayList<>(new TreeMap<>(p.producers()).values());
                w.uvarlong(p.id()).uvarlong(entries.size());
                for (ProducerEntry e : entries) {
                    writeProducer(w, e);
                }
            }
        }
        if (version >= FORMAT_VERSION_4) {
            w.uvarlong(withTxns.size());
            for (PartitionMeta p : withTxns) {
                w.uvarlong(p.id());
                writeTransactions(w, p.ongoingTransactions(), p.abortedTransactions());
            }
        }
        return finish(w, bodyStart);
    }

    public static ManifestState decodeSnapshot(String key, ByteBuffer bytes) {
        ByteReader r = open(key, bytes, KIND_SNAPSHOT);
        int formatVersion = versionOf(bytes);
        long version = r.i64();
        r.i64();
        r.i64();
        r.i32();
        ManifestState s = new ManifestState();
        long writerEpoch = r.uvarlong();
        long nextPid = r.uvarlong();
        if (nextPid > Integer.MAX_VALUE) {
            throw r.corrupt("next partition id " + nextPid);
        }
        s.restoreHeader(version, writerEpoch, (int) nextPid);
        int topics = r.count(4);
        for (int i = 0; i < topics; i++) {
            String name = r.string();
            UUID id = readUuid(r);
            Map<String, String> configs = readConfigs(r);
            int[] ids = readIds(r);
            for (int pid : ids) {
                if (pid >= nextPid || s.partition(pid) != null) {
                    throw r.corrupt("topic '" + name + "' has invalid partition id " + pid);
                }
            }
            s.restoreTopic(new TopicMeta(name, id, configs, ids));
        }
        int objectCount = r.count(4);
        List<ObjectMeta> objects = new ArrayList<>(objectCount);
        for (int i = 0; i < objectCount; i++) {
            ObjectMeta o = readObject(r);
            objects.add(o);
            s.restoreObject(o);
        }
        int parts = r.count(4);
        for (int i = 0; i < parts; i++) {
            int pid = readPartitionId(r);
            long logStart = r.uvarlong();
            long end = r.uvarlong();
            int n = r.count(8);
            RangeRef[] ranges = new RangeRef[n];
            for (int j = 0; j < n; j++) {
                long oi = r.uvarlong(); // an index into the object table, not a count: bounded by the table
                if (oi < 0 || oi >= objects.size()) {
                    throw r.corrupt("range refers to object #" + oi + " of " + objects.size());
                }
                ranges[j] = readRange(r, objects.get((int) oi));
                if (ranges[j].partitionId() != pid || (j > 0 && ranges[j].baseOffset() < ranges[j - 1].baseOffset())) {
                    throw r.corrupt("partition id " + pid + " has an inconsistent range " + ranges[j]);
                }
            }
            s.restorePartition(pid, logStart, end, ranges);
        }
        int pending = r.count(2);
        for (int i = 0; i < pending; i++) {
            long oi = r.uvarlong();
            if (oi < 0 || oi >= objects.size()) {
                throw r.corrupt("pending deletion refers to object #" + oi + " of " + objects.size());
            }
            s.restorePendingDelete(objects.get((int) oi).key(), r.varlong());
        }
        if (formatVersion >= FORMAT_VERSION_2) {
            int cleaned = r.count(2);
            int lastId = -1;
            for (int i = 0; i < cleaned; i++) {
                int pid = readPartitionId(r);
                long offset = r.uvarlong();
                if (pid <= lastId || offset <= 0) {
                    throw r.corrupt("cleaned offset " + offset + " of partition id " + pid + " is out of order or not positive");
                }
                lastId = pid;
                s.restoreCleanedOffset(pid, offset);
            }
        }
        if (formatVersion >= FORMAT_VERSION_3) {
            s.restoreNextProducerId(nonNegative(r, r.uvarlong(), "next producer id"));
            int n = r.count(2);
            int lastId = -1;
            for (int i = 0; i < n; i++) {
                int pid = readPartitionId(r);
                if (pid <= lastId) {
                    throw r.corrupt("producer state of partition id " + pid + " is out of order");
                }
                lastId = pid;
                int m = r.count(MIN_PRODUCER_BYTES);
                Map<Long, ProducerEntry> producers = new HashMap<>();
                for (int j = 0; j < m; j++) {
                    ProducerEntry e = readProducer(r);
                    if (producers.put(e.producerId(), e) != null) {
                        throw r.corrupt("producer id " + e.producerId() + " appears twice in partition id " + pid);
                    }
                }
                s.restoreProducers(pid, producers);
            }
        }
        if (formatVersion >= FORMAT_VERSION_4) {
            int n = r.count(2);
            int lastId = -1;
            for (int i = 0; i < n; i++) {
                int pid = readPartitionId(r);
                if (pid <= lastId) {
                    throw r.corrupt("transaction state of partition id " + pid + " is out of order");
                }
                lastId = pid;
                Map<Long, Long> ongoing = new HashMap<>();
                List<io.shale.log.AbortedTransaction> aborted = new ArrayList<>();
                readTransactions(r, ongoing, aborted);
                s.restoreTransactions(pid, ongoing, aborted);
            }
        }
        if (r.remaining() != 4) {
            throw r.corrupt(r.remaining() - 4 + " unexpected bytes after the snapshot body");
        }
        s.verifyRestored();
        return s;
    }

    private static void writeTransactions(ByteWriter w, Map<Long, Long> ongoing,
            List<io.shale.log.AbortedTransaction> aborted) {
        w.uvarlong(ongoing.size());
        for (Map.Entry<Long, Long> e : new TreeMap<>(ongoing).entrySet()) {
            w.uvarlong(e.getKey()).uvarlong(e.getValue());
        }
        w.uvarlong(aborted.size());
        for (io.shale.log.AbortedTransaction t : aborted) {
            w.uvarlong(t.producerId()).uvarlong(t.firstOffset()).uvarlong(t.lastOffset() - t.firstOffset());
        }
    }

    private static void readTransactions(ByteReader r, Map<Long, Long> ongoing,
            List<io.shale.log.AbortedTransaction> aborted) {
        int n = r.count(2);
        for (int i = 0; i < n; i++) {
            long producerId = nonNegative(r, r.uvarlong(), "producer id");
            long first = nonNegative(r, r.uvarlong(), "transaction first offset");
            if (ongoing.put(producerId, first) != null) {
                throw r.corrupt("open transaction of producer id " + producerId + " appears twice");
            }
        }
        int m = r.count(3);
        for (int i = 0; i < m; i++) {
            long producerId = nonNegative(r, r.uvarlong(), "producer id");
            long first = nonNegative(r, r.uvarlong(), "transaction first offset");
            long span = nonNegative(r, r.uvarlong(), "transaction length");
            if (first + span < first) {
                throw r.corrupt("aborted transaction of producer id " + producerId + " overflows");
            }
            aborted.add(new io.shale.log.AbortedTransaction(producerId, first, first + span));
        }
    }

    /** Reads the header fields (number, writer epoch, timestamp) without decoding the body. */
    public static long[] peekHeader(String key, ByteBuffer bytes, int expectedKind) {
        ByteReader r = open(key, bytes, expectedKind);
        return new long[] {r.i64(), r.i64(), r.i64()};
    }

    // ------------------------------------------------------------------ pieces

    private static ByteWriter header(int kind, int version, long number, long epoch, long ts) {
        ByteWriter w = new ByteWriter(256);
        w.i32(MAGIC).i16(version).u8(kind).u8(0).i64(number).i64(epoch).i64(ts).i32(0);
        return w;
    }

    private static byte[] finish(ByteWriter w, int bodyStart) {
        w.putI32At(bodyStart - 4, w.position() - bodyStart);
        CRC32C crc = new CRC32C();
        crc.update(w.array(), 0, w.position());
        w.i32((int) crc.getValue());
        return w.toByteArray();
    }

    /** Verifies framing and CRC; returns a reader positioned at the number field. */
    private static ByteReader open(String key, ByteBuffer bytes, int expectedKind) {
        String what = "manifest file '" + key + "'";
        ByteBuffer b = bytes.duplicate();
        int start = b.position();
        if (b.remaining() < HEADER_SIZE + 4) {
            throw new CorruptObjectException(what + ": " + b.remaining() + " bytes is too short");
        }
        if (b.getInt(start) != MAGIC) {
            throw new CorruptObjectException(what + ": bad magic");
        }
        int version = Short.toUnsignedInt(b.getShort(start + 4));
        if (version < FORMAT_VERSION_1 || version > FORMAT_VERSION_4) {
            throw new CorruptObjectException(what + ": unsupported format version " + version);
        }
        int kind = b.get(start + 6);
        if (kind != expectedKind) {
            throw new CorruptObjectException(what + ": kind " + kind + ", expected " + expectedKind);
        }
        int bodyLength = b.getInt(start + 32);
        if (bodyLength < 0 || (long) HEADER_SIZE + bodyLength + 4 != b.remaining()) {
            throw new CorruptObjectException(what + ": body length " + bodyLength + " disagrees with file size "
                    + b.remaining());
        }
        CRC32C crc = new CRC32C();
        ByteBuffer covered = b.duplicate();
        covered.limit(start + HEADER_SIZE + bodyLength);
        crc.update(covered);
        if ((int) crc.getValue() != b.getInt(start + HEADER_SIZE + bodyLength)) {
            throw new CorruptObjectException(what + ": CRC mismatch");
        }
        b.position(start + 8);
        return new ByteReader(b, what);
    }

    /** The format version of a file {@link #open} accepted. */
    private static int versionOf(ByteBuffer bytes) {
        return Short.toUnsignedInt(bytes.getShort(bytes.position() + 4));
    }

    private static void writeUuid(ByteWriter w, UUID id) {
        w.i64(id.getMostSignificantBits()).i64(id.getLeastSignificantBits());
    }

    private static UUID readUuid(ByteReader r) {
        return new UUID(r.i64(), r.i64());
    }

    private static void writeConfigs(ByteWriter w, Map<String, String> configs) {
        Map<String, String> sorted = new TreeMap<>(configs);
        w.uvarlong(sorted.size());
        sorted.forEach((k, v) -> w.string(k).string(v));
    }

    private static Map<String, String> readConfigs(ByteReader r) {
        int n = r.count(2);
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            out.put(r.string(), r.string());
        }
        return out;
    }

    private static void writeIds(ByteWriter w, int[] ids) {
        w.uvarlong(ids.length);
        for (int id : ids) {
            w.uvarlong(id);
        }
    }

    private static int[] readIds(ByteReader r) {
        int n = r.count(1);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = readPartitionId(r);
        }
        return ids;
    }

    private static int readPartitionId(ByteReader r) {
        long v = r.uvarlong();
        if (v > Integer.MAX_VALUE) {
            throw r.corrupt("partition id " + v + " out of range");
        }
        return (int) v;
    }

    private static void writeObject(ByteWriter w, ObjectMeta o) {
        w.string(o.key()).uvarlong(o.size()).uvarlong(o.indexPosition()).u8(o.kind()).varlong(o.createdAtMs());
    }

    private static ObjectMeta readObject(ByteReader r) {
        String key = r.string();
        long size = nonNegative(r, r.uvarlong(), "object size");
        long indexPosition = nonNegative(r, r.uvarlong(), "index position");
        int kind = r.u8();
        if (kind != ObjectMeta.KIND_MULTI && kind != ObjectMeta.KIND_SEGMENT) {
            throw r.corrupt("object '" + key + "' has unknown kind " + kind);
        }
        if (indexPosition > size) {
            throw r.corrupt("object '" + key + "' index position " + indexPosition + " beyond size " + size);
        }
        return new ObjectMeta(key, size, indexPosition, kind, r.varlong());
    }

    private static void writeRange(ByteWriter w, RangeRef rr) {
        w.uvarlong(rr.partitionId()).uvarlong(rr.baseOffset()).uvarlong(rr.nextOffset() - rr.baseOffset())
                .varlong(rr.maxTimestamp()).uvarlong(rr.position()).uvarlong(rr.length())
                .uvarlong(rr.firstBlock()).uvarlong(rr.blockCount());
        if (rr.blockCount() == 1) {
            w.i32(rr.singleBlockCrc());
        }
    }

    private static RangeRef readRange(ByteReader r, ObjectMeta o) {
        int pid = readPartitionId(r);
        long base = nonNegative(r, r.uvarlong(), "base offset");
        long span = r.uvarlong();
        long maxTs = r.varlong();
        long position = r.uvarlong();
        long length = r.uvarlong();
        long firstBlock = r.uvarlong();
        long blockCount = r.uvarlong();
        if (span <= 0 || base + span < base || length <= 0 || length > Integer.MAX_VALUE || position < 0
                || position + length > o.indexPosition() || blockCount <= 0 || blockCount > Integer.MAX_VALUE
                || firstBlock > Integer.MAX_VALUE) {
            throw r.corrupt("range of partition id " + pid + " in '" + o.key() + "' is inconsistent");
        }
        int crc = blockCount == 1 ? r.i32() : 0;
        return new RangeRef(o, pid, base, base + span, maxTs, position, (int) length, (int) firstBlock,
                (int) blockCount, crc);
    }

    /** Fewest bytes a producer entry takes: id, epoch, count (1 each) and one batch (8 + 1 + 1 + 1). */
    private static final int MIN_PRODUCER_BYTES = 3 + 11;

    private static void writeProducer(ByteWriter w, ProducerEntry e) {
        w.uvarlong(e.producerId()).uvarlong(e.epoch()).uvarlong(e.batches().size());
        for (ProducerEntry.Batch b : e.batches()) {
            w.i32(b.firstSeq()).i32(b.lastSeq()).uvarlong(b.firstOffset()).uvarlong(b.lastOffset() - b.firstOffset())
                    .varlong(b.timestamp());
        }
    }

    private static ProducerEntry readProducer(ByteReader r) {
        long id = nonNegative(r, r.uvarlong(), "producer id");
        long epoch = r.uvarlong();
        if (epoch < 0 || epoch > Short.MAX_VALUE) {
            throw r.corrupt("producer " + id + " has epoch " + epoch);
        }
        int n = r.count(11);
        if (n < 1 || n > ProducerEntry.MAX_BATCHES) {
            throw r.corrupt("producer " + id + " has " + n + " batches, not 1 to " + ProducerEntry.MAX_BATCHES);
        }
        List<ProducerEntry.Batch> batches = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int firstSeq = r.i32();
            int lastSeq = r.i32();
            long firstOffset = nonNegative(r, r.uvarlong(), "offset");
            long span = r.uvarlong();
            long ts = r.varlong();
            if (firstSeq < 0 || lastSeq < 0 || span < 0 || firstOffset + span < firstOffset) {
                throw r.corrupt("producer " + id + " has an inconsistent batch: sequences " + firstSeq + ".." + lastSeq
                        + ", offsets " + firstOffset + " + " + span);
            }
            batches.add(new ProducerEntry.Batch(firstSeq, lastSeq, firstOffset, firstOffset + span, ts));
        }
        return new ProducerEntry(id, (short) epoch, batches);
    }

    private static long nonNegative(ByteReader r, long v, String what) {
        if (v < 0) {
            throw r.corrupt(what + " " + v + " is negative");
        }
        return v;
    }
}
