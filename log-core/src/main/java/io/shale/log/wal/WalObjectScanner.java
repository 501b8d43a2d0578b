package io.shale.log.wal;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.internal.util.Blocking;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.ObjectStoreException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reading the objects of one object WAL, shared by the WAL's own {@link ObjectWriteAheadLog#replay}
 * and by {@link ObjectWalReader} (a node reading another node's WAL on takeover), so that both list,
 * select, fetch, verify and judge damage by exactly the same rules:
 *
 * <ul>
 *   <li>{@link #list}: every key under the prefix that parses as a WAL object key, in key (=
 *       sequence) order, and the epochs of the claim records; other keys are logged and ignored;</li>
 *   <li>which listed objects a replay reads is decided in two steps, shared by the WAL's own
 *       replay and the takeover reader: {@code ObjectWriteAheadLog.selectByClaims} (the claim
 *       records, RFC 0006), then {@link #replayable} (every object the store does not own as a
 *       committed data object);</li>
 *   <li>{@link #scan}: fetches the objects with a bounded window of GETs, verifies every byte
 *       ({@link ObjectWalFormat#decode}), delivers the frames that verify in sequence order (a frame
 *       whose sequence is not above the last delivered one, possible only if two writers shared an
 *       epoch, is skipped and logged), and judges damage: an object damaged after some valid frames
 *       delivers them and is logged at ERROR with the entries lost; an object from which nothing can
 *       be recovered fails {@code CORRUPT_STORAGE} naming the key, unless skipping was allowed.</li>
 * </ul>
 *
 * <p>Read-only: it lists and gets, never puts or deletes. Not thread-safe; one scan at a time.
 */
final class WalObjectScanner {
    private static final Logger LOG = LoggerFactory.getLogger(WalObjectScanner.class);

    /** Receives what {@link #scan} reads, object by object. */
    interface Visitor extends ObjectWalFormat.FrameVisitor {
        /** Before the frames of {@code key}, whose bytes are {@code size} long. */
        default void beginObject(WalObjectKey key, long size) {
        }

        /** After the frames of {@code key} (and before its damage is judged). */
        default void endObject(WalObjectKey key, ObjectWalFormat.DecodeResult result) {
        }
    }

    private final ObjectStore store;
    private final String prefix;
    private final int listPageSize;
    private final int parallelism;
    private final boolean skipUnreadableObjects;
    private final String describe;

    // ---- counters of the last scan
    long objects;
    long delivered;
    long damagedObjects;
    long lostEntries;

    WalObjectScanner(ObjectStore store, String prefix, int listPageSize, int parallelism, boolean skipUnreadableObjects,
            String describe) {
        this.store = store;
        this.prefix = prefix;
        this.listPageSize = listPageSize;
        this.parallelism = parallelism;
        this.skipUnreadableObjects = skipUnreadableObjects;
        this.describe = describe;
    }

    /**
     * Which of the listed objects a replay (the WAL's own, or a takeover's read of another node's WAL)
     * reads. Every object of the listing, of any epoch and either format version, except those the
     * store owns as committed data objects ({@link WalDataObjectSink}): everything of theirs the
     * store still needs is committed with them.
     *
     * <p>This is the single place where "which WAL objects are valid to replay" is decided; a rule
     * that restricts older-epoch objects belongs here, so that both readers apply it.
     *
     * @param listed the WAL objects {@link #list} returned, in key order (not modified)
     * @param committedDataObject whether the store's catalog references a key as a data object
     * @return the keys to read, in key order
     */
    static List<WalObjectKey> replayable(List<WalObjectKey> listed, Predicate<String> committedDataObject) {
        List<WalObjectKey> keys = new ArrayList<>(listed.size());
        for (WalObjectKey k : listed) {
            if (!committedDataObject.test(k.key())) {
                keys.add(k);
            }
        }
        return keys;
    }

    /**
     * One listing of the prefix: the WAL objects in key order and the epochs of the claim records
     * (RFC 0006, "Claim records"), ascending. Other keys under the prefix are logged and ignored.
     */
    record Listing(List<WalObjectKey> objects, List<Long> claimEpochs) {
    }

    /** Lists the prefix once, page by page; see {@link Listing}. */
    Listing list() {
        List<WalObjectKey> keys = new ArrayList<>();
        List<Long> claims = new ArrayList<>();
        String startAfter = null;
        while (true) {
            String after = startAfter;
            ListPage page = await(safe(() -> store.list(prefix, after, listPageSize)), "list " + where(prefix));
            for (ObjectInfo info : page.objects()) {
                WalObjectKey k = WalObjectKey.parse(prefix, info.key());
                if (k == null) {
                    long claimEpoch = WalObjectKey.parseClaimRecordEpoch(prefix, info.key());
                    if (claimEpoch >= 0) {
                        claims.add(claimEpoch);
                    } else if (info.key().startsWith(prefix)) {
                        LOG.warn("{}: ignoring {} under the WAL prefix: not a WAL object key", describe, info.key());
                    }
                    continue;
                }
                keys.add(k);
            }
            if (page.isLast()) {
                break;
            }
            if (startAfter != null && page.nextStartAfter().compareTo(startAfter) <= 0) {
                throw new ShaleException(ErrorKind.UNAVAILABLE, "listing " + where(prefix) + " did not advance past "
                        + startAfter);
            }
            startAfter = page.nextStartAfter();
        }
        keys.sort((a, b) -> a.key().compareTo(b.key()));
        claims.sort(null);
        return new Listing(keys, claims);
    }

    /**
     * Reads {@code keys} in order (at most {@code parallelism} GETs in flight), verifies each and
     * hands its valid frames to {@code visitor} in sequence order. An object listed but gone is
     * skipped (logged). Counters ({@link #objects}, {@link #delivered}, {@link #damagedObjects},
     * {@link #lostEntries}) are reset at the start and updated as objects are judged.
     *
     * @throws ShaleException {@code CORRUPT_STORAGE} naming the key for an object from which no entry
     *     can be recovered (unless skipping unreadable objects is allowed); {@code UNAVAILABLE} (or the
     *     store's kind) if an object cannot be read
     */
    void scan(List<WalObjectKey> keys, Visitor visitor) {
        objects = 0;
        delivered = 0;
        damagedObjects = 0;
        lostEntries = 0;
        Ordered ordered = new Ordered(visitor);
        ArrayDeque<CompletableFuture<ByteBuffer>> window = new ArrayDeque<>();
        int next = 0;
        for (int i = 0; i < keys.size(); i++) {
            while (next < keys.size() && window.size() < parallelism) {
                String k = keys.get(next++).key();
                window.addLast(safe(() -> store.get(k)));
            }
            WalObjectKey key = keys.get(i);
            ByteBuffer bytes = awaitObject(window.removeFirst(), key.key());
            if (bytes == null) {
                continue; // vanished between list and get; logged
            }
            objects++;
            visitor.beginObject(key, bytes.remaining());
            ordered.skippedInObject = 0;
            ObjectWalFormat.DecodeResult r = ObjectWalFormat.decode(bytes, key.epoch(), key.firstSequence(), ordered);
            visitor.endObject(key, r);
            if (ordered.skippedInObject > 0) {
                LOG.error("{}: WAL object {} overlaps earlier objects; {} entries with already-replayed sequences were"
                        + " skipped", describe, where(key.key()), ordered.skippedInObject);
            }
            judge(key, r);
        }
    }

    /** Keeps delivery in strictly increasing sequence order across objects. */
    private final class Ordered implements ObjectWalFormat.FrameVisitor {
        final Visitor visitor;
        long lastDelivered = Long.MIN_VALUE;
        int skippedInObject;

        Ordered(Visitor visitor) {
            this.visitor = visitor;
        }

        @Override
        public void onFrame(long sequence, int streamId, long baseOffset, ByteBuffer payload) {
            if (sequence <= lastDelivered) {
                // Only possible if two writers shared an epoch: keep replay in sequence order.
                skippedInObject++;
                return;
            }
            visitor.onFrame(sequence, streamId, baseOffset, payload);
            lastDelivered = sequence;
            delivered++;
        }
    }

    /** The damage policy of a replay (see the class comment). */
    private void judge(WalObjectKey key, ObjectWalFormat.DecodeResult r) {
        switch (r.status()) {
            case COMPLETE:
                return;
            case DAMAGED:
                damagedObjects++;
                lostEntries += r.framesLost();
                if (r.framesLost() > 0) {
                    LOG.error("{}: WAL object {} is damaged ({}); recovered {} of {} entries, {} acknowledged entries are lost",
                            describe, where(key.key()), r.damage(), r.framesDelivered(), r.header().entryCount(), r.framesLost());
                } else {
                    LOG.warn("{}: WAL object {} is damaged ({}) but all {} entries were recovered",
                            describe, where(key.key()), r.damage(), r.framesDelivered());
                }
                return;
            case UNREADABLE:
            default:
                damagedObjects++;
                lostEntries += r.framesLost();
                String message = "WAL object " + where(key.key()) + " is unreadable (" + r.damage()
                        + "); none of its entries can be recovered and acknowledged entries may be lost";
                if (skipUnreadableObjects) {
                    LOG.error("{}: {}; skipped because skipUnreadableObjects is set", describe, message);
                    return;
                }
                throw new ShaleException(ErrorKind.CORRUPT_STORAGE, message
                        + ". Restore the object, or open with skipUnreadableObjects to accept the loss");
        }
    }

    /** The object's bytes, or {@code null} if it no longer exists. Other failures throw. */
    ByteBuffer awaitObject(CompletableFuture<ByteBuffer> f, String key) {
        try {
            return Blocking.get(f);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShaleException(ErrorKind.UNAVAILABLE, "interrupted while reading WAL object " + where(key), e);
        } catch (ExecutionException | java.util.concurrent.CancellationException e) {
            Throwable cause = unwrap(e);
            ObjectStoreException ose = ObjectStoreException.find(cause);
            if (ose != null && ose.reason() == ObjectStoreException.Reason.NOT_FOUND) {
                LOG.warn("{}: WAL object {} was listed but is gone; skipping it", describe, where(key));
                return null;
            }
            if (ose != null && ose.reason() == ObjectStoreException.Reason.CORRUPT) {
                // The store itself says the bytes are wrong: same policy as a failed verification.
                LOG.error("{}: the store reports WAL object {} as corrupt: {}", describe, where(key), ose.getMessage());
                return ByteBuffer.allocate(0);
            }
            throw new ShaleException(ose != null ? kindOf(ose) : ErrorKind.UNAVAILABLE,
                    "reading WAL object " + where(key) + " failed: " + cause, cause);
        }
    }

    static <T> T await(CompletableFuture<T> f, String what) {
        try {
            return Blocking.get(f);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShaleException(ErrorKind.UNAVAILABLE, "interrupted: " + what, e);
        } catch (ExecutionException | java.util.concurrent.CancellationException e) {
            Throwable cause = unwrap(e);
            ShaleException se = ShaleException.unwrap(cause);
            if (se != null) {
                throw se;
            }
            ObjectStoreException ose = ObjectStoreException.find(cause);
            throw new ShaleException(ose != null ? kindOf(ose) : ErrorKind.UNAVAILABLE,
                    what + " failed: " + cause, cause);
        }
    }

    ObjectStore store() {
        return store;
    }

    /** {@code key} with the store's description in front, for messages. */
    String where(String key) {
        return where(store, key);
    }

    static String where(ObjectStore s, String key) {
        String root = s == null ? "" : s.describe();
        return root.isEmpty() || root.endsWith("/") ? root + key : root + "/" + key;
    }

    interface StoreCall<T> {
        CompletableFuture<T> call();
    }

    /** Runs a store call, turning a synchronous throw or a null future into a failed future. */
    static <T> CompletableFuture<T> safe(StoreCall<T> call) {
        try {
            CompletableFuture<T> f = call.call();
            return f != null ? f : CompletableFuture.failedFuture(new IllegalStateException("object store returned null"));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** As the engine reports object-store failures: PERMANENT is STORAGE_ACCESS (not retriable), CORRUPT CORRUPT_STORAGE. */
    static ErrorKind kindOf(ObjectStoreException ose) {
        return switch (ose.reason()) {
            case PERMANENT -> ErrorKind.STORAGE_ACCESS;
            case CORRUPT -> ErrorKind.CORRUPT_STORAGE;
            default -> ErrorKind.UNAVAILABLE;
        };
    }

    static Throwable unwrap(Throwable t) {
        Throwable cur = t;
        while ((cur instanceof CompletionException || cur instanceof ExecutionException) && cur.getCause() != null) {
            cur = cur.getCause();
        }
        return cur;
    }
}
