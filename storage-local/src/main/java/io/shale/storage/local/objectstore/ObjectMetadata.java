package io.shale.storage.local.objectstore;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The metadata record stored with each object: its length, write time and write token. Written
 * in one piece with the object, so {@code head} reports a size and token of the same version.
 *
 * <pre>
 * Record, version 1 (big-endian; 24 + n bytes, n = token length 0..64):
 *
 *  0         1        2          3          4                 12                20           20+n
 *  +---------+--------+----------+----------+-----------------+-----------------+------------+----------+
 *  | version | flags  | tokenLen | reserved | contentLength   | lastModified ms | token      | crc32c   |
 *  | u8 = 1  | u8     | u8 0..64 | u8 = 0   | i64 >= 0        | i64             | n ASCII    | u32      |
 *  +---------+--------+----------+----------+-----------------+-----------------+------------+----------+
 *  flags bit 0: a token is present (distinguishes a null token from an empty one); other bits 0.
 *  crc32c covers bytes [0, 20 + n).
 *
 * Stored either as the extended attribute "user.shale" of the object's file (the file holds exactly
 * the object's bytes), or, where the file system has no user extended attributes, as a trailer
 * appended to the object's bytes:
 *
 *  +----------------+-----------------------------------+-------------+
 *  | content        | record, zero-padded to 88 bytes   | magic       |
 *  | contentLength  |                                   | "SHLT" u32  |
 *  +----------------+-----------------------------------+-------------+
 *                    &lt;------------- TRAILER_BYTES = 92 ------------->
 * </pre>
 *
 * <p>Decoding trusts nothing: every field is range-checked and the CRC verified; any problem is a
 * {@link CorruptObjectException}, never another exception or a large allocation.
 */
final class ObjectMetadata {
    static final int VERSION = 1;
    static final int VERSION_OFFSET = 0;
    static final int FLAGS_OFFSET = 1;
    static final int TOKEN_LENGTH_OFFSET = 2;
    static final int RESERVED_OFFSET = 3;
    static final int CONTENT_LENGTH_OFFSET = 4;
    static final int LAST_MODIFIED_OFFSET = 12;
    static final int TOKEN_OFFSET = 20;
    static final int CRC_BYTES = 4;
    static final int MIN_RECORD_BYTES = TOKEN_OFFSET + CRC_BYTES;
    static final int MAX_RECORD_BYTES = MIN_RECORD_BYTES + ObjectKeys.MAX_TOKEN_CHARS;
    static final int FLAG_HAS_TOKEN = 1;

    static final int TRAILER_MAGIC = 0x53484C54; // "SHLT"
    static final int TRAILER_MAGIC_OFFSET = MAX_RECORD_BYTES;
    static final int TRAILER_BYTES = MAX_RECORD_BYTES + 4;

    /** Name of the extended attribute, without the "user." namespace. */
    static final String XATTR_NAME = "shale";

    final long contentLength;
    final long lastModifiedMillis;
    final String token;

    ObjectMetadata(long contentLength, long lastModifiedMillis, String token) {
        if (contentLength < 0) {
            throw new IllegalArgumentException("negative content length " + contentLength);
        }
        ObjectKeys.validateToken(token, false);
        this.contentLength = contentLength;
        this.lastModifiedMillis = lastModifiedMillis;
        this.token = token;
    }

    /** The record, as stored in the extended attribute. */
    ByteBuffer encode() {
        byte[] tokenBytes = token == null ? new byte[0] : token.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(MIN_RECORD_BYTES + tokenBytes.length).order(ByteOrder.BIG_ENDIAN);
        b.put(VERSION_OFFSET, (byte) VERSION);
        b.put(FLAGS_OFFSET, (byte) (token == null ? 0 : FLAG_HAS_TOKEN));
        b.put(TOKEN_LENGTH_OFFSET, (byte) tokenBytes.length);
        b.put(RESERVED_OFFSET, (byte) 0);
        b.putLong(CONTENT_LENGTH_OFFSET, contentLength);
        b.putLong(LAST_MODIFIED_OFFSET, lastModifiedMillis);
        b.put(TOKEN_OFFSET, tokenBytes);
        int crcAt = TOKEN_OFFSET + tokenBytes.length;
        b.putInt(crcAt, crc(b, crcAt));
        return b;
    }

    /** The trailer appended to the content when there are no extended attributes. */
    ByteBuffer encodeTrailer() {
        ByteBuffer b = ByteBuffer.allocate(TRAILER_BYTES).order(ByteOrder.BIG_ENDIAN);
        b.put(encode());
        b.putInt(TRAILER_MAGIC_OFFSET, TRAILER_MAGIC);
        return b.clear();
    }

    /** Decodes a record (its remaining bytes, exactly). */
    static ObjectMetadata decode(ByteBuffer src) throws CorruptObjectException {
        ByteBuffer b = src.slice().order(ByteOrder.BIG_ENDIAN);
        if (b.remaining() < MIN_RECORD_BYTES || b.remaining() > MAX_RECORD_BYTES) {
            throw new CorruptObjectException("metadata record of " + b.remaining() + " bytes");
        }
        int version = b.get(VERSION_OFFSET) & 0xFF;
        if (version != VERSION) {
            throw new CorruptObjectException("metadata record version " + version + ", expected " + VERSION);
        }
        int flags = b.get(FLAGS_OFFSET) & 0xFF;
        int tokenLength = b.get(TOKEN_LENGTH_OFFSET) & 0xFF;
        if ((flags & ~FLAG_HAS_TOKEN) != 0 || b.get(RESERVED_OFFSET) != 0) {
            throw new CorruptObjectException("metadata record with unknown flags " + flags);
        }
        if (b.remaining() != MIN_RECORD_BYTES + tokenLength || tokenLength > ObjectKeys.MAX_TOKEN_CHARS
                || (tokenLength > 0 && (flags & FLAG_HAS_TOKEN) == 0)) {
            throw new CorruptObjectException("metadata record of " + b.remaining() + " bytes claims a "
                    + tokenLength + "-byte token");
        }
        int crcAt = TOKEN_OFFSET + tokenLength;
        int stored = b.getInt(crcAt);
        int actual = crc(b, crcAt);
        if (stored != actual) {
            throw new CorruptObjectException(String.format("metadata record checksum %08x, computed %08x", stored, actual));
        }
        long contentLength = b.getLong(CONTENT_LENGTH_OFFSET);
        if (contentLength < 0) {
            throw new CorruptObjectException("metadata record with negative length " + contentLength);
        }
        char[] token = new char[tokenLength];
        for (int i = 0; i < tokenLength; i++) {
            int c = b.get(TOKEN_OFFSET + i) & 0xFF;
            if (!ObjectKeys.isTokenChar(c)) {
                throw new CorruptObjectException("metadata record token holds byte " + c);
            }
            token[i] = (char) c;
        }
        return new ObjectMetadata(contentLength, b.getLong(LAST_MODIFIED_OFFSET),
                (flags & FLAG_HAS_TOKEN) != 0 ? new String(token) : null);
    }

    /** Decodes a trailer (exactly {@link #TRAILER_BYTES} remaining bytes). */
    static ObjectMetadata decodeTrailer(ByteBuffer src) throws CorruptObjectException {
        ByteBuffer b = src.slice().order(ByteOrder.BIG_ENDIAN);
        if (b.remaining() != TRAILER_BYTES) {
            throw new CorruptObjectException("trailer of " + b.remaining() + " bytes, expected " + TRAILER_BYTES);
        }
        if (b.getInt(TRAILER_MAGIC_OFFSET) != TRAILER_MAGIC) {
            throw new CorruptObjectException("no metadata trailer (bad magic); not written by this store?");
        }
        int tokenLength = b.get(TOKEN_LENGTH_OFFSET) & 0xFF;
        if (tokenLength > ObjectKeys.MAX_TOKEN_CHARS) {
            throw new CorruptObjectException("trailer claims a " + tokenLength + "-byte token");
        }
        int recordBytes = MIN_RECORD_BYTES + tokenLength;
        for (int i = recordBytes; i < TRAILER_MAGIC_OFFSET; i++) {
            if (b.get(i) != 0) {
                throw new CorruptObjectException("trailer padding is not zero at byte " + i);
            }
        }
        return decode(b.limit(recordBytes));
    }

    private static int crc(ByteBuffer b, int length) {
        CRC32C crc = new CRC32C();
        crc.update(b.duplicate().position(0).limit(length));
        return (int) crc.getValue();
    }

    @Override
    public String toString() {
        return "ObjectMetadata[length=" + contentLength + ", lastModified=" + lastModifiedMillis + ", token=" + token + "]";
    }
}
