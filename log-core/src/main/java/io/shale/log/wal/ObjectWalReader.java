package io.shale.log.wal;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.WalReplayHandler;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads another writer's {@link ObjectWriteAheadLog} without owning it: what a cluster node runs
 * when it takes over partitions of a node that died (RFC 0005, "What each WAL guarantees on
 * takeover"). It lists and reads the objects under that WAL's key prefix and hands over the
 * acknowledged entries of the partitions taken over that the catalog has not committed yet; it
 * never claims an epoch, checks fencing, writes or deletes anything.
 *
 * <p>Not part of Shale's public API: used by the store's engine. One reader may be used for any
 * number of {@link #read} calls, from one thread at a time.
 *
 * <p><b>What is delivered.</b> For each requested stream (partition) {@code s} with start offset
 * {@code start(s)} (its committed end offset in the catalog), the entries that continue the
 * partition's log from {@code start(s)}, exactly as the WAL's owner would have recovered them
 * on its own restart (the engine's {@code Recovery}):
 * <ul>
 *   <li>entries ending at or below {@code start(s)} are already committed: skipped;</li>
 *   <li>an entry starting below {@code start(s)} but ending above it overlaps committed data: skipped
 *       (logged; a committed end falls on an entry boundary of the log it was committed from);</li>
 *   <li>an entry starting exactly at the end of what was kept so far is kept;</li>
 *   <li>an entry starting where a kept entry starts (or at {@code start(s)}) is a later write of the
 *       same offsets after the earlier one failed and was rolled back (in the same writer epoch or
 *       a later one: sequences order epochs): it <b>supersedes</b> the kept entries from that offset
 *       on;</li>
 *   <li>an entry starting inside a kept entry, or beyond the end of what was kept, followed an append
 *       that never became durable, was rolled back with it and never acknowledged: skipped.</li>
 * </ul>
 * So each stream's delivered entries are contiguous from {@code start(s)}: every entry starts where
 * the previous one ended. They are delivered in sequence order (across streams too) after the
 * whole WAL was read, because a superseding entry may come much later than what it replaces.
 * Entries of other streams are read and verified but not delivered. If the catalog's log start
 * offset is above the committed end and the dead writer continued its log there (records were
 * deleted beyond data it had lost), those entries do not continue from {@code start(s)} and are
 * skipped: pass such a stream's log start as its start offset only if its WAL entries begin there.
 *
 * <p><b>Which objects, and damage.</b> Objects are selected, fetched, verified and judged exactly
 * as the WAL's own replay does (one shared implementation, {@code WalObjectScanner}): every WAL
 * object under the prefix of any epoch and either format version, except objects the catalog
 * owns as committed data objects ({@link Builder#committedDataObjects}); every byte is checked
 * against its CRC; frames that verify before damage in an object are used and the damage is
 * logged at ERROR; an object from which nothing can be recovered fails the read with
 * {@code CORRUPT_STORAGE} naming the object (unless {@link Builder#skipUnreadableObjects}); an
 * object listed but gone is skipped.
 *
 * <p><b>Memory.</b> While the entries kept so far fit in {@link Builder#maxBufferedBytes}, their
 * payloads are copied during the one pass over the WAL. Beyond that the reader continues on
 * offsets only and reads the objects that hold kept entries a second time to deliver them; if
 * such an object changed or vanished in between, the read fails {@code CORRUPT_STORAGE} naming it
 * (the WAL's objects must not be deleted while a partition in them is not committed past them:
 * {@link WalCommittedOffsets}).
 *
 * <p><b>Errors.</b> {@code ShaleException}: {@code CORRUPT_STORAGE} as above, or for an entry of a
 * requested stream that is not whole Kafka record batches; {@code UNAVAILABLE} (or the store's
 * kind) if the store cannot be listed or read; {@code INVALID_ARGUMENT} for a negative stream id or
 * start offset. Whatever {@code handler} throws propagates. A read that fails may have called
 * {@code handler} already (only in the second pass): the caller discards what it got.
 */
public final class ObjectWalReader {
    private static final Logger LOG = LoggerFactory.getLogger(ObjectWalReader.class);

    private final ObjectStore store;
    private final String prefix;
    private final int replayParallelism;
    private final int listPageSize;
    private final boolean skipUnreadableObjects;
    private final long maxBufferedBytes;
    private final Predicate<String> committedDataObjects;

    private ObjectWalReader(Builder b) {
        this.store = b.store;
        this.prefix = b.keyPrefix;
        this.replayParallelism = b.replayParallelism;
        this.listPageSize = b.listPageSize;
        this.skipUnreadableObjects = b.skipUnreadableObjects;
        this.maxBufferedBytes = b.maxBufferedBytes;
        this.committedDataObjects = b.committedDataObjects;
    }

    /**
     * A reader of the WAL whose objects are under {@code keyPrefix} in {@code store} (the prefix that
     * WAL was built with, {@link ObjectWriteAheadLog.Builder#keyPrefix}).
     */
    public static Builder builder(ObjectStore store, String keyPrefix) {
        return new Builder(store, keyPrefix);
    }

    /**
     * What one {@link #read} did.
     *
     * @param objectsRead WAL objects read in the first pass (of every stream)
     * @param entriesDelivered entries handed to the handler
     * @param entriesCommitted entries of requested streams ending at or below their start offset
     * @param entriesSuperseded entries replaced by a later write of the same offsets
     * @param entriesRolledBack entries that overlap the start offset, start inside a kept entry or beyond the
     *     end of what was kept (never acknowledged)
     * @param damagedObjects objects damaged (some or all entries unreadable); see the ERROR log
     * @param entriesLost entries that damaged objects announced but that could not be read
     * @param secondPass whether the kept entries did not fit in memory and objects were read twice
     */
    public record Result(long objectsRead, long entriesDelivered, long entriesCommitted, long entriesSuperseded,
            long entriesRolledBack, long damagedObjects, long entriesLost, boolean secondPass) {
    }

    /**
     * Reads the WAL and delivers, in sequence order, the entries of the streams in
     * {@code startOffsets} that continue each stream's log from its start offset (see the class
     * comment). {@code handler} is called on this thread after the WAL was read, with a payload
     * valid only during the call.
     *
     * @param startOffsets per stream id, the offset from which its entries are wanted (the committed
     *     end offset in the catalog); streams not in the map are not delivered
     */
    public Result read(Map<Integer, Long> startOffsets, WalReplayHandler handler) {
        Objects.requireNonNull(startOffsets, "startOffsets");
        Objects.requireNonNull(handler, "handler");
        Map<Integer, Chain> chains = new HashMap<>();
        for (Map.Entry<Integer, Long> e : startOffsets.entrySet()) {
            if (e.getKey() == null || e.getKey() < 0 || e.getValue() == null || e.getValue() < 0) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "start offset " + e.getValue() + " for stream "
                        + e.getKey() + ": stream ids and start offsets must not be negative");
            }
            chains.put(e.getKey(), new Chain(e.getValue()));
        }
        WalObjectScanner scanner = new WalObjectScanner(store, prefix, listPageSize, replayParallelism,
                skipUnreadableObjects, describe());
        List<WalObjectKey> keys = WalObjectScanner.replayable(claimed(scanner), committedDataObjects);
        FirstPass first = new FirstPass(chains, keys);
        scanner.scan(keys, first);
        long objectsRead = scanner.objects;
        long damaged = scanner.damagedObjects;
        long lost = scanner.lostEntries;

        List<Kept> winners = new ArrayList<>();
        for (Chain c : chains.values()) {
            for (int i = 0; i < c.size; i++) {
                winners.add(c.kept[i]);
            }
        }
        winners.sort((a, b) -> Long.compare(a.sequence, b.sequence));
        boolean second = first.offsetsOnly;
        if (!second) {
            for (Kept k : winners) {
                handler.onEntry(k.sequence, k.stream, k.base, ByteBuffer.wrap(k.payload).asReadOnlyBuffer());
            }
        } else if (!winners.isEmpty()) {
            LOG.info("{}: the {} entries to deliver do not fit in {} bytes; reading their objects again", describe(),
                    winners.size(), maxBufferedBytes);
            BitSet needed = new BitSet(keys.size());
            for (Kept k : winners) {
                needed.set(k.object);
            }
            List<WalObjectKey> again = new ArrayList<>();
            for (int i = needed.nextSetBit(0); i >= 0; i = needed.nextSetBit(i + 1)) {
                again.add(keys.get(i));
            }
            SecondPass pass = new SecondPass(winners, handler);
            scanner.scan(again, pass);
            if (pass.next < winners.size()) {
                Kept missing = winners.get(pass.next);
                throw new ShaleException(ErrorKind.CORRUPT_STORAGE, "WAL object "
                        + scanner.where(keys.get(missing.object).key()) + " no longer holds entry " + missing.sequence
                        + " of stream " + missing.stream + " at offset " + missing.base
                        + " that the first pass of the takeover read there (the WAL changed between the passes)");
            }
        }
        Result r = new Result(objectsRead, winners.size(), first.committed, first.superseded, first.rolledBack,
                damaged, lost, second);
        LOG.info("{}: delivered {} entries of {} streams from {} objects ({} committed, {} superseded, {} rolled back,"
                + " {} damaged objects, {} entries lost)", describe(), r.entriesDelivered(), chains.size(), objectsRead,
                r.entriesCommitted(), r.entriesSuperseded(), r.entriesRolledBack(), damaged, lost);
        return r;
    }

    /**
     * The objects the writer's own next claim would replay (RFC 0006, "Claim records"): an object of
     * an older epoch written after a newer writer of that WAL claimed it was never acknowledged and
     * is left out, as the WAL's own replay leaves it out.
     */
    private List<WalObjectKey> claimed(WalObjectScanner scanner) {
        for (int attempt = 1; ; attempt++) {
            ObjectWriteAheadLog.ClaimSelection selection = ObjectWriteAheadLog.selectByClaims(scanner, prefix,
                    scanner.list(), Long.MAX_VALUE, skipUnreadableObjects);
            if (selection != null) {
                if (!selection.rejected().isEmpty()) {
                    LOG.info("{}: {} WAL objects written after a newer writer of that WAL claimed it are not read: {}",
                            describe(), selection.rejected().size(), ObjectWriteAheadLog.sample(selection.rejected()));
                }
                return selection.accepted();
            }
            if (attempt >= 3) {
                throw new ShaleException(ErrorKind.UNAVAILABLE, "WAL claim records under "
                        + WalObjectScanner.where(store, prefix) + " kept changing while they were read");
            }
        }
    }

    /** A short description for logs, e.g. {@code object-wal-reader:s3://bucket/nodes/n1/wal/}. */
    public String describe() {
        return "object-wal-reader:" + WalObjectScanner.where(store, prefix);
    }

    /** One entry kept for delivery. */
    private static final class Kept {
        final long sequence;
        final int stream;
        final long base;
        final long next;
        final int object;
        /** A copy of the payload, or null once the reader went offsets-only. */
        byte[] payload;

        Kept(long sequence, int stream, long base, long next, int object) {
            this.sequence = sequence;
            this.stream = stream;
            this.base = base;
            this.next = next;
            this.object = object;
        }
    }

    /** The entries of one stream kept so far: contiguous from the start offset, a stack. */
    private static final class Chain {
        final long start;
        Kept[] kept = new Kept[8];
        int size;

        Chain(long start) {
            this.start = start;
        }

        long end() {
            return size == 0 ? start : kept[size - 1].next;
        }

        boolean startsAnEntry(long offset) {
            if (offset == start) {
                return true;
            }
            for (int i = size - 1; i >= 0 && kept[i].next >= offset; i--) {
                if (kept[i].base == offset) {
                    return true;
                }
            }
            return false;
        }

        void push(Kept k) {
            if (size == kept.length) {
                kept = Arrays.copyOf(kept, size * 2);
            }
            kept[size++] = k;
        }
    }

    /** Reads every object once, decides each requested entry's fate, copies payloads while they fit. */
    private final class FirstPass implements WalObjectScanner.Visitor {
        final Map<Integer, Chain> chains;
        final Map<String, Integer> index = new HashMap<>();
        final long[] scratch = new long[2];
        int object = -1;
        WalObjectKey key;
        long buffered;
        boolean offsetsOnly;
        long committed;
        long superseded;
        long rolledBack;

        FirstPass(Map<Integer, Chain> chains, List<WalObjectKey> keys) {
            this.chains = chains;
            for (int i = 0; i < keys.size(); i++) {
                index.put(keys.get(i).key(), i);
            }
        }

        @Override
        public void beginObject(WalObjectKey k, long size) {
            key = k;
            object = index.get(k.key());
        }

        @Override
        public void onFrame(long sequence, int streamId, long baseOffset, ByteBuffer payload) {
            Chain c = chains.get(streamId);
            if (c == null) {
                return;
            }
            if (!ObjectWalFormat.scanBatches(payload, scratch) || scratch[0] <= baseOffset
                    || payload.getLong(payload.position()) != baseOffset) {
                throw new ShaleException(ErrorKind.CORRUPT_STORAGE, "entry " + sequence + " of stream " + streamId
                        + " at offset " + baseOffset + " in WAL object " + WalObjectScanner.where(store, key.key())
                        + " is not whole Kafka record batches starting at that offset although its checksum matched");
            }
            long next = scratch[0];
            if (next <= c.start) {
                committed++;
                return;
            }
            if (baseOffset < c.start) {
                LOG.warn("{}: entry {} of stream {} (offsets {}..{}) overlaps data committed up to {}; skipped",
                        describe(), sequence, streamId, baseOffset, next - 1, c.start);
                rolledBack++;
                return;
            }
            long end = c.end();
            if (baseOffset > end || (baseOffset < end && !c.startsAnEntry(baseOffset))) {
                rolledBack++; // followed an append that never reached the WAL; never acknowledged
                return;
            }
            while (c.size > 0 && c.kept[c.size - 1].base >= baseOffset) {
                Kept gone = c.kept[--c.size];
                c.kept[c.size] = null;
                if (gone.payload != null) {
                    buffered -= gone.payload.length;
                }
                superseded++;
            }
            Kept k = new Kept(sequence, streamId, baseOffset, next, object);
            c.push(k);
            if (!offsetsOnly) {
                if (buffered + payload.remaining() > maxBufferedBytes) {
                    offsetsOnly = true;
                    for (Chain each : chains.values()) {
                        for (int i = 0; i < each.size; i++) {
                            each.kept[i].payload = null;
                        }
                    }
                    buffered = 0;
                } else {
                    byte[] copy = new byte[payload.remaining()];
                    payload.duplicate().get(copy);
                    k.payload = copy;
                    buffered += copy.length;
                }
            }
        }
    }

    /** Delivers the kept entries, in sequence order, from a second read of their objects. */
    private static final class SecondPass implements WalObjectScanner.Visitor {
        final List<Kept> winners;
        final WalReplayHandler handler;
        int next;

        SecondPass(List<Kept> winners, WalReplayHandler handler) {
            this.winners = winners;
            this.handler = handler;
        }

        @Override
        public void onFrame(long sequence, int streamId, long baseOffset, ByteBuffer payload) {
            if (next < winners.size()) {
                Kept k = winners.get(next);
                if (k.sequence == sequence && k.stream == streamId && k.base == baseOffset) {
                    handler.onEntry(sequence, streamId, baseOffset, payload);
                    next++;
                }
            }
        }
    }

    /**
     * Settings of an {@link ObjectWalReader}. The defaults match {@link ObjectWriteAheadLog.Builder}'s
     * replay settings.
     */
    public static final class Builder {
        private final ObjectStore store;
        private final String keyPrefix;
        private int replayParallelism = 8;
        private int listPageSize = 1000;
        private boolean skipUnreadableObjects;
        private long maxBufferedBytes = 64L << 20;
        private Predicate<String> committedDataObjects = key -> false;

        private Builder(ObjectStore store, String keyPrefix) {
            this.store = Objects.requireNonNull(store, "store");
            this.keyPrefix = Objects.requireNonNull(keyPrefix, "keyPrefix");
        }

        /** Object GETs in flight while reading (default 8, 1 .. 256). */
        public Builder replayParallelism(int replayParallelism) {
            this.replayParallelism = replayParallelism;
            return this;
        }

        /** Keys per listing page (default 1000, 1 .. 1000). */
        public Builder listPageSize(int listPageSize) {
            this.listPageSize = listPageSize;
            return this;
        }

        /**
         * Whether an object from which nothing can be recovered is skipped (ERROR log) instead of
         * failing the read with {@code CORRUPT_STORAGE} (default false), as
         * {@link ObjectWriteAheadLog.Builder#skipUnreadableObjects}.
         */
        public Builder skipUnreadableObjects(boolean skipUnreadableObjects) {
            this.skipUnreadableObjects = skipUnreadableObjects;
            return this;
        }

        /**
         * Payload bytes kept in memory for delivery before the reader switches to a second pass over
         * the objects that hold them (default 64 MiB, at least 0).
         */
        public Builder maxBufferedBytes(long maxBufferedBytes) {
            this.maxBufferedBytes = maxBufferedBytes;
            return this;
        }

        /**
         * Which WAL objects the catalog references as committed data objects (written with
         * {@link ObjectWriteAheadLog.Builder#dataObjects}): they are not read, as the WAL's own
         * replay does not read them (everything of theirs still needed is committed). Default: none.
         */
        public Builder committedDataObjects(Predicate<String> committedDataObjects) {
            this.committedDataObjects = Objects.requireNonNull(committedDataObjects, "committedDataObjects");
            return this;
        }

        /**
         * Validates the settings.
         *
         * @throws ShaleException {@code INVALID_ARGUMENT} naming the first bad setting
         */
        public ObjectWalReader build() {
            ObjectWriteAheadLog.Builder.validatePrefix(keyPrefix);
            require(replayParallelism >= 1 && replayParallelism <= 256,
                    "replayParallelism must be between 1 and 256, got " + replayParallelism);
            require(listPageSize >= 1 && listPageSize <= 1000, "listPageSize must be between 1 and 1000, got " + listPageSize);
            require(maxBufferedBytes >= 0, "maxBufferedBytes must not be negative, got " + maxBufferedBytes);
            return new ObjectWalReader(this);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, message);
            }
        }
    }
}
