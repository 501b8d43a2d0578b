package io.shale.storage.local.wal;

import io.shale.log.spi.WalEntry;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * An informal throughput check, not a benchmark (the benchmarks module measures properly):
 * {@code threads} producers append {@code entryBytes} entries, each keeping {@code inFlight}
 * unacknowledged, for a warm-up and a measured period, trimming as a store would; prints MB/s
 * and group statistics.
 *
 * <p>Arguments: directory threads entryBytes inFlight seconds [interval-ms]
 */
public final class WalThroughputSmoke {
    private WalThroughputSmoke() {
    }

    private static final class Entry implements WalEntry {
        final ByteBuffer payload;
        final Semaphore slots;
        final LongAdder acked;
        int stream;
        long offset;

        Entry(int size, Semaphore slots, LongAdder acked) {
            this.payload = ByteBuffer.allocateDirect(size);
            this.slots = slots;
            this.acked = acked;
        }

        @Override
        public int streamId() {
            return stream;
        }

        @Override
        public long baseOffset() {
            return offset;
        }

        @Override
        public ByteBuffer payload() {
            return payload;
        }

        @Override
        public void onDurable() {
            acked.add(payload.remaining());
            slots.release();
        }

        @Override
        public void onFailure(Throwable error) {
            slots.release();
        }
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        int entryBytes = Integer.parseInt(args[2]);
        int inFlight = Integer.parseInt(args[3]);
        int seconds = Integer.parseInt(args[4]);
        Files.createDirectories(dir);
        FileWriteAheadLog.Builder b = FileWriteAheadLog.builder(dir);
        if (args.length > 5) {
            b.fsyncPolicy(FileWriteAheadLog.FsyncPolicy.interval(java.time.Duration.ofMillis(Long.parseLong(args[5]))));
        }
        Replayed.Opened o = Replayed.open(b);
        FileWriteAheadLog wal = o.wal();
        LongAdder acked = new LongAdder();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int stream = t;
            Thread w = new Thread(() -> {
                Semaphore slots = new Semaphore(inFlight);
                Entry[] pool = new Entry[inFlight];
                for (int i = 0; i < inFlight; i++) {
                    pool[i] = new Entry(entryBytes, slots, acked);
                }
                long offset = 0;
                for (int i = 0; !stop.get(); i = (i + 1) % inFlight) {
                    slots.acquireUninterruptibly();
                    Entry e = pool[i];
                    e.stream = stream;
                    e.offset = offset++;
                    wal.append(e);
                }
            });
            w.start();
            workers.add(w);
        }
        // As the store would after uploads: trim regularly, so that segments are recycled.
        Thread trimmer = new Thread(() -> {
            while (!stop.get()) {
                wal.trim(wal.nextSequence() - 4096);
                java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
            }
        });
        trimmer.setDaemon(true);
        trimmer.start();
        Thread.sleep(2000);
        long g0 = wal.groupsWritten();
        long e0 = wal.entriesWritten();
        long f0 = wal.fsyncCount();
        long b0 = acked.sum();
        long t0 = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        long elapsed = System.nanoTime() - t0;
        long bytes = acked.sum() - b0;
        long groups = wal.groupsWritten() - g0;
        long entries = wal.entriesWritten() - e0;
        long fsyncs = wal.fsyncCount() - f0;
        stop.set(true);
        for (Thread w : workers) {
            w.join();
        }
        wal.close();
        double secs = elapsed / 1e9;
        System.out.printf("threads=%d entry=%d B inFlight/thread=%d: %.1f MB/s, %.0f entries/s, %.0f groups/s, "
                + "%.1f entries/group (%.0f KiB), %d fsyncs, segments created %d recycled %d unpreallocated %d%n",
                threads, entryBytes, inFlight, bytes / secs / 1e6, entries / secs, groups / secs,
                (double) entries / Math.max(1, groups), (double) bytes / Math.max(1, groups) / 1024, fsyncs,
                wal.segmentsCreated(), wal.segmentsRecycled(), wal.unpreallocatedSegments());
    }
}
