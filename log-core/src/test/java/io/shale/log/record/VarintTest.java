package io.shale.log.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;

import org.apache.kafka.common.utils.internals.ByteUtils;
import org.junit.jupiter.api.Test;

class VarintTest {

    private static final int[] INT_BOUNDARIES = {
        0, 1, -1, 63, -64, 64, -65, 8191, -8192, 8192, -8193, 1048575, -1048576, 1048576, -1048577,
        134217727, -134217728, 134217728, -134217729, Integer.MAX_VALUE, Integer.MIN_VALUE
    };

    private static final long[] LONG_BOUNDARIES = {
        0, 1, -1, 63, -64, 64, -65, (1L << 48) - 1, -(1L << 48), 1L << 55, -(1L << 55) - 1,
        (1L << 62) - 1, -(1L << 62), 1L << 62, Long.MAX_VALUE, Long.MIN_VALUE, Integer.MAX_VALUE + 1L
    };

    @Test
    void varintsShouldEncodeExactlyAsKafkaAtEveryLengthBoundary() {
        for (int v : INT_BOUNDARIES) {
            assertSameVarintAsKafka(v);
        }
    }

    @Test
    void varlongsShouldEncodeExactlyAsKafkaAtEveryLengthBoundary() {
        for (long v : LONG_BOUNDARIES) {
            assertSameVarlongAsKafka(v);
        }
    }

    @Test
    void randomVarintsAndVarlongsShouldMatchKafka() {
        Random rnd = new Random(7);
        for (int i = 0; i < 20_000; i++) {
            assertSameVarintAsKafka(rnd.nextInt() >> rnd.nextInt(32));
            assertSameVarlongAsKafka(rnd.nextLong() >> rnd.nextInt(64));
        }
    }

    @Test
    void sizesShouldGrowByOneByteEverySevenBitsOfZigZag() {
        assertThat(Varint.sizeOfVarint(0)).isEqualTo(1);
        assertThat(Varint.sizeOfVarint(-64)).isEqualTo(1);
        assertThat(Varint.sizeOfVarint(64)).isEqualTo(2);
        assertThat(Varint.sizeOfVarint(Integer.MIN_VALUE)).isEqualTo(5);
        assertThat(Varint.sizeOfVarlong(Long.MIN_VALUE)).isEqualTo(10);
        assertThat(Varint.sizeOfVarlong(-1)).isEqualTo(1);
    }

    @Test
    void readingAVarintOfSixBytesShouldFailAsCorrupt() {
        byte[] b = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01};
        RecordCursor c = new RecordCursor(ByteBuffer.wrap(b), 0, b.length, 42);
        assertThatThrownBy(() -> c.readVarint("offset delta"))
                .isInstanceOfSatisfying(ShaleException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT_RECORD))
                .hasMessageContaining("offset delta").hasMessageContaining("base offset 42");
    }

    @Test
    void readingAVarlongOfElevenBytesShouldFailAsCorrupt() {
        byte[] b = new byte[11];
        Arrays.fill(b, (byte) 0xFF);
        RecordCursor c = new RecordCursor(ByteBuffer.wrap(b), 0, b.length, 0);
        assertThatThrownBy(() -> c.readVarlong("timestamp delta"))
                .isInstanceOfSatisfying(ShaleException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT_RECORD));
    }

    @Test
    void readingATruncatedVarintShouldFailAsCorruptNotUnderflow() {
        byte[] b = {(byte) 0x80, (byte) 0x80};
        RecordCursor c = new RecordCursor(ByteBuffer.wrap(b), 0, b.length, 0);
        assertThatThrownBy(() -> c.readVarint("key length"))
                .isInstanceOfSatisfying(ShaleException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT_RECORD))
                .hasMessageContaining("runs past the end");
    }

    @Test
    void cursorShouldStopAtItsLimitEvenIfTheBufferContinues() {
        byte[] b = {(byte) 0x80, 0x01, 0x02};
        RecordCursor c = new RecordCursor(ByteBuffer.wrap(b), 0, 1, 0);
        assertThatThrownBy(() -> c.readVarint("value length")).isInstanceOf(ShaleException.class);
    }

    @Test
    void fiveByteVarintWithHighGarbageBitsShouldDecodeAsKafkaDoes() {
        // Kafka drops bits beyond 32 in the fifth byte; so do we
        byte[] b = {(byte) 0xFE, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x7F};
        int kafka = ByteUtils.readVarint(ByteBuffer.wrap(b));
        assertThat(new RecordCursor(ByteBuffer.wrap(b), 0, b.length, 0).readVarint("x")).isEqualTo(kafka);
    }

    private static void assertSameVarintAsKafka(int v) {
        ByteBuffer k = ByteBuffer.allocate(10);
        ByteUtils.writeVarint(v, k);
        byte[] ours = new byte[10];
        int len = Varint.writeVarint(ours, 0, v);
        assertThat(Arrays.copyOf(ours, len)).as("varint %d", v).isEqualTo(Arrays.copyOf(k.array(), k.position()));
        assertThat(Varint.sizeOfVarint(v)).as("size of %d", v).isEqualTo(ByteUtils.sizeOfVarint(v)).isEqualTo(len);
        assertThat(new RecordCursor(ByteBuffer.wrap(ours), 0, len, 0).readVarint("v")).isEqualTo(v);
    }

    private static void assertSameVarlongAsKafka(long v) {
        ByteBuffer k = ByteBuffer.allocate(12);
        ByteUtils.writeVarlong(v, k);
        byte[] ours = new byte[12];
        int len = Varint.writeVarlong(ours, 0, v);
        assertThat(Arrays.copyOf(ours, len)).as("varlong %d", v).isEqualTo(Arrays.copyOf(k.array(), k.position()));
        assertThat(Varint.sizeOfVarlong(v)).as("size of %d", v).isEqualTo(ByteUtils.sizeOfVarlong(v)).isEqualTo(len);
        assertThat(new RecordCursor(ByteBuffer.wrap(ours), 0, len, 0).readVarlong("v")).isEqualTo(v);
    }
}
