package io.shale.reliability.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.shale.log.ErrorKind;
import io.shale.log.testing.InMemoryObjectStore;
import io.shale.log.wal.ObjectWriteAheadLog;
import io.shale.reliability.support.SimpleWalContext;
import io.shale.reliability.support.TestEntry;
import io.shale.storage.local.wal.FileWriteAheadLog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzing of the two WALs' replay, through their public API: valid WAL contents are written by the
 * real WALs, then one segment file (file WAL) or one object (object WAL) is damaged and a new WAL
 * instance replays. Replay must not throw except with the documented CORRUPT_STORAGE naming the
 * damaged file or object (file WAL: damage before the end a newer segment declares, then replay with
 * {@code tolerateDamage} must succeed; object WAL: an object from which nothing can be recovered),
 * must not hang, must deliver entries in increasing
 * sequence order, and, unless the test repaired the checksums, must deliver only entries that were
 * written, byte for byte.
 *
 * <p>Cases: {@code -Dshale.fuzz.walCases=N} (default 300 file-WAL cases, 4x as many object-WAL cases).
 */
@Tag("fuzz")
class WalReplayFuzzTest {
    static final int WAL_CASES = Integer.getInteger("shale.fuzz.walCases", 300);

    record Entry(long sequence, int streamId, long baseOffset, ByteBuffer payload) {
    }

    static byte[] payload(SplittableRandom r) {
        byte[] p = new byte[50 + r.nextInt(900)];
        r.nextBytes(p);
        return p;
    }

    // ------------------------------------------------------------------ file WAL

    @Test
    void fileWalReplayOfDamagedSegmentsShouldDeliverOnlyWrittenEntriesInOrder(@TempDir Path tmp) throws Exception {
        Path original = tmp.resolve("original");
        Map<Long, Entry> written = new HashMap<>();
        SplittableRandom r = new SplittableRandom(Fuzz.SEED);
        try (SimpleWalContext ctx = new SimpleWalContext(1, new InMemoryObjectStore())) {
            FileWriteAheadLog wal = FileWriteAheadLog.builder(original).segmentBytes(64 << 10).maxGroupBytes(64 << 10)
                    .spareSegments(0).build();
            wal.open(ctx);
            wal.replay((s, i, o, p) -> {
            });
            List<TestEntry> entries = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                byte[] p = payload(r);
                TestEntry e = new TestEntry(i % 5, 10L * i, p);
                long seq = wal.append(e);
                written.put(seq, new Entry(seq, i % 5, 10L * i, ByteBuffer.wrap(p)));
                entries.add(e);
                if (i % 7 == 0) {
                    e.done.get(10, TimeUnit.SECONDS); // vary group boundaries
                }
            }
            for (TestEntry e : entries) {
                e.done.get(10, TimeUnit.SECONDS);
            }
            wal.close();
        }
        List<Path> segments;
        try (Stream<Path> files = Files.list(original)) {
            segments = files.filter(p -> p.getFileName().toString().endsWith(".wal")).sorted().toList();
        }
        assertThat(segments.size()).as("segments written").isGreaterThanOrEqualTo(2);
        assertThat(replayFile(original, false)).as("undamaged replay").hasSize(written.size());

        Map<String, Integer> outcomes = new HashMap<>();
        SplittableRandom cases = new SplittableRandom(Fuzz.SEED + 10);
        for (int c = 0; c < WAL_CASES; c++) {
            long caseSeed = cases.nextLong();
            SplittableRandom cr = new SplittableRandom(caseSeed);
            Path dir = tmp.resolve("case");
            deleteTree(dir);
            Files.createDirectories(dir);
            for (Path s : segments) {
                Files.copy(s, dir.resolve(s.getFileName()));
            }
            Path victim = dir.resolve(segments.get(cr.nextInt(segments.size())).getFileName());
            byte[] bytes = Files.readAllBytes(victim);
            int used = usedLength(bytes);
            Fuzz.Input in = Fuzz.mutate(Arrays.copyOf(bytes, used), cr);
            byte[] damaged = in.bytes();
            boolean repaired = cr.nextInt(3) == 0;
            if (repaired) {
                repairFrameCrcs(damaged);
            }
            byte[] file = damaged; // shorter than the segment: a truncated file
            if (cr.nextBoolean()) {
                file = Arrays.copyOf(damaged, Math.max(bytes.length, damaged.length)); // or damage then zeroes
            }
            Files.write(victim, file);
            String what = "file WAL case seed " + caseSeed + " (" + victim.getFileName() + ": " + in.how()
                    + (repaired ? ", frame CRCs repaired" : "") + ")";
            List<Entry> got;
            try {
                got = replayFile(dir, false);
            } catch (io.shale.log.ShaleException e) {
                // damage before the end a newer segment declares: acknowledged entries are lost, and
                // the WAL says so, naming the segment (unless told to tolerate it)
                assertThat(e.kind()).as(what + ": " + e).isEqualTo(ErrorKind.CORRUPT_STORAGE);
                assertThat(e.getMessage()).as(what).contains(victim.getFileName().toString());
                outcomes.merge("CORRUPT_STORAGE naming the segment", 1, Integer::sum);
                try {
                    got = replayFile(dir, true);
                } catch (RuntimeException again) {
                    throw new AssertionError(what + ": replay with tolerateDamage threw " + again, again);
                }
            } catch (RuntimeException e) {
                throw new AssertionError(what + ": replay threw " + e, e);
            }
            long prev = Long.MIN_VALUE;
            for (Entry e : got) {
                assertThat(e.sequence()).as(what + ": sequence order").isGreaterThan(prev);
                prev = e.sequence();
                if (!repaired) {
                    assertThat(e).as(what + ": delivered entry %d", e.sequence()).isEqualTo(written.get(e.sequence()));
                }
            }
            outcomes.merge(got.size() == written.size() ? "all entries" : "fewer entries", 1, Integer::sum);
        }
        System.out.println("fuzz file-WAL replay: " + WAL_CASES + " damaged directories, " + outcomes);
        assertThat(outcomes.getOrDefault("fewer entries", 0)).isPositive();
    }

    static List<Entry> replayFile(Path dir, boolean tolerateDamage) {
        List<Entry> got = new ArrayList<>();
        try (SimpleWalContext ctx = new SimpleWalContext(2, new InMemoryObjectStore())) {
            FileWriteAheadLog wal = FileWriteAheadLog.builder(dir).segmentBytes(64 << 10).maxGroupBytes(64 << 10)
                    .spareSegments(0).tolerateDamage(tolerateDamage).build();
            try {
                wal.open(ctx);
                wal.replay((seq, stream, base, p) -> got.add(new Entry(seq, stream, base, DecoderFuzzTest.copy(p))));
            } finally {
                wal.close();
            }
        }
        return got;
    }

    /** Length up to the last non-zero byte (frames end there; the rest is preallocated zeroes). */
    static int usedLength(byte[] b) {
        int n = b.length;
        while (n > 0 && b[n - 1] == 0) {
            n--;
        }
        return Math.min(b.length, n + 64);
    }

    /**
     * Repairs each frame's CRC following the length fields from the first frame (the format: CRC-32C
     * of the frame's 8-byte file position, then frame bytes 4 .. 40 + length).
     */
    static void repairFrameCrcs(byte[] b) {
        ByteBuffer bb = ByteBuffer.wrap(b);
        int pos = 4096;
        CRC32C crc = new CRC32C();
        while (pos + 40 <= b.length) {
            int len = bb.getInt(pos + 4);
            if (len < 0 || len > b.length - pos - 40 || b[pos + 8] != 1) {
                return;
            }
            crc.reset();
            crc.update(ByteBuffer.allocate(8).putLong(0, pos));
            crc.update(b, pos + 4, 36 + len);
            bb.putInt(pos, (int) crc.getValue());
            pos += 40 + len;
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted((a, b) -> b.compareTo(a)).toList()) {
                Files.delete(p);
            }
        }
    }

    // ------------------------------------------------------------------ object WAL

    @Test
    void objectWalReplayOfADamagedObjectShouldDeliverOnlyWrittenEntriesOrReportTheKey() throws Exception {
        fuzzObjectWal(false, 20);
    }

    /** The same for format version 2 (the data-object layout, RFC 0006); CRCs are not repaired. */
    @Test
    void objectWalReplayOfADamagedVersion2ObjectShouldDeliverOnlyWrittenEntriesOrReportTheKey() throws Exception {
        fuzzObjectWal(true, 30);
    }

    private static void fuzzObjectWal(boolean dataObjects, long seedOffset) throws Exception {
        InMemoryObjectStore store = new InMemoryObjectStore();
        Map<Long, Entry> written = new HashMap<>();
        SplittableRandom r = new SplittableRandom(Fuzz.SEED + seedOffset);
        try (SimpleWalContext ctx = new SimpleWalContext(3, store)) {
            ObjectWriteAheadLog wal = ObjectWriteAheadLog.builder().flushInterval(Duration.ofMillis(2))
                    .flushBytes(4096).dataObjects(dataObjects).build();
            wal.open(ctx);
            wal.replay((s, i, o, p) -> {
            });
            List<TestEntry> entries = new ArrayList<>();
            for (int i = 0; i < 120; i++) {
                byte[] p = payload(r);
                TestEntry e = new TestEntry(i % 4, 10L * i, p);
                long seq = wal.append(e);
                written.put(seq, new Entry(seq, i % 4, 10L * i, ByteBuffer.wrap(p)));
                entries.add(e);
            }
            for (TestEntry e : entries) {
                e.done.get(10, TimeUnit.SECONDS);
            }
            wal.close();
        }
        // the WAL objects; the claim record (wal/claims/<epoch>) is not fuzzed here
        List<String> keys = store.keys().stream().filter(k -> !k.contains("/claims/")).toList();
        assertThat(keys.size()).as("WAL objects").isGreaterThanOrEqualTo(3);
        Map<String, byte[]> originals = new HashMap<>();
        keys.forEach(k -> originals.put(k, store.bytes(k)));

        Map<String, Integer> outcomes = new HashMap<>();
        SplittableRandom cases = new SplittableRandom(Fuzz.SEED + seedOffset + 1);
        for (int c = 0; c < WAL_CASES * 4; c++) {
            long caseSeed = cases.nextLong();
            SplittableRandom cr = new SplittableRandom(caseSeed);
            originals.forEach(store::corrupt);
            String victim = keys.get(cr.nextInt(keys.size()));
            Fuzz.Input in = Fuzz.mutate(originals.get(victim), cr);
            boolean repaired = !dataObjects && cr.nextInt(3) == 0 && in.bytes().length >= ObjectWalFormatLimits.MIN;
            byte[] damaged = repaired ? DecoderFuzzTest.fixWalObjectCrcs(in.bytes().clone()) : in.bytes();
            store.corrupt(victim, damaged);
            String what = "object WAL (format " + (dataObjects ? 2 : 1) + ") case seed " + caseSeed + " (" + victim + ": " + in.how()
                    + (repaired ? ", CRCs repaired" : "") + ")";
            List<Entry> got = new ArrayList<>();
            try (SimpleWalContext ctx = new SimpleWalContext(4, store)) {
                ObjectWriteAheadLog wal = ObjectWriteAheadLog.builder().build();
                try {
                    wal.open(ctx);
                    wal.replay((seq, stream, base, p) -> got.add(new Entry(seq, stream, base, DecoderFuzzTest.copy(p))));
                    outcomes.merge(got.size() == written.size() ? "all entries" : "fewer entries", 1, Integer::sum);
                } catch (io.shale.log.ShaleException e) {
                    assertThat(e.kind()).as(what + ": " + e).isEqualTo(ErrorKind.CORRUPT_STORAGE);
                    assertThat(e.getMessage()).as(what + ": the error names the object").contains(victim);
                    outcomes.merge("CORRUPT_STORAGE naming the key", 1, Integer::sum);
                } catch (RuntimeException e) {
                    throw new AssertionError(what + ": replay threw " + e, e);
                } finally {
                    wal.close();
                }
            }
            long prev = Long.MIN_VALUE;
            for (Entry e : got) {
                assertThat(e.sequence()).as(what + ": sequence order").isGreaterThan(prev);
                prev = e.sequence();
                if (!repaired) {
                    assertThat(e).as(what + ": delivered entry %d", e.sequence()).isEqualTo(written.get(e.sequence()));
                }
            }
        }
        System.out.println("fuzz object-WAL replay (format " + (dataObjects ? 2 : 1) + "): " + WAL_CASES * 4
                + " damaged stores, " + outcomes);
        assertThat(outcomes.getOrDefault("CORRUPT_STORAGE naming the key", 0)).isPositive();
    }

    /** Smallest object the CRC repair can work on: header plus trailer. */
    static final class ObjectWalFormatLimits {
        static final int MIN = io.shale.log.wal.ObjectWalFormat.HEADER_LENGTH + io.shale.log.wal.ObjectWalFormat.TRAILER_LENGTH;
    }
}
