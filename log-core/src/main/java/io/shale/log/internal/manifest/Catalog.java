package io.shale.log.internal.manifest;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where a store's metadata lives: topics, partitions, data objects, writer epochs. The engine
 * talks to the metadata only through this interface, so that the data-object format stays
 * independent of it; {@link ObjectStoreCatalog} keeps it in the object store itself (a chain of
 * immutable deltas plus snapshots), and a catalog over a consensus store can replace it later.
 *
 * <p><b>Threading.</b> Thread-safe. {@link #state()} may be read only while holding
 * {@link #lock()}, except for the volatile fields of {@link PartitionMeta}, which are safe to
 * read anywhere.
 */
public interface Catalog extends AutoCloseable {

    /** The lock guarding {@link #state()} and commits. */
    Object lock();

    /** The current metadata (read under {@link #lock()}). */
    ManifestState state();

    /**
     * Reads the latest metadata. Called once, before anything else. {@code listener} hears of
     * every change applied afterwards (by commits and refreshes), under {@link #lock()}.
     */
    void load(ManifestState.Listener listener);

    /**
     * Claims the writer role with a new epoch, fencing every previous writer. Returns the epoch.
     */
    long claimWriter();

    /** The epoch this instance claimed, or 0 if it is a reader. */
    long writerEpoch();

    /**
     * Commits {@code ops} atomically and applies them to {@link #state()}.
     *
     * <p>If the outcome cannot be known (the object store failed after retries), throws
     * {@code ShaleException(UNAVAILABLE)} and remembers the attempt: the next commit first finds
     * out whether it landed. Repeating a commit with the same {@code token} after such a failure
     * is idempotent: if the earlier attempt landed, the repeat returns without writing again.
     *
     * @throws io.shale.log.ShaleException {@code FENCED} if a newer writer has claimed the store
     *     (this instance then refuses every later commit); {@code UNAVAILABLE} as above
     */
    void commit(List<ManifestOp> ops, String token);

    /**
     * Completes normally if no newer writer has claimed the store; exceptionally with
     * {@code FENCED} if one has, or {@code UNAVAILABLE} if that cannot be told now.
     */
    CompletableFuture<Void> checkNotFenced();

    /**
     * Keys of the objects added by a commit whose outcome is still unknown (it may have landed and
     * be applied later): orphan cleanup must treat them as in flight. Read under {@link #lock()}.
     */
    default java.util.Set<String> objectsOfUnresolvedCommits() {
        return java.util.Set.of();
    }

    /** Whether this instance has learned that it is fenced. */
    boolean isFenced();

    /** Readers: applies metadata committed since the last look. Returns whether anything changed. */
    boolean refresh();

    /**
     * Background upkeep: writes a snapshot when enough deltas accumulated and deletes manifest
     * files no reader needs any more.
     */
    void maintain();

    @Override
    void close();
}
