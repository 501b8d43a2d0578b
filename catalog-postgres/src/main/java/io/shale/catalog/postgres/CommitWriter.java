package io.shale.catalog.postgres;

import io.shale.log.internal.format.CorruptObjectException;
import io.shale.log.internal.manifest.ManifestOp;
import io.shale.log.internal.manifest.ProducerEntry;
import io.shale.log.internal.manifest.RangeRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes one commit's rows inside the caller's transaction: the fenced version bump of the store
 * row first, then each op's rows, with the same meaning as {@code ManifestState}'s state machine
 * (ranges of a partition deleted in flight are dropped, runs below the log start are not kept, an
 * object nothing points at any more is marked unreferenced with the commit's time). A whole
 * upload (one object, any number of partitions) costs a fixed number of statements, whatever the
 * partition count: per-partition values travel as arrays ({@code unnest}).
 */
final class CommitWriter {
    private CommitWriter() {
    }

    /**
     * Writes the commit. Returns the new version, or -1 if the store row's epoch is no longer
     * {@code epoch} (nothing was written; the caller rolls back).
     */
    static long write(Connection c, List<ManifestOp> ops, String token, long now, long epoch, String node)
            throws SQLException {
        if (!ops.isEmpty() && ops.get(0) instanceof ManifestOp.AddObject
                && ops.stream().allMatch(op -> op instanceof ManifestOp.AddObject || op instanceof ManifestOp.UpdateProducers
                        || op instanceof ManifestOp.UpdateTransactions)) {
            // an upload: its objects, and the producer and transaction state as of its end
            List<ManifestOp> objects = ops.stream().filter(op -> op instanceof ManifestOp.AddObject).toList();
            long version = writeUploads(c, objects, token, now, epoch);
            if (version >= 0) {
                for (ManifestOp op : ops) {
                    if (op instanceof ManifestOp.UpdateProducers up) {
                        updateProducers(c, up);
                    } else if (op instanceof ManifestOp.UpdateTransactions ut) {
                        updateTransactions(c, ut);
                    }
                }
            }
            return version;
        }
        int nextPid = -1;
        for (ManifestOp op : ops) {
            int[] ids = op instanceof ManifestOp.CreateTopic ct ? ct.partitionIds()
                    : op instanceof ManifestOp.AddPartitions ap ? ap.partitionIds() : new int[0];
            for (int id : ids) {
                nextPid = Math.max(nextPid, id + 1);
            }
        }
        long version;
        try (PreparedStatement ps = c.prepareStatement("UPDATE shale_store SET version = version + 1,"
                + " last_commit_token = ?, last_commit_at_ms = ?, next_partition_id = GREATEST(next_partition_id, ?)"
                + " WHERE id = 1 AND writer_epoch = ? RETURNING version")) {
            ps.setString(1, token);
            ps.setLong(2, now);
            ps.setInt(3, Math.max(nextPid, 0));
            ps.setLong(4, epoch);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return -1;
                }
                version = rs.getLong(1);
            }
        }
        writeOps(c, ops, now, epoch, node);
        return version;
    }

    /**
     * Writes the rows of {@code ops} (after the caller's fencing statement, in its transaction) and
     * marks the objects that lost their last range unreferenced.
     */
    static void writeOps(Connection c, List<ManifestOp> ops, long now, long epoch, String node) throws SQLException {
        Set<String> maybeUnreferenced = new LinkedHashSet<>();
        for (ManifestOp op : ops) {
            if (op instanceof ManifestOp.CreateTopic ct) {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO shale_topics (name, topic_id,"
                        + " config_keys, config_values) VALUES (?, ?, ?, ?)")) {
                    ps.setString(1, ct.name());
                    ps.setObject(2, ct.topicId());
                    setConfigs(c, ps, 3, ct.configs());
                    ps.executeUpdate();
                }
                insertPartitions(c, ct.name(), ct.partitionIds(), epoch, node);
            } else if (op instanceof ManifestOp.AddPartitions ap) {
                requireTopic(c, ap.name());
                insertPartitions(c, ap.name(), ap.partitionIds(), epoch, node);
            } else if (op instanceof ManifestOp.AlterTopicConfig ac) {
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE shale_topics SET config_keys = ?, config_values = ? WHERE name = ?")) {
                    setConfigs(c, ps, 1, ac.configs());
                    ps.setString(3, ac.name());
                    if (ps.executeUpdate() != 1) {
                        throw unknownTopic(ac.name());
                    }
                }
            } else if (op instanceof ManifestOp.DeleteTopic dt) {
                requireTopic(c, dt.name());
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM shale_ranges WHERE partition_id IN"
                        + " (SELECT partition_id FROM shale_partitions WHERE topic_name = ?) RETURNING object_key")) {
                    ps.setString(1, dt.name());
                    collect(ps, maybeUnreferenced);
                }
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM shale_partitions WHERE topic_name = ?")) {
                    ps.setString(1, dt.name());
                    ps.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM shale_topics WHERE name = ?")) {
                    ps.setString(1, dt.name());
                    ps.executeUpdate();
                }
            } else if (op instanceof ManifestOp.AddObject ao) {
                addObject(c, ao, maybeUnreferenced);
            } else if (op instanceof ManifestOp.RemoveRanges rr) {
                if (rr.ranges().isEmpty()) {
                    continue;
                }
                String[] keys = new String[rr.ranges().size()];
                Long[] bases = new Long[keys.length];
                for (int i = 0; i < keys.length; i++) {
                    keys[i] = rr.ranges().get(i).objectKey();
                    bases[i] = rr.ranges().get(i).baseOffset();
                }
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM shale_ranges r"
                        + " USING unnest(?::text[], ?::bigint[]) AS u(k, b)"
                        + " WHERE r.partition_id = ? AND r.object_key = u.k AND r.base_offset = u.b"
                        + " RETURNING r.object_key")) {
                    ps.setArray(1, c.createArrayOf("text", keys));
                    ps.setArray(2, c.createArrayOf("bigint", bases));
                    ps.setInt(3, rr.partitionId());
                    collect(ps, maybeUnreferenced);
                }
            } else if (op instanceof ManifestOp.SetLogStart sl) {
                int moved;
                try (PreparedStatement ps = c.prepareStatement("UPDATE shale_partitions SET log_start_offset = ?"
                        + " WHERE partition_id = ? AND log_start_offset < ?")) {
                    ps.setLong(1, sl.offset());
                    ps.setInt(2, sl.partitionId());
                    ps.setLong(3, sl.offset());
                    moved = ps.executeUpdate();
                }
                if (moved == 1) {
                    try (PreparedStatement ps = c.prepareStatement("DELETE FROM shale_ranges WHERE partition_id = ?"
                            + " AND next_offset <= ? RETURNING object_key")) {
                        ps.setInt(1, sl.partitionId());
                        ps.setLong(2, sl.offset());
                        collect(ps, maybeUnreferenced);
                    }
                    // aborted transactions wholly below the log start, as ManifestState drops them
                    try (PreparedStatement ps = c.prepareStatement("DELETE FROM shale_txn_aborted WHERE partition_id = ?"
                            + " AND last_offset < ?")) {
                        ps.setInt(1, sl.partitionId());
                        ps.setLong(2, sl.offset());
                        ps.executeUpdate();
                    }
                }
            } else if (op instanceof ManifestOp.SetCleanedOffset sc) {
                try (PreparedStatement ps = c.prepareStatement("UPDATE shale_partitions SET cleaned_offset = ?"
                        + " WHERE partition_id = ? AND cleaned_offset < ?")) {
                    ps.setLong(1, sc.offset());
                    ps.setInt(2, sc.partitionId());
                    ps.setLong(3, sc.offset());
                    ps.executeUpdate();
                }
            } else if (op instanceof ManifestOp.ObjectsDeleted od) {
                // a row still referenced by a range makes the foreign key refuse the whole commit
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM shale_objects WHERE object_key = ANY(?)")) {
                    ps.setArray(1, c.createArrayOf("text", od.keys().toArray(new String[0])));
                    ps.executeUpdate();
                }
                od.keys().forEach(maybeUnreferenced::remove);
            } else if (op instanceof ManifestOp.UpdateProducers up) {
                updateProducers(c, up);
            } else if (op instanceof ManifestOp.UpdateTransactions ut) {
                updateTransactions(c, ut);
            } else if (op instanceof ManifestOp.AllocateProducerIds ap) {
                long before;
                try (PreparedStatement ps = c.prepareStatement("SELECT next_producer_id FROM shale_store WHERE id = 1")) {
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        before = rs.getLong(1);
                    }
                }
                if (ap.next() < before) {
                    throw new CorruptObjectException("catalog tables: a commit would move the next producer id back"
                            + " from " + before + " to " + ap.next());
                }
                try (PreparedStatement ps = c.prepareStatement("UPDATE shale_store SET next_producer_id = ? WHERE id = 1")) {
                    ps.setLong(1, ap.next());
                    ps.executeUpdate();
                }
            } else if (op instanceof ManifestOp.ClaimEpoch) {
                throw new IllegalArgumentException("a writer epoch is claimed with claimWriter, not committed");
            } else {
                throw new IllegalArgumentException("unknown catalog op " + op);
            }
        }
        if (!maybeUnreferenced.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement("UPDATE shale_objects o SET unreferenced_since_ms = ?"
                    + " WHERE o.object_key = ANY(?) AND o.unreferenced_since_ms IS NULL"
                    + " AND NOT EXISTS (SELECT 1 FROM shale_ranges r WHERE r.object_key = o.object_key)")) {
                ps.setLong(1, now);
                ps.setArray(2, c.createArrayOf("text", maybeUnreferenced.toArray(new String[0])));
                ps.executeUpdate();
            }
        }
    }

    /**
     * The upload path (every op an AddObject): one statement whatever the number of objects and
     * partitions, so a commit is two round trips (this statement and COMMIT). Data-modifying CTEs
     * all run on the statement's snapshot and only if the fenced version bump {@code s} returned a
     * row; the ranges' foreign key to the objects inserted beside them is checked at the end of the
     * statement. Objects that got no range (their partitions were deleted, or their runs fell below
     * the log start, while they were in flight) are marked unreferenced by a second statement.
     */
    private static long writeUploads(Connection c, List<ManifestOp> ops, String token, long now, long epoch)
            throws SQLException {
        int objects = ops.size();
        String[] okey = new String[objects];
        Long[] osize = new Long[objects];
        Long[] oindex = new Long[objects];
        Integer[] okind = new Integer[objects];
        Long[] ocreated = new Long[objects];
        List<RangeRef> ranges = new ArrayList<>();
        for (int i = 0; i < objects; i++) {
            ManifestOp.AddObject ao = (ManifestOp.AddObject) ops.get(i);
            var o = ao.object();
            okey[i] = o.key();
            osize[i] = o.size();
            oindex[i] = o.indexPosition();
            okind[i] = o.kind();
            ocreated[i] = o.createdAtMs();
            for (RangeRef r : ao.ranges()) {
                if (!r.object().key().equals(o.key())) {
                    throw new IllegalArgumentException("range " + r + " of AddObject " + o.key() + " names another object");
                }
                ranges.add(r);
            }
        }
        RangeColumns columns = RangeColumns.of(ranges);
        long version;
        Set<String> withRanges = new LinkedHashSet<>();
        try (PreparedStatement ps = c.prepareStatement("WITH s AS ("
                + " UPDATE shale_store SET version = version + 1, last_commit_token = ?, last_commit_at_ms = ?"
                + " WHERE id = 1 AND writer_epoch = ? RETURNING version),"
                + " o AS (INSERT INTO shale_objects (object_key, size_bytes, index_position, kind, created_at_ms)"
                + " SELECT * FROM unnest(?::text[], ?::bigint[], ?::bigint[], ?::smallint[], ?::bigint[])"
                + " WHERE EXISTS (SELECT 1 FROM s) RETURNING object_key),"
                + " u AS (SELECT * FROM unnest(?::integer[], ?::text[], ?::bigint[], ?::bigint[], ?::bigint[],"
                + " ?::bigint[], ?::integer[], ?::integer[], ?::integer[], ?::integer[])"
                + " AS u(pid, k, b, n, ts, pos, len, fb, bc, crc)),"
                + " e AS (UPDATE shale_partitions p SET end_offset = GREATEST(p.end_offset, m.n)"
                + " FROM (SELECT pid, max(n) AS n FROM u GROUP BY pid) m"
                + " WHERE p.partition_id = m.pid AND EXISTS (SELECT 1 FROM s) RETURNING 1),"
                + " r AS (INSERT INTO shale_ranges (partition_id, object_key, base_offset, next_offset, max_timestamp,"
                + " byte_position, byte_length, first_block, block_count, single_block_crc)"
                + " SELECT u.pid, u.k, u.b, u.n, u.ts, u.pos, u.len, u.fb, u.bc, u.crc"
                + " FROM u JOIN shale_partitions p ON p.partition_id = u.pid"
                + " WHERE u.n > p.log_start_offset AND EXISTS (SELECT 1 FROM s) RETURNING object_key)"
                + " SELECT (SELECT version FROM s), ARRAY(SELECT DISTINCT object_key FROM r),"
                + " (SELECT count(*) FROM o), (SELECT count(*) FROM e)")) {
            int i = 1;
            ps.setString(i++, token);
            ps.setLong(i++, now);
            ps.setLong(i++, epoch);
            ps.setArray(i++, c.createArrayOf("text", okey));
            ps.setArray(i++, c.createArrayOf("bigint", osize));
            ps.setArray(i++, c.createArrayOf("bigint", oindex));
            ps.setArray(i++, c.createArrayOf("smallint", okind));
            ps.setArray(i++, c.createArrayOf("bigint", ocreated));
            columns.bind(c, ps, i, true);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                version = rs.getLong(1);
                if (rs.wasNull()) {
                    return -1; // fenced: no CTE wrote anything
                }
                withRanges.addAll(List.of((String[]) rs.getArray(2).getArray()));
            }
        }
        if (withRanges.size() < objects) {
            Set<String> without = new LinkedHashSet<>(List.of(okey));
            without.removeAll(withRanges);
            try (PreparedStatement ps = c.prepareStatement("UPDATE shale_objects SET unreferenced_since_ms = ?"
                    + " WHERE object_key = ANY(?) AND unreferenced_since_ms IS NULL")) {
                ps.setLong(1, now);
                ps.setArray(2, c.createArrayOf("text", without.toArray(new String[0])));
                ps.executeUpdate();
            }
        }
        return version;
    }

    private static void addObject(Connection c, ManifestOp.AddObject ao, Set<String> maybeUnreferenced)
            throws SQLException {
        var o = ao.object();
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO shale_objects (object_key, size_bytes,"
                + " index_position, kind, created_at_ms) VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, o.key());
            ps.setLong(2, o.size());
            ps.setLong(3, o.indexPosition());
            ps.setInt(4, o.kind());
            ps.setLong(5, o.createdAtMs());
            ps.executeUpdate();
        }
        List<RangeRef> ranges = ao.ranges();
        if (ranges.isEmpty()) {
            maybeUnreferenced.add(o.key());
            return;
        }
        // end offsets first (a run below the log start still moves the end), one value per partition
        Map<Integer, Long> ends = new LinkedHashMap<>();
        for (RangeRef r : ranges) {
            ends.merge(r.partitionId(), r.nextOffset(), Math::max);
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE shale_partitions p"
                + " SET end_offset = GREATEST(p.end_offset, u.next_offset)"
                + " FROM unnest(?::integer[], ?::bigint[]) AS u(pid, next_offset) WHERE p.partition_id = u.pid")) {
            ps.setArray(1, c.createArrayOf("integer", ends.keySet().toArray(new Integer[0])));
            ps.setArray(2, c.createArrayOf("bigint", ends.values().toArray(new Long[0])));
            ps.executeUpdate();
        }
        for (RangeRef r : ranges) {
            if (!r.object().key().equals(o.key())) {
                throw new IllegalArgumentException("range " + r + " of AddObject " + o.key() + " names another object");
            }
        }
        RangeColumns columns = RangeColumns.of(ranges);
        int inserted;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO shale_ranges (partition_id, object_key,"
                + " base_offset, next_offset, max_timestamp, byte_position, byte_length, first_block, block_count,"
                + " single_block_crc)"
                + " SELECT u.pid, ?, u.b, u.n, u.ts, u.pos, u.len, u.fb, u.bc, u.crc"
                + " FROM unnest(?::integer[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::integer[],"
                + " ?::integer[], ?::integer[], ?::integer[]) AS u(pid, b, n, ts, pos, len, fb, bc, crc)"
                + " JOIN shale_partitions p ON p.partition_id = u.pid WHERE u.n > p.log_start_offset")) {
            ps.setString(1, o.key());
            columns.bind(c, ps, 2, false);
            inserted = ps.executeUpdate();
        }
        if (inserted == 0) {
            maybeUnreferenced.add(o.key());
        }
    }

    /**
     * The columns of {@code shale_ranges} for a list of ranges, as arrays for {@code unnest}: bound
     * in table order (partition id, [object key,] base offset, next offset, max timestamp, byte
     * position, byte length, first block, block count, single-block CRC).
     */
    record RangeColumns(Integer[] pid, String[] key, Long[] base, Long[] next, Long[] ts, Long[] pos,
            Integer[] len, Integer[] first, Integer[] count, Integer[] crc) {

        static RangeColumns of(List<RangeRef> ranges) {
            int n = ranges.size();
            RangeColumns c = new RangeColumns(new Integer[n], new String[n], new Long[n], new Long[n], new Long[n],
                    new Long[n], new Integer[n], new Integer[n], new Integer[n], new Integer[n]);
            for (int i = 0; i < n; i++) {
                RangeRef r = ranges.get(i);
                c.pid[i] = r.partitionId();
                c.key[i] = r.object().key();
                c.base[i] = r.baseOffset();
                c.next[i] = r.nextOffset();
                c.ts[i] = r.maxTimestamp();
                c.pos[i] = r.position();
                c.len[i] = r.length();
                c.first[i] = r.firstBlock();
                c.count[i] = r.blockCount();
                c.crc[i] = r.singleBlockCrc();
            }
            return c;
        }

        /** Binds the arrays from parameter {@code i} on; the object keys only if {@code withKeys}. */
        void bind(Connection c, PreparedStatement ps, int i, boolean withKeys) throws SQLException {
            ps.setArray(i++, c.createArrayOf("integer", pid));
            if (withKeys) {
                ps.setArray(i++, c.createArrayOf("text", key));
            }
            ps.setArray(i++, c.createArrayOf("bigint", base));
            ps.setArray(i++, c.createArrayOf("bigint", next));
            ps.setArray(i++, c.createArrayOf("bigint", ts));
            ps.setArray(i++, c.createArrayOf("bigint", pos));
            ps.setArray(i++, c.createArrayOf("integer", len));
            ps.setArray(i++, c.createArrayOf("integer", first));
            ps.setArray(i++, c.createArrayOf("integer", count));
            ps.setArray(i, c.createArrayOf("integer", crc));
        }
    }

    /**
     * Replaces the rows of the op's producers and deletes the expired ones; nothing for a partition
     * deleted while the data was in flight (as {@code ManifestState} ignores such an op).
     */
    static void updateProducers(Connection c, ManifestOp.UpdateProducers up) throws SQLException {
        if (!up.entries().isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO shale_producers (partition_id, producer_id,"
                    + " epoch, first_seqs, last_seqs, first_offsets, last_offsets, timestamps)"
                    + " SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM shale_partitions WHERE partition_id = ?)"
                    + " ON CONFLICT (partition_id, producer_id) DO UPDATE SET epoch = EXCLUDED.epoch,"
                    + " first_seqs = EXCLUDED.first_seqs, last_seqs = EXCLUDED.last_seqs,"
                    + " first_offsets = EXCLUDED.first_offsets, last_offsets = EXCLUDED.last_offsets,"
                    + " timestamps = EXCLUDED.timestamps")) {
                for (ProducerEntry e : up.entries()) {
                    int n = e.batches().size();
                    Integer[] firstSeqs = new Integer[n];
                    Integer[] lastSeqs = new Integer[n];
                    Long[] firstOffsets = new Long[n];
                    Long[] lastOffsets = new Long[n];
                    Long[] timestamps = new Long[n];
                    for (int i = 0; i < n; i++) {
                        ProducerEntry.Batch b = e.batches().get(i);
                        firstSeqs[i] = b.firstSeq();
                        lastSeqs[i] = b.lastSeq();
                        firstOffsets[i] = b.firstOffset();
                        lastOffsets[i] = b.lastOffset();
                        timestamps[i] = b.timestamp();
                    }
                    ps.setInt(1, up.partitionId());
                    ps.setLong(2, e.producerId());
                    ps.setShort(3, e.epoch());
                    ps.setArray(4, c.createArrayOf("integer", firstSeqs));
                    ps.setArray(5, c.createArrayOf("integer", lastSeqs));
                    ps.setArray(6, c.createArrayOf("bigint", firstOffsets));
                    ps.setArray(7, c.createArrayOf("bigint", lastOffsets));
                    ps.setArray(8, c.createArrayOf("bigint", timestamps));
                    ps.setInt(9, up.partitionId());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
        if (!up.expired().isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement(
                    "DELETE FROM shale_producers WHERE partition_id = ? AND producer_id = ANY(?)")) {
                ps.setInt(1, up.partitionId());
                ps.setArray(2, c.createArrayOf("bigint", up.expired().toArray(new Long[0])));
                ps.executeUpdate();
            }
        }
    }

    /**
     * Replaces the partition's open transactions and adds its newly aborted ones (those already
     * below the log start are not kept, as {@code ManifestState} drops them); nothing for a
     * partition deleted while the data was in flight.
     */
    static void updateTransactions(Connection c, ManifestOp.UpdateTransactions ut) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM shale_txn_ongoing WHERE partition_id = ?")) {
            ps.setInt(1, ut.partitionId());
            ps.executeUpdate();
        }
        if (!ut.ongoing().isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO shale_txn_ongoing (partition_id, producer_id,"
                    + " first_offset) SELECT ?, u.p, u.f FROM unnest(?::bigint[], ?::bigint[]) AS u(p, f)"
                    + " WHERE EXISTS (SELECT 1 FROM shale_partitions WHERE partition_id = ?)")) {
                Long[] ids = ut.ongoing().keySet().toArray(new Long[0]);
                Long[] firsts = new Long[ids.length];
                for (int i = 0; i < ids.length; i++) {
                    firsts[i] = ut.ongoing().get(ids[i]);
                }
                ps.setInt(1, ut.partitionId());
                ps.setArray(2, c.createArrayOf("bigint", ids));
                ps.setArray(3, c.createArrayOf("bigint", firsts));
                ps.setInt(4, ut.partitionId());
                ps.executeUpdate();
            }
        }
        if (!ut.aborted().isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO shale_txn_aborted (partition_id, producer_id,"
                    + " first_offset, last_offset) SELECT ?, u.p, u.f, u.l FROM unnest(?::bigint[], ?::bigint[],"
                    + " ?::bigint[]) AS u(p, f, l) WHERE EXISTS (SELECT 1 FROM shale_partitions WHERE partition_id = ?"
                    + " AND log_start_offset <= u.l)")) {
                int n = ut.aborted().size();
                Long[] ids = new Long[n];
                Long[] firsts = new Long[n];
                Long[] lasts = new Long[n];
                for (int i = 0; i < n; i++) {
                    io.shale.log.AbortedTransaction t = ut.aborted().get(i);
                    ids[i] = t.producerId();
                    firsts[i] = t.firstOffset();
                    lasts[i] = t.lastOffset();
                }
                ps.setInt(1, ut.partitionId());
                ps.setArray(2, c.createArrayOf("bigint", ids));
                ps.setArray(3, c.createArrayOf("bigint", firsts));
                ps.setArray(4, c.createArrayOf("bigint", lasts));
                ps.setInt(5, ut.partitionId());
                ps.executeUpdate();
            }
        }
    }

    static void insertPartitions(Connection c, String topic, int[] ids, long epoch, String node)
            throws SQLException {
        int first;
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM shale_partitions WHERE topic_name = ?")) {
            ps.setString(1, topic);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                first = rs.getInt(1);
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO shale_partitions (partition_id, topic_name,"
                + " partition_index, owner_node, partition_epoch)"
                + " SELECT u.id, ?, ? + u.ord::integer - 1, ?, ? FROM unnest(?::integer[]) WITH ORDINALITY AS u(id, ord)")) {
            ps.setString(1, topic);
            ps.setInt(2, first);
            ps.setString(3, node);
            ps.setLong(4, epoch);
            ps.setArray(5, c.createArrayOf("integer", Arrays.stream(ids).boxed().toArray(Integer[]::new)));
            ps.executeUpdate();
        }
    }

    private static void requireTopic(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM shale_topics WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw unknownTopic(name);
                }
            }
        }
    }

    private static CorruptObjectException unknownTopic(String name) {
        return new CorruptObjectException("catalog tables: topic '" + name
                + "' is known to this writer but not to the catalog");
    }

    private static void setConfigs(Connection c, PreparedStatement ps, int first, Map<String, String> configs)
            throws SQLException {
        List<String> keys = new ArrayList<>(configs.keySet());
        List<String> values = new ArrayList<>();
        for (String k : keys) {
            values.add(configs.get(k));
        }
        ps.setArray(first, c.createArrayOf("text", keys.toArray(new String[0])));
        ps.setArray(first + 1, c.createArrayOf("text", values.toArray(new String[0])));
    }

    private static void collect(PreparedStatement ps, Set<String> keys) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                keys.add(rs.getString(1));
            }
        }
    }
}
