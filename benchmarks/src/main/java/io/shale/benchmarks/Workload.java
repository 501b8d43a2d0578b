package io.shale.benchmarks;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * Workload constants shared by every benchmark, so that Shale, its peers and the limits move the
 * same bytes in the same units.
 *
 * <p>Units: a "record" carries {@link #RECORD_BYTES} bytes of value (no key, no headers) unless a
 * benchmark's {@code recordBytes} parameter says otherwise; "payload bytes" are record values
 * only (batch headers and framing are overhead, not payload); MB = 10^6 payload bytes.
 */
public final class Workload {
    /** Default value size of one record: 1 KiB. */
    public static final int RECORD_BYTES = 1024;
    /** Default records per appended batch (a 16 KiB batch, the size Kafka peers append). */
    public static final int RECORDS_PER_BATCH = 16;
    /** How much a reader asks for per read: 1 MiB, like a Kafka fetch of one partition. */
    public static final int READ_CHUNK_BYTES = 1 << 20;
    /** How much data the read benchmarks prefill and then read in a loop: 128 MiB. */
    public static final long READ_SET_BYTES = 128L << 20;

    private Workload() {
    }

    /** Bytes that do not compress or repeat, from a fixed seed so every run writes the same data. */
    public static byte[] randomBytes(int size, long seed) {
        byte[] b = new byte[size];
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < size; i += 8) {
            long v = random.nextLong();
            for (int j = 0; j < 8 && i + j < size; j++) {
                b[i + j] = (byte) (v >>> (8 * j));
            }
        }
        return b;
    }

    /** A direct buffer of {@code size} random bytes, position 0, limit {@code size}. */
    public static ByteBuffer randomDirect(int size, long seed) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(size);
        int chunk = 1 << 20;
        for (int done = 0; done < size; done += chunk) {
            buffer.put(randomBytes(Math.min(chunk, size - done), seed + done));
        }
        return buffer.flip();
    }
}
