package io.shale.storage.local.wal;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.spi.WalContext;
import io.shale.log.spi.WalEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WAL's single writer thread: takes entries from the {@link EntryRing} in sequence order,
 * frames a group of them into one reused direct buffer, writes it with one positional
 * {@code write} and makes it durable with one {@code fdatasync} ({@code force(false)}), then
 * completes the entries.
 *
 * <p>Segment life: a segment is <em>activated</em> by writing its header together with its first
 * group (so a header is never durable without the {@code fdatasync} that also covers that group),
 * filled, then <em>sealed</em> (normal roll-over, or abandonment after an I/O error) and handed to
 * the {@link SegmentPool}. The next segment's header records where the sealed one's good frames
 * end. After any failed write or sync the writer never writes to that segment again: bytes of the
 * failed group may or may not be on disk, and only a fresh segment guarantees that later frames
 * follow nothing but verified ones.
 *
 * <p>Allocation: none per entry on the hot path. The group arrays grow (rarely) to the largest
 * group seen; the staging buffer is allocated once.
 */
final class GroupWriter implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(GroupWriter.class);
    private static final long IDLE_PARK_NANOS = 100_000_000L;
    private static final byte[] ZEROS = new byte[WalFormat.FIRST_FRAME_OFFSET];

    /** The segment being written. Only the writer thread touches it. */
    private static final class Active {
        final Path path;
        final FileChannel channel;
        final long capacity;
        final long segmentId;
        final long ordinal;
        long writePos = WalFormat.FIRST_FRAME_OFFSET;
        boolean headerPending = true;
        boolean headerSynced;
        long lastSequence = -1;

        Active(Path path, FileChannel channel, long capacity, long segmentId, long ordinal) {
            this.path = path;
            this.channel = channel;
            this.capacity = capacity;
            this.segmentId = segmentId;
            this.ordinal = ordinal;
        }
    }

    private final long segmentBytes;
    private final int maxGroupBytes;
    private final long intervalNanos;
    private final Path dir;
    private final ChannelFactory channels;
    private final SegmentPool pool;
    private final EntryRing ring;
    private final String description;
    private final SplittableRandom random = new SplittableRandom(new SecureRandom().nextLong());

    private final ByteBuffer staging;
    private final ByteBuffer crcView;
    private final CRC32C crc = new CRC32C();
    private final byte[] scratch = new byte[8];
    private WalEntry[] group = new WalEntry[256];
    private ByteBuffer[] payloads = new ByteBuffer[256];
    /** Payload position and length of each group entry, read once when the group is collected. */
    private int[] positions = new int[256];
    private int[] lengths = new int[256];
    /** Sequence of each group entry (contiguous unless an entry was rejected). */
    private long[] sequences = new long[256];
    private long groupBytes;

    private Active active;
    private long prevSegmentId;
    private long prevEnd;
    private long nextOrdinal;
    private long cursor;
    private boolean dirty;
    /** A segment was abandoned and no later segment header is durable yet. */
    private boolean abandonedWithoutSuccessor;
    private long lastSyncNanos;
    private volatile long closeEnd = -1;
    private final BooleanSupplier closeRequested = () -> closeEnd >= 0;

    // Metrics: written by the writer thread only, read by anyone.
    private volatile long groups;
    private volatile long entries;
    private volatile long payloadBytes;
    private volatile long fileBytes;
    private volatile long fsyncs;
    private volatile long lastGroupEntries;
    private volatile long lastGroupBytes;
    private volatile long failedGroups;
    private volatile long failedEntries;
    private volatile long syncFailures;
    private volatile long unfilledSegments;
    /** Where sync timings go (the store's metrics), or null: no clock is read around syncs. */
    private final WalContext syncReports;

    GroupWriter(Path dir, long segmentBytes, int maxGroupBytes, long intervalNanos, ChannelFactory channels,
            SegmentPool pool, EntryRing ring, String description, long firstSequence, long nextOrdinal,
            long prevSegmentId, long prevEnd, WalContext syncReports) {
        this.syncReports = syncReports != null && syncReports.recordsSyncs() ? syncReports : null;
        this.dir = dir;
        this.segmentBytes = segmentBytes;
        this.maxGroupBytes = maxGroupBytes;
        this.intervalNanos = intervalNanos;
        this.channels = channels;
        this.pool = pool;
        this.ring = ring;
        this.description = description;
        this.cursor = firstSequence;
        this.nextOrdinal = nextOrdinal;
        this.prevSegmentId = prevSegmentId;
        this.prevEnd = prevEnd;
        this.staging = ByteBuffer.allocateDirect(maxGroupBytes + WalFormat.FIRST_FRAME_OFFSET);
        this.crcView = staging.duplicate();
    }

    /** Asks the thread to write everything below {@code end} and stop. */
    void requestClose(long end) {
        closeEnd = end;
        ring.wakeConsumer();
    }

    @Override
    public void run() {
        lastSyncNanos = System.nanoTime();
        try {
            while (true) {
                long end = closeEnd;
                if (end >= 0 && cursor >= end) {
                    break;
                }
                int n = collect(end);
                if (n > 0) {
                    writeGroup(n);
                    syncIfDue(System.nanoTime());
                } else if (ring.claimedButUnpublished(cursor)) {
                    awaitPublication();
                } else {
                    idle();
                }
            }
            finish();
        } catch (Throwable t) {
            // Not an I/O error (those fail their group and the writer goes on): a bug or an Error.
            // Fail whatever is held and everything still published, so that no entry waits forever.
            LOG.error("{}: writer thread failed; failing every further entry", description, t);
            ring.consumerDied();
            ShaleException error = new ShaleException(ErrorKind.UNAVAILABLE, description + ": writer thread failed: "
                    + t, t);
            fail(group.length, error);
            if (active != null) {
                closeQuietly(active.channel);
                active = null;
            }
            drainFailing(error);
            throw t;
        }
    }

    private void drainFailing(ShaleException error) {
        while (true) {
            long end = closeEnd;
            if (end >= 0 && cursor >= end) {
                return;
            }
            int n = collect(end);
            if (n > 0) {
                fail(n, error);
            } else if (ring.claimedButUnpublished(cursor)) {
                awaitPublication();
            } else {
                ring.awaitEntry(cursor, IDLE_PARK_NANOS, closeRequested);
            }
        }
    }

    // ---- collecting ----

    /**
     * Takes the next group from the ring (rolling over to a new segment first if its first entry
     * does not fit the active one); returns its entry count, 0 if nothing is ready.
     */
    private int collect(long end) {
        long stop = end >= 0 ? end : Long.MAX_VALUE;
        long s = cursor;
        int n = 0;
        long bytes = 0;
        long room = 0;
        while (s < stop) {
            WalEntry e = ring.peek(s);
            if (e == null) {
                break;
            }
            ByteBuffer p;
            int pos;
            int len;
            try {
                p = e.payload();
                pos = p.position();
                len = p.remaining();
                if (len > WalFormat.MAX_PAYLOAD_BYTES) {
                    throw new IllegalStateException("payload grew to " + len + " bytes after append");
                }
            } catch (RuntimeException ex) {
                // The entry broke its contract; it fails alone, its sequence stays unused.
                ring.clear(s);
                s++;
                reject(e, ex);
                continue;
            }
            long frame = WalFormat.frameLength(len);
            if (n == 0) {
                if (active != null && frame > active.capacity - active.writePos) {
                    seal(active);
                }
                room = active != null
                        ? active.capacity - active.writePos
                        : Math.max(segmentBytes - WalFormat.FIRST_FRAME_OFFSET, frame);
            } else if (bytes + frame > maxGroupBytes || bytes + frame > room) {
                break;
            }
            if (n == group.length) {
                group = Arrays.copyOf(group, n * 2);
                payloads = Arrays.copyOf(payloads, n * 2);
                positions = Arrays.copyOf(positions, n * 2);
                lengths = Arrays.copyOf(lengths, n * 2);
                sequences = Arrays.copyOf(sequences, n * 2);
            }
            group[n] = e;
            sequences[n] = s;
            payloads[n] = p;
            positions[n] = pos;
            lengths[n] = len;
            n++;
            ring.clear(s);
            s++;
            bytes += frame;
            if (bytes >= maxGroupBytes) {
                break;
            }
        }
        cursor = s;
        ring.advance(s);
        groupBytes = bytes;
        return n;
    }

    private void reject(WalEntry e, RuntimeException cause) {
        failedEntries++;
        try {
            e.onFailure(new ShaleException(ErrorKind.INVALID_ARGUMENT, description + ": entry of stream "
                    + e.streamId() + " at offset " + e.baseOffset() + " rejected: its payload() failed: " + cause,
                    cause));
        } catch (Throwable t) {
            LOG.warn("{}: onFailure callback threw", description, t);
        }
    }

    private void awaitPublication() {
        // A producer claimed the next sequence and is about to store it: a few instructions away
        // unless it was descheduled, in which case yielding lets it run.
        for (int i = 0; i < 1000 && ring.claimedButUnpublished(cursor); i++) {
            Thread.onSpinWait();
        }
        if (ring.claimedButUnpublished(cursor)) {
            Thread.yield();
        }
    }

    private void idle() {
        long timeout = IDLE_PARK_NANOS;
        if (intervalNanos > 0 && dirty) {
            long now = System.nanoTime();
            long due = lastSyncNanos + intervalNanos - now;
            if (due <= 0) {
                syncIfDue(now);
                return;
            }
            timeout = Math.min(timeout, due);
        }
        ring.awaitEntry(cursor, timeout, closeRequested);
        syncIfDue(System.nanoTime());
    }

    // ---- writing ----

    private void writeGroup(int n) {
        long firstSeq = sequences[0];
        long lastSeq = sequences[n - 1];
        if (active == null) {
            try {
                activate(groupBytes);
            } catch (IOException | RuntimeException e) {
                failedGroup(n, new ShaleException(ErrorKind.UNAVAILABLE, description + ": cannot prepare a WAL "
                        + "segment in " + dir + " for " + n + " entries (sequences " + firstSeq + ".." + lastSeq
                        + "): " + e, e));
                return;
            }
        }
        Active a = active;
        staging.clear();
        long filePos;
        if (a.headerPending) {
            WalFormat.writeHeader(staging, 0, a.segmentId, a.ordinal, firstSeq, prevSegmentId, prevEnd, crc);
            staging.put(WalFormat.HEADER_LENGTH, ZEROS, 0, WalFormat.FIRST_FRAME_OFFSET - WalFormat.HEADER_LENGTH);
            staging.position(WalFormat.FIRST_FRAME_OFFSET);
            filePos = 0;
        } else {
            filePos = a.writePos;
        }
        long framePos = a.writePos;
        try {
            for (int i = 0; i < n; i++) {
                WalEntry e = group[i];
                ByteBuffer p = payloads[i];
                long seq = sequences[i];
                int len = lengths[i];
                int frame = WalFormat.frameLength(len);
                if (frame <= staging.remaining()) {
                    int at = staging.position();
                    staging.put(at + WalFormat.FRAME_HEADER_LENGTH, p, positions[i], len);
                    WalFormat.writeFrame(staging, crcView, at, framePos, e.streamId(), a.segmentId, seq,
                            e.baseOffset(), len, crc, scratch);
                    staging.position(at + frame);
                } else {
                    filePos = flushStaging(a.channel, filePos);
                    writeLargeFrame(a, framePos, e, p, positions[i], len, seq);
                    filePos = framePos + frame;
                }
                framePos += frame;
            }
            flushStaging(a.channel, filePos);
            if (intervalNanos == 0) {
                sync(a.channel, framePos - a.writePos);
            }
        } catch (IOException | RuntimeException ex) {
            // Any frame of the failed group may be on disk: count its sequences for trimming.
            a.lastSequence = Math.max(a.lastSequence, lastSeq);
            failedGroup(n, new ShaleException(ErrorKind.UNAVAILABLE, description + ": writing " + n
                    + " entries (sequences " + firstSeq + ".." + lastSeq + ") to " + a.path
                    + " at position " + a.writePos + " failed: " + ex, ex));
            abandon(a);
            return;
        }
        long written = framePos - a.writePos + (a.headerPending ? WalFormat.FIRST_FRAME_OFFSET : 0);
        a.writePos = framePos;
        a.headerPending = false;
        a.lastSequence = lastSeq;
        if (intervalNanos == 0) {
            markSynced(a);
        } else {
            dirty = true;
        }
        groups++;
        entries += n;
        payloadBytes += groupBytes - (long) n * WalFormat.FRAME_HEADER_LENGTH;
        fileBytes += written;
        lastGroupEntries = n;
        lastGroupBytes = groupBytes;
        complete(n);
    }

    /** Streams one frame larger than the staging buffer through it, header last. */
    private void writeLargeFrame(Active a, long framePos, WalEntry e, ByteBuffer p, int src, int len, long seq)
            throws IOException {
        int h = WalFormat.FRAME_HEADER_LENGTH;
        staging.clear();
        WalFormat.writeFrameHeaderFields(staging, 0, e.streamId(), a.segmentId, seq, e.baseOffset(), len);
        crc.reset();
        for (int i = 0; i < 8; i++) {
            scratch[i] = (byte) (framePos >>> (56 - 8 * i));
        }
        crc.update(scratch, 0, 8);
        crcView.limit(h).position(WalFormat.FRAME_LENGTH_OFFSET);
        crc.update(crcView);
        int chunkCapacity = staging.capacity() - h;
        for (int off = 0; off < len; ) {
            int c = Math.min(chunkCapacity, len - off);
            staging.clear();
            staging.put(h, p, src + off, c);
            crcView.limit(h + c).position(h);
            crc.update(crcView);
            staging.limit(h + c).position(h);
            writeFully(a.channel, staging, framePos + h + off);
            off += c;
        }
        staging.clear();
        staging.putInt(WalFormat.FRAME_CRC_OFFSET, (int) crc.getValue());
        staging.limit(h).position(0);
        writeFully(a.channel, staging, framePos);
        staging.clear();
    }

    private long flushStaging(FileChannel ch, long filePos) throws IOException {
        staging.flip();
        long end = filePos + staging.remaining();
        writeFully(ch, staging, filePos);
        staging.clear();
        return end;
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        long p = pos;
        while (buf.hasRemaining()) {
            p += ch.write(buf, p);
        }
    }

    private void activate(long frameBytes) throws IOException {
        long needed = WalFormat.FIRST_FRAME_OFFSET + frameBytes;
        Path path;
        if (needed <= segmentBytes) {
            path = pool.takeSpare();
            if (path == null) {
                path = pool.createUnfilled(segmentBytes);
                unfilledSegments++;
            }
        } else {
            // An entry larger than a standard segment gets a segment of its own.
            path = pool.createUnfilled((needed + 4095) / 4096 * 4096);
            unfilledSegments++;
        }
        FileChannel ch;
        long capacity;
        try {
            ch = channels.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException | RuntimeException e) {
            pool.release(path);
            throw e;
        }
        try {
            capacity = ch.size();
            if (capacity < needed) {
                throw new IOException("segment file " + path + " has " + capacity + " bytes, " + needed
                        + " needed");
            }
        } catch (IOException | RuntimeException e) {
            closeQuietly(ch);
            pool.release(path);
            throw e;
        }
        long id;
        do {
            id = random.nextLong();
        } while (id == 0);
        active = new Active(path, ch, capacity, id, nextOrdinal++);
    }

    /** Normal roll-over: the segment is full (for the next entry). */
    private void seal(Active a) {
        if (a.headerPending) {
            // Never written successfully: nothing to keep, nothing to link to.
            closeQuietly(a.channel);
            pool.release(a.path);
            active = null;
            return;
        }
        if (intervalNanos > 0 && dirty) {
            try {
                sync(a.channel, 0);
                markSynced(a);
            } catch (IOException e) {
                syncFailures++;
                LOG.error("{}: syncing sealed segment {} failed; entries acknowledged since the last sync may be "
                        + "lost if the machine crashes: {}", description, a.path, e.toString());
            }
            dirty = false;
        }
        closeQuietly(a.channel);
        pool.sealed(new SegmentPool.Sealed(a.path, a.ordinal, a.lastSequence, a.capacity));
        prevSegmentId = a.segmentId;
        prevEnd = a.writePos;
        active = null;
    }

    /** After a failed write or sync: no byte is ever written to this segment again. */
    private void abandon(Active a) {
        if (a.headerPending) {
            closeQuietly(a.channel);
            pool.release(a.path);
            active = null;
        } else {
            seal(a);
            abandonedWithoutSuccessor = true;
        }
    }

    /**
     * On close, right after an abandoned segment: writes a successor header (no frames) so that
     * the abandoned segment's declared end is durable and the failed group's frames, which may be
     * complete on disk, are not replayed by the next recovery.
     */
    private void declareEndOfAbandonedSegment() {
        try {
            activate(0);
            Active a = active;
            staging.clear();
            WalFormat.writeHeader(staging, 0, a.segmentId, a.ordinal, cursor, prevSegmentId, prevEnd, crc);
            staging.put(WalFormat.HEADER_LENGTH, ZEROS, 0, WalFormat.FIRST_FRAME_OFFSET - WalFormat.HEADER_LENGTH);
            staging.position(WalFormat.FIRST_FRAME_OFFSET);
            flushStaging(a.channel, 0);
            sync(a.channel, 0);
            a.headerPending = false;
            markSynced(a);
        } catch (IOException | RuntimeException e) {
            LOG.warn("{}: cannot write a segment header after a failed write; the failed entries may be "
                    + "replayed: {}", description, e.toString());
            if (active != null) {
                abandon(active);
            }
        }
    }

    /**
     * {@code fdatasync} of the segment, counted, and timed for the store's metrics if it wants
     * them. {@code bytes}: frame bytes this sync makes durable (0 when not tracked: interval syncs).
     */
    private void sync(FileChannel channel, long bytes) throws IOException {
        if (syncReports == null) {
            channel.force(false);
            fsyncs++;
            return;
        }
        long start = System.nanoTime();
        channel.force(false);
        fsyncs++;
        syncReports.recordSync(bytes, System.nanoTime() - start);
    }

    private void markSynced(Active a) {
        if (!a.headerSynced) {
            a.headerSynced = true;
            pool.durable(a.ordinal);
            abandonedWithoutSuccessor = false;
        }
    }

    private void syncIfDue(long now) {
        if (intervalNanos == 0 || !dirty || now - lastSyncNanos < intervalNanos) {
            return;
        }
        lastSyncNanos = now;
        Active a = active;
        if (a == null) {
            dirty = false;
            return;
        }
        try {
            sync(a.channel, 0);
            dirty = false;
            markSynced(a);
        } catch (IOException | RuntimeException e) {
            syncFailures++;
            dirty = false;
            LOG.error("{}: periodic sync of {} failed; entries acknowledged since the last sync may be lost if "
                    + "the machine crashes; continuing in a new segment: {}", description, a.path, e.toString());
            seal(a);
        }
    }

    private void finish() {
        if (active == null && abandonedWithoutSuccessor) {
            declareEndOfAbandonedSegment();
        }
        Active a = active;
        if (a == null) {
            return;
        }
        if (intervalNanos > 0 && dirty) {
            try {
                sync(a.channel, 0);
            } catch (IOException e) {
                syncFailures++;
                LOG.error("{}: final sync of {} failed: {}", description, a.path, e.toString());
            }
            dirty = false;
        }
        closeQuietly(a.channel);
        active = null;
    }

    // ---- completing ----

    private void complete(int n) {
        for (int i = 0; i < n; i++) {
            WalEntry e = group[i];
            group[i] = null;
            payloads[i] = null;
            try {
                e.onDurable();
            } catch (Throwable t) {
                LOG.warn("{}: onDurable callback threw", description, t);
            }
        }
    }

    private void failedGroup(int n, ShaleException error) {
        failedGroups++;
        failedEntries += n;
        LOG.warn("{}", error.getMessage());
        fail(n, error);
    }

    private void fail(int n, ShaleException error) {
        for (int i = 0; i < n; i++) {
            WalEntry e = group[i];
            group[i] = null;
            payloads[i] = null;
            if (e == null) {
                continue;
            }
            try {
                e.onFailure(error);
            } catch (Throwable t) {
                LOG.warn("{}: onFailure callback threw", description, t);
            }
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // the channel is abandoned either way
        }
    }

    // ---- metrics ----

    long groups() {
        return groups;
    }

    long entries() {
        return entries;
    }

    long payloadBytes() {
        return payloadBytes;
    }

    long fileBytes() {
        return fileBytes;
    }

    long fsyncs() {
        return fsyncs;
    }

    long lastGroupEntries() {
        return lastGroupEntries;
    }

    long lastGroupBytes() {
        return lastGroupBytes;
    }

    long failedGroups() {
        return failedGroups;
    }

    long failedEntries() {
        return failedEntries;
    }

    long syncFailures() {
        return syncFailures;
    }

    long unfilledSegments() {
        return unfilledSegments;
    }
}
