package io.shale.log.internal.engine;

import io.shale.log.FetchResult;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/** A long poll waiting for data at {@link #offset} of one partition. */
final class Waiter {
    final PartitionLog log;
    final long offset;
    final int maxBytes;
    final CompletableFuture<FetchResult> future = new CompletableFuture<>();
    volatile ScheduledFuture<?> timeout;

    Waiter(PartitionLog log, long offset, int maxBytes) {
        this.log = log;
        this.offset = offset;
        this.maxBytes = maxBytes;
    }
}
