package io.shale.log.testing;

import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.Payload;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An {@link ObjectStore} held in memory, for engine unit tests. Operations complete on the calling
 * thread. Counts requests by kind so tests can assert request budgets. Passes storage-testkit's
 * ObjectStoreConformanceTest (keys ordered by UTF-8 bytes, keys validated as the SPI says).
 */
public final class InMemoryObjectStore implements ObjectStore {
    private record Stored(byte[] bytes, long lastModified, String token) {
    }

    /** Listing order is UTF-8 byte order, which differs from String's UTF-16 order above U+FFFF. */
    private static final Comparator<String> UTF8_ORDER =
            (a, b) -> Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));

    private final ConcurrentSkipListMap<String, Stored> objects = new ConcurrentSkipListMap<>(UTF8_ORDER);
    private final Clock clock;
    private final AtomicBoolean closed = new AtomicBoolean();

    public final AtomicLong puts = new AtomicLong();
    public final AtomicLong gets = new AtomicLong();
    public final AtomicLong heads = new AtomicLong();
    public final AtomicLong lists = new AtomicLong();
    public final AtomicLong deletes = new AtomicLong();
    public final AtomicLong bytesWritten = new AtomicLong();
    public final AtomicLong bytesRead = new AtomicLong();

    public InMemoryObjectStore() {
        this(Clock.systemUTC());
    }

    public InMemoryObjectStore(Clock clock) {
        this.clock = clock;
    }

    @Override
    public CompletableFuture<Void> put(String key, Payload payload, String token) {
        check(key);
        byte[] bytes = payload.toByteArray();
        puts.incrementAndGet();
        bytesWritten.addAndGet(bytes.length);
        objects.put(key, new Stored(bytes, clock.millis(), token));
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) {
        check(key);
        Objects.requireNonNull(token, "putIfAbsent needs a token");
        byte[] bytes = payload.toByteArray();
        puts.incrementAndGet();
        Stored prev = objects.putIfAbsent(key, new Stored(bytes, clock.millis(), token));
        if (prev == null) {
            bytesWritten.addAndGet(bytes.length);
        }
        return CompletableFuture.completedFuture(prev == null);
    }

    @Override
    public CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
        check(key);
        gets.incrementAndGet();
        Stored s = objects.get(key);
        if (s == null) {
            return CompletableFuture.failedFuture(
                    new ObjectStoreException(ObjectStoreException.Reason.NOT_FOUND, key, "no object mem://" + key));
        }
        int from = (int) Math.min(offset, s.bytes.length);
        int to = length < 0 ? s.bytes.length : (int) Math.min(s.bytes.length, from + Math.min(length, s.bytes.length));
        byte[] out = new byte[Math.max(0, to - from)];
        System.arraycopy(s.bytes, from, out, 0, out.length);
        bytesRead.addAndGet(out.length);
        return CompletableFuture.completedFuture(ByteBuffer.wrap(out));
    }

    @Override
    public CompletableFuture<Optional<ObjectInfo>> head(String key) {
        check(key);
        heads.incrementAndGet();
        Stored s = objects.get(key);
        return CompletableFuture.completedFuture(
                s == null ? Optional.empty() : Optional.of(new ObjectInfo(key, s.bytes.length, s.lastModified, s.token)));
    }

    @Override
    public CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys) {
        ensureOpen();
        lists.incrementAndGet();
        List<ObjectInfo> out = new ArrayList<>();
        Map<String, Stored> tail = startAfter == null ? objects.tailMap(prefix, true) : objects.tailMap(startAfter, false);
        String last = null;
        boolean more = false;
        for (Map.Entry<String, Stored> e : tail.entrySet()) {
            if (!e.getKey().startsWith(prefix)) {
                if (UTF8_ORDER.compare(e.getKey(), prefix) > 0) {
                    break;
                }
                continue;
            }
            if (out.size() == maxKeys) {
                more = true;
                break;
            }
            Stored s = e.getValue();
            out.add(new ObjectInfo(e.getKey(), s.bytes.length, s.lastModified, s.token));
            last = e.getKey();
        }
        return CompletableFuture.completedFuture(new ListPage(out, more ? last : null));
    }

    @Override
    public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
        ensureOpen();
        keys.forEach(InMemoryObjectStore::checkKey);
        deletes.incrementAndGet();
        for (String k : keys) {
            objects.remove(k);
        }
        return CompletableFuture.completedFuture(DeleteResult.ok());
    }

    /** Keys currently stored, sorted. */
    public List<String> keys() {
        return new ArrayList<>(objects.keySet());
    }

    /** Replaces an object's bytes behind the store's back (to simulate corruption). */
    public void corrupt(String key, byte[] newBytes) {
        Stored s = objects.get(key);
        objects.put(key, new Stored(newBytes, s == null ? clock.millis() : s.lastModified, s == null ? null : s.token));
    }

    /** The raw bytes of an object, or null. */
    public byte[] bytes(String key) {
        Stored s = objects.get(key);
        return s == null ? null : s.bytes.clone();
    }

    @Override
    public String describe() {
        return "mem://";
    }

    @Override
    public void close() {
        closed.set(true);
    }

    private void check(String key) {
        ensureOpen();
        checkKey(key);
    }

    /** The SPI's key rules: UTF-8, 1..512 bytes, non-empty segments other than "." and "..", no control characters or backslash. */
    private static void checkKey(String key) {
        Objects.requireNonNull(key, "key");
        int bytes;
        try {
            bytes = StandardCharsets.UTF_8.newEncoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).encode(CharBuffer.wrap(key)).remaining();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("invalid object key: not encodable as UTF-8", e);
        }
        if (bytes == 0 || bytes > 512) {
            throw new IllegalArgumentException("invalid object key: " + bytes + " bytes, must be 1 to 512");
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c < 0x20 || c == 0x7f || c == '\\') {
                throw new IllegalArgumentException("invalid object key '" + key + "': control character or backslash");
            }
        }
        for (String seg : key.split("/", -1)) {
            if (seg.isEmpty() || seg.equals(".") || seg.equals("..")) {
                throw new IllegalArgumentException("invalid object key '" + key + "': empty, '.' or '..' segment");
            }
        }
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("store closed");
        }
    }
}
