package io.shale.log.spi;

import java.nio.ByteBuffer;

/** Receives the entries a {@link WriteAheadLog} recovered, see {@link WriteAheadLog#replay}. */
@FunctionalInterface
public interface WalReplayHandler {
    /**
     * One recovered entry. {@code payload} is valid only during the call (the handler copies what
     * it keeps) and has passed the WAL's own checksum.
     */
    void onEntry(long sequence, int streamId, long baseOffset, ByteBuffer payload);
}
