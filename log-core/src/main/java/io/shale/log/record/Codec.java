package io.shale.log.record;

import io.shale.log.record.GrowableBytes.LimitExceededException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * One compression codec of the records section of a batch (everything after the 61-byte header).
 * Implementations are stateless and thread-safe; the optional ones (snappy, zstd) live in classes
 * that are only loaded, reflectively, once their library was found on the classpath (see
 * {@link Codecs}).
 *
 * <p>Decoders treat their input as untrusted: malformed input fails with an {@link IOException}
 * (or a library's {@link RuntimeException}; the caller maps both to {@code CORRUPT_RECORD}), and
 * output goes into a {@link GrowableBytes} whose cap bounds the memory a decompression bomb can
 * take. A {@link LinkageError} out of a codec (its library missing a class, method or native
 * symbol) says nothing about the bytes: callers map it to {@code INVALID_ARGUMENT} naming
 * {@link #library}, as for a codec whose library is absent.
 */
abstract class Codec {
    final CompressionType type;
    /** The library doing the work, with its version when known: for error messages. */
    final String library;

    Codec(CompressionType type, String library) {
        this.type = type;
        this.library = library;
    }

    /**
     * Decompresses {@code src[from, to)} (absolute indexes; the buffer's position is not used or
     * changed) and appends the result to {@code out}.
     */
    abstract void decompress(ByteBuffer src, int from, int to, GrowableBytes out)
            throws IOException, LimitExceededException;

    /** An upper bound on {@link #compress}'s output for {@code rawLength} input bytes. */
    abstract long maxCompressedLength(int rawLength);

    /** Compresses {@code src[0, length)} and appends the result to {@code out}. */
    abstract void compress(byte[] src, int length, GrowableBytes out) throws IOException;

    /** Reads a stream to its end into {@code out}, growing it only as bytes arrive. */
    static void readFully(InputStream in, GrowableBytes out) throws IOException, LimitExceededException {
        while (true) {
            if (out.free() == 0) {
                int b = in.read();
                if (b < 0) {
                    return;
                }
                out.ensureRoom(1);
                out.array[out.length++] = (byte) b;
                continue;
            }
            int n = in.read(out.array, out.length, out.free());
            if (n < 0) {
                return;
            }
            out.length += n;
        }
    }

    /** An input stream over {@code buf[from, to)} using absolute reads (the buffer is shared). */
    static final class ByteBufferInput extends InputStream {
        private final ByteBuffer buf;
        private int pos;
        private final int end;

        ByteBufferInput(ByteBuffer buf, int from, int to) {
            this.buf = buf;
            this.pos = from;
            this.end = to;
        }

        @Override
        public int read() {
            return pos < end ? buf.get(pos++) & 0xFF : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (len == 0) {
                return 0;
            }
            int n = Math.min(len, end - pos);
            if (n <= 0) {
                return -1;
            }
            buf.get(pos, b, off, n);
            pos += n;
            return n;
        }

        @Override
        public long skip(long n) {
            long k = Math.max(0, Math.min(n, end - pos));
            pos += (int) k;
            return k;
        }

        @Override
        public int available() {
            return end - pos;
        }
    }
}
