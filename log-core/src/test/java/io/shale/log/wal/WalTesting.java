package io.shale.log.wal;

import io.shale.log.spi.ObjectStore;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;

/** Shared helpers for the object WAL tests. */
final class WalTesting {
    private WalTesting() {
    }

    /** One replayed entry with a copy of its payload. */
    record Replayed(long sequence, int streamId, long baseOffset, byte[] payload) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Replayed r && r.sequence == sequence && r.streamId == streamId
                    && r.baseOffset == baseOffset && Arrays.equals(r.payload, payload);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(sequence) * 31 + Arrays.hashCode(payload);
        }

        @Override
        public String toString() {
            return "Replayed[seq=" + sequence + ", stream=" + streamId + ", base=" + baseOffset + ", " + payload.length + " B]";
        }
    }

    /** A builder that never flushes by time, so tests decide when objects are sealed. */
    static ObjectWriteAheadLog.Builder manualFlush() {
        return ObjectWriteAheadLog.builder().flushInterval(Duration.ofHours(1));
    }

    /** Opens a fresh WAL on {@code store} with {@code epoch}, replays it and closes it. */
    static List<Replayed> replayAll(ObjectStore store, long epoch, ObjectWriteAheadLog.Builder builder) {
        try (TestWalContext ctx = new TestWalContext(epoch, store)) {
            ObjectWriteAheadLog wal = builder.build();
            wal.open(ctx);
            try {
                return replay(wal);
            } finally {
                wal.close();
            }
        }
    }

    static List<Replayed> replay(ObjectWriteAheadLog wal) {
        List<Replayed> out = new ArrayList<>();
        wal.replay((seq, stream, base, payload) -> {
            byte[] b = new byte[payload.remaining()];
            payload.duplicate().get(b);
            out.add(new Replayed(seq, stream, base, b));
        });
        return out;
    }

    static Replayed expected(long sequence, RecordingEntry e) {
        ByteBuffer p = e.payload.duplicate();
        byte[] b = new byte[p.remaining()];
        p.get(b);
        return new Replayed(sequence, e.streamId, e.baseOffset, b);
    }

    /** Polls until {@code condition} holds (at most 30 s); for states reached asynchronously. */
    static void awaitTrue(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.onSpinWait();
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /** The keys that are not claim records ({@code <prefix>claims/<epoch>}), which every replay writes. */
    static java.util.List<String> objectKeys(java.util.Collection<String> keys) {
        return keys.stream().filter(k -> !k.contains("/claims/")).toList();
    }
}
