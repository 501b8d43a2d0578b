package io.shale.log.spi;

/**
 * Makes appended record batches durable before they are acknowledged. One WAL serves every
 * partition of a store: its file or object count must not grow with the number of partitions.
 *
 * <p><b>Lifecycle.</b> The store calls {@link #open} once, then claims its writer epoch, then
 * calls {@link #replay} once or more, then makes any number of {@link #append} and {@link #trim}
 * calls from any threads, then calls {@link #close}. {@code open} comes before the claim so that a
 * store that cannot run (its WAL directory is locked by a live writer, a precondition fails) fails
 * before it fences the writer that is running; a WAL therefore takes its local locks and checks
 * its local preconditions in {@code open}, and reads {@link WalContext#writerEpoch()} no earlier
 * than in {@code replay}.
 *
 * <p><b>Ordering.</b> {@link #append} returns the entry's sequence number. Sequence numbers
 * increase across appends and across restarts (an entry appended after a replay has a higher
 * sequence than every replayed one); they need not be contiguous. Entries appended by one thread
 * are replayed in the order they were appended. Entries may complete out of order; the store
 * does not rely on completion order.
 *
 * <p><b>Durability.</b> An entry whose {@link WalEntry#onDurable} was called survives a crash of
 * the process (and of the machine, unless the implementation documents a weaker policy, such as
 * a file WAL with interval fsync) and is returned by a later {@link #replay} until trimmed. Entries
 * that failed or never completed may or may not be replayed. Replay never returns an entry whose
 * bytes fail the WAL's checksum; it stops at a torn or corrupt tail and discards it.
 *
 * <p><b>Failures.</b> An I/O failure fails the affected entries through
 * {@link WalEntry#onFailure}; the WAL then keeps accepting appends and retries its I/O, so that
 * the store continues once the cause (a full disk, a throttled bucket) is gone.
 */
public interface WriteAheadLog extends AutoCloseable {

    /**
     * Binds the WAL to the store that opened it and takes whatever local locks it needs. Called
     * once, before the store claims its writer epoch ({@link WalContext#writerEpoch()} is not
     * known yet) and before {@link #replay}.
     *
     * @throws io.shale.log.ShaleException {@code IN_USE} naming the holder if another live WAL (in
     *     this or another process) holds the lock; {@code UNAVAILABLE} if the WAL's storage cannot
     *     be opened now
     */
    void open(WalContext context);

    /**
     * Calls {@code handler} for every surviving entry not yet trimmed, in sequence order (entries
     * of one stream are always in the order they were appended). Called after the store claimed
     * its writer epoch and before the first append; it may be called again before the first
     * append, and every call delivers the same entries (the store replays twice when its log cache
     * cannot hold everything the WAL holds: once to decide which entries survive, once to load
     * them). A torn tail is not an error (it is discarded). Throws {@code ShaleException} of kind
     * {@code CORRUPT_STORAGE}, naming the file or object, if the WAL cannot be read or if entries
     * that were acknowledged are known to be lost (damage before the tail); implementations
     * document which damage they tolerate.
     */
    void replay(WalReplayHandler handler);

    /**
     * Queues an entry and returns its sequence number at once; the entry's callbacks report
     * whether it became durable. Thread-safe and non-blocking (except for bounded back-pressure
     * on the WAL's own queue).
     *
     * @throws io.shale.log.ShaleException of kind {@code CLOSED} after {@link #close}; {@code FENCED}
     *     once the WAL learned that a newer writer owns the store; {@code UNAVAILABLE} if the WAL's
     *     own bounded back-pressure wait expired, or if called from one of this WAL's callbacks
     *     while its queue is full (waiting there would wait for itself). The entry is then not
     *     queued and gets no callback.
     * @throws IllegalArgumentException if the entry is larger than the WAL accepts (documented by
     *     each implementation, at least 64 MiB)
     */
    long append(WalEntry entry);

    /**
     * The sequence number the next {@link #append} will get (a lower bound: appends racing with
     * this call may get it or higher ones).
     */
    long nextSequence();

    /**
     * Tells the WAL that entries with a sequence lower than {@code sequence} are in the object
     * store and need not be replayed again. The WAL frees their space at its own granularity
     * (whole files or objects), possibly later (a WAL that may still be replayed again, before its
     * first append, may keep them until then).
     */
    void trim(long sequence);

    /**
     * Whether this WAL completes an entry only after {@link WalContext#checkNotFenced()} confirmed,
     * after the entry became durable, that no newer writer owns the store (as a WAL whose
     * durability is shared storage must: see {@code checkNotFenced}). If not (a WAL on local
     * disk), the store itself withholds acknowledgements unless it confirmed within
     * {@code writer.lease.ms} that it is still the writer. Default: false.
     */
    default boolean checksFencing() {
        return false;
    }

    /**
     * Bytes the WAL occupies in its storage now (the file WAL: its segment files, preallocated
     * spares included), or -1 if it does not know (the default). Read for metrics, from any
     * thread, possibly before {@link #open} and after {@link #close}; it should be cheap and must
     * not throw.
     */
    default long sizeBytes() {
        return -1;
    }

    /** A short description for logs, e.g. {@code file-wal:/var/lib/app/wal}. */
    String describe();

    /**
     * Stops accepting appends, makes queued entries durable (or fails them) and releases
     * resources. Idempotent.
     */
    @Override
    void close();
}
