package io.shale.storage.s3;

import io.shale.log.spi.ObjectStoreException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.async.SdkPublisher;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * Collects the body of a (ranged) GET into one heap buffer of exactly the expected size.
 *
 * <p>The size comes from the response's Content-Length and Content-Range, bounded by the length
 * the caller asked for, so a server that ignores the Range header (answering 200 with the whole
 * object) costs no more memory than the range: the bytes before {@code offset} are skipped and
 * those after the range dropped. A body shorter than announced fails TRANSIENT (the connection
 * was cut), never a silently short buffer.
 */
final class RangeCollector implements AsyncResponseTransformer<GetObjectResponse, ByteBuffer> {
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 16;

    private final String where;
    private final String key;
    private final long offset;
    private final long length;
    private volatile CompletableFuture<ByteBuffer> future;
    private volatile GetObjectResponse response;

    /** @param length bytes wanted from {@code offset}, or -1 for all */
    RangeCollector(String where, String key, long offset, long length) {
        this.where = where;
        this.key = key;
        this.offset = offset;
        this.length = length;
    }

    @Override
    public CompletableFuture<ByteBuffer> prepare() {
        CompletableFuture<ByteBuffer> f = new CompletableFuture<>();
        future = f;
        return f;
    }

    @Override
    public void onResponse(GetObjectResponse r) {
        response = r;
    }

    @Override
    public void exceptionOccurred(Throwable error) {
        CompletableFuture<ByteBuffer> f = future;
        if (f != null) {
            f.completeExceptionally(error);
        }
    }

    @Override
    public void onStream(SdkPublisher<ByteBuffer> publisher) {
        CompletableFuture<ByteBuffer> f = future;
        GetObjectResponse r = response;
        long bodyStart;
        String contentRange = r == null ? null : r.contentRange();
        if (contentRange != null) {
            long[] parsed = parseContentRange(contentRange);
            if (parsed == null || parsed[0] > offset) {
                f.completeExceptionally(new ObjectStoreException(ObjectStoreException.Reason.CORRUPT, key,
                        "get " + where + ": server answered range '" + contentRange + "' for a request from offset " + offset));
                publisher.subscribe(new Drain());
                return;
            }
            bodyStart = parsed[0];
        } else {
            bodyStart = 0; // a 200 for the whole object (the server ignored the Range header, or none was sent)
        }
        long skip = offset - bodyStart;
        Long declared = r == null ? null : r.contentLength();
        long wanted;
        if (declared != null) {
            long available = Math.max(0, declared - skip);
            wanted = length < 0 ? available : Math.min(length, available);
        } else {
            wanted = length < 0 ? -1 : length;
        }
        if (wanted > MAX_ARRAY) {
            f.completeExceptionally(new ObjectStoreException(ObjectStoreException.Reason.PERMANENT, key,
                    "get " + where + ": " + wanted + " bytes do not fit in one buffer; read in ranges"));
            publisher.subscribe(new Drain());
            return;
        }
        publisher.subscribe(new Collect(f, skip, wanted, declared));
    }

    /** Parses {@code bytes a-b/total} to {a, b}; null if malformed. */
    static long[] parseContentRange(String v) {
        String s = v.trim();
        if (!s.startsWith("bytes ")) {
            return null;
        }
        int dash = s.indexOf('-', 6);
        int slash = s.indexOf('/', 6);
        if (dash < 0 || slash < dash) {
            return null;
        }
        try {
            long a = Long.parseLong(s.substring(6, dash).trim());
            long b = Long.parseLong(s.substring(dash + 1, slash).trim());
            return a < 0 || b < a ? null : new long[] {a, b};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static final class Drain implements Subscriber<ByteBuffer> {
        @Override
        public void onSubscribe(Subscription s) {
            s.cancel();
        }

        @Override
        public void onNext(ByteBuffer b) {
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onComplete() {
        }
    }

    private final class Collect implements Subscriber<ByteBuffer> {
        private final CompletableFuture<ByteBuffer> f;
        private final Long declared;
        private final long wanted;
        private long toSkip;
        private long received;
        private byte[] buf;
        private int count;

        Collect(CompletableFuture<ByteBuffer> f, long skip, long wanted, Long declared) {
            this.f = f;
            this.toSkip = skip;
            this.wanted = wanted;
            this.declared = declared;
            // Size announced by the server: allocate once. Unknown (chunked): grow, starting small, up to wanted.
            this.buf = new byte[declared != null ? (int) wanted : (int) Math.min(64 * 1024, wanted < 0 ? MAX_ARRAY : wanted)];
        }

        @Override
        public void onSubscribe(Subscription s) {
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(ByteBuffer b) {
            int n = b.remaining();
            received += n;
            if (toSkip > 0) {
                int skipNow = (int) Math.min(toSkip, n);
                b.position(b.position() + skipNow);
                toSkip -= skipNow;
            }
            int take = b.remaining();
            if (wanted >= 0) {
                take = (int) Math.min(take, wanted - count);
            } else if ((long) count + take > MAX_ARRAY) {
                f.completeExceptionally(new ObjectStoreException(ObjectStoreException.Reason.PERMANENT, key,
                        "get " + where + ": object does not fit in one buffer; read in ranges"));
                return;
            }
            if (count + take > buf.length) {
                long cap = Math.max((long) buf.length * 2, (long) count + take);
                cap = Math.min(cap, wanted >= 0 ? wanted : MAX_ARRAY);
                buf = java.util.Arrays.copyOf(buf, (int) cap);
            }
            if (take > 0) {
                b.get(buf, count, take);
                count += take;
            }
        }

        @Override
        public void onError(Throwable t) {
            f.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            if (declared != null && received < declared) {
                f.completeExceptionally(new ObjectStoreException(ObjectStoreException.Reason.TRANSIENT, key,
                        "get " + where + ": response body cut short: " + received + " of " + declared + " bytes"));
                return;
            }
            if (declared != null && wanted >= 0 && count < wanted) {
                f.completeExceptionally(new ObjectStoreException(ObjectStoreException.Reason.TRANSIENT, key,
                        "get " + where + ": response body cut short: " + count + " of " + wanted + " bytes"));
                return;
            }
            f.complete(ByteBuffer.wrap(buf, 0, count).slice());
        }
    }
}
