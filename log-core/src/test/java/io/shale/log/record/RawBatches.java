package io.shale.log.record;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

import org.apache.kafka.common.utils.internals.ByteUtils;

/**
 * Hand-written batches for tests, encoded independently of the production encoder (Kafka's varint
 * helpers and explicit header puts), so that decoder tests can present exactly the bytes they
 * need, malformed ones included.
 */
final class RawBatches {
    private RawBatches() {
    }

    /** A batch with the given attributes, count and records section; CRC correct, base offset 100. */
    static ByteBuffer batch(int attributes, int count, byte[] records) {
        ByteBuffer b = ByteBuffer.allocate(61 + records.length);
        b.putLong(100L);                       // base offset
        b.putInt(49 + records.length);         // length
        b.putInt(7);                           // partition leader epoch
        b.put((byte) 2);                       // magic
        b.putInt(0);                           // crc, below
        b.putShort((short) attributes);
        b.putInt(Math.max(0, count - 1));      // last offset delta
        b.putLong(1000L);                      // base timestamp
        b.putLong(2000L);                      // max timestamp
        b.putLong(-1L);                        // producer id
        b.putShort((short) -1);                // producer epoch
        b.putInt(-1);                          // base sequence
        b.putInt(count);
        b.put(records);
        fixCrc(b);
        return b.flip();
    }

    static void fixCrc(ByteBuffer b) {
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 21, b.capacity() - 21);
        b.putInt(17, (int) crc.getValue());
    }

    /**
     * One record body written field by field; {@code keyLen}/{@code valueLen} are the lengths written
     * (may lie), {@code key}/{@code value} the bytes actually written.
     */
    static byte[] record(long tsDelta, int offsetDelta, int keyLen, byte[] key, int valueLen, byte[] value,
                         int headerCount, byte[] headerBytes) {
        ByteBuffer body = ByteBuffer.allocate(64 + len(key) + len(value) + len(headerBytes));
        body.put((byte) 0);
        ByteUtils.writeVarlong(tsDelta, body);
        ByteUtils.writeVarint(offsetDelta, body);
        ByteUtils.writeVarint(keyLen, body);
        if (key != null) {
            body.put(key);
        }
        ByteUtils.writeVarint(valueLen, body);
        if (value != null) {
            body.put(value);
        }
        ByteUtils.writeVarint(headerCount, body);
        if (headerBytes != null) {
            body.put(headerBytes);
        }
        body.flip();
        return withLength(body.remaining(), body);
    }

    /** Prefixes a body with a (possibly lying) length varint. */
    static byte[] withLength(int length, ByteBuffer body) {
        ByteBuffer out = ByteBuffer.allocate(5 + body.remaining());
        ByteUtils.writeVarint(length, out);
        out.put(body.duplicate());
        return java.util.Arrays.copyOf(out.array(), out.position());
    }

    static byte[] plainRecord(int offsetDelta, String key, String value) {
        byte[] k = key == null ? null : key.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] v = value == null ? null : value.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return record(offsetDelta * 10L, offsetDelta, k == null ? -1 : k.length, k, v == null ? -1 : v.length, v, 0, null);
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int pos = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, pos, p.length);
            pos += p.length;
        }
        return out;
    }

    private static int len(byte[] b) {
        return b == null ? 0 : b.length;
    }
}
