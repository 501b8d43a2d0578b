package io.shale.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The frame decoder alone: an oversized frame goes on as its first bytes and is skipped as it streams, never held. */
class KafkaFrameDecoderTest {
    private static final int MAX = 1 << 20;

    private static ByteBuf frame(int size, byte fill) {
        ByteBuf b = Unpooled.buffer(4 + size);
        b.writeInt(size);
        for (int i = 0; i < size; i++) {
            b.writeByte(fill);
        }
        return b;
    }

    @Test
    void anOversizedFrameIsSkippedAsItArrivesAndTheNextFrameIsReadAsUsual() {
        KafkaFrameDecoder decoder = new KafkaFrameDecoder(MAX);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        int size = 64 << 20; // 64 MiB declared, 64 times the limit
        ByteBuf head = Unpooled.buffer(4);
        head.writeInt(size);
        ch.writeInbound(head);
        Random random = new Random(1);
        byte[] chunk = new byte[256 * 1024];
        int sent = 0;
        int maxHeld = 0;
        while (sent < size) {
            random.nextBytes(chunk);
            int n = Math.min(chunk.length, size - sent);
            ch.writeInbound(Unpooled.wrappedBuffer(chunk, 0, n));
            sent += n;
            maxHeld = Math.max(maxHeld, decoder.bufferedBytes());
            if (sent < size) {
                assertThat((Object) ch.readInbound()).as("nothing goes on before the whole frame arrived").isNull();
            }
        }
        assertThat(maxHeld).as("bytes held while the frame streams").isLessThanOrEqualTo(4 + KafkaFrameDecoder.PEEK_BYTES + chunk.length);
        Object first = ch.readInbound();
        assertThat(first).isInstanceOf(KafkaFrameDecoder.Oversized.class);
        KafkaFrameDecoder.Oversized o = (KafkaFrameDecoder.Oversized) first;
        assertThat(o.size).isEqualTo(size);
        assertThat(o.prefix.readableBytes()).isEqualTo(KafkaFrameDecoder.PEEK_BYTES);
        o.prefix.release();
        assertThat((Object) ch.readInbound()).as("nothing more of the oversized frame").isNull();

        // the frames after it are read as usual, and the connection stays open
        ch.writeInbound(frame(20, (byte) 7));
        ByteBuf next = ch.readInbound();
        assertThat(next.readableBytes()).isEqualTo(20);
        assertThat(next.getByte(0)).isEqualTo((byte) 7);
        next.release();
        assertThat(ch.isOpen()).isTrue();
        assertThat(decoder.bufferedBytes()).isZero();
        ch.finishAndReleaseAll();
    }

    @Test
    void framesTooShortForAHeaderOrOfNegativeSizeCloseTheConnection() {
        for (int size : new int[] {-16, 0, 7}) {
            EmbeddedChannel ch = new EmbeddedChannel(new KafkaFrameDecoder(MAX));
            ByteBuf b = Unpooled.buffer(12);
            b.writeInt(size).writeLong(0);
            ch.writeInbound(b);
            assertThat(ch.isOpen()).as("size %s", size).isFalse();
            assertThat((Object) ch.readInbound()).isNull();
            ch.finishAndReleaseAll();
        }
        EmbeddedChannel ok = new EmbeddedChannel(new KafkaFrameDecoder(MAX));
        ok.writeInbound(frame(8, (byte) 1));
        ByteBuf f = ok.readInbound();
        assertThat(f.readableBytes()).isEqualTo(8);
        f.release();
        assertThat(ok.isOpen()).isTrue();
        ok.finishAndReleaseAll();
    }
}
