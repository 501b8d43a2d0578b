package io.shale.log.record;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Seeded mutation fuzzing of every decoder entry point: valid batches of each codec are damaged
 * (bit flips, byte overwrites, truncation, lying length and count fields, inserted and deleted
 * bytes, random bytes behind a plausible header), with the CRC left stale or recomputed so the
 * decoder really parses the damage. Each case must either succeed or fail with
 * {@code ShaleException(CORRUPT_RECORD)}: no other exception, no hang (the timeout is only a
 * guard), and no allocation beyond the decompression cap (measured per case on this thread).
 */
class RecordBatchFuzzTest {

    private static final int BASES_PER_CODEC = 6;
    private static final int MUTATIONS_PER_BASE = 400;
    /** Cumulative allocation one case may cause: a full-size output buffer plus its doublings. */
    private static final long MAX_BYTES_PER_CASE = 3L * Codecs.MAX_DECOMPRESSED_BYTES;

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void mutatedBatchesShouldDecodeOrFailAsCorruptOnly(CompressionType type) {
        Random rnd = new Random(0xF022 + type.id);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        int ok = 0;
        int corrupt = 0;
        long worstAllocation = 0;
        for (int base = 0; base < BASES_PER_CODEC; base++) {
            byte[] valid = Samples.toArray(Samples.build(type, smallRecords(rnd)));
            for (int m = 0; m < MUTATIONS_PER_BASE; m++) {
                long caseSeed = rnd.nextLong();
                Mutation mutation = mutate(valid, new Random(caseSeed));
                long before = mx.getThreadAllocatedBytes(tid);
                try {
                    exercise(asInput(mutation.bytes, m));
                    ok++;
                } catch (ShaleException e) {
                    assertThat(e.kind()).as("%s, case seed %d: %s", mutation.what, caseSeed, e.getMessage())
                            .isEqualTo(ErrorKind.CORRUPT_RECORD);
                    assertThat(e.getMessage()).isNotBlank();
                    corrupt++;
                } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
                    throw new AssertionError(type + " " + mutation.what + ", case seed " + caseSeed + " threw " + e, e);
                }
                long allocated = mx.getThreadAllocatedBytes(tid) - before;
                worstAllocation = Math.max(worstAllocation, allocated);
                assertThat(allocated).as("%s, case seed %d allocated", mutation.what, caseSeed)
                        .isLessThan(MAX_BYTES_PER_CASE);
            }
        }
        assertThat(ok + corrupt).isEqualTo(BASES_PER_CODEC * MUTATIONS_PER_BASE);
        // the mutations must reach the decoder, not only the header checks
        assertThat(corrupt).as("cases failing as corrupt").isGreaterThan(MUTATIONS_PER_BASE);
        System.out.printf("%s: %d decoded, %d corrupt, worst allocation per case %d bytes%n",
                type, ok, corrupt, worstAllocation);
    }

    /** Heap, direct and read-only heap inputs take different paths through CRC and codecs. */
    private static ByteBuffer asInput(byte[] bytes, int caseIndex) {
        switch (caseIndex % 4) {
            case 1:
                return ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
            case 2:
                return ByteBuffer.wrap(bytes).asReadOnlyBuffer();
            default:
                return ByteBuffer.wrap(bytes);
        }
    }

    /** Every read path a consumer or the engine may take. */
    private static void exercise(ByteBuffer bytes) {
        RecordBatches.iterate(bytes).forEachRemaining(b -> {
        });
        RecordBatch b = RecordBatch.wrap(bytes);
        b.isValid();
        try {
            b.ensureValid();
        } catch (ShaleException e) {
            assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT_RECORD);
        }
        b.toString();
        b.timestampType();
        b.lastOffset();
        long sum = 0;
        for (Record r : b) {
            sum += r.offset() + r.timestamp() + r.sequence();
            sum += touch(r.key()) + touch(r.value());
            for (Header h : r.headers()) {
                sum += h.key().length() + touch(h.value());
            }
        }
        RecordBatches.split(b.buffer());
        if (sum == 42) {
            System.out.print("");
        }
    }

    private static long touch(ByteBuffer b) {
        if (b == null) {
            return 0;
        }
        long s = 0;
        for (int i = b.position(); i < b.limit(); i++) {
            s += b.get(i);
        }
        return s;
    }

    private static List<SimpleRecord> smallRecords(Random rnd) {
        List<SimpleRecord> out = new ArrayList<>();
        for (SimpleRecord r : Samples.randomRecords(rnd, 1 + rnd.nextInt(12))) {
            // keep batches small so that thousands of cases run quickly
            if (r.value() != null && r.value().remaining() > 600) {
                r = new SimpleRecord(r.timestamp(), r.key(), ByteBuffer.wrap(Samples.bytes(rnd, 600)), r.headers());
            }
            out.add(r);
        }
        return out;
    }

    private record Mutation(String what, byte[] bytes) {
    }

    private static Mutation mutate(byte[] valid, Random rnd) {
        byte[] b = valid.clone();
        String what;
        switch (rnd.nextInt(10)) {
            case 0: {
                int flips = 1 + rnd.nextInt(8);
                for (int i = 0; i < flips; i++) {
                    int bit = rnd.nextInt(b.length * 8);
                    b[bit / 8] ^= (byte) (1 << (bit % 8));
                }
                what = flips + " bit flips";
                break;
            }
            case 1: {
                int n = 1 + rnd.nextInt(4);
                for (int i = 0; i < n; i++) {
                    b[61 + rnd.nextInt(b.length - 61)] = (byte) rnd.nextInt(256);
                }
                what = n + " random bytes in the records section";
                break;
            }
            case 2: {
                int len = rnd.nextInt(b.length);
                b = java.util.Arrays.copyOf(b, len);
                what = "truncated to " + len;
                break;
            }
            case 3: {
                int len = b.length - 12 + rnd.nextInt(b.length) - rnd.nextInt(b.length);
                if (rnd.nextInt(4) == 0) {
                    len = rnd.nextInt();
                }
                ByteBuffer.wrap(b).putInt(8, len);
                what = "length field " + len;
                break;
            }
            case 4: {
                int count = rnd.nextInt(3) == 0 ? rnd.nextInt() : ByteBuffer.wrap(b).getInt(57) + rnd.nextInt(5) - 2;
                ByteBuffer.wrap(b).putInt(57, count);
                what = "recordsCount " + count;
                break;
            }
            case 5: {
                // drop or duplicate a run of bytes inside the records section, keeping the length field consistent
                int at = 61 + rnd.nextInt(b.length - 61);
                int n = 1 + rnd.nextInt(Math.min(16, b.length - at));
                byte[] out;
                if (rnd.nextBoolean()) {
                    out = new byte[b.length - n];
                    System.arraycopy(b, 0, out, 0, at);
                    System.arraycopy(b, at + n, out, at, b.length - at - n);
                    what = "deleted " + n + " bytes at " + at;
                } else {
                    out = new byte[b.length + n];
                    System.arraycopy(b, 0, out, 0, at + n);
                    System.arraycopy(b, at, out, at + n, b.length - at);
                    what = "duplicated " + n + " bytes at " + at;
                }
                b = out;
                ByteBuffer.wrap(b).putInt(8, b.length - 12);
                break;
            }
            case 6: {
                // random records section behind a plausible header
                int n = rnd.nextInt(300);
                byte[] out = java.util.Arrays.copyOf(b, 61 + n);
                for (int i = 61; i < out.length; i++) {
                    out[i] = (byte) rnd.nextInt(256);
                }
                ByteBuffer.wrap(out).putInt(8, out.length - 12).putInt(57, rnd.nextInt(40));
                b = out;
                what = "random records section of " + n + " bytes";
                break;
            }
            case 7: {
                // damage the start of the records section: compression framing or first record's length
                int at = 61 + rnd.nextInt(Math.min(24, b.length - 61));
                b[at] = (byte) rnd.nextInt(256);
                what = "byte " + at + " set at the start of the records section";
                break;
            }
            case 8: {
                int attrs = rnd.nextInt(0x80);
                ByteBuffer.wrap(b).putShort(21, (short) attrs);
                what = "attributes 0x" + Integer.toHexString(attrs);
                break;
            }
            default: {
                int n = 1 + rnd.nextInt(3);
                for (int i = 0; i < n; i++) {
                    int at = 61 + rnd.nextInt(b.length - 61);
                    b[at] = (byte) (rnd.nextBoolean() ? 0xFF : 0x80);
                }
                what = n + " varint-continuation bytes";
                break;
            }
        }
        if (b.length >= 61 && rnd.nextBoolean()) {
            int size = b.length;
            int len = ByteBuffer.wrap(b).getInt(8);
            if (len >= 49 && 12L + len <= size) {
                java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
                crc.update(b, 21, 12 + len - 21);
                ByteBuffer.wrap(b).putInt(17, (int) crc.getValue());
                what += " (CRC recomputed)";
            }
        }
        return new Mutation(what, b);
    }
}
