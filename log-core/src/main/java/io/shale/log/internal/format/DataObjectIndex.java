package io.shale.log.internal.format;

import static io.shale.log.internal.format.DataObjectFormat.*;

import io.shale.log.internal.util.Crc32c;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The decoded index of a data object. Decoding verifies magic, version, CRCs and that every
 * entry lies inside the object, so later reads can trust positions and sizes.
 */
public final class DataObjectIndex {
    private final String key;
    private final List<BlockInfo> blocks;
    private final long indexPosition;

    private DataObjectIndex(String key, List<BlockInfo> blocks, long indexPosition) {
        this.key = key;
        this.blocks = blocks;
        this.indexPosition = indexPosition;
    }

    public List<BlockInfo> blocks() {
        return blocks;
    }

    public BlockInfo block(int i) {
        return blocks.get(i);
    }

    public long indexPosition() {
        return indexPosition;
    }

    /** Approximate heap footprint, for the cache weigher. */
    public int weight() {
        return 64 + blocks.size() * 72;
    }

    /**
     * Decodes a footer (the last {@link DataObjectFormat#FOOTER_SIZE} bytes of an object).
     *
     * @return {indexPosition, indexLength, blockCount, footer version}
     */
    public static long[] decodeFooter(String key, ByteBuffer footer, long objectSize) {
        if (footer.remaining() < FOOTER_SIZE) {
            throw corrupt(key, "footer truncated: " + footer.remaining() + " bytes");
        }
        int p = footer.position() + footer.remaining() - FOOTER_SIZE;
        if (footer.getLong(p + FOOTER_MAGIC_OFFSET) != FOOTER_MAGIC) {
            throw corrupt(key, "bad footer magic");
        }
        int crc = Crc32c.compute(footer, p, FOOTER_CRC_OFFSET);
        if (crc != footer.getInt(p + FOOTER_CRC_OFFSET)) {
            throw corrupt(key, "footer CRC mismatch");
        }
        int version = Short.toUnsignedInt(footer.getShort(p + FOOTER_VERSION_OFFSET));
        if (version != VERSION && version != VERSION_2) {
            throw corrupt(key, "unsupported data object version " + version);
        }
        int blockCount = footer.getInt(p + FOOTER_BLOCK_COUNT_OFFSET);
        long indexPosition = footer.getLong(p + FOOTER_INDEX_POSITION_OFFSET);
        int indexLength = footer.getInt(p + FOOTER_INDEX_LENGTH_OFFSET);
        if (blockCount < 0 || blockCount > MAX_BLOCKS || indexLength != indexLength(blockCount)
                || indexPosition < 0 || indexPosition + indexLength + FOOTER_SIZE != objectSize) {
            throw corrupt(key, "footer fields inconsistent with object size " + objectSize + ": blocks=" + blockCount
                    + " indexPosition=" + indexPosition + " indexLength=" + indexLength);
        }
        return new long[] {indexPosition, indexLength, blockCount, version};
    }

    /**
     * Decodes an index given the bytes from {@code indexPosition} to the end of the object
     * (index followed by footer).
     */
    public static DataObjectIndex decode(String key, ByteBuffer indexAndFooter, long objectSize) {
        long[] footer = decodeFooter(key, indexAndFooter, objectSize);
        long indexPosition = footer[0];
        int indexLength = (int) footer[1];
        int blockCount = (int) footer[2];
        boolean gaps = footer[3] == VERSION_2; // blocks may be preceded or followed by other bytes
        if (indexAndFooter.remaining() != indexLength + FOOTER_SIZE) {
            throw corrupt(key, "expected " + (indexLength + FOOTER_SIZE) + " bytes of index and footer, got "
                    + indexAndFooter.remaining());
        }
        int base = indexAndFooter.position();
        if (indexAndFooter.getInt(base) != INDEX_MAGIC) {
            throw corrupt(key, "bad index magic");
        }
        int version = Short.toUnsignedInt(indexAndFooter.getShort(base + 4));
        if (version != VERSION) {
            throw corrupt(key, "unsupported index version " + version);
        }
        if (indexAndFooter.getInt(base + 8) != blockCount) {
            throw corrupt(key, "index entry count disagrees with footer");
        }
        int crcAt = base + indexLength - INDEX_TRAILER_SIZE;
        if (Crc32c.compute(indexAndFooter, base, indexLength - INDEX_TRAILER_SIZE) != indexAndFooter.getInt(crcAt)) {
            throw corrupt(key, "index CRC mismatch");
        }
        List<BlockInfo> blocks = new ArrayList<>(blockCount);
        long expectedPosition = 0;
        for (int i = 0; i < blockCount; i++) {
            int e = base + INDEX_HEADER_SIZE + i * ENTRY_SIZE;
            BlockInfo b = new BlockInfo(
                    indexAndFooter.getInt(e + ENTRY_PARTITION_ID),
                    indexAndFooter.getInt(e + ENTRY_CRC),
                    indexAndFooter.getLong(e + ENTRY_BASE_OFFSET),
                    indexAndFooter.getLong(e + ENTRY_NEXT_OFFSET),
                    indexAndFooter.getLong(e + ENTRY_MAX_TIMESTAMP),
                    indexAndFooter.getLong(e + ENTRY_POSITION),
                    indexAndFooter.getInt(e + ENTRY_SIZE_FIELD));
            if ((gaps ? b.position() < expectedPosition : b.position() != expectedPosition) || b.size() <= 0 || b.baseOffset() < 0
                    || b.nextOffset() <= b.baseOffset() || b.partitionId() < 0
                    || b.position() > indexPosition - b.size()) { // (no overflow: ends before the index)
                throw corrupt(key, "index entry " + i + " is inconsistent: " + b);
            }
            expectedPosition = b.position() + b.size();
            blocks.add(b);
        }
        if (gaps ? expectedPosition > indexPosition : expectedPosition != indexPosition) {
            throw corrupt(key, "blocks end at " + expectedPosition + " but the index starts at " + indexPosition);
        }
        return new DataObjectIndex(key, Collections.unmodifiableList(blocks), indexPosition);
    }

    /** Verifies a fetched block against its CRC. */
    public static void verifyBlock(String key, BlockInfo block, ByteBuffer bytes) {
        if (bytes.remaining() != block.size()) {
            throw corrupt(key, "block at " + block.position() + " has " + bytes.remaining() + " bytes, expected "
                    + block.size());
        }
        if (Crc32c.compute(bytes) != block.crc()) {
            throw corrupt(key, "CRC mismatch in block at " + block.position() + " (partition id " + block.partitionId()
                    + ", offsets " + block.baseOffset() + ".." + (block.nextOffset() - 1) + ")");
        }
    }

    private static CorruptObjectException corrupt(String key, String what) {
        return new CorruptObjectException("data object '" + key + "': " + what);
    }

    @Override
    public String toString() {
        return "DataObjectIndex[" + key + ", " + blocks.size() + " blocks]";
    }
}
