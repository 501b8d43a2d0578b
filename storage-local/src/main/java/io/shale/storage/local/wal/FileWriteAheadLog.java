package io.shale.storage.local.wal;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.spi.WalContext;
import io.shale.log.spi.WalEntry;
import io.shale.log.spi.WalReplayHandler;
import io.shale.log.spi.WriteAheadLog;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Design rationale.
 *
 * Write path: append() claims a sequence number from one counter and publishes the entry into a
 * ring slot indexed by that number (EntryRing); it allocates nothing and blocks only while the ring
 * is full. One writer thread (GroupWriter) takes everything published, in sequence order, up to
 * maxGroupBytes, and frames it (copy + CRC) into one of two reused direct buffers; a sync thread
 * issues one positional write and one fdatasync per group, one group at a time; the writer then
 * completes that group's entries and hands over the group it framed meanwhile. So the copy and CRC
 * of group N+1 overlap group N's write and fdatasync, instead of running between two syncs.
 * Producers wake the writer only when it is parked; while a group syncs, the next one
 * accumulates, so group size grows with load (group commit). A JFR profile of durable appends
 * (benchmarks/results/flame-durable-append-*.svg) showed the single writer thread spending about
 * 93 % of its time in fdatasync and under 1 % copying and checksumming, so the gain is the write()
 * moved off the critical path and the copy of the next group done before, not after, the sync.
 * At light load (nothing arrived while the previous group synced) the writer writes and syncs the
 * next group itself: a lone producer then waits for one thread hand-over, not three, which on a
 * 2-core benchmark machine measured as a single-producer p99 of 3.9 ms against 0.38 ms.
 *
 * Preallocation and recycling: segment files are zero-filled to their full size by a background
 * thread (SegmentPool) before the writer needs them, and trimmed segments are recycled as spares
 * rather than deleted: an fdatasync that must also update the file size costs 110-140 us more,
 * which halves durable throughput for small groups.
 *
 * Stale bytes: a recycled file still holds the frames of its previous life, a preallocated one
 * holds zeroes. Every activation of a segment draws a fresh random 64-bit segment id, written in
 * the header and repeated in every frame (and covered by the frame CRC, together with the frame's
 * file position); a frame with another id, a bad CRC, or a sequence not above its predecessor's
 * ends the segment. Zeroes fail the type and id checks. The header is written in the same write and
 * fdatasync as the segment's first group, so it is never durable before its frames are.
 *
 * Torn tails and I/O errors: the writer never writes again to a segment after a failed write or
 * sync, nor to the newest segment found by recovery. It continues in a fresh segment whose header
 * records the previous segment's id and the end of its good frames ("prevEnd"). Recovery therefore
 * delivers a sealed segment's frames only up to that declared end (frames of a failed group are not
 * replayed, garbage is never reached), and reads the newest segment up to its first invalid frame.
 * No truncation or zeroing is needed, and a frame that fails verification before a declared end is
 * recognisably corruption of acknowledged data, not a torn write.
 *
 * Sequences: recovery continues numbering above the highest sequence found in any reachable
 * frame, delivered or not. The newest segment with a durable header is never recycled, so that
 * number survives even when everything else was trimmed.
 *
 * Repeated replay: the first replay lists the directory, delivers, sorts free files into spares
 * (deleting the surplus), then starts the writer and the segment pool. A later replay before the
 * first append delivers again from the first one's listing (the same live segments with the sizes
 * and headers read then) and changes nothing. Meanwhile the files it reads cannot change: the
 * writer has nothing to write, the pool only creates new spare files (which that listing does not
 * contain) and frees no trimmed segment until the first append. A segment that reads differently
 * anyway fails the replay with CORRUPT_STORAGE instead of delivering other entries.
 *
 * The directory lock (DirectoryLock) is taken in open() and the WAL needs nothing else from its
 * context: it never reads the writer epoch. Two stores cannot share a file WAL, because the lock
 * excludes the second one before it claims an epoch.
 */

/**
 * A write-ahead log in segment files of one local directory, shared by all partitions of a store.
 *
 * <p><b>Threading.</b> {@link #append}, {@link #trim}, {@link #nextSequence}, {@link #describe}
 * and the metric getters are thread-safe and do not block (append blocks only while
 * {@linkplain Builder#queueCapacity the queue} is full, and never in a callback). {@link #open},
 * {@link #replay} and {@link #close} follow the {@link WriteAheadLog} lifecycle; {@code replay} may
 * be repeated until the first append. One writer thread frames entries into groups and one sync
 * thread writes and syncs them, one group at a time (at light load the writer writes and syncs
 * them itself); {@link WalEntry} callbacks run on the writer thread, in sequence order. One background thread preallocates and recycles segment files. From its {@link WalContext} the WAL uses only {@link WalContext#recordSync} (it reports the
 * duration of each {@code fdatasync} when the store has metrics), in particular not the writer epoch.
 *
 * <p><b>Durability</b> depends on the {@link FsyncPolicy}:
 * <ul>
 *   <li>{@link FsyncPolicy#EVERY_GROUP} (default): an entry is acknowledged after the
 *       {@code fdatasync} of its group returned. Acknowledged entries survive a process crash and
 *       an operating-system crash or power loss (as far as the disk honours flushes).</li>
 *   <li>{@link FsyncPolicy#interval(Duration)}: an entry is acknowledged after its group was
 *       written to the operating system ({@code write} returned); {@code fdatasync} runs at most
 *       once per interval, when a segment is sealed, and at close. Acknowledged entries survive a
 *       crash of the process (the page cache holds them) but those written since the last sync are
 *       lost on an operating-system crash or power loss.</li>
 * </ul>
 *
 * <p><b>Limits.</b> An entry's payload may be up to {@link #MAX_ENTRY_BYTES} (64 MiB); an entry
 * larger than a standard segment gets a segment file of its own (created on the writer thread,
 * so it is slower).
 *
 * <p><b>Errors.</b> A failed write or sync fails the group's entries through
 * {@link WalEntry#onFailure} with a {@link ShaleException} of kind {@code UNAVAILABLE} naming the
 * file; the writer then continues in a fresh segment, so later appends succeed once the cause
 * (such as a full disk) is gone. A failed entry may or may not be replayed later. A second
 * {@code FileWriteAheadLog} on a directory that a live one holds, in this or another process, fails
 * {@link #open} with {@code IN_USE} naming the holder (pid, host, user, JVM command and start time,
 * read from {@code wal.lock}; "unknown" if that file's content is missing or stale). The lock is a
 * {@code FileChannel} lock, so use a local file system; the operating system releases it when the
 * holding process dies, so a killed store never blocks the next open. Appending from a WAL callback
 * while the queue is full fails with {@code UNAVAILABLE} instead of waiting (see {@link #append}).
 *
 * <p><b>Idempotency.</b> {@link #close} is idempotent; {@link #trim} with a lower sequence than an
 * earlier call does nothing.
 */
public final class FileWriteAheadLog implements WriteAheadLog {
    private static final Logger LOG = LoggerFactory.getLogger(FileWriteAheadLog.class);

    /** The largest entry payload accepted: 64 MiB. */
    public static final int MAX_ENTRY_BYTES = WalFormat.MAX_PAYLOAD_BYTES;

    /** Name of the lock file in the WAL directory. */
    static final String LOCK_FILE = DirectoryLock.FILE;

    /** REPLAYED: threads running, replay may repeat; RUNNING: appended once, replay no more. */
    private enum State { NEW, OPEN, REPLAYED, RUNNING, CLOSED }

    private final Path dir;
    private final long segmentBytes;
    private final int maxGroupBytes;
    private final int queueCapacity;
    private final int spareSegments;
    private final boolean tolerateDamage;
    private final FsyncPolicy fsyncPolicy;
    private final ChannelFactory channels;
    private final boolean alwaysPipeline;
    private final String description;

    private volatile State state = State.NEW;
    /** The store's context, bound by {@link #open}: only its sync reports are used (metrics). */
    private WalContext context;
    private DirectoryLock lock;
    private EntryRing ring;
    private volatile SegmentPool pool;
    private volatile GroupWriter writer;
    private volatile Thread writerThread;
    /** The first replay's listing and result, kept for repeated replays until the first append. */
    private WalRecovery.Scan firstScan;
    private WalRecovery.Result firstResult;
    private volatile long replayedEntries;
    private volatile int corruptSegments;
    private volatile int replays;
    /** A replay is running (its handler may call in); guarded by this. */
    private boolean replaying;
    private volatile long pendingTrim = Long.MIN_VALUE;

    private FileWriteAheadLog(Builder b) {
        this.dir = b.dir;
        this.segmentBytes = b.segmentBytes;
        this.maxGroupBytes = b.maxGroupBytes;
        this.queueCapacity = Integer.highestOneBit(b.queueCapacity - 1) << 1;
        this.spareSegments = b.spareSegments;
        this.tolerateDamage = b.tolerateDamage;
        this.fsyncPolicy = b.fsyncPolicy;
        this.channels = b.channels;
        this.alwaysPipeline = b.alwaysPipeline;
        this.description = "file-wal:" + dir;
    }

    /** A builder for a WAL in {@code directory} (created on {@link #open} if missing). */
    public static Builder builder(Path directory) {
        return new Builder(directory);
    }

    /**
     * Creates the directory if needed (syncing the parent of each directory it creates) and locks
     * it ({@code wal.lock}, held until {@link #close}), recording this process as the holder in the
     * lock file. Keeps {@code context} only to report sync timings (it never reads the writer
     * epoch, which is not claimed yet). A failed open leaves the WAL unopened: it may be opened again.
     *
     * @throws ShaleException {@code IN_USE} naming the holder if a live WAL (in this or another
     *     process) holds the directory; {@code UNAVAILABLE} if the directory or its lock file cannot
     *     be created or opened
     * @throws IllegalStateException if called after a successful open or after close
     */
    @Override
    public synchronized void open(WalContext context) {
        Objects.requireNonNull(context, "context");
        if (state != State.NEW) {
            throw new IllegalStateException(description + (state == State.CLOSED ? " is closed"
                    : " was already opened"));
        }
        try {
            createDirectoriesDurably();
        } catch (IOException e) {
            boolean refused = e instanceof java.nio.file.AccessDeniedException
                    || e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null
                            && fse.getReason().contains("Read-only file system")
                    || e instanceof java.nio.file.FileAlreadyExistsException;
            throw new ShaleException(refused ? ErrorKind.STORAGE_ACCESS : ErrorKind.UNAVAILABLE,
                    "cannot open WAL directory " + dir + ": " + e, e);
        }
        lock = DirectoryLock.acquire(dir, description);
        this.context = context;
        state = State.OPEN;
    }

    /**
     * {@code Files.createDirectories}, then an fsync of the parent of every directory it created, so
     * that a crash cannot lose the WAL directory with the acknowledged entries in it.
     */
    private void createDirectoriesDurably() throws IOException {
        List<Path> missing = new ArrayList<>();
        for (Path p = dir; p != null && !Files.isDirectory(p); p = p.getParent()) {
            missing.add(p);
        }
        Files.createDirectories(dir);
        // Outermost first: each sync makes the entry of the directory created below it durable.
        for (int i = missing.size() - 1; i >= 0; i--) {
            Path parent = missing.get(i).getParent();
            if (parent != null) {
                SegmentPool.syncDirectory(channels, parent, description);
            }
        }
    }

    /**
     * Delivers every entry found in the segments, in sequence order. Torn and corrupt tails are
     * skipped (see the class comment of {@link WalFormat} and {@code WalRecovery}); corruption of
     * frames that had been made durable is logged as an error. If the handler throws, the exception
     * propagates and the WAL must be closed.
     *
     * <p>The first successful call also deletes surplus free segment files and starts the writer
     * and the segment pool. Later calls before the first {@link #append} deliver the same entries in
     * the same order and modify no file; trimmed segments are not freed until the first append, so
     * that every replay finds them.
     *
     * @throws ShaleException {@code UNAVAILABLE} if a segment cannot be read; {@code CORRUPT_STORAGE}
     *     if acknowledged entries were damaged before the tail (unless
     *     {@link Builder#tolerateDamage(boolean)}), or if a repeated replay finds a segment changed
     *     since the first one
     * @throws IllegalStateException before {@link #open}, after the first {@link #append}, after
     *     {@link #close}, or from a WAL callback
     */
    @Override
    public void replay(WalReplayHandler handler) {
        Objects.requireNonNull(handler, "handler");
        if (Thread.currentThread() == writerThread) {
            // close() may hold the monitor while it waits for this very thread.
            throw new IllegalStateException(description + ": replay() called from a WAL callback");
        }
        synchronized (this) {
            if (replaying) {
                throw new IllegalStateException(description + ": replay() called from a replay handler");
            }
            replaying = true;
            try {
                switch (state) {
                    case NEW -> throw new IllegalStateException(description + ": replay before open");
                    case OPEN -> firstReplay(handler);
                    case REPLAYED -> repeatReplay(handler);
                    case RUNNING -> throw new IllegalStateException(description + ": replay after the first append");
                    case CLOSED -> throw new IllegalStateException(description + " is closed");
                    default -> throw new AssertionError(state);
                }
            } finally {
                replaying = false;
            }
        }
    }

    private void repeatReplay(WalReplayHandler handler) {
        WalRecovery.Result r = WalRecovery.deliver(firstScan, channels, handler, description, firstResult);
        replayedEntries = r.entries();
        corruptSegments = r.corruptSegments();
        replays++;
        LOG.info("{}: replay {} delivered the same {} entries again", description, replays, r.entries());
    }

    private void firstReplay(WalReplayHandler handler) {
        WalRecovery.Scan scan = WalRecovery.scan(dir, channels, description);
        WalRecovery.Result r = WalRecovery.deliver(scan, channels, handler, description, null);
        replayedEntries = r.entries();
        corruptSegments = r.corruptSegments();
        if (r.corruptSegments() > 0 && !tolerateDamage) {
            // Acknowledged entries are lost in the middle of the log: the store cannot tell them from
            // appends that were rolled back, so it must not open as if nothing happened.
            throw new ShaleException(ErrorKind.CORRUPT_STORAGE, description + ": " + r.firstDamage() + " ("
                    + r.corruptSegments() + " damaged segment(s)): acknowledged entries after the damage are lost."
                    + " Restore the files, or open with FileWriteAheadLog.Builder.tolerateDamage(true) to continue"
                    + " without them");
        }
        List<Path> spares = WalRecovery.keepSpares(scan, dir, segmentBytes, spareSegments, channels, description);
        LOG.info("{}: replayed {} entries from {} segments ({}); next sequence {}", description, r.entries(),
                r.sealed().size(), r.tail() == null ? "empty" : r.tail(), r.nextSequence());
        ring = new EntryRing(queueCapacity);
        pool = new SegmentPool(dir, segmentBytes, spareSegments, channels, r.nextFileNumber(), spares,
                r.sealed(), r.newestOrdinal(), description);
        // any positive Duration is valid: beyond about 73 years, as "never" (close still syncs); toNanos
        // would overflow, and so would the writer's last sync + interval
        long intervalNanos = fsyncPolicy.interval == null ? 0
                : fsyncPolicy.interval.compareTo(Duration.ofNanos(Long.MAX_VALUE / 4)) >= 0 ? Long.MAX_VALUE / 4
                : fsyncPolicy.interval.toNanos();
        writer = new GroupWriter(dir, segmentBytes, maxGroupBytes, intervalNanos, channels, pool, ring,
                description, r.nextSequence(), r.nextOrdinal(), r.prevSegmentId(), r.prevEnd(), context,
                alwaysPipeline);
        writerThread = new Thread(writer, "shale-wal-writer-" + dir.getFileName());
        writerThread.setDaemon(true);
        ring.start(r.nextSequence(), writerThread);
        if (pendingTrim != Long.MIN_VALUE) {
            pool.trim(pendingTrim);
        }
        // A fresh WAL's first segment should be preallocated too: prepare it before the first append.
        pool.prepareSpareNow();
        writerThread.start();
        pool.start("shale-wal-segments-" + dir.getFileName());
        firstScan = scan;
        firstResult = r;
        replays = 1;
        state = State.REPLAYED;
    }

    /**
     * Queues {@code entry} and returns its sequence number. Never blocks except while the queue is
     * full; allocates nothing. The first call ends the replay phase ({@link #replay} throws from
     * then on, and trimmed segments may be freed).
     *
     * <p>Called from a WAL callback (which runs on the writer thread) while the queue is full, it
     * fails at once with {@code UNAVAILABLE} instead of waiting: only the writer thread makes room,
     * so waiting there would never end. The entry is then not queued and gets no callback; the caller
     * may append it again from another thread. (Handing it over to be queued later was rejected: it
     * would need an unbounded side queue, and the entry's sequence could not be returned.)
     *
     * @throws ShaleException {@code CLOSED} after {@link #close}; {@code UNAVAILABLE} if the writer
     *     thread died, or from a WAL callback while the queue is full
     * @throws IllegalArgumentException if the payload is larger than {@link #MAX_ENTRY_BYTES} or the
     *     stream id is negative
     * @throws IllegalStateException before {@link #replay}, or from a replay handler
     */
    @Override
    public long append(WalEntry entry) {
        State s = state;
        if (s != State.RUNNING && s != State.REPLAYED) {
            if (s == State.CLOSED) {
                throw new ShaleException(ErrorKind.CLOSED, description + " is closed");
            }
            throw new IllegalStateException(description + ": append before replay");
        }
        int size = entry.payload().remaining();
        if (size > MAX_ENTRY_BYTES) {
            throw new IllegalArgumentException(description + ": entry of " + size + " bytes is larger than the "
                    + "maximum " + MAX_ENTRY_BYTES);
        }
        if (entry.streamId() < 0) {
            throw new IllegalArgumentException(description + ": negative stream id " + entry.streamId());
        }
        if (s == State.REPLAYED) {
            endReplayPhase();
        }
        return ring.publish(entry, description);
    }

    /** The first append: no more replays, so the pool may free trimmed segments. */
    private synchronized void endReplayPhase() {
        if (replaying) {
            // Only the replaying thread gets here while a replay runs (it holds the monitor).
            throw new IllegalStateException(description + ": append() called from a replay handler");
        }
        if (state == State.REPLAYED) {
            state = State.RUNNING;
            firstScan = null;
            firstResult = null;
            pool.allowFreeing();
        } else if (state == State.CLOSED) {
            throw new ShaleException(ErrorKind.CLOSED, description + " is closed");
        }
    }

    @Override
    public long nextSequence() {
        EntryRing r = ring;
        return r == null ? 0 : r.nextSequence();
    }

    /**
     * Frees, in the background, whole segments whose every entry has a lower sequence than
     * {@code sequence}, oldest first: recycled as preallocated spares (up to twice
     * {@code spareSegments}, or as many as this trim frees plus {@code spareSegments} if that is more,
     * at most 64) or deleted. The newest segment is kept until a newer one is durable,
     * and nothing is freed before the first {@link #append} (replay may repeat until then), so
     * entries below {@code sequence} may still be replayed later.
     */
    @Override
    public void trim(long sequence) {
        SegmentPool p = pool;
        if (p != null) {
            p.trim(sequence);
        } else if (sequence > pendingTrim) {
            synchronized (this) {
                if (pool != null) {
                    pool.trim(sequence);
                } else if (sequence > pendingTrim) {
                    pendingTrim = sequence;
                }
            }
        }
    }

    @Override
    public String describe() {
        return description;
    }

    /**
     * Stops accepting appends (they throw {@code CLOSED}), writes and syncs every entry already
     * queued (or fails it), stops its threads (writer, sync, segments) and releases the directory
     * lock. Idempotent; blocks until the queued entries are complete.
     *
     * @throws IllegalStateException if called from a WAL callback (the writer thread)
     */
    @Override
    public void close() {
        if (Thread.currentThread() == writerThread) {
            throw new IllegalStateException(description + ": close() called from a WAL callback");
        }
        synchronized (this) {
            State prior = state;
            if (prior == State.CLOSED) {
                return;
            }
            state = State.CLOSED;
            firstScan = null;
            firstResult = null;
            try {
                if (prior == State.REPLAYED || prior == State.RUNNING) {
                    long end = ring.close();
                    writer.requestClose(end);
                    joinUninterruptibly(writerThread);
                    pool.close();
                }
            } finally {
                if (lock != null) {
                    lock.release();
                    lock = null;
                }
            }
        }
    }

    /** Waits until {@code t} ends, keeping this thread's interrupt status. */
    static void joinUninterruptibly(Thread t) {
        boolean interrupted = false;
        while (t.isAlive()) {
            try {
                t.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- metrics (0 before replay) ----

    /**
     * Bytes of the segment files in the WAL directory now ({@code *.wal}: live segments and
     * preallocated or recycled spares), by listing the directory; -1 if it cannot be listed.
     * For metrics ({@code shale.wal.size}); any thread, any state.
     */
    @Override
    public long sizeBytes() {
        long total = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.wal")) {
            for (Path f : files) {
                try {
                    total += Files.size(f);
                } catch (IOException e) {
                    // deleted while listing (a trimmed segment): no longer part of the WAL
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return total;
    }

    /** Groups written successfully (each one {@code write} and, with EVERY_GROUP, one sync). */
    public long groupsWritten() {
        GroupWriter w = writer;
        return w == null ? 0 : w.groups();
    }

    /** Entries written successfully (acknowledged). */
    public long entriesWritten() {
        GroupWriter w = writer;
        return w == null ? 0 : w.entries();
    }

    /** Payload bytes of the entries written successfully. */
    public long bytesWritten() {
        GroupWriter w = writer;
        return w == null ? 0 : w.payloadBytes();
    }

    /** Bytes written to segment files by successful groups, including frame and segment headers. */
    public long fileBytesWritten() {
        GroupWriter w = writer;
        return w == null ? 0 : w.fileBytes();
    }

    /** {@code fdatasync} calls that succeeded. */
    public long fsyncCount() {
        GroupWriter w = writer;
        return w == null ? 0 : w.fsyncs();
    }

    /** Entries in the last group written. */
    public long lastGroupEntries() {
        GroupWriter w = writer;
        return w == null ? 0 : w.lastGroupEntries();
    }

    /** Frame bytes in the last group written. */
    public long lastGroupBytes() {
        GroupWriter w = writer;
        return w == null ? 0 : w.lastGroupBytes();
    }

    /** Groups that failed (their entries got {@code onFailure}). */
    public long failedGroups() {
        GroupWriter w = writer;
        return w == null ? 0 : w.failedGroups();
    }

    /** Syncs that failed after their entries were acknowledged (interval policy only). */
    public long failedSyncs() {
        GroupWriter w = writer;
        return w == null ? 0 : w.syncFailures();
    }

    /** Entries delivered by {@link #replay} (by each call: they all deliver the same). */
    public long replayedEntries() {
        return replayedEntries;
    }

    /**
     * Segments in which {@link #replay} found an invalid frame before the end that a newer segment
     * declared for them: acknowledged entries were damaged after they were written (logged as
     * errors). 0 after a clean shutdown and after ordinary crashes.
     */
    public int corruptSegmentsFound() {
        return corruptSegments;
    }

    /** Segment files created (preallocated spares and files created on the writer thread). */
    public long segmentsCreated() {
        SegmentPool p = pool;
        return p == null ? 0 : p.segmentsCreated();
    }

    /** Trimmed segment files recycled as spares. */
    public long segmentsRecycled() {
        SegmentPool p = pool;
        return p == null ? 0 : p.segmentsRecycled();
    }

    /** Trimmed segment files deleted (surplus or non-standard size). */
    public long segmentsDeleted() {
        SegmentPool p = pool;
        return p == null ? 0 : p.segmentsDeleted();
    }

    /** Segments the writer had to create itself because no preallocated spare was ready. */
    public long unpreallocatedSegments() {
        GroupWriter w = writer;
        return w == null ? 0 : w.unfilledSegments();
    }

    /** Sealed segments not yet freed (for tests). */
    int sealedSegments() {
        SegmentPool p = pool;
        return p == null ? 0 : p.sealedCount();
    }

    /** Preallocated spares ready (for tests). */
    int spareSegmentsReady() {
        SegmentPool p = pool;
        return p == null ? 0 : p.spareCount();
    }

    @Override
    public String toString() {
        return description;
    }

    /**
     * When the WAL calls {@code fdatasync} and acknowledges entries. See the class Javadoc of
     * {@link FileWriteAheadLog} for what each policy risks.
     */
    public static final class FsyncPolicy {
        /** Acknowledge after the {@code fdatasync} of the entry's group (the default). */
        public static final FsyncPolicy EVERY_GROUP = new FsyncPolicy(null);

        private final Duration interval;

        private FsyncPolicy(Duration interval) {
            this.interval = interval;
        }

        /**
         * Acknowledge after {@code write}; {@code fdatasync} at most once per {@code interval}.
         * Acknowledged entries survive a process crash but not an OS crash or power loss.
         */
        public static FsyncPolicy interval(Duration interval) {
            Objects.requireNonNull(interval, "interval");
            if (interval.isNegative() || interval.isZero()) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "fsync interval must be positive: " + interval);
            }
            return new FsyncPolicy(interval);
        }

        /** The sync interval, or {@code null} for {@link #EVERY_GROUP}. */
        public Duration interval() {
            return interval;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FsyncPolicy && Objects.equals(((FsyncPolicy) o).interval, interval);
        }

        @Override
        public int hashCode() {
            return Objects.hashCode(interval);
        }

        @Override
        public String toString() {
            return interval == null ? "EVERY_GROUP" : "INTERVAL(" + interval.toMillis() + " ms)";
        }
    }

    /** Settings of a {@link FileWriteAheadLog}; validated by {@link #build()}. Not thread-safe. */
    public static final class Builder {
        private final Path dir;
        private long segmentBytes = 64L << 20;
        private int maxGroupBytes = 4 << 20;
        private int queueCapacity = 16384;
        private int spareSegments = 2;
        private boolean tolerateDamage;
        private FsyncPolicy fsyncPolicy = FsyncPolicy.EVERY_GROUP;
        private ChannelFactory channels = ChannelFactory.DEFAULT;
        private boolean alwaysPipeline;

        private Builder(Path dir) {
            this.dir = Objects.requireNonNull(dir, "directory").toAbsolutePath().normalize();
        }

        /**
         * Size of each preallocated segment file ({@code segment.bytes}), a multiple of 4 KiB
         * between 64 KiB and 1 GiB. Default 64 MiB.
         */
        public Builder segmentBytes(long bytes) {
            this.segmentBytes = bytes;
            return this;
        }

        /**
         * The most frame bytes one group (one {@code write}, one sync) carries, between 64 KiB and
         * 256 MiB; also the size of each of the writer's two direct buffers (one group is framed
         * while the previous one is written and synced). An entry larger than this forms a group of
         * its own, written without overlap. Default 4 MiB.
         */
        public Builder maxGroupBytes(int bytes) {
            this.maxGroupBytes = bytes;
            return this;
        }

        /**
         * Entries queued but not yet taken by the writer before {@code append} blocks; rounded up
         * to a power of two, between 2 and 2^24. Default 16384.
         */
        public Builder queueCapacity(int entries) {
            this.queueCapacity = entries;
            return this;
        }

        /**
         * Preallocated spare segments kept ready, 0 to 64; trimmed segments are recycled as spares
         * up to twice this number, or up to as many as the latest trim freed plus this number if
         * that is more (at most 64: under steady load the writer fills about that many before the next trim, and
         * reusing them saves zero-filling new files), and deleted beyond it. 0 disables
         * preallocation and recycling (every segment is created on the writer thread and deleted
         * after trim). Default 2.
         */
        /**
         * What replay does when a segment is damaged before the end its successor declared (bytes
         * the writer had made durable changed afterwards: acknowledged entries are lost). By default
         * (false) replay fails with {@code CORRUPT_STORAGE} naming the segment and position, so an
         * operator decides; true delivers what is readable and goes on (logging the damage).
         */
        public Builder tolerateDamage(boolean tolerate) {
            this.tolerateDamage = tolerate;
            return this;
        }

        public Builder spareSegments(int count) {
            this.spareSegments = count;
            return this;
        }

        /** When to sync and acknowledge. Default {@link FsyncPolicy#EVERY_GROUP}. */
        public Builder fsyncPolicy(FsyncPolicy policy) {
            this.fsyncPolicy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /**
         * Test hook: how segment and directory channels are opened (the directory lock is not
         * affected).
         */
        Builder channelFactory(ChannelFactory factory) {
            this.channels = Objects.requireNonNull(factory, "factory");
            return this;
        }

        /**
         * Test hook: every group goes through the sync thread, also at light load (where the writer
         * would otherwise write and sync it itself).
         */
        Builder alwaysPipeline(boolean always) {
            this.alwaysPipeline = always;
            return this;
        }

        /**
         * Validates the settings and returns an unopened WAL.
         *
         * @throws ShaleException {@code INVALID_ARGUMENT} naming the first invalid setting
         */
        public FileWriteAheadLog build() {
            if (segmentBytes < (64 << 10) || segmentBytes > (1L << 30) || segmentBytes % 4096 != 0) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "segmentBytes must be a multiple of 4096 between 64 KiB and "
                        + "1 GiB: " + segmentBytes);
            }
            if (maxGroupBytes < (64 << 10) || maxGroupBytes > (256 << 20)) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "maxGroupBytes must be between 64 KiB and 256 MiB: "
                        + maxGroupBytes);
            }
            if (queueCapacity < 2 || queueCapacity > (1 << 24)) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "queueCapacity must be between 2 and 2^24: " + queueCapacity);
            }
            if (spareSegments < 0 || spareSegments > 64) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "spareSegments must be between 0 and 64: " + spareSegments);
            }
            return new FileWriteAheadLog(this);
        }
    }
}
