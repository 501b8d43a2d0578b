package io.shale.benchmarks.tools;

import io.shale.benchmarks.tools.CountingObjectStore.Area;
import io.shale.benchmarks.tools.CountingObjectStore.Counts;
import io.shale.benchmarks.tools.CountingObjectStore.Op;
import io.shale.log.LogStore;
import io.shale.log.StoreConfig;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Cold catch-up reads from an object store against the raw ranged-GET throughput of the same store
 * for the same bytes. Target: at least 0.9 x raw ranged-GET throughput.
 *
 * <p>For each store (local directory, S3Proxy): write {@code --bytes} of 16 x 1 KiB batches to one
 * topic (file WAL; the WAL does not matter here), flush and close. Then, {@code --rounds} times:
 * <ul>
 *   <li><b>raw</b>: a new store instance GETs every data object in order, in ranges of
 *       {@code --get-bytes} (default: the reader's largest readahead, readahead.max.bytes), one GET
 *       at a time, as the reader does;</li>
 *   <li><b>Shale</b>: a new read-only LogStore on the same objects (its log cache and block cache
 *       are empty) reads every partition from offset 0 to the high watermark with
 *       {@code read(tp, offset, --read-bytes)}, on one thread.</li>
 * </ul>
 * Only the reading is timed (not opening the store or listing). The medians are compared.
 *
 * <pre>
 * java -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/measure-lib/*' \
 *     io.shale.benchmarks.tools.ColdRead [--bytes 256m] [--stores local,s3] [--rounds 3]
 * </pre>
 */
public final class ColdRead extends Tool {
    static final String TOPIC = "cold";

    public static void main(String[] args) {
        new ColdRead().execute(args);
    }

    @Override
    String id() {
        return "coldread";
    }

    @Override
    String title() {
        return "Cold catch-up reads against raw ranged GETs (ColdRead)";
    }

    @Override
    Set<String> options() {
        return Set.of("bytes", "stores", "rounds", "partitions", "get-bytes", "read-bytes", "in-flight", "s3-backend");
    }

    @Override
    String usage() {
        return """
                usage: ColdRead [--smoke] [--bytes 256m] [--stores local,s3] [--rounds 3] [--partitions 1]
                                [--get-bytes 16m] [--read-bytes 1m] [--in-flight 1024]
                                [--s3-backend filesystem|transient] [--out FILE|-] [--command TEXT]
                  --smoke: 16m, 1 round""";
    }

    private record Round(double rawSeconds, long rawBytes, long rawGets, double shaleSeconds, long shaleBytes,
            Counts shaleCounts) {
        double rawMbps() {
            return rawBytes / 1e6 / rawSeconds;
        }

        double shaleMbps() {
            return shaleBytes / 1e6 / shaleSeconds;
        }
    }

    private record Result(String label, long objects, long objectBytes, List<Round> rounds) {
    }

    @Override
    void run(Args args, boolean smoke, Path dir, Section out) throws Exception {
        long bytes = args.bytes("bytes", smoke ? 16L << 20 : 256L << 20);
        List<String> stores = args.words("stores", List.of(Backend.LOCAL, Backend.S3), Set.of(Backend.LOCAL, Backend.S3));
        int rounds = args.integer("rounds", smoke ? 1 : 3);
        int partitions = args.integer("partitions", 1);
        StoreConfig config = StoreConfig.of(Map.of(StoreConfig.COMPACTION_INTERVAL_MS, RequestCounts.COMPACTION_OFF_MS));
        long getBytes = args.bytes("get-bytes", config.readaheadMaxBytes());
        int readBytes = (int) args.bytes("read-bytes", 1 << 20);
        int inFlight = args.integer("in-flight", 1024);
        String s3Backend = args.string("s3-backend", "filesystem");
        if (getBytes < 1 || rounds < 1) {
            throw new IllegalArgumentException("--get-bytes and --rounds must be positive");
        }

        List<Result> results = new ArrayList<>();
        S3Env s3 = stores.contains(Backend.S3) ? S3Env.start(s3Backend) : null;
        try {
            for (String kind : stores) {
                String name = "coldread-" + kind;
                Backend backend = kind.equals(Backend.LOCAL) ? Backend.local(dir.resolve(name)) : Backend.s3(s3, name);
                System.err.printf("== %s: writing %,d bytes%n", backend.storeLabel(), bytes);
                try (LogStore store = LogStore.builder().objectStore(backend.newObjectStore())
                        .wal(Backend.fileWal(dir.resolve(name + "-wal"))).config(config).open()) {
                    store.createTopic(TOPIC, partitions);
                    new Traffic(store, TOPIC, partitions, 16, 1024).appendBytes(inFlight, bytes);
                    store.flush();
                }
                List<ObjectInfo> objects = dataObjects(backend);
                long objectBytes = objects.stream().mapToLong(ObjectInfo::size).sum();
                List<Round> done = new ArrayList<>();
                for (int r = 0; r < rounds; r++) {
                    System.err.printf("== %s: round %d of %d%n", backend.storeLabel(), r + 1, rounds);
                    done.add(round(backend, config, objects, getBytes, partitions, readBytes));
                }
                results.add(new Result(backend.storeLabel(), objects.size(), objectBytes, done));
            }
        } finally {
            if (s3 != null) {
                s3.close();
            }
        }
        report(out, results, config, bytes, partitions, getBytes, readBytes);
    }

    private static List<ObjectInfo> dataObjects(Backend backend) {
        List<ObjectInfo> out = new ArrayList<>();
        try (ObjectStore raw = backend.newObjectStore()) {
            String after = null;
            do {
                ListPage page = raw.list(Area.DATA.prefix, after, 1000).join();
                out.addAll(page.objects());
                after = page.nextStartAfter();
            } while (after != null);
        }
        return out;
    }

    private static Round round(Backend backend, StoreConfig config, List<ObjectInfo> objects, long getBytes,
            int partitions, int readBytes) throws InterruptedException {
        long rawBytes = 0;
        long rawGets = 0;
        double rawSeconds;
        try (ObjectStore raw = backend.newObjectStore()) {
            long t0 = System.nanoTime();
            for (ObjectInfo o : objects) {
                for (long at = 0; at < o.size(); at += getBytes) {
                    ByteBuffer b = raw.get(o.key(), at, Math.min(getBytes, o.size() - at)).join();
                    rawBytes += b.remaining();
                    rawGets++;
                }
            }
            rawSeconds = (System.nanoTime() - t0) / 1e9;
        }
        CountingObjectStore counting = new CountingObjectStore(backend.newObjectStore());
        long shaleBytes;
        double shaleSeconds;
        Counts before;
        try (LogStore reader = LogStore.builder().objectStore(counting).readOnly(true).config(config).open()) {
            before = counting.snapshot();
            long t0 = System.nanoTime();
            shaleBytes = Traffic.readAll(reader, TOPIC, partitions, readBytes, 1);
            shaleSeconds = (System.nanoTime() - t0) / 1e9;
        }
        return new Round(rawSeconds, rawBytes, rawGets, shaleSeconds, shaleBytes, counting.snapshot().minus(before));
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static void report(Section out, List<Result> results, StoreConfig config, long bytes, int partitions,
            long getBytes, int readBytes) {
        out.paragraph(String.format(Locale.ROOT,
                "Per store: %s of 16 x 1 KiB record batches in %d partition(s), uploaded with the default upload.bytes (%s),"
                        + " compaction off. Raw: one GET at a time over every data object in ranges of %s. Shale: a fresh"
                        + " read-only store reads every partition from offset 0 with read(tp, offset, %s) on one thread"
                        + " (readahead doubles from one %s block up to readahead.max.bytes = %s). MB/s = 10^6 B of"
                        + " objects (raw) or of record batches returned (Shale) per second; median of the rounds.",
                Section.bytes(bytes), partitions, Section.bytes(config.uploadBytes()), Section.bytes(getBytes),
                Section.bytes(readBytes), Section.bytes(config.objectBlockBytes()), Section.bytes(config.readaheadMaxBytes())));

        List<String[]> rows = new ArrayList<>();
        for (Result r : results) {
            double[] raw = r.rounds().stream().mapToDouble(Round::rawMbps).toArray();
            double[] shale = r.rounds().stream().mapToDouble(Round::shaleMbps).toArray();
            double rawMedian = median(raw);
            double shaleMedian = median(shale);
            rows.add(new String[] {r.label(), Section.count(r.rounds().size()), Section.num(rawMedian),
                range(raw), Section.num(shaleMedian), range(shale), Section.ratio(shaleMedian, rawMedian),
                Section.verdict(true, shaleMedian >= 0.9 * rawMedian)});
        }
        out.table(new String[] {"store", "rounds", "raw GET MB/s", "raw range", "Shale read MB/s", "Shale range",
            "Shale ÷ raw", "≥ 0.9×"}, "lrrrrrrl", rows);

        out.heading("GETs made");
        rows = new ArrayList<>();
        for (Result r : results) {
            Round last = r.rounds().get(r.rounds().size() - 1);
            Counts c = last.shaleCounts();
            long dataGets = c.calls(Op.GET, Area.DATA);
            rows.add(new String[] {r.label(), Section.count(r.objects()) + " (" + Section.bytes(r.objectBytes()) + ")",
                Section.count(last.rawGets()), Section.bytes((double) last.rawBytes() / last.rawGets()),
                Section.count(dataGets), dataGets == 0 ? null : Section.bytes((double) c.bytesGot(Area.DATA) / dataGets),
                Section.count(c.calls(Op.GET) - dataGets), Section.ratio(c.bytesGot(), last.shaleBytes()),
                c.failuresText()});
        }
        out.table(new String[] {"store", "data objects", "raw GETs", "raw avg GET", "Shale data GETs", "Shale avg GET",
            "Shale other GETs", "fetched ÷ returned", "failed calls (reason)"}, "lrrrrrrrr", rows);
        out.paragraph("Counts of the last round. Shale's GETs are counted from the read-only store's open onwards, minus"
                + " what opening it took (manifest reads).");

        out.note("Readahead keeps its window across objects (a run ends at the object's end, so a GET never spans two"
                + " objects: with " + Section.bytes(config.uploadBytes()) + " upload objects, GETs are at most that), and"
                + " once the reader is half way through a window the next one is fetched in the background. The block"
                + " cache is LRU: readahead blocks stay until read (fetched ÷ returned is the indexes' share and"
                + " nothing re-fetched).");
        out.note("The local directory store reads from the page cache here (its files were just written): this compares"
                + " CPU paths, not disks.");
        out.note("S3Proxy runs in this JVM on localhost: no network latency, so per-GET overheads weigh less than on S3.");
    }

    private static String range(double[] v) {
        double min = Arrays.stream(v).min().orElse(Double.NaN);
        double max = Arrays.stream(v).max().orElse(Double.NaN);
        return Section.num(min) + "–" + Section.num(max);
    }
}
