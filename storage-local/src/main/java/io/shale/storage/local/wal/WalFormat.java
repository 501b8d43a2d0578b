package io.shale.storage.local.wal;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The on-disk format of the file write-ahead log, version {@value #VERSION}. All integers are
 * big-endian. Offsets are constants of this class; nothing else in the WAL hard-codes a position.
 *
 * <h2>Files</h2>
 * A WAL directory holds {@code wal.lock} (the directory lock; while held, a few text lines naming
 * the holding process, read only for error messages, see {@code DirectoryLock}) and segment files named
 * {@code <20-digit creation number>.wal}. The name is a creation counter only: recovery reads the
 * header. A segment file is either
 * <ul>
 *   <li><b>free</b>: its first {@link #HEADER_LENGTH} bytes are not a valid header (zero-filled
 *       when the file is preallocated, zeroed again when a trimmed segment is recycled), or</li>
 *   <li><b>live</b>: a valid header, then frames from {@link #FIRST_FRAME_OFFSET} on.</li>
 * </ul>
 *
 * <h2>Segment header</h2>
 * Written when the writer activates the segment, in the same {@code write} and {@code fdatasync}
 * as the segment's first group of frames. It fills the first 512-byte sector, which the writer
 * never touches again until the segment is recycled; bytes 64..4095 are zero.
 * <pre>
 *   0               4               8              10              12              16
 *   +---------------+---------------+---------------+---------------+---------------+
 *   |            magic "SHALEWAL"   | version u16   | hdr len u16   | flags u32     |
 *  16+-------------------------------+---------------+---------------+---------------+
 *   |        segmentId i64 (random, non-zero)       |            ordinal i64        |
 *  32+-------------------------------+---------------+---------------+---------------+
 *   |        firstSequence i64                      |        prevSegmentId i64      |
 *  48+-------------------------------+---------------+---------------+---------------+
 *   |        prevEnd i64                            | reserved u32  | crc32c u32    |
 *  64+-----------------------------------------------+---------------+---------------+
 *   |        zero up to FIRST_FRAME_OFFSET (4096)                                     |
 *     </pre>
 * <ul>
 *   <li>{@code segmentId}: a fresh random non-zero value for every activation, repeated in each
 *       frame. A stale frame left by an earlier use of the file carries another id.</li>
 *   <li>{@code ordinal}: activation counter; recovery reads live segments in ordinal order.</li>
 *   <li>{@code firstSequence}: the sequence of the segment's first frame.</li>
 *   <li>{@code prevSegmentId}, {@code prevEnd}: the segment activated before this one (0 if
 *       none) and the file position where the frames the writer considered good end in it. Frames
 *       of that segment at or beyond {@code prevEnd} are never delivered.</li>
 *   <li>{@code crc32c}: CRC-32C of bytes 0..59.</li>
 * </ul>
 *
 * <h2>Frame</h2>
 * Frames follow each other without padding from {@link #FIRST_FRAME_OFFSET}.
 * <pre>
 *   0               4               8       9      10              12              16
 *   +---------------+---------------+-------+-------+---------------+---------------+
 *   | crc32c u32    | length i32    | type  | flags | reserved u16  | streamId i32  |
 *  16+---------------+---------------+-------+-------+---------------+---------------+
 *   |        segmentId i64                          |        sequence i64           |
 *  32+-----------------------------------------------+-------------------------------+
 *   |        baseOffset i64                         |  payload (length bytes) ...   |
 *  40+-----------------------------------------------+-------------------------------+
 * </pre>
 * <ul>
 *   <li>{@code length}: payload bytes, 0..{@link #MAX_PAYLOAD_BYTES}.</li>
 *   <li>{@code type}: {@link #FRAME_TYPE_ENTRY}; every other value is invalid in version 1.</li>
 *   <li>{@code flags}, {@code reserved}: zero.</li>
 *   <li>{@code crc32c}: CRC-32C of the frame's file position (8 bytes, big-endian, not stored)
 *       followed by frame bytes 4..(40 + length). A frame therefore verifies only at the position
 *       it was written to.</li>
 * </ul>
 *
 * <h2>Validity</h2>
 * A frame at position {@code p} of a live segment is valid when: it lies inside the file, its
 * type is {@code ENTRY}, its length is in range, its {@code segmentId} equals the header's, its
 * CRC matches, and its sequence is the header's {@code firstSequence} (first frame) or greater
 * than the previous frame's sequence. The first invalid frame ends the segment.
 */
final class WalFormat {
    private WalFormat() {
    }

    /** Format version, stored in every segment header. */
    static final int VERSION = 1;
    /** "SHALEWAL" in ASCII. */
    static final long MAGIC = 0x5348414C4557414CL;

    // ---- segment header ----
    static final int HEADER_MAGIC_OFFSET = 0;
    static final int HEADER_VERSION_OFFSET = 8;
    static final int HEADER_LENGTH_OFFSET = 10;
    static final int HEADER_FLAGS_OFFSET = 12;
    static final int HEADER_SEGMENT_ID_OFFSET = 16;
    static final int HEADER_ORDINAL_OFFSET = 24;
    static final int HEADER_FIRST_SEQUENCE_OFFSET = 32;
    static final int HEADER_PREV_SEGMENT_ID_OFFSET = 40;
    static final int HEADER_PREV_END_OFFSET = 48;
    static final int HEADER_RESERVED_OFFSET = 56;
    static final int HEADER_CRC_OFFSET = 60;
    /** Bytes of the header proper; the CRC covers bytes 0 to {@link #HEADER_CRC_OFFSET}. */
    static final int HEADER_LENGTH = 64;
    /** Where the first frame starts; the header page is never rewritten by frame writes. */
    static final int FIRST_FRAME_OFFSET = 4096;

    // ---- frame ----
    static final int FRAME_CRC_OFFSET = 0;
    static final int FRAME_LENGTH_OFFSET = 4;
    static final int FRAME_TYPE_OFFSET = 8;
    static final int FRAME_FLAGS_OFFSET = 9;
    static final int FRAME_RESERVED_OFFSET = 10;
    static final int FRAME_STREAM_ID_OFFSET = 12;
    static final int FRAME_SEGMENT_ID_OFFSET = 16;
    static final int FRAME_SEQUENCE_OFFSET = 24;
    static final int FRAME_BASE_OFFSET_OFFSET = 32;
    static final int FRAME_HEADER_LENGTH = 40;
    static final byte FRAME_TYPE_ENTRY = 1;

    /** The largest payload one frame carries: 64 MiB. */
    static final int MAX_PAYLOAD_BYTES = 64 << 20;

    /** Bytes a frame with {@code payloadBytes} of payload occupies. */
    static int frameLength(int payloadBytes) {
        return FRAME_HEADER_LENGTH + payloadBytes;
    }

    /** Writes a header at absolute index {@code at} of {@code buf} (position untouched). */
    static void writeHeader(ByteBuffer buf, int at, long segmentId, long ordinal, long firstSequence,
            long prevSegmentId, long prevEnd, CRC32C crc) {
        buf.putLong(at + HEADER_MAGIC_OFFSET, MAGIC);
        buf.putShort(at + HEADER_VERSION_OFFSET, (short) VERSION);
        buf.putShort(at + HEADER_LENGTH_OFFSET, (short) HEADER_LENGTH);
        buf.putInt(at + HEADER_FLAGS_OFFSET, 0);
        buf.putLong(at + HEADER_SEGMENT_ID_OFFSET, segmentId);
        buf.putLong(at + HEADER_ORDINAL_OFFSET, ordinal);
        buf.putLong(at + HEADER_FIRST_SEQUENCE_OFFSET, firstSequence);
        buf.putLong(at + HEADER_PREV_SEGMENT_ID_OFFSET, prevSegmentId);
        buf.putLong(at + HEADER_PREV_END_OFFSET, prevEnd);
        buf.putInt(at + HEADER_RESERVED_OFFSET, 0);
        buf.putInt(at + HEADER_CRC_OFFSET, headerCrc(buf, at, crc));
    }

    static int headerCrc(ByteBuffer buf, int at, CRC32C crc) {
        crc.reset();
        ByteBuffer view = buf.duplicate();
        view.limit(at + HEADER_CRC_OFFSET).position(at);
        crc.update(view);
        return (int) crc.getValue();
    }

    /**
     * Decodes the header at index {@code at} of {@code buf}, or returns {@code null} if the bytes
     * are not a valid version-1 header (free segment, torn write, foreign file).
     */
    static Header readHeader(ByteBuffer buf, int at, CRC32C crc) {
        if (buf.limit() - at < HEADER_LENGTH) {
            return null;
        }
        if (buf.getLong(at + HEADER_MAGIC_OFFSET) != MAGIC
                || buf.getShort(at + HEADER_VERSION_OFFSET) != VERSION
                || buf.getShort(at + HEADER_LENGTH_OFFSET) != HEADER_LENGTH
                || buf.getInt(at + HEADER_CRC_OFFSET) != headerCrc(buf, at, crc)) {
            return null;
        }
        long segmentId = buf.getLong(at + HEADER_SEGMENT_ID_OFFSET);
        if (segmentId == 0) {
            return null;
        }
        return new Header(segmentId, buf.getLong(at + HEADER_ORDINAL_OFFSET),
                buf.getLong(at + HEADER_FIRST_SEQUENCE_OFFSET),
                buf.getLong(at + HEADER_PREV_SEGMENT_ID_OFFSET), buf.getLong(at + HEADER_PREV_END_OFFSET));
    }

    /**
     * Writes a frame header at index {@code at} of {@code buf}; the payload must already be at
     * {@code at + FRAME_HEADER_LENGTH}. Computes the CRC over the payload in place.
     *
     * @param crcView a view of {@code buf} the method may reposition (avoids a per-frame duplicate)
     * @param scratch an 8-byte array the method may overwrite
     */
    static void writeFrame(ByteBuffer buf, ByteBuffer crcView, int at, long filePosition, int streamId,
            long segmentId, long sequence, long baseOffset, int payloadLength, CRC32C crc, byte[] scratch) {
        writeFrameHeaderFields(buf, at, streamId, segmentId, sequence, baseOffset, payloadLength);
        buf.putInt(at + FRAME_CRC_OFFSET, frameCrc(crcView, at, filePosition, payloadLength, crc, scratch));
    }

    /** Writes every frame header field except the CRC at index {@code at} of {@code buf}. */
    static void writeFrameHeaderFields(ByteBuffer buf, int at, int streamId, long segmentId, long sequence,
            long baseOffset, int payloadLength) {
        buf.putInt(at + FRAME_LENGTH_OFFSET, payloadLength);
        buf.put(at + FRAME_TYPE_OFFSET, FRAME_TYPE_ENTRY);
        buf.put(at + FRAME_FLAGS_OFFSET, (byte) 0);
        buf.putShort(at + FRAME_RESERVED_OFFSET, (short) 0);
        buf.putInt(at + FRAME_STREAM_ID_OFFSET, streamId);
        buf.putLong(at + FRAME_SEGMENT_ID_OFFSET, segmentId);
        buf.putLong(at + FRAME_SEQUENCE_OFFSET, sequence);
        buf.putLong(at + FRAME_BASE_OFFSET_OFFSET, baseOffset);
    }

    /**
     * CRC of the frame at index {@code at} of the buffer behind {@code view}, as if it sat at
     * {@code filePosition} of its segment.
     */
    static int frameCrc(ByteBuffer view, int at, long filePosition, int payloadLength, CRC32C crc,
            byte[] scratch) {
        crc.reset();
        for (int i = 0; i < 8; i++) {
            scratch[i] = (byte) (filePosition >>> (56 - 8 * i));
        }
        crc.update(scratch, 0, 8);
        view.limit(at + FRAME_HEADER_LENGTH + payloadLength).position(at + FRAME_LENGTH_OFFSET);
        crc.update(view);
        return (int) crc.getValue();
    }

    /** A decoded segment header. */
    record Header(long segmentId, long ordinal, long firstSequence, long prevSegmentId, long prevEnd) {
    }
}
