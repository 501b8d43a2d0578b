package io.shale.storage.testkit;

import io.shale.log.spi.WalContext;
import io.shale.log.spi.WalEntry;
import io.shale.log.spi.WalReplayHandler;
import io.shale.log.spi.WriteAheadLog;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A WAL whose acknowledgements a test can hold back: while {@linkplain #hold() held}, entries the
 * real WAL made durable are not reported to the store until {@link #release()}, which reports them
 * in the order the WAL did. Failures pass through at once. Everything else is the real WAL's.
 *
 * <p>Thread-safe. Callbacks held back are delivered on the thread calling {@link #release()}.
 */
final class HeldWal implements WriteAheadLog {
    private final WriteAheadLog delegate;
    private final List<WalEntry> held = new ArrayList<>();
    private boolean holding;

    HeldWal(WriteAheadLog delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** From now on, durable entries are reported only at {@link #release()}. */
    synchronized void hold() {
        holding = true;
    }

    /** Reports every entry held back, and stops holding. */
    void release() {
        List<WalEntry> due;
        synchronized (this) {
            holding = false;
            due = new ArrayList<>(held);
            held.clear();
        }
        due.forEach(WalEntry::onDurable);
    }

    private void durable(WalEntry entry) {
        synchronized (this) {
            if (holding) {
                held.add(entry);
                return;
            }
        }
        entry.onDurable();
    }

    @Override
    public void open(WalContext context) {
        delegate.open(context);
    }

    @Override
    public void replay(WalReplayHandler handler) {
        delegate.replay(handler);
    }

    @Override
    public long append(WalEntry entry) {
        return delegate.append(new WalEntry() {
            @Override
            public int streamId() {
                return entry.streamId();
            }

            @Override
            public long baseOffset() {
                return entry.baseOffset();
            }

            @Override
            public ByteBuffer payload() {
                return entry.payload();
            }

            @Override
            public void onDurable() {
                durable(entry);
            }

            @Override
            public void onFailure(Throwable error) {
                entry.onFailure(error);
            }
        });
    }

    @Override
    public long nextSequence() {
        return delegate.nextSequence();
    }

    @Override
    public void trim(long sequence) {
        delegate.trim(sequence);
    }

    @Override
    public String describe() {
        return "held(" + delegate.describe() + ")";
    }

    @Override
    public void close() {
        release();
        delegate.close();
    }
}
