package io.shale.log.internal.engine;

import io.shale.log.FetchResult;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/** A long poll waiting for data at {@link #offset} of one partition. */
final class Waiter {
    final PartitionLog log;
    final long offset;
    final int maxBytes;
    /** A read_committed poll: waits for data below the last stable offset. */
    final boolean committed;
    final CompletableFuture<FetchResult> future = new CompletableFuture<>();
    volatile ScheduledFuture<?> timeout;

    Waiter(PartitionLog log, long offset, int maxBytes, boolean committed) {
        this.committed = committed;
        this.log = log;
        this.offset = offset;
        this.maxBytes = maxBytes;
    }
}
