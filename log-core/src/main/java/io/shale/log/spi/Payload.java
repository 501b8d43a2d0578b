package io.shale.log.spi;

import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The bytes of an object to write: a known length and a way to read them in order, as many times
 * as the store needs (a retried or multipart upload reads them again).
 *
 * <p>A payload is a view, not a copy: the buffers may be slices of the caller's memory (the log
 * cache), valid until the put's future completes. Stores must not modify them, must read each
 * buffer from its position to its limit without moving the caller's position (use
 * {@link ByteBuffer#duplicate()}), and must not hold on to them after completing.
 *
 * <p><b>Threading.</b> A streamed payload's iterator may block while it produces bytes (the
 * compactor fetches source objects from the same store as it goes). Stores therefore pull payloads
 * on a thread that may block, never on a network I/O event loop or a timer thread that the store's
 * own responses or retries depend on.
 */
public final class Payload {
    private final long length;
    private final Supplier<Iterator<ByteBuffer>> source;
    private final boolean inMemory;

    private Payload(long length, Supplier<Iterator<ByteBuffer>> source, boolean inMemory) {
        if (length < 0) {
            throw new IllegalArgumentException("negative payload length " + length);
        }
        this.length = length;
        this.source = source;
        this.inMemory = inMemory;
    }

    /** A payload of the given buffers' remaining bytes, in order. */
    public static Payload of(ByteBuffer... buffers) {
        return of(List.of(buffers));
    }

    /** A payload of the given buffers' remaining bytes, in order. The list is copied. */
    public static Payload of(List<ByteBuffer> buffers) {
        List<ByteBuffer> copy = List.copyOf(buffers);
        long total = 0;
        for (ByteBuffer b : copy) {
            total += b.remaining();
        }
        return new Payload(total, () -> copy.stream().map(ByteBuffer::asReadOnlyBuffer).iterator(), true);
    }

    /** A payload of a byte array. */
    public static Payload of(byte[] bytes) {
        return of(ByteBuffer.wrap(bytes));
    }

    /**
     * A streamed payload: {@code source} yields buffers whose remaining bytes add up to exactly
     * {@code length}; it is called once per attempt and may produce the buffers lazily (fetching
     * or encoding as it goes), so large objects need not be held in memory.
     */
    public static Payload ofStream(long length, Supplier<Iterator<ByteBuffer>> source) {
        return new Payload(length, Objects.requireNonNull(source, "source"), false);
    }

    /** Total bytes. */
    public long length() {
        return length;
    }

    /**
     * Whether the bytes are already in memory ({@link #of} payloads): reading them never blocks,
     * so a store may pull them on any thread, including a network event loop, and should, to
     * write a small request in one go. Streamed payloads ({@link #ofStream}) are not.
     */
    public boolean isInMemory() {
        return inMemory;
    }

    /** Starts a new pass over the bytes. Each buffer's remaining bytes are content. */
    public Iterator<ByteBuffer> open() {
        return source.get();
    }

    /** Reads the whole payload into one array (tests and small objects only). */
    public byte[] toByteArray() {
        if (length > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("payload of " + length + " bytes does not fit in an array");
        }
        byte[] out = new byte[(int) length];
        int pos = 0;
        for (Iterator<ByteBuffer> it = open(); it.hasNext(); ) {
            ByteBuffer b = it.next().duplicate();
            int n = b.remaining();
            if (pos + n > out.length) {
                throw new IllegalStateException("payload produced more than its declared " + length + " bytes");
            }
            b.get(out, pos, n);
            pos += n;
        }
        if (pos != out.length) {
            throw new IllegalStateException("payload produced " + pos + " bytes, declared " + length);
        }
        return out;
    }
}
