package io.shale.storage.local.objectstore;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.ObjectStoreException.Reason;
import io.shale.log.spi.Payload;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore.MetadataPlacement;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore.Options;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalDirectoryObjectStoreTest {
    @TempDir
    Path tmp;

    private Path root() {
        return tmp.resolve("bucket");
    }

    private LocalDirectoryObjectStore open() {
        return LocalDirectoryObjectStore.open(root());
    }

    private static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            throw (RuntimeException) e.getCause();
        }
    }

    private static ObjectStoreException failure(CompletableFuture<?> f) {
        assertThat(f).isCompletedExceptionally();
        try {
            f.join();
        } catch (CompletionException e) {
            assertThat(e.getCause()).isInstanceOf(ObjectStoreException.class);
            return (ObjectStoreException) e.getCause();
        }
        throw new AssertionError("unreachable");
    }

    private static List<String> keys(LocalDirectoryObjectStore store, String prefix) {
        List<String> out = new ArrayList<>();
        String after = null;
        do {
            ListPage page = join(store.list(prefix, after, 3));
            page.objects().forEach(o -> out.add(o.key()));
            after = page.nextStartAfter();
        } while (after != null);
        return out;
    }

    private static List<String> filesUnder(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().collect(Collectors.toList());
        }
    }

    // ------------------------------------------------------------ layout on disk

    @Test
    void objectFilesShouldHoldExactlyTheObjectBytesAtTheDocumentedPath() throws Exception {
        try (LocalDirectoryObjectStore store = open()) {
            byte[] content = "hello, bucket".getBytes(UTF_8);
            join(store.put("logs/2024/01", Payload.of(content), "tok"));
            join(store.put("logs", Payload.of(new byte[] {1}), null));

            Path file = root().resolve("logs%2F").resolve("2024%2F").resolve("01");
            assertThat(Files.readAllBytes(file)).isEqualTo(content);
            assertThat(Files.readAllBytes(root().resolve("logs"))).containsExactly(1);
            assertThat(filesUnder(root())).containsExactlyInAnyOrder("%shale-objectstore", "logs", "logs%2F/2024%2F/01");
            assertThat(Files.readString(root().resolve("%shale-objectstore"))).contains("metadata=xattr");
        }
    }

    @Test
    void headShouldReportTheTokenFromTheMetadataWrittenWithTheFile() throws Exception {
        try (LocalDirectoryObjectStore store = open()) {
            join(store.put("k", Payload.of(new byte[10]), "tok-1"));
            UserDefinedFileAttributeView view = Files.getFileAttributeView(root().resolve("k"), UserDefinedFileAttributeView.class);
            ByteBuffer raw = ByteBuffer.allocate(200);
            view.read("shale", raw);
            ObjectMetadata meta = ObjectMetadata.decode(raw.flip());
            assertThat(meta.token).isEqualTo("tok-1");
            assertThat(meta.contentLength).isEqualTo(10);
            ObjectInfo info = join(store.head("k")).orElseThrow();
            assertThat(info.lastModifiedMillis()).isEqualTo(meta.lastModifiedMillis)
                    .isEqualTo(Files.getLastModifiedTime(root().resolve("k")).toMillis());
        }
    }

    @Test
    void filesCopiedInByOtherToolsShouldBeObjectsWithoutToken() throws Exception {
        try (LocalDirectoryObjectStore store = open()) {
            Files.createDirectories(root().resolve("in%2F"));
            Files.write(root().resolve("in%2F").resolve("copied"), new byte[] {4, 5, 6});
            Files.write(root().resolve("not%41canonical"), new byte[] {7});     // "%41" is never written for 'A'
            Files.write(root().resolve("%tmp-leftover"), new byte[] {8});      // store-internal name
            Files.createDirectories(root().resolve("plain-dir"));               // a directory without the marker

            assertThat(keys(store, "")).containsExactly("in/copied");
            assertThat(join(store.get("in/copied")).array()).containsExactly(4, 5, 6);
            ObjectInfo info = join(store.head("in/copied")).orElseThrow();
            assertThat(info.token()).isNull();
            assertThat(info.size()).isEqualTo(3);
            assertThat(join(store.head("plain-dir"))).isEmpty();
            assertThat(failure(store.get("plain-dir")).reason()).isEqualTo(Reason.NOT_FOUND);
        }
    }

    @Test
    void corruptMetadataShouldBeReportedAsCorrupt() throws Exception {
        try (LocalDirectoryObjectStore store = open()) {
            join(store.put("k", Payload.of(new byte[10]), "tok"));
            Files.getFileAttributeView(root().resolve("k"), UserDefinedFileAttributeView.class)
                    .write("shale", ByteBuffer.wrap(new byte[] {1, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9}));
            assertThat(failure(store.head("k")).reason()).isEqualTo(Reason.CORRUPT);
        }
        Path trailerRoot = tmp.resolve("trailer");
        try (LocalDirectoryObjectStore store = LocalDirectoryObjectStore.open(trailerRoot,
                Options.defaults().withMetadataPlacement(MetadataPlacement.TRAILER))) {
            join(store.put("k", Payload.of(new byte[100]), "tok"));
            Path file = trailerRoot.resolve("k");
            assertThat(Files.size(file)).isEqualTo(100 + ObjectMetadata.TRAILER_BYTES);
            byte[] raw = Files.readAllBytes(file);
            raw[raw.length - 10] ^= 1;
            Files.write(file, raw);
            assertThat(failure(store.head("k")).reason()).isEqualTo(Reason.CORRUPT);
            assertThat(failure(store.get("k", 0, 1)).reason()).isEqualTo(Reason.CORRUPT);
            Files.write(trailerRoot.resolve("short"), new byte[] {1, 2});
            assertThat(failure(store.get("short")).reason()).isEqualTo(Reason.CORRUPT);
        }
    }

    @Test
    void aSmallRangeOfALargeObjectShouldComeInARightSizedBuffer() throws Exception {
        try (LocalDirectoryObjectStore store = open()) {
            byte[] content = new byte[4 << 20];
            new SplittableRandom(1).nextBytes(content);
            join(store.put("big", Payload.of(content), null));
            ByteBuffer range = join(store.get("big", 3_000_000, 100));
            assertThat(range.capacity()).isEqualTo(100);
            assertThat(range.array()).isEqualTo(java.util.Arrays.copyOfRange(content, 3_000_000, 3_000_100));
        }
    }

    // ------------------------------------------------------------ escapes

    @Test
    void aSymbolicLinkPlantedAsADirectoryShouldNeverBeFollowed() throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.write(outside.resolve("secret"), "secret".getBytes(UTF_8));
        try (LocalDirectoryObjectStore store = open()) {
            Files.createSymbolicLink(root().resolve("evil%2F"), outside);

            assertThat(failure(store.get("evil/secret")).reason()).isEqualTo(Reason.NOT_FOUND);
            assertThat(join(store.head("evil/secret"))).isEmpty();
            assertThat(keys(store, "")).isEmpty();
            assertThat(join(store.delete(List.of("evil/secret"))).isComplete()).isTrue();
            ObjectStoreException put = failure(store.put("evil/new", Payload.of(new byte[] {1}), null));
            assertThat(put.reason()).isEqualTo(Reason.PERMANENT);
            assertThat(put.getMessage()).contains("symbolic link");
            assertThat(failure(store.putIfAbsent("evil/new", Payload.of(new byte[] {1}), "t")).reason())
                    .isEqualTo(Reason.PERMANENT);
        }
        assertThat(filesUnder(outside)).containsExactly("secret");
        assertThat(Files.readString(outside.resolve("secret"))).isEqualTo("secret");
    }

    @Test
    void aSymbolicLinkPlantedAsAnObjectShouldNeverBeFollowed() throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.write(outside.resolve("secret"), "secret".getBytes(UTF_8));
        try (LocalDirectoryObjectStore store = open()) {
            Files.createSymbolicLink(root().resolve("link"), outside.resolve("secret"));

            assertThat(failure(store.get("link")).reason()).isEqualTo(Reason.NOT_FOUND);
            assertThat(join(store.head("link"))).isEmpty();
            assertThat(keys(store, "")).isEmpty();
            assertThat(join(store.delete(List.of("link"))).isComplete()).isTrue();
            assertThat(failure(store.putIfAbsent("link", Payload.of(new byte[] {1}), "t")).reason()).isEqualTo(Reason.PERMANENT);
            // A plain put replaces the link itself (rename does not follow links), never its target.
            join(store.put("link", Payload.of(new byte[] {2}), null));
            assertThat(join(store.get("link")).array()).containsExactly(2);
        }
        assertThat(Files.readString(outside.resolve("secret"))).isEqualTo("secret");
        assertThat(filesUnder(outside)).containsExactly("secret");
    }

    @Test
    void keysThatLookLikePathTricksShouldStayInsideTheRoot() throws Exception {
        Path before = tmp.resolve("sibling");
        Files.createDirectories(before);
        try (LocalDirectoryObjectStore store = open()) {
            for (String key : List.of("%2E%2E/x", "..%2Fx", "...", "x/%2E%2E", "~", "-rf", "$HOME", "*", "a/.../b")) {
                join(store.put(key, Payload.of(key.getBytes(UTF_8)), null));
                assertThat(join(store.get(key)).array()).isEqualTo(key.getBytes(UTF_8));
            }
            for (String key : List.of("../sibling/x", "a/../../sibling/x", "/etc/x", "..")) {
                assertThatThrownBy(() -> store.put(key, Payload.of(new byte[1]), null)).isInstanceOf(IllegalArgumentException.class);
            }
            assertThat(keys(store, "")).hasSize(9);
        }
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("bucket", "sibling");
        }
        assertThat(filesUnder(before)).isEmpty();
    }

    // ------------------------------------------------------------ temp files, empty directories

    @Test
    void openingShouldDeleteStaleTempFilesAndEmptyDirectoriesButKeepYoungOnes() throws Exception {
        try (LocalDirectoryObjectStore store = open()) {
            join(store.put("keep/me", Payload.of(new byte[] {1}), "t"));
        }
        Path old1 = root().resolve("%tmp-0000dead");
        Path old2 = Files.createDirectories(root().resolve("a%2F").resolve("b%2F")).resolve("%tmp-0000beef");
        Path young = root().resolve("keep%2F").resolve("%tmp-00001234");
        for (Path p : List.of(old1, old2, young)) {
            Files.write(p, new byte[] {9, 9});
        }
        FileTime twoHoursAgo = FileTime.from(Instant.now().minus(Duration.ofHours(2)));
        Files.setLastModifiedTime(old1, twoHoursAgo);
        Files.setLastModifiedTime(old2, twoHoursAgo);

        try (LocalDirectoryObjectStore store = open()) {
            assertThat(keys(store, "")).containsExactly("keep/me");
            assertThat(old1).doesNotExist();
            assertThat(old2).doesNotExist();
            assertThat(root().resolve("a%2F")).doesNotExist();
            assertThat(young).exists();
            assertThat(store.deleteStaleTempFiles(Duration.ZERO)).isEqualTo(1);
            assertThat(young).doesNotExist();
            assertThat(join(store.get("keep/me")).array()).containsExactly(1);
        }
    }

    @Test
    void openingWithoutSweepShouldLeaveTempFiles() throws Exception {
        open().close();
        Path old = root().resolve("%tmp-0000dead");
        Files.write(old, new byte[] {9});
        Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(Duration.ofDays(2))));
        LocalDirectoryObjectStore.open(root(), Options.defaults().withStaleTempFileAge(null)).close();
        assertThat(old).exists();
    }

    @Test
    void deleteShouldRemoveDirectoriesItLeftEmptyButNotOthers() throws Exception {
        try (LocalDirectoryObjectStore store = open()) {
            join(store.put("a/b/c/d", Payload.of(new byte[] {1}), null));
            join(store.put("a/x", Payload.of(new byte[] {2}), null));
            join(store.delete(List.of("a/b/c/d")));

            assertThat(root().resolve("a%2F").resolve("b%2F")).doesNotExist();
            assertThat(root().resolve("a%2F")).isDirectory();
            join(store.delete(List.of("a/x")));
            assertThat(root().resolve("a%2F")).doesNotExist();
            assertThat(root()).isDirectory();
            join(store.put("a/b/c/d", Payload.of(new byte[] {3}), null));
            assertThat(join(store.get("a/b/c/d")).array()).containsExactly(3);
        }
    }

    /** Deletes that remove directories race puts that need them; no put may fail or be lost. */
    @Test
    void putsShouldSurviveConcurrentDeletesRemovingTheirDirectories() throws Exception {
        try (LocalDirectoryObjectStore store = LocalDirectoryObjectStore.open(root(), Options.defaults().withFsync(false))) {
            int rounds = 300;
            Thread deleter = new Thread(() -> {
                for (int i = 0; i < rounds * 3; i++) {
                    join(store.delete(List.of("d/e/f/victim")));
                    join(store.put("d/e/f/victim", Payload.of(new byte[] {0}), null));
                }
            });
            deleter.start();
            List<String> written = new ArrayList<>();
            for (int i = 0; i < rounds; i++) {
                String key = "d/e/f/g" + i;
                join(store.put(key, Payload.of(new byte[] {(byte) i}), null));
                written.add(key);
                join(store.delete(List.of(key)));
                join(store.put(key, Payload.of(new byte[] {(byte) i}), null));
            }
            deleter.join();
            for (String key : written) {
                assertThat(join(store.head(key))).as(key).isPresent();
            }
        }
    }

    // ------------------------------------------------------------ lifecycle and layout

    @Test
    void useAfterCloseShouldFailClearlyAndCloseShouldBeIdempotent() {
        LocalDirectoryObjectStore store = open();
        store.close();
        store.close();
        assertThatThrownBy(() -> store.get("k")).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed")
                .hasMessageContaining(root().getFileName().toString());
        assertThatThrownBy(() -> store.put("k", Payload.of(new byte[1]), null)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.list("", null, 1)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.delete(List.of("k"))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void reopeningWithAnotherMetadataPlacementShouldBeRefused() {
        open().close();
        assertThatThrownBy(() -> LocalDirectoryObjectStore.open(root(), Options.defaults().withMetadataPlacement(MetadataPlacement.TRAILER)))
                .isInstanceOf(io.shale.log.ShaleException.class).hasMessageContaining("xattr");
        LocalDirectoryObjectStore.open(root(), Options.defaults().withMetadataPlacement(MetadataPlacement.AUTO)).close();
    }

    @Test
    void aMarkerOfAnotherVersionShouldBeRefused() throws Exception {
        Files.createDirectories(root());
        Files.writeString(root().resolve("%shale-objectstore"), StoreLayout.render(StoreLayout.Metadata.XATTR).replace("version=1", "version=2"));
        assertThatThrownBy(this::open).isInstanceOf(io.shale.log.ShaleException.class).hasMessageContaining("version 2");
    }

    @Test
    void theLayoutMarkerShouldMatchTheGoldenFile() throws Exception {
        String golden;
        try (var in = getClass().getResourceAsStream("layout-marker-v1.txt")) {
            golden = new String(in.readAllBytes(), UTF_8);
        }
        assertThat(StoreLayout.render(StoreLayout.Metadata.XATTR)).isEqualTo(golden);
        assertThat(StoreLayout.parse(golden, Path.of("golden")).metadata).isEqualTo(StoreLayout.Metadata.XATTR);
    }

    @Test
    void listingAPrefixNoKeyCanHaveShouldBeEmpty() {
        try (LocalDirectoryObjectStore store = open()) {
            join(store.put("a/b", Payload.of(new byte[] {1}), null));
            for (String prefix : List.of("a\u0000/", "a\\", "../", "a//", "./a", "\uD800", "x".repeat(600))) {
                ListPage page = join(store.list(prefix, null, 10));
                assertThat(page.objects()).as(prefix).isEmpty();
                assertThat(page.isLast()).isTrue();
            }
            assertThat(keys(store, "a/")).containsExactly("a/b");
        }
    }

    @Test
    void theStoreShouldDescribeItselfByItsRootUri() {
        try (LocalDirectoryObjectStore store = open()) {
            assertThat(store.describe()).startsWith("file:///").contains("bucket");
            ObjectStoreException e = failure(store.get("no/such"));
            assertThat(e.getMessage()).contains(store.describe()).contains("no/such");
        }
    }

    @Test
    void ioErrorsShouldMapToReasons() {
        assertThat(LocalDirectoryObjectStore.reasonFor(new AccessDeniedException("/x"))).isEqualTo(Reason.PERMANENT);
        assertThat(LocalDirectoryObjectStore.reasonFor(new FileSystemException("/x", null, "Read-only file system")))
                .isEqualTo(Reason.PERMANENT);
        assertThat(LocalDirectoryObjectStore.reasonFor(new FileSystemException("/x", null, "No space left on device")))
                .isEqualTo(Reason.TRANSIENT);
        assertThat(LocalDirectoryObjectStore.reasonFor(new IOException("Input/output error"))).isEqualTo(Reason.TRANSIENT);
        assertThat(LocalDirectoryObjectStore.reasonFor(new CorruptObjectException("bad"))).isEqualTo(Reason.CORRUPT);
    }

    @Test
    void aPayloadThatLiesAboutItsLengthShouldFailWithoutLeavingAnObject() throws Exception {
        try (LocalDirectoryObjectStore store = open()) {
            Payload shortPayload = Payload.ofStream(10, () -> List.of(ByteBuffer.wrap(new byte[5])).iterator());
            Payload longPayload = Payload.ofStream(3, () -> List.of(ByteBuffer.wrap(new byte[5])).iterator());
            assertThat(failure(store.put("k", shortPayload, null)).reason()).isEqualTo(Reason.PERMANENT);
            assertThat(failure(store.putIfAbsent("k", longPayload, "t")).reason()).isEqualTo(Reason.PERMANENT);
            assertThat(join(store.head("k"))).isEmpty();
            assertThat(filesUnder(root())).containsExactly("%shale-objectstore");
        }
    }

    @Test
    void aPayloadWhoseSourceFailsShouldFailTheFutureAndLeaveNoFile() throws Exception {
        try (LocalDirectoryObjectStore store = open()) {
            Payload failing = Payload.ofStream(10, () -> {
                throw new IllegalStateException("source broke");
            });
            CompletableFuture<Void> put = store.put("dir/k", failing, null);
            assertThat(put).isCompletedExceptionally();
            assertThatThrownBy(put::join).hasRootCauseInstanceOf(IllegalStateException.class);
            assertThat(store.putIfAbsent("dir/k", failing, "t")).isCompletedExceptionally();
            assertThat(join(store.head("dir/k"))).isEmpty();
            assertThat(filesUnder(root())).containsExactly("%shale-objectstore");
        }
    }

    // ------------------------------------------------------------ listing against a model

    /**
     * Random keys from an alphabet that stresses the encoding (80-byte chunk boundaries, '/',
     * characters just below and above '/', multi-byte UTF-8), random prefixes and cursors,
     * compared with a sorted in-memory model.
     */
    @Test
    void listingShouldAgreeWithASortedModelForRandomKeysPrefixesAndCursors() {
        SplittableRandom random = new SplittableRandom(11);
        String[] alphabet = {"a", "b", "/", ".", "-", "0", "\u00e9", "\uD83D\uDE00", "x".repeat(40), "y".repeat(79), "%"};
        TreeMap<String, Integer> model = new TreeMap<>(LocalDirectoryObjectStoreTest::utf8Compare);
        try (LocalDirectoryObjectStore store = LocalDirectoryObjectStore.open(root(), Options.defaults().withFsync(false))) {
            while (model.size() < 200) {
                StringBuilder sb = new StringBuilder();
                int parts = 1 + random.nextInt(8);
                for (int i = 0; i < parts; i++) {
                    sb.append(alphabet[random.nextInt(alphabet.length)]);
                }
                String key = sb.toString();
                if (ObjectKeys.problemWith(key.getBytes(UTF_8)) != null || model.containsKey(key)) {
                    continue;
                }
                model.put(key, key.length());
                join(store.put(key, Payload.of(new byte[key.length() % 7]), null));
            }
            List<String> all = new ArrayList<>(model.keySet());
            for (int trial = 0; trial < 40; trial++) {
                String sample = all.get(random.nextInt(all.size()));
                String prefix = trial % 4 == 0 ? "" : cut(sample, random);
                String after = trial % 3 == 0 ? null : all.get(random.nextInt(all.size()));
                if (after != null && trial % 2 == 0) {
                    after = cut(after, random); // not necessarily a key
                }
                int maxKeys = 1 + random.nextInt(30);
                String startAfter = after;
                List<String> expected = all.stream().filter(k -> k.startsWith(prefix))
                        .filter(k -> startAfter == null || utf8Compare(k, startAfter) > 0).collect(Collectors.toList());
                List<String> actual = new ArrayList<>();
                String cursor = startAfter;
                do {
                    ListPage page = join(store.list(prefix, cursor, maxKeys));
                    assertThat(page.objects().size()).isLessThanOrEqualTo(maxKeys);
                    page.objects().forEach(o -> actual.add(o.key()));
                    cursor = page.nextStartAfter();
                } while (cursor != null);
                assertThat(actual).as("prefix '%s' after '%s' by %d", prefix, startAfter, maxKeys).isEqualTo(expected);
            }
        }
    }

    /** A prefix of {@code s} that does not split a surrogate pair. */
    private static String cut(String s, SplittableRandom random) {
        return s.substring(0, s.offsetByCodePoints(0, random.nextInt(s.codePointCount(0, s.length()) + 1)));
    }

    private static int utf8Compare(String a, String b) {
        return java.util.Arrays.compareUnsigned(a.getBytes(UTF_8), b.getBytes(UTF_8));
    }

    @Test
    void headAndGetShouldAgreeForEveryObjectOfAMixedTree() {
        Map<String, byte[]> objects = new TreeMap<>();
        try (LocalDirectoryObjectStore store = open()) {
            for (String key : List.of("r", "r/s", "r/s/t", "x".repeat(80), "x".repeat(80) + "/y", "x".repeat(81))) {
                byte[] content = key.getBytes(UTF_8);
                objects.put(key, content);
                join(store.put(key, Payload.of(content), "t" + key.length()));
            }
            objects.forEach((key, content) -> {
                Optional<ObjectInfo> info = join(store.head(key));
                assertThat(info).hasValueSatisfying(i -> {
                    assertThat(i.size()).isEqualTo(content.length);
                    assertThat(i.token()).isEqualTo("t" + key.length());
                });
                assertThat(join(store.get(key)).array()).isEqualTo(content);
            });
            assertThat(keys(store, "")).containsExactly("r", "r/s", "r/s/t", "x".repeat(80), "x".repeat(80) + "/y", "x".repeat(81));
        }
    }
}
