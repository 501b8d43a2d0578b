package io.shale.log.internal.manifest;

/**
 * A contiguous run of one partition's batches inside a data object: what the manifest records
 * per (object, partition). Immutable.
 *
 * @param object the object holding the bytes
 * @param partitionId the store-wide partition id
 * @param baseOffset first offset of the run
 * @param nextOffset one past the last offset of the run
 * @param maxTimestamp largest batch max timestamp of the run
 * @param position byte position of the run in the object
 * @param length byte length of the run
 * @param firstBlock index (in the object's index) of the run's first block
 * @param blockCount number of blocks of the run
 * @param singleBlockCrc CRC-32C of the block when {@code blockCount == 1} (saves reading the index)
 */
public record RangeRef(ObjectMeta object, int partitionId, long baseOffset, long nextOffset, long maxTimestamp,
        long position, int length, int firstBlock, int blockCount, int singleBlockCrc) {

    public boolean contains(long offset) {
        return offset >= baseOffset && offset < nextOffset;
    }

    @Override
    public String toString() {
        return "Range[" + object.key() + " p" + partitionId + " " + baseOffset + ".." + nextOffset + " @" + position
                + "+" + length + " blocks " + firstBlock + "+" + blockCount + "]";
    }
}
