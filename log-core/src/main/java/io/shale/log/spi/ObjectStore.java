package io.shale.log.spi;

import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A flat namespace of immutable objects: S3, an S3-compatible store, or a local directory.
 *
 * <p><b>Threading.</b> Implementations are thread-safe; any number of operations may be in flight
 * at once. Futures may complete on the calling thread (a local store) or on the store's own I/O
 * threads (S3); callers must not block inside dependent actions.
 *
 * <p><b>Errors.</b> Futures complete exceptionally with an {@link ObjectStoreException} whose
 * {@link ObjectStoreException.Reason} says whether to retry. Implementations do not retry on
 * their own beyond what a single request needs; the engine wraps every store in one retry policy
 * (exponential backoff with jitter, bounded by a deadline). A missing bucket or root is
 * {@code PERMANENT} (naming it), not {@code NOT_FOUND}, which is reserved for a missing object.
 * Invalid arguments (keys, tokens, {@code maxKeys < 1}) may be rejected either by throwing
 * {@link IllegalArgumentException} from the call or by failing the future with it. Calls after
 * {@link #close()} fail with {@link IllegalStateException}.
 *
 * <p><b>Keys</b> are relative to the store's root (a bucket and key prefix, or a directory): UTF-8,
 * 1 to 512 bytes, segments separated by {@code '/'}, no empty, {@code "."} or {@code ".."}
 * segment, no control characters and no backslash. Implementations reject any other key with
 * {@link IllegalArgumentException} before doing I/O, so that no key can escape the root.
 *
 * <p><b>Consistency</b> assumed of every implementation (true of S3 since 2020): a completed
 * write is visible to every later {@code get}, {@code head} and {@code list}; a completed delete
 * likewise. Objects are never partially visible.
 */
public interface ObjectStore extends AutoCloseable {

    /**
     * Writes an object, replacing any existing one with that key. Atomic: readers see the old
     * object or the whole new one, never a part. Idempotent: repeating it writes the same bytes.
     *
     * @param token an opaque string (at most 64 ASCII letters, digits, '-' or '_') stored with
     *     the object and reported by {@link #head}; {@code null} for none
     */
    CompletableFuture<Void> put(String key, Payload payload, String token);

    /**
     * Creates an object only if no object with that key exists ({@code If-None-Match: *}).
     * Exactly one of any number of concurrent callers for the same key wins.
     *
     * <p>Completes with {@code true} if this call created the object and {@code false} if the key
     * already existed (the existing object is unchanged). A {@link ObjectStoreException.Reason#TRANSIENT}
     * failure is ambiguous: the object may have been created. Callers resolve that by retrying and,
     * on {@code false}, comparing {@link #head}'s token with their own.
     *
     * @param token as for {@link #put}; required here (non-null) so that an ambiguous outcome can be resolved
     */
    CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token);

    /**
     * Reads {@code length} bytes starting at {@code offset} (a ranged GET). A range that runs
     * past the end of the object is cut at the end; an offset at or past the end yields an empty
     * buffer. {@code length == -1} reads to the end.
     *
     * <p>Completes with a buffer positioned at 0 whose remaining bytes are the content; the caller
     * owns it. Fails with {@link ObjectStoreException.Reason#NOT_FOUND} if there is no such object.
     */
    CompletableFuture<ByteBuffer> get(String key, long offset, long length);

    /** Reads a whole object. Equivalent to {@code get(key, 0, -1)}. */
    default CompletableFuture<ByteBuffer> get(String key) {
        return get(key, 0, -1);
    }

    /** Describes an object, or completes with empty if there is none. Never fails with NOT_FOUND. */
    CompletableFuture<Optional<ObjectInfo>> head(String key);

    /**
     * Lists objects whose key starts with {@code prefix} and is strictly greater than
     * {@code startAfter} (if not {@code null}), in ascending key order, at most {@code maxKeys}
     * per page (an implementation may return fewer, and a non-last page may even be empty).
     * Listing a prefix with no objects returns an empty last page.
     */
    CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys);

    /**
     * Deletes objects. Idempotent: a key with no object counts as deleted. Implementations split
     * large collections as their protocol needs (S3: 1,000 keys per request). Keys the store
     * refused individually are reported in the result; the future fails if a whole request failed
     * (the bucket is unreachable, a batch request errored). Either way repeating the call is safe.
     * One invalid key rejects the whole call before anything is deleted.
     */
    CompletableFuture<DeleteResult> delete(Collection<String> keys);

    /** A short description for logs and error messages, e.g. {@code s3://bucket/prefix}. Never includes credentials. */
    String describe();

    /** Releases connections and threads. Idempotent. In-flight operations may fail. */
    @Override
    void close();
}
