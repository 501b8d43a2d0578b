package io.shale.reliability.sim;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

/**
 * What the store promised, kept independently of it: every append and its outcome, and per
 * partition the records whose place is established (acknowledged, or seen committed). Checks a
 * store's view of a partition against it:
 * <ul>
 *   <li>every acknowledged record is readable at its offset, exactly once, unless retention or
 *       {@code deleteRecordsBefore} removed it, or it was lost in a takeover that the WAL in use
 *       documents (a WAL on local disk cannot hand what it did not upload to another host, and
 *       a fenced writer acknowledges nothing more than {@code writer.lease.ms} after the new
 *       writer's claim);</li>
 *   <li>nothing is served that was not appended to that partition (of that incarnation of the
 *       topic), nothing twice, offsets contiguous from the log start;</li>
 *   <li>a record once seen at an offset stays there; the log start never goes back.</li>
 * </ul>
 */
final class SimModel {
    /** One append call. */
    static final class Append {
        final long id;
        final SimNode node;
        final Partition partition;
        final long[] recordIds;
        final long timestamp;
        boolean done;
        boolean acked;
        long baseOffset = -1;
        long ackedAtMs;

        Append(long id, SimNode node, Partition partition, long[] recordIds, long timestamp) {
            this.id = id;
            this.node = node;
            this.partition = partition;
            this.recordIds = recordIds;
            this.timestamp = timestamp;
        }
    }

    /** One record, as appended. */
    record RecordInfo(long id, Append append, int index, String key) {
    }

    /** One partition of one incarnation of a topic. */
    static final class Partition {
        final Topic topic;
        final int index;
        /** offset -> record id: established places. */
        final TreeMap<Long, Long> placed = new TreeMap<>();
        long logStart;
        long maxDeleteTarget = -1;

        Partition(Topic topic, int index) {
            this.topic = topic;
            this.index = index;
        }

        @Override
        public String toString() {
            return topic.name + "#" + topic.incarnation + "-" + index;
        }
    }

    /** One incarnation of a topic (a deleted and re-created topic is a new one). */
    static final class Topic {
        final String name;
        final int incarnation;
        final UUID topicId;
        final List<Partition> partitions = new ArrayList<>();
        /** Smallest retention.ms ever configured (or asked for): what retention may have used. */
        long minRetentionMs = Long.MAX_VALUE;
        /** cleanup.policy included compact at some point: key-based compaction may remove older records. */
        boolean compacts;

        Topic(String name, int incarnation, UUID topicId) {
            this.name = name;
            this.incarnation = incarnation;
            this.topicId = topicId;
        }

        Partition partition(int i) {
            while (partitions.size() <= i) {
                partitions.add(new Partition(this, partitions.size()));
            }
            return partitions.get(i);
        }
    }

    private final Map<Long, RecordInfo> records = new HashMap<>();
    final List<Append> appends = new ArrayList<>();
    private long nextRecordId = 1;
    private long nextAppendId = 1;
    private int incarnations;
    /** The WAL kind decides what a takeover may lose. */
    final boolean localWal;
    final long leaseMs;
    long acknowledged;
    long verifiedReads;

    SimModel(boolean localWal, long leaseMs) {
        this.localWal = localWal;
        this.leaseMs = leaseMs;
    }

    Topic newTopic(String name, UUID id) {
        return new Topic(name, ++incarnations, id);
    }

    Append newAppend(SimNode node, Partition p, String[] keys, long timestamp) {
        long[] ids = new long[keys.length];
        Append a = new Append(nextAppendId++, node, p, ids, timestamp);
        for (int i = 0; i < keys.length; i++) {
            ids[i] = nextRecordId++;
            this.records.put(ids[i], new RecordInfo(ids[i], a, i, keys[i]));
        }
        appends.add(a);
        return a;
    }

    /** The value bytes that identify record {@code id}, padded to {@code size}. */
    static byte[] value(long id, int size) {
        byte[] head = (id + ":").getBytes(StandardCharsets.US_ASCII);
        byte[] v = new byte[Math.max(head.length, size)];
        System.arraycopy(head, 0, v, 0, head.length);
        for (int i = head.length; i < v.length; i++) {
            v[i] = (byte) ('a' + (i + id) % 26);
        }
        return v;
    }

    static long idOf(ByteBuffer value) {
        if (value == null) {
            return -1;
        }
        long id = 0;
        for (int i = value.position(); i < value.limit(); i++) {
            byte b = value.get(i);
            if (b == ':') {
                return id;
            }
            if (b < '0' || b > '9') {
                return -1;
            }
            id = id * 10 + (b - '0');
        }
        return -1;
    }

    // ------------------------------------------------------------------ acknowledgements

    void acked(Append a, long baseOffset, long lastOffset, long nowMs) {
        a.done = true;
        a.acked = true;
        a.baseOffset = baseOffset;
        a.ackedAtMs = nowMs;
        acknowledged++;
        if (lastOffset != baseOffset + a.recordIds.length - 1) {
            throw new SimulationFailure("bad-ack", "append " + a.id + " of " + a.recordIds.length + " records to "
                    + a.partition + " acknowledged offsets " + baseOffset + ".." + lastOffset);
        }
        SimNode n = a.node;
        if (localWal && n.supersededAtMs != Long.MAX_VALUE && nowMs > n.supersededAtMs + leaseMs) {
            throw new SimulationFailure("lease", n + " (superseded at " + n.supersededAtMs + ") acknowledged append "
                    + a.id + " to " + a.partition + " at " + nowMs + ", more than writer.lease.ms=" + leaseMs
                    + " after a newer writer opened");
        }
        if (localWal && n.host.abandoned) {
            return; // a fenced writer's acknowledgement within its lease: lost with its host's WAL, by contract
        }
        for (int i = 0; i < a.recordIds.length; i++) {
            place(a.partition, baseOffset + i, a.recordIds[i], "acknowledgement of append " + a.id);
        }
    }

    void failed(Append a) {
        a.done = true;
    }

    /** Records {@code id} at {@code offset}; an established different record there must be allowed to go. */
    private void place(Partition p, long offset, long id, String how) {
        Long prev = p.placed.get(offset);
        if (prev != null && prev != id) {
            RecordInfo lost = records.get(prev);
            if (!mayBeLost(lost)) {
                throw new SimulationFailure("lost", "record " + prev + " (" + describe(lost) + ") at " + p + " offset "
                        + offset + " was replaced by record " + id + " (" + describe(records.get(id)) + ") by " + how);
            }
        }
        p.placed.put(offset, id);
    }

    /**
     * Whether an acknowledged (or seen) record may disappear without a rule: only with a WAL on
     * local disk, and only records appended on a host that a writer on another host took the store
     * over from (what that host had not uploaded cannot be handed over). The lease bound on what
     * such a host may still acknowledge is checked when it acknowledges.
     */
    boolean mayBeLost(RecordInfo r) {
        return r != null && localWal && r.append.node.host.abandoned;
    }

    String describe(RecordInfo r) {
        if (r == null) {
            return "unknown";
        }
        Append a = r.append;
        return "append " + a.id + "#" + r.index + " by " + a.node + (a.acked ? " acked at " + a.baseOffset : a.done
                ? " failed" : " in flight") + " to " + a.partition;
    }

    long timestampOf(long recordId) {
        RecordInfo r = records.get(recordId);
        return r == null ? 0 : r.append.timestamp;
    }

    /** A record a store served outside a full check (a long poll): appended there, not displacing another. */
    void checkServed(Partition p, long offset, long id, String who) {
        RecordInfo r = records.get(id);
        if (r == null || r.append.partition != p) {
            throw new SimulationFailure("phantom", who + ": " + p + " offset " + offset + " served record " + id + " ("
                    + describe(r) + "), which was never appended to it");
        }
        Long placedId = p.placed.get(offset);
        if (placedId != null && placedId != id && !mayBeLost(records.get(placedId))) {
            throw new SimulationFailure("lost", who + ": " + p + " offset " + offset + " served record " + id
                    + " where record " + placedId + " (" + describe(records.get(placedId)) + ") is");
        }
    }

    // ------------------------------------------------------------------ a store's view

    /** One record as a store returned it. */
    record Seen(long offset, long id, long timestamp) {
    }

    /**
     * Checks one partition as a store shows it: {@code seen} are the records from its log start to
     * its high watermark. {@code writerView}: the writer's view, which must hold every acknowledged
     * record below its high watermark (a reader only sees what is committed).
     */
    void check(Partition p, long logStart, long highWatermark, long highWatermarkAfter, List<Seen> seen,
            boolean writerView, long nowMs, String who) {
        verifiedReads++;
        if (writerView && logStart < p.logStart) {
            throw new SimulationFailure("log-start", who + ": log start of " + p + " went back from " + p.logStart
                    + " to " + logStart);
        }
        if (logStart > highWatermark) {
            throw new SimulationFailure("log-start", who + ": log start " + logStart + " of " + p
                    + " is above the high watermark " + highWatermark);
        }
        long expect = logStart;
        Set<Long> ids = new HashSet<>();
        boolean compacted = p.topic.compacts;
        for (Seen s : seen) {
            if (compacted ? s.offset() < expect : s.offset() != expect) {
                throw new SimulationFailure("gap", who + ": " + p + " returned offset " + s.offset() + " where "
                        + expect + " was next (log start " + logStart + ", high watermark " + highWatermark + ")");
            }
            expect = s.offset() + 1;
            RecordInfo r = records.get(s.id());
            if (r == null || r.append.partition != p) {
                throw new SimulationFailure("phantom", who + ": " + p + " offset " + s.offset() + " holds record "
                        + s.id() + " (" + describe(r) + "), which was never appended to it");
            }
            if (!ids.add(s.id())) {
                throw new SimulationFailure("duplicate", who + ": " + p + " returned record " + s.id() + " twice");
            }
            Append a = r.append;
            if (a.acked && a.baseOffset + r.index != s.offset()) {
                throw new SimulationFailure("wrong-offset", who + ": " + p + " holds record " + s.id() + " ("
                        + describe(r) + ") at offset " + s.offset() + ", not where it was acknowledged");
            }
        }
        if (compacted ? expect > highWatermark : expect != highWatermark) {
            throw new SimulationFailure("gap", who + ": " + p + " returned records up to " + (expect - 1)
                    + " but its high watermark is " + highWatermark);
        }
        if (compacted) {
            forgetCompactedAway(p, logStart, highWatermark, seen, who);
        }
        if (writerView && logStart > p.logStart) {
            justifyLogStart(p, logStart, nowMs, who);
        }
        for (Seen s : seen) {
            if (s.offset() >= p.logStart) {
                place(p, s.offset(), s.id(), who + "'s read");
            }
        }
        if (writerView) {
            for (Map.Entry<Long, Long> e : new ArrayList<>(p.placed.tailMap(highWatermarkAfter, true).entrySet())) {
                RecordInfo r = records.get(e.getValue());
                if (!mayBeLost(r)) {
                    throw new SimulationFailure("lost", who + ": " + p + " offset " + e.getKey() + " held record "
                            + e.getValue() + " (" + describe(r) + ") but the high watermark is " + highWatermarkAfter);
                }
                p.placed.remove(e.getKey());
            }
        }
    }

    /**
     * Key-based compaction keeps the newest record of each key: a placed record missing from a view
     * of a compacted partition is fine if a newer record with its key exists; it never returns.
     */
    private void forgetCompactedAway(Partition p, long logStart, long highWatermark, List<Seen> seen, String who) {
        Set<Long> present = new HashSet<>();
        for (Seen s : seen) {
            present.add(s.offset());
        }
        Map<String, Long> newest = new HashMap<>();
        for (Map.Entry<Long, Long> e : p.placed.entrySet()) {
            RecordInfo r = records.get(e.getValue());
            if (r != null) {
                newest.merge(r.key(), e.getKey(), Math::max);
            }
        }
        for (Seen s : seen) {
            RecordInfo r = records.get(s.id());
            if (r != null) {
                newest.merge(r.key(), s.offset(), Math::max);
            }
        }
        long from = Math.max(logStart, p.logStart);
        if (from >= highWatermark) {
            return;
        }
        for (Map.Entry<Long, Long> e : new ArrayList<>(p.placed.subMap(from, highWatermark).entrySet())) {
            if (present.contains(e.getKey())) {
                continue;
            }
            RecordInfo r = records.get(e.getValue());
            Long newer = r == null ? null : newest.get(r.key());
            if (newer == null || newer <= e.getKey()) {
                if (mayBeLost(r)) {
                    p.placed.remove(e.getKey());
                    continue;
                }
                throw new SimulationFailure("lost", who + ": compacted " + p + " lost record " + e.getValue() + " at "
                        + e.getKey() + " (" + describe(r) + ") although no newer record has its key "
                        + (r == null ? "" : r.key() + "; appends with that key: " + appendsWithKey(p, r.key())));
            }
            p.placed.remove(e.getKey());
        }
    }

    private String appendsWithKey(Partition p, String key) {
        List<String> out = new ArrayList<>();
        for (RecordInfo r : records.values()) {
            if (r.append.partition == p && r.key().equals(key)) {
                out.add(r.id() + ":" + describe(r));
            }
        }
        out.sort(null);
        return out.toString();
    }

    /** The log start moved: everything it passed must have been removable by a rule. */
    private void justifyLogStart(Partition p, long logStart, long nowMs, String who) {
        for (Map.Entry<Long, Long> e : p.placed.subMap(p.logStart, logStart).entrySet()) {
            long offset = e.getKey();
            RecordInfo r = records.get(e.getValue());
            boolean byDeleteRecords = offset < p.maxDeleteTarget;
            boolean byRetention = r != null && p.topic.minRetentionMs != Long.MAX_VALUE
                    && r.append.timestamp < nowMs - p.topic.minRetentionMs;
            if (!byDeleteRecords && !byRetention) {
                throw new SimulationFailure("log-start", who + ": log start of " + p + " moved to " + logStart
                        + " past record " + e.getValue() + " at " + offset + " (" + describe(r) + "), which neither"
                        + " deleteRecordsBefore (up to " + p.maxDeleteTarget + ") nor retention.ms="
                        + p.topic.minRetentionMs + " removes");
            }
        }
        p.placed.headMap(logStart).clear();
        p.logStart = logStart;
    }
}
