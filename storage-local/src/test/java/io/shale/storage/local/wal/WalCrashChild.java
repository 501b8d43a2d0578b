package io.shale.storage.local.wal;

import io.shale.log.ShaleException;
import io.shale.log.spi.WalEntry;
import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;

/**
 * The child process of {@link WalCrashTest}: opens the WAL, then appends from several threads
 * until it is killed. Prints (on stdout, one line each, prefixed so log lines are ignored)
 * {@code @READY}, {@code @A stream offset size sequence} after each entry became durable, and
 * {@code @T sequence} <em>before</em> each trim call.
 *
 * <p>Arguments: directory, seed, cycle, threads.
 */
public final class WalCrashChild {
    static final int SEGMENT_BYTES = 256 << 10;

    private WalCrashChild() {
    }

    static FileWriteAheadLog.Builder builder(Path dir) {
        return FileWriteAheadLog.builder(dir).segmentBytes(SEGMENT_BYTES).maxGroupBytes(256 << 10).spareSegments(1)
                .queueCapacity(256);
    }

    /** Offsets of a stream in one cycle start at cycle * OFFSET_STRIDE, so they grow across cycles. */
    static final long OFFSET_STRIDE = 1L << 32;

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        int cycle = Integer.parseInt(args[2]);
        int threads = Integer.parseInt(args[3]);
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.out),
                StandardCharsets.US_ASCII), 1 << 16);
        Object outLock = new Object();

        Replayed.Opened opened = Replayed.open(builder(dir));
        FileWriteAheadLog wal = opened.wal();
        ConcurrentLinkedQueue<String> acks = new ConcurrentLinkedQueue<>();
        synchronized (outLock) {
            out.write("@READY " + opened.entries().size() + "\n");
            out.flush();
        }

        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread w = new Thread(() -> appendLoop(wal, seed, cycle, thread, acks), "appender-" + t);
            w.setDaemon(true);
            w.start();
        }
        Thread trimmer = new Thread(() -> {
            try {
                while (true) {
                    Thread.sleep(100);
                    long trimTo = wal.nextSequence() - 1500;
                    synchronized (outLock) {
                        out.write("@T " + trimTo + "\n");
                        out.flush();
                    }
                    wal.trim(trimTo);
                }
            } catch (InterruptedException | IOException e) {
                // the process is going down
            }
        }, "trimmer");
        trimmer.setDaemon(true);
        trimmer.start();

        StringBuilder batch = new StringBuilder();
        while (true) {
            String line;
            while ((line = acks.poll()) != null) {
                batch.append(line);
            }
            if (batch.length() > 0) {
                synchronized (outLock) {
                    out.write(batch.toString());
                    out.flush();
                }
                batch.setLength(0);
            } else {
                Thread.sleep(1);
            }
        }
    }

    private static void appendLoop(FileWriteAheadLog wal, long seed, int cycle, int thread,
            ConcurrentLinkedQueue<String> acks) {
        SplittableRandom rnd = new SplittableRandom(seed * 31 + cycle * 1009L + thread);
        Semaphore inFlight = new Semaphore(32);
        long[] next = {cycle * OFFSET_STRIDE, cycle * OFFSET_STRIDE};
        while (true) {
            int which = rnd.nextInt(2);
            int stream = thread * 2 + which;
            long offset = next[which]++;
            int size = rnd.nextInt(1, 20_000);
            ByteBuffer payload = ByteBuffer.wrap(TestEntry.bytes(stream, offset, size, seed));
            inFlight.acquireUninterruptibly();
            long[] sequence = {-1};
            WalEntry e = new WalEntry() {
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
                    synchronized (sequence) {
                        acks.add("@A " + stream + " " + offset + " " + size + " " + sequence[0] + "\n");
                    }
                    inFlight.release();
                }

                @Override
                public void onFailure(Throwable error) {
                    inFlight.release();
                }
            };
            try {
                synchronized (sequence) {
                    sequence[0] = wal.append(e);
                }
            } catch (ShaleException ex) {
                return;
            }
        }
    }
}
