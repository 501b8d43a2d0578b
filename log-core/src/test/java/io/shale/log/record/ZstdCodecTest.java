package io.shale.log.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.record.GrowableBytes.LimitExceededException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Function;

import com.github.luben.zstd.ZstdOutputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The zstd decoder on its own: sources of every buffer kind holding the frame somewhere in the
 * middle (it must read exactly {@code [from, to)}), input and output larger than the decoder's
 * chunks, the output cap at its exact boundary, and reuse of pooled decoders after errors.
 */
class ZstdCodecTest {
    private static final ZstdCodec CODEC = (ZstdCodec) Codecs.get(CompressionType.ZSTD);

    enum Source {
        HEAP(b -> b),
        READ_ONLY_HEAP(ByteBuffer::asReadOnlyBuffer),
        DIRECT(ZstdCodecTest::direct),
        READ_ONLY_DIRECT(b -> direct(b).asReadOnlyBuffer());

        final Function<ByteBuffer, ByteBuffer> make;

        Source(Function<ByteBuffer, ByteBuffer> make) {
            this.make = make;
        }
    }

    private static ByteBuffer direct(ByteBuffer heap) {
        ByteBuffer d = ByteBuffer.allocateDirect(heap.remaining());
        d.put(heap.duplicate()).flip();
        return d;
    }

    /** {@code frame} between 7 bytes of 0x5A before and 5 after, in a buffer of the given kind. */
    private static ByteBuffer embedded(Source source, byte[] frame) {
        byte[] all = new byte[7 + frame.length + 5];
        Arrays.fill(all, (byte) 0x5A);
        System.arraycopy(frame, 0, all, 7, frame.length);
        return source.make.apply(ByteBuffer.wrap(all));
    }

    private static byte[] decode(Source source, byte[] frame, int cap) throws IOException, LimitExceededException {
        ByteBuffer src = embedded(source, frame);
        GrowableBytes out = new GrowableBytes(16, cap);
        CODEC.decompress(src, 7, 7 + frame.length, out);
        assertThat(src.position()).as("the source's position is not used").isZero();
        return Arrays.copyOf(out.array, out.length);
    }

    private static byte[] compressed(byte[] raw) throws IOException {
        GrowableBytes out = new GrowableBytes(64, Integer.MAX_VALUE);
        CODEC.compress(raw, raw.length, out);
        return Arrays.copyOf(out.array, out.length);
    }

    /** A frame as Kafka's streaming writer makes it: no content size in the header. */
    private static byte[] streamed(byte[] raw) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZstdOutputStream z = new ZstdOutputStream(bytes, 3)) {
            z.write(raw);
        }
        return bytes.toByteArray();
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @ParameterizedTest
    @EnumSource(Source.class)
    void inputAndOutputLargerThanTheChunksShouldDecodeFromEveryKindOfBuffer(Source source) throws Exception {
        // incompressible: the frame spans several input chunks, the output several output chunks
        byte[] raw = random(5 * ZstdCodec.IN_CHUNK + 123, 1);
        for (byte[] frame : new byte[][] {compressed(raw), streamed(raw)}) {
            assertThat(frame.length).isGreaterThan(3 * ZstdCodec.IN_CHUNK);
            assertThat(decode(source, frame, Integer.MAX_VALUE)).isEqualTo(raw);
        }
        // compressible: small input, many output chunks
        byte[] zeros = new byte[7 * ZstdCodec.OUT_CHUNK + 5];
        assertThat(decode(source, streamed(zeros), Integer.MAX_VALUE)).isEqualTo(zeros);
    }

    @ParameterizedTest
    @EnumSource(Source.class)
    void outputOfExactlyTheCapShouldBeAcceptedAndOneByteMoreRejected(Source source) throws Exception {
        int cap = 2 * ZstdCodec.OUT_CHUNK + 777;
        byte[] exact = random(cap, 2);
        assertThat(decode(source, streamed(exact), cap)).isEqualTo(exact);
        byte[] over = random(cap + 1, 3);
        assertThatThrownBy(() -> decode(source, streamed(over), cap)).isInstanceOf(LimitExceededException.class);
        // a cap at a chunk boundary
        byte[] chunk = new byte[ZstdCodec.OUT_CHUNK];
        assertThat(decode(source, streamed(chunk), ZstdCodec.OUT_CHUNK)).isEqualTo(chunk);
        assertThatThrownBy(() -> decode(source, streamed(new byte[ZstdCodec.OUT_CHUNK + 1]), ZstdCodec.OUT_CHUNK))
                .isInstanceOf(LimitExceededException.class);
    }

    @ParameterizedTest
    @EnumSource(Source.class)
    void concatenatedAndEmptyFramesShouldDecode(Source source) throws Exception {
        byte[] a = random(1000, 4);
        byte[] b = new byte[300_000];
        byte[] frames = RawBatches.concat(compressed(a), streamed(new byte[0]), streamed(b), compressed(new byte[0]));
        byte[] expected = RawBatches.concat(a, b);
        assertThat(decode(source, frames, Integer.MAX_VALUE)).isEqualTo(expected);
        assertThat(decode(source, compressed(new byte[0]), Integer.MAX_VALUE)).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Source.class)
    void truncatedFramesAndTrailingGarbageShouldFailAndLeaveThePooledDecodersUsable(Source source) throws Exception {
        byte[] raw = random(3 * ZstdCodec.IN_CHUNK, 5);
        byte[] frame = streamed(raw);
        for (int cut : new int[] {1, 9, ZstdCodec.IN_CHUNK, frame.length / 2, frame.length - 1}) {
            byte[] truncated = Arrays.copyOf(frame, cut);
            assertThatThrownBy(() -> decode(source, truncated, Integer.MAX_VALUE)).as("cut at %d", cut)
                    .isInstanceOfAny(IOException.class, RuntimeException.class);
        }
        byte[] trailing = RawBatches.concat(frame, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        assertThatThrownBy(() -> decode(source, trailing, Integer.MAX_VALUE))
                .isInstanceOfAny(IOException.class, RuntimeException.class);
        assertThatThrownBy(() -> decode(source, new byte[0], Integer.MAX_VALUE)).isInstanceOf(IOException.class)
                .hasMessageContaining("empty");
        // the pooled decoder (one thread: the same one each time) went through those errors
        assertThat(decode(source, frame, Integer.MAX_VALUE)).isEqualTo(raw);
        assertThat(decode(source, frame, Integer.MAX_VALUE)).isEqualTo(raw);
    }
}
