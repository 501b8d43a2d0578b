package io.shale.storage.local.wal;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.spi.WalEntry;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Many producers, one consumer: a ring of entries indexed by their WAL sequence number.
 *
 * <p>Why not a general MPSC queue (JCTools): the writer must know each entry's sequence number,
 * and {@link WalEntry} has no field for it. Taking a sequence from a counter and then offering to
 * a queue makes queue order differ from sequence order and would need a holder object per entry.
 * Here the sequence <em>is</em> the slot: a producer claims {@code s} with one
 * {@code getAndIncrement}, waits only if slot {@code s & mask} still holds entry
 * {@code s - capacity} (bounded back-pressure), and publishes with a volatile store. The consumer
 * reads slots in sequence order, so entries are written to disk in sequence order with no
 * per-entry allocation. Like any array-based MPSC queue (JCTools' included), a producer
 * descheduled between its claim and its store delays the consumer until it runs again.
 *
 * <p>The consumer as producer: a WAL callback runs on the consumer thread and may append. Waiting
 * for space there would wait for the thread itself (only the consumer frees slots), so the
 * consumer claims with a compare-and-set only while a slot is free and otherwise fails at once
 * with {@code UNAVAILABLE}. Since only the consumer advances {@code consumed}, a slot it saw free
 * stays free until it publishes.
 *
 * <p>Closing: the {@link #CLOSED} bit is added to the counter atomically; a claim that returns it
 * set gets no slot, and every claim made before it will be published, so the consumer drains
 * exactly up to the sequence {@link #close()} returned.
 */
final class EntryRing {
    static final long CLOSED = 1L << 62;
    private static final long SEQUENCE_MASK = CLOSED - 1;
    private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(WalEntry[].class);

    private final WalEntry[] slots;
    private final int mask;
    /** Next sequence to claim, plus {@link #CLOSED} once closed. */
    private final AtomicLong claimed = new AtomicLong();
    /** Next sequence the consumer will take: slots below it are free. */
    private volatile long consumed;
    /** Set by the consumer while it is parked or about to park. */
    private volatile boolean consumerParked;
    private volatile Thread consumer;
    private volatile boolean consumerDead;

    EntryRing(int capacity) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two: " + capacity);
        }
        this.slots = new WalEntry[capacity];
        this.mask = capacity - 1;
    }

    /** Sets the first sequence; called once before any producer or consumer runs. */
    void start(long firstSequence, Thread consumerThread) {
        claimed.set(firstSequence);
        consumed = firstSequence;
        consumer = consumerThread;
    }

    /** The next sequence a producer would get (without the closed bit). */
    long nextSequence() {
        return claimed.get() & SEQUENCE_MASK;
    }

    boolean isClosed() {
        return (claimed.get() & CLOSED) != 0;
    }

    /**
     * Claims a sequence and publishes {@code entry} in its slot. Blocks only while the ring is full,
     * and never on the consumer thread (see the class comment).
     *
     * @throws ShaleException CLOSED after {@link #close()}; UNAVAILABLE if the consumer died, or if
     *     called on the consumer thread while the ring is full (nothing is claimed then)
     */
    long publish(WalEntry entry, String description) {
        if (consumerDead) {
            throw new ShaleException(ErrorKind.UNAVAILABLE, description + ": writer thread stopped");
        }
        long s;
        if (Thread.currentThread() == consumer) {
            s = claimOnConsumer(description);
        } else {
            s = claimed.getAndIncrement();
            if ((s & CLOSED) != 0) {
                throw new ShaleException(ErrorKind.CLOSED, description + " is closed");
            }
            if (s - consumed >= slots.length) {
                awaitSpace(s, description);
            }
        }
        SLOTS.setVolatile(slots, (int) (s & mask), entry);
        if (consumerParked) {
            LockSupport.unpark(consumer);
        }
        return s;
    }

    /** A claim by the consumer thread (a WAL callback): only if a slot is free, never waiting. */
    private long claimOnConsumer(String description) {
        while (true) {
            long c = claimed.get();
            if ((c & CLOSED) != 0) {
                throw new ShaleException(ErrorKind.CLOSED, description + " is closed");
            }
            if (c - consumed >= slots.length) {
                throw new ShaleException(ErrorKind.UNAVAILABLE, description + ": append from a WAL callback found "
                        + "the queue full (" + slots.length + " entries); the callback runs on the writer thread, "
                        + "which is the only one that can make room, so the append cannot wait");
            }
            if (claimed.compareAndSet(c, c + 1)) {
                return c;
            }
        }
    }

    private void awaitSpace(long s, String description) {
        boolean interrupted = false;
        int spins = 0;
        while (s - consumed >= slots.length) {
            if (consumerDead) {
                // The slot can never be freed; the WAL is unusable anyway.
                throw new ShaleException(ErrorKind.UNAVAILABLE, description + ": writer thread stopped");
            }
            if (consumerParked) {
                LockSupport.unpark(consumer);
            }
            if (++spins < 100) {
                Thread.onSpinWait();
            } else {
                // A claimed sequence must be published: interrupts are remembered, not obeyed.
                LockSupport.parkNanos(this, 20_000);
                interrupted |= Thread.interrupted();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Marks the ring closed and returns the first sequence that was never handed out. */
    long close() {
        long c;
        do {
            c = claimed.get();
            if ((c & CLOSED) != 0) {
                throw new IllegalStateException("ring already closed");
            }
        } while (!claimed.compareAndSet(c, c | CLOSED));
        return c;
    }

    // ---- consumer side (one thread) ----

    /** The entry with sequence {@code s} if it was published, else {@code null}; s must be the cursor. */
    WalEntry peek(long s) {
        return (WalEntry) SLOTS.getVolatile(slots, (int) (s & mask));
    }

    /** Frees slot {@code s}; the consumer then calls {@link #advance} for the batch. */
    void clear(long s) {
        SLOTS.setRelease(slots, (int) (s & mask), (WalEntry) null);
    }

    /** Declares every sequence below {@code cursor} consumed (slots cleared). */
    void advance(long cursor) {
        consumed = cursor;
    }

    /** Whether a producer claimed {@code s} but has not published it yet. */
    boolean claimedButUnpublished(long s) {
        return (claimed.get() & SEQUENCE_MASK) > s && peek(s) == null;
    }

    /**
     * Parks the consumer until an entry is published at {@code cursor}, {@code wakeUp} is set by
     * someone who also unparks the consumer, or {@code maxNanos} pass.
     */
    void awaitEntry(long cursor, long maxNanos, BooleanSupplier wakeUp) {
        consumerParked = true;
        try {
            // Dekker with publish(): store consumerParked, then load the slot; producers store the
            // slot, then load consumerParked. Both volatile, so one side sees the other.
            if (peek(cursor) != null || wakeUp.getAsBoolean()
                    || (claimed.get() & SEQUENCE_MASK) > cursor) {
                return;
            }
            LockSupport.parkNanos(this, maxNanos);
        } finally {
            consumerParked = false;
        }
    }

    void wakeConsumer() {
        Thread t = consumer;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    void consumerDied() {
        consumerDead = true;
    }
}
