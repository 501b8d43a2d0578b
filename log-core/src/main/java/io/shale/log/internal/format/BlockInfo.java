package io.shale.log.internal.format;

/**
 * One data block of an object: whole batches of one partition.
 *
 * @param partitionId the store-wide partition id
 * @param crc CRC-32C of the block's bytes
 * @param baseOffset base offset of the block's first batch; in a segment written by key-based
 *     compaction, the first offset the block covers, which may be lower (the offsets in between lost
 *     their records)
 * @param nextOffset one past the last offset of the block's last batch; in a segment written by
 *     key-based compaction, one past the last offset the block covers (the next block starts there)
 * @param maxTimestamp the largest batch max timestamp in the block
 * @param position byte position of the block in the object
 * @param size byte length of the block
 */
public record BlockInfo(int partitionId, int crc, long baseOffset, long nextOffset, long maxTimestamp, long position,
        int size) {
}
