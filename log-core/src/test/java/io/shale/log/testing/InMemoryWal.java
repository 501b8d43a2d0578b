package io.shale.log.testing;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.spi.WalContext;
import io.shale.log.spi.WalEntry;
import io.shale.log.spi.WalReplayHandler;
import io.shale.log.spi.WriteAheadLog;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link WriteAheadLog} in memory for engine tests. Its durable content survives
 * {@link #close()}: hand the same instance to the next store to simulate a restart.
 *
 * <p>Completion is asynchronous on its own thread (like a real WAL) unless {@link #holdCompletions}
 * is set, in which case tests release or fail queued entries explicitly. {@link #failNext(int)}
 * makes the next appends fail instead of becoming durable.
 */
public final class InMemoryWal implements WriteAheadLog {
    private record Stored(long sequence, int streamId, long baseOffset, byte[] payload) {
    }

    private final List<Stored> durable = new ArrayList<>();
    private final List<WalEntry> held = new ArrayList<>();
    private final List<Long> heldSeqs = new ArrayList<>();
    private final AtomicLong nextSeq = new AtomicLong(1);
    private final AtomicInteger failures = new AtomicInteger();
    private final AtomicInteger landedFailures = new AtomicInteger();
    private volatile boolean holdCompletions;
    private volatile int maxOutstanding = Integer.MAX_VALUE;
    private int outstanding; // guarded by this
    private volatile boolean closed = true;
    private ExecutorService completer;
    private long trimmedBelow;
    public volatile long lastEpoch;
    /** How many times the store replayed this WAL (twice when its log cache could not hold it). */
    public volatile int replays;
    private WalContext context;

    @Override
    public synchronized void open(WalContext context) {
        closed = false;
        this.context = context;
        completer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "in-memory-wal");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public synchronized void replay(WalReplayHandler handler) {
        lastEpoch = context.writerEpoch(); // claimed after open
        replays++;
        long max = 0;
        for (Stored s : new ArrayList<>(durable)) {
            handler.onEntry(s.sequence, s.streamId, s.baseOffset, ByteBuffer.wrap(s.payload).asReadOnlyBuffer());
            max = Math.max(max, s.sequence);
        }
        nextSeq.set(Math.max(nextSeq.get(), max + 1));
    }

    @Override
    public long append(WalEntry entry) {
        if (closed) {
            throw new ShaleException(ErrorKind.CLOSED, "in-memory WAL closed");
        }
        long seq;
        synchronized (this) {
            while (outstanding >= maxOutstanding && !closed) {
                try {
                    wait(); // bounded back-pressure, as a real WAL's full queue
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ShaleException(ErrorKind.UNAVAILABLE, "interrupted");
                }
            }
            outstanding++;
            seq = nextSeq.getAndIncrement();
            if (holdCompletions) {
                held.add(entry);
                heldSeqs.add(seq);
                return seq;
            }
        }
        long s = seq;
        completer.execute(() -> complete(entry, s));
        return seq;
    }

    private void complete(WalEntry entry, long seq) {
        try {
            completeOne(entry, seq);
        } finally {
            synchronized (this) {
                outstanding--;
                notifyAll();
            }
        }
    }

    /** Appends block while this many entries are not completed yet. */
    public void maxOutstanding(int max) {
        maxOutstanding = max;
    }

    private void completeOne(WalEntry entry, long seq) {
        if (failures.get() > 0 && failures.getAndDecrement() > 0) {
            entry.onFailure(new ShaleException(ErrorKind.UNAVAILABLE, "injected WAL failure"));
            return;
        }
        ByteBuffer p = entry.payload();
        byte[] bytes = new byte[p.remaining()];
        p.duplicate().get(bytes);
        synchronized (this) {
            durable.add(new Stored(seq, entry.streamId(), entry.baseOffset(), bytes));
        }
        if (landedFailures.get() > 0 && landedFailures.getAndDecrement() > 0) {
            // the bytes reached the WAL, but the writer was told they did not (a lost answer)
            entry.onFailure(new ShaleException(ErrorKind.UNAVAILABLE, "injected WAL failure (the entry landed)"));
            return;
        }
        entry.onDurable();
    }

    /**
     * The next {@code n} appends are stored (a later replay returns them) but reported as failed,
     * as when a WAL's write landed and its answer was lost.
     */
    public void failNextButKeep(int n) {
        landedFailures.set(n);
    }

    /** Queue entries instead of completing them. */
    public void holdCompletions(boolean hold) {
        holdCompletions = hold;
    }

    /** Completes (durable) every held entry, in order. */
    public void releaseHeld() {
        List<WalEntry> es;
        List<Long> ss;
        synchronized (this) {
            es = new ArrayList<>(held);
            ss = new ArrayList<>(heldSeqs);
            held.clear();
            heldSeqs.clear();
        }
        for (int i = 0; i < es.size(); i++) {
            complete(es.get(i), ss.get(i));
        }
    }

    /** Completes held entries; those at the given indexes fail instead. */
    public void releaseHeldFailing(java.util.Set<Integer> failIndexes) {
        List<WalEntry> es;
        List<Long> ss;
        synchronized (this) {
            es = new ArrayList<>(held);
            ss = new ArrayList<>(heldSeqs);
            held.clear();
            heldSeqs.clear();
        }
        for (int i = 0; i < es.size(); i++) {
            if (failIndexes.contains(i)) {
                es.get(i).onFailure(new ShaleException(ErrorKind.UNAVAILABLE, "injected WAL failure #" + i));
            } else {
                complete(es.get(i), ss.get(i));
            }
        }
    }

    /** Entries queued by {@link #holdCompletions} and not released yet. */
    public synchronized int heldEntries() {
        return held.size();
    }

    /** The next {@code n} appends fail. */
    public void failNext(int n) {
        failures.set(n);
    }

    @Override
    public long nextSequence() {
        return nextSeq.get();
    }

    @Override
    public synchronized void trim(long sequence) {
        trimmedBelow = Math.max(trimmedBelow, sequence);
        durable.removeIf(s -> s.sequence < sequence);
    }

    public synchronized long trimmedBelow() {
        return trimmedBelow;
    }

    public synchronized int durableEntries() {
        return durable.size();
    }

    @Override
    public String describe() {
        return "in-memory-wal";
    }

    @Override
    public void close() {
        ExecutorService c;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            c = completer;
        }
        c.shutdown();
        try {
            c.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<WalEntry> es;
        synchronized (this) {
            es = new ArrayList<>(held);
            held.clear();
            heldSeqs.clear();
        }
        for (WalEntry e : es) {
            e.onFailure(new ShaleException(ErrorKind.CLOSED, "in-memory WAL closed"));
        }
    }

    /**
     * Simulates a process crash: stops completing without failing anything. Returns once the
     * completion thread has stopped, so that nothing becomes durable after the crash (a completion
     * that was running could otherwise land after the next store's replay).
     */
    public void crash() {
        closed = true;
        ExecutorService c = completer;
        if (c != null) {
            c.shutdownNow();
            try {
                c.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            held.clear();
            heldSeqs.clear();
        }
    }
}
