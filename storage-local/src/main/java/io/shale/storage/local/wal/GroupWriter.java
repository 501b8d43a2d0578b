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
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WAL's writer: takes entries from the {@link EntryRing} in sequence order and frames them
 * (copy and CRC) into one of two reused direct buffers, while a second thread, the <em>sync
 * thread</em>, writes the other buffer's group with one positional {@code write} and makes it
 * durable with one {@code fdatasync} ({@code force(false)}). When the sync thread is done, the
 * writer completes that group's entries (callbacks run on the writer thread, in sequence order)
 * and hands it the group framed meanwhile. So the copy and CRC of group N+1 overlap the write and
 * fdatasync of group N, and group N+1 grows for as long as group N's sync takes (group commit).
 * When nothing arrived during a sync (light load), the writer writes and syncs the next group
 * itself ({@link #writeInline}), as there is nothing to overlap and each hand-over costs a thread
 * wake-up on the producer's critical path; the first entry that arrives during such a sync turns
 * the pipeline back on.
 *
 * <p>Order and durability: the sync thread handles one group at a time, in sequence order; a
 * group's bytes are written only after the previous group's fdatasync returned, and its entries
 * are acknowledged only after the fdatasync that covers them. Everything that changes which
 * segment is written (activation, sealing, abandoning, periodic syncs, close) happens on the writer
 * thread while no group is at the sync thread.
 *
 * <p>Segment life: a segment is <em>activated</em> by writing its header together with its first
 * group (so a header is never durable without the {@code fdatasync} that also covers that group),
 * filled, then <em>sealed</em> (normal roll-over, or abandonment after an I/O error) and handed to
 * the {@link SegmentPool}. The next segment's header records where the sealed one's good frames
 * end. After any failed write or sync the writer never writes to that segment again: bytes of the
 * failed group may or may not be on disk, and only a fresh segment guarantees that later frames
 * follow nothing but verified ones. The group framed while the failed one was at the sync thread
 * was framed for the abandoned segment: it is framed again for the fresh one.
 *
 * <p>Allocation: none per entry on the hot path. The group arrays grow (rarely) to the largest
 * group seen; the two buffers are allocated once.
 */
final class GroupWriter implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(GroupWriter.class);
    private static final long IDLE_PARK_NANOS = 100_000_000L;
    private static final byte[] ZEROS = new byte[WalFormat.FIRST_FRAME_OFFSET];

    /** What {@link #collect} did. */
    private static final int TOOK = 0;
    private static final int NONE = 1;
    /** An entry is ready but must wait until the sync thread is idle (group full, roll-over, large). */
    private static final int BLOCKED = 2;

    /** The segment being written. Only the writer thread touches it (the sync thread only its channel). */
    private static final class Active {
        final Path path;
        final FileChannel channel;
        final long capacity;
        final long segmentId;
        final long ordinal;
        /** End of the frames written (and, with EVERY_GROUP, synced) successfully. */
        long writePos = WalFormat.FIRST_FRAME_OFFSET;
        /** End of the frames framed: those written, at the sync thread, and in the group being framed. */
        long framePos = WalFormat.FIRST_FRAME_OFFSET;
        /** No group was written successfully yet. */
        boolean headerPending = true;
        /** A framed group carries the header. */
        boolean headerFramed;
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

    /** One group: its entries and the buffer they are framed into. */
    private static final class Group {
        final ByteBuffer buf;
        final ByteBuffer crcView;
        /** The sync thread's view of {@link #buf}: the framed bytes. */
        final ByteBuffer writeView;
        WalEntry[] entries = new WalEntry[256];
        ByteBuffer[] payloads = new ByteBuffer[256];
        /** Payload position and length of each entry, read once when the entry is collected. */
        int[] positions = new int[256];
        int[] lengths = new int[256];
        /** Sequence of each entry (contiguous unless an entry was rejected). */
        long[] sequences = new long[256];
        int n;
        /** Frame bytes of the entries (without the segment header). */
        long frameBytes;
        /** Frame bytes the segment has room for from the group's first frame on. */
        long room;
        Active segment;
        /** File position of the buffer's first byte (0 when the group carries the header). */
        long filePos;
        boolean carriesHeader;
        /** Set by the sync thread before it hands the group back: null if written (and synced). */
        Throwable error;

        Group(int capacity) {
            buf = ByteBuffer.allocateDirect(capacity);
            crcView = buf.duplicate();
            writeView = buf.duplicate();
        }

        void add(WalEntry e, ByteBuffer p, int pos, int len, long seq) {
            if (n == entries.length) {
                entries = Arrays.copyOf(entries, n * 2);
                payloads = Arrays.copyOf(payloads, n * 2);
                positions = Arrays.copyOf(positions, n * 2);
                lengths = Arrays.copyOf(lengths, n * 2);
                sequences = Arrays.copyOf(sequences, n * 2);
            }
            entries[n] = e;
            payloads[n] = p;
            positions[n] = pos;
            lengths[n] = len;
            sequences[n] = seq;
            n++;
        }

        long endPos() {
            return filePos + buf.position();
        }

        /** Forgets the entries (after they were completed or failed) and the framed bytes. */
        void reset() {
            Arrays.fill(entries, 0, n, null);
            Arrays.fill(payloads, 0, n, null);
            n = 0;
            frameBytes = 0;
            room = 0;
            segment = null;
            filePos = 0;
            carriesHeader = false;
            error = null;
            buf.clear();
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
    private final String syncThreadName;
    private final SplittableRandom random = new SplittableRandom(new SecureRandom().nextLong());

    private final CRC32C crc = new CRC32C();
    private final byte[] scratch = new byte[8];
    private final Group groupA;
    private final Group groupB;
    /** The group being framed (writer thread only). */
    private Group cur;
    /** The group handed to the sync thread and not yet completed by the writer, or null. */
    private Group inFlight;

    // Hand-off to the sync thread: the writer sets job, the sync thread clears it when done.
    private volatile Group job;
    private volatile boolean syncerParked;
    private volatile boolean writerWaiting;
    private volatile boolean syncerStop;
    private volatile Thread writerThread;
    private Thread syncThread;
    private final BooleanSupplier syncerIdle = () -> job == null;
    /** Write the next group on the writer thread (light load: no overlap to gain); writer only. */
    private boolean inline = true;
    /** Test hook: never write inline, so that every group goes through the sync thread. */
    private final boolean alwaysPipeline;

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

    // Metrics: written by the writer thread only (fsyncs also by the sync thread, never at the
    // same time: the hand-off orders them), read by anyone.
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
            long prevSegmentId, long prevEnd, WalContext syncReports, boolean alwaysPipeline) {
        this.alwaysPipeline = alwaysPipeline;
        this.inline = !alwaysPipeline;
        this.syncReports = syncReports != null && syncReports.recordsSyncs() ? syncReports : null;
        this.dir = dir;
        this.segmentBytes = segmentBytes;
        this.maxGroupBytes = maxGroupBytes;
        this.intervalNanos = intervalNanos;
        this.channels = channels;
        this.pool = pool;
        this.ring = ring;
        this.description = description;
        this.syncThreadName = "shale-wal-sync-" + dir.getFileName();
        this.cursor = firstSequence;
        this.nextOrdinal = nextOrdinal;
        this.prevSegmentId = prevSegmentId;
        this.prevEnd = prevEnd;
        this.groupA = new Group(maxGroupBytes + WalFormat.FIRST_FRAME_OFFSET);
        this.groupB = new Group(maxGroupBytes + WalFormat.FIRST_FRAME_OFFSET);
        this.cur = groupA;
    }

    /** Asks the thread to write everything below {@code end} and stop. */
    void requestClose(long end) {
        closeEnd = end;
        ring.wakeConsumer();
    }

    @Override
    public void run() {
        writerThread = Thread.currentThread();
        lastSyncNanos = System.nanoTime();
        try {
            syncThread = new Thread(this::syncLoop, syncThreadName);
            syncThread.setDaemon(true);
            syncThread.start();
            while (true) {
                long end = closeEnd;
                if (end >= 0 && cursor >= end && cur.n == 0 && inFlight == null) {
                    break;
                }
                if (inFlight != null && job == null) {
                    // Nothing arrived while that group synced: the next one is written inline.
                    boolean overlapped = cur.n > 0 || ring.peek(cursor) != null;
                    finishInFlight();
                    inline = !overlapped && !alwaysPipeline;
                    syncIfDue(System.nanoTime());
                }
                int status = collect(end);
                if (inFlight == null && cur.n > 0) {
                    if (inline) {
                        writeInline();
                    } else {
                        // collect took everything ready: hand it over now (the group grows again
                        // while the sync thread writes this one)
                        submit();
                    }
                } else if (status == TOOK) {
                    continue;
                } else if (status == BLOCKED) {
                    awaitSyncer(false);
                } else if (ring.claimedButUnpublished(cursor)) {
                    awaitPublication();
                } else if (inFlight != null) {
                    awaitSyncer(closeEnd < 0);
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
            stopSyncThread(false);
            ShaleException error = new ShaleException(ErrorKind.UNAVAILABLE, description + ": writer thread failed: "
                    + t, t);
            if (inFlight != null) {
                fail(inFlight, error);
                inFlight = null;
            }
            fail(cur, error);
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
            WalEntry e = ring.peek(cursor);
            if (e != null) {
                ring.clear(cursor);
                cursor++;
                ring.advance(cursor);
                try {
                    e.onFailure(error);
                } catch (Throwable t) {
                    LOG.warn("{}: onFailure callback threw", description, t);
                }
            } else if (ring.claimedButUnpublished(cursor)) {
                awaitPublication();
            } else {
                ring.awaitEntry(cursor, IDLE_PARK_NANOS, closeRequested);
            }
        }
    }

    // ---- the sync thread ----

    private void syncLoop() {
        while (true) {
            Group g = job;
            if (g == null) {
                if (syncerStop) {
                    return;
                }
                syncerParked = true;
                try {
                    if (job == null && !syncerStop) {
                        LockSupport.parkNanos(this, IDLE_PARK_NANOS);
                    }
                } finally {
                    syncerParked = false;
                }
                continue;
            }
            writeAndSync(g);
            job = null;
            if (writerWaiting) {
                LockSupport.unpark(writerThread);
            }
        }
    }

    /**
     * Light load (nothing arrived during the previous sync): writes and syncs the group on this
     * thread, saving the hand-over to the sync thread and back (two thread wake-ups on a single
     * producer's critical path). If entries arrive meanwhile, the next group goes to the sync
     * thread again. The sync thread is idle.
     */
    private void writeInline() {
        Group g = cur;
        g.writeView.limit(g.buf.position()).position(0);
        writeAndSync(g);
        inFlight = g;
        cur = g == groupA ? groupB : groupA;
        finishInFlight();
        inline = ring.peek(cursor) == null && !ring.claimedButUnpublished(cursor);
        syncIfDue(System.nanoTime());
    }

    /**
     * Writes {@code g}'s framed bytes and, with EVERY_GROUP, syncs them; the outcome goes to
     * {@link Group#error} (null: written and synced). On the sync thread, or inline on the writer.
     */
    private void writeAndSync(Group g) {
        try {
            writeFully(g.segment.channel, g.writeView, g.filePos);
            if (intervalNanos == 0) {
                sync(g.segment.channel, g.frameBytes);
            }
            g.error = null;
        } catch (Throwable t) {
            g.error = t;
        }
    }

    /** Hands the group being framed to the sync thread (which must be idle). */
    private void submit() {
        Group g = cur;
        g.writeView.limit(g.buf.position()).position(0);
        inFlight = g;
        cur = g == groupA ? groupB : groupA;
        job = g;
        if (syncerParked) {
            LockSupport.unpark(syncThread);
        }
    }

    /**
     * Waits until the sync thread is done with its group, or (if {@code orEntry}) until an entry
     * is published; at most {@link #IDLE_PARK_NANOS}.
     */
    private void awaitSyncer(boolean orEntry) {
        writerWaiting = true;
        try {
            if (orEntry) {
                ring.awaitEntry(cursor, IDLE_PARK_NANOS, syncerIdle);
            } else if (job != null) {
                LockSupport.parkNanos(this, IDLE_PARK_NANOS);
            }
        } finally {
            writerWaiting = false;
        }
    }

    /** Waits for the sync thread's group (if any) and completes it. */
    private void drainInFlight() {
        while (inFlight != null) {
            if (job == null) {
                finishInFlight();
            } else {
                awaitSyncer(false);
            }
        }
    }

    private void stopSyncThread(boolean join) {
        syncerStop = true;
        Thread t = syncThread;
        if (t == null) {
            return;
        }
        LockSupport.unpark(t);
        if (join) {
            FileWriteAheadLog.joinUninterruptibly(t);
        }
    }

    /** The sync thread is done with {@link #inFlight}: completes its entries or fails them. */
    private void finishInFlight() {
        Group g = inFlight;
        inFlight = null;
        Active a = g.segment;
        int n = g.n;
        long firstSeq = g.sequences[0];
        long lastSeq = g.sequences[n - 1];
        Throwable ex = g.error;
        if (ex == null) {
            long written = g.frameBytes + (g.carriesHeader ? WalFormat.FIRST_FRAME_OFFSET : 0);
            a.writePos = g.endPos();
            a.headerPending = false;
            a.lastSequence = lastSeq;
            if (intervalNanos == 0) {
                markSynced(a);
            } else {
                dirty = true;
            }
            groups++;
            entries += n;
            payloadBytes += g.frameBytes - (long) n * WalFormat.FRAME_HEADER_LENGTH;
            fileBytes += written;
            lastGroupEntries = n;
            lastGroupBytes = g.frameBytes;
            complete(g);
            g.reset();
            return;
        }
        if (ex instanceof Error err) {
            inFlight = g;   // failed by run()'s handler
            throw err;
        }
        // Any frame of the failed group may be on disk: count its sequences for trimming.
        a.lastSequence = Math.max(a.lastSequence, lastSeq);
        failedGroup(g, new ShaleException(ErrorKind.UNAVAILABLE, description + ": writing " + n
                + " entries (sequences " + firstSeq + ".." + lastSeq + ") to " + a.path
                + " at position " + a.writePos + " failed: " + ex, ex));
        g.reset();
        if (active == a) {
            abandon(a);
        }
        if (cur.n > 0 && cur.segment == a) {
            reframe(cur);
        }
    }

    // ---- collecting and framing ----

    /**
     * Takes what is ready from the ring into the group being framed, framing each entry at once.
     * Starts the group (activating or rolling over the segment first) when it is empty. Large
     * entries (frames above {@code maxGroupBytes}) are written on this thread, alone.
     */
    private int collect(long end) {
        long stop = end >= 0 ? end : Long.MAX_VALUE;
        Group g = cur;
        int status = NONE;
        long s = cursor;
        try {
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
                    status = TOOK;
                    continue;
                }
                long frame = WalFormat.frameLength(len);
                if (g.n == 0) {
                    boolean rollOver = active != null && frame > active.capacity - active.framePos;
                    boolean large = frame > maxGroupBytes;
                    if (rollOver || large) {
                        if (inFlight != null) {
                            return status == TOOK ? TOOK : BLOCKED;
                        }
                        if (rollOver) {
                            seal(active);
                        }
                    }
                    ring.clear(s);
                    s++;
                    status = TOOK;
                    if (large) {
                        g.add(e, p, pos, len, s - 1);
                        writeLargeGroup(frame);
                        return TOOK;
                    }
                    if (active == null) {
                        try {
                            activate(frame);
                        } catch (IOException | RuntimeException ex) {
                            g.add(e, p, pos, len, s - 1);
                            failedGroup(g, new ShaleException(ErrorKind.UNAVAILABLE, description + ": cannot prepare a "
                                    + "WAL segment in " + dir + " for the entry with sequence " + (s - 1) + ": " + ex,
                                    ex));
                            g.reset();
                            continue;
                        }
                    }
                    g.add(e, p, pos, len, s - 1);
                    startGroup(g);
                    frameEntry(g, g.n - 1);
                } else {
                    if (g.frameBytes + frame > maxGroupBytes || g.frameBytes + frame > g.room) {
                        return status == TOOK ? TOOK : BLOCKED;
                    }
                    ring.clear(s);
                    s++;
                    status = TOOK;
                    g.add(e, p, pos, len, s - 1);
                    frameEntry(g, g.n - 1);
                }
                if (g.frameBytes >= maxGroupBytes) {
                    break;
                }
            }
            return status;
        } finally {
            cursor = s;
            ring.advance(s);
        }
    }

    /** Starts framing {@code g} (its first entry added) in the active segment. */
    private void startGroup(Group g) {
        Active a = active;
        ByteBuffer b = g.buf;
        b.clear();
        g.segment = a;
        g.frameBytes = 0;
        g.room = a.capacity - a.framePos;
        if (!a.headerFramed) {
            WalFormat.writeHeader(b, 0, a.segmentId, a.ordinal, g.sequences[0], prevSegmentId, prevEnd, crc);
            b.put(WalFormat.HEADER_LENGTH, ZEROS, 0, WalFormat.FIRST_FRAME_OFFSET - WalFormat.HEADER_LENGTH);
            b.position(WalFormat.FIRST_FRAME_OFFSET);
            g.filePos = 0;
            g.carriesHeader = true;
            a.headerFramed = true;
        } else {
            g.filePos = a.framePos;
            g.carriesHeader = false;
        }
    }

    /** Copies entry {@code i}'s payload into the group's buffer and writes its frame header and CRC. */
    private void frameEntry(Group g, int i) {
        Active a = g.segment;
        ByteBuffer b = g.buf;
        WalEntry e = g.entries[i];
        int len = g.lengths[i];
        int frame = WalFormat.frameLength(len);
        int at = b.position();
        b.put(at + WalFormat.FRAME_HEADER_LENGTH, g.payloads[i], g.positions[i], len);
        WalFormat.writeFrame(b, g.crcView, at, a.framePos, e.streamId(), a.segmentId, g.sequences[i],
                e.baseOffset(), len, crc, scratch);
        b.position(at + frame);
        a.framePos += frame;
        g.frameBytes += frame;
    }

    /**
     * The group was framed for a segment that has just been abandoned: frames it again for a fresh
     * one, or fails it if no segment can be prepared.
     */
    private void reframe(Group g) {
        long firstSeq = g.sequences[0];
        long lastSeq = g.sequences[g.n - 1];
        long bytes = 0;
        for (int i = 0; i < g.n; i++) {
            bytes += WalFormat.frameLength(g.lengths[i]);
        }
        try {
            activate(bytes);
        } catch (IOException | RuntimeException e) {
            failedGroup(g, new ShaleException(ErrorKind.UNAVAILABLE, description + ": cannot prepare a WAL "
                    + "segment in " + dir + " for " + g.n + " entries (sequences " + firstSeq + ".." + lastSeq
                    + "): " + e, e));
            g.reset();
            return;
        }
        startGroup(g);
        for (int i = 0; i < g.n; i++) {
            frameEntry(g, i);
        }
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

    // ---- writing on the writer thread (the sync thread is idle) ----

    /**
     * Writes the one entry of {@link #cur}, whose frame is larger than the buffers, streaming it
     * through the buffer, then syncs and completes it.
     */
    private void writeLargeGroup(long frame) {
        Group g = cur;
        long seq = g.sequences[0];
        if (active == null) {
            try {
                activate(frame);
            } catch (IOException | RuntimeException e) {
                failedGroup(g, new ShaleException(ErrorKind.UNAVAILABLE, description + ": cannot prepare a WAL "
                        + "segment in " + dir + " for 1 entry (sequences " + seq + ".." + seq + "): " + e, e));
                g.reset();
                return;
            }
        }
        Active a = active;
        ByteBuffer staging = g.buf;
        staging.clear();
        boolean header = !a.headerFramed;
        long filePos;
        if (header) {
            WalFormat.writeHeader(staging, 0, a.segmentId, a.ordinal, seq, prevSegmentId, prevEnd, crc);
            staging.put(WalFormat.HEADER_LENGTH, ZEROS, 0, WalFormat.FIRST_FRAME_OFFSET - WalFormat.HEADER_LENGTH);
            staging.position(WalFormat.FIRST_FRAME_OFFSET);
            filePos = 0;
        } else {
            filePos = a.writePos;
        }
        long framePos = a.writePos;
        try {
            flushStaging(staging, a.channel, filePos);
            writeLargeFrame(g, a, framePos, g.entries[0], g.payloads[0], g.positions[0], g.lengths[0], seq);
            if (intervalNanos == 0) {
                sync(a.channel, frame);
            }
        } catch (IOException | RuntimeException ex) {
            a.lastSequence = Math.max(a.lastSequence, seq);
            failedGroup(g, new ShaleException(ErrorKind.UNAVAILABLE, description + ": writing 1 entries (sequences "
                    + seq + ".." + seq + ") to " + a.path + " at position " + a.writePos + " failed: " + ex, ex));
            g.reset();
            abandon(a);
            return;
        }
        a.writePos = framePos + frame;
        a.framePos = a.writePos;
        a.headerPending = false;
        a.headerFramed = true;
        a.lastSequence = seq;
        if (intervalNanos == 0) {
            markSynced(a);
        } else {
            dirty = true;
        }
        groups++;
        entries += 1;
        payloadBytes += frame - WalFormat.FRAME_HEADER_LENGTH;
        fileBytes += frame + (header ? WalFormat.FIRST_FRAME_OFFSET : 0);
        lastGroupEntries = 1;
        lastGroupBytes = frame;
        complete(g);
        g.reset();
        syncIfDue(System.nanoTime());
    }

    /** Streams one frame larger than the buffer through it, header last. */
    private void writeLargeFrame(Group g, Active a, long framePos, WalEntry e, ByteBuffer p, int src, int len,
            long seq) throws IOException {
        ByteBuffer staging = g.buf;
        ByteBuffer crcView = g.crcView;
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

    private static long flushStaging(ByteBuffer staging, FileChannel ch, long filePos) throws IOException {
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

    /** Normal roll-over: the segment is full (for the next entry). No group is at the sync thread. */
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
            ByteBuffer staging = cur.buf;
            staging.clear();
            WalFormat.writeHeader(staging, 0, a.segmentId, a.ordinal, cursor, prevSegmentId, prevEnd, crc);
            staging.put(WalFormat.HEADER_LENGTH, ZEROS, 0, WalFormat.FIRST_FRAME_OFFSET - WalFormat.HEADER_LENGTH);
            staging.position(WalFormat.FIRST_FRAME_OFFSET);
            flushStaging(staging, a.channel, 0);
            sync(a.channel, 0);
            a.headerPending = false;
            a.headerFramed = true;
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
     * Called by the sync thread, or by the writer thread while the sync thread is idle.
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

    /** Interval policy: syncs the active segment if due. Only while no group is at the sync thread. */
    private void syncIfDue(long now) {
        if (intervalNanos == 0 || !dirty || inFlight != null || now - lastSyncNanos < intervalNanos) {
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
            if (cur.n > 0 && cur.segment == a) {
                reframe(cur);
            }
        }
    }

    private void finish() {
        drainInFlight();
        stopSyncThread(true);
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

    private void complete(Group g) {
        for (int i = 0; i < g.n; i++) {
            WalEntry e = g.entries[i];
            g.entries[i] = null;
            g.payloads[i] = null;
            try {
                e.onDurable();
            } catch (Throwable t) {
                LOG.warn("{}: onDurable callback threw", description, t);
            }
        }
    }

    private void failedGroup(Group g, ShaleException error) {
        failedGroups++;
        failedEntries += g.n;
        LOG.warn("{}", error.getMessage());
        fail(g, error);
    }

    private void fail(Group g, ShaleException error) {
        for (int i = 0; i < g.n; i++) {
            WalEntry e = g.entries[i];
            g.entries[i] = null;
            g.payloads[i] = null;
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
