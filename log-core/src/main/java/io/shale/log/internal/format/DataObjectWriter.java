package io.shale.log.internal.format;

import static io.shale.log.internal.format.DataObjectFormat.*;

import io.shale.log.record.RecordBatchLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Lays out a data object from runs of whole record batches, without copying them: the output is
 * a list of buffers that are views of the input plus a small index and footer.
 *
 * <p>Input runs must arrive in (partition id, offset) order. Batches are grouped into blocks of
 * about {@code blockTargetBytes} (a block never splits a batch and never mixes partitions).
 * Incremental: {@link #drain()} hands out the buffers of completed blocks so a streamed upload
 * need not hold the whole object. Not thread-safe.
 */
public final class DataObjectWriter {
    private final int blockTargetBytes;
    private final List<BlockInfo> blocks = new ArrayList<>();
    private final List<ByteBuffer> ready = new ArrayList<>();

    // the open block
    private final List<ByteBuffer> openSlices = new ArrayList<>();
    private final CRC32C openCrc = new CRC32C();
    private int openPartition = -1;
    private long openBase;
    private long openNext;
    private long openMaxTimestamp;
    private int openSize;

    private long position;
    private long lastPartition = -1;
    private long lastNextOffset = -1;
    private boolean finished;

    public DataObjectWriter(int blockTargetBytes) {
        if (blockTargetBytes <= 0) {
            throw new IllegalArgumentException("block target must be positive: " + blockTargetBytes);
        }
        this.blockTargetBytes = blockTargetBytes;
    }

    /**
     * Adds whole batches of one partition (the buffer's remaining bytes). The buffer is sliced,
     * not copied, and must stay unchanged until the object is written.
     *
     * @throws CorruptObjectException if the bytes do not divide into whole batches
     * @throws IllegalArgumentException if the order (partition id, offset) goes backwards
     */
    public void add(int partitionId, ByteBuffer batches) {
        if (finished) {
            throw new IllegalStateException("writer finished");
        }
        if (partitionId < lastPartition) {
            throw new IllegalArgumentException("partition " + partitionId + " added after " + lastPartition);
        }
        if (partitionId != lastPartition) {
            closeBlock();
            lastPartition = partitionId;
            lastNextOffset = -1;
        }
        int pos = batches.position();
        int end = batches.limit();
        int runStart = pos;
        while (pos < end) {
            if (end - pos < RecordBatchLayout.HEADER_SIZE) {
                throw new CorruptObjectException("partition id " + partitionId + ": " + (end - pos)
                        + " trailing bytes are not a whole batch");
            }
            int size = batches.getInt(pos + RecordBatchLayout.LENGTH_OFFSET) + RecordBatchLayout.LOG_OVERHEAD;
            if (size < RecordBatchLayout.HEADER_SIZE || size > end - pos) {
                throw new CorruptObjectException("partition id " + partitionId + ": batch at " + pos
                        + " claims " + size + " bytes, " + (end - pos) + " remain");
            }
            long base = batches.getLong(pos + RecordBatchLayout.BASE_OFFSET_OFFSET);
            long next = base + batches.getInt(pos + RecordBatchLayout.LAST_OFFSET_DELTA_OFFSET) + 1;
            long maxTs = batches.getLong(pos + RecordBatchLayout.MAX_TIMESTAMP_OFFSET);
            if (lastNextOffset >= 0 && base < lastNextOffset) {
                throw new IllegalArgumentException("partition id " + partitionId + ": offset " + base
                        + " added after " + lastNextOffset);
            }
            int blockBytes = openSize + (pos - runStart);
            if (blockBytes > 0 && (openPartition != partitionId || base != openNext
                    || blockBytes + size > blockTargetBytes)) {
                flushRun(batches, runStart, pos);
                runStart = pos;
                closeBlock();
                blockBytes = 0;
            }
            if (blockBytes == 0) {
                openPartition = partitionId;
                openBase = base;
                openMaxTimestamp = Long.MIN_VALUE;
            }
            openNext = next;
            openMaxTimestamp = Math.max(openMaxTimestamp, maxTs);
            lastNextOffset = next;
            pos += size;
        }
        flushRun(batches, runStart, pos);
    }

    private void flushRun(ByteBuffer src, int from, int to) {
        if (to <= from) {
            return;
        }
        ByteBuffer slice = src.duplicate();
        slice.limit(to).position(from);
        slice = slice.slice();
        openCrc.update(slice.duplicate()); // fast (array or address) path unless src is read-only heap
        openSlices.add(slice.asReadOnlyBuffer());
        openSize += to - from;
    }

    private void closeBlock() {
        if (openSize == 0) {
            return;
        }
        blocks.add(new BlockInfo(openPartition, (int) openCrc.getValue(), openBase, openNext, openMaxTimestamp,
                position, openSize));
        position += openSize;
        ready.addAll(openSlices);
        openSlices.clear();
        openCrc.reset();
        openSize = 0;
    }

    /** Buffers of blocks completed since the last call, in order. */
    public List<ByteBuffer> drain() {
        List<ByteBuffer> out = new ArrayList<>(ready);
        ready.clear();
        return out;
    }

    /** Closes the last block and returns the remaining buffers: last blocks, index, footer. */
    public List<ByteBuffer> finish() {
        if (finished) {
            throw new IllegalStateException("writer finished");
        }
        closeBlock();
        finished = true;
        List<ByteBuffer> out = drain();
        out.add(encodeIndexAndFooter(blocks, position));
        return out;
    }

    /** Blocks laid out so far (complete after {@link #finish()}). */
    public List<BlockInfo> blocks() {
        return blocks;
    }

    /** Position of the index = bytes of data blocks. */
    public long indexPosition() {
        return position;
    }

    /** Total object size (valid after {@link #finish()}). */
    public long objectSize() {
        return position + indexLength(blocks.size()) + FOOTER_SIZE;
    }

    /** Encodes the index and footer for {@code blocks} (the object's last bytes). */
    public static ByteBuffer encodeIndexAndFooter(List<BlockInfo> blocks, long indexPosition) {
        int indexLength = indexLength(blocks.size());
        ByteBuffer buf = ByteBuffer.allocate(indexLength + FOOTER_SIZE);
        buf.putInt(INDEX_MAGIC).putShort((short) VERSION).putShort((short) 0).putInt(blocks.size());
        for (BlockInfo b : blocks) {
            buf.putInt(b.partitionId()).putInt(b.crc()).putLong(b.baseOffset()).putLong(b.nextOffset())
                    .putLong(b.maxTimestamp()).putLong(b.position()).putInt(b.size()).putInt(0);
        }
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), 0, buf.position());
        buf.putInt((int) crc.getValue());
        int f = buf.position();
        buf.putLong(FOOTER_MAGIC).putShort((short) VERSION).putShort((short) 0).putInt(blocks.size())
                .putLong(indexPosition).putInt(indexLength);
        crc.reset();
        crc.update(buf.array(), f, FOOTER_CRC_OFFSET);
        buf.putInt((int) crc.getValue());
        buf.flip();
        return buf.asReadOnlyBuffer();
    }
}
