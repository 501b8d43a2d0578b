package io.shale.log.wal;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The byte layout of one object written by {@link ObjectWriteAheadLog}, version 1.
 *
 * <pre>
 * Object (all integers big-endian, CRC-32C as an unsigned 32-bit value):
 *
 *   0            40                                               L-20        L
 *   +------------+---------+---------+-----+-----------+------------+
 *   |   header   | frame 0 | frame 1 | ... | frame n-1 |  trailer   |
 *   +------------+---------+---------+-----+-----------+------------+
 *
 * Header (HEADER_LENGTH = 40 bytes)
 *    0  magic          u32  0x5357414C "SWAL"
 *    4  version        u16  1
 *    6  headerLength   u16  40
 *    8  epoch          i64  the writer epoch that wrote the object
 *   16  firstSequence  i64  sequence of frame 0; equals the key's first sequence
 *   24  lastSequence   i64  sequence of frame n-1
 *   32  entryCount     i32  n (at least 1)
 *   36  headerCrc      u32  CRC-32C of bytes 0..35
 *
 * Frame (FRAME_HEADER_LENGTH = 28 bytes + payload)
 *    0  frameCrc       u32  CRC-32C of bytes 4 .. 28+payloadLength of the frame
 *    4  payloadLength  i32  0 .. MAX_PAYLOAD_LENGTH
 *    8  sequence       i64  strictly increasing within the object, within [first, last]
 *   16  streamId       i32  the partition's store-wide id, &gt;= 0
 *   20  baseOffset     i64  offset of the first record of the payload
 *   28  payload        payloadLength bytes (whole Kafka v2 record batches, opaque here)
 *
 * Trailer (TRAILER_LENGTH = 20 bytes, the last bytes of the object)
 *    0  magic          u32  0x5357454E "SWEN"
 *    4  entryCount     i32  equals the header's
 *    8  objectLength   i64  L, the whole object's length
 *   16  trailerCrc     u32  CRC-32C of trailer bytes 0..15
 * </pre>
 *
 * <p>Sequences are {@code epoch << 40 | counter} (see {@link ObjectWriteAheadLog}), so every frame's
 * sequence carries the header's epoch in its high bits.
 *
 * <p><b>Decoding</b> assumes the bytes may be damaged: every length is checked against the bytes
 * present before it is used, nothing is allocated from a length read from the object, and the
 * decoder never throws for bad input; it reports what it could verify ({@link DecodeResult}).
 * Frames are delivered in order up to the first one that fails verification, never past it.
 *
 * <p>Compatibility: a reader rejects (reports unreadable) any version it does not know. A later
 * version may grow the header (headerLength) or add frame kinds; it must keep bytes 0..7.
 *
 * <p><b>Version 2</b> (written with {@link ObjectWriteAheadLog.Builder#dataObjects}; see RFC 0006)
 * makes the object a data object as well, so that the store can commit it to its manifest as a
 * first-level data object instead of uploading the same bytes again. Each entry is one data block
 * (its payload, unchanged, no frame header); blocks are grouped by stream id (ascending), in
 * sequence order within a stream, so one partition's entries are one contiguous byte range.
 *
 * <pre>
 *   0            56                    T              I                          L-32       L
 *   +------------+---------+-----+-----+--------------+--------------------------+----------+
 *   | header v2  | block 0 | ... | b n-1 | seq table  | data index (n entries)   | footer   |
 *   +------------+---------+-----+-----+--------------+--------------------------+----------+
 *
 * Header v2 (HEADER_V2_LENGTH = 56 bytes): bytes 0..35 as in version 1 (version = 2,
 *   headerLength = 56), then
 *   36  tablePosition  i64  T, where the blocks end and the sequence table starts
 *   44  indexPosition  i64  I = T + 8n + 4
 *   52  headerCrc      u32  CRC-32C of bytes 0..51
 * Sequence table: n x sequence i64, in block order (block i holds the entry with sequence[i]),
 *   then u32 CRC-32C of the n x 8 bytes.
 * Data index and footer: exactly a data object's (internal.format.DataObjectFormat) with footer
 *   version 2 ("blocks need not start at 0 nor end at the index"): per block the stream id, the
 *   block's CRC-32C, base offset, next offset and max timestamp (parsed from the Kafka batch
 *   headers; for a payload that is not whole batches: next = base, max timestamp -1), position
 *   and size.
 * </pre>
 *
 * <p>Replay of a version-2 object verifies header, footer, index and table CRCs, then delivers the
 * entries in sequence order, verifying each block's CRC, and stops at the first that fails (as for
 * version 1). A version-1 reader reports a version-2 object unreadable ("unsupported format
 * version 2"): a store written with data objects must not be opened by a release that predates
 * them.
 */
public final class ObjectWalFormat {
    /** "SWAL". */
    public static final int MAGIC = 0x5357414C;
    /** "SWEN". */
    public static final int TRAILER_MAGIC = 0x5357454E;
    public static final short VERSION = 1;
    /** The data-object layout (see the class comment). */
    public static final short VERSION_2 = 2;
    public static final int HEADER_V2_LENGTH = 56;
    public static final int HEADER_V2_TABLE_POSITION_OFFSET = 36;
    public static final int HEADER_V2_INDEX_POSITION_OFFSET = 44;
    public static final int HEADER_V2_CRC_OFFSET = 52;

    public static final int HEADER_LENGTH = 40;
    public static final int HEADER_MAGIC_OFFSET = 0;
    public static final int HEADER_VERSION_OFFSET = 4;
    public static final int HEADER_LENGTH_OFFSET = 6;
    public static final int HEADER_EPOCH_OFFSET = 8;
    public static final int HEADER_FIRST_SEQUENCE_OFFSET = 16;
    public static final int HEADER_LAST_SEQUENCE_OFFSET = 24;
    public static final int HEADER_ENTRY_COUNT_OFFSET = 32;
    public static final int HEADER_CRC_OFFSET = 36;

    public static final int FRAME_HEADER_LENGTH = 28;
    public static final int FRAME_CRC_OFFSET = 0;
    public static final int FRAME_PAYLOAD_LENGTH_OFFSET = 4;
    public static final int FRAME_SEQUENCE_OFFSET = 8;
    public static final int FRAME_STREAM_ID_OFFSET = 16;
    public static final int FRAME_BASE_OFFSET_OFFSET = 20;
    public static final int FRAME_PAYLOAD_OFFSET = 28;

    public static final int TRAILER_LENGTH = 20;
    public static final int TRAILER_MAGIC_OFFSET = 0;
    public static final int TRAILER_ENTRY_COUNT_OFFSET = 4;
    public static final int TRAILER_OBJECT_LENGTH_OFFSET = 8;
    public static final int TRAILER_CRC_OFFSET = 16;

    /** Largest payload a frame may declare (the WAL's entry limit). */
    public static final int MAX_PAYLOAD_LENGTH = 64 << 20;

    /** Bits of a sequence below the epoch. */
    public static final int EPOCH_SHIFT = 40;

    private ObjectWalFormat() {
    }

    // ------------------------------------------------------------------------------------------
    // Encoding (used by the writer; callers own the arrays and the CRC instance)

    /** Fills {@code dst[0..HEADER_LENGTH)} with a header, CRC included. */
    public static void encodeHeader(byte[] dst, long epoch, long firstSequence, long lastSequence, int entryCount) {
        putInt(dst, HEADER_MAGIC_OFFSET, MAGIC);
        putShort(dst, HEADER_VERSION_OFFSET, VERSION);
        putShort(dst, HEADER_LENGTH_OFFSET, (short) HEADER_LENGTH);
        putLong(dst, HEADER_EPOCH_OFFSET, epoch);
        putLong(dst, HEADER_FIRST_SEQUENCE_OFFSET, firstSequence);
        putLong(dst, HEADER_LAST_SEQUENCE_OFFSET, lastSequence);
        putInt(dst, HEADER_ENTRY_COUNT_OFFSET, entryCount);
        putInt(dst, HEADER_CRC_OFFSET, crc(dst, 0, HEADER_CRC_OFFSET));
    }

    /** Fills {@code dst[0..HEADER_V2_LENGTH)} with a version-2 header, CRC included. */
    public static void encodeHeaderV2(byte[] dst, long epoch, long firstSequence, long lastSequence, int entryCount,
            long tablePosition, long indexPosition) {
        putInt(dst, HEADER_MAGIC_OFFSET, MAGIC);
        putShort(dst, HEADER_VERSION_OFFSET, VERSION_2);
        putShort(dst, HEADER_LENGTH_OFFSET, (short) HEADER_V2_LENGTH);
        putLong(dst, HEADER_EPOCH_OFFSET, epoch);
        putLong(dst, HEADER_FIRST_SEQUENCE_OFFSET, firstSequence);
        putLong(dst, HEADER_LAST_SEQUENCE_OFFSET, lastSequence);
        putInt(dst, HEADER_ENTRY_COUNT_OFFSET, entryCount);
        putLong(dst, HEADER_V2_TABLE_POSITION_OFFSET, tablePosition);
        putLong(dst, HEADER_V2_INDEX_POSITION_OFFSET, indexPosition);
        putInt(dst, HEADER_V2_CRC_OFFSET, crc(dst, 0, HEADER_V2_CRC_OFFSET));
    }

    /**
     * The data-object layout (the engine's {@code internal.format.DataObjectFormat}) that version-2
     * objects end with, repeated here because the public packages do not depend on the engine's;
     * tests check that the engine's reader accepts what this writes.
     */
    static final class DataLayout {
        static final int VERSION_2 = 2;
        static final int INDEX_MAGIC = 0x53445849; // "SDXI"
        static final int INDEX_VERSION = 1;
        static final int INDEX_HEADER_SIZE = 12;
        static final int ENTRY_SIZE = 48;
        static final int ENTRY_PARTITION_ID = 0;
        static final int ENTRY_CRC = 4;
        static final int ENTRY_BASE_OFFSET = 8;
        static final int ENTRY_NEXT_OFFSET = 16;
        static final int ENTRY_MAX_TIMESTAMP = 24;
        static final int ENTRY_POSITION = 32;
        static final int ENTRY_SIZE_FIELD = 40;
        static final int INDEX_TRAILER_SIZE = 4;
        static final long FOOTER_MAGIC = 0x5348414c454f424aL; // "SHALEOBJ"
        static final int FOOTER_SIZE = 32;
        static final int FOOTER_MAGIC_OFFSET = 0;
        static final int FOOTER_VERSION_OFFSET = 8;
        static final int FOOTER_BLOCK_COUNT_OFFSET = 12;
        static final int FOOTER_INDEX_POSITION_OFFSET = 16;
        static final int FOOTER_INDEX_LENGTH_OFFSET = 24;
        static final int FOOTER_CRC_OFFSET = 28;
        static final int MAX_BLOCKS = 4 * 1024 * 1024;

        private DataLayout() {
        }

        static int indexLength(int blocks) {
            return INDEX_HEADER_SIZE + blocks * ENTRY_SIZE + INDEX_TRAILER_SIZE;
        }
    }

    /**
     * The bytes after the blocks of a version-2 object: sequence table, data index and footer.
     * Every array is indexed by block (the object's block order); {@code sequences[i]} is the
     * sequence of the entry stored as block {@code i}.
     */
    public static ByteBuffer encodeTailV2(long tablePosition, long[] sequences, int[] streams, long[] baseOffsets,
            long[] nextOffsets, long[] maxTimestamps, long[] positions, int[] sizes, int[] crcs) {
        int n = sequences.length;
        int tableLength = n * 8 + 4;
        int indexLength = DataLayout.indexLength(n);
        ByteBuffer out = ByteBuffer.allocate(tableLength + indexLength + DataLayout.FOOTER_SIZE);
        for (int i = 0; i < n; i++) {
            out.putLong(sequences[i]);
        }
        CRC32C c = new CRC32C();
        c.update(out.array(), 0, n * 8);
        out.putInt((int) c.getValue());
        int ix = out.position();
        out.putInt(DataLayout.INDEX_MAGIC).putShort((short) DataLayout.INDEX_VERSION).putShort((short) 0).putInt(n);
        for (int i = 0; i < n; i++) {
            out.putInt(streams[i]).putInt(crcs[i]).putLong(baseOffsets[i]).putLong(nextOffsets[i])
                    .putLong(maxTimestamps[i]).putLong(positions[i]).putInt(sizes[i]).putInt(0);
        }
        c.reset();
        c.update(out.array(), ix, out.position() - ix);
        out.putInt((int) c.getValue());
        int f = out.position();
        out.putLong(DataLayout.FOOTER_MAGIC).putShort((short) DataLayout.VERSION_2).putShort((short) 0).putInt(n)
                .putLong(tablePosition + tableLength).putInt(indexLength);
        c.reset();
        c.update(out.array(), f, DataLayout.FOOTER_CRC_OFFSET);
        out.putInt((int) c.getValue());
        out.flip();
        return out.asReadOnlyBuffer();
    }

    /**
     * Fills {@code dst[0..FRAME_HEADER_LENGTH)} with a frame header for {@code payload}'s remaining
     * bytes, CRC included (computed with {@code crc}, which is reset first). Does not move
     * {@code payload}'s position and allocates nothing for heap payloads.
     */
    public static void encodeFrameHeader(byte[] dst, CRC32C crc, long sequence, int streamId, long baseOffset,
            ByteBuffer payload) {
        int length = payload.remaining();
        putInt(dst, FRAME_PAYLOAD_LENGTH_OFFSET, length);
        putLong(dst, FRAME_SEQUENCE_OFFSET, sequence);
        putInt(dst, FRAME_STREAM_ID_OFFSET, streamId);
        putLong(dst, FRAME_BASE_OFFSET_OFFSET, baseOffset);
        crc.reset();
        crc.update(dst, FRAME_PAYLOAD_LENGTH_OFFSET, FRAME_HEADER_LENGTH - FRAME_PAYLOAD_LENGTH_OFFSET);
        if (payload.hasArray()) {
            crc.update(payload.array(), payload.arrayOffset() + payload.position(), length);
        } else {
            crc.update(payload.duplicate());
        }
        putInt(dst, FRAME_CRC_OFFSET, (int) crc.getValue());
    }

    /** Fills {@code dst[0..TRAILER_LENGTH)} with a trailer, CRC included. */
    public static void encodeTrailer(byte[] dst, int entryCount, long objectLength) {
        putInt(dst, TRAILER_MAGIC_OFFSET, TRAILER_MAGIC);
        putInt(dst, TRAILER_ENTRY_COUNT_OFFSET, entryCount);
        putLong(dst, TRAILER_OBJECT_LENGTH_OFFSET, objectLength);
        putInt(dst, TRAILER_CRC_OFFSET, crc(dst, 0, TRAILER_CRC_OFFSET));
    }

    // ------------------------------------------------------------------------------------------
    // Decoding

    /** Receives the frames of an object that passed verification, in order. */
    @FunctionalInterface
    public interface FrameVisitor {
        /** {@code payload} is a read-only view valid only during the call. */
        void onFrame(long sequence, int streamId, long baseOffset, ByteBuffer payload);
    }

    /** The verified header fields of an object. */
    public record Header(long epoch, long firstSequence, long lastSequence, int entryCount) {
    }

    /** How much of an object could be verified. */
    public enum Status {
        /** Header, every frame and the trailer verified. */
        COMPLETE,
        /** The header verified and some frames were delivered (or none were expected), but the rest is damaged. */
        DAMAGED,
        /** Nothing could be recovered: the header is bad, or no frame verified although the header announced some. */
        UNREADABLE
    }

    /**
     * What {@link #decode} found.
     *
     * @param header the header if it verified, else {@code null}
     * @param framesDelivered how many frames were handed to the visitor
     * @param lastDeliveredSequence the sequence of the last delivered frame, or -1
     * @param damage what was wrong and where (byte position), or {@code null} if complete
     */
    public record DecodeResult(Status status, Header header, int framesDelivered, long lastDeliveredSequence,
            String damage) {
        /** Entries the header announced but that could not be delivered (0 if the header is unknown). */
        public int framesLost() {
            return header == null ? 0 : Math.max(0, header.entryCount() - framesDelivered);
        }
    }

    /**
     * Verifies an object and hands every frame that verifies, in order, to {@code visitor}, stopping
     * at the first damage. Never throws for bad input (only if the visitor throws). Does not modify
     * {@code object} or its position.
     *
     * @param expectedEpoch the epoch the object's key names, or -1 to accept any
     * @param expectedFirstSequence the first sequence the object's key names, or -1 to accept any
     */
    public static DecodeResult decode(ByteBuffer object, long expectedEpoch, long expectedFirstSequence,
            FrameVisitor visitor) {
        ByteBuffer b = object.slice(); // big-endian, positions relative to the object's start
        int length = b.remaining();
        if (length < HEADER_LENGTH) {
            return unreadable(null, "object of " + length + " bytes is shorter than the " + HEADER_LENGTH + "-byte header");
        }
        int magic = b.getInt(HEADER_MAGIC_OFFSET);
        if (magic != MAGIC) {
            return unreadable(null, String.format("bad magic 0x%08x at byte 0", magic));
        }
        short version = b.getShort(HEADER_VERSION_OFFSET);
        if (version == VERSION_2) {
            return decodeV2(b, expectedEpoch, expectedFirstSequence, visitor);
        }
        if (version != VERSION) {
            return unreadable(null, "unsupported format version " + version + " (this reader knows " + VERSION
                    + " and " + VERSION_2 + ")");
        }
        short headerLength = b.getShort(HEADER_LENGTH_OFFSET);
        if (headerLength != HEADER_LENGTH) {
            return unreadable(null, "header length " + headerLength + " is not " + HEADER_LENGTH + " for version 1");
        }
        int storedHeaderCrc = b.getInt(HEADER_CRC_OFFSET);
        int headerCrc = crc(b, 0, HEADER_CRC_OFFSET);
        if (storedHeaderCrc != headerCrc) {
            return unreadable(null, String.format("header CRC mismatch (stored 0x%08x, computed 0x%08x)", storedHeaderCrc, headerCrc));
        }
        long epoch = b.getLong(HEADER_EPOCH_OFFSET);
        long first = b.getLong(HEADER_FIRST_SEQUENCE_OFFSET);
        long last = b.getLong(HEADER_LAST_SEQUENCE_OFFSET);
        int count = b.getInt(HEADER_ENTRY_COUNT_OFFSET);
        if (epoch < 0 || first < 0 || last < first || (first >>> EPOCH_SHIFT) != epoch || (last >>> EPOCH_SHIFT) != epoch
                || count < 0 || (count > 0 && last - first < count - 1L)) {
            return unreadable(null, "inconsistent header: epoch " + epoch + ", sequences " + first + ".." + last
                    + ", " + count + " entries");
        }
        if ((expectedEpoch >= 0 && epoch != expectedEpoch) || (expectedFirstSequence >= 0 && first != expectedFirstSequence)) {
            return unreadable(null, "header names epoch " + epoch + " and first sequence " + first
                    + " but the key names epoch " + expectedEpoch + " and first sequence " + expectedFirstSequence);
        }
        Header header = new Header(epoch, first, last, count);

        // The trailer, if intact, tells exactly where the frames end.
        String trailerDamage = null;
        int framesEnd = length;
        if (length < HEADER_LENGTH + TRAILER_LENGTH) {
            trailerDamage = "object of " + length + " bytes has no room for a trailer";
        } else {
            int t = length - TRAILER_LENGTH;
            int tMagic = b.getInt(t + TRAILER_MAGIC_OFFSET);
            int tCrc = crc(b, t, TRAILER_CRC_OFFSET);
            if (tMagic != TRAILER_MAGIC || b.getInt(t + TRAILER_CRC_OFFSET) != tCrc) {
                trailerDamage = "no valid trailer at byte " + t + " (object truncated or damaged)";
            } else if (b.getLong(t + TRAILER_OBJECT_LENGTH_OFFSET) != length) {
                trailerDamage = "trailer declares " + b.getLong(t + TRAILER_OBJECT_LENGTH_OFFSET)
                        + " bytes but the object has " + length;
            } else if (b.getInt(t + TRAILER_ENTRY_COUNT_OFFSET) != count) {
                trailerDamage = "trailer declares " + b.getInt(t + TRAILER_ENTRY_COUNT_OFFSET)
                        + " entries but the header " + count;
            } else {
                framesEnd = t;
            }
        }

        CRC32C crc = new CRC32C();
        int pos = HEADER_LENGTH;
        int delivered = 0;
        long prev = -1;
        String frameDamage = null;
        while (pos < framesEnd && delivered < count) {
            int avail = framesEnd - pos;
            if (avail < FRAME_HEADER_LENGTH) {
                frameDamage = "frame " + delivered + " at byte " + pos + " is cut short (" + avail + " bytes left)";
                break;
            }
            int payloadLength = b.getInt(pos + FRAME_PAYLOAD_LENGTH_OFFSET);
            if (payloadLength < 0 || payloadLength > MAX_PAYLOAD_LENGTH || payloadLength > avail - FRAME_HEADER_LENGTH) {
                frameDamage = "frame " + delivered + " at byte " + pos + " declares a payload of " + payloadLength
                        + " bytes with " + (avail - FRAME_HEADER_LENGTH) + " left";
                break;
            }
            int frameEnd = pos + FRAME_HEADER_LENGTH + payloadLength;
            int stored = b.getInt(pos + FRAME_CRC_OFFSET);
            crc.reset();
            crc.update(b.duplicate().limit(frameEnd).position(pos + FRAME_PAYLOAD_LENGTH_OFFSET));
            if ((int) crc.getValue() != stored) {
                frameDamage = "frame " + delivered + " at byte " + pos + " fails its CRC";
                break;
            }
            long seq = b.getLong(pos + FRAME_SEQUENCE_OFFSET);
            int streamId = b.getInt(pos + FRAME_STREAM_ID_OFFSET);
            if (seq < first || seq > last || seq <= prev || streamId < 0
                    || (delivered == 0 && seq != first)) {
                frameDamage = "frame " + delivered + " at byte " + pos + " has sequence " + seq + " / stream " + streamId
                        + " outside the header's range " + first + ".." + last + " or out of order";
                break;
            }
            long baseOffset = b.getLong(pos + FRAME_BASE_OFFSET_OFFSET);
            visitor.onFrame(seq, streamId, baseOffset,
                    b.slice(pos + FRAME_PAYLOAD_OFFSET, payloadLength).asReadOnlyBuffer());
            delivered++;
            prev = seq;
            pos = frameEnd;
        }
        if (frameDamage == null && delivered == count && prev != last && count > 0) {
            frameDamage = "last frame has sequence " + prev + " but the header says " + last;
        }
        if (frameDamage == null && delivered < count) {
            frameDamage = "only " + delivered + " of " + count + " frames present before byte " + pos;
        }
        if (frameDamage == null && trailerDamage == null && pos != framesEnd) {
            frameDamage = (framesEnd - pos) + " unexpected bytes after the last frame at byte " + pos;
        }
        String damage = join(frameDamage, trailerDamage);
        if (damage == null) {
            return new DecodeResult(Status.COMPLETE, header, delivered, prev, null);
        }
        Status status = delivered == 0 && count > 0 ? Status.UNREADABLE : Status.DAMAGED;
        return new DecodeResult(status, header, delivered, prev, damage);
    }

    private static DecodeResult decodeV2(ByteBuffer b, long expectedEpoch, long expectedFirstSequence,
            FrameVisitor visitor) {
        int length = b.remaining();
        if (length < HEADER_V2_LENGTH) {
            return unreadable(null, "version-2 object of " + length + " bytes is shorter than its " + HEADER_V2_LENGTH
                    + "-byte header");
        }
        short headerLength = b.getShort(HEADER_LENGTH_OFFSET);
        if (headerLength != HEADER_V2_LENGTH) {
            return unreadable(null, "header length " + headerLength + " is not " + HEADER_V2_LENGTH + " for version 2");
        }
        int storedHeaderCrc = b.getInt(HEADER_V2_CRC_OFFSET);
        int headerCrc = crc(b, 0, HEADER_V2_CRC_OFFSET);
        if (storedHeaderCrc != headerCrc) {
            return unreadable(null, String.format("header CRC mismatch (stored 0x%08x, computed 0x%08x)", storedHeaderCrc, headerCrc));
        }
        long epoch = b.getLong(HEADER_EPOCH_OFFSET);
        long first = b.getLong(HEADER_FIRST_SEQUENCE_OFFSET);
        long last = b.getLong(HEADER_LAST_SEQUENCE_OFFSET);
        int count = b.getInt(HEADER_ENTRY_COUNT_OFFSET);
        long tablePosition = b.getLong(HEADER_V2_TABLE_POSITION_OFFSET);
        long indexPosition = b.getLong(HEADER_V2_INDEX_POSITION_OFFSET);
        if (epoch < 0 || first < 0 || last < first || (first >>> EPOCH_SHIFT) != epoch || (last >>> EPOCH_SHIFT) != epoch
                || count < 0 || count > DataLayout.MAX_BLOCKS || (count > 0 && last - first < count - 1L)
                || tablePosition < HEADER_V2_LENGTH || tablePosition > length
                || indexPosition != tablePosition + 8L * count + 4) {
            return unreadable(null, "inconsistent header: epoch " + epoch + ", sequences " + first + ".." + last
                    + ", " + count + " entries, table at " + tablePosition + ", index at " + indexPosition);
        }
        if ((expectedEpoch >= 0 && epoch != expectedEpoch) || (expectedFirstSequence >= 0 && first != expectedFirstSequence)) {
            return unreadable(null, "header names epoch " + epoch + " and first sequence " + first
                    + " but the key names epoch " + expectedEpoch + " and first sequence " + expectedFirstSequence);
        }
        Header header = new Header(epoch, first, last, count);
        long expectedLength = indexPosition + DataLayout.indexLength(count) + DataLayout.FOOTER_SIZE;
        if (expectedLength != length) {
            return unreadable(header, "version-2 object has " + length + " bytes but its header implies "
                    + expectedLength + " (truncated or damaged)");
        }
        // footer
        int f = length - DataLayout.FOOTER_SIZE;
        if (b.getLong(f + DataLayout.FOOTER_MAGIC_OFFSET) != DataLayout.FOOTER_MAGIC
                || b.getInt(f + DataLayout.FOOTER_CRC_OFFSET) != crc(b, f, DataLayout.FOOTER_CRC_OFFSET)
                || b.getShort(f + DataLayout.FOOTER_VERSION_OFFSET) != DataLayout.VERSION_2
                || b.getInt(f + DataLayout.FOOTER_BLOCK_COUNT_OFFSET) != count
                || b.getLong(f + DataLayout.FOOTER_INDEX_POSITION_OFFSET) != indexPosition) {
            return unreadable(header, "no valid data footer at byte " + f);
        }
        int ix = (int) indexPosition;
        int indexLength = DataLayout.indexLength(count);
        if (b.getInt(ix) != DataLayout.INDEX_MAGIC || b.getInt(ix + 8) != count
                || b.getInt(ix + indexLength - DataLayout.INDEX_TRAILER_SIZE)
                        != crc(b, ix, indexLength - DataLayout.INDEX_TRAILER_SIZE)) {
            return unreadable(header, "data index at byte " + ix + " fails its checks");
        }
        int t = (int) tablePosition;
        if (b.getInt(t + 8 * count) != crc(b, t, 8 * count)) {
            return unreadable(header, "sequence table at byte " + t + " fails its CRC");
        }
        // Blocks, checked for place; delivery order is sequence order.
        long[] seqs = new long[count];
        Integer[] order = new Integer[count];
        long prevEnd = HEADER_V2_LENGTH;
        for (int i = 0; i < count; i++) {
            int e = ix + DataLayout.INDEX_HEADER_SIZE + i * DataLayout.ENTRY_SIZE;
            long pos = b.getLong(e + DataLayout.ENTRY_POSITION);
            int size = b.getInt(e + DataLayout.ENTRY_SIZE_FIELD);
            if (pos < prevEnd || size < 0 || size > MAX_PAYLOAD_LENGTH || pos > tablePosition - size
                    || b.getInt(e + DataLayout.ENTRY_PARTITION_ID) < 0) {
                return unreadable(header, "index entry " + i + " (position " + pos + ", " + size
                        + " bytes) is outside the blocks or overlaps another");
            }
            prevEnd = pos + size;
            seqs[i] = b.getLong(t + 8 * i);
            order[i] = i;
        }
        java.util.Arrays.sort(order, (x, y) -> Long.compare(seqs[x], seqs[y]));
        CRC32C crc = new CRC32C();
        int delivered = 0;
        long prev = -1;
        String damage = null;
        for (int k = 0; k < count; k++) {
            int i = order[k];
            int e = ix + DataLayout.INDEX_HEADER_SIZE + i * DataLayout.ENTRY_SIZE;
            int pos = (int) b.getLong(e + DataLayout.ENTRY_POSITION);
            int size = b.getInt(e + DataLayout.ENTRY_SIZE_FIELD);
            long seq = seqs[i];
            if (seq < first || seq > last || seq <= prev || (k == 0 && seq != first)) {
                damage = "entry " + k + " (block " + i + ") has sequence " + seq + " outside the header's range "
                        + first + ".." + last + " or repeated";
                break;
            }
            crc.reset();
            crc.update(b.duplicate().limit(pos + size).position(pos));
            if ((int) crc.getValue() != b.getInt(e + DataLayout.ENTRY_CRC)) {
                damage = "block " + i + " at byte " + pos + " fails its CRC";
                break;
            }
            visitor.onFrame(seq, b.getInt(e + DataLayout.ENTRY_PARTITION_ID),
                    b.getLong(e + DataLayout.ENTRY_BASE_OFFSET), b.slice(pos, size).asReadOnlyBuffer());
            delivered++;
            prev = seq;
        }
        if (damage == null && count > 0 && prev != last) {
            damage = "last entry has sequence " + prev + " but the header says " + last;
        }
        if (damage == null) {
            return new DecodeResult(Status.COMPLETE, header, delivered, prev, null);
        }
        return new DecodeResult(delivered == 0 && count > 0 ? Status.UNREADABLE : Status.DAMAGED, header, delivered,
                prev, damage);
    }

    /**
     * Reads the Kafka v2 batch headers of an entry's payload (from position to limit, not moved):
     * if the payload is one or more whole batches, stores the offset after its last record in
     * {@code out[0]} and its largest max timestamp in {@code out[1]} and returns true; otherwise
     * (empty, cut short, or not batches) returns false and leaves {@code out} unspecified. Only the
     * batch headers' lengths are checked, not their CRCs (the WAL's own CRC covers the bytes).
     */
    static boolean scanBatches(ByteBuffer payload, long[] out) {
        long next = -1;
        long maxTs = Long.MIN_VALUE;
        int pos = payload.position();
        int end = payload.limit();
        if (pos >= end) {
            return false;
        }
        while (pos < end) {
            if (end - pos < io.shale.log.record.RecordBatchLayout.HEADER_SIZE) {
                return false;
            }
            int size = payload.getInt(pos + io.shale.log.record.RecordBatchLayout.LENGTH_OFFSET)
                    + io.shale.log.record.RecordBatchLayout.LOG_OVERHEAD;
            if (size < io.shale.log.record.RecordBatchLayout.HEADER_SIZE || size > end - pos) {
                return false;
            }
            next = payload.getLong(pos + io.shale.log.record.RecordBatchLayout.BASE_OFFSET_OFFSET)
                    + payload.getInt(pos + io.shale.log.record.RecordBatchLayout.LAST_OFFSET_DELTA_OFFSET) + 1;
            maxTs = Math.max(maxTs, payload.getLong(pos + io.shale.log.record.RecordBatchLayout.MAX_TIMESTAMP_OFFSET));
            pos += size;
        }
        out[0] = next;
        out[1] = maxTs;
        return true;
    }

    private static DecodeResult unreadable(Header header, String why) {
        return new DecodeResult(Status.UNREADABLE, header, 0, -1, why);
    }

    private static String join(String a, String b) {
        if (a == null) {
            return b;
        }
        return b == null ? a : a + "; " + b;
    }

    // ------------------------------------------------------------------------------------------

    // =============================================================================================
    // Claim record (RFC 0006, "Claim records"): which WAL objects of older writer epochs a claiming
    // writer accepted. Key: WalObjectKey.claimRecordKey(prefix, epoch).
    //
    //    0  magic          u32  0x5357434C "SWCL"
    //    4  version        u16  1
    //    6  reserved       u16  0
    //    8  epoch          i64  the claiming writer's epoch (equals the key's)
    //   16  basisEpoch     i64  epoch of the newest older record it read, -1 if none
    //   24  count          i32  n
    //   28  firstSequence  n x i64, strictly ascending: the accepted objects (each key's first
    //                      sequence, which carries its epoch), every one of an epoch below `epoch`
    //   28+8n  crc         u32  CRC-32C of bytes 0 .. 28+8n-1

    /** "SWCL". */
    public static final int CLAIM_MAGIC = 0x5357434C;
    /** Version of the claim-record layout. */
    public static final short CLAIM_VERSION = 1;
    static final int CLAIM_HEADER_LENGTH = 28;

    /**
     * A claim record: the WAL objects of epochs below {@code epoch} that the writer which claimed
     * {@code epoch} accepted (saw in its replay listing and found valid). Immutable.
     */
    record ClaimRecord(long epoch, long basisEpoch, long[] firstSequences) {
        /** Whether the object whose key has first sequence {@code firstSequence} was accepted. */
        boolean accepts(long firstSequence) {
            return java.util.Arrays.binarySearch(firstSequences, firstSequence) >= 0;
        }
    }

    /** Encodes a claim record; {@code firstSequences} must be strictly ascending and below {@code epoch}'s sequences. */
    static ByteBuffer encodeClaimRecord(long epoch, long basisEpoch, long[] firstSequences) {
        int n = firstSequences.length;
        byte[] b = new byte[CLAIM_HEADER_LENGTH + 8 * n + 4];
        putInt(b, 0, CLAIM_MAGIC);
        putShort(b, 4, CLAIM_VERSION);
        putLong(b, 8, epoch);
        putLong(b, 16, basisEpoch);
        putInt(b, 24, n);
        long previous = Long.MIN_VALUE;
        for (int i = 0; i < n; i++) {
            long s = firstSequences[i];
            if (s <= previous || s < 0 || (s >>> EPOCH_SHIFT) >= epoch) {
                throw new IllegalArgumentException("claim record of epoch " + epoch + ": sequence " + s
                        + " is not ascending or not of an older epoch");
            }
            previous = s;
            putLong(b, CLAIM_HEADER_LENGTH + 8 * i, s);
        }
        putInt(b, CLAIM_HEADER_LENGTH + 8 * n, crc(b, 0, CLAIM_HEADER_LENGTH + 8 * n));
        return ByteBuffer.wrap(b).asReadOnlyBuffer();
    }

    /**
     * Decodes a claim record read from the key of epoch {@code expectedEpoch}, or returns
     * {@code null} with the reason in {@code problem[0]} if it does not verify (wrong magic,
     * version, length, CRC, epoch, or sequences out of order). Never throws for bad bytes.
     */
    static ClaimRecord decodeClaimRecord(ByteBuffer bytes, long expectedEpoch, String[] problem) {
        ByteBuffer b = bytes.duplicate();
        int base = b.position();
        int len = b.remaining();
        if (len < CLAIM_HEADER_LENGTH + 4) {
            problem[0] = "too short (" + len + " bytes)";
            return null;
        }
        if (b.getInt(base) != CLAIM_MAGIC) {
            problem[0] = "bad magic";
            return null;
        }
        short version = b.getShort(base + 4);
        if (version != CLAIM_VERSION) {
            problem[0] = "unsupported claim-record version " + version;
            return null;
        }
        int n = b.getInt(base + 24);
        if (n < 0 || (long) CLAIM_HEADER_LENGTH + 8L * n + 4 != len) {
            problem[0] = "length " + len + " does not fit " + n + " sequences";
            return null;
        }
        int body = CLAIM_HEADER_LENGTH + 8 * n;
        if (crc(b, base, body) != b.getInt(base + body)) {
            problem[0] = "CRC mismatch";
            return null;
        }
        long epoch = b.getLong(base + 8);
        if (epoch != expectedEpoch) {
            problem[0] = "epoch " + epoch + " does not match its key's " + expectedEpoch;
            return null;
        }
        long[] seqs = new long[n];
        long previous = Long.MIN_VALUE;
        for (int i = 0; i < n; i++) {
            long s = b.getLong(base + CLAIM_HEADER_LENGTH + 8 * i);
            if (s <= previous || s < 0 || (s >>> EPOCH_SHIFT) >= epoch) {
                problem[0] = "sequence " + s + " out of order or not of an older epoch";
                return null;
            }
            seqs[i] = s;
            previous = s;
        }
        return new ClaimRecord(epoch, b.getLong(base + 16), seqs);
    }

    static int crc(byte[] src, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(src, off, len);
        return (int) c.getValue();
    }

    private static int crc(ByteBuffer b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b.duplicate().limit(off + len).position(off));
        return (int) c.getValue();
    }

    static void putShort(byte[] dst, int off, short v) {
        dst[off] = (byte) (v >>> 8);
        dst[off + 1] = (byte) v;
    }

    static void putInt(byte[] dst, int off, int v) {
        dst[off] = (byte) (v >>> 24);
        dst[off + 1] = (byte) (v >>> 16);
        dst[off + 2] = (byte) (v >>> 8);
        dst[off + 3] = (byte) v;
    }

    static void putLong(byte[] dst, int off, long v) {
        putInt(dst, off, (int) (v >>> 32));
        putInt(dst, off + 4, (int) v);
    }
}
