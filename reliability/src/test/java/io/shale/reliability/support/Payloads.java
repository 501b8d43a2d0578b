package io.shale.reliability.support;

import io.shale.log.record.Record;
import io.shale.log.record.SimpleRecord;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * Deterministic record contents: a record is identified by a 64-bit id (its key, 8 bytes
 * big-endian) and its value is a function of the id alone, so a verifier that knows nothing but
 * the id can check every byte.
 *
 * <p>Ids are {@code producer << 40 | attempt}: every append attempt gets a fresh id, so a record
 * that shows up twice, or an id nobody tried, is a real finding and not a retry artefact.
 */
public final class Payloads {
    private static final long MIX = 0x9E3779B97F4A7C15L;

    private Payloads() {
    }

    public static long id(int producer, long attempt) {
        return ((long) producer << 40) | attempt;
    }

    /** The value of record {@code id}: 0 to {@code maxLen} bytes drawn from a generator seeded with the id. */
    public static byte[] value(long id, int maxLen) {
        SplittableRandom r = new SplittableRandom(id * MIX);
        byte[] out = new byte[r.nextInt(maxLen + 1)];
        r.nextBytes(out);
        return out;
    }

    public static SimpleRecord record(long id, int maxLen) {
        return new SimpleRecord(-1L, key(id), ByteBuffer.wrap(value(id, maxLen)), java.util.List.of());
    }

    public static ByteBuffer key(long id) {
        return ByteBuffer.allocate(8).putLong(0, id);
    }

    /** The id of a record, or throws if its key is not an id. */
    public static long idOf(Record r) {
        ByteBuffer k = r.key();
        if (k == null || k.remaining() != 8) {
            throw new AssertionError("record at offset " + r.offset() + " has a key that is not an id: " + k);
        }
        return k.getLong(k.position());
    }

    /** Whether the record's value is exactly the one its id determines. */
    public static boolean valueMatches(Record r, int maxLen) {
        byte[] expected = value(idOf(r), maxLen);
        ByteBuffer v = r.value();
        if (v == null) {
            return false; // ids are always written with a value, possibly empty
        }
        if (v.remaining() != expected.length) {
            return false;
        }
        for (int i = 0; i < expected.length; i++) {
            if (v.get(v.position() + i) != expected[i]) {
                return false;
            }
        }
        return true;
    }

    /** A 64-bit FNV-1a hash of a record's key and value bytes (what the crash child reports). */
    public static long hash(ByteBuffer key, ByteBuffer value) {
        long h = 0xcbf29ce484222325L;
        h = fnv(h, key);
        h = fnv(h ^ 0xff, value);
        return h;
    }

    private static long fnv(long h, ByteBuffer b) {
        if (b == null) {
            return h * 0x100000001b3L;
        }
        for (int i = b.position(); i < b.limit(); i++) {
            h ^= b.get(i) & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }
}
