package io.shale.log.wal;

import io.shale.log.spi.WalEntry;
import java.util.List;

/**
 * A durable object of an {@link ObjectWriteAheadLog} written in the data-object layout
 * ({@link ObjectWriteAheadLog.Builder#dataObjects}), as handed to a {@link WalDataObjectSink}: its
 * key, size, where its data index starts, and per block (one block per entry, in the object's
 * block order) the entry and the block's place and checksum. Immutable; the entries are the
 * ones that were appended (their callbacks are called right after the sink's).
 */
public final class WalDataObject {
    private final String key;
    private final long size;
    private final long indexPosition;
    private final List<WalEntry> entries;
    private final long[] positions;
    private final int[] sizes;
    private final int[] crcs;
    private final long[] nextOffsets;
    private final long[] maxTimestamps;

    WalDataObject(String key, long size, long indexPosition, List<WalEntry> entries, long[] positions, int[] sizes,
            int[] crcs, long[] nextOffsets, long[] maxTimestamps) {
        this.key = key;
        this.size = size;
        this.indexPosition = indexPosition;
        this.entries = entries;
        this.positions = positions;
        this.sizes = sizes;
        this.crcs = crcs;
        this.nextOffsets = nextOffsets;
        this.maxTimestamps = maxTimestamps;
    }

    /** The object's key in the store. */
    public String key() {
        return key;
    }

    /** The object's size in bytes. */
    public long size() {
        return size;
    }

    /** Where the object's data index starts (the index and footer run to the end). */
    public long indexPosition() {
        return indexPosition;
    }

    /** Number of blocks (= entries). */
    public int blockCount() {
        return entries.size();
    }

    /** The entry stored as block {@code block}. */
    public WalEntry entry(int block) {
        return entries.get(block);
    }

    /** Byte position of block {@code block} in the object. */
    public long position(int block) {
        return positions[block];
    }

    /** Byte length of block {@code block} (the entry's payload length). */
    public int blockSize(int block) {
        return sizes[block];
    }

    /** CRC-32C of block {@code block}'s bytes, as recorded in the object's index. */
    public int crc(int block) {
        return crcs[block];
    }

    /** One past the last offset of the block's batches, as recorded in the index (the base offset if unparsable). */
    public long nextOffset(int block) {
        return nextOffsets[block];
    }

    /** Largest batch max timestamp of the block, as recorded in the index (-1 if unparsable). */
    public long maxTimestamp(int block) {
        return maxTimestamps[block];
    }

    @Override
    public String toString() {
        return "WalDataObject[" + key + ", " + size + " bytes, " + entries.size() + " blocks]";
    }
}
