package io.shale.log.spi;

import java.nio.ByteBuffer;

/**
 * One entry handed to {@link WriteAheadLog#append}: a run of record batches of one partition.
 * Implemented by the engine (one object per append, so the WAL allocates nothing per entry).
 *
 * <p>Exactly one of {@link #onDurable} or {@link #onFailure} is called, once, from a WAL thread
 * (or, for entries failed by {@link WriteAheadLog#close()}, from the closing thread). Both must be
 * cheap and must not block or call back into the WAL.
 */
public interface WalEntry {
    /** The store-wide id of the partition the entry belongs to (never negative). */
    int streamId();

    /** The offset of the first record of the entry. */
    long baseOffset();

    /**
     * The entry's bytes (whole Kafka v2 record batches), from position to limit. The WAL must not
     * modify them or move the position (use {@code duplicate()}); they stay valid until a callback
     * has been called.
     */
    ByteBuffer payload();

    /** The entry is durable as the WAL's policy defines it. */
    void onDurable();

    /** The entry could not be made durable; it may or may not be found by a later replay. */
    void onFailure(Throwable error);
}
