package io.shale.benchmarks.tools;

import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.Payload;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * An {@link ObjectStore} decorator that counts every call by operation and by the key's area
 * (the engine's top-level prefixes {@code data/}, {@code manifest/}, {@code wal/}), with the bytes
 * written and read, and times each {@code put}/{@code putIfAbsent} and {@code get} from the call
 * to the completion of its future.
 *
 * <p>The tools hand it to {@code LogStore.builder().objectStore(...)}, so it sits under the
 * engine's retry wrapper: it sees every attempt, including retries, and the object WAL's PUTs (the
 * WAL gets the store's object store through its context). A call counts when it is made, whether
 * it then succeeds or fails; failures are counted as well, by reason (a GET of a missing object is
 * a NOT_FOUND failure, which the engine may expect).
 *
 * <p><b>Threading.</b> Thread-safe, like the store it wraps. {@link #snapshot()} is not atomic
 * across counters; the tools take it while nothing is in flight. {@link #close()} closes the
 * wrapped store.
 */
public final class CountingObjectStore implements ObjectStore {

    /** Operations of the SPI; {@link #DELETE} counts calls (each may carry many keys). */
    public enum Op { PUT, PUT_IF_ABSENT, GET, HEAD, LIST, DELETE }

    /** Top-level key prefixes the engine uses. */
    public enum Area {
        DATA("data/"), MANIFEST("manifest/"), WAL("wal/"), OTHER("");

        final String prefix;

        Area(String prefix) {
            this.prefix = prefix;
        }

        /** The area of a key or of a listing prefix. */
        static Area of(String key) {
            for (Area a : values()) {
                if (a != OTHER && key.startsWith(a.prefix)) {
                    return a;
                }
            }
            return OTHER;
        }
    }

    private final ObjectStore delegate;
    private final Map<Op, Map<Area, LongAdder>> calls = new EnumMap<>(Op.class);
    private final Map<Area, LongAdder> deletedKeys = counters();
    private final Map<Area, LongAdder> bytesPut = counters();
    private final Map<Area, LongAdder> bytesGot = counters();
    private final ConcurrentHashMap<String, LongAdder> failures = new ConcurrentHashMap<>();
    private final Map<Area, Latencies> putLatency = new EnumMap<>(Area.class);
    private final Map<Area, Latencies> getLatency = new EnumMap<>(Area.class);

    public CountingObjectStore(ObjectStore delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        for (Op op : Op.values()) {
            calls.put(op, counters());
        }
        for (Area a : Area.values()) {
            putLatency.put(a, new Latencies());
            getLatency.put(a, new Latencies());
        }
    }

    private static Map<Area, LongAdder> counters() {
        Map<Area, LongAdder> m = new EnumMap<>(Area.class);
        for (Area a : Area.values()) {
            m.put(a, new LongAdder());
        }
        return m;
    }

    private void count(Op op, Area area) {
        calls.get(op).get(area).increment();
    }

    private <T> CompletableFuture<T> watch(Op op, CompletableFuture<T> f, Latencies latencies, long start) {
        return f.whenComplete((v, t) -> {
            if (t != null) {
                ObjectStoreException e = ObjectStoreException.find(t);
                Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
                String what = op + " " + (e != null ? e.reason().toString() : cause.getClass().getSimpleName());
                failures.computeIfAbsent(what, k -> new LongAdder()).increment();
            } else if (latencies != null) {
                latencies.record(System.nanoTime() - start);
            }
        });
    }

    @Override
    public CompletableFuture<Void> put(String key, Payload payload, String token) {
        Area area = Area.of(key);
        count(Op.PUT, area);
        bytesPut.get(area).add(payload.length());
        long start = System.nanoTime();
        return watch(Op.PUT, delegate.put(key, payload, token), putLatency.get(area), start);
    }

    @Override
    public CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) {
        Area area = Area.of(key);
        count(Op.PUT_IF_ABSENT, area);
        bytesPut.get(area).add(payload.length());
        long start = System.nanoTime();
        return watch(Op.PUT_IF_ABSENT, delegate.putIfAbsent(key, payload, token), putLatency.get(area), start);
    }

    @Override
    public CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
        Area area = Area.of(key);
        count(Op.GET, area);
        long start = System.nanoTime();
        return watch(Op.GET, delegate.get(key, offset, length), getLatency.get(area), start).thenApply(b -> {
            bytesGot.get(area).add(b.remaining());
            return b;
        });
    }

    @Override
    public CompletableFuture<Optional<ObjectInfo>> head(String key) {
        count(Op.HEAD, Area.of(key));
        return watch(Op.HEAD, delegate.head(key), null, 0);
    }

    @Override
    public CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys) {
        count(Op.LIST, Area.of(prefix));
        return watch(Op.LIST, delegate.list(prefix, startAfter, maxKeys), null, 0);
    }

    @Override
    public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
        Map<Area, Integer> perArea = new EnumMap<>(Area.class);
        for (String k : keys) {
            perArea.merge(Area.of(k), 1, Integer::sum);
        }
        perArea.forEach((area, n) -> {
            count(Op.DELETE, area);
            deletedKeys.get(area).add(n);
        });
        return watch(Op.DELETE, delegate.delete(keys), null, 0);
    }

    @Override
    public String describe() {
        return delegate.describe();
    }

    @Override
    public void close() {
        delegate.close();
    }

    /** Clears every counter and latency record. */
    public void reset() {
        calls.values().forEach(m -> m.values().forEach(LongAdder::reset));
        deletedKeys.values().forEach(LongAdder::reset);
        bytesPut.values().forEach(LongAdder::reset);
        bytesGot.values().forEach(LongAdder::reset);
        failures.values().forEach(LongAdder::reset);
        putLatency.values().forEach(Latencies::clear);
        getLatency.values().forEach(Latencies::clear);
    }

    /** The PUT latencies (put and putIfAbsent) of one area since the last reset. */
    Latencies putLatency(Area area) {
        return putLatency.get(area);
    }

    /** The GET latencies of one area since the last reset. */
    Latencies getLatency(Area area) {
        return getLatency.get(area);
    }

    /** The counters now. */
    public Counts snapshot() {
        long[][] c = new long[Op.values().length][Area.values().length];
        long[] del = new long[Area.values().length];
        long[] put = new long[Area.values().length];
        long[] got = new long[Area.values().length];
        for (Op op : Op.values()) {
            for (Area a : Area.values()) {
                c[op.ordinal()][a.ordinal()] = calls.get(op).get(a).sum();
            }
        }
        for (Area a : Area.values()) {
            del[a.ordinal()] = deletedKeys.get(a).sum();
            put[a.ordinal()] = bytesPut.get(a).sum();
            got[a.ordinal()] = bytesGot.get(a).sum();
        }
        Map<String, Long> failed = new TreeMap<>();
        failures.forEach((k, v) -> {
            if (v.sum() != 0) {
                failed.put(k, v.sum());
            }
        });
        return new Counts(c, del, put, got, failed);
    }

    /** Counter values at one moment. Immutable. */
    public static final class Counts {
        private final long[][] calls;
        private final long[] deletedKeys;
        private final long[] bytesPut;
        private final long[] bytesGot;
        private final Map<String, Long> failures;

        Counts(long[][] calls, long[] deletedKeys, long[] bytesPut, long[] bytesGot, Map<String, Long> failures) {
            this.calls = calls;
            this.deletedKeys = deletedKeys;
            this.bytesPut = bytesPut;
            this.bytesGot = bytesGot;
            this.failures = failures;
        }

        public long calls(Op op, Area area) {
            return calls[op.ordinal()][area.ordinal()];
        }

        public long calls(Op op) {
            long n = 0;
            for (Area a : Area.values()) {
                n += calls(op, a);
            }
            return n;
        }

        /** put plus putIfAbsent calls in one area. */
        public long puts(Area area) {
            return calls(Op.PUT, area) + calls(Op.PUT_IF_ABSENT, area);
        }

        /** put plus putIfAbsent calls in every area. */
        public long puts() {
            return calls(Op.PUT) + calls(Op.PUT_IF_ABSENT);
        }

        public long deletedKeys(Area area) {
            return deletedKeys[area.ordinal()];
        }

        public long deletedKeys() {
            long n = 0;
            for (long v : deletedKeys) {
                n += v;
            }
            return n;
        }

        public long bytesPut(Area area) {
            return bytesPut[area.ordinal()];
        }

        public long bytesGot(Area area) {
            return bytesGot[area.ordinal()];
        }

        public long bytesGot() {
            long n = 0;
            for (long v : bytesGot) {
                n += v;
            }
            return n;
        }

        /** Calls whose future failed, by operation and reason (e.g. "GET NOT_FOUND"); zeros left out. */
        public Map<String, Long> failures() {
            return failures;
        }

        /** {@link #failures()} as text, e.g. "GET NOT_FOUND 1", or "0". */
        public String failuresText() {
            if (failures.isEmpty()) {
                return "0";
            }
            StringBuilder sb = new StringBuilder();
            failures.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ').append(v));
            return sb.toString();
        }

        /** These counts minus an earlier snapshot of the same store. */
        public Counts minus(Counts earlier) {
            long[][] c = new long[calls.length][];
            for (int i = 0; i < calls.length; i++) {
                c[i] = new long[calls[i].length];
                for (int j = 0; j < calls[i].length; j++) {
                    c[i][j] = calls[i][j] - earlier.calls[i][j];
                }
            }
            Map<String, Long> failed = new TreeMap<>();
            failures.forEach((k, v) -> {
                long d = v - earlier.failures.getOrDefault(k, 0L);
                if (d != 0) {
                    failed.put(k, d);
                }
            });
            return new Counts(c, diff(deletedKeys, earlier.deletedKeys), diff(bytesPut, earlier.bytesPut),
                    diff(bytesGot, earlier.bytesGot), failed);
        }

        private static long[] diff(long[] a, long[] b) {
            long[] out = new long[a.length];
            for (int i = 0; i < a.length; i++) {
                out[i] = a[i] - b[i];
            }
            return out;
        }
    }
}
