package io.shale.log.wal;

/**
 * Implemented by a {@link io.shale.log.spi.WalContext} whose store commits an
 * {@link ObjectWriteAheadLog}'s objects to its manifest as first-level data objects (Shale's own
 * engine does). An object WAL built with {@link ObjectWriteAheadLog.Builder#dataObjects} checks
 * whether its context implements this interface; without it, the version-2 objects are an
 * ordinary WAL (replayed, and deleted on trim).
 *
 * <p><b>Ownership.</b> Once the store's manifest references an object, the store owns it: the
 * WAL neither deletes it on trim nor replays it (the store guarantees that every entry of a
 * referenced object that it still needs is committed with it). The store deletes it when no
 * manifest range references it any longer.
 *
 * <p><b>Threading.</b> Both methods are called from the WAL's threads, must be cheap, must not
 * block and must not call back into the WAL.
 */
public interface WalDataObjectSink {
    /**
     * {@code object} is durable and the writer was verified not fenced after its PUT. Called once
     * per object, before any of its entries' {@link io.shale.log.spi.WalEntry#onDurable}.
     */
    void onDataObject(WalDataObject object);

    /** Whether the store's manifest references (owns) the object with this key now. */
    boolean isCommittedDataObject(String key);
}
