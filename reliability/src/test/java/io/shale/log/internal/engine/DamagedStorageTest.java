package io.shale.log.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shale.log.ErrorKind;
import io.shale.log.FetchResult;
import io.shale.log.ShaleException;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.record.Record;
import io.shale.log.record.SimpleRecord;
import io.shale.storage.local.LocalStorage;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import io.shale.storage.local.wal.FileWriteAheadLog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Torn and damaged storage at store level, with the real local storage (file WAL and
 * local-directory bucket, laid out as {@link LocalStorage} lays them out): torn WAL tails are cut
 * and everything before them served; damaged data objects and manifest files are reported as
 * CORRUPT_STORAGE naming the object, never served, and do not take undamaged data with them.
 */
class DamagedStorageTest {
    private static final Map<String, Object> KEEP_IN_WAL = Map.of(
            StoreConfig.UPLOAD_INTERVAL_MS, 3_600_000,
            StoreConfig.UPLOAD_BYTES, 1 << 30,
            StoreConfig.COMPACTION_INTERVAL_MS, 3_600_000,
            StoreConfig.RETENTION_CHECK_INTERVAL_MS, 3_600_000,
            StoreConfig.ORPHAN_SCAN_INTERVAL_MS, 3_600_000,
            StoreConfig.OBJECT_BLOCK_BYTES, 1024);

    @TempDir
    Path dir;
    private final List<StoreEngine> opened = new ArrayList<>();

    @AfterEach
    void closeAll() {
        for (StoreEngine s : opened) {
            try {
                s.close();
            } catch (RuntimeException ignored) {
                // a store that failed already reported it
            }
        }
    }

    private StoreEngine open() {
        return open(Map.of());
    }

    private StoreEngine open(Map<String, ?> extra) {
        LocalDirectoryObjectStore objects = LocalDirectoryObjectStore.open(dir.resolve(LocalStorage.OBJECTS_DIR));
        FileWriteAheadLog wal = FileWriteAheadLog.builder(dir.resolve(LocalStorage.WAL_DIR)).segmentBytes(64 << 10)
                .spareSegments(1).build();
        StoreEngine s = (StoreEngine) StoreEngine.open(objects, wal, Clock.systemUTC(), StoreConfig.of(KEEP_IN_WAL).with(extra));
        opened.add(s);
        return s;
    }

    /** Stops the store as a crash would, then releases the WAL directory (its lock) for the next open. */
    private static void crash(StoreEngine s) {
        s.crashForTesting();
        s.wal.close();
        s.store.close();
    }

    private static String value(int i, int size) {
        char[] c = new char[size];
        Arrays.fill(c, (char) ('a' + i % 26));
        return i + ":" + new String(c);
    }

    private static long append(StoreEngine s, TopicPartition tp, String v) {
        return s.append(tp, List.of(SimpleRecord.of("k", v))).join().baseOffset();
    }

    private static List<String> readAll(StoreEngine s, TopicPartition tp) {
        List<String> out = new ArrayList<>();
        long offset = s.logStartOffset(tp);
        while (offset < s.highWatermark(tp)) {
            FetchResult f = s.read(tp, offset, 1 << 20);
            for (Record r : f.records()) {
                ByteBuffer v = r.value();
                byte[] b = new byte[v.remaining()];
                v.duplicate().get(b);
                out.add(new String(b, StandardCharsets.UTF_8));
            }
            offset = f.nextOffset();
        }
        return out;
    }

    // ------------------------------------------------------------------ WAL files

    /** The live segment with the highest ordinal: where the last frames were written. */
    private Path newestSegment() throws IOException {
        Path newest = null;
        long best = -1;
        try (Stream<Path> files = Files.list(dir.resolve(LocalStorage.WAL_DIR))) {
            for (Path p : files.filter(f -> f.getFileName().toString().endsWith(".wal")).toList()) {
                ByteBuffer h = ByteBuffer.wrap(Files.readAllBytes(p));
                if (h.capacity() >= 64 && h.getLong(0) == 0x5348414C4557414CL && h.getLong(24) > best) {
                    best = h.getLong(24);
                    newest = p;
                }
            }
        }
        return newest;
    }

    private static int usedLength(byte[] b) {
        int n = b.length;
        while (n > 4096 && b[n - 1] == 0) {
            n--;
        }
        return n;
    }

    @Test
    void tornWalTailShouldBeCutAndEverythingBeforeItServed() throws IOException {
        for (String how : List.of("truncated", "zeroed", "garbage")) {
            closeAll();
            opened.clear();
            deleteTree(dir);
            StoreEngine s = open();
            s.createTopic("t", 2);
            TopicPartition tp = TopicPartition.of("t", 0);
            List<String> kept = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                String v = value(i, 300);
                append(s, tp, v);
                append(s, TopicPartition.of("t", 1), v);
                kept.add(v);
            }
            // the last append is the one being written when the process dies
            append(s, tp, value(99, 2_000));
            crash(s);

            Path seg = newestSegment();
            byte[] bytes = Files.readAllBytes(seg);
            int used = usedLength(bytes);
            int cut = used - 700; // inside the last frame (about 2,100 bytes)
            switch (how) {
                case "truncated" -> Files.write(seg, Arrays.copyOf(bytes, cut));
                case "zeroed" -> {
                    Arrays.fill(bytes, cut, used, (byte) 0);
                    Files.write(seg, bytes);
                }
                default -> {
                    for (int i = cut; i < used; i++) {
                        bytes[i] = (byte) (i * 131 + 7);
                    }
                    Files.write(seg, bytes);
                }
            }

            StoreEngine again = open();
            assertThat(readAll(again, tp)).as(how).isEqualTo(kept);
            assertThat(again.highWatermark(tp)).as(how).isEqualTo(kept.size());
            assertThat(readAll(again, TopicPartition.of("t", 1))).as(how).isEqualTo(kept);
            // the store continues after the cut, and a second recovery agrees
            String next = value(50, 100);
            assertThat(append(again, tp, next)).isEqualTo(kept.size());
            kept.add(next);
            crash(again);
            assertThat(readAll(open(), tp)).as(how + ", after a second recovery").isEqualTo(kept);
        }
    }

    /**
     * A bit flipped in an acknowledged WAL frame that is not the tail (storage damage, not a torn
     * write). Regression: the file WAL used to log the damage and go on with the next segment; the
     * engine then skipped every later entry of the partition as "following a rolled-back append" and
     * handed the lost offsets to new appends. Now the open fails with CORRUPT_STORAGE naming the
     * segment and position (an operator decides), unless the WAL is told to tolerate damage.
     */
    @Test
    void bitFlipInAnAcknowledgedWalFrameShouldFailTheOpenOrLoseNothingElse() throws IOException {
        StoreEngine s = open();
        s.createTopic("t", 1);
        TopicPartition tp = TopicPartition.of("t", 0);
        List<String> acked = new ArrayList<>();
        for (int i = 0; i < 300; i++) { // about 100 KiB of frames: the WAL moves to a second segment
            String v = value(i, 300);
            append(s, tp, v);
            acked.add(v);
        }
        crash(s);
        Path first;
        try (Stream<Path> files = Files.list(dir.resolve(LocalStorage.WAL_DIR))) {
            first = files.filter(f -> f.getFileName().toString().endsWith(".wal")).sorted().findFirst().orElseThrow();
        }
        try (var ch = java.nio.channels.FileChannel.open(first, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            ch.read(one, 4096 + 10_000);
            one.put(0, (byte) (one.get(0) ^ 0x10)).position(0);
            ch.write(one, 4096 + 10_000); // inside a frame about a sixth of the way into the log
        }

        StoreEngine again;
        try {
            again = open();
        } catch (ShaleException e) {
            assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE);
            assertThat(e.getMessage()).contains(first.getFileName().toString());
            return;
        }
        assertThat(again.highWatermark(tp)).as("acknowledged end after a damaged frame").isEqualTo(acked.size());
    }

    // ------------------------------------------------------------------ data objects

    private Path objectFile(String key) {
        String[] segs = key.split("/");
        Path p = dir.resolve(LocalStorage.OBJECTS_DIR);
        for (int i = 0; i < segs.length - 1; i++) {
            p = p.resolve(segs[i] + "%2F");
        }
        return p.resolve(segs[segs.length - 1]);
    }

    /** Two partitions, several uploads, everything uploaded and the WAL trimmed. Returns the values. */
    private List<List<String>> uploadedStore() {
        StoreEngine s = open();
        s.createTopic("t", 2);
        List<List<String>> values = List.of(new ArrayList<>(), new ArrayList<>());
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 12; i++) {
                for (int p = 0; p < 2; p++) {
                    String v = value(round * 100 + i, 400);
                    append(s, TopicPartition.of("t", p), v);
                    values.get(p).add(v);
                }
            }
            s.flush();
        }
        s.close();
        return values;
    }

    private List<String> dataKeys(StoreEngine s) {
        synchronized (s.catalog.lock()) {
            return s.catalog.state().objects().keySet().stream().filter(k -> k.startsWith("data/")).sorted().toList();
        }
    }

    @Test
    void damagedDataBlockShouldBeReportedNamingTheObjectAndSpareTheOtherBlocks() throws IOException {
        List<List<String>> values = uploadedStore();
        StoreEngine s = open();
        String key = dataKeys(s).get(1);
        var ranges = new ArrayList<io.shale.log.internal.manifest.RangeRef>();
        synchronized (s.catalog.lock()) {
            for (var p : s.catalog.state().partitions()) {
                for (var r : p.ranges()) {
                    if (r.object().key().equals(key)) {
                        ranges.add(r);
                    }
                }
            }
        }
        var victim = ranges.stream().filter(r -> r.partitionId() == s.partition(TopicPartition.of("t", 0)).id)
                .findFirst().orElseThrow();
        Path file = objectFile(key);
        byte[] bytes = Files.readAllBytes(file);
        bytes[(int) victim.position() + 100] ^= 0x01;
        Files.write(file, bytes);
        s.close();

        StoreEngine again = open();
        TopicPartition tp0 = TopicPartition.of("t", 0);
        assertThatThrownBy(() -> again.read(tp0, victim.baseOffset(), 1 << 20)).satisfies(e -> {
            ShaleException se = (ShaleException) e;
            assertThat(se.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE);
            assertThat(se.getMessage()).contains(key);
        });
        // everything else is still served: the other partition (same object) and the other objects
        assertThat(readAll(again, TopicPartition.of("t", 1))).isEqualTo(values.get(1));
        List<String> before = new ArrayList<>();
        long offset = 0;
        while (offset < victim.baseOffset()) {
            FetchResult f = again.read(tp0, offset, 1);
            for (Record r : f.records()) {
                if (r.offset() < victim.baseOffset()) {
                    before.add(StandardCharsets.UTF_8.decode(r.value().duplicate()).toString());
                }
            }
            offset = f.nextOffset();
        }
        assertThat(before).isEqualTo(values.get(0).subList(0, (int) victim.baseOffset()));
        FetchResult after = again.read(tp0, victim.nextOffset(), 1 << 20);
        assertThat(after.isEmpty()).isFalse();
    }

    @Test
    void truncatedDataObjectShouldBeReportedNamingTheObject() throws IOException {
        uploadedStore();
        StoreEngine s = open();
        String key = dataKeys(s).get(2);
        s.close();
        Path file = objectFile(key);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length / 3));

        StoreEngine again = open();
        List<ShaleException> errors = new ArrayList<>();
        for (int p = 0; p < 2; p++) {
            try {
                readAll(again, TopicPartition.of("t", p));
            } catch (ShaleException e) {
                errors.add(e);
            }
        }
        assertThat(errors).isNotEmpty().allSatisfy(e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE);
            assertThat(e.getMessage()).contains(key);
        });
    }

    /**
     * A data object the manifest references is gone (deleted behind the store's back). Regression:
     * the read failed as UNAVAILABLE, which tells callers to retry forever; the object will not come
     * back. Now: CORRUPT_STORAGE naming the key once a refreshed manifest still references it.
     */
    @Test
    void missingDataObjectShouldBeReportedAsCorruptStorageNamingTheKey() throws IOException {
        uploadedStore();
        StoreEngine s = open();
        String key = dataKeys(s).get(0);
        s.close();
        Files.delete(objectFile(key));

        StoreEngine again = open();
        assertThatThrownBy(() -> readAll(again, TopicPartition.of("t", 0))).satisfies(e -> {
            ShaleException se = (ShaleException) e;
            assertThat(se.getMessage()).contains(key);
            assertThat(se.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE);
        });
    }

    @Test
    void missingDataObjectShouldFailReadsNamingTheKeyAndNeverServeOtherBytes() throws IOException {
        List<List<String>> values = uploadedStore();
        StoreEngine s = open();
        String key = dataKeys(s).get(0);
        s.close();
        Files.delete(objectFile(key));

        StoreEngine again = open();
        assertThatThrownBy(() -> readAll(again, TopicPartition.of("t", 0))).satisfies(e -> {
            ShaleException se = (ShaleException) e;
            assertThat(se.getMessage()).contains(key);
            assertThat(se.kind()).isIn(ErrorKind.CORRUPT_STORAGE, ErrorKind.UNAVAILABLE);
        });
        // the data of later objects is unaffected
        long laterStart = values.get(0).size() / 3;
        FetchResult f = again.read(TopicPartition.of("t", 0), laterStart, 1 << 20);
        assertThat(f.recordList().get(0).offset()).isEqualTo(laterStart);
    }

    // ------------------------------------------------------------------ manifest

    private List<String> manifestKeys(String kind) throws IOException {
        Path d = dir.resolve(LocalStorage.OBJECTS_DIR).resolve("manifest%2F").resolve(kind + "%2F");
        if (!Files.isDirectory(d)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(d)) {
            return files.map(p -> "manifest/" + kind + "/" + p.getFileName()).filter(k -> !k.contains("%")).sorted()
                    .toList();
        }
    }

    @Test
    void damagedManifestDeltaShouldFailTheOpenNamingIt() throws IOException {
        uploadedStore();
        List<String> deltas = manifestKeys("deltas");
        String victim = deltas.get(deltas.size() / 2);
        Path file = objectFile(victim);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x04;
        Files.write(file, bytes);

        assertThatThrownBy(this::open).satisfies(e -> {
            ShaleException se = (ShaleException) e;
            assertThat(se.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE);
            assertThat(se.getMessage()).contains(victim);
        });
    }

    @Test
    void damagedManifestSnapshotShouldFailTheOpenNamingIt() throws IOException {
        uploadedStore();
        StoreEngine s = open(Map.of(StoreConfig.MANIFEST_SNAPSHOT_DELTAS, 2));
        s.maintenance.runNow(s.catalog::maintain);
        s.close();
        List<String> snapshots = manifestKeys("snapshots");
        assertThat(snapshots).isNotEmpty();
        String victim = snapshots.get(snapshots.size() - 1);
        Path file = objectFile(victim);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 9));

        assertThatThrownBy(this::open).satisfies(e -> {
            ShaleException se = (ShaleException) e;
            assertThat(se.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE);
            assertThat(se.getMessage()).contains(victim);
        });
    }

    /**
     * A manifest delta in the middle of the chain is missing (no snapshot covers it). Regression:
     * the open retried as if garbage collection were racing it and gave up with UNAVAILABLE ("kept
     * changing"), which invites endless retries. Now: CORRUPT_STORAGE naming the missing delta.
     */
    @Test
    void missingManifestDeltaShouldFailTheOpenAsCorruptStorageNamingIt() throws IOException {
        uploadedStore();
        List<String> deltas = manifestKeys("deltas");
        String victim = deltas.get(deltas.size() / 2);
        Files.delete(objectFile(victim));

        assertThatThrownBy(this::open).satisfies(e -> {
            ShaleException se = (ShaleException) e;
            assertThat(se.kind()).isEqualTo(ErrorKind.CORRUPT_STORAGE);
            assertThat(se.getMessage()).contains(victim);
        });
    }

    static void deleteTree(Path d) throws IOException {
        if (!Files.exists(d)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(d)) {
            for (Path p : walk.sorted((a, b) -> b.compareTo(a)).toList()) {
                if (!p.equals(d)) {
                    Files.delete(p);
                }
            }
        }
    }
}
