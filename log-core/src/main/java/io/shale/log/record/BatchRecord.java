package io.shale.log.record;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A {@link Record} decoded from a batch: positions into a read-only view of the records bytes (the
 * stored batch, or its decompressed records section), so that key, value and header values are
 * slices, not copies. The record's framing was fully checked by {@link RecordIterator} before this
 * object was made, so the lazy header decoding here cannot meet malformed bytes.
 *
 * <p>Immutable apart from the lazily built header list (a benign race: every thread builds an equal
 * list). Each accessor returns a fresh buffer, so callers may move its position freely.
 */
final class BatchRecord implements Record {
    private final ByteBuffer src;
    private final long offset;
    private final long timestamp;
    private final int sequence;
    private final int keyPos;
    private final int keyLen;
    private final int valuePos;
    private final int valueLen;
    private final int headersPos;
    private final int headersEnd;
    private final int headerCount;
    private List<Header> headers;

    BatchRecord(ByteBuffer src, long offset, long timestamp, int sequence, int keyPos, int keyLen,
                int valuePos, int valueLen, int headersPos, int headersEnd, int headerCount) {
        this.src = src;
        this.offset = offset;
        this.timestamp = timestamp;
        this.sequence = sequence;
        this.keyPos = keyPos;
        this.keyLen = keyLen;
        this.valuePos = valuePos;
        this.valueLen = valueLen;
        this.headersPos = headersPos;
        this.headersEnd = headersEnd;
        this.headerCount = headerCount;
    }

    @Override
    public long offset() {
        return offset;
    }

    @Override
    public long timestamp() {
        return timestamp;
    }

    @Override
    public ByteBuffer key() {
        return keyLen < 0 ? null : src.slice(keyPos, keyLen);
    }

    @Override
    public ByteBuffer value() {
        return valueLen < 0 ? null : src.slice(valuePos, valueLen);
    }

    @Override
    public List<Header> headers() {
        List<Header> h = headers;
        if (h == null) {
            h = decodeHeaders();
            headers = h;
        }
        return h;
    }

    private List<Header> decodeHeaders() {
        if (headerCount == 0) {
            return List.of();
        }
        RecordCursor c = new RecordCursor(src, headersPos, headersEnd, offset);
        List<Header> list = new ArrayList<>(headerCount);
        for (int i = 0; i < headerCount; i++) {
            int klen = c.readVarint("header key length");
            byte[] k = new byte[klen];
            src.get(c.pos, k);
            c.skip(klen);
            int vlen = c.readVarint("header value length");
            ByteBuffer v = null;
            if (vlen >= 0) {
                v = src.slice(c.pos, vlen);
                c.skip(vlen);
            }
            list.add(new Header(new String(k, StandardCharsets.UTF_8), v));
        }
        return Collections.unmodifiableList(list);
    }

    @Override
    public int sequence() {
        return sequence;
    }

    @Override
    public String toString() {
        return "Record(offset=" + offset + ", timestamp=" + timestamp + ", key=" + lengthText(keyLen)
                + ", value=" + lengthText(valueLen) + ", headers=" + headerCount + ", sequence=" + sequence + ")";
    }

    private static String lengthText(int len) {
        return len < 0 ? "null" : len + " bytes";
    }
}
