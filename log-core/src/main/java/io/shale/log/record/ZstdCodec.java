package io.shale.log.record;

import io.shale.log.record.GrowableBytes.LimitExceededException;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdDecompressCtx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Zstandard frames with zstd-jni, as Kafka uses them. Only loaded when
 * {@code com.github.luben:zstd-jni} is on the classpath (see {@link Codecs}).
 *
 * <p>zstd-jni versions: the zstd-jni on a user's classpath is usually the one kafka-clients brings,
 * not the one Shale is built with (kafka-clients 3.0.0 brings 1.5.0-2, 3.2.0 and 3.4.0 1.5.2-1,
 * 3.5.0 and 3.6.0 1.5.5-1, 3.7.0 1.5.5-6, 3.8.0 to 4.0.0 1.5.6-3 to 1.5.6-6, 4.1.0 to 4.3.0
 * 1.5.6-10, 4.4.0 1.5.7-17). So this class only calls what every version from
 * {@link #OLDEST_SUPPORTED} on has: {@code Zstd.compressBound}, {@code Zstd.compressByteArray}
 * (byte arrays, level), {@code Zstd.isError}, {@code Zstd.getErrorName}, and on
 * {@code ZstdDecompressCtx} the constructor, {@code reset()}, {@code close()} and
 * {@code decompressDirectByteBufferStream} (the heap-buffer {@code decompressByteBufferStream}
 * is missing from 1.5.7-17 and older; 1.5.7-25 has it). Older versions lack {@code reset()} and the streaming call: the
 * constructor runs a small round trip through every call used, so such a version is found once,
 * when the codec is loaded, and zstd is reported unavailable with a message naming the version
 * found and the one needed.
 *
 * <p>Writing: one frame at Kafka's default level 3, compressed in one call (so the frame carries
 * its content size; Kafka's streaming writer omits it, and both read the same).
 *
 * <p>Reading: the streaming decoder of a pooled {@link ZstdDecompressCtx} (creating a context costs
 * some 50 times the decoding of a small batch), so frames without a content size and concatenated
 * frames are accepted, as Kafka's reader accepts them. The streaming call needs direct buffers on
 * both sides: a direct source is read in place, a heap one is staged through a pooled direct
 * buffer {@link #IN_CHUNK} bytes at a time, and output goes through a pooled direct buffer of
 * {@link #OUT_CHUNK} bytes into the caller's array, which grows only as bytes are produced and is
 * bounded by the caller's cap (so a bomb decodes at most one chunk past it). The two buffers add
 * 192 KiB of direct memory to each pooled context. A frame still unfinished when the input ends
 * is corrupt.
 */
final class ZstdCodec extends Codec {
    static final int LEVEL = 3;
    /** The oldest zstd-jni with everything this class calls (the one kafka-clients 3.5 and 3.6 bring). */
    static final String OLDEST_SUPPORTED = "1.5.5-1";
    static final int IN_CHUNK = 64 * 1024;
    /** zstd's largest block: the decoder can then write whole blocks straight into the output. */
    static final int OUT_CHUNK = 128 * 1024;

    private static final SmallPool<Decoder> DECODERS =
            new SmallPool<>(SmallPool.defaultSlots(), Decoder::new, Decoder::close);

    /** A decompression context and the direct buffers its streaming call needs. One thread at a time. */
    private static final class Decoder {
        final ZstdDecompressCtx ctx = new ZstdDecompressCtx();
        final ByteBuffer staged = ByteBuffer.allocateDirect(IN_CHUNK);
        final ByteBuffer produced = ByteBuffer.allocateDirect(OUT_CHUNK);

        void close() {
            ctx.close();
        }
    }

    ZstdCodec() {
        super(CompressionType.ZSTD, "com.github.luben:zstd-jni " + Codecs.libraryVersion(Zstd.class, "zstd-jni"));
        // Loads the native library now, so that a platform without it reports the codec unavailable
        // (as a missing library, by Codecs).
        Zstd.compressBound(1);
        try {
            selfTest();
        } catch (LinkageError | IOException | LimitExceededException | RuntimeException e) {
            throw new Codecs.IncompatibleLibraryException(library + " is on the classpath but does not work with"
                    + " Shale's zstd codec, which needs zstd-jni " + OLDEST_SUPPORTED + " or later (" + e + ")", e);
        }
    }

    /** Compresses and decompresses a few bytes through every zstd-jni call this class makes. */
    private void selfTest() throws IOException, LimitExceededException {
        byte[] sample = new byte[1000];
        for (int i = 0; i < sample.length; i++) {
            sample[i] = (byte) (i % 7 == 0 ? i : 'a' + i % 3);
        }
        GrowableBytes compressed = new GrowableBytes(64, Integer.MAX_VALUE);
        compress(sample, sample.length, compressed);
        GrowableBytes decompressed = new GrowableBytes(64, sample.length);
        decompress(ByteBuffer.wrap(compressed.array, 0, compressed.length), 0, compressed.length, decompressed);
        if (!Arrays.equals(decompressed.array, 0, decompressed.length, sample, 0, sample.length)) {
            throw new IOException("a round trip through zstd-jni returned other bytes");
        }
        new ZstdDecompressCtx().close();
    }

    @Override
    void decompress(ByteBuffer src, int from, int to, GrowableBytes out) throws IOException, LimitExceededException {
        if (from >= to) {
            throw new IOException("empty zstd stream");
        }
        Decoder d = DECODERS.borrow();
        try {
            d.ctx.reset();
            decode(d, src, from, to, out);
        } finally {
            release(d);
        }
    }

    private static void release(Decoder d) {
        try {
            // reset() also clears the state an error leaves behind, so the context is reusable either way
            d.ctx.reset();
        } catch (RuntimeException | LinkageError e) {
            // not reusable; whatever failed in decompress is the error to report
            d.close();
            return;
        }
        DECODERS.release(d);
    }

    private static void decode(Decoder d, ByteBuffer src, int from, int to, GrowableBytes out)
            throws IOException, LimitExceededException {
        ByteBuffer in;
        int unstaged; // start of the source bytes not yet handed to the decoder
        if (src.isDirect()) {
            in = src.duplicate().limit(to).position(from);
            unstaged = to;
        } else {
            in = d.staged.clear().limit(0);
            unstaged = from;
        }
        ByteBuffer dst = d.produced;
        while (true) {
            if (!in.hasRemaining() && unstaged < to) {
                int n = Math.min(IN_CHUNK, to - unstaged);
                in.clear();
                in.put(0, src, unstaged, n).limit(n);
                unstaged += n;
            }
            int inBefore = in.position();
            dst.clear();
            boolean frameDone = d.ctx.decompressDirectByteBufferStream(dst, in);
            int produced = dst.position();
            if (produced > 0) {
                out.ensureRoom(produced); // fails past the cap: at most one chunk beyond it is ever decoded
                dst.get(0, out.array, out.length, produced);
                out.length += produced;
            }
            boolean inputLeft = in.hasRemaining() || unstaged < to;
            if (frameDone && !inputLeft) {
                return;
            }
            if (!frameDone && !inputLeft && produced < OUT_CHUNK) {
                // with room left in the output, the decoder stopped only because it needs more input
                throw new IOException("zstd frame truncated: input ended inside a frame");
            }
            if (produced == 0 && in.position() == inBefore) {
                throw new IOException("zstd decoder made no progress");
            }
            // otherwise: more of this frame, or a concatenated frame follows
        }
    }

    @Override
    long maxCompressedLength(int n) {
        return Zstd.compressBound(n);
    }

    @Override
    void compress(byte[] src, int length, GrowableBytes out) throws IOException {
        long bound = Zstd.compressBound(length);
        out.ensureRoomUnchecked((int) Math.min(bound, Integer.MAX_VALUE - 16));
        long n = Zstd.compressByteArray(out.array, out.length, out.free(), src, 0, length, LEVEL);
        if (Zstd.isError(n)) {
            throw new IOException("zstd compression failed: " + Zstd.getErrorName(n));
        }
        out.length += (int) n;
    }
}
