package io.shale.storage.local.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WAL's segment files other than the active one: preallocated spares ready for the writer,
 * and sealed live segments waiting to be trimmed. One background thread (the "preparer") zero-fills
 * new spares and recycles trimmed segments; the writer thread and {@code trim} callers only touch
 * the lists under {@link #lock}.
 *
 * <p>Recycling a sealed segment zeroes its header sector (so recovery sees a free file; the stale
 * frames behind it carry the old segment id and never verify again) and keeps the file as a spare
 * when it has the standard size and fewer spares exist than the larger of {@link #maxSpares} and
 * the number of segments the latest {@link #trim} made freeable plus {@code targetSpares} (at most
 * {@link #MAX_KEPT_SPARES});
 * otherwise the file is deleted. Under steady load a trim frees about as many segments as the writer
 * fills until the next trim, so keeping that many spares lets the writer reuse files instead of
 * zero-filling new ones (each costs a segment's worth of disk writes) while the directory stays at
 * the size it had just before the trim. With {@code targetSpares} 0 nothing is kept. New files are zero-filled only while fewer than {@code targetSpares} spares are
 * ready and recycling found nothing, so in a steady state (the store trims regularly) the WAL
 * reuses the same files instead of creating and deleting them.
 *
 * <p>Sealed segments are freed strictly in ordinal order, so a segment's successor (whose header
 * declares where its good frames end) always outlives it, and never the newest segment whose
 * header is known durable: that one holds the highest sequence, which the next recovery needs to
 * continue numbering above it even when everything else was trimmed. Nothing is freed until
 * {@link #allowFreeing()} (the WAL's first append): until then the store may replay again, and
 * every replay must find the same segments.
 *
 * <p>Directory entries. Recycling renames nothing: the file keeps its name (a creation counter
 * that recovery uses only to break ties and to number new files; the header's ordinal orders
 * segments), and its header sector is zeroed and synced in place before the file joins the
 * spares. A crash therefore leaves a recycled file either still live with its old header (not yet
 * zeroed: recovery orders it by its old ordinal, below every segment written after it, and at worst
 * replays trimmed entries again, which trim allows) or free; it cannot come back with its old
 * header after the writer reused it, because the zeroed header was durable before the file was
 * handed out. The changes to directory entries are creations and deletions, and each is followed
 * by an fsync of the directory before anything relies on it:
 * <ul>
 *   <li>a created file (spare or unfilled) before it is handed to the writer, so that acknowledged
 *       frames never sit in a file whose name a crash can lose; if that sync fails the file is
 *       deleted and the creation fails;</li>
 *   <li>a deleted file (trimmed, released, or surplus at recovery) before the pool goes on. A
 *       deletion lost in a crash brings back the whole segment with its old header; recovery still
 *       orders it correctly (its ordinal is below every live one), but the successor that declared
 *       its end may be gone by then, so frames of a failed group beyond that end could be delivered
 *       again. They are below the trim point and failed entries may be replayed, so nothing is
 *       lost, but the sync closes that window;</li>
 *   <li>not a partial file deleted after a creation failed or was stopped by {@link #close}: its
 *       creation was never synced and a file without a valid header is free either way.</li>
 * </ul>
 */
final class SegmentPool {
    private static final Logger LOG = LoggerFactory.getLogger(SegmentPool.class);
    private static final int ZERO_CHUNK = 1 << 20;
    private static final long RETRY_NANOS = 1_000_000_000L;

    /** A live segment the writer has left. */
    record Sealed(Path path, long ordinal, long lastSequence, long fileSize) {
    }

    private final Path dir;
    private final long segmentBytes;
    private final int targetSpares;
    private final int maxSpares;
    /** Spares kept from recycling: {@link #maxSpares}, or what the latest trim freed plus the target. */
    private int keepLimit;
    /** The most spares recycling keeps however many segments a trim frees. */
    static final int MAX_KEPT_SPARES = 64;
    private final ChannelFactory channels;
    private final String description;

    private final Object lock = new Object();
    private final ArrayDeque<Path> spares = new ArrayDeque<>();
    private final ArrayDeque<Sealed> sealed = new ArrayDeque<>();
    /** Files given back by the writer whose header sector must be zeroed before reuse. */
    private final ArrayDeque<Path> released = new ArrayDeque<>();
    private final AtomicLong nextFileNumber;
    private volatile long trimSequence = Long.MIN_VALUE;
    private volatile long newestDurableOrdinal;
    private volatile boolean stopping;
    /** Set by the WAL's first append; until then trimmed segments are kept (replay may repeat). */
    private volatile boolean freeingAllowed;
    private Thread thread;
    private ByteBuffer zeros;

    private final AtomicLong segmentsCreated = new AtomicLong();
    private final AtomicLong segmentsRecycled = new AtomicLong();
    private final AtomicLong segmentsDeleted = new AtomicLong();

    SegmentPool(Path dir, long segmentBytes, int targetSpares, ChannelFactory channels, long nextFileNumber,
            List<Path> initialSpares, List<Sealed> initialSealed, long newestDurableOrdinal, String description) {
        this.dir = dir;
        this.segmentBytes = segmentBytes;
        this.targetSpares = targetSpares;
        this.maxSpares = maxSpares(targetSpares);
        this.keepLimit = maxSpares;
        this.channels = channels;
        this.description = description;
        this.nextFileNumber = new AtomicLong(nextFileNumber);
        this.spares.addAll(initialSpares);
        this.sealed.addAll(initialSealed);
        this.newestDurableOrdinal = newestDurableOrdinal;
    }

    /** Spares kept from recycling: twice the target, so that trims rarely delete a file. */
    static int maxSpares(int targetSpares) {
        return 2 * targetSpares;
    }

    static String fileName(long number) {
        return String.format("%020d.wal", number);
    }

    void start(String threadName) {
        thread = new Thread(this::run, threadName);
        thread.setDaemon(true);
        thread.start();
    }

    /** Before the threads start: creates one spare if none is ready (failures are only logged). */
    void prepareSpareNow() {
        if (targetSpares == 0 || spareCount() > 0) {
            return;
        }
        try {
            createSpare();
        } catch (IOException | RuntimeException e) {
            LOG.warn("{}: cannot preallocate a segment in {}: {}", description, dir, e.toString());
        }
    }

    // ---- called by the writer thread ----

    /** A free segment file of the standard size, or {@code null} if none is ready. */
    Path takeSpare() {
        Path p;
        synchronized (lock) {
            p = spares.pollFirst();
        }
        wake();
        return p;
    }

    /** Gives back a file the writer took but did not keep (its header may be garbage). */
    void release(Path path) {
        synchronized (lock) {
            released.addLast(path);
        }
        wake();
    }

    void sealed(Sealed s) {
        synchronized (lock) {
            sealed.addLast(s);
        }
        wake();
    }

    /**
     * The store can no longer replay (the WAL's first append happened): trimmed segments may be
     * freed from now on.
     */
    void allowFreeing() {
        if (!freeingAllowed) {
            freeingAllowed = true;
            wake();
        }
    }

    /** The header of the segment with this ordinal is durable; older segments may be freed. */
    void durable(long ordinal) {
        if (ordinal > newestDurableOrdinal) {
            newestDurableOrdinal = ordinal;
            wake();
        }
    }

    /**
     * Creates a file of {@code size} bytes without zero-filling it (the slow path: the first syncs
     * on it also allocate blocks). Used when no spare is ready and for oversized segments.
     */
    Path createUnfilled(long size) throws IOException {
        Path path = dir.resolve(fileName(nextFileNumber.getAndIncrement()));
        FileChannel ch = channels.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            try (ch) {
                ch.write(ByteBuffer.allocate(1), size - 1);
            }
            syncDirectory(channels, dir, description);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(path);   // created above by this call, so it is ours to remove
            throw e;
        }
        segmentsCreated.incrementAndGet();
        return path;
    }

    // ---- called by any thread ----

    void trim(long sequence) {
        if (sequence > trimSequence) {
            synchronized (lock) {
                if (sequence > trimSequence) {
                    trimSequence = sequence;
                    if (targetSpares > 0) {
                        int freeable = 0;
                        for (Sealed s : sealed) {
                            if (s.lastSequence() >= sequence) {
                                break;
                            }
                            freeable++;
                        }
                        keepLimit = Math.max(maxSpares, Math.min(MAX_KEPT_SPARES, freeable + targetSpares));
                    }
                }
            }
            wake();
        }
    }

    int spareCount() {
        synchronized (lock) {
            return spares.size();
        }
    }

    int sealedCount() {
        synchronized (lock) {
            return sealed.size();
        }
    }

    long segmentsCreated() {
        return segmentsCreated.get();
    }

    long segmentsRecycled() {
        return segmentsRecycled.get();
    }

    long segmentsDeleted() {
        return segmentsDeleted.get();
    }

    /**
     * Stops the preparer thread, then zeroes the headers of files the writer released (so that a
     * failed group's frames in them are not found by the next recovery). Call after the writer
     * stopped.
     */
    void close() {
        stopping = true;
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
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
        while (true) {
            synchronized (lock) {
                if (released.isEmpty()) {
                    return;
                }
            }
            try {
                recycleOne();
            } catch (IOException | RuntimeException e) {
                LOG.warn("{}: cannot clear released segment files on close: {}", description, e.toString());
                return;
            }
        }
    }

    private void wake() {
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    // ---- the preparer thread ----

    private void run() {
        long retryAt = 0;
        while (!stopping) {
            boolean progress = false;
            if (System.nanoTime() - retryAt >= 0) {
                try {
                    progress = recycleOne() || createSpare();
                } catch (IOException | RuntimeException e) {
                    // A real failure: stopping alone makes createSpare return false, not throw.
                    LOG.warn("{}: preparing a segment in {} failed, retrying in 1 s: {}", description, dir,
                            e.toString());
                    retryAt = System.nanoTime() + RETRY_NANOS;
                }
            }
            if (!progress && !stopping) {
                LockSupport.parkNanos(this, RETRY_NANOS);
            }
        }
    }

    /** Recycles or deletes one released or trimmed segment; returns whether there was one. */
    private boolean recycleOne() throws IOException {
        Path path;
        boolean trimmed;
        boolean keep;
        synchronized (lock) {
            if (!released.isEmpty()) {
                path = released.peekFirst();
                trimmed = false;
            } else {
                Sealed s = sealed.peekFirst();
                if (s == null || !freeingAllowed || s.lastSequence() >= trimSequence
                        || s.ordinal() >= newestDurableOrdinal) {
                    return false;
                }
                path = s.path();
                trimmed = true;
            }
            keep = spares.size() < keepLimit;
        }
        long size;
        try {
            size = Files.size(path);
        } catch (NoSuchFileException e) {
            synchronized (lock) {
                removeHead(trimmed);
            }
            return true;
        }
        if (keep && size == segmentBytes) {
            try {
                zeroHeaderSector(path);
            } catch (IOException e) {
                // A segment we cannot rewrite is deleted instead; if that fails too, retry later.
                LOG.warn("{}: cannot zero the header of {}, deleting it: {}", description, path, e.toString());
                Files.deleteIfExists(path);
                syncDirectoryAfterDelete(channels, dir, description);
                synchronized (lock) {
                    removeHead(trimmed);
                }
                segmentsDeleted.incrementAndGet();
                return true;
            }
            synchronized (lock) {
                removeHead(trimmed);
                spares.addLast(path);
            }
            segmentsRecycled.incrementAndGet();
        } else {
            Files.deleteIfExists(path);
            syncDirectoryAfterDelete(channels, dir, description);
            synchronized (lock) {
                removeHead(trimmed);
            }
            segmentsDeleted.incrementAndGet();
        }
        return true;
    }

    private void zeroHeaderSector(Path path) throws IOException {
        try (FileChannel ch = channels.open(path, StandardOpenOption.WRITE)) {
            ByteBuffer z = ByteBuffer.allocate(WalFormat.FIRST_FRAME_OFFSET);
            while (z.hasRemaining()) {
                ch.write(z, z.position());
            }
            ch.force(false);
        }
    }

    private void removeHead(boolean trimmed) {
        if (trimmed) {
            sealed.pollFirst();
        } else {
            released.pollFirst();
        }
    }

    /**
     * Creates one zero-filled spare if fewer than the target exist; returns whether it did. If
     * {@link #close} stops it half-way, it deletes the partial file and returns false: stopping is
     * not a failure and is logged at DEBUG only.
     */
    private boolean createSpare() throws IOException {
        synchronized (lock) {
            if (spares.size() >= targetSpares) {
                return false;
            }
        }
        Path path = dir.resolve(fileName(nextFileNumber.getAndIncrement()));
        if (zeros == null) {
            zeros = ByteBuffer.allocateDirect(ZERO_CHUNK);
        }
        FileChannel ch = channels.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        long pos = 0;
        try {
            try (ch) {
                while (pos < segmentBytes && !stopping) {
                    zeros.clear().limit((int) Math.min(ZERO_CHUNK, segmentBytes - pos));
                    pos += ch.write(zeros, pos);
                }
                if (pos == segmentBytes) {
                    ch.force(true);
                }
            }
            if (pos == segmentBytes) {
                syncDirectory(channels, dir, description);
            }
        } catch (IOException | RuntimeException e) {
            deleteQuietly(path);   // created above by this call, so it is ours to remove
            throw e;
        }
        if (pos < segmentBytes) {
            // close() asked the thread to stop: the partial file is ours and is free anyway.
            deleteQuietly(path);
            LOG.debug("{}: stopped preallocating {} at {} of {} bytes (closing)", description, path, pos,
                    segmentBytes);
            return false;
        }
        synchronized (lock) {
            spares.addLast(path);
        }
        segmentsCreated.incrementAndGet();
        return true;
    }

    /**
     * Makes the creations, deletions and renames in {@code dir} durable: fsync of the directory,
     * through {@code channels} (the test seam). Where a directory cannot be opened at all (not on
     * Linux) this is a no-op, logged at DEBUG.
     *
     * @throws IOException if the directory was opened but the sync failed
     */
    static void syncDirectory(ChannelFactory channels, Path dir, String description) throws IOException {
        FileChannel d;
        try {
            d = channels.open(dir, StandardOpenOption.READ);
        } catch (IOException e) {
            LOG.debug("{}: cannot open directory {} to sync it: {}", description, dir, e.toString());
            return;
        }
        try (d) {
            d.force(true);
        }
    }

    /**
     * {@link #syncDirectory} after a deletion, which has happened either way: a failed sync is
     * logged (the file may reappear after a crash, which recovery tolerates) and not thrown.
     */
    static void syncDirectoryAfterDelete(ChannelFactory channels, Path dir, String description) {
        try {
            syncDirectory(channels, dir, description);
        } catch (IOException e) {
            LOG.warn("{}: syncing directory {} after deleting a segment file failed; the file may reappear "
                    + "after a crash: {}", description, dir, e.toString());
        }
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // best effort: recovery treats a file without a valid header as free
        }
    }
}
