package io.shale.log.record;

import io.shale.log.record.GrowableBytes.LimitExceededException;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdInputStreamNoFinalizer;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Zstandard frames with zstd-jni, as Kafka uses them. Only loaded when
 * {@code com.github.luben:zstd-jni} is on the classpath (see {@link Codecs}).
 *
 * <p>Writing: one frame at Kafka's default level 3, compressed in one call (so the frame carries
 * its content size; Kafka's streaming writer omits it, and both read the same). Reading: the
 * streaming decoder, which accepts concatenated frames and frames without a content size; output
 * grows only as bytes are produced and is bounded by the caller's cap.
 */
final class ZstdCodec extends Codec {
    static final int LEVEL = 3;

    ZstdCodec() {
        super(CompressionType.ZSTD);
        // Loads the native library now, so that a platform without it reports the codec unavailable.
        Zstd.compressBound(1);
    }

    @Override
    void decompress(ByteBuffer src, int from, int to, GrowableBytes out) throws IOException, LimitExceededException {
        try (ZstdInputStreamNoFinalizer in = new ZstdInputStreamNoFinalizer(new ByteBufferInput(src, from, to))) {
            readFully(in, out);
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
