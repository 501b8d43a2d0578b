package io.shale.log.internal.engine;

import io.shale.log.metrics.StoreGauges;
import io.shale.log.metrics.StoreMetrics;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The user's {@link StoreMetrics}, shielded: an exception it throws (or a linkage error, such as a
 * metrics library missing at run time) is logged once (with the
 * first stack trace) and swallowed, so that a broken metrics implementation can never fail an
 * append, leave a future incomplete or stop a background thread. Used only when the store was
 * opened with metrics; without them the engine holds {@link StoreMetrics#NONE} and calls nothing.
 */
final class GuardedMetrics implements StoreMetrics {
    private static final Logger log = LoggerFactory.getLogger(GuardedMetrics.class);

    private final StoreMetrics inner;
    private final AtomicBoolean warned = new AtomicBoolean();

    GuardedMetrics(StoreMetrics inner) {
        this.inner = inner;
    }

    private void failed(String what, Throwable e) {
        if (warned.compareAndSet(false, true)) {
            log.warn("metrics implementation {} failed in {} (further failures are not logged)",
                    inner.getClass().getName(), what, e);
        }
    }

    @Override
    public void bind(StoreGauges gauges) {
        try {
            inner.bind(gauges);
        } catch (RuntimeException | LinkageError e) {
            failed("bind", e);
        }
    }

    @Override
    public void topicAdded(String topic) {
        try {
            inner.topicAdded(topic);
        } catch (RuntimeException | LinkageError e) {
            failed("topicAdded", e);
        }
    }

    @Override
    public void topicRemoved(String topic) {
        try {
            inner.topicRemoved(topic);
        } catch (RuntimeException | LinkageError e) {
            failed("topicRemoved", e);
        }
    }

    @Override
    public void appended(String topic, long records, long bytes, long latencyNanos) {
        try {
            inner.appended(topic, records, bytes, latencyNanos);
        } catch (RuntimeException | LinkageError e) {
            failed("appended", e);
        }
    }

    @Override
    public void read(String topic, long records, long bytes) {
        try {
            inner.read(topic, records, bytes);
        } catch (RuntimeException | LinkageError e) {
            failed("read", e);
        }
    }

    @Override
    public void walSynced(long bytes, long nanos) {
        try {
            inner.walSynced(bytes, nanos);
        } catch (RuntimeException | LinkageError e) {
            failed("walSynced", e);
        }
    }

    @Override
    public void objectStoreRequest(RequestKind kind, Outcome outcome, long bytes, long nanos) {
        try {
            inner.objectStoreRequest(kind, outcome, bytes, nanos);
        } catch (RuntimeException | LinkageError e) {
            failed("objectStoreRequest", e);
        }
    }

    @Override
    public void logCacheLookup(boolean hit) {
        try {
            inner.logCacheLookup(hit);
        } catch (RuntimeException | LinkageError e) {
            failed("logCacheLookup", e);
        }
    }

    @Override
    public void blockCacheLookup(boolean hit) {
        try {
            inner.blockCacheLookup(hit);
        } catch (RuntimeException | LinkageError e) {
            failed("blockCacheLookup", e);
        }
    }

    @Override
    public void close() {
        try {
            inner.close();
        } catch (RuntimeException | LinkageError e) {
            failed("close", e);
        }
    }
}
