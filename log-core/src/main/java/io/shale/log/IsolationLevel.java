package io.shale.log;

/**
 * What a read may return, as Kafka's consumer {@code isolation.level}.
 */
public enum IsolationLevel {
    /** Everything below the high watermark, records of open and aborted transactions included. */
    READ_UNCOMMITTED,
    /**
     * Only records below the last stable offset (see {@link LogStore#lastStableOffset}), with the
     * aborted transactions the returned batches overlap, so a reader can skip their records
     * ({@link FetchResult#records()} does).
     */
    READ_COMMITTED
}
