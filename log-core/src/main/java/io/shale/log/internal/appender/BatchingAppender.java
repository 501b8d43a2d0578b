package io.shale.log.internal.appender;

import io.shale.log.AppendResult;
import io.shale.log.AppenderOptions;
import io.shale.log.ErrorKind;
import io.shale.log.LogStore;
import io.shale.log.RecordAppender;
import io.shale.log.RecordMetadata;
import io.shale.log.ShaleException;
import io.shale.log.TopicConfig;
import io.shale.log.TopicDescription;
import io.shale.log.TopicPartition;
import io.shale.log.internal.util.Blocking;
import io.shale.log.record.CompressionType;
import io.shale.log.record.Header;
import io.shale.log.record.RecordBatchBuilder;
import io.shale.log.record.RecordBatchLayout;
import io.shale.log.record.SimpleRecord;
import io.shale.log.record.TimestampType;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Design (the contract is RecordAppender's Javadoc):
 *
 * Per partition: at most one OPEN batch (a pooled RecordBatchBuilder that records are encoded into
 * as they are appended, under the partition's lock, so a caller may reuse its buffers at once), and
 * a FIFO of SEALED batches waiting to be handed to the store. A batch is sealed when the next
 * record would not fit, when it reaches its limit, when its linger passes (the appender's thread),
 * or on flush/close. Sealed batches are sent by whoever holds the partition's send lock: the
 * thread that sealed takes it with tryLock and sends the FIFO in order; a thread that finds it
 * taken leaves its batch to the holder, which re-checks the FIFO after unlocking. So batches of a
 * partition reach the store (appendBatch: one Kafka v2 batch, copied into the log cache before the
 * call returns) strictly in order, no thread ever waits for another's send, and nobody holds the
 * partition lock across a store call. A producer thread sends at most MAX_SENDS_PER_CALL batches
 * per call and hands the rest to the appender's thread, so no append() works for others forever.
 *
 * The appender's one thread: a FIFO of OPEN batches in creation order (linger is the same for all,
 * so the head has the earliest deadline), sleeps until the head's deadline, seals and sends it;
 * it also serves flush/close ("send everything") and hand-offs.
 *
 * Memory: each record reserves an upper bound of its encoded size (the same estimate decides when
 * a batch is full) against bufferBytes before it takes any lock; a batch gives its bytes back once
 * appendBatch has returned (the store holds the bytes from then on, under its own bound,
 * append.max.block.ms). A record that finds no room asks the thread to send every open batch (as
 * Kafka's accumulator makes every batch ready when memory is exhausted) and waits at most maxBlock.
 *
 * Allocation per record: its future and, on success, its RecordMetadata; the futures and
 * timestamps arrays grow per batch. Builders (with their encode buffers) are pooled.
 *
 * Batch states: OPEN -> SEALED -> SENDING -> FINISHED; OPEN or SEALED -> ABANDONED (close's
 * deadline passed before it was sent). The SEALED -> SENDING / ABANDONED transition is a CAS, so a
 * batch is either sent or abandoned, never both; whoever wins owns its builder and its bytes.
 */
/**
 * The {@link RecordAppender} behind {@link LogStore#appender}. Works over any {@link LogStore}
 * through its public API ({@code describeTopic}, {@code appendBatch}).
 */
public final class BatchingAppender implements RecordAppender {

    private static final Logger log = LoggerFactory.getLogger(BatchingAppender.class);
    private static final AtomicInteger THREAD_IDS = new AtomicInteger();

    /** Largest framing of one v2 record around its key, value and headers (varints at their widest). */
    static final int RECORD_OVERHEAD = 36;
    /** Framing of one header around its key's UTF-8 and its value (two varints at their widest). */
    static final int HEADER_OVERHEAD = 10;
    /** Batches one append() call sends before it hands the rest of its partition to the appender's thread. */
    static final int MAX_SENDS_PER_CALL = 4;
    /** Batches the appender's thread sends for one partition before it serves the others. */
    static final int MAX_SENDS_PER_TURN = 64;
    /** Most builders kept for reuse. */
    static final int MAX_POOLED_ENCODERS = 64;

    static final int OPEN = 0;
    static final int SEALED = 1;
    static final int SENDING = 2;
    static final int FINISHED = 3;
    static final int ABANDONED = 4;

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Batch.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final LogStore store;
    private final Clock clock;
    private final AppenderOptions options;
    private final int batchBytes;
    private final long lingerNanos;
    private final long bufferBytes;

    private final ConcurrentHashMap<TopicPartition, Partition> partitions = new ConcurrentHashMap<>();
    /** OPEN batches in creation order (linger > 0 only); the head lingers out first. */
    private final ConcurrentLinkedQueue<Batch> lingering = new ConcurrentLinkedQueue<>();
    /** Partitions whose sealed batches an append() call left to the appender's thread. */
    private final ConcurrentLinkedQueue<Partition> handedOff = new ConcurrentLinkedQueue<>();
    /** Batches not finished yet (any state but FINISHED and ABANDONED): what flush and close wait for. */
    private final Set<Batch> outstanding = ConcurrentHashMap.newKeySet();
    private final AtomicLong batchSeq = new AtomicLong();
    private final ConcurrentLinkedQueue<Encoder> encoders = new ConcurrentLinkedQueue<>();
    private final AtomicInteger pooledEncoders = new AtomicInteger();

    // buffer space (bufferBytes)
    private final AtomicLong buffered = new AtomicLong();
    private final ReentrantLock spaceLock = new ReentrantLock();
    private final Condition spaceFreed = spaceLock.newCondition();
    private volatile int spaceWaiters;

    // the appender's thread
    private final Thread thread;
    private volatile boolean idle;
    private final AtomicBoolean sendAllRequested = new AtomicBoolean();
    private volatile boolean closed;
    private volatile boolean stopped;
    private final AtomicBoolean closeCalled = new AtomicBoolean();
    private final java.util.function.Consumer<BatchingAppender> onClosed;

    /**
     * @param clock gives records without a timestamp theirs (the store's clock, so that its
     *     timestamp checks agree)
     */
    public BatchingAppender(LogStore store, AppenderOptions options, Clock clock) {
        this(store, options, clock, a -> { });
    }

    /**
     * @param clock gives records without a timestamp theirs (the store's clock, so that its
     *     timestamp checks agree)
     * @param onClosed called once, on the closing thread, when {@link #close(Duration)} has finished
     *     (the store forgets the appender then)
     */
    public BatchingAppender(LogStore store, AppenderOptions options, Clock clock,
            java.util.function.Consumer<BatchingAppender> onClosed) {
        this.onClosed = Objects.requireNonNull(onClosed, "onClosed");
        this.store = Objects.requireNonNull(store, "store");
        this.options = Objects.requireNonNull(options, "options");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.batchBytes = options.batchBytes();
        this.lingerNanos = options.linger().toNanos();
        this.bufferBytes = options.bufferBytes();
        this.thread = new Thread(this::run, "shale-appender-" + THREAD_IDS.incrementAndGet());
        thread.setDaemon(true);
        thread.start();
    }

    // ================================================================== append

    @Override
    public CompletableFuture<RecordMetadata> append(TopicPartition tp, SimpleRecord record) {
        if (tp == null) {
            return failed(new ShaleException(ErrorKind.INVALID_ARGUMENT, "append: the topic partition is null"));
        }
        if (record == null) {
            return failed(new ShaleException(ErrorKind.INVALID_ARGUMENT, "append to " + tp + ": the record is null"));
        }
        if (closed) {
            return failed(closedError());
        }
        long size = estimate(record);
        if (size > bufferBytes) {
            return failed(new ShaleException(ErrorKind.RECORD_TOO_LARGE, "record for " + tp + " of about " + size
                    + " bytes is larger than the appender's bufferBytes=" + bufferBytes));
        }
        try {
            reserve(size, tp);
        } catch (ShaleException e) {
            return failed(e);
        }
        Partition p = partitions.get(tp);
        if (p == null) {
            p = partitions.computeIfAbsent(tp, Partition::new);
        }
        CompletableFuture<RecordMetadata> f = new CompletableFuture<>();
        boolean sealed;
        p.lock.lock();
        try {
            if (closed) {
                throw closedError();
            }
            sealed = add(p, record, size, f);
        } catch (RuntimeException | LinkageError e) {
            p.lock.unlock();
            release(size);
            drain(p, MAX_SENDS_PER_CALL); // the record may have sealed the open batch before it failed
            return failed(asShale(tp, e));
        }
        p.lock.unlock();
        if (sealed || lingerNanos == 0) {
            drain(p, MAX_SENDS_PER_CALL);
        }
        return f;
    }

    /**
     * Partition lock held: validates and encodes {@code record} into the partition's open batch
     * (sealing the open batch first if the record does not fit). Returns whether a batch was sealed.
     */
    private boolean add(Partition p, SimpleRecord record, long size, CompletableFuture<RecordMetadata> f) {
        Batch b = p.open;
        TopicConfig config = b != null ? b.config : describe(p.tp);
        boolean logAppendTime = config.messageTimestampType() == TimestampType.LOG_APPEND_TIME;
        long now = clock.millis();
        long ts = record.timestamp();
        if (ts == RecordBatchLayout.NO_TIMESTAMP) {
            ts = now;
        } else if (!logAppendTime) {
            checkTimestamp(p.tp, config, ts, now);
        }
        if (record.key() == null && config.cleanupPolicy().compacts()) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "topic '" + p.tp.topic() + "' is compacted "
                    + "(cleanup.policy includes compact): every record appended to " + p.tp + " needs a key");
        }
        boolean sealed = false;
        if (b != null && b.bytes + size > b.limit) {
            seal(p, b);
            sealed = true;
            b = null;
        }
        if (b == null) {
            b = open(p, config, size);
        }
        try {
            b.encoder.builder.append(ts, record.key(), record.value(), record.headers());
        } catch (RuntimeException e) {
            if (b.count == 0) {
                discard(p, b);
            }
            throw e;
        }
        b.add(f, ts, size);
        if (b.bytes >= b.limit) {
            seal(p, b);
            sealed = true;
        }
        return sealed;
    }

    private TopicConfig describe(TopicPartition tp) {
        TopicDescription d = store.describeTopic(tp.topic()).orElseThrow(() -> new ShaleException(
                ErrorKind.UNKNOWN_TOPIC_OR_PARTITION, "unknown topic '" + tp.topic() + "'"));
        if (tp.partition() >= d.partitionCount()) {
            throw new ShaleException(ErrorKind.UNKNOWN_TOPIC_OR_PARTITION, "topic '" + tp.topic() + "' has "
                    + d.partitionCount() + " partitions; there is no partition " + tp.partition());
        }
        return d.config();
    }

    /** The store's rule (StoreEngine checks the same at append), checked here so only this record fails. */
    private static void checkTimestamp(TopicPartition tp, TopicConfig tc, long ts, long now) {
        if (ts < 0) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "record for " + tp + " has negative timestamp " + ts);
        }
        if (now - ts > tc.messageTimestampBeforeMaxMs() || ts - now > tc.messageTimestampAfterMaxMs()) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "record for " + tp + " has timestamp " + ts
                    + " outside the allowed range around now=" + now + " (message.timestamp.before.max.ms="
                    + tc.messageTimestampBeforeMaxMs() + ", message.timestamp.after.max.ms="
                    + tc.messageTimestampAfterMaxMs() + ")");
        }
    }

    /** Partition lock held: a new open batch for {@code p}. */
    private Batch open(Partition p, TopicConfig config, long firstRecordSize) {
        Encoder e = encoders.poll();
        if (e != null) {
            pooledEncoders.decrementAndGet();
        } else {
            e = new Encoder();
        }
        try {
            e.builder.reset().compression(config.compressionType());
        } catch (RuntimeException | LinkageError ex) {
            recycle(e, 0);
            throw ex;
        }
        Batch b = new Batch(p, config, e, batchSeq.incrementAndGet(), System.nanoTime() + lingerNanos,
                firstRecordSize);
        p.open = b;
        outstanding.add(b);
        if (lingerNanos > 0) {
            lingering.offer(b);
            if (idle) {
                LockSupport.unpark(thread);
            }
        }
        return b;
    }

    /** Partition lock held: an open batch that got no record (its first failed to encode). */
    private void discard(Partition p, Batch b) {
        p.open = null;
        b.state = FINISHED;
        recycle(b.encoder, 0);
        b.encoder = null;
        outstanding.remove(b);
        b.done.complete(null);
    }

    /** Partition lock held. */
    private static void seal(Partition p, Batch b) {
        p.open = null;
        p.ready.addLast(b);
        b.state = SEALED; // volatile: publishes the batch's records to whoever reads the state
    }

    // ================================================================== sending

    /**
     * Sends {@code p}'s sealed batches (and with linger 0 its open one) in order, at most
     * {@code budget} of them, unless another thread is sending them; hands the rest to the
     * appender's thread.
     */
    private void drain(Partition p, int budget) {
        for (;;) {
            if (!p.sendLock.tryLock()) {
                return; // the holder sends what is ready, and looks again after unlocking
            }
            try {
                Batch b;
                while (budget > 0 && (b = nextToSend(p)) != null) {
                    send(p, b);
                    budget--;
                }
            } finally {
                p.sendLock.unlock();
            }
            if (!hasWork(p)) {
                return;
            }
            if (budget <= 0) {
                handedOff.offer(p);
                LockSupport.unpark(thread);
                return;
            }
        }
    }

    private Batch nextToSend(Partition p) {
        p.lock.lock();
        try {
            Batch b = p.ready.pollFirst();
            if (b == null && lingerNanos == 0 && p.open != null) {
                b = p.open;
                seal(p, b);
                p.ready.pollFirst();
            }
            return b;
        } finally {
            p.lock.unlock();
        }
    }

    private boolean hasWork(Partition p) {
        p.lock.lock();
        try {
            return !p.ready.isEmpty() || (lingerNanos == 0 && p.open != null);
        } finally {
            p.lock.unlock();
        }
    }

    /** Send lock held: hands {@code b} to the store, unless close abandoned it. */
    private void send(Partition p, Batch b) {
        if (!STATE.compareAndSet(b, SEALED, SENDING)) {
            return;
        }
        Encoder e = b.encoder;
        b.encoder = null;
        CompletableFuture<AppendResult> result;
        try {
            RecordBatchBuilder builder = e.builder;
            ByteBuffer out = e.buffer(builder.sizeUpperBound());
            builder.writeTo(out);
            out.flip();
            // the store copies the bytes before appendBatch returns: the encoder is free again after it
            result = store.appendBatch(p.tp, out);
        } catch (RuntimeException | LinkageError ex) {
            result = CompletableFuture.failedFuture(asShale(p.tp, ex));
        } finally {
            recycle(e, b.bytes);
            release(b.bytes);
        }
        result.whenComplete(b);
    }

    private void recycle(Encoder e, long batchBytesUsed) {
        if (!closed && batchBytesUsed <= 2L * batchBytes && pooledEncoders.get() < MAX_POOLED_ENCODERS) {
            pooledEncoders.incrementAndGet();
            encoders.offer(e);
        }
    }

    // ================================================================== buffer space

    /** Upper bound of {@code r}'s encoded size in a v2 batch (uncompressed). */
    static long estimate(SimpleRecord r) {
        long size = RECORD_OVERHEAD;
        if (r.key() != null) {
            size += r.key().remaining();
        }
        if (r.value() != null) {
            size += r.value().remaining();
        }
        List<Header> headers = r.headers();
        for (int i = 0, n = headers.size(); i < n; i++) {
            Header h = headers.get(i);
            size += HEADER_OVERHEAD + 3L * h.key().length() + (h.value() == null ? 0 : h.value().remaining());
        }
        return size;
    }

    private void reserve(long size, TopicPartition tp) {
        if (tryReserve(size)) {
            return;
        }
        // Full: have every open batch sent (their bytes come back once the store has them), then wait.
        requestSendAll();
        long deadline = System.nanoTime() + Blocking.timeoutNanos(options.maxBlock());
        spaceLock.lock();
        try {
            spaceWaiters++;
            for (;;) {
                if (closed) {
                    throw closedError();
                }
                if (tryReserve(size)) {
                    return;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new ShaleException(ErrorKind.UNAVAILABLE, "append to " + tp + ": the appender's buffer ("
                            + "bufferBytes=" + bufferBytes + ") stayed full for maxBlock=" + options.maxBlock()
                            + "; the store is not taking batches as fast as they are appended");
                }
                try {
                    spaceFreed.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ShaleException(ErrorKind.UNAVAILABLE, "append to " + tp
                            + ": interrupted while waiting for buffer space", e);
                }
            }
        } finally {
            spaceWaiters--;
            spaceLock.unlock();
        }
    }

    private boolean tryReserve(long size) {
        for (;;) {
            long used = buffered.get();
            if (used + size > bufferBytes) {
                return false;
            }
            if (buffered.compareAndSet(used, used + size)) {
                return true;
            }
        }
    }

    private void release(long size) {
        buffered.addAndGet(-size);
        if (spaceWaiters > 0) {
            signalSpace();
        }
    }

    private void signalSpace() {
        spaceLock.lock();
        try {
            spaceFreed.signalAll();
        } finally {
            spaceLock.unlock();
        }
    }

    /** Bytes reserved by records not yet handed to the store (tests and diagnostics). */
    public long bufferedBytes() {
        return buffered.get();
    }

    // ================================================================== the appender's thread

    private void requestSendAll() {
        sendAllRequested.set(true);
        LockSupport.unpark(thread);
    }

    private void run() {
        while (!stopped) {
            try {
                runOnce();
            } catch (RuntimeException | LinkageError e) {
                // never expected (store calls fail their futures instead of throwing); keep serving
                log.error("appender thread {}: unexpected failure, continuing", thread.getName(), e);
            }
        }
    }

    private void runOnce() {
        if (sendAllRequested.getAndSet(false)) {
            sendAll();
        }
        Partition handed;
        for (int i = 0; i < 256 && (handed = handedOff.poll()) != null; i++) {
            drain(handed, MAX_SENDS_PER_TURN);
        }
        long now = System.nanoTime();
        Batch head;
        while ((head = lingering.peek()) != null) {
            if (head.state != OPEN) {
                lingering.poll();
                continue;
            }
            if (head.deadlineNanos - now > 0) {
                break;
            }
            lingering.poll();
            Partition p = head.partition;
            boolean sealed = false;
            p.lock.lock();
            try {
                if (p.open == head) {
                    seal(p, head);
                    sealed = true;
                }
            } finally {
                p.lock.unlock();
            }
            if (sealed) {
                drain(p, MAX_SENDS_PER_TURN);
            }
            now = System.nanoTime();
        }
        if (stopped || sendAllRequested.get() || !handedOff.isEmpty()) {
            return;
        }
        head = lingering.peek();
        if (head == null) {
            idle = true; // volatile write, then look again: an append offers first, then reads idle
            if (lingering.isEmpty() && handedOff.isEmpty() && !sendAllRequested.get() && !stopped) {
                LockSupport.park(this);
            }
            idle = false;
        } else if (head.state == OPEN) {
            long wait = head.deadlineNanos - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(this, wait);
            }
        }
    }

    /** Seals every open batch and sends everything sealed. */
    private void sendAll() {
        sealAll();
        for (Partition p : partitions.values()) {
            if (hasWork(p)) {
                drain(p, MAX_SENDS_PER_TURN);
            }
        }
    }

    /**
     * Seals every open batch. Once it returns, every batch numbered before the call is in
     * {@link #outstanding}: a batch is numbered and registered under its partition's lock, which
     * this takes in turn.
     */
    private void sealAll() {
        for (Partition p : partitions.values()) {
            p.lock.lock();
            try {
                if (p.open != null) {
                    seal(p, p.open);
                }
            } finally {
                p.lock.unlock();
            }
        }
    }

    // ================================================================== flush and close

    @Override
    public void flush() {
        flush(options.maxBlock());
    }

    @Override
    public void flush(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (closed) {
            throw closedError();
        }
        long deadline = System.nanoTime() + Blocking.timeoutNanos(timeout);
        long upTo = batchSeq.get();
        sealAll();
        requestSendAll();
        int left = awaitBatches(upTo, deadline);
        if (left > 0) {
            throw new ShaleException(ErrorKind.UNAVAILABLE, "appender flush: " + left + " batch(es) not completed by the"
                    + " store within " + timeout + "; their records' futures complete when the store answers");
        }
    }

    @Override
    public void close() {
        close(options.maxBlock());
    }

    @Override
    public void close(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (!closeCalled.compareAndSet(false, true)) {
            return;
        }
        long deadline = System.nanoTime() + Blocking.timeoutNanos(timeout);
        closed = true; // appends checking under a partition lock after this fail; the thread seals all below
        signalSpace();
        sealAll(); // after this no batch can open: appends see closed under the partition lock
        requestSendAll();
        try {
            int left = awaitBatches(Long.MAX_VALUE, deadline);
            if (left > 0) {
                failRemaining(timeout);
            }
            stopped = true;
            LockSupport.unpark(thread);
            if (Thread.currentThread() != thread) {
                long ms = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                try {
                    thread.join(Math.max(1, ms)); // it may be inside a store call that blocks; it is a daemon
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            encoders.clear();
        } finally {
            onClosed.accept(this);
        }
    }

    /**
     * Waits until every batch numbered up to {@code upTo} has finished, or the deadline. Returns
     * how many had not.
     */
    private int awaitBatches(long upTo, long deadline) {
        for (;;) {
            List<Batch> pending = unfinished(upTo);
            if (pending.isEmpty()) {
                return 0;
            }
            for (Batch b : pending) {
                long left = deadline - System.nanoTime();
                try {
                    if (left <= 0) {
                        return Math.max(1, unfinished(upTo).size());
                    }
                    b.done.get(left, TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    return Math.max(1, unfinished(upTo).size());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return Math.max(1, unfinished(upTo).size());
                } catch (ExecutionException e) {
                    // done never fails
                }
            }
        }
    }

    private List<Batch> unfinished(long upTo) {
        List<Batch> out = new ArrayList<>();
        for (Batch b : outstanding) {
            if (b.seq <= upTo && !b.done.isDone()) {
                out.add(b);
            }
        }
        return out;
    }

    /** Close's deadline passed: fails every batch not finished. */
    private void failRemaining(Duration timeout) {
        ShaleException notSent = new ShaleException(ErrorKind.CLOSED, "appender closed (timeout " + timeout
                + ") before this record was handed to the store; it was not appended");
        ShaleException notAcknowledged = new ShaleException(ErrorKind.UNAVAILABLE, "appender closed (timeout "
                + timeout + ") before the store acknowledged this record; it may still become durable");
        int abandoned = 0;
        int unacknowledged = 0;
        for (Batch b : new ArrayList<>(outstanding)) {
            Partition p = b.partition;
            boolean take = false;
            p.lock.lock();
            try {
                int s = b.state;
                if (s == OPEN && p.open == b) {
                    p.open = null;
                    b.state = ABANDONED;
                    take = true;
                } else if (s == SEALED && STATE.compareAndSet(b, SEALED, ABANDONED)) {
                    p.ready.remove(b);
                    take = true;
                }
            } finally {
                p.lock.unlock();
            }
            if (take) {
                b.encoder = null;
                release(b.bytes);
                b.fail(notSent);
                abandoned++;
            } else if (b.state == SENDING) {
                b.fail(notAcknowledged);
                unacknowledged++;
            }
        }
        log.warn("appender closed after {}: {} batch(es) never handed to the store failed with CLOSED, {} not yet "
                + "acknowledged by it failed with UNAVAILABLE", timeout, abandoned, unacknowledged);
    }

    // ================================================================== helpers

    private static <T> CompletableFuture<T> failed(ShaleException e) {
        return CompletableFuture.failedFuture(e);
    }

    private static ShaleException closedError() {
        return new ShaleException(ErrorKind.CLOSED, "appender is closed");
    }

    private static ShaleException asShale(TopicPartition tp, Throwable e) {
        ShaleException se = ShaleException.unwrap(e);
        if (se != null) {
            return se;
        }
        if (e instanceof IllegalArgumentException || e instanceof NullPointerException) {
            return new ShaleException(ErrorKind.INVALID_ARGUMENT, "append to " + tp + " rejected: " + e.getMessage(), e);
        }
        if (e instanceof LinkageError) {
            return new ShaleException(ErrorKind.INVALID_ARGUMENT, "append to " + tp + " needs a library that is missing"
                    + " or of an incompatible version: " + e, e);
        }
        log.error("append to {} through the appender failed unexpectedly", tp, e);
        return new ShaleException(ErrorKind.UNAVAILABLE, "append to " + tp + " failed unexpectedly: " + e, e);
    }

    @Override
    public String toString() {
        return "BatchingAppender{" + options + ", partitions=" + partitions.size() + ", bufferedBytes="
                + buffered.get() + (closed ? ", closed" : "") + "}";
    }

    // ================================================================== state

    private static final class Partition {
        final TopicPartition tp;
        /** Guards {@link #open} and {@link #ready}; never held across a store call or a wait. */
        final ReentrantLock lock = new ReentrantLock();
        /** Held by the one thread handing this partition's batches to the store. */
        final ReentrantLock sendLock = new ReentrantLock();
        Batch open;
        final ArrayDeque<Batch> ready = new ArrayDeque<>(4);

        Partition(TopicPartition tp) {
            this.tp = tp;
        }
    }

    /** A builder and the buffer it writes the finished batch into; pooled. */
    private static final class Encoder {
        final RecordBatchBuilder builder = new RecordBatchBuilder();
        ByteBuffer out = ByteBuffer.allocate(1024);

        ByteBuffer buffer(int size) {
            if (out.capacity() < size) {
                out = ByteBuffer.allocate(Math.max(size, out.capacity() * 2));
            }
            return out.clear();
        }
    }

    private final class Batch implements BiConsumer<AppendResult, Throwable> {
        final Partition partition;
        final TopicConfig config;
        final boolean logAppendTime;
        /** Estimated record bytes this batch may hold: batchBytes, within the topic's max.message.bytes. */
        final long limit;
        final long seq;
        final long deadlineNanos;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        volatile int state = OPEN;
        Encoder encoder;
        CompletableFuture<RecordMetadata>[] futures;
        long[] timestamps;
        int count;
        long bytes;

        @SuppressWarnings("unchecked")
        Batch(Partition partition, TopicConfig config, Encoder encoder, long seq, long deadlineNanos,
                long firstRecordSize) {
            this.partition = partition;
            this.config = config;
            this.logAppendTime = config.messageTimestampType() == TimestampType.LOG_APPEND_TIME;
            long room = config.maxMessageBytes() - RecordBatchLayout.HEADER_SIZE;
            if (config.compressionType() != CompressionType.NONE) {
                room = (room - 64) * 6 / 7; // a codec may grow data it cannot compress (snappy: n + n/6 + 32)
            }
            this.limit = Math.max(1, Math.min(batchBytes, room));
            this.encoder = encoder;
            this.seq = seq;
            this.deadlineNanos = deadlineNanos;
            // sized for records like the first one, so that a batch of similar records never grows them
            int capacity = (int) Math.max(4, Math.min(1024, limit / Math.max(1, firstRecordSize) + 1));
            this.futures = new CompletableFuture[capacity];
            this.timestamps = new long[capacity];
        }

        /** Partition lock held. */
        void add(CompletableFuture<RecordMetadata> f, long timestamp, long size) {
            if (count == futures.length) {
                futures = Arrays.copyOf(futures, count * 2);
                timestamps = Arrays.copyOf(timestamps, count * 2);
            }
            futures[count] = f;
            timestamps[count] = timestamp;
            count++;
            bytes += size;
        }

        /** The store answered for this batch. */
        @Override
        public void accept(AppendResult r, Throwable error) {
            state = FINISHED;
            TopicPartition tp = partition.tp;
            if (error == null && r.offsetCount() != count) {
                error = new ShaleException(ErrorKind.UNAVAILABLE, "the store assigned " + r.offsetCount()
                        + " offsets to a batch of " + count + " records for " + tp);
                log.error("{}", error.getMessage());
            }
            if (error == null) {
                long base = r.baseOffset();
                for (int i = 0; i < count; i++) {
                    futures[i].complete(new RecordMetadata(tp, base + i,
                            logAppendTime ? r.logAppendTime() : timestamps[i]));
                }
                outstanding.remove(this);
                done.complete(null);
            } else {
                ShaleException se = asShale(tp, error);
                if (se.kind() == ErrorKind.RECORD_TOO_LARGE && count > 1) {
                    // batches are capped by max.message.bytes when records join them, so the limit
                    // was lowered while they waited: say so, not just "batch of N bytes" for one small record
                    se = new ShaleException(ErrorKind.RECORD_TOO_LARGE, "the appender's batch of " + count
                            + " records for " + tp + " was refused: " + se.getMessage() + " (the topic's"
                            + " max.message.bytes is lower than when these records were batched: altered, or the"
                            + " topic re-created; none was appended, append them again)", se);
                }
                fail(se);
            }
        }

        void fail(ShaleException e) {
            for (int i = 0; i < count; i++) {
                futures[i].completeExceptionally(e);
            }
            outstanding.remove(this);
            done.complete(null);
        }
    }
}
