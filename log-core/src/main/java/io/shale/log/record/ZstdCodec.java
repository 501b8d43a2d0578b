package io.shale.log.record;

import io.shale.log.record.GrowableBytes.LimitExceededException;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdDecompressCtx;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Zstandard frames with zstd-jni, as Kafka uses them. Only loaded when
 * {@code com.github.luben:zstd-jni} is on the classpath (see {@link Codecs}).
 *
 * <p>Writing: one frame at Kafka's default level 3, compressed in one call (so the frame carries
 * its content size; Kafka's streaming writer omits it, and both read the same).
 *
 * <p>Reading: the streaming decoder of a pooled {@link ZstdDecompressCtx} (creating a context costs
 * some 50 times the decoding of a small batch), so frames without a content size and concatenated
 * frames are accepted, as Kafka's reader accepts them. Output grows only as bytes are produced and
 * is bounded by the caller's cap; a frame still unfinished when the input ends is corrupt.
 */
final class ZstdCodec extends Codec {
    static final int LEVEL = 3;

    private static final SmallPool<ZstdDecompressCtx> CONTEXTS =
            new SmallPool<>(SmallPool.defaultSlots(), ZstdDecompressCtx::new, ZstdDecompressCtx::close);

    ZstdCodec() {
        super(CompressionType.ZSTD);
        // Loads the native library now, so that a platform without it reports the codec unavailable.
        Zstd.compressBound(1);
    }

    @Override
    void decompress(ByteBuffer src, int from, int to, GrowableBytes out) throws IOException, LimitExceededException {
        ByteBuffer in;
        if (src.isDirect() || src.hasArray()) {
            in = src.duplicate().limit(to).position(from);
        } else {
            // a read-only heap buffer hides its array, which the JNI call needs
            byte[] copy = new byte[to - from];
            src.get(from, copy);
            in = ByteBuffer.wrap(copy);
        }
        ZstdDecompressCtx ctx = CONTEXTS.borrow();
        try {
            ctx.reset();
            decode(ctx, in, out);
        } finally {
            // reset() also clears the state an error leaves behind, so the context is reusable either way
            ctx.reset();
            CONTEXTS.release(ctx);
        }
    }

    private static void decode(ZstdDecompressCtx ctx, ByteBuffer in, GrowableBytes out)
            throws IOException, LimitExceededException {
        if (!in.hasRemaining()) {
            throw new IOException("empty zstd stream");
        }
        while (true) {
            int inBefore = in.position();
            boolean frameDone;
            if (out.free() == 0 && out.length >= out.cap()) {
                // At the cap: a one-byte probe tells "more output" from "the frame ends exactly
                // here", so a section of exactly the cap's size is still accepted.
                ByteBuffer one = ByteBuffer.allocate(1);
                frameDone = ctx.decompressByteBufferStream(one, in);
                if (one.position() > 0) {
                    throw new LimitExceededException("zstd output exceeds the limit of " + out.cap() + " bytes");
                }
                if (!frameDone && in.position() == inBefore) {
                    throw new IOException(in.hasRemaining() ? "zstd decoder made no progress"
                            : "zstd frame truncated: input ended inside a frame");
                }
            } else {
                if (out.free() == 0) {
                    out.ensureRoom(1);
                }
                ByteBuffer dst = ByteBuffer.wrap(out.array, out.length, out.free());
                frameDone = ctx.decompressByteBufferStream(dst, in);
                boolean progressed = dst.position() != out.length || in.position() != inBefore;
                out.length = dst.position();
                if (!frameDone) {
                    if (!in.hasRemaining() && dst.hasRemaining()) {
                        throw new IOException("zstd frame truncated: input ended inside a frame");
                    }
                    if (!progressed) {
                        throw new IOException("zstd decoder made no progress");
                    }
                }
            }
            if (frameDone && !in.hasRemaining()) {
                return;
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
