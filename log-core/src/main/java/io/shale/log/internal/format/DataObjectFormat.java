package io.shale.log.internal.format;

/**
 * Layout of a data object: the unit Shale writes to the object store. One object holds record
 * batches of many partitions (an upload) or of one partition (a compacted segment).
 *
 * <pre>
 * +-----------------------------------------------------------+ 0
 * | block 0: whole record batches of one partition, in offset  |
 * |          order (Kafka v2 bytes, unchanged)                 |
 * | block 1 ...                                                |
 * | ...      blocks sorted by (partition id, offset)           |
 * +-----------------------------------------------------------+ indexPosition
 * | index header: magic i32 "SDXI" | version u16 | pad u16 |    |
 * |               entryCount i32                               |
 * | entry x entryCount (48 bytes each, see ENTRY_* offsets):   |
 * |   partitionId i32 | crc u32 (CRC-32C of the block bytes) | |
 * |   baseOffset i64 | nextOffset i64 (exclusive) |            |
 * |   maxTimestamp i64 | position i64 | size i32 | pad i32     |
 * | indexCrc u32 (CRC-32C of header and entries)               |
 * +-----------------------------------------------------------+ size - FOOTER_SIZE
 * | footer: magic i64 "SHALEOBJ" | version u16 | flags u16 |   |
 * |         blockCount i32 | indexPosition i64 |               |
 * |         indexLength i32 | footerCrc u32 (of the 28 bytes   |
 * |         before it)                                         |
 * +-----------------------------------------------------------+ size
 * </pre>
 *
 * <p>An index entry's offsets are the range its block covers: normally its first batch's base
 * offset to one past its last batch's last offset. A segment written by key-based compaction
 * ({@code cleanup.policy=compact}) tiles the offsets it replaced: each block starts where the
 * previous one ended, so offsets whose records were removed still fall in some block (a reader
 * returns the next batch after them). The layout and version are the same.
 *
 * <p>All integers big-endian. A reader that knows the object's size reads the footer (or, knowing
 * the index position from the manifest, the index and footer in one ranged GET), then any block
 * with one more ranged GET. Every block is verified against its CRC before use.
 */
public final class DataObjectFormat {
    public static final int VERSION = 1;
    /**
     * Footer version 2: the same layout, except that blocks need not start at byte 0 nor end at
     * the index (other bytes may precede, or follow, the blocks: the object WAL's version-2
     * objects keep their header and sequence table there). Blocks are still in index order and
     * never overlap. Readers accept both versions; writers of ordinary data objects write 1.
     */
    public static final int VERSION_2 = 2;

    public static final int INDEX_MAGIC = 0x53445849; // "SDXI"
    public static final int INDEX_HEADER_SIZE = 12;
    public static final int ENTRY_SIZE = 48;
    public static final int ENTRY_PARTITION_ID = 0;
    public static final int ENTRY_CRC = 4;
    public static final int ENTRY_BASE_OFFSET = 8;
    public static final int ENTRY_NEXT_OFFSET = 16;
    public static final int ENTRY_MAX_TIMESTAMP = 24;
    public static final int ENTRY_POSITION = 32;
    public static final int ENTRY_SIZE_FIELD = 40;
    public static final int INDEX_TRAILER_SIZE = 4;

    public static final long FOOTER_MAGIC = 0x5348414c454f424aL; // "SHALEOBJ"
    public static final int FOOTER_SIZE = 32;
    public static final int FOOTER_MAGIC_OFFSET = 0;
    public static final int FOOTER_VERSION_OFFSET = 8;
    public static final int FOOTER_FLAGS_OFFSET = 10;
    public static final int FOOTER_BLOCK_COUNT_OFFSET = 12;
    public static final int FOOTER_INDEX_POSITION_OFFSET = 16;
    public static final int FOOTER_INDEX_LENGTH_OFFSET = 24;
    public static final int FOOTER_CRC_OFFSET = 28;

    /** Largest block count a reader accepts (bounds the index allocation of a corrupt footer). */
    public static final int MAX_BLOCKS = 4 * 1024 * 1024;

    private DataObjectFormat() {
    }

    /** Index length in bytes for {@code blocks} entries. */
    public static int indexLength(int blocks) {
        return INDEX_HEADER_SIZE + blocks * ENTRY_SIZE + INDEX_TRAILER_SIZE;
    }
}
