package io.shale.storage.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.Payload;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The conformance suite for {@link ObjectStore}: every promise of the SPI's Javadoc, checked
 * strictly, so that every implementation (local directory, S3, S3-compatible servers, wrappers)
 * behaves the same for the engine.
 *
 * <p><b>How an implementation uses it.</b> Extend this class in the implementation's test sources
 * and implement {@link #createStore()}:
 *
 * <pre>{@code
 * class LocalDirectoryObjectStoreConformanceTest extends ObjectStoreConformanceTest {
 *     @TempDir Path root;
 *
 *     @Override protected ObjectStore createStore() {
 *         return LocalDirectoryObjectStore.open(root);
 *     }
 *
 *     @Override protected ObjectStore createPeerStore(ObjectStore first) {
 *         return LocalDirectoryObjectStore.open(root);     // a second "process" on the same root
 *     }
 * }
 * }</pre>
 *
 * <p><b>Factory contract.</b> {@link #createStore()} is called once before each test and must return
 * a new store instance whose root holds no objects: a fresh directory, or an S3 store over a shared
 * bucket rooted at a fresh random key prefix (so one bucket serves the whole suite). Tests use keys at
 * that root, including keys without any {@code '/'}. The suite closes every store it obtained after
 * each test; it never deletes what a test wrote (use a throw-away directory or bucket).
 * {@link #createPeerStore(ObjectStore)} optionally opens a second, independent instance over the
 * same root (another process, another client); tests that need it are skipped when it returns null.
 *
 * <p><b>What "strictly" means here.</b> Key validation may throw {@link IllegalArgumentException}
 * from the call or fail the returned future with it: the SPI says "before doing I/O", not which.
 * Listing pages may be shorter than {@code maxKeys} and non-last pages may be empty, as the SPI
 * allows; the suite only requires that paging makes progress. Listings may omit tokens (report
 * {@code null}) but must not report a wrong one. Nothing here asserts on timing.
 *
 * <p><b>Cost.</b> The whole suite writes about ten thousand small objects and one 24 MiB object,
 * and pages through 2,500 keys one key per request; on a local disk it runs in under a minute, against an
 * S3 server on loopback in a few minutes. Operations are awaited with a generous deadline
 * ({@value #AWAIT_SECONDS} s) so that a hung store fails the test instead of the build.
 */
public abstract class ObjectStoreConformanceTest {
    /** Upper bound on how long any single awaited operation may take before the test fails. */
    protected static final long AWAIT_SECONDS = 120;

    private static final int MAX_KEY_BYTES = 512;
    private static final int LARGE_OBJECT_BYTES = 24 << 20;
    private static final int RACE_THREADS = 8;
    private static final int RACE_ROUNDS = 30;

    private final List<ObjectStore> opened = new ArrayList<>();
    private ObjectStore store;

    /**
     * Creates the store under test: a new instance over an empty root. Called once before each test.
     */
    protected abstract ObjectStore createStore() throws Exception;

    /**
     * Opens a second, independent instance over the same root as {@code first} (as another process
     * would), or returns {@code null} if the implementation cannot; tests that need one are then
     * skipped. The suite closes it after the test. Default: {@code null}.
     */
    protected ObjectStore createPeerStore(ObjectStore first) throws Exception {
        return null;
    }

    /** The store of the current test, for implementation-specific tests in subclasses. */
    protected final ObjectStore store() {
        return store;
    }

    @BeforeEach
    final void openStoreUnderTest() throws Exception {
        store = createStore();
        assertThat(store).as("createStore()").isNotNull();
        opened.add(store);
    }

    @AfterEach
    final void closeStoresUnderTest() {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
        opened.clear();
    }

    private ObjectStore peerOrSkip() throws Exception {
        ObjectStore peer = createPeerStore(store);
        Assumptions.assumeTrue(peer != null, "implementation offers no peer store over the same root");
        opened.add(peer);
        return peer;
    }

    // ---------------------------------------------------------------- put

    @Test
    void putShouldMakeObjectVisibleToGetHeadAndList() {
        byte[] content = randomBytes(1_000, 1);
        long before = System.currentTimeMillis();
        await(store.put("alpha", Payload.of(content), "tok-1"));

        assertContent(await(store.get("alpha")), content, "get after put");
        ObjectInfo info = await(store.head("alpha")).orElseThrow(() -> new AssertionError("head after put is empty"));
        assertThat(info.key()).isEqualTo("alpha");
        assertThat(info.size()).isEqualTo(content.length);
        assertThat(info.token()).isEqualTo("tok-1");
        // Store clock, not ours: only require it to be a plausible wall-clock time of this write.
        assertThat(info.lastModifiedMillis()).isBetween(before - TimeUnit.HOURS.toMillis(1),
                System.currentTimeMillis() + TimeUnit.HOURS.toMillis(1));
        assertThat(listAll("", 1000)).extracting(ObjectInfo::key).containsExactly("alpha");
    }

    @Test
    void putShouldReplaceExistingObjectAndItsToken() {
        await(store.put("k", Payload.of(randomBytes(5_000, 1)), "first"));
        byte[] second = randomBytes(300, 2);
        await(store.put("k", Payload.of(second), "second"));

        assertContent(await(store.get("k")), second, "get after overwrite");
        ObjectInfo info = await(store.head("k")).orElseThrow();
        assertThat(info.size()).isEqualTo(second.length);
        assertThat(info.token()).isEqualTo("second");
        assertThat(listAll("", 1000)).extracting(ObjectInfo::key).containsExactly("k");
    }

    @Test
    void putWithoutTokenShouldNotKeepThePreviousObjectsToken() {
        await(store.put("k", Payload.of(randomBytes(10, 1)), "old-token"));
        await(store.put("k", Payload.of(randomBytes(20, 2)), null));

        ObjectInfo info = await(store.head("k")).orElseThrow();
        assertThat(info.token()).isNull();
        assertThat(info.size()).isEqualTo(20);
    }

    @Test
    void putShouldBeIdempotent() {
        byte[] content = randomBytes(4_096, 3);
        Payload payload = Payload.of(content);
        await(store.put("same", payload, "t"));
        await(store.put("same", payload, "t"));

        assertContent(await(store.get("same")), content, "get after repeated put");
        assertThat(await(store.head("same")).orElseThrow().token()).isEqualTo("t");
        assertThat(listAll("", 1000)).extracting(ObjectInfo::key).containsExactly("same");
    }

    @Test
    void putShouldStoreAnEmptyObject() {
        await(store.put("empty", Payload.of(new byte[0]), "t"));

        assertContent(await(store.get("empty")), new byte[0], "get of empty object");
        assertContent(await(store.get("empty", 0, 10)), new byte[0], "ranged get of empty object");
        assertThat(await(store.head("empty")).orElseThrow().size()).isZero();
        assertThat(listAll("", 10)).extracting(ObjectInfo::key, ObjectInfo::size)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("empty", 0L));
    }

    @Test
    void tokensOfMaximumLengthAndEveryAllowedCharacterShouldRoundTrip() {
        String token = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
        assertThat(token).hasSize(64);
        await(store.put("p", Payload.of(new byte[] {1}), token));
        await(store.put("q", Payload.of(new byte[] {2}), "_"));
        assertThat(await(store.putIfAbsent("r", Payload.of(new byte[] {3}), token))).isTrue();

        assertThat(await(store.head("p")).orElseThrow().token()).isEqualTo(token);
        assertThat(await(store.head("q")).orElseThrow().token()).isEqualTo("_");
        assertThat(await(store.head("r")).orElseThrow().token()).isEqualTo(token);
    }

    /**
     * Readers racing a writer that keeps replacing an object see one whole version or the other,
     * never a mix, never "not found", and head reports a size and token of the same version.
     */
    @Test
    void overwriteShouldBeAtomicForConcurrentReaders() throws Exception {
        byte[] a = randomBytes(96 << 10, 11);
        byte[] b = randomBytes(40 << 10, 12);
        await(store.put("flip", Payload.of(a), "ver-a"));

        AtomicBoolean writerDone = new AtomicBoolean();
        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        AtomicInteger reads = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            Future<?> writer = pool.submit(() -> {
                try {
                    for (int i = 0; i < 60; i++) {
                        boolean useB = i % 2 == 0;
                        // Streamed in small chunks so that a write takes a while.
                        await(store.put("flip", chunked(useB ? b : a, 4_096), useB ? "ver-b" : "ver-a"));
                    }
                } finally {
                    writerDone.set(true);
                }
                return null;
            });
            List<Future<?>> readers = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                readers.add(pool.submit(() -> {
                    while (!writerDone.get() || reads.get() < 4) {
                        reads.incrementAndGet();
                        byte[] seen = bytesOf(await(store.get("flip")));
                        if (!Arrays.equals(seen, a) && !Arrays.equals(seen, b)) {
                            violations.add("get returned " + seen.length + " bytes that are neither version");
                        }
                        ObjectInfo info = await(store.head("flip")).orElse(null);
                        if (info == null) {
                            violations.add("head found no object while it was being replaced");
                        } else if (!(info.size() == a.length && "ver-a".equals(info.token()))
                                && !(info.size() == b.length && "ver-b".equals(info.token()))) {
                            violations.add("head mixed versions: size " + info.size() + " token " + info.token());
                        }
                    }
                    return null;
                }));
            }
            writer.get(AWAIT_SECONDS, TimeUnit.SECONDS);
            for (Future<?> r : readers) {
                r.get(AWAIT_SECONDS, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(violations).isEmpty();
    }

    // ---------------------------------------------------------------- putIfAbsent

    @Test
    void putIfAbsentShouldCreateAMissingObject() {
        byte[] content = randomBytes(777, 4);
        assertThat(await(store.putIfAbsent("new", Payload.of(content), "winner-1"))).isTrue();

        assertContent(await(store.get("new")), content, "get after putIfAbsent");
        ObjectInfo info = await(store.head("new")).orElseThrow();
        assertThat(info.token()).isEqualTo("winner-1");
        assertThat(info.size()).isEqualTo(content.length);
    }

    @Test
    void putIfAbsentShouldLeaveAnExistingObjectUnchanged() {
        byte[] first = randomBytes(100, 5);
        assertThat(await(store.putIfAbsent("k", Payload.of(first), "first"))).isTrue();
        assertThat(await(store.putIfAbsent("k", Payload.of(randomBytes(200, 6)), "second"))).isFalse();

        assertContent(await(store.get("k")), first, "get after losing putIfAbsent");
        ObjectInfo info = await(store.head("k")).orElseThrow();
        assertThat(info.token()).isEqualTo("first");
        assertThat(info.size()).isEqualTo(first.length);

        // Also when the existing object came from a plain put, with or without a token.
        byte[] plain = randomBytes(50, 7);
        await(store.put("p", Payload.of(plain), null));
        assertThat(await(store.putIfAbsent("p", Payload.of(randomBytes(60, 8)), "late"))).isFalse();
        assertContent(await(store.get("p")), plain, "get after putIfAbsent over a plain put");
        assertThat(await(store.head("p")).orElseThrow().token()).isNull();
    }

    @Test
    void putIfAbsentShouldCreateAgainAfterDelete() {
        assertThat(await(store.putIfAbsent("k", Payload.of(randomBytes(10, 1)), "one"))).isTrue();
        assertThat(await(store.delete(List.of("k"))).isComplete()).isTrue();
        byte[] again = randomBytes(11, 2);
        assertThat(await(store.putIfAbsent("k", Payload.of(again), "two"))).isTrue();

        assertContent(await(store.get("k")), again, "get after re-create");
        assertThat(await(store.head("k")).orElseThrow().token()).isEqualTo("two");
    }

    @Test
    void putIfAbsentShouldRequireAToken() {
        Throwable t = failureOf(() -> store.putIfAbsent("k", Payload.of(new byte[] {1}), null));
        assertThat(t).as("putIfAbsent with a null token")
                .isInstanceOfAny(NullPointerException.class, IllegalArgumentException.class);
        assertThat(await(store.head("k"))).isEmpty();
    }

    /**
     * Many threads race to create the same key, round after round: exactly one wins each round, the
     * object holds the winner's bytes and token, and a reader racing them never sees a loser's bytes.
     */
    @Test
    void concurrentPutIfAbsentShouldHaveExactlyOneWinnerPerKey() throws Exception {
        raceCreates(store);
    }

    /** As {@link #concurrentPutIfAbsentShouldHaveExactlyOneWinnerPerKey}, through two store instances. */
    @Test
    void concurrentPutIfAbsentThroughPeerStoresShouldHaveExactlyOneWinnerPerKey() throws Exception {
        raceCreates(store, peerOrSkip());
    }

    private void raceCreates(ObjectStore... stores) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(RACE_THREADS + 1);
        try {
            for (int round = 0; round < RACE_ROUNDS; round++) {
                String key = "race/" + round;
                byte[][] contents = new byte[RACE_THREADS][];
                for (int t = 0; t < RACE_THREADS; t++) {
                    // Different lengths as well as different bytes, so a mix cannot go unnoticed.
                    contents[t] = randomBytes(2_000 + 131 * t, round * 1_000L + t);
                }
                CyclicBarrier start = new CyclicBarrier(RACE_THREADS + 1);
                AtomicBoolean writersDone = new AtomicBoolean();
                List<Future<Boolean>> writers = new ArrayList<>();
                for (int t = 0; t < RACE_THREADS; t++) {
                    int thread = t;
                    ObjectStore via = stores[t % stores.length];
                    writers.add(pool.submit(() -> {
                        start.await(AWAIT_SECONDS, TimeUnit.SECONDS);
                        return await(via.putIfAbsent(key, chunked(contents[thread], 512), raceToken(thread)));
                    }));
                }
                Future<Set<Integer>> reader = pool.submit(() -> {
                    Set<Integer> seen = ConcurrentHashMap.newKeySet();
                    start.await(AWAIT_SECONDS, TimeUnit.SECONDS);
                    while (true) {
                        boolean last = writersDone.get();
                        Optional<byte[]> got = getIfPresent(stores[stores.length - 1], key);
                        if (got.isPresent()) {
                            seen.add(indexOf(contents, got.get()));
                        }
                        if (last) {
                            return seen;
                        }
                    }
                });
                List<Integer> winners = new ArrayList<>();
                for (int t = 0; t < RACE_THREADS; t++) {
                    if (writers.get(t).get(AWAIT_SECONDS, TimeUnit.SECONDS)) {
                        winners.add(t);
                    }
                }
                writersDone.set(true);
                Set<Integer> seen = reader.get(AWAIT_SECONDS, TimeUnit.SECONDS);

                assertThat(winners).as("winners of round %d", round).hasSize(1);
                int winner = winners.get(0);
                assertThat(seen).as("versions a reader saw in round %d (-1: not any writer's bytes)", round)
                        .containsOnly(winner);
                for (ObjectStore s : stores) {
                    assertContent(await(s.get(key)), contents[winner], "content after round " + round);
                    ObjectInfo info = await(s.head(key)).orElseThrow();
                    assertThat(info.token()).isEqualTo(raceToken(winner));
                    assertThat(info.size()).isEqualTo(contents[winner].length);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static String raceToken(int thread) {
        return "racer-" + thread;
    }

    private static int indexOf(byte[][] candidates, byte[] seen) {
        for (int i = 0; i < candidates.length; i++) {
            if (Arrays.equals(candidates[i], seen)) {
                return i;
            }
        }
        return -1;
    }

    // ---------------------------------------------------------------- get

    @Test
    void getShouldReturnTheRequestedRange() {
        byte[] content = randomBytes(1_000, 21);
        await(store.put("r", Payload.of(content), null));

        assertContent(await(store.get("r", 0, 10)), slice(content, 0, 10), "first bytes");
        assertContent(await(store.get("r", 500, 123)), slice(content, 500, 123), "middle");
        assertContent(await(store.get("r", 990, 10)), slice(content, 990, 10), "range ending exactly at the end");
        assertContent(await(store.get("r", 999, 1)), slice(content, 999, 1), "last byte");
        assertContent(await(store.get("r", 0, 1_000)), content, "exactly the whole object");
        assertContent(await(store.get("r", 400, 0)), new byte[0], "zero-length range");
    }

    @Test
    void getShouldCutARangeThatRunsPastTheEnd() {
        byte[] content = randomBytes(1_000, 22);
        await(store.put("r", Payload.of(content), null));

        assertContent(await(store.get("r", 995, 10)), slice(content, 995, 5), "range running past the end");
        assertContent(await(store.get("r", 0, 5_000)), content, "range longer than the object");
        assertContent(await(store.get("r", 10, Long.MAX_VALUE)), slice(content, 10, 990), "length Long.MAX_VALUE");
    }

    @Test
    void getAtOrPastTheEndShouldReturnAnEmptyBuffer() {
        await(store.put("r", Payload.of(randomBytes(1_000, 23)), null));

        assertContent(await(store.get("r", 1_000, 10)), new byte[0], "offset at the end");
        assertContent(await(store.get("r", 1_000, -1)), new byte[0], "offset at the end, to the end");
        assertContent(await(store.get("r", 5_000, 1)), new byte[0], "offset past the end");
        assertContent(await(store.get("r", Long.MAX_VALUE - 1, 1)), new byte[0], "offset far past the end");
    }

    @Test
    void getWithLengthMinusOneShouldReadToTheEnd() {
        byte[] content = randomBytes(1_000, 24);
        await(store.put("r", Payload.of(content), null));

        assertContent(await(store.get("r", 0, -1)), content, "from 0");
        assertContent(await(store.get("r", 300, -1)), slice(content, 300, 700), "from the middle");
        assertContent(await(store.get("r", 999, -1)), slice(content, 999, 1), "from the last byte");
        assertContent(await(store.get("r")), content, "get(key)");
    }

    @Test
    void getShouldReturnABufferTheCallerOwns() {
        byte[] content = randomBytes(64, 25);
        await(store.put("own", Payload.of(content), null));

        ByteBuffer first = await(store.get("own"));
        assertContent(first.duplicate(), content, "first get");
        if (!first.isReadOnly()) {
            for (int i = 0; i < first.limit(); i++) {
                first.put(i, (byte) ~first.get(i));
            }
        }
        first.position(first.limit());
        assertContent(await(store.get("own")), content, "second get after the caller used the first buffer");
    }

    @Test
    void getOfAMissingKeyShouldFailWithNotFound() {
        assertNotFound("missing");

        // Keys that are path-wise related to existing objects are still just missing keys.
        await(store.put("dir/file", Payload.of(new byte[] {1}), null));
        await(store.put("leaf", Payload.of(new byte[] {2}), null));
        assertNotFound("dir");
        assertNotFound("dir/fil");
        assertNotFound("dir/file/child");
        assertNotFound("leaf/child");
        assertNotFound("lea");
    }

    private void assertNotFound(String key) {
        for (Function<String, CompletableFuture<?>> op : List.<Function<String, CompletableFuture<?>>>of(
                k -> store.get(k), k -> store.get(k, 0, 1), k -> store.get(k, 5, -1))) {
            Throwable t = failureOf(() -> op.apply(key));
            assertThat(t).as("get of missing key '%s'", key).isInstanceOf(ObjectStoreException.class);
            ObjectStoreException e = (ObjectStoreException) t;
            assertThat(e.reason()).as("reason for missing key '%s'", key).isEqualTo(ObjectStoreException.Reason.NOT_FOUND);
            assertThat(e.key()).isEqualTo(key);
            assertThat(e.getMessage()).as("message names the key").contains(key);
        }
    }

    @Test
    void headOfAMissingKeyShouldBeEmpty() {
        assertThat(await(store.head("missing"))).isEmpty();
        await(store.put("dir/file", Payload.of(new byte[] {1}), null));
        assertThat(await(store.head("dir"))).isEmpty();
        assertThat(await(store.head("dir/file/child"))).isEmpty();
        assertThat(await(store.head("dir/fil"))).isEmpty();
    }

    // ---------------------------------------------------------------- keys

    @Test
    void keysThatArePrefixesOfOtherKeysShouldCoexist() {
        Map<String, byte[]> objects = new TreeMap<>();
        for (String key : List.of("a", "a/b", "a/b/c", "a/bc", "ab", "a/b/c/d/e")) {
            objects.put(key, randomBytes(10 + key.length(), key.hashCode()));
        }
        putAll(objects, "tok");

        objects.forEach((key, content) -> assertContent(await(store.get(key)), content, key));
        assertThat(listAll("", 2)).extracting(ObjectInfo::key)
                .containsExactly("a", "a/b", "a/b/c", "a/b/c/d/e", "a/bc", "ab");
        assertThat(listAll("a/b", 2)).extracting(ObjectInfo::key)
                .containsExactly("a/b", "a/b/c", "a/b/c/d/e", "a/bc");

        assertThat(await(store.delete(List.of("a/b"))).isComplete()).isTrue();
        assertThat(await(store.head("a/b"))).isEmpty();
        assertContent(await(store.get("a")), objects.get("a"), "a after deleting a/b");
        assertContent(await(store.get("a/b/c")), objects.get("a/b/c"), "a/b/c after deleting a/b");
        assertThat(listAll("", 1000)).extracting(ObjectInfo::key)
                .containsExactly("a", "a/b/c", "a/b/c/d/e", "a/bc", "ab");
    }

    /** Valid keys that commonly trip up path mapping, URL encoding or normalisation. */
    protected static final List<String> UNUSUAL_VALID_KEYS = List.of(
            "a..b", "...", ".a", "a.", ".tmp", "-", "_", " ", "a b", " lead", "trail ",
            "%", "%2F", "a%2Fb", "%00", "+", "?", "#", "&", "=", "~", "*", ":", "a:b", "'", "\"",
            "<>|", "!", "@", "$", "(x)", "[x]", "{x}", ",", ";", "x/.../y", "x/..a/y",
            "\u00fc/\u00f1/\u65e5\u672c\u8a9e", "\uD83D\uDE00", "\uFFFD", "\u00a0",
            "caf\u00e9", "cafe\u0301", "A", "a", "AB", "Ab",
            "d/e/e/p/p/a/t/h/w/i/t/h/m/a/n/y/s/e/g/m/e/n/t/s");

    @Test
    void unusualValidKeysShouldRoundTrip() {
        Map<String, byte[]> objects = new TreeMap<>();
        for (int i = 0; i < UNUSUAL_VALID_KEYS.size(); i++) {
            objects.put(UNUSUAL_VALID_KEYS.get(i), randomBytes(i + 1, 1_000 + i));
        }
        assertThat(objects).as("keys are distinct").hasSize(UNUSUAL_VALID_KEYS.size());
        putAll(objects, "tok");

        objects.forEach((key, content) -> {
            assertContent(await(store.get(key)), content, "key '" + key + "'");
            assertThat(await(store.head(key))).as("head '%s'", key)
                    .hasValueSatisfying(info -> assertThat(info.key()).isEqualTo(key));
        });
        assertThat(listAll("", 7)).extracting(ObjectInfo::key).containsExactlyElementsOf(utf8Sorted(objects.keySet()));

        assertThat(await(store.delete(objects.keySet())).isComplete()).isTrue();
        assertThat(listAll("", 1000)).isEmpty();
    }

    @Test
    void keysOfTheMaximumLengthShouldBeAccepted() {
        List<String> keys = List.of(
                "x".repeat(MAX_KEY_BYTES),                                  // one long segment
                "\u00e9".repeat(MAX_KEY_BYTES / 2),                         // 2-byte characters
                "\uD83D\uDE00".repeat(MAX_KEY_BYTES / 4),                   // 4-byte characters
                "s/".repeat(MAX_KEY_BYTES / 2 - 1) + "zz",                  // many segments
                "y".repeat(300) + "/" + "z".repeat(MAX_KEY_BYTES - 301));   // two long segments
        Map<String, byte[]> objects = new TreeMap<>();
        for (String key : keys) {
            assertThat(key.getBytes(StandardCharsets.UTF_8)).hasSize(MAX_KEY_BYTES);
            objects.put(key, randomBytes(33, key.hashCode()));
        }
        putAll(objects, null);

        objects.forEach((key, content) -> assertContent(await(store.get(key)), content, "512-byte key"));
        assertThat(listAll("", 2)).extracting(ObjectInfo::key).containsExactlyElementsOf(utf8Sorted(objects.keySet()));
        assertThat(await(store.putIfAbsent(keys.get(0), Payload.of(new byte[1]), "t"))).isFalse();
    }

    /** Invalid keys per the SPI: each must be rejected by every operation, and nothing written. */
    protected static final List<String> INVALID_KEYS = List.of(
            "", "/", "//", "/a", "a/", "a//b", ".", "..", "./a", "a/.", "a/./b", "../a", "a/..", "a/../b",
            "../../etc/passwd", "a\\b", "\\", "..\\a", "a\u0000b", "a\nb", "a\tb", "\r", "\u001f", "a\u007fb",
            "x".repeat(MAX_KEY_BYTES + 1),
            "\u00e9".repeat(MAX_KEY_BYTES / 2 + 1),   // 257 characters, 514 bytes
            "a\uD800b",                               // unpaired surrogate: not encodable as UTF-8
            "\uDC00");

    @Test
    void invalidKeysShouldBeRejectedBeforeAnyIo() {
        for (String key : INVALID_KEYS) {
            assertRejected(key, k -> store.put(k, Payload.of(new byte[] {1}), "t"), "put");
            assertRejected(key, k -> store.putIfAbsent(k, Payload.of(new byte[] {1}), "t"), "putIfAbsent");
            assertRejected(key, k -> store.get(k), "get");
            assertRejected(key, k -> store.get(k, 0, 1), "ranged get");
            assertRejected(key, k -> store.head(k), "head");
            assertRejected(key, k -> store.delete(List.of(k)), "delete");
        }
        assertThat(listAll("", 1000)).as("objects written by rejected calls").isEmpty();
    }

    @Test
    void nullKeysShouldBeRejected() {
        for (Function<String, CompletableFuture<?>> op : List.<Function<String, CompletableFuture<?>>>of(
                k -> store.put(k, Payload.of(new byte[] {1}), "t"),
                k -> store.putIfAbsent(k, Payload.of(new byte[] {1}), "t"),
                k -> store.get(k, 0, -1),
                k -> store.head(k),
                k -> store.delete(Collections.singletonList(k)))) {
            assertThat(failureOf(() -> op.apply(null)))
                    .isInstanceOfAny(NullPointerException.class, IllegalArgumentException.class);
        }
        assertThat(listAll("", 1000)).isEmpty();
    }

    @Test
    void deleteWithAnInvalidKeyAmongValidOnesShouldDeleteNothing() {
        await(store.put("keep", Payload.of(new byte[] {1}), null));
        assertRejected("a/../keep", k -> store.delete(List.of("keep", k)), "delete");
        assertThat(await(store.head("keep"))).isPresent();
    }

    private static void assertRejected(String key, Function<String, CompletableFuture<?>> op, String what) {
        Throwable t = failureOf(() -> op.apply(key));
        assertThat(t).as("%s of invalid key '%s'", what, printable(key)).isInstanceOf(IllegalArgumentException.class);
    }

    // ---------------------------------------------------------------- list

    @Test
    void listShouldReturnOnlyKeysWithThePrefix() {
        List<String> keys = List.of("logs", "logs/2024", "logs/2024/01", "logs/2024-x", "logs/20245",
                "logs/2025/01", "logsx", "other/2024", "log");
        putAll(keys.stream().collect(Collectors.toMap(k -> k, k -> new byte[] {7})), null);

        assertThat(listAll("logs/2024", 1000)).extracting(ObjectInfo::key)
                .containsExactly("logs/2024", "logs/2024-x", "logs/2024/01", "logs/20245");
        assertThat(listAll("logs/2024/", 1000)).extracting(ObjectInfo::key).containsExactly("logs/2024/01");
        assertThat(listAll("logs/", 1000)).extracting(ObjectInfo::key)
                .containsExactly("logs/2024", "logs/2024-x", "logs/2024/01", "logs/20245", "logs/2025/01");
        assertThat(listAll("logs", 1000)).extracting(ObjectInfo::key)
                .containsExactly("logs", "logs/2024", "logs/2024-x", "logs/2024/01", "logs/20245", "logs/2025/01", "logsx");
        assertThat(listAll("l", 1000)).extracting(ObjectInfo::key).hasSize(8);
        assertThat(listAll("", 1000)).extracting(ObjectInfo::key).containsExactlyElementsOf(utf8Sorted(keys));
        assertThat(listAll("logs/2024/01", 1000)).extracting(ObjectInfo::key).containsExactly("logs/2024/01");
        assertThat(listAll("logs/2024/01/", 1000)).isEmpty();
        assertThat(listAll("logs/2024/0", 1000)).extracting(ObjectInfo::key).containsExactly("logs/2024/01");
    }

    /**
     * Order is by UTF-8 bytes, which differs from Java's {@code String.compareTo} (UTF-16) for
     * characters above U+FFFF versus U+E000..U+FFFF, and from a directory walk that visits "a/" as
     * a unit before or after its siblings "a-b", "a.b", "a0".
     */
    @Test
    void listShouldOrderKeysByTheirUtf8Bytes() {
        List<String> expected = List.of(
                "a",
                "a b",            // 0x20
                "a!",             // 0x21
                "a-b",            // 0x2D
                "a.b",            // 0x2E
                "a/b",            // 0x2F
                "a/b/c",
                "a/b0",
                "a0",             // 0x30
                "aA",             // 0x41
                "a~",             // 0x7E
                "a\u00e9",        // C3 A9
                "a\uFFFD",        // EF BF BD
                "a\uD83D\uDE00",  // F0 9F 98 80 (in UTF-16 this sorts before U+FFFD)
                "b");
        List<String> shuffled = new ArrayList<>(expected);
        Collections.shuffle(shuffled, new java.util.Random(42));
        for (String key : shuffled) {
            await(store.put(key, Payload.of(new byte[] {1}), null));
        }

        for (int maxKeys : new int[] {1, 3, 1000}) {
            assertThat(listAll("", maxKeys)).as("maxKeys %d", maxKeys).extracting(ObjectInfo::key)
                    .containsExactlyElementsOf(expected);
        }
        assertThat(listAll("a", 1000)).extracting(ObjectInfo::key).containsExactlyElementsOf(expected.subList(0, 14));
        assertThat(keysOf(listFrom("", "a\uFFFD", 1000))).containsExactly("a\uD83D\uDE00", "b");
        assertThat(keysOf(listFrom("", "a\u00e9", 1000))).containsExactly("a\uFFFD", "a\uD83D\uDE00", "b");
        assertThat(keysOf(listFrom("a/", "a/b", 1000))).containsExactly("a/b/c", "a/b0");
    }

    @Test
    void listShouldStartStrictlyAfterStartAfter() {
        List<String> keys = List.of("k/1", "k/2", "k/2/x", "k/3", "k/30", "k/4");
        putAll(keys.stream().collect(Collectors.toMap(k -> k, k -> new byte[] {1})), null);

        assertThat(keysOf(listFrom("k/", "k/2", 1000))).containsExactly("k/2/x", "k/3", "k/30", "k/4");
        assertThat(keysOf(listFrom("k/", "k/2/", 1000))).as("startAfter that is not a key")
                .containsExactly("k/2/x", "k/3", "k/30", "k/4");
        assertThat(keysOf(listFrom("k/", "k/25", 1000))).containsExactly("k/3", "k/30", "k/4");
        assertThat(keysOf(listFrom("k/", "a", 1000))).as("startAfter before the prefix").containsExactlyElementsOf(keys);
        assertThat(keysOf(listFrom("k/", "k/", 1000))).as("startAfter equal to the prefix").containsExactlyElementsOf(keys);
        assertThat(keysOf(listFrom("k/", "k/4", 1000))).as("startAfter the last key").isEmpty();
        assertThat(keysOf(listFrom("k/", "z", 1000))).as("startAfter past the prefix").isEmpty();
        assertThat(keysOf(listFrom("", "k/30", 1000))).containsExactly("k/4");
    }

    @Test
    void listShouldPaginateThroughManyKeys() {
        Map<String, byte[]> objects = new TreeMap<>();
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 240; i++) {
            String key = switch (i % 4) {
                case 0 -> "p/" + i;
                case 1 -> "p/" + (i % 7) + "/" + i;
                case 2 -> "p/" + (i % 5) + "/" + (i % 3) + "/" + i;
                default -> "q/" + i;
            };
            objects.put(key, randomBytes(random.nextInt(50), i));
        }
        putAll(objects, null);
        List<String> all = utf8Sorted(objects.keySet());
        List<String> underP = all.stream().filter(k -> k.startsWith("p/")).collect(Collectors.toList());

        for (int maxKeys : new int[] {1, 7, 100, 1000}) {
            List<ObjectInfo> listed = listAll("", maxKeys);
            assertThat(listed).as("maxKeys %d", maxKeys).extracting(ObjectInfo::key).containsExactlyElementsOf(all);
            for (ObjectInfo info : listed) {
                assertThat(info.size()).as("size of %s", info.key()).isEqualTo(objects.get(info.key()).length);
            }
        }
        assertThat(listAll("p/", 13)).extracting(ObjectInfo::key).containsExactlyElementsOf(underP);
        assertThat(listAll("p/1", 5)).extracting(ObjectInfo::key)
                .containsExactlyElementsOf(underP.stream().filter(k -> k.startsWith("p/1")).collect(Collectors.toList()));
    }

    @Test
    void listOfAnUnknownPrefixShouldReturnAnEmptyLastPage() {
        ListPage emptyStore = await(store.list("", null, 10));
        assertThat(emptyStore.objects()).isEmpty();
        assertThat(emptyStore.isLast()).isTrue();

        await(store.put("known/a", Payload.of(new byte[] {1}), null));
        for (String prefix : List.of("unknown", "unknown/", "known/b", "known/a/", "knowm", "z")) {
            ListPage page = await(store.list(prefix, null, 10));
            assertThat(page.objects()).as("prefix %s", prefix).isEmpty();
            assertThat(page.isLast()).as("prefix %s", prefix).isTrue();
        }
    }

    @Test
    void listShouldDescribeObjectsConsistentlyWithHead() {
        await(store.put("m/with-token", Payload.of(randomBytes(123, 1)), "tok-a"));
        await(store.put("m/without-token", Payload.of(randomBytes(45, 2)), null));
        await(store.putIfAbsent("m/created", Payload.of(randomBytes(6, 3)), "tok-c"));

        for (ObjectInfo listed : listAll("m/", 1000)) {
            ObjectInfo headed = await(store.head(listed.key())).orElseThrow();
            assertThat(listed.size()).as("size of %s", listed.key()).isEqualTo(headed.size());
            if (listed.token() != null) {
                assertThat(listed.token()).as("token of %s", listed.key()).isEqualTo(headed.token());
            }
        }
        assertThat(listAll("m/", 1000)).hasSize(3);
    }

    /**
     * Resuming from every position: startAfter equal to each key and strictly between each pair of
     * neighbours (including a "directory" boundary), in pages of 1 and of 1,000. An inclusive
     * startAfter repeats a key; one compared in the wrong order skips or repeats some.
     */
    @Test
    void listShouldResumeExactlyAfterAnyStartAfter() {
        List<String> keys = utf8Sorted(List.of("r/a", "r/a0", "r/a~", "r/b-1", "r/b.1", "r/b/x", "r/b/y/z", "r/b0",
                "r/bb", "r/c", "r/c\u00e9", "r/d"));
        putAll(keys.stream().collect(Collectors.toMap(k -> k, k -> new byte[] {3})), null);
        await(store.put("q", Payload.of(new byte[] {1}), null));   // below the prefix
        await(store.put("s", Payload.of(new byte[] {1}), null));   // above it

        for (int i = 0; i < keys.size(); i++) {
            List<String> rest = keys.subList(i + 1, keys.size());
            // No key holds a space, so key + " " sorts after the key and before its successor.
            String between = keys.get(i) + " ";
            if (i + 1 < keys.size()) {
                assertThat(UTF8.compare(between, keys.get(i + 1))).as("test setup: '%s' below its successor", between)
                        .isNegative();
            }
            for (int maxKeys : new int[] {1, 1000}) {
                assertThat(keysOf(listFrom("r/", keys.get(i), maxKeys))).as("startAfter the key '%s', maxKeys %d",
                        keys.get(i), maxKeys).containsExactlyElementsOf(rest);
                assertThat(keysOf(listFrom("r/", between, maxKeys))).as("startAfter '%s' between keys, maxKeys %d",
                        between, maxKeys).containsExactlyElementsOf(rest);
            }
        }
        assertThat(keysOf(listFrom("r/", "r/b/", 1))).as("startAfter a 'directory' that is no key")
                .containsExactly("r/b/x", "r/b/y/z", "r/b0", "r/bb", "r/c", "r/c\u00e9", "r/d");
        assertThat(keysOf(listFrom("r/", "r/b/y", 1))).containsExactly("r/b/y/z", "r/b0", "r/bb", "r/c", "r/c\u00e9", "r/d");
        assertThat(keysOf(listFrom("r/", "r/", 1))).as("startAfter equal to the prefix").containsExactlyElementsOf(keys);
        assertThat(keysOf(listFrom("r/", "r", 1))).as("startAfter a strict prefix of the prefix").containsExactlyElementsOf(keys);
        assertThat(keysOf(listFrom("r/", "q", 1))).as("startAfter an object below the prefix").containsExactlyElementsOf(keys);
        assertThat(keysOf(listFrom("r/", "s", 1))).as("startAfter an object above the prefix").isEmpty();
        assertThat(keysOf(listFrom("", "r/d", 1))).as("no prefix, startAfter the last key under r/").containsExactly("s");
    }

    /**
     * Prefix and startAfter compared in UTF-8 byte order where it differs from Java's String order:
     * characters above U+FFFF (surrogate pairs in UTF-16, 4 bytes in UTF-8) against U+E000..U+FFFD
     * (above the surrogates in UTF-16, 3 bytes in UTF-8). A store that compares Strings anywhere on
     * the path (its own filter, its cursor, a startAfter-before-prefix shortcut) lists keys twice,
     * loses them or reorders them here.
     */
    @Test
    void listShouldApplyStartAfterAndPrefixInUtf8ByteOrder() {
        List<String> expected = List.of(
                "u/\uE000",             // EE 80 80       (UTF-16: E000, after every surrogate)
                "u/\uFB01",             // EF AC 81
                "u/\uFFFD",             // EF BF BD
                "u/\uD800\uDC00",       // F0 90 80 80    U+10000 (UTF-16: D800 DC00)
                "u/\uD83D\uDE00",       // F0 9F 98 80    U+1F600
                "u/\uD83D\uDE00/\uFFFD",
                "u/\uD83D\uDE00/\uD83D\uDE00",
                "u/\uD83D\uDE00x",
                "u/\uDBFF\uDFFD");      // F4 8F BF BD    U+10FFFD
        assertThat(expected).as("test setup").isSortedAccordingTo(UTF8);
        assertThat(expected.subList(2, 4)).as("test setup: String order differs").isSortedAccordingTo(Comparator.reverseOrder());
        List<String> shuffled = new ArrayList<>(expected);
        Collections.shuffle(shuffled, new java.util.Random(5));
        for (String key : shuffled) {
            await(store.put(key, Payload.of(new byte[] {1}), null));
        }

        for (int maxKeys : new int[] {1, 2, 1000}) {
            assertThat(listAll("u/", maxKeys)).as("maxKeys %d", maxKeys).extracting(ObjectInfo::key)
                    .containsExactlyElementsOf(expected);
        }
        for (int i = 0; i < expected.size(); i++) {
            assertThat(keysOf(listFrom("u/", expected.get(i), 1))).as("startAfter '%s'", printable(expected.get(i)))
                    .containsExactlyElementsOf(expected.subList(i + 1, expected.size()));
        }
        assertThat(keysOf(listFrom("u/", "u/\uFFFD", 1000))).as("startAfter U+FFFD: every astral key follows")
                .containsExactlyElementsOf(expected.subList(3, expected.size()));
        assertThat(keysOf(listFrom("u/", "u/\uD83D\uDE00/\uFFFD", 1))).containsExactly(
                "u/\uD83D\uDE00/\uD83D\uDE00", "u/\uD83D\uDE00x", "u/\uDBFF\uDFFD");

        assertThat(listAll("u/\uFFFD", 1000)).extracting(ObjectInfo::key).containsExactly("u/\uFFFD");
        assertThat(listAll("u/\uD83D\uDE00", 1)).extracting(ObjectInfo::key).containsExactlyElementsOf(expected.subList(4, 8));
        assertThat(listAll("u/\uD83D\uDE00/", 1)).extracting(ObjectInfo::key)
                .containsExactly("u/\uD83D\uDE00/\uFFFD", "u/\uD83D\uDE00/\uD83D\uDE00");
        // startAfter above the whole prefix in UTF-8 (below it in UTF-16): nothing to list.
        assertThat(keysOf(listFrom("u/\uE000", "u/\uD83D\uDE00", 1000))).as("startAfter past the prefix").isEmpty();
        assertThat(keysOf(listFrom("u/\uFB01", "u/\uD800\uDC00", 1))).as("startAfter past the prefix").isEmpty();
        // startAfter below the whole prefix in UTF-8 (above it in UTF-16): everything under the prefix.
        assertThat(keysOf(listFrom("u/\uD83D\uDE00", "u/\uFFFD", 1000))).as("startAfter before the prefix")
                .containsExactlyElementsOf(expected.subList(4, 8));
        assertThat(keysOf(listFrom("u/\uD83D\uDE00/", "u/\uE000", 1))).as("startAfter before the prefix")
                .containsExactly("u/\uD83D\uDE00/\uFFFD", "u/\uD83D\uDE00/\uD83D\uDE00");
    }

    /**
     * Objects created and deleted between the pages of one listing, below and above its cursor,
     * with page sizes 1, 3 and 10. Each page must hold exactly the keys that existed, when it was
     * requested, in the range it covers (after the previous cursor, up to its own cursor or to the
     * end for the last page): nothing twice, nothing out of order, nothing that existed skipped,
     * nothing that no longer existed returned. A store paging by position instead of by key, or
     * caching a snapshot across pages, fails here.
     */
    @Test
    void listShouldStayExactWhenObjectsChangeBetweenPages() {
        int universe = 300;
        List<String> all = new ArrayList<>();
        for (int i = 0; i < universe; i++) {
            all.add(String.format("walk/%03d", i));
        }
        Set<String> present = new TreeSet<>(UTF8);
        Map<String, byte[]> initial = new TreeMap<>();
        for (int i = 0; i < universe; i += 2) {
            initial.put(all.get(i), new byte[] {1});
        }
        putAll(initial, null);
        present.addAll(initial.keySet());
        await(store.put("walk0", Payload.of(new byte[] {1}), null));   // outside the prefix, right after it

        SplittableRandom random = new SplittableRandom(17);
        int[] pageSizes = {1, 3, 10};
        String cursor = null;
        List<String> listed = new ArrayList<>();
        int mutations = 0;
        for (int pages = 0; ; pages++) {
            assertThat(pages).as("pages (no progress?)").isLessThan(10 * universe);
            int maxKeys = pageSizes[pages % pageSizes.length];
            ListPage page = await(store.list("walk/", cursor, maxKeys));
            List<String> got = keysOf(page.objects());
            assertThat(got.size()).as("page size").isLessThanOrEqualTo(maxKeys);
            String from = cursor;
            String to = page.isLast() ? null : page.nextStartAfter();
            if (to != null && !got.isEmpty()) {
                assertThat(UTF8.compare(got.get(got.size() - 1), to)).as("cursor not before the page's last key")
                        .isLessThanOrEqualTo(0);
            }
            List<String> expectedOnPage = present.stream()
                    .filter(k -> (from == null || UTF8.compare(k, from) > 0) && (to == null || UTF8.compare(k, to) <= 0))
                    .collect(Collectors.toList());
            assertThat(got).as("page %d (after %s, up to %s, maxKeys %d)", pages, from, to == null ? "the end" : to, maxKeys)
                    .containsExactlyElementsOf(expectedOnPage);
            listed.addAll(got);
            if (page.isLast()) {
                break;
            }
            assertThat(from == null || UTF8.compare(from, to) < 0).as("cursor moves forward from %s to %s", from, to).isTrue();
            cursor = to;
            // Between pages: two deletes and two creates, anywhere in the key range (behind the cursor or ahead).
            for (int m = 0; m < 4; m++) {
                String key = all.get(random.nextInt(universe));
                if (present.contains(key)) {
                    assertThat(await(store.delete(List.of(key))).isComplete()).isTrue();
                    present.remove(key);
                } else {
                    await(store.put(key, Payload.of(new byte[] {2}), null));
                    present.add(key);
                }
                mutations++;
            }
        }
        assertThat(mutations).as("mutations made during the listing").isGreaterThanOrEqualTo(60);
        assertThat(listed).as("keys of the whole listing").doesNotHaveDuplicates();
        assertThat(listAll("walk/", 1000)).extracting(ObjectInfo::key).containsExactlyElementsOf(present);
    }

    /**
     * Listers racing writers that create and delete keys all over the range: every listing is in
     * strictly ascending order (so no key twice), holds every key that existed throughout, and
     * none whose delete had completed before the listing started; a key whose create had
     * completed before the listing started and was not deleted is listed.
     */
    @Test
    void listingConcurrentWithCreatesAndDeletesShouldNeverRepeatOrLoseKeys() throws Exception {
        int universe = 450;
        List<String> all = IntStream.range(0, universe).mapToObj(i -> String.format("race-list/%03d", i))
                .collect(Collectors.toList());
        // i % 3: 0 stays throughout, 1 exists at first and is deleted, 2 is created during the run.
        Map<String, byte[]> initial = new TreeMap<>();
        for (int i = 0; i < universe; i++) {
            if (i % 3 != 2) {
                initial.put(all.get(i), new byte[] {1});
            }
        }
        putAll(initial, null);
        List<Integer> changes = IntStream.range(0, universe).filter(i -> i % 3 != 0).boxed().collect(Collectors.toList());
        Collections.shuffle(changes, new java.util.Random(23));

        AtomicLong sequence = new AtomicLong();
        Map<Integer, Long> completedAt = new ConcurrentHashMap<>();
        AtomicBoolean writersDone = new AtomicBoolean();
        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        AtomicInteger listings = new AtomicInteger();
        int writers = 2;
        ExecutorService pool = Executors.newFixedThreadPool(writers + 2);
        try {
            List<Future<?>> writes = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int first = w;
                writes.add(pool.submit(() -> {
                    for (int c = first; c < changes.size(); c += writers) {
                        int i = changes.get(c);
                        if (i % 3 == 1) {
                            await(store.delete(List.of(all.get(i))));
                        } else {
                            await(store.put(all.get(i), Payload.of(new byte[] {2}), null));
                        }
                        completedAt.put(i, sequence.incrementAndGet());
                    }
                    return null;
                }));
            }
            List<Future<?>> listers = new ArrayList<>();
            for (int maxKeys : new int[] {1, 7}) {
                listers.add(pool.submit(() -> {
                    boolean last = false;
                    while (!last) {
                        last = writersDone.get();
                        long startedAfter = sequence.get();
                        List<String> keys;
                        try {
                            // Checks page bounds and strictly ascending UTF-8 order as it goes.
                            keys = keysOf(listAllFrom(store, "race-list/", maxKeys));
                        } catch (AssertionError e) {
                            violations.add("maxKeys " + maxKeys + ": " + e.getMessage());
                            continue;
                        }
                        listings.incrementAndGet();
                        Set<String> seen = new HashSet<>(keys);
                        for (int i = 0; i < universe; i++) {
                            Long done = completedAt.get(i);
                            boolean settled = done != null && done <= startedAfter;
                            String key = all.get(i);
                            if (i % 3 == 0 && !seen.contains(key)) {
                                violations.add("maxKeys " + maxKeys + ": untouched key " + key + " missing");
                            } else if (i % 3 == 1 && settled && seen.contains(key)) {
                                violations.add("maxKeys " + maxKeys + ": " + key + " listed after its delete completed");
                            } else if (i % 3 == 2 && settled && !seen.contains(key)) {
                                violations.add("maxKeys " + maxKeys + ": " + key + " missing after its create completed");
                            }
                        }
                        if (!all.containsAll(keys)) {
                            violations.add("maxKeys " + maxKeys + ": keys no one wrote: " + keys);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : writes) {
                f.get(AWAIT_SECONDS, TimeUnit.SECONDS);
            }
            writersDone.set(true);
            for (Future<?> f : listers) {
                f.get(AWAIT_SECONDS, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(violations).isEmpty();
        assertThat(listings.get()).as("listings made").isGreaterThanOrEqualTo(2);
        List<String> finalKeys = IntStream.range(0, universe).filter(i -> i % 3 != 1).mapToObj(all::get)
                .collect(Collectors.toList());
        assertThat(listAll("race-list/", 1000)).extracting(ObjectInfo::key).containsExactlyElementsOf(finalKeys);
    }

    /**
     * One key per page through 2,500 keys, page by page: each page at most one key, every key exactly
     * once and in order, the cursor always moving forward, and the listing ending (with an empty
     * last page or one holding the last key). Then pages of 1,000 and 1,001 (above S3's cap of 1,000
     * per request) over the same keys.
     */
    @Test
    void listWithMaxKeysOneShouldStepThroughThousandsOfKeys() {
        int count = 2_500;
        Map<String, byte[]> objects = new TreeMap<>();
        for (int i = 0; i < count; i++) {
            objects.put(String.format("one/%d/%04d", i % 7, i), new byte[] {(byte) i});
        }
        putAll(objects, null);
        await(store.put("one0", Payload.of(new byte[] {1}), null));   // right after the prefix
        List<String> expected = utf8Sorted(objects.keySet());

        List<String> listed = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        ListPage page;
        do {
            assertThat(pages).as("pages (no progress?)").isLessThanOrEqualTo(2 * count + 2);
            page = await(store.list("one/", cursor, 1));
            pages++;
            assertThat(page.objects().size()).as("page %d size", pages).isLessThanOrEqualTo(1);
            for (ObjectInfo info : page.objects()) {
                if (cursor != null) {
                    assertThat(UTF8.compare(cursor, info.key())).as("'%s' after cursor '%s'", info.key(), cursor).isNegative();
                }
                listed.add(info.key());
            }
            if (!page.isLast()) {
                String next = page.nextStartAfter();
                assertThat(cursor == null || UTF8.compare(cursor, next) < 0).as("cursor moves forward to '%s'", next).isTrue();
                if (!page.objects().isEmpty()) {
                    assertThat(UTF8.compare(page.objects().get(0).key(), next)).as("cursor not before the page's key")
                            .isLessThanOrEqualTo(0);
                }
                cursor = next;
            }
        } while (!page.isLast());
        assertThat(listed).containsExactlyElementsOf(expected);
        assertThat(pages).isGreaterThanOrEqualTo(count);
        assertThat(keysOf(listFrom("one/", expected.get(count - 1), 1))).as("after the last key").isEmpty();

        for (int maxKeys : new int[] {1_000, 1_001}) {
            assertThat(listAll("one/", maxKeys)).as("maxKeys %d", maxKeys).extracting(ObjectInfo::key)
                    .containsExactlyElementsOf(expected);
        }
    }

    // ---------------------------------------------------------------- delete

    @Test
    void deleteShouldRemoveObjectsAndLeaveOthers() {
        putAll(Map.of("d/1", new byte[] {1}, "d/2", new byte[] {2}, "d/3", new byte[] {3}, "d/3/x", new byte[] {4}), null);

        DeleteResult result = await(store.delete(List.of("d/1", "d/3")));
        assertThat(result.isComplete()).isTrue();
        assertThat(result.failed()).isEmpty();

        assertNotFound("d/1");
        assertThat(await(store.head("d/3"))).isEmpty();
        assertThat(listAll("", 1000)).extracting(ObjectInfo::key).containsExactly("d/2", "d/3/x");
        assertContent(await(store.get("d/3/x")), new byte[] {4}, "sibling below a deleted key");
    }

    @Test
    void deleteShouldHandleBatchesLargerThanOneRequest() {
        Map<String, byte[]> objects = new TreeMap<>();
        for (int i = 0; i < 2_500; i++) {
            objects.put(String.format("batch/%02d/%05d", i % 10, i), new byte[0]);
        }
        putAll(objects, null);
        objects.put("other", new byte[] {9});
        await(store.put("other", Payload.of(new byte[] {9}), null));
        assertThat(listAll("batch/", 1000)).hasSize(2_500);

        List<String> toDelete = new ArrayList<>(objects.keySet());
        toDelete.remove("other");
        toDelete.add("batch/not-there");                       // a missing key counts as deleted
        DeleteResult result = await(store.delete(toDelete));

        assertThat(result.failed()).isEmpty();
        assertThat(listAll("", 1000)).extracting(ObjectInfo::key).containsExactly("other");
        assertThat(await(store.head("batch/05/02345"))).isEmpty();
    }

    @Test
    void deleteShouldBeIdempotentForMissingKeys() {
        await(store.put("x", Payload.of(new byte[] {1}), null));

        assertThat(await(store.delete(List.of())).isComplete()).isTrue();
        assertThat(await(store.delete(List.of("never", "never/was", "x/y"))).isComplete()).isTrue();
        assertThat(await(store.delete(List.of("x", "x"))).isComplete()).isTrue();
        assertThat(await(store.delete(List.of("x"))).isComplete()).isTrue();
        assertThat(await(store.head("x"))).isEmpty();
        assertThat(listAll("", 10)).isEmpty();
    }

    /**
     * One delete call just over S3's 1,000-key batch (and given in descending order), then one of
     * 1,200 keys none of which exists plus the survivors, then 1,001 copies of one key: all
     * complete, exactly the named objects are gone, and keys that are mere prefixes of objects
     * delete nothing.
     */
    @Test
    void deleteShouldCrossTheThousandKeyBoundaryExactly() {
        Map<String, byte[]> objects = new TreeMap<>();
        for (int i = 0; i < 1_003; i++) {
            objects.put(String.format("del/%04d", i), new byte[] {(byte) i});
        }
        putAll(objects, null);
        List<String> sorted = utf8Sorted(objects.keySet());
        String firstKept = sorted.get(0);
        String lastKept = sorted.get(sorted.size() - 1);

        List<String> toDelete = new ArrayList<>(sorted.subList(1, sorted.size() - 1));
        Collections.reverse(toDelete);
        assertThat(toDelete).hasSize(1_001);
        DeleteResult result = await(store.delete(toDelete));
        assertThat(result.isComplete()).as("delete of 1,001 keys: %s", result.failed()).isTrue();
        assertThat(listAll("del/", 1000)).extracting(ObjectInfo::key).containsExactly(firstKept, lastKept);
        for (String key : List.of(toDelete.get(0), toDelete.get(999), toDelete.get(1_000))) {
            assertThat(await(store.head(key))).as("head of deleted '%s'", key).isEmpty();
        }

        List<String> missing = new ArrayList<>();
        for (int i = 0; i < 1_200; i++) {
            missing.add(String.format("del/gone/%04d", i));
        }
        missing.addAll(List.of("del", "del/000", "de", firstKept + "/child"));   // prefixes of objects, and below one
        DeleteResult none = await(store.delete(missing));
        assertThat(none.isComplete()).as("delete of 1,204 missing keys: %s", none.failed()).isTrue();
        assertThat(listAll("", 1000)).extracting(ObjectInfo::key).containsExactly(firstKept, lastKept);

        List<String> mixed = new ArrayList<>(missing);
        mixed.add(600, lastKept);   // one existing key in the middle of missing ones
        assertThat(await(store.delete(mixed)).isComplete()).isTrue();
        assertThat(listAll("", 1000)).extracting(ObjectInfo::key).containsExactly(firstKept);

        assertThat(await(store.delete(Collections.nCopies(1_001, firstKept))).isComplete())
                .as("delete of one key named 1,001 times").isTrue();
        assertThat(listAll("", 1000)).isEmpty();
        assertThat(await(store.head(firstKept))).isEmpty();
    }

    // ---------------------------------------------------------------- payloads

    /** A payload streamed lazily in irregular chunks, large enough for multipart uploads. */
    @Test
    void largeStreamedPayloadShouldRoundTripByteIdentical() {
        long seed = 99;
        AtomicInteger opens = new AtomicInteger();
        Payload payload = Payload.ofStream(LARGE_OBJECT_BYTES, () -> {
            opens.incrementAndGet();
            return new PatternChunks(seed, LARGE_OBJECT_BYTES);
        });
        await(store.put("large", payload, "big"));

        ObjectInfo info = await(store.head("large")).orElseThrow();
        assertThat(info.size()).isEqualTo(LARGE_OBJECT_BYTES);
        assertThat(info.token()).isEqualTo("big");
        assertThat(opens.get()).as("times the payload was opened").isPositive();

        ByteBuffer whole = await(store.get("large"));
        assertThat(whole.position()).isZero();
        assertThat(whole.remaining()).isEqualTo(LARGE_OBJECT_BYTES);
        for (int i = 0; i < LARGE_OBJECT_BYTES; i++) {
            if (whole.get(i) != patternByte(seed, i)) {
                fail("large object differs at byte " + i);
            }
        }
        for (long[] range : new long[][] {{(8L << 20) - 10, 20}, {(16L << 20) - 1, 2}, {(5L << 20) + 3, 1 << 20},
                {LARGE_OBJECT_BYTES - 100, 1_000}}) {
            ByteBuffer part = await(store.get("large", range[0], range[1]));
            long expected = Math.min(range[1], LARGE_OBJECT_BYTES - range[0]);
            assertThat(part.position()).isZero();
            assertThat(part.remaining()).as("length of range at %d", range[0]).isEqualTo(expected);
            for (int i = 0; i < expected; i++) {
                if (part.get(i) != patternByte(seed, range[0] + i)) {
                    fail("range at " + range[0] + " differs at byte " + i);
                }
            }
        }
    }

    /** Stores read the caller's buffers without moving their positions or limits. */
    @Test
    void writesShouldNotMoveThePayloadBuffersPositions() {
        byte[] backing = randomBytes(100, 31);
        ByteBuffer heap = ByteBuffer.wrap(backing);
        heap.position(10).limit(60);                                   // 50 bytes from a larger array
        ByteBuffer direct = ByteBuffer.allocateDirect(40);
        direct.put(randomBytes(40, 32)).flip();
        direct.position(5);                                            // 35 bytes
        ByteBuffer sliced = ByteBuffer.wrap(randomBytes(30, 33), 3, 20).slice(); // array offset 3
        ByteBuffer readOnly = ByteBuffer.wrap(randomBytes(16, 34)).asReadOnlyBuffer();
        List<ByteBuffer> buffers = List.of(heap, direct, sliced, readOnly);
        // The stream hands out the caller's own buffers, not copies.
        Payload payload = Payload.ofStream(50 + 35 + 20 + 16, buffers::iterator);
        byte[] expected = concat(buffers);

        await(store.put("pos/put", payload, "t"));
        assertPositions(buffers, new int[][] {{10, 60}, {5, 40}, {0, 20}, {0, 16}});
        await(store.put("pos/put", payload, "t"));
        assertThat(await(store.putIfAbsent("pos/create", payload, "t"))).isTrue();
        assertThat(await(store.putIfAbsent("pos/create", payload, "t"))).isFalse();
        assertPositions(buffers, new int[][] {{10, 60}, {5, 40}, {0, 20}, {0, 16}});

        assertContent(await(store.get("pos/put")), expected, "put of the caller's buffers");
        assertContent(await(store.get("pos/create")), expected, "putIfAbsent of the caller's buffers");
    }

    private static void assertPositions(List<ByteBuffer> buffers, int[][] positionAndLimit) {
        for (int i = 0; i < buffers.size(); i++) {
            assertThat(buffers.get(i).position()).as("position of buffer %d", i).isEqualTo(positionAndLimit[i][0]);
            assertThat(buffers.get(i).limit()).as("limit of buffer %d", i).isEqualTo(positionAndLimit[i][1]);
        }
    }

    // ---------------------------------------------------------------- concurrency, peers, lifecycle

    @Test
    void concurrentOperationsOnManyKeysShouldStayConsistent() throws Exception {
        int threads = 8;
        int perThread = 25;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        byte[][] sharedContents = IntStream.range(0, threads).mapToObj(w -> randomBytes(64, w)).toArray(byte[][]::new);
        try {
            List<Future<Map<String, byte[]>>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                results.add(pool.submit(() -> {
                    Map<String, byte[]> mine = new TreeMap<>();
                    for (int j = 0; j < perThread; j++) {
                        String key = "smoke/" + thread + "/" + j;
                        byte[] content = randomBytes(100 + j * 37, thread * 1_000L + j);
                        await(store.put(key, Payload.of(content), "t" + thread + "-" + j));
                        mine.put(key, content);
                        await(store.put("smoke/shared", Payload.of(sharedContents[thread]), "t" + thread));
                        if (!Arrays.equals(bytesOf(await(store.get(key))), content)) {
                            violations.add("read-your-write failed for " + key);
                        }
                        ObjectInfo info = await(store.head(key)).orElse(null);
                        if (info == null || info.size() != content.length || !("t" + thread + "-" + j).equals(info.token())) {
                            violations.add("head disagrees for " + key + ": " + info);
                        }
                        if (indexOf(sharedContents, bytesOf(await(store.get("smoke/shared")))) < 0) {
                            violations.add("smoke/shared holds bytes no writer wrote");
                        }
                        if (j % 3 == 2) {
                            String gone = "smoke/" + thread + "/" + (j - 1);
                            await(store.delete(List.of(gone)));
                            mine.remove(gone);
                        }
                        if (j % 5 == 4) {
                            List<String> listed = keysOf(listAllFrom(store, "smoke/" + thread + "/", 7));
                            if (!listed.equals(utf8Sorted(mine.keySet()))) {
                                violations.add("listing of thread " + thread + " was " + listed + ", expected " + mine.keySet());
                            }
                        }
                    }
                    return mine;
                }));
            }
            Map<String, byte[]> expected = new TreeMap<>();
            for (Future<Map<String, byte[]>> f : results) {
                expected.putAll(f.get(AWAIT_SECONDS, TimeUnit.SECONDS));
            }
            assertThat(violations).isEmpty();
            List<String> expectedKeys = new ArrayList<>(expected.keySet());
            expectedKeys.add("smoke/shared");
            assertThat(listAll("smoke/", 50)).extracting(ObjectInfo::key).containsExactlyElementsOf(utf8Sorted(expectedKeys));
            List<Future<?>> readers = new ArrayList<>();
            for (Map.Entry<String, byte[]> e : expected.entrySet()) {
                readers.add(pool.submit(() -> {
                    assertContent(await(store.get(e.getKey())), e.getValue(), e.getKey());
                    return null;
                }));
            }
            for (Future<?> r : readers) {
                r.get(AWAIT_SECONDS, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void writesThroughOneStoreShouldBeVisibleThroughAPeerStore() throws Exception {
        ObjectStore peer = peerOrSkip();
        byte[] content = randomBytes(500, 41);
        await(store.put("shared/obj", Payload.of(content), "via-first"));

        assertContent(await(peer.get("shared/obj")), content, "peer get");
        assertThat(await(peer.head("shared/obj")).orElseThrow().token()).isEqualTo("via-first");
        assertThat(keysOf(listAllFrom(peer, "shared/", 10))).containsExactly("shared/obj");
        assertThat(await(peer.putIfAbsent("shared/obj", Payload.of(new byte[] {1}), "via-peer"))).isFalse();

        assertThat(await(peer.delete(List.of("shared/obj"))).isComplete()).isTrue();
        assertThat(await(store.head("shared/obj"))).isEmpty();
        assertThat(listAll("shared/", 10)).isEmpty();
    }

    @Test
    void closeShouldBeIdempotent() throws Exception {
        ObjectStore extra = createStore();
        extra.close();
        extra.close();
        assertThat(extra.describe()).isNotBlank();
    }

    @Test
    void describeShouldBeShortAndNonBlank() {
        assertThat(store.describe()).isNotBlank().doesNotContain("\n");
    }

    // ---------------------------------------------------------------- helpers

    /** Waits for a future; rethrows its failure unwrapped (RuntimeException or Error) so tests can assert on it. */
    protected static <T> T await(CompletableFuture<T> future) {
        try {
            return future.get(AWAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("operation did not complete within " + AWAIT_SECONDS + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static RuntimeException rethrow(Throwable cause) {
        Throwable t = unwrap(cause);
        if (t instanceof RuntimeException) {
            throw (RuntimeException) t;
        }
        if (t instanceof Error) {
            throw (Error) t;
        }
        throw new CompletionException(t);
    }

    private static Throwable unwrap(Throwable t) {
        Throwable cur = t;
        while ((cur instanceof CompletionException || cur instanceof ExecutionException) && cur.getCause() != null) {
            cur = cur.getCause();
        }
        return cur;
    }

    /**
     * Runs an operation that is expected to fail, either by throwing or through its future, and
     * returns the (unwrapped) failure; fails the test if it succeeds.
     */
    protected static Throwable failureOf(Callable<? extends CompletableFuture<?>> op) {
        CompletableFuture<?> future;
        try {
            future = op.call();
        } catch (Throwable t) {
            return unwrap(t);
        }
        try {
            future.get(AWAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return unwrap(e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("operation did not complete within " + AWAIT_SECONDS + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
        throw new AssertionError("expected the operation to fail, but it succeeded");
    }

    private static Optional<byte[]> getIfPresent(ObjectStore s, String key) {
        try {
            return Optional.of(bytesOf(await(s.get(key))));
        } catch (ObjectStoreException e) {
            if (e.reason() == ObjectStoreException.Reason.NOT_FOUND) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** Lists everything under {@code prefix} through the store under test, page by page. */
    protected final List<ObjectInfo> listAll(String prefix, int maxKeys) {
        return listAllFrom(store, prefix, maxKeys);
    }

    /**
     * Lists every object under {@code prefix}, checking the paging contract on the way: each page
     * within {@code maxKeys}, keys in strictly ascending UTF-8 order with the prefix, and every
     * non-last page moving the cursor forward.
     */
    protected static List<ObjectInfo> listAllFrom(ObjectStore s, String prefix, int maxKeys) {
        List<ObjectInfo> all = new ArrayList<>();
        String startAfter = null;
        for (int pages = 0; ; pages++) {
            assertThat(pages).as("pages listed for prefix '%s' (no progress?)", prefix).isLessThan(100_000);
            ListPage page = await(s.list(prefix, startAfter, maxKeys));
            assertThat(page.objects().size()).as("page size").isLessThanOrEqualTo(maxKeys);
            for (ObjectInfo info : page.objects()) {
                assertThat(info.key()).startsWith(prefix);
                if (!all.isEmpty()) {
                    assertThat(UTF8.compare(all.get(all.size() - 1).key(), info.key()))
                            .as("order of '%s' after '%s'", info.key(), all.get(all.size() - 1).key()).isNegative();
                }
                if (startAfter != null) {
                    assertThat(UTF8.compare(startAfter, info.key())).as("'%s' after startAfter '%s'", info.key(), startAfter)
                            .isNegative();
                }
                all.add(info);
            }
            if (page.isLast()) {
                return all;
            }
            if (startAfter != null) {
                assertThat(UTF8.compare(startAfter, page.nextStartAfter())).as("paging cursor moves forward").isNegative();
            }
            if (!page.objects().isEmpty()) {
                String lastKey = page.objects().get(page.objects().size() - 1).key();
                assertThat(UTF8.compare(lastKey, page.nextStartAfter())).as("cursor not before the page's last key")
                        .isLessThanOrEqualTo(0);
            }
            startAfter = page.nextStartAfter();
        }
    }

    /** Everything listed from {@code startAfter} on, all pages concatenated. */
    private List<ObjectInfo> listFrom(String prefix, String startAfter, int maxKeys) {
        List<ObjectInfo> all = new ArrayList<>();
        String cursor = startAfter;
        for (int pages = 0; pages < 100_000; pages++) {
            ListPage page = await(store.list(prefix, cursor, maxKeys));
            all.addAll(page.objects());
            if (page.isLast()) {
                return all;
            }
            cursor = page.nextStartAfter();
        }
        throw new AssertionError("listing never ended");
    }

    private static List<String> keysOf(List<ObjectInfo> infos) {
        return infos.stream().map(ObjectInfo::key).collect(Collectors.toList());
    }

    /** Writes objects in parallel (stores with per-write fsync or network latency share the waiting). */
    protected final void putAll(Map<String, byte[]> objects, String token) {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Void>> futures = new ArrayList<>();
            for (Map.Entry<String, byte[]> e : objects.entrySet()) {
                futures.add(pool.submit(() -> await(store.put(e.getKey(), Payload.of(e.getValue()), token))));
            }
            for (Future<Void> f : futures) {
                f.get(AWAIT_SECONDS, TimeUnit.SECONDS);
            }
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError("putAll did not finish", e);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Compares strings by their UTF-8 bytes, the order of {@link ListPage}. */
    protected static final Comparator<String> UTF8 = (x, y) -> Arrays.compareUnsigned(
            x.getBytes(StandardCharsets.UTF_8), y.getBytes(StandardCharsets.UTF_8));

    private static List<String> utf8Sorted(Collection<String> keys) {
        List<String> sorted = new ArrayList<>(keys);
        sorted.sort(UTF8);
        return sorted;
    }

    /** Asserts a buffer returned by get: positioned at 0, its remaining bytes exactly {@code expected}. */
    protected static void assertContent(ByteBuffer actual, byte[] expected, String what) {
        assertThat(actual).as("%s: buffer", what).isNotNull();
        assertThat(actual.position()).as("%s: position", what).isZero();
        assertThat(actual.remaining()).as("%s: length", what).isEqualTo(expected.length);
        byte[] bytes = bytesOf(actual);
        int at = Arrays.mismatch(bytes, expected);
        if (at >= 0) {
            fail(what + ": content differs at byte " + at + " of " + expected.length);
        }
    }

    private static byte[] bytesOf(ByteBuffer buffer) {
        ByteBuffer view = buffer.duplicate();
        byte[] out = new byte[view.remaining()];
        view.get(out);
        return out;
    }

    /** Deterministic pseudo-random bytes. */
    protected static byte[] randomBytes(int length, long seed) {
        byte[] out = new byte[length];
        new SplittableRandom(seed).nextBytes(out);
        return out;
    }

    private static byte[] slice(byte[] a, int from, int length) {
        return Arrays.copyOfRange(a, from, from + length);
    }

    private static byte[] concat(List<ByteBuffer> buffers) {
        int total = buffers.stream().mapToInt(ByteBuffer::remaining).sum();
        ByteBuffer out = ByteBuffer.allocate(total);
        buffers.forEach(b -> out.put(b.duplicate()));
        return out.array();
    }

    /** A payload of {@code content} delivered as a stream of {@code chunk}-sized heap buffers. */
    private static Payload chunked(byte[] content, int chunk) {
        return Payload.ofStream(content.length, () -> IntStream.iterate(0, i -> i < content.length, i -> i + chunk)
                .mapToObj(i -> ByteBuffer.wrap(content, i, Math.min(chunk, content.length - i)))
                .iterator());
    }

    private static String printable(String key) {
        if (key.length() > 40) {
            return key.substring(0, 20) + "...(" + key.length() + " chars)";
        }
        StringBuilder sb = new StringBuilder();
        key.chars().forEach(c -> sb.append(c < 0x20 || c == 0x7f || Character.isSurrogate((char) c)
                ? String.format("\\u%04x", c) : String.valueOf((char) c)));
        return sb.toString();
    }

    /** The byte at {@code position} of the large test object: cheap to recompute when verifying. */
    private static byte patternByte(long seed, long position) {
        long z = seed * 0x9E3779B97F4A7C15L + (position >>> 3) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 31)) * 0x94D049BB133111EBL;
        z ^= z >>> 29;
        return (byte) (z >>> ((position & 7) << 3));
    }

    /**
     * Produces the large test object lazily in irregular chunks (heap with an offset, direct,
     * tiny), allocating each chunk only when asked for it.
     */
    private static final class PatternChunks implements Iterator<ByteBuffer> {
        private static final int[] SIZES = {(1 << 20) + 13, (64 << 10) - 1, (3 << 20) + 5, 1, 777_777};
        private final long seed;
        private final long length;
        private long produced;
        private int index;

        PatternChunks(long seed, long length) {
            this.seed = seed;
            this.length = length;
        }

        @Override
        public boolean hasNext() {
            return produced < length;
        }

        @Override
        public ByteBuffer next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            int n = (int) Math.min(SIZES[index % SIZES.length], length - produced);
            ByteBuffer chunk;
            int base;
            if (index % 2 == 0) {
                chunk = ByteBuffer.allocate(n + 7);
                base = 3;
            } else {
                chunk = ByteBuffer.allocateDirect(n);
                base = 0;
            }
            for (int i = 0; i < n; i++) {
                chunk.put(base + i, patternByte(seed, produced + i));
            }
            chunk.position(base).limit(base + n);
            produced += n;
            index++;
            return chunk;
        }
    }
}
