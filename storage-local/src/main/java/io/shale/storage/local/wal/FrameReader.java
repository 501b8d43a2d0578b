package io.shale.storage.local.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32C;

/**
 * Reads and verifies frames of one segment file through a window buffer. Assumes the bytes may
 * be anything: a lying length is checked against the file size and {@link WalFormat#MAX_PAYLOAD_BYTES}
 * before any read, so it cannot cause a large allocation or a read past the file. Not thread-safe.
 */
final class FrameReader {
    private static final int WINDOW_BYTES = 1 << 20;

    private final CRC32C crc = new CRC32C();
    private final byte[] scratch = new byte[8];
    private ByteBuffer window;
    private ByteBuffer crcView;
    private ByteBuffer payloadView;
    private long windowStart;
    private int windowLength;

    private FileChannel channel;
    private long limit;
    private long segmentId;

    // Fields of the last frame read successfully.
    long sequence;
    int streamId;
    long baseOffset;
    /** A read-only view of the last frame's payload, valid until the next call. */
    ByteBuffer payload;

    FrameReader() {
        allocate(WINDOW_BYTES);
    }

    /** Switches to a segment: its channel, its size and the id its frames must carry. */
    void reset(FileChannel channel, long fileSize, long segmentId) {
        this.channel = channel;
        this.limit = fileSize;
        this.segmentId = segmentId;
        this.windowStart = 0;
        this.windowLength = 0;
    }

    /**
     * Reads the frame at {@code pos}; returns its total length, or -1 if there is no valid frame
     * there (out of file, zero, torn, stale, or corrupt).
     */
    int read(long pos) throws IOException {
        if (pos < WalFormat.FIRST_FRAME_OFFSET || pos > limit - WalFormat.FRAME_HEADER_LENGTH) {
            return -1;
        }
        if (!ensure(pos, WalFormat.FRAME_HEADER_LENGTH)) {
            return -1;
        }
        int at = (int) (pos - windowStart);
        int length = window.getInt(at + WalFormat.FRAME_LENGTH_OFFSET);
        if (window.get(at + WalFormat.FRAME_TYPE_OFFSET) != WalFormat.FRAME_TYPE_ENTRY
                || window.get(at + WalFormat.FRAME_FLAGS_OFFSET) != 0
                || window.getShort(at + WalFormat.FRAME_RESERVED_OFFSET) != 0
                || window.getLong(at + WalFormat.FRAME_SEGMENT_ID_OFFSET) != segmentId
                || length < 0 || length > WalFormat.MAX_PAYLOAD_BYTES
                || length > limit - pos - WalFormat.FRAME_HEADER_LENGTH) {
            return -1;
        }
        int frameLength = WalFormat.frameLength(length);
        if (!ensure(pos, frameLength)) {
            return -1;
        }
        at = (int) (pos - windowStart);
        int stored = window.getInt(at + WalFormat.FRAME_CRC_OFFSET);
        if (stored != WalFormat.frameCrc(crcView, at, pos, length, crc, scratch)) {
            return -1;
        }
        sequence = window.getLong(at + WalFormat.FRAME_SEQUENCE_OFFSET);
        streamId = window.getInt(at + WalFormat.FRAME_STREAM_ID_OFFSET);
        baseOffset = window.getLong(at + WalFormat.FRAME_BASE_OFFSET_OFFSET);
        int payloadAt = at + WalFormat.FRAME_HEADER_LENGTH;
        payload = payloadView.limit(payloadAt + length).position(payloadAt);
        return frameLength;
    }

    /** Makes {@code [pos, pos + n)} available in the window; false if the file ends first. */
    private boolean ensure(long pos, int n) throws IOException {
        if (pos >= windowStart && pos + n <= windowStart + windowLength) {
            return true;
        }
        if (n > window.capacity()) {
            allocate(n);
        }
        window.clear();
        long remaining = limit - pos;
        if (remaining < window.capacity()) {
            window.limit((int) remaining);
        }
        windowStart = pos;
        while (window.hasRemaining()) {
            int r = channel.read(window, pos + window.position());
            if (r < 0) {
                break;
            }
        }
        windowLength = window.position();
        return windowLength >= n;
    }

    private void allocate(int capacity) {
        window = ByteBuffer.allocateDirect(capacity);
        crcView = window.duplicate();
        payloadView = window.asReadOnlyBuffer();
        windowStart = 0;
        windowLength = 0;
    }
}
