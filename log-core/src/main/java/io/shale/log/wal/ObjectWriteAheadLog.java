package io.shale.log.wal;

import static io.shale.log.wal.WalObjectScanner.await;
import static io.shale.log.wal.WalObjectScanner.kindOf;
import static io.shale.log.wal.WalObjectScanner.safe;
import static io.shale.log.wal.WalObjectScanner.unwrap;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.internal.util.Blocking;
import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.Payload;
import io.shale.log.spi.WalContext;
import io.shale.log.spi.WalEntry;
import io.shale.log.spi.WalReplayHandler;
import io.shale.log.spi.WriteAheadLog;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link WriteAheadLog} whose durability is the object store: appends of every partition are
 * batched into one object, written with a create-if-absent PUT, and acknowledged only once the PUT
 * succeeded and the writer was verified not fenced. Survives the loss of the machine.
 *
 * <p><b>Threading.</b> {@link #append}, {@link #nextSequence}, {@link #trim}, {@link #flush} and
 * {@link #metrics} are thread-safe. {@link #open}, {@link #replay} and {@link #close} follow the
 * {@link WriteAheadLog} lifecycle. Entry callbacks run on this WAL's own threads
 * ({@code shale-object-wal-*}), except entries failed by {@link #close} (the closing thread).
 *
 * <p><b>Durability.</b> {@code onDurable} is called only after the object holding the entry was
 * created in the object store and {@link WalContext#checkNotFenced()} completed normally after
 * that. Such an entry is returned by every later {@link #replay} until trimmed, on any machine
 * that can reach the store.
 *
 * <p><b>Errors.</b> {@code append} throws {@link ShaleException} {@code CLOSED} after close,
 * {@code FENCED} once fenced, {@code UNAVAILABLE} if back-pressure lasted longer than
 * {@link Builder#maxBlock} (the entry is then not queued and gets no callback), and
 * {@link IllegalArgumentException} for a payload over {@link #MAX_ENTRY_BYTES}. Entries fail with
 * {@code UNAVAILABLE} (PUT failed after the store's retries, naming the key; the WAL continues),
 * {@code FENCED} (the WAL stops), or {@code CLOSED} (not durable when close gave up waiting).
 *
 * <p><b>Idempotency.</b> {@link #close} and {@link #trim} are idempotent.
 */
public final class ObjectWriteAheadLog implements WriteAheadLog {
    /*
     * Design rationale.
     *
     * Batching: one "pending object" at a time collects the frames of every partition. It is sealed
     * when it holds at least flushBytes, when flushInterval has passed since its first entry (a
     * one-shot timer on the context's scheduler, which only seals and hands the PUT to our
     * executor), on flush() and on close(). Sealed objects queue for up to maxInFlightPuts
     * concurrent PUTs, so one slow PUT (S3 p99 is hundreds of ms) does not cap throughput.
     *
     * Copying: append copies the payload into the pending object at once (under the lock, together
     * with the frame CRC that has to read every byte anyway), instead of keeping references until
     * the PUT completes. The object is then a few large buffers that any store can stream (and a
     * retry re-read) cheaply, a 1 KiB-entry workload does not produce 8,192-element gather lists,
     * and the bytes that were CRC'd are exactly the bytes uploaded. memcpy costs microseconds per
     * MiB against a PUT of tens to hundreds of ms. The copy goes into pooled direct chunks
     * (ChunkPool): no per-append allocation, no multi-MiB heap arrays, memory proportional to the
     * bytes buffered. A chunk returns to the pool only after its PUT completed normally; after a
     * failed PUT the chunks are abandoned to the collector, because a timed-out attempt inside the
     * store could in principle still be reading them.
     *
     * Back-pressure: bufferedBytes counts chunk memory held by the pending, queued and in-flight
     * objects. An append that would take it over maxBufferedBytes seals the pending object and
     * waits (at most maxBlock) for PUTs to complete; an entry is always admitted when nothing is
     * buffered, so an entry bigger than the limit cannot deadlock.
     *
     * Sequences: epoch << 40 | counter. Sequence order is (writer epoch, order within the epoch),
     * so a newer writer's entries sort after every older writer's, and object keys
     * <prefix><epoch:20>-<firstSeq:20> list in sequence order. The counter is assigned under the
     * same lock that places the frame in the pending object, so frames are in sequence order
     * within an object and objects are in sequence order by key: every entry of an object has a
     * sequence below the first sequence of any later key. Trim relies on that.
     *
     * putIfAbsent, not put: keys never repeat in a correct system (epochs are unique per writer),
     * so create-if-absent costs nothing and turns the one dangerous case, two writers holding the
     * same epoch, into a detected error instead of a silent overwrite of acknowledged entries. An
     * ambiguous earlier attempt (timeout that did create the object) is resolved by the unique
     * per-object token: "already exists" with our token is our own success. With another token it
     * is a foreign writer on our epoch: the object's entries fail FENCED and the WAL fences itself.
     *
     * Ack rule: PUT ok -> checkNotFenced() -> only if it completes normally, onDurable. A FENCED
     * answer fails the object's entries with FENCED and fences the WAL (every pending and later
     * append fails fast; objects not yet sent are failed without a PUT). Any other answer (cannot
     * tell) fails the entries with UNAVAILABLE and the WAL continues. A failed PUT fails its
     * entries with UNAVAILABLE naming the key; later objects proceed (the store's retry wrapper
     * has already retried).
     *
     * Replay and corruption: objects are written atomically, so a bad object means storage damage
     * (or a broken store), never a torn tail. Frames that verify before the damage are delivered:
     * they are acknowledged data that is still readable, and dropping them would lose more. The
     * damage is logged at ERROR with the key and the number of entries lost and counted in the
     * metrics; replay goes on. An object from which nothing at all can be recovered (bad header,
     * or not one valid frame) fails replay with CORRUPT_STORAGE naming the key, unless the
     * operator set skipUnreadableObjects after deciding to accept the loss: opening a store
     * silently without acknowledged entries is worse than not opening it.
     *
     * Claim records (RFC 0006): an object of an older epoch that lands after a claimer listed the
     * WAL was fenced by that claim and never acknowledged, but a later writer would replay it if the
     * claimer crashed before trimming it. So the first replay PUTs <prefix>claims/<epoch> listing
     * the older objects it accepted, before anything is delivered, appended or trimmed, and judges
     * older objects by the newest record it lists (acceptsOlderEpochObject). No record (a store of
     * an earlier release) means everything is replayed, as before.
     *
     * Trim: lists the keys below the trim sequence (the listing is ordered, so it stops right after
     * the first key at or above it) and deletes in one batch every object whose last sequence is
     * below it. The last sequence is known exactly for objects this instance wrote or replayed;
     * otherwise it is bounded by the next key's first sequence and by the end of its epoch. So
     * objects of older epochs, orphans of failed PUTs and zombies are all collected, and an object
     * whose extent is unknown is kept. A fenced or closed WAL never trims.
     *
     * Cluster deletion rule: when the context implements WalCommittedOffsets (a node of a cluster,
     * whose partitions other nodes may take over and replay from this WAL with ObjectWalReader), an
     * object the sequence rule would delete is deleted only if the catalog's committed end offset of
     * every stream in it has reached that stream's entries there (or the stream is gone). Each
     * object's streams and largest entry ends are recorded when it is written or replayed (the
     * objectStreamEnds map, only in that mode) or, for an object this instance never saw, learned by
     * reading it. One catalog query per trim pass with candidates; a kept object keeps the floor
     * unclean, so the next trim call judges it again.
     */

    /** Largest entry payload accepted by {@link #append}. */
    public static final int MAX_ENTRY_BYTES = ObjectWalFormat.MAX_PAYLOAD_LENGTH;
    /** Bits of a sequence below the epoch. */
    public static final int EPOCH_SHIFT = ObjectWalFormat.EPOCH_SHIFT;
    /** Largest writer epoch this WAL supports (the epoch must fit in the sequence's top bits). */
    public static final long MAX_EPOCH = (1L << (63 - EPOCH_SHIFT)) - 1;
    /** Entries one writer epoch can append (about 1.1 * 10^12). */
    public static final long SEQUENCES_PER_EPOCH = 1L << EPOCH_SHIFT;

    private static final Logger LOG = LoggerFactory.getLogger(ObjectWriteAheadLog.class);
    private static final AtomicInteger THREAD_IDS = new AtomicInteger();

    // ---- settings
    private final String prefix;
    private final long flushIntervalMillis;
    private final long flushBytes;
    private final int maxInFlightPuts;
    private final long maxBufferedBytes;
    private final long maxBlockNanos;
    private final long closeTimeoutMillis;
    private final int replayParallelism;
    private final int listPageSize;
    private final boolean skipUnreadableObjects;
    private final ChunkPool pool;
    private final String tokenPrefix;
    private final boolean dataObjects;

    // ---- bound by open()
    private volatile boolean opened;
    private WalContext context;
    /** The context as a cluster node's deletion rule, or null (today's single-writer trim). */
    private WalCommittedOffsets committedOffsets;
    private ObjectStore store;
    private Clock clock;
    private ScheduledExecutorService scheduler;
    private long epoch;
    private boolean epochBound;
    /** What the first replay listed; later replays (before the first append) deliver the same objects. */
    private List<WalObjectKey> replayKeys;
    private Executor executor;
    /** The executor from {@link Builder#executor}, or null: the WAL runs its own threads. */
    private final Executor givenExecutor;

    // ---- write path, guarded by lock
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition spaceAvailable = lock.newCondition();
    private final CRC32C crc = new CRC32C();
    private final byte[] frameHeader = new byte[ObjectWalFormat.FRAME_HEADER_LENGTH];
    private PendingObject current;
    private final ArrayDeque<PendingObject> awaitingPut = new ArrayDeque<>();
    /** Sealed objects whose entries have not all been settled yet. */
    private final Set<PendingObject> live = new LinkedHashSet<>();
    private int putsInFlight;
    private long bufferedBytes;
    private long nextCounter;
    private boolean replayed;
    private boolean appended;
    private long objectsCreated;
    private volatile long nextSequence;
    private volatile boolean closed;
    private volatile ShaleException fenceError;
    private final AtomicBoolean closeStarted = new AtomicBoolean();

    /** Last sequence of objects known to exist or possibly exist (written, attempted or replayed), for trim. */
    private final ConcurrentHashMap<String, Long> knownLastSequence = new ConcurrentHashMap<>();
    /** Sizes of the objects written or replayed and not trimmed yet, and their sum: {@link #sizeBytes()}. */
    private final ConcurrentHashMap<String, Long> liveObjectBytes = new ConcurrentHashMap<>();
    /**
     * With a {@link WalCommittedOffsets} context only: per object written, replayed or read by trim,
     * the largest end offset of each stream's entries in it (the deletion rule's input).
     */
    private final ConcurrentHashMap<String, StreamEnds> objectStreamEnds = new ConcurrentHashMap<>();
    private final AtomicLong liveBytes = new AtomicLong();

    // ---- trim, guarded by trimMonitor
    private final Object trimMonitor = new Object();
    private long trimFloor = Long.MIN_VALUE;
    private long cleanFloor = Long.MIN_VALUE;
    private CompletableFuture<Void> trimTail = CompletableFuture.completedFuture(null);
    private CompletableFuture<Void> queuedTrim;

    // ---- metrics
    private final AtomicLong objectsWritten = new AtomicLong();
    private final AtomicLong bytesWritten = new AtomicLong();
    private final AtomicLong entriesDurable = new AtomicLong();
    private final AtomicLong entriesFailed = new AtomicLong();
    private final AtomicLong putFailures = new AtomicLong();
    private final AtomicLong backPressureTimeouts = new AtomicLong();
    private final AtomicLong objectsTrimmed = new AtomicLong();
    private volatile long lastObjectBytes;
    private volatile long lastObjectEntries;
    private final LatencyHistogram putLatency = new LatencyHistogram();
    private volatile long replayedObjects;
    private volatile long replayedEntries;
    private volatile long replayDamagedObjects;
    private volatile long replayLostEntries;

    private ObjectWriteAheadLog(Builder b) {
        this.prefix = b.keyPrefix;
        this.flushIntervalMillis = b.flushInterval.toMillis();
        this.flushBytes = b.flushBytes;
        this.maxInFlightPuts = b.maxInFlightPuts;
        this.maxBufferedBytes = b.maxBufferedBytes;
        this.maxBlockNanos = Blocking.timeoutNanos(b.maxBlock); // any Duration: saturated, not overflowed
        this.closeTimeoutMillis = TimeUnit.NANOSECONDS.toMillis(Blocking.timeoutNanos(b.closeTimeout));
        this.replayParallelism = b.replayParallelism;
        this.listPageSize = b.listPageSize;
        this.skipUnreadableObjects = b.skipUnreadableObjects;
        this.givenExecutor = b.executor;
        this.dataObjects = b.dataObjects;
        int chunk = b.chunkBytes > 0 ? b.chunkBytes : defaultChunkBytes(b.flushBytes);
        long retain = Math.min(b.maxBufferedBytes, (b.maxInFlightPuts + 2L) * Math.max(b.flushBytes, chunk));
        this.pool = new ChunkPool(chunk, (int) Math.min(Integer.MAX_VALUE, retain / chunk + 1));
        byte[] nonce = new byte[8];
        new SecureRandom().nextBytes(nonce);
        StringBuilder sb = new StringBuilder("w");
        for (byte x : nonce) {
            sb.append(Character.forDigit((x >> 4) & 0xF, 16)).append(Character.forDigit(x & 0xF, 16));
        }
        this.tokenPrefix = sb.append('-').toString();
    }

    /** A builder with the defaults listed on {@link Builder}. */
    public static Builder builder() {
        return new Builder();
    }

    // =============================================================================================
    // Lifecycle

    /**
     * Binds the WAL to its store and starts its executor. Called before the store claims its
     * writer epoch (see {@link WriteAheadLog}); the epoch is read in {@link #replay}. The object
     * WAL takes no local lock: a second writer on the same store fences this one through the
     * manifest instead.
     *
     * @throws IllegalStateException if called twice or after close
     */
    @Override
    public void open(WalContext context) {
        Objects.requireNonNull(context, "context");
        lock.lock();
        try {
            if (opened || closed) {
                throw new IllegalStateException(describe() + " was already opened or closed");
            }
            this.context = context;
            this.committedOffsets = context instanceof WalCommittedOffsets c ? c : null;
            this.store = Objects.requireNonNull(context.objectStore(), "context.objectStore()");
            this.clock = Objects.requireNonNull(context.clock(), "context.clock()");
            this.scheduler = Objects.requireNonNull(context.scheduler(), "context.scheduler()");
            if (givenExecutor != null) {
                this.executor = givenExecutor;
            } else {
                ThreadPoolExecutor ex = new ThreadPoolExecutor(maxInFlightPuts, maxInFlightPuts, 30, TimeUnit.SECONDS,
                        new LinkedBlockingQueue<>(), r -> {
                            Thread t = new Thread(r, "shale-object-wal-" + THREAD_IDS.incrementAndGet());
                            t.setDaemon(true);
                            return t;
                        });
                ex.allowCoreThreadTimeOut(true);
                this.executor = ex;
            }
            this.opened = true;
        } finally {
            lock.unlock();
        }
    }

    /** Under lock, first replay: the epoch the store claimed after {@link #open}. */
    private void bindEpoch() {
        long e = context.writerEpoch();
        if (e < 0 || e > MAX_EPOCH) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT,
                    "writer epoch " + e + " is outside 0.." + MAX_EPOCH + " supported by the object WAL");
        }
        this.epoch = e;
        this.nextCounter = 0;
        this.nextSequence = e << EPOCH_SHIFT;
        this.epochBound = true;
    }

    /** Yes: entries are acknowledged only after {@link WalContext#checkNotFenced()} confirmed the writer. */
    @Override
    public boolean checksFencing() {
        return true;
    }

    /**
     * Delivers every entry of every object under the prefix, in sequence order, then makes later
     * sequences start above all of them; objects of older writer epochs only if the newest claim
     * record accepts them (RFC 0006, "Claim records"). The first call writes this writer's own claim
     * record before it delivers anything: appends are accepted only after that. Objects are fetched with up to
     * {@link Builder#replayParallelism} GETs in flight; memory is bounded by that many objects.
     *
     * <p>An object that is damaged after some valid frames: those frames are delivered, the
     * damage is logged at ERROR and counted ({@link ObjectWalMetrics#replayDamagedObjects()}).
     *
     * @throws ShaleException {@code CORRUPT_STORAGE} naming the key if an object yields no entry at
     *     all (bad header, or its first frame is bad) and {@link Builder#skipUnreadableObjects} is
     *     off; entries delivered before it should then be discarded by the caller.
     *     {@code FENCED} if the store holds objects of a newer writer epoch. {@code UNAVAILABLE} if
     *     the store cannot be listed or read, or the claim record cannot be written.
     * <p>May be called again before the first append; each call lists and reads the objects
     * again and delivers the same entries.
     *
     * @throws IllegalStateException if not opened, or called after an append
     */
    @Override
    public void replay(WalReplayHandler handler) {
        Objects.requireNonNull(handler, "handler");
        lock.lock();
        try {
            if (!opened || closed) {
                throw new IllegalStateException(describe() + " is not open");
            }
            if (appended) {
                throw new IllegalStateException("replay must come before the first append");
            }
            if (!epochBound) {
                bindEpoch();
            }
        } finally {
            lock.unlock();
        }
        // Every replay delivers the objects the first one listed: a fenced writer may still write
        // objects meanwhile, and the store's passes must agree (WriteAheadLog#replay). Nothing such a
        // writer writes after our claim is acknowledged (its fence check finds our marker), and our
        // claim came before the first listing.
        WalObjectScanner scanner = new WalObjectScanner(store, prefix, listPageSize, replayParallelism,
                skipUnreadableObjects, describe());
        List<WalObjectKey> keys;
        lock.lock();
        try {
            if (replayKeys == null) {
                lock.unlock();
                try {
                    keys = claimOlderObjects(scanner);
                } finally {
                    lock.lock();
                }
                // Objects the store's manifest references are the store's: everything of theirs it
                // still needs is committed (WalDataObjectSink), so they are not replayed.
                int before = keys.size();
                keys = WalObjectScanner.replayable(keys, this::isCommittedDataObject);
                if (keys.size() < before) {
                    LOG.info("{}: {} objects are committed data objects of the store and are not replayed", describe(),
                            before - keys.size());
                }
                replayKeys = keys;
                replayed = true; // appends only once this writer's claim record is durable
            }
            keys = replayKeys;
        } finally {
            lock.unlock();
        }
        for (WalObjectKey k : keys) {
            if (k.epoch() > epoch) {
                throw new ShaleException(ErrorKind.FENCED, "WAL object " + where(k.key()) + " was written by writer epoch "
                        + k.epoch() + ", newer than this writer's epoch " + epoch + ": a newer writer owns the store");
            }
        }
        ReplayCursor cursor = new ReplayCursor(handler);
        try {
            scanner.scan(keys, cursor);
        } finally {
            replayDamagedObjects += scanner.damagedObjects;
            replayLostEntries += scanner.lostEntries;
        }
        long objects = scanner.objects;
        long maxOwn = cursor.maxOwnEpochSequence;
        lock.lock();
        try {
            if (maxOwn >= 0) {
                long counter = (maxOwn & (SEQUENCES_PER_EPOCH - 1)) + 1;
                nextCounter = Math.max(nextCounter, counter);
                nextSequence = (epoch << EPOCH_SHIFT) | nextCounter;
            }
        } finally {
            lock.unlock();
        }
        replayedObjects = objects;
        replayedEntries = scanner.delivered;
        LOG.info("{} replayed {} entries from {} objects ({} damaged, {} entries lost); next sequence {}",
                describe(), scanner.delivered, objects, replayDamagedObjects, replayLostEntries, nextSequence);
    }

    /**
     * Stops accepting appends (they throw {@code CLOSED}), seals what is buffered, waits up to
     * {@link Builder#closeTimeout} for every sealed object to be written and acknowledged, fails
     * the entries of objects still unsettled with {@code CLOSED}, and stops the WAL's threads. The
     * object store and the scheduler belong to the store and are not closed. Idempotent; a second
     * call returns at once.
     */
    @Override
    public void close() {
        if (!closeStarted.compareAndSet(false, true)) {
            return;
        }
        List<CompletableFuture<Void>> waits = new ArrayList<>();
        lock.lock();
        try {
            closed = true;
            if (current != null) {
                sealCurrent();
            }
            for (PendingObject o : live) {
                waits.add(o.done);
            }
            spaceAvailable.signalAll();
        } finally {
            lock.unlock();
        }
        if (!opened) {
            return;
        }
        try {
            Blocking.get(CompletableFuture.allOf(waits.toArray(new CompletableFuture<?>[0])), closeTimeoutMillis,
                    TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.warn("{}: {} objects were not durable {} ms after close; failing their entries", describe(),
                    waits.stream().filter(f -> !f.isDone()).count(), closeTimeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            // settle() never completes a done future exceptionally
        }
        List<PendingObject> remaining;
        lock.lock();
        try {
            remaining = new ArrayList<>(live);
            awaitingPut.clear();
        } finally {
            lock.unlock();
        }
        for (PendingObject o : remaining) {
            settle(o, new ShaleException(ErrorKind.CLOSED,
                    "WAL closed before object " + where(o.key) + " became durable; its " + o.entries.size()
                            + " entries may or may not be replayed"));
        }
        // Let a trim the store requested before closing finish, so a clean close leaves no WAL
        // objects behind for the next open to replay (the object store closes after the WAL).
        CompletableFuture<Void> trims;
        synchronized (trimMonitor) {
            trims = trimTail;
        }
        try {
            Blocking.get(trims, closeTimeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.warn("{}: trimming did not finish {} ms after close; the next open replays and trims again",
                    describe(), closeTimeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            LOG.debug("{}: trim failed during close", describe(), e);
        }
        if (givenExecutor == null && executor instanceof ThreadPoolExecutor own) {
            own.shutdown();
        }
        pool.clear();
    }

    // =============================================================================================
    // Write path

    /**
     * Copies the entry into the pending object and returns its sequence. Blocks only for
     * back-pressure: while the bytes buffered and in flight exceed {@link Builder#maxBufferedBytes},
     * for at most {@link Builder#maxBlock}. {@code entry}'s callbacks report the outcome; its
     * payload is not referenced after this call returns.
     *
     * @throws ShaleException {@code CLOSED}, {@code FENCED}, or {@code UNAVAILABLE} (back-pressure
     *     timeout, interrupted while waiting, or the epoch's sequence space is exhausted); the entry
     *     is then not queued and gets no callback
     * @throws IllegalArgumentException if the payload exceeds {@link #MAX_ENTRY_BYTES} or the stream id is negative
     * @throws IllegalStateException if the WAL was not opened
     */
    @Override
    public long append(WalEntry entry) {
        Objects.requireNonNull(entry, "entry");
        ByteBuffer payload = entry.payload();
        int length = payload.remaining();
        if (length > MAX_ENTRY_BYTES) {
            throw new IllegalArgumentException("WAL entry of " + length + " bytes exceeds the object WAL's limit of "
                    + MAX_ENTRY_BYTES + " bytes");
        }
        int streamId = entry.streamId();
        if (streamId < 0) {
            throw new IllegalArgumentException("negative stream id " + streamId);
        }
        long frameBytes = ObjectWalFormat.FRAME_HEADER_LENGTH + (long) length;
        lock.lock();
        try {
            ensureWritable();
            awaitSpace(frameBytes);
            if (nextCounter >= SEQUENCES_PER_EPOCH) {
                throw new ShaleException(ErrorKind.UNAVAILABLE, "writer epoch " + epoch + " has used all "
                        + SEQUENCES_PER_EPOCH + " sequences of " + describe() + "; reopen the store to claim a new epoch");
            }
            long seq = (epoch << EPOCH_SHIFT) | nextCounter;
            PendingObject obj = current;
            if (obj == null) {
                obj = startObject(seq);
            }
            int chunksBefore = obj.buffer.chunkCount();
            if (obj.blocks != null) {
                obj.blocks.add(seq, streamId, entry.baseOffset(), obj.buffer.size(), payload, crc);
            } else {
                ObjectWalFormat.encodeFrameHeader(frameHeader, crc, seq, streamId, entry.baseOffset(), payload);
                obj.buffer.write(frameHeader, 0, frameHeader.length);
            }
            obj.buffer.write(payload, payload.position(), length);
            if (obj.streamEnds != null) {
                obj.streamEnds.add(streamId, entry.baseOffset(), payload);
            }
            account(obj, chunksBefore);
            obj.entries.add(entry);
            obj.lastSeq = seq;
            nextCounter++;
            nextSequence = seq + 1;
            appended = true;
            if (obj.buffer.size() >= flushBytes || obj.flushWhenSealable) {
                sealCurrent();
            }
            return seq;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long nextSequence() {
        return nextSequence;
    }

    /**
     * Seals what is buffered now and returns a future that completes when every entry appended
     * before this call has been settled (acknowledged or failed; the entries' callbacks say
     * which). Never completes exceptionally. Useful for tests and for a store that wants to force
     * durability now rather than at the next interval.
     */
    public CompletableFuture<Void> flush() {
        List<CompletableFuture<Void>> waits = new ArrayList<>();
        lock.lock();
        try {
            if (current != null && opened) {
                sealCurrent();
            }
            for (PendingObject o : live) {
                waits.add(o.done);
            }
        } finally {
            lock.unlock();
        }
        return CompletableFuture.allOf(waits.toArray(new CompletableFuture<?>[0]));
    }

    private void ensureWritable() {
        if (closed) {
            throw new ShaleException(ErrorKind.CLOSED, describe() + " is closed");
        }
        ShaleException f = fenceError;
        if (f != null) {
            throw new ShaleException(ErrorKind.FENCED, describe() + " was fenced and accepts no more appends: "
                    + f.getMessage(), f);
        }
        if (!opened || !replayed) {
            throw new IllegalStateException(describe() + (opened ? " was not replayed" : " was not opened"));
        }
    }

    /** Under lock: waits while admitting {@code frameBytes} would exceed the memory bound. */
    private void awaitSpace(long frameBytes) {
        if (bufferedBytes == 0 || bufferedBytes + frameBytes <= maxBufferedBytes) {
            return;
        }
        if (current != null) {
            sealCurrent(); // get the buffered bytes moving instead of waiting for the timer
        }
        long nanos = maxBlockNanos;
        while (bufferedBytes > 0 && bufferedBytes + frameBytes > maxBufferedBytes) {
            if (nanos <= 0) {
                backPressureTimeouts.incrementAndGet();
                throw new ShaleException(ErrorKind.UNAVAILABLE, describe() + " has " + bufferedBytes
                        + " bytes buffered or in flight (limit " + maxBufferedBytes + ") for longer than "
                        + TimeUnit.NANOSECONDS.toMillis(maxBlockNanos) + " ms: the object store is not keeping up");
            }
            try {
                nanos = spaceAvailable.awaitNanos(nanos);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ShaleException(ErrorKind.UNAVAILABLE, "interrupted while waiting for space in " + describe(), e);
            }
            ensureWritable();
        }
    }

    /** Under lock. */
    private PendingObject startObject(long firstSeq) {
        WalObjectKey key = WalObjectKey.of(prefix, epoch, firstSeq);
        PendingObject obj = new PendingObject(key.key(), firstSeq, tokenPrefix + (objectsCreated++), new ChunkedBuffer(pool));
        if (committedOffsets != null) {
            obj.streamEnds = new StreamEnds.Builder();
        }
        if (!dataObjects) {
            obj.buffer.write(new byte[ObjectWalFormat.HEADER_LENGTH], 0, ObjectWalFormat.HEADER_LENGTH);
        } else {
            obj.blocks = new BlockTable();
        }
        account(obj, 0);
        current = obj;
        try {
            obj.timer = scheduler.schedule(() -> onFlushTimer(obj), flushIntervalMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // Without a timer the object would wait for size or close; flush it with its first entry instead.
            LOG.warn("{}: the scheduler rejected the flush timer; objects are flushed at once", describe());
            obj.flushWhenSealable = true;
        }
        return obj;
    }

    /** Under lock: adds the chunks taken since {@code chunksBefore} to the buffered bytes. */
    private void account(PendingObject obj, int chunksBefore) {
        long added = (long) (obj.buffer.chunkCount() - chunksBefore) * pool.chunkSize();
        obj.accountedBytes += added;
        bufferedBytes += added;
    }

    private void onFlushTimer(PendingObject obj) {
        lock.lock();
        try {
            if (current == obj) {
                sealCurrent();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Under lock: seals the pending object and queues it for a PUT. */
    private void sealCurrent() {
        PendingObject obj = current;
        current = null;
        if (obj == null) {
            return;
        }
        if (obj.timer != null) {
            obj.timer.cancel(false);
            obj.timer = null;
        }
        int count = obj.entries.size();
        if (obj.blocks != null) {
            sealDataObject(obj);
            lastObjectBytes = obj.size;
            lastObjectEntries = count;
            live.add(obj);
            awaitingPut.addLast(obj);
            dispatchPuts();
            return;
        }
        byte[] header = new byte[ObjectWalFormat.HEADER_LENGTH];
        ObjectWalFormat.encodeHeader(header, epoch, obj.firstSeq, obj.lastSeq, count);
        obj.buffer.overwrite(0, header);
        byte[] trailer = new byte[ObjectWalFormat.TRAILER_LENGTH];
        long objectLength = obj.buffer.size() + ObjectWalFormat.TRAILER_LENGTH;
        ObjectWalFormat.encodeTrailer(trailer, count, objectLength);
        int chunksBefore = obj.buffer.chunkCount();
        obj.buffer.write(trailer, 0, trailer.length);
        long added = (long) (obj.buffer.chunkCount() - chunksBefore) * pool.chunkSize();
        obj.accountedBytes += added;
        bufferedBytes += added;
        obj.size = objectLength;
        lastObjectBytes = objectLength;
        lastObjectEntries = count;
        live.add(obj);
        awaitingPut.addLast(obj);
        dispatchPuts();
    }

    /**
     * Under lock: lays out a version-2 object: header, the entries' payloads grouped by stream id
     * (views of the buffer, adjacent ones merged), sequence table, data index, footer.
     */
    private void sealDataObject(PendingObject obj) {
        BlockTable t = obj.blocks;
        int n = t.count;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        // Stable: a stream's entries stay in sequence (= offset) order.
        java.util.Arrays.sort(order, (x, y) -> Integer.compare(t.streams[x], t.streams[y]));
        List<ByteBuffer> chunks = obj.buffer.views();
        int chunkSize = pool.chunkSize();
        List<ByteBuffer> views = new ArrayList<>();
        views.add(null); // the header, below
        int[] streams = new int[n];
        long[] bases = new long[n];
        long[] sequences = new long[n];
        long[] positions = new long[n];
        int[] sizes = new int[n];
        int[] crcs = new int[n];
        long[] nexts = new long[n];
        long[] maxTs = new long[n];
        List<WalEntry> entries = new ArrayList<>(n);
        long position = ObjectWalFormat.HEADER_V2_LENGTH;
        int runChunk = -1;
        int runStart = 0;
        int runEnd = 0;
        for (int k = 0; k < n; k++) {
            int i = order[k];
            long off = t.bufferOffsets[i];
            int len = t.lengths[i];
            sequences[k] = t.sequences[i];
            positions[k] = position;
            sizes[k] = len;
            crcs[k] = t.crcs[i];
            nexts[k] = t.nextOffsets[i];
            maxTs[k] = t.maxTimestamps[i];
            entries.add(obj.entries.get(i));
            streams[k] = t.streams[i];
            bases[k] = t.baseOffsets[i];
            position += len;
            while (len > 0) {
                int c = (int) (off / chunkSize);
                int start = (int) (off % chunkSize);
                int piece = Math.min(len, chunkSize - start);
                if (c == runChunk && start == runEnd) {
                    runEnd += piece;
                } else {
                    if (runChunk >= 0) {
                        views.add(chunks.get(runChunk).duplicate().limit(runEnd).position(runStart).slice());
                    }
                    runChunk = c;
                    runStart = start;
                    runEnd = start + piece;
                }
                off += piece;
                len -= piece;
            }
        }
        if (runChunk >= 0) {
            views.add(chunks.get(runChunk).duplicate().limit(runEnd).position(runStart).slice());
        }
        long tablePosition = position;
        ByteBuffer tail = ObjectWalFormat.encodeTailV2(tablePosition, sequences, streams, bases, nexts, maxTs, positions,
                sizes, crcs);
        long indexPosition = tablePosition + 8L * n + 4;
        byte[] header = new byte[ObjectWalFormat.HEADER_V2_LENGTH];
        ObjectWalFormat.encodeHeaderV2(header, epoch, obj.firstSeq, obj.lastSeq, n, tablePosition, indexPosition);
        views.set(0, ByteBuffer.wrap(header).asReadOnlyBuffer());
        views.add(tail);
        obj.views = views;
        obj.size = tablePosition + tail.remaining();
        obj.dataObject = new WalDataObject(obj.key, obj.size, indexPosition, List.copyOf(entries), positions, sizes,
                crcs, nexts, maxTs);
        obj.blocks = null;
    }

    /** Under lock: starts PUTs while slots are free. */
    private void dispatchPuts() {
        while (putsInFlight < maxInFlightPuts && !awaitingPut.isEmpty()) {
            PendingObject obj = awaitingPut.pollFirst();
            putsInFlight++;
            try {
                executor.execute(() -> startPut(obj));
            } catch (RejectedExecutionException e) {
                putsInFlight--;
                releaseMemory(obj, true);
                settle(obj, new ShaleException(ErrorKind.CLOSED, describe() + " is shut down; object "
                        + where(obj.key) + " was not written"));
            }
        }
    }

    private void startPut(PendingObject obj) {
        ShaleException fenced = fenceError;
        if (fenced != null) {
            onPutSlotFreed(obj, true);
            settle(obj, fencedFailure(obj, fenced));
            return;
        }
        obj.putStart = clock.instant();
        knownLastSequence.put(obj.key, obj.lastSeq); // from now on it may exist
        if (obj.streamEnds != null) {
            objectStreamEnds.put(obj.key, obj.streamEnds.build());
        }
        CompletableFuture<Boolean> put;
        try {
            Payload payload = obj.views != null ? Payload.of(obj.views) : Payload.of(obj.buffer.views());
            put = Objects.requireNonNull(store.putIfAbsent(obj.key, payload, obj.token),
                    "putIfAbsent returned null");
        } catch (RuntimeException e) {
            put = CompletableFuture.failedFuture(e);
        }
        put.whenCompleteAsync((created, error) -> onPutCompleted(obj, created, error), executor);
    }

    private void onPutCompleted(PendingObject obj, Boolean created, Throwable error) {
        if (error != null) {
            onPutSlotFreed(obj, false);
            putFailures.incrementAndGet();
            ObjectStoreException ose = ObjectStoreException.find(error);
            String reason = ose != null ? ose.reason() + ": " + ose.getMessage() : String.valueOf(unwrap(error));
            LOG.warn("{}: PUT of {} ({} entries, {} bytes) failed: {}", describe(), obj.key, obj.entries.size(), obj.size, reason);
            settle(obj, new ShaleException(ose != null ? kindOf(ose) : ErrorKind.UNAVAILABLE,
                    "PUT of WAL object " + where(obj.key) + " failed (" + reason + "); its " + obj.entries.size()
                            + " entries are not durable", unwrap(error)));
            return;
        }
        onPutSlotFreed(obj, true);
        if (Boolean.TRUE.equals(created)) {
            recordWritten(obj);
            checkFence(obj);
            return;
        }
        // The key exists: our own earlier (ambiguous) attempt, or another writer using our epoch.
        CompletableFuture<Optional<ObjectInfo>> head;
        try {
            head = Objects.requireNonNull(store.head(obj.key), "head returned null");
        } catch (RuntimeException e) {
            head = CompletableFuture.failedFuture(e);
        }
        head.whenCompleteAsync((info, headError) -> {
            if (headError != null) {
                settle(obj, new ShaleException(ErrorKind.UNAVAILABLE, "WAL object " + where(obj.key)
                        + " already existed and its write token could not be read", unwrap(headError)));
            } else if (info.isPresent() && obj.token.equals(info.get().token())) {
                recordWritten(obj);
                checkFence(obj);
            } else {
                String found = info.map(i -> "token " + i.token()).orElse("no object on a second look");
                ShaleException collision = new ShaleException(ErrorKind.FENCED, "WAL object " + where(obj.key)
                        + " already exists with " + found + " (ours is " + obj.token + "): another writer is using epoch "
                        + epoch + "; this writer stops");
                LOG.error("{}", collision.getMessage());
                enterFenced(collision);
                settle(obj, collision);
            }
        }, executor);
    }

    private void checkFence(PendingObject obj) {
        CompletableFuture<Void> check;
        try {
            check = Objects.requireNonNull(context.checkNotFenced(), "checkNotFenced returned null");
        } catch (RuntimeException e) {
            check = CompletableFuture.failedFuture(e);
        }
        check.whenCompleteAsync((ignored, error) -> {
            if (error == null) {
                ShaleException fenced = fenceError;
                settle(obj, fenced == null ? null : fencedFailure(obj, fenced));
                return;
            }
            ShaleException se = ShaleException.unwrap(error);
            if (se != null && se.kind() == ErrorKind.FENCED) {
                enterFenced(se);
                settle(obj, fencedFailure(obj, se));
            } else {
                settle(obj, new ShaleException(ErrorKind.UNAVAILABLE, "WAL object " + where(obj.key)
                        + " was written but the writer's fencing could not be verified; its entries are not acknowledged",
                        unwrap(error)));
            }
        }, executor);
    }

    private void recordWritten(PendingObject obj) {
        objectsWritten.incrementAndGet();
        bytesWritten.addAndGet(obj.size);
        noteLiveObject(obj.key, obj.size);
        Instant start = obj.putStart;
        if (start != null) {
            long nanos = Duration.between(start, clock.instant()).toNanos();
            putLatency.record(nanos / 1000);
            if (context.recordsSyncs()) {
                context.recordSync(obj.size, nanos); // this WAL's "sync" is the PUT of its object
            }
        }
    }

    /** A PUT finished: frees its slot and memory and starts the next. */
    private void onPutSlotFreed(PendingObject obj, boolean storeIsDone) {
        lock.lock();
        try {
            putsInFlight--;
            releaseMemory(obj, storeIsDone);
            dispatchPuts();
        } finally {
            lock.unlock();
        }
    }

    /** Under lock. */
    private void releaseMemory(PendingObject obj, boolean reusable) {
        bufferedBytes -= obj.accountedBytes;
        obj.accountedBytes = 0;
        if (reusable) {
            obj.buffer.release();
        } else {
            obj.buffer.abandon();
        }
        spaceAvailable.signalAll();
    }

    /** Calls every entry's callback once (success if {@code error} is null) and marks the object done. */
    private void settle(PendingObject obj, ShaleException error) {
        if (!obj.settled.compareAndSet(false, true)) {
            return;
        }
        List<WalEntry> entries = obj.entries;
        if (error == null && obj.dataObject != null && context instanceof WalDataObjectSink sink) {
            try {
                sink.onDataObject(obj.dataObject);
            } catch (RuntimeException sinkError) {
                LOG.error("{}: the data-object sink threw for {}", describe(), obj.key, sinkError);
            }
        }
        for (WalEntry e : entries) {
            try {
                if (error == null) {
                    e.onDurable();
                } else {
                    e.onFailure(error);
                }
            } catch (RuntimeException callbackError) {
                LOG.error("{}: a WAL entry callback threw", describe(), callbackError);
            }
        }
        (error == null ? entriesDurable : entriesFailed).addAndGet(entries.size());
        lock.lock();
        try {
            live.remove(obj);
        } finally {
            lock.unlock();
        }
        obj.done.complete(null);
    }

    /** Puts the WAL in the fenced state and fails everything not yet sent. */
    private void enterFenced(ShaleException cause) {
        List<PendingObject> unsent = new ArrayList<>();
        lock.lock();
        try {
            if (fenceError != null) {
                return;
            }
            fenceError = cause;
            if (current != null) {
                PendingObject obj = current;
                current = null;
                if (obj.timer != null) {
                    obj.timer.cancel(false);
                }
                unsent.add(obj);
            }
            unsent.addAll(awaitingPut);
            awaitingPut.clear();
            for (PendingObject obj : unsent) {
                releaseMemory(obj, true);
            }
            spaceAvailable.signalAll();
        } finally {
            lock.unlock();
        }
        LOG.error("{} is fenced ({}); failing {} unsent objects, no further appends", describe(), cause.getMessage(), unsent.size());
        for (PendingObject obj : unsent) {
            settle(obj, fencedFailure(obj, cause));
        }
    }

    private ShaleException fencedFailure(PendingObject obj, ShaleException cause) {
        return new ShaleException(ErrorKind.FENCED, "writer epoch " + epoch + " was fenced; the entries of WAL object "
                + where(obj.key) + " are not acknowledged: " + cause.getMessage(), cause);
    }

    // =============================================================================================
    // Replay

    /** What the WAL's own replay does with what the shared scanner reads. */
    private final class ReplayCursor implements WalObjectScanner.Visitor {
        final WalReplayHandler handler;
        long maxOwnEpochSequence = -1;
        StreamEnds.Builder streamEnds;

        ReplayCursor(WalReplayHandler handler) {
            this.handler = handler;
        }

        @Override
        public void beginObject(WalObjectKey key, long size) {
            noteLiveObject(key.key(), size);
            streamEnds = committedOffsets != null ? new StreamEnds.Builder() : null;
            if (key.epoch() == epoch) {
                maxOwnEpochSequence = Math.max(maxOwnEpochSequence, key.firstSequence());
            }
        }

        @Override
        public void onFrame(long sequence, int streamId, long baseOffset, ByteBuffer payload) {
            if (streamEnds != null) {
                streamEnds.add(streamId, baseOffset, payload);
            }
            handler.onEntry(sequence, streamId, baseOffset, payload);
            if ((sequence >>> EPOCH_SHIFT) == epoch) {
                maxOwnEpochSequence = Math.max(maxOwnEpochSequence, sequence);
            }
        }

        @Override
        public void endObject(WalObjectKey key, ObjectWalFormat.DecodeResult r) {
            if (streamEnds != null) {
                objectStreamEnds.put(key.key(), streamEnds.build());
                streamEnds = null;
            }
            if (r.header() != null) {
                knownLastSequence.put(key.key(), r.header().lastSequence());
                if (key.epoch() == epoch) {
                    maxOwnEpochSequence = Math.max(maxOwnEpochSequence, r.header().lastSequence());
                }
            }
        }
    }

    /** Whether the store's manifest references {@code key} (then the WAL neither replays nor deletes it). */
    private boolean isCommittedDataObject(String key) {
        return context instanceof WalDataObjectSink sink && sink.isCommittedDataObject(key);
    }

    /** The store took {@code key} over: it no longer counts as this WAL's. */
    private void handOver(String key) {
        knownLastSequence.remove(key);
        objectStreamEnds.remove(key);
        Long size = liveObjectBytes.remove(key);
        if (size != null) {
            liveBytes.addAndGet(-size);
        }
    }

    private void noteLiveObject(String key, long size) {
        Long before = liveObjectBytes.put(key, size);
        liveBytes.addAndGet(size - (before == null ? 0 : before));
    }

    /**
     * Bytes of the WAL objects this WAL wrote or replayed and has not trimmed yet (objects of other
     * writers it never listed are not counted). Cheap: no request.
     */
    @Override
    public long sizeBytes() {
        return liveBytes.get();
    }

    /** Claim-record reads that found the newest record gone (a newer record replaced it) before replay gives up. */
    private static final int CLAIM_ATTEMPTS = 3;

    /**
     * The claim (RFC 0006, "Claim records"): lists the prefix, keeps the objects of older epochs
     * that the newest claim record accepts (all of them if there is none, or if a writer that
     * predates claim records wrote objects after it), and makes this writer's own record durable
     * before returning, hence before this writer appends, acknowledges or trims anything. Then
     * deletes the older records, which this one supersedes, in the background.
     *
     * @return the objects to replay (before the committed-data-object filter), in key order
     */
    private List<WalObjectKey> claimOlderObjects(WalObjectScanner scanner) {
        for (int attempt = 1; ; attempt++) {
            WalObjectScanner.Listing listing = scanner.list();
            for (WalObjectKey k : listing.objects()) {
                if (k.epoch() > epoch) {
                    throw newerWriter("WAL object " + where(k.key()), k.epoch());
                }
            }
            long newestClaim = listing.claimEpochs().isEmpty() ? -1
                    : listing.claimEpochs().get(listing.claimEpochs().size() - 1);
            if (newestClaim > epoch) {
                throw newerWriter("WAL claim record " + where(WalObjectKey.claimRecordKey(prefix, newestClaim)), newestClaim);
            }
            ClaimSelection selection = selectByClaims(scanner, prefix, listing, epoch, skipUnreadableObjects);
            if (selection == null) {
                // A writer that claimed after the one of the newest record replaced it meanwhile:
                // its record is there now. Nothing was delivered yet, so list again.
                if (attempt < CLAIM_ATTEMPTS) {
                    continue;
                }
                throw new ShaleException(ErrorKind.UNAVAILABLE, "WAL claim records under " + where(prefix)
                        + " kept changing while this writer (epoch " + epoch + ") read them; " + attempt + " attempts");
            }
            if (!selection.rejected().isEmpty()) {
                LOG.warn("{}: {} WAL objects of older writers were written after writer epoch {} listed the WAL"
                        + " (never acknowledged: that writer's claim had fenced them) and are not replayed: {}",
                        describe(), selection.rejected().size(), selection.basis().epoch(), sample(selection.rejected()));
            }
            writeClaimRecord(selection.basis(), selection.accepted());
            List<String> superseded = new ArrayList<>();
            for (long e : listing.claimEpochs()) {
                if (e < epoch) {
                    superseded.add(WalObjectKey.claimRecordKey(prefix, e));
                }
            }
            if (!superseded.isEmpty()) {
                safe(() -> store.delete(superseded)).whenComplete((r, e) -> {
                    if (e != null || !r.isComplete()) {
                        LOG.debug("{}: deleting superseded claim records {} failed; the next claim retries: {}", describe(),
                                superseded, e != null ? unwrap(e).toString() : r.failed());
                    }
                });
            }
            return selection.accepted();
        }
    }

    static List<String> sample(List<String> keys) {
        return keys.size() <= 10 ? keys : keys.subList(0, 10);
    }

    /**
     * Which listed objects a reader of {@code readerEpoch} replays: the newest claim record at or
     * below that epoch ({@code basis}, null if none), the objects it accepts (every object of
     * {@code readerEpoch} or newer, the older ones by {@link #acceptsOlderEpochObject}) and the keys
     * it rejects, in key order.
     */
    record ClaimSelection(ObjectWalFormat.ClaimRecord basis, List<WalObjectKey> accepted, List<String> rejected) {
    }

    /**
     * Applies the claim records of {@code listing} (RFC 0006, "Claim records") for a reader of
     * {@code readerEpoch}: the WAL's own claim (its epoch), or a read-only reader of another
     * writer's WAL ({@link Long#MAX_VALUE}: what that writer's next claim would accept). Reads the
     * newest record at or below {@code readerEpoch}; returns {@code null} if it vanished meanwhile
     * (a newer claim replaced it: list again).
     *
     * @throws ShaleException {@code CORRUPT_STORAGE} if that record is unreadable, unless
     *     {@code skipUnreadable} (then every object is accepted, as before claim records existed)
     */
    static ClaimSelection selectByClaims(WalObjectScanner scanner, String prefix, WalObjectScanner.Listing listing,
            long readerEpoch, boolean skipUnreadable) {
        long newestClaim = -1;
        for (long e : listing.claimEpochs()) {
            if (e <= readerEpoch) {
                newestClaim = Math.max(newestClaim, e);
            }
        }
        ObjectWalFormat.ClaimRecord basis = null;
        if (newestClaim >= 0) {
            String key = WalObjectKey.claimRecordKey(prefix, newestClaim);
            ByteBuffer bytes = scanner.awaitObject(safe(() -> scanner.store().get(key)), key);
            if (bytes == null) {
                return null;
            }
            String[] problem = new String[1];
            basis = ObjectWalFormat.decodeClaimRecord(bytes, newestClaim, problem);
            if (basis == null) {
                String message = "WAL claim record " + scanner.where(key) + " is unreadable (" + problem[0]
                        + "): which objects of older writers may be replayed is unknown";
                if (!skipUnreadable) {
                    throw new ShaleException(ErrorKind.CORRUPT_STORAGE, message
                            + ". Restore it, or open with skipUnreadableObjects to replay every object as an earlier release did");
                }
                LOG.error("{}; replaying every object because skipUnreadableObjects is set", message);
            }
        }
        java.util.Set<Long> recorded = new java.util.HashSet<>(listing.claimEpochs());
        long unrecorded = -1;
        for (WalObjectKey k : listing.objects()) {
            if (k.epoch() < readerEpoch && k.epoch() > unrecorded && !recorded.contains(k.epoch())) {
                unrecorded = k.epoch();
            }
        }
        List<WalObjectKey> accepted = new ArrayList<>();
        List<String> rejected = new ArrayList<>();
        for (WalObjectKey k : listing.objects()) {
            if (k.epoch() >= readerEpoch || acceptsOlderEpochObject(k, basis, unrecorded)) {
                accepted.add(k);
            } else {
                rejected.add(k.key());
            }
        }
        return new ClaimSelection(basis, accepted, rejected);
    }

    /**
     * Whether replay accepts {@code key}, a WAL object of a writer epoch older than the reader's,
     * given the newest claim record at or below the reader's epoch ({@code null} if none) and the
     * newest epoch below the reader's that has objects in the listing but no claim record
     * ({@code -1} if none). The one rule of RFC 0006, "Claim records":
     *
     * <ul>
     *   <li>no record, or a writer without one (an earlier release: a writer of this one writes its
     *       record before its first object) wrote objects after the newest record: accepted, as
     *       before claim records existed;
     *   <li>an object of the record's epoch or newer: accepted (written after that claim);
     *   <li>an object of an older epoch: accepted only if the record lists it, i.e. the writer that
     *       made the record saw it when it claimed. One it did not see was written after that
     *       claim had fenced its writer, so it was never acknowledged; it stays rejected for every
     *       later writer, because each record keeps only what its basis accepted.
     * </ul>
     *
     * Pure; usable by any reader of this WAL's objects that lists the prefix the same way.
     */
    static boolean acceptsOlderEpochObject(WalObjectKey key, ObjectWalFormat.ClaimRecord newestRecord,
            long newestEpochWithoutRecord) {
        if (newestRecord == null || newestEpochWithoutRecord > newestRecord.epoch() || key.epoch() >= newestRecord.epoch()) {
            return true;
        }
        return newestRecord.accepts(key.firstSequence());
    }

    /**
     * Makes this writer's claim record durable: the objects of older epochs it accepted. A plain
     * PUT: only the writer that claimed this epoch writes this key (a restart that kept the epoch
     * replaces its own earlier record with a view that started from it), and repeating it after an
     * ambiguous failure writes the same bytes.
     */
    private void writeClaimRecord(ObjectWalFormat.ClaimRecord basis, List<WalObjectKey> accepted) {
        long[] older = accepted.stream().filter(k -> k.epoch() < epoch).mapToLong(WalObjectKey::firstSequence).toArray();
        java.util.Arrays.sort(older);
        ByteBuffer record = ObjectWalFormat.encodeClaimRecord(epoch, basis == null ? -1 : basis.epoch(), older);
        String key = WalObjectKey.claimRecordKey(prefix, epoch);
        await(safe(() -> store.put(key, Payload.of(record), tokenPrefix + "claim")), "writing WAL claim record " + where(key));
        LOG.info("{}: writer epoch {} claimed the WAL: {} objects of older writers accepted (claim record {})", describe(),
                epoch, older.length, where(key));
    }

    private ShaleException newerWriter(String what, long newer) {
        return new ShaleException(ErrorKind.FENCED, what + " was written by writer epoch " + newer
                + ", newer than this writer's epoch " + epoch + ": a newer writer owns the store");
    }

    // =============================================================================================
    // Trim

    /**
     * Deletes, in the background, every WAL object all of whose entries have sequences below
     * {@code sequence}, including objects of older writer epochs. Idempotent; a fenced or closed
     * WAL ignores it. Failures are logged and retried at the next trim.
     */
    @Override
    public void trim(long sequence) {
        trimAsync(sequence);
    }

    /**
     * As {@link #trim}, returning a future that completes when a trim pass that covered
     * {@code sequence} has finished (normally even if some deletes failed; it fails only if the WAL
     * shut down meanwhile).
     */
    public CompletableFuture<Void> trimAsync(long sequence) {
        if (!opened || closed || fenceError != null) {
            return CompletableFuture.completedFuture(null);
        }
        synchronized (trimMonitor) {
            trimFloor = Math.max(trimFloor, sequence);
            if (queuedTrim != null) {
                return queuedTrim;
            }
            CompletableFuture<Void> pass = trimTail.handle((v, e) -> null).thenComposeAsync(ignored -> {
                long floor;
                synchronized (trimMonitor) {
                    queuedTrim = null;
                    floor = trimFloor;
                    if (floor <= cleanFloor) {
                        return CompletableFuture.<Void>completedFuture(null);
                    }
                }
                if (fenceError != null) {
                    return CompletableFuture.<Void>completedFuture(null);
                }
                return trimPass(floor); // a pass queued before close still runs: close waits for it
            }, executor);
            queuedTrim = pass;
            trimTail = pass;
            return pass;
        }
    }

    private static final class TrimScan {
        final long floor;
        final List<WalObjectKey> candidates = new ArrayList<>();
        WalObjectKey next;
        String startAfter;

        TrimScan(long floor) {
            this.floor = floor;
        }
    }

    private CompletableFuture<Void> trimPass(long floor) {
        return scan(new TrimScan(floor)).thenCompose(scan -> {
            List<WalObjectKey> c = scan.candidates;
            List<String> deletable = new ArrayList<>();
            for (int i = 0; i < c.size(); i++) {
                WalObjectKey k = c.get(i);
                long bound = k.epochLimit();
                Long known = knownLastSequence.get(k.key());
                if (known != null) {
                    bound = Math.min(bound, known);
                }
                WalObjectKey after = i + 1 < c.size() ? c.get(i + 1) : scan.next;
                if (after != null) {
                    bound = Math.min(bound, after.firstSequence() - 1);
                }
                if (bound < floor) {
                    deletable.add(k.key());
                }
            }
            boolean allBounded = deletable.size() == c.size();
            // Committed data objects belong to the store's manifest: never deleted here. Decided
            // after the bounds (a referenced object is as "done" as a deleted one for the WAL).
            deletable.removeIf(key -> {
                if (isCommittedDataObject(key)) {
                    handOver(key);
                    return true;
                }
                return false;
            });
            if (deletable.isEmpty()) {
                markClean(floor, allBounded);
                return CompletableFuture.<Void>completedFuture(null);
            }
            if (committedOffsets == null) {
                return deleteTrimmed(deletable, floor, allBounded);
            }
            // A cluster node: also the deletion rule of WalCommittedOffsets.
            return committedPastEveryStream(deletable).thenCompose(ok -> {
                if (ok.size() < deletable.size()) {
                    LOG.debug("{}: trim below {} keeps {} objects holding entries of partitions not committed past them",
                            describe(), floor, deletable.size() - ok.size());
                }
                boolean clean = allBounded && ok.size() == deletable.size();
                if (ok.isEmpty()) {
                    markClean(floor, clean);
                    return CompletableFuture.<Void>completedFuture(null);
                }
                return deleteTrimmed(ok, floor, clean);
            });
        });
    }

    private CompletableFuture<Void> deleteTrimmed(List<String> deletable, long floor, boolean allBounded) {
        return safe(() -> store.delete(deletable)).handle((DeleteResult result, Throwable error) -> {
            if (error != null) {
                LOG.warn("{}: deleting {} trimmed WAL objects failed: {}", describe(), deletable.size(), unwrap(error).toString());
                return null;
            }
            int deleted = 0;
            for (String key : deletable) {
                if (!result.failed().containsKey(key)) {
                    knownLastSequence.remove(key);
                    objectStreamEnds.remove(key);
                    Long size = liveObjectBytes.remove(key);
                    if (size != null) {
                        liveBytes.addAndGet(-size);
                    }
                    deleted++;
                }
            }
            objectsTrimmed.addAndGet(deleted);
            if (!result.isComplete()) {
                LOG.warn("{}: {} trimmed WAL objects could not be deleted: {}", describe(), result.failed().size(), result.failed());
            }
            LOG.debug("{}: trim below {} deleted {} objects", describe(), floor, deleted);
            markClean(floor, allBounded && result.isComplete());
            return null;
        });
    }

    /**
     * The deletion rule of a cluster node ({@link WalCommittedOffsets}): the keys of {@code keys}
     * for which every stream with an entry in the object is committed past that entry (or gone).
     * Objects whose streams this WAL does not know (not written nor replayed by it: orphans of
     * another process) are read first (GET, verified; only entries that verify count, since no
     * one can replay the others). Never fails: anything it cannot decide is kept.
     */
    private CompletableFuture<List<String>> committedPastEveryStream(List<String> keys) {
        List<CompletableFuture<Void>> reads = new ArrayList<>();
        for (String key : keys) {
            if (!objectStreamEnds.containsKey(key)) {
                reads.add(learnStreamEnds(key));
            }
        }
        return CompletableFuture.allOf(reads.toArray(new CompletableFuture<?>[0])).thenCompose(ignored -> {
            java.util.Set<Integer> streams = new java.util.TreeSet<>();
            for (String key : keys) {
                StreamEnds ends = objectStreamEnds.get(key);
                if (ends != null) {
                    for (int st : ends.streams) {
                        streams.add(st);
                    }
                }
            }
            if (streams.isEmpty()) {
                return CompletableFuture.completedFuture(decide(keys, java.util.Map.of()));
            }
            long deadline = Math.max(1000, closeTimeoutMillis);
            return safe(() -> committedOffsets.committedEnds(java.util.Collections.unmodifiableSet(streams)))
                    .orTimeout(deadline, TimeUnit.MILLISECONDS)
                    .handle((ends, error) -> {
                        if (error != null || ends == null) {
                            LOG.warn("{}: the committed end offsets of {} partitions could not be read ({}); keeping"
                                    + " {} WAL objects until the next trim", describe(), streams.size(),
                                    error == null ? "null answer" : unwrap(error).toString(), keys.size());
                            return List.<String>of();
                        }
                        return decide(keys, ends);
                    });
        });
    }

    /** The keys whose every stream's entries end at or below the committed end (or the stream is gone). */
    private List<String> decide(List<String> keys, java.util.Map<Integer, Long> committed) {
        List<String> ok = new ArrayList<>();
        for (String key : keys) {
            StreamEnds ends = objectStreamEnds.get(key);
            if (ends != null && ends.committedPast(committed)) {
                ok.add(key);
            }
        }
        return ok;
    }

    /** Reads an object this WAL has not seen to learn its streams; leaves it unknown (kept) if it cannot. */
    private CompletableFuture<Void> learnStreamEnds(String key) {
        WalObjectKey k = WalObjectKey.parse(prefix, key);
        // Decoded on the WAL's executor, not on the store's completion thread.
        return safe(() -> store.get(key)).<Void>handleAsync((bytes, error) -> {
            if (error != null) {
                ObjectStoreException ose = ObjectStoreException.find(unwrap(error));
                if (ose != null && ose.reason() == ObjectStoreException.Reason.NOT_FOUND) {
                    objectStreamEnds.put(key, StreamEnds.NONE); // gone: nothing to keep
                } else {
                    LOG.warn("{}: could not read WAL object {} to learn its partitions ({}); keeping it", describe(),
                            where(key), unwrap(error).toString());
                }
                return null;
            }
            StreamEnds.Builder b = new StreamEnds.Builder();
            ObjectWalFormat.decode(bytes, k.epoch(), k.firstSequence(), (seq, stream, base, payload) -> b.add(stream, base, payload));
            objectStreamEnds.put(key, b.build());
            return null;
        }, executor).exceptionally(e -> {
            LOG.warn("{}: could not learn the partitions of WAL object {} ({}); keeping it", describe(), where(key),
                    unwrap(e).toString());
            return null;
        });
    }

    private void markClean(long floor, boolean clean) {
        if (clean) {
            synchronized (trimMonitor) {
                cleanFloor = Math.max(cleanFloor, floor);
            }
        }
    }

    private CompletableFuture<TrimScan> scan(TrimScan s) {
        return safe(() -> store.list(prefix, s.startAfter, listPageSize)).thenCompose(page -> {
            for (ObjectInfo info : page.objects()) {
                WalObjectKey k = WalObjectKey.parse(prefix, info.key());
                if (k == null) {
                    continue;
                }
                if (k.firstSequence() >= s.floor) {
                    s.next = k;
                    return CompletableFuture.completedFuture(s);
                }
                s.candidates.add(k);
            }
            if (page.isLast() || (s.startAfter != null && page.nextStartAfter().compareTo(s.startAfter) <= 0)) {
                return CompletableFuture.completedFuture(s);
            }
            s.startAfter = page.nextStartAfter();
            return scan(s);
        });
    }

    // =============================================================================================
    // Introspection

    /** A snapshot of the counters. Thread-safe. */
    public ObjectWalMetrics metrics() {
        long buffered;
        int inFlight;
        lock.lock();
        try {
            buffered = bufferedBytes;
            inFlight = putsInFlight;
        } finally {
            lock.unlock();
        }
        return new ObjectWalMetrics(objectsWritten.get(), bytesWritten.get(), entriesDurable.get(), entriesFailed.get(),
                putFailures.get(), lastObjectBytes, lastObjectEntries, putLatency.last(), putLatency.max(),
                putLatency.percentile(0.5), putLatency.percentile(0.99), buffered, inFlight, backPressureTimeouts.get(),
                objectsTrimmed.get(), replayedObjects, replayedEntries, replayDamagedObjects, replayLostEntries,
                fenceError != null);
    }

    /** The key prefix objects are written under. */
    public String keyPrefix() {
        return prefix;
    }

    /** Direct-memory chunk size used for pending objects. */
    int chunkBytes() {
        return pool.chunkSize();
    }

    /** Chunks allocated by the pool so far (tests check reuse). */
    long chunksAllocated() {
        return pool.allocated();
    }

    @Override
    public String describe() {
        return "object-wal:" + where(prefix);
    }

    private String where(String key) {
        return WalObjectScanner.where(store, key);
    }

    // =============================================================================================
    // Helpers

    private static final class PendingObject {
        final String key;
        final long firstSeq;
        final String token;
        final ChunkedBuffer buffer;
        final ArrayList<WalEntry> entries = new ArrayList<>();
        final AtomicBoolean settled = new AtomicBoolean();
        final CompletableFuture<Void> done = new CompletableFuture<>();
        long lastSeq;
        long size;
        long accountedBytes;
        ScheduledFuture<?> timer;
        boolean flushWhenSealable;
        volatile Instant putStart;
        /** Data-object layout: the blocks while the object is open (null once sealed, or for version 1). */
        BlockTable blocks;
        /** Data-object layout: the object's bytes once sealed. */
        List<ByteBuffer> views;
        /** Data-object layout: what the sink gets once the object is durable. */
        WalDataObject dataObject;
        /** With a {@link WalCommittedOffsets} context: each stream's largest entry end in the object. */
        StreamEnds.Builder streamEnds;

        PendingObject(String key, long firstSeq, String token, ChunkedBuffer buffer) {
            this.key = key;
            this.firstSeq = firstSeq;
            this.token = token;
            this.buffer = buffer;
            this.lastSeq = firstSeq;
        }
    }

    /**
     * The streams of one WAL object and, per stream, the largest end offset (offset after the last
     * record) of its entries there: what the deletion rule of {@link WalCommittedOffsets} compares
     * with the committed end offsets. An entry that is not whole Kafka batches has an unknown end
     * ({@link Long#MAX_VALUE}): its object is kept until its stream is gone.
     */
    static final class StreamEnds {
        static final StreamEnds NONE = new StreamEnds(new int[0], new long[0]);

        final int[] streams;
        final long[] ends;

        private StreamEnds(int[] streams, long[] ends) {
            this.streams = streams;
            this.ends = ends;
        }

        /** Whether every stream is committed at or past its end here, or gone. */
        boolean committedPast(java.util.Map<Integer, Long> committed) {
            for (int i = 0; i < streams.length; i++) {
                Long c = committed.get(streams[i]);
                if (c == null || (c != WalCommittedOffsets.GONE && c < ends[i])) {
                    return false;
                }
            }
            return true;
        }

        /** Accumulates entries; not thread-safe. */
        static final class Builder {
            private final java.util.HashMap<Integer, long[]> ends = new java.util.HashMap<>();
            private final long[] scratch = new long[2];

            void add(int stream, long baseOffset, ByteBuffer payload) {
                long end = ObjectWalFormat.scanBatches(payload, scratch) ? scratch[0] : Long.MAX_VALUE;
                long[] cur = ends.computeIfAbsent(stream, s -> new long[] {Long.MIN_VALUE});
                cur[0] = Math.max(cur[0], end);
            }

            StreamEnds build() {
                int[] st = new int[ends.size()];
                long[] en = new long[ends.size()];
                int i = 0;
                for (java.util.Map.Entry<Integer, long[]> e : ends.entrySet()) {
                    st[i] = e.getKey();
                    en[i] = e.getValue()[0];
                    i++;
                }
                return new StreamEnds(st, en);
            }
        }
    }

    /** The entries of an open version-2 object: primitive arrays, no object per append. */
    private static final class BlockTable {
        int count;
        long[] sequences = new long[64];
        int[] streams = new int[64];
        long[] baseOffsets = new long[64];
        long[] bufferOffsets = new long[64];
        int[] lengths = new int[64];
        int[] crcs = new int[64];
        long[] nextOffsets = new long[64];
        long[] maxTimestamps = new long[64];
        private final long[] batchScratch = new long[2];

        /** Records one entry (CRC of the payload, computed with {@code crc}; offsets parsed from its batch headers). */
        void add(long seq, int stream, long baseOffset, long bufferOffset, ByteBuffer payload, CRC32C crc) {
            if (count == sequences.length) {
                int m = count * 2;
                sequences = java.util.Arrays.copyOf(sequences, m);
                streams = java.util.Arrays.copyOf(streams, m);
                baseOffsets = java.util.Arrays.copyOf(baseOffsets, m);
                bufferOffsets = java.util.Arrays.copyOf(bufferOffsets, m);
                lengths = java.util.Arrays.copyOf(lengths, m);
                crcs = java.util.Arrays.copyOf(crcs, m);
                nextOffsets = java.util.Arrays.copyOf(nextOffsets, m);
                maxTimestamps = java.util.Arrays.copyOf(maxTimestamps, m);
            }
            int i = count++;
            int length = payload.remaining();
            sequences[i] = seq;
            streams[i] = stream;
            baseOffsets[i] = baseOffset;
            bufferOffsets[i] = bufferOffset;
            lengths[i] = length;
            crc.reset();
            if (payload.hasArray()) {
                crc.update(payload.array(), payload.arrayOffset() + payload.position(), length);
            } else {
                crc.update(payload.duplicate());
            }
            crcs[i] = (int) crc.getValue();
            // Whole Kafka v2 batches (the engine's entries): next offset and max timestamp for the
            // data index. Anything else: next = base, max timestamp -1 (never committed as data).
            boolean whole = ObjectWalFormat.scanBatches(payload, batchScratch);
            long next = batchScratch[0];
            long maxTs = batchScratch[1];
            nextOffsets[i] = whole ? next : baseOffset;
            maxTimestamps[i] = whole ? maxTs : -1;
        }
    }

    static int defaultChunkBytes(long flushBytes) {
        long eighth = Math.max(1, flushBytes / 8);
        long pow2 = Long.highestOneBit(eighth);
        if (pow2 < eighth) {
            pow2 <<= 1;
        }
        return (int) Math.max(4096, Math.min(1 << 20, pow2));
    }

    // =============================================================================================

    /**
     * Settings of an {@link ObjectWriteAheadLog}, validated by {@link #build()}. Not thread-safe.
     *
     * <table>
     *   <caption>Options</caption>
     *   <tr><th>option</th><th>default</th><th>range</th></tr>
     *   <tr><td>{@link #keyPrefix}</td><td>{@code wal/}</td><td>non-empty, ends with '/'</td></tr>
     *   <tr><td>{@link #flushInterval}</td><td>250 ms</td><td>1 ms .. 1 h</td></tr>
     *   <tr><td>{@link #flushBytes}</td><td>8 MiB</td><td>1 B .. 1 GiB</td></tr>
     *   <tr><td>{@link #maxInFlightPuts}</td><td>4</td><td>1 .. 64</td></tr>
     *   <tr><td>{@link #maxBufferedBytes}</td><td>64 MiB</td><td>&gt;= flushBytes</td></tr>
     *   <tr><td>{@link #maxBlock}</td><td>30 s</td><td>&gt;= 0</td></tr>
     *   <tr><td>{@link #closeTimeout}</td><td>30 s</td><td>&gt;= 0</td></tr>
     *   <tr><td>{@link #replayParallelism}</td><td>8</td><td>1 .. 256</td></tr>
     *   <tr><td>{@link #listPageSize}</td><td>1000</td><td>1 .. 1000</td></tr>
     *   <tr><td>{@link #skipUnreadableObjects}</td><td>false</td><td></td></tr>
     * </table>
     */
    public static final class Builder {
        private String keyPrefix = "wal/";
        private Duration flushInterval = Duration.ofMillis(250);
        private long flushBytes = 8L << 20;
        private int maxInFlightPuts = 4;
        private long maxBufferedBytes = 64L << 20;
        private Duration maxBlock = Duration.ofSeconds(30);
        private Duration closeTimeout = Duration.ofSeconds(30);
        private int replayParallelism = 8;
        private int listPageSize = 1000;
        private boolean skipUnreadableObjects;
        private int chunkBytes;
        private Executor executor;
        private boolean dataObjects;

        private Builder() {
        }

        /**
         * Key prefix of the WAL's objects in the store (default {@code wal/}). Shale's store refuses
         * to open ({@code INVALID_ARGUMENT}) with {@code data/} or a prefix under {@code manifest/}:
         * those are its own keys.
         */
        public Builder keyPrefix(String keyPrefix) {
            this.keyPrefix = Objects.requireNonNull(keyPrefix, "keyPrefix");
            return this;
        }

        /** Longest time an entry waits in the pending object before it is sealed (default 250 ms). */
        public Builder flushInterval(Duration flushInterval) {
            this.flushInterval = Objects.requireNonNull(flushInterval, "flushInterval");
            return this;
        }

        /** An object is sealed as soon as it holds at least this many bytes (default 8 MiB). */
        public Builder flushBytes(long flushBytes) {
            this.flushBytes = flushBytes;
            return this;
        }

        /** Object PUTs that may be in flight at once (default 4). */
        public Builder maxInFlightPuts(int maxInFlightPuts) {
            this.maxInFlightPuts = maxInFlightPuts;
            return this;
        }

        /**
         * Memory that pending, queued and in-flight objects may hold before {@code append} blocks
         * (default 64 MiB). Counted in whole buffer chunks; an entry is always admitted when
         * nothing is buffered, so a single entry may exceed it.
         */
        public Builder maxBufferedBytes(long maxBufferedBytes) {
            this.maxBufferedBytes = maxBufferedBytes;
            return this;
        }

        /** How long {@code append} may block for back-pressure before failing with UNAVAILABLE (default 30 s). */
        public Builder maxBlock(Duration maxBlock) {
            this.maxBlock = Objects.requireNonNull(maxBlock, "maxBlock");
            return this;
        }

        /** How long {@code close} waits for buffered entries to become durable (default 30 s). */
        public Builder closeTimeout(Duration closeTimeout) {
            this.closeTimeout = Objects.requireNonNull(closeTimeout, "closeTimeout");
            return this;
        }

        /** Object GETs in flight during replay (default 8). */
        public Builder replayParallelism(int replayParallelism) {
            this.replayParallelism = replayParallelism;
            return this;
        }

        /** Keys per listing page (default 1000, S3's maximum). */
        public Builder listPageSize(int listPageSize) {
            this.listPageSize = listPageSize;
            return this;
        }

        /**
         * Whether replay skips (with an ERROR log) an object from which nothing can be recovered
         * instead of failing with CORRUPT_STORAGE (default false). For operators who have decided to
         * accept the loss of that object's entries.
         */
        public Builder skipUnreadableObjects(boolean skipUnreadableObjects) {
            this.skipUnreadableObjects = skipUnreadableObjects;
            return this;
        }

        /**
         * Where PUTs are started and their completions handled (default: the WAL's own daemon
         * threads, {@code maxInFlightPuts} of them). Tasks are short and never block. An executor
         * given here is not shut down by {@link ObjectWriteAheadLog#close()}. The deterministic
         * simulation passes its own.
         */
        public Builder executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /** Size of the pooled direct buffers (tests use small ones to cross boundaries); 0 = derived from flushBytes. */
        Builder chunkBytes(int chunkBytes) {
            this.chunkBytes = chunkBytes;
            return this;
        }

        /**
         * Validates the settings and creates an unopened WAL.
         *
         * @throws ShaleException {@code INVALID_ARGUMENT} naming the first bad setting
         */
        /**
         * Writes objects in the data-object layout (format version 2, see {@link ObjectWalFormat}) so
         * that the store commits them to its manifest as first-level data objects instead of
         * uploading the same bytes again: each appended byte is PUT to the object store once before
         * compaction, and a store's PUTs per GiB fall to about {@code 1 GiB / flushBytes} plus its
         * manifest commits. Needs a store that implements {@link WalDataObjectSink} (Shale's engine
         * does; with any other context the objects are an ordinary WAL). Objects of either format
         * are replayed whatever this setting, so it can be switched on or off between opens; a
         * release that predates version 2 cannot replay (nor read through the manifest) objects
         * written with it. Default: false.
         */
        public Builder dataObjects(boolean dataObjects) {
            this.dataObjects = dataObjects;
            return this;
        }

        public ObjectWriteAheadLog build() {
            validatePrefix(keyPrefix);
            require(!flushInterval.isNegative() && flushInterval.compareTo(Duration.ofMillis(1)) >= 0
                    && flushInterval.compareTo(Duration.ofHours(1)) <= 0,
                    "flushInterval must be between 1 ms and 1 h, got " + flushInterval);
            require(flushBytes >= 1 && flushBytes <= (1L << 30), "flushBytes must be between 1 and 1 GiB, got " + flushBytes);
            require(maxInFlightPuts >= 1 && maxInFlightPuts <= 64, "maxInFlightPuts must be between 1 and 64, got " + maxInFlightPuts);
            require(maxBufferedBytes >= flushBytes, "maxBufferedBytes (" + maxBufferedBytes
                    + ") must be at least flushBytes (" + flushBytes + ")");
            require(!maxBlock.isNegative(), "maxBlock must not be negative, got " + maxBlock);
            require(!closeTimeout.isNegative(), "closeTimeout must not be negative, got " + closeTimeout);
            require(replayParallelism >= 1 && replayParallelism <= 256,
                    "replayParallelism must be between 1 and 256, got " + replayParallelism);
            require(listPageSize >= 1 && listPageSize <= 1000, "listPageSize must be between 1 and 1000, got " + listPageSize);
            require(chunkBytes == 0 || (chunkBytes >= 64 && chunkBytes <= (64 << 20)),
                    "chunkBytes must be 0 or between 64 B and 64 MiB, got " + chunkBytes);
            return new ObjectWriteAheadLog(this);
        }

        static void validatePrefix(String p) {
            require(!p.isEmpty() && p.endsWith("/") && !p.startsWith("/"),
                    "keyPrefix must be non-empty, end with '/' and not start with '/', got '" + p + "'");
            require(p.length() <= 400, "keyPrefix is longer than 400 characters");
            for (String segment : p.substring(0, p.length() - 1).split("/", -1)) {
                require(!segment.isEmpty() && !segment.equals(".") && !segment.equals(".."),
                        "keyPrefix has an empty, '.' or '..' segment: '" + p + "'");
            }
            for (int i = 0; i < p.length(); i++) {
                char c = p.charAt(i);
                require(c >= 0x20 && c != 0x7F && c != '\\', "keyPrefix has a control character or backslash: '" + p + "'");
            }
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, message);
            }
        }
    }

}
