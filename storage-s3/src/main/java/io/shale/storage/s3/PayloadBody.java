package io.shale.storage.s3;

import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import software.amazon.awssdk.core.async.AsyncRequestBody;

/**
 * A request body that streams buffers from a source without copying them, honouring the
 * subscriber's demand. Each subscription starts a new pass over the source (the SDK subscribes
 * again to sign or checksum a body), and each pass must produce exactly {@code length} bytes or
 * the subscriber gets an error. The caller's buffers are read through duplicates, never moved.
 */
final class PayloadBody implements AsyncRequestBody {
    private final long length;
    private final Supplier<Iterator<ByteBuffer>> source;
    /** Where the source is read: a blocking source never on the HTTP client's event loop; in-memory bytes directly. */
    private final Executor reader;
    /** The first exception the payload's source threw (or a length mismatch), for the caller to surface as is. */
    private volatile RuntimeException sourceFailure;

    PayloadBody(long length, Supplier<Iterator<ByteBuffer>> source, Executor reader) {
        this.length = length;
        this.source = source;
        this.reader = reader;
    }

    /** What the payload itself threw, if it did; the SDK wraps it, the store unwraps it with this. */
    RuntimeException sourceFailure() {
        return sourceFailure;
    }

    @Override
    public Optional<Long> contentLength() {
        return Optional.of(length);
    }

    @Override
    public void subscribe(Subscriber<? super ByteBuffer> subscriber) {
        Iterator<ByteBuffer> it;
        try {
            it = source.get();
        } catch (RuntimeException e) {
            sourceFailure = e;
            subscriber.onSubscribe(new Subscription() {
                @Override
                public void request(long n) {
                }

                @Override
                public void cancel() {
                }
            });
            subscriber.onError(e);
            return;
        }
        subscriber.onSubscribe(new Pass(subscriber, it));
    }

    /** One pass over the source; a drain loop guarded by a work-in-progress counter (no recursion). */
    private final class Pass implements Subscription {
        private final Subscriber<? super ByteBuffer> subscriber;
        private final Iterator<ByteBuffer> it;
        private final AtomicLong demand = new AtomicLong();
        private final AtomicInteger wip = new AtomicInteger();
        private volatile boolean done;
        private long sent;

        Pass(Subscriber<? super ByteBuffer> subscriber, Iterator<ByteBuffer> it) {
            this.subscriber = subscriber;
            this.it = it;
        }

        @Override
        public void request(long n) {
            if (done) {
                return;
            }
            if (n <= 0) {
                fail(new IllegalArgumentException("reactive streams rule 3.9: request(" + n + ")"));
                return;
            }
            demand.getAndAccumulate(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
            if (wip.getAndIncrement() == 0) {
                try {
                    reader.execute(this::loop); // a source that may block is read on the store's reader, never the event loop
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    fail(new IllegalStateException("store closed while writing", e));
                }
            } // else: the running loop sees the missed signal and picks the demand up
        }

        @Override
        public void cancel() {
            done = true;
        }

        /** The drain loop; the caller has incremented {@code wip} from 0. */
        private void loop() {
            int missed = 1;
            while (true) {
                while (!done && demand.get() > 0) {
                    ByteBuffer next;
                    try {
                        if (!it.hasNext()) {
                            done = true;
                            if (sent != length) {
                                IllegalStateException e = new IllegalStateException(
                                        "payload produced " + sent + " bytes, declared " + length);
                                sourceFailure = e;
                                subscriber.onError(e);
                            } else {
                                subscriber.onComplete();
                            }
                            return;
                        }
                        next = it.next().duplicate();
                    } catch (RuntimeException e) {
                        sourceFailure = e;
                        fail(e);
                        return;
                    }
                    if (!next.hasRemaining()) {
                        continue;
                    }
                    sent += next.remaining();
                    if (sent > length) {
                        sourceFailure = new IllegalStateException("payload produced more than its declared " + length + " bytes");
                        fail(sourceFailure);
                        return;
                    }
                    demand.decrementAndGet();
                    subscriber.onNext(next);
                }
                missed = wip.addAndGet(-missed);
                if (missed == 0) {
                    return;
                }
            }
        }

        private void fail(Throwable t) {
            if (!done) {
                done = true;
                subscriber.onError(t);
            }
        }
    }
}
