package io.shale.log.record;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Seeded random record sets and small helpers shared by the record tests. */
final class Samples {
    private Samples() {
    }

    static final String[] HEADER_KEYS = {"trace-id", "", "ключ", "emoji-\uD83D\uDE00", "content-type", "x"};

    /**
     * {@code n} records: keys null about 1 in 5, values null about 1 in 10, sizes mostly small with
     * an occasional large (up to 80 KiB, so multi-block lz4/snappy frames occur), compressible or not,
     * 0-3 headers with null values now and then, timestamps wandering up and down from a base.
     */
    static List<SimpleRecord> randomRecords(Random rnd, int n) {
        List<SimpleRecord> out = new ArrayList<>(n);
        long ts = 1_700_000_000_000L + rnd.nextInt(1_000_000);
        for (int i = 0; i < n; i++) {
            ts = Math.max(0, ts + rnd.nextInt(2001) - 500);
            byte[] key = rnd.nextInt(5) == 0 ? null : bytes(rnd, rnd.nextInt(40));
            int valueSize = rnd.nextInt(50) == 0 ? rnd.nextInt(80 * 1024) : rnd.nextInt(400);
            byte[] value = rnd.nextInt(10) == 0 ? null : bytes(rnd, valueSize);
            int hc = rnd.nextInt(4);
            Header[] headers = new Header[hc];
            for (int h = 0; h < hc; h++) {
                String k = HEADER_KEYS[rnd.nextInt(HEADER_KEYS.length)];
                headers[h] = Header.of(k, rnd.nextInt(4) == 0 ? null : bytes(rnd, rnd.nextInt(30)));
            }
            out.add(SimpleRecord.of(ts, key, value, headers));
        }
        return out;
    }

    /** Random bytes, half of the time drawn from a small alphabet so that codecs have something to find. */
    static byte[] bytes(Random rnd, int n) {
        byte[] b = new byte[n];
        if (rnd.nextBoolean()) {
            rnd.nextBytes(b);
        } else {
            for (int i = 0; i < n; i++) {
                b[i] = (byte) ('a' + rnd.nextInt(4));
            }
        }
        return b;
    }

    static byte[] toArray(ByteBuffer b) {
        if (b == null) {
            return null;
        }
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    static ByteBuffer utf8(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    static List<Record> records(RecordBatch batch) {
        List<Record> out = new ArrayList<>();
        batch.forEach(out::add);
        return out;
    }

    /** Builds one batch of {@code records} with {@code type}. */
    static ByteBuffer build(CompressionType type, List<SimpleRecord> records) {
        RecordBatchBuilder b = new RecordBatchBuilder().compression(type);
        records.forEach(b::append);
        return b.build();
    }
}
