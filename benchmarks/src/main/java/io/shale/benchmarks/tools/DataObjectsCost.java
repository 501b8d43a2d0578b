package io.shale.benchmarks.tools;

import io.shale.benchmarks.shale.ShaleBatches;
import io.shale.benchmarks.tools.CountingObjectStore.Area;
import io.shale.benchmarks.tools.CountingObjectStore.Counts;
import io.shale.benchmarks.tools.CountingObjectStore.Op;
import io.shale.log.LogStore;
import io.shale.log.StoreConfig;
import io.shale.log.TopicConfig;
import io.shale.log.spi.ObjectStore;
import io.shale.log.wal.ObjectWriteAheadLog;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * What the object WAL's data-objects layout ({@code ObjectWriteAheadLog.builder().dataObjects(true)},
 * RFC 0006) costs readers and compaction, side by side with its default (upload) layout, for the
 * same workload in one run.
 *
 * <p>For each object store ({@code s3}: S3ObjectStore over the in-process S3Proxy; {@code local}:
 * the local-directory store), each mode ({@code upload}, {@code data-objects}) and each partition
 * count (the 1-partition store is the reference of the GETs-per-GiB goal): open a writable store
 * with the object WAL (250 ms / 8 MiB) whose object store is wrapped in a {@link CountingObjectStore},
 * append {@code --bytes} of 16 x 1 KiB batches round-robin over the partitions, flush and close.
 * Then, each from a fresh read-only store (empty caches) on the same objects: read partition 0 whole
 * (a catch-up read of one partition), and read every partition whole (4 threads). Then let a
 * writable store's compaction roll every partition's runs into per-partition segments
 * ({@code segment.ms} is 1 s) and count what it read and wrote; then read every partition again
 * from the segments.
 *
 * <pre>
 * java -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/measure-lib/*' \
 *     io.shale.benchmarks.tools.DataObjectsCost [--bytes 256m] [--partitions 1,64] [--stores s3]
 * </pre>
 */
public final class DataObjectsCost extends Tool {
    private static final String TOPIC = "cost";
    private static final double GIB = 1L << 30;
    private static final List<String> MODES = List.of("upload", "data-objects");
    /** segment.ms of the topic: compaction rolls runs older than this into per-partition segments. */
    private static final int SEGMENT_MS = 1000;

    public static void main(String[] args) {
        new DataObjectsCost().execute(args);
    }

    @Override
    String id() {
        return "dataobjects";
    }

    @Override
    String title() {
        return "Object WAL with data objects: cold-read and compaction cost against uploads (DataObjectsCost)";
    }

    @Override
    Set<String> options() {
        return Set.of("bytes", "partitions", "stores", "in-flight", "record-bytes", "records-per-batch", "read-threads",
                "read-bytes", "upload-bytes", "data-upload-bytes", "s3-backend");
    }

    @Override
    String usage() {
        return """
                usage: DataObjectsCost [--smoke] [--bytes 256m] [--partitions 1,64] [--stores s3|local|s3,local]
                                       [--in-flight 512] [--record-bytes 1024] [--records-per-batch 16]
                                       [--read-threads 4] [--read-bytes 1m] [--upload-bytes 16m]
                                       [--data-upload-bytes 64m] [--s3-backend filesystem|transient]
                                       [--out FILE|-] [--command TEXT]
                  --bytes               batch bytes appended per store, mode and partition count (--smoke: 8m)
                  --partitions          partition counts; the 1-partition store is the GETs-per-GiB reference
                  --upload-bytes        upload.bytes in the upload mode (default: the store default, 16m)
                  --data-upload-bytes   upload.bytes with data objects (how much WAL data one manifest commit
                                        covers; README recommends a few times the WAL's 8 MiB)""";
    }

    /** One phase's counts and the batch bytes it returned (reads) or that were appended. */
    private record Phase(Counts counts, long bytes, double seconds) {
    }

    private record Result(String store, String mode, int partitions, long appended, Phase write, Phase readOne,
            Phase readAll, Phase compaction, Phase readAfter) {
    }

    @Override
    void run(Args args, boolean smoke, Path dir, Section out) throws Exception {
        long bytes = args.bytes("bytes", smoke ? 8L << 20 : 256L << 20);
        List<Integer> partitionCounts = args.integers("partitions", List.of(1, 64));
        List<String> stores = args.words("stores", List.of(Backend.S3), Set.of(Backend.LOCAL, Backend.S3));
        int inFlight = args.integer("in-flight", 512);
        int recordBytes = args.integer("record-bytes", 1024);
        int recordsPerBatch = args.integer("records-per-batch", 16);
        int readThreads = args.integer("read-threads", 4);
        int readBytes = (int) args.bytes("read-bytes", 1 << 20);
        long uploadBytes = args.bytes("upload-bytes", 16L << 20);
        long dataUploadBytes = args.bytes("data-upload-bytes", 64L << 20);
        String s3Backend = args.string("s3-backend", "filesystem");
        StoreConfig base = StoreConfig.of(Map.of(StoreConfig.COMPACTION_INTERVAL_MS, RequestCounts.COMPACTION_OFF_MS));

        List<Result> results = new ArrayList<>();
        S3Env s3 = stores.contains(Backend.S3) ? S3Env.start(s3Backend) : null;
        try {
            for (String kind : stores) {
                for (int partitions : partitionCounts) {
                    for (String mode : MODES) {
                        String name = "dataobjects-" + kind + "-" + mode + "-" + partitions;
                        Supplier<ObjectStore> objects = kind.equals(Backend.S3)
                                ? () -> s3.store(name, new S3RequestCounter())
                                : () -> LocalDirectoryObjectStore.open(dir.resolve(name));
                        boolean dataObjects = mode.equals("data-objects");
                        StoreConfig config = base.with(StoreConfig.UPLOAD_BYTES, dataObjects ? dataUploadBytes : uploadBytes);
                        System.err.printf("== %s, %s, %,d partitions: appending %,d bytes%n", kind, mode, partitions, bytes);
                        results.add(measure(kind, mode, objects, config, partitions, bytes, inFlight, recordBytes,
                                recordsPerBatch, readThreads, readBytes));
                    }
                }
            }
        } finally {
            if (s3 != null) {
                s3.close();
            }
        }
        report(out, results, bytes, inFlight, recordBytes, recordsPerBatch, readThreads, readBytes, uploadBytes,
                dataUploadBytes, s3 == null ? null : s3.backendName());
    }

    private static ObjectWriteAheadLog wal(String mode) {
        return ObjectWriteAheadLog.builder().dataObjects(mode.equals("data-objects")).build();
    }

    private static Result measure(String kind, String mode, Supplier<ObjectStore> objects, StoreConfig config,
            int partitions, long bytes, int inFlight, int recordBytes, int recordsPerBatch, int readThreads, int readBytes)
            throws InterruptedException {
        // ---- write
        CountingObjectStore writes = new CountingObjectStore(objects.get());
        Traffic.Appended appended;
        Counts setup;
        try (LogStore store = LogStore.builder().objectStore(writes).wal(wal(mode)).config(config).open()) {
            store.createTopic(TOPIC, partitions, Map.of(TopicConfig.SEGMENT_MS, SEGMENT_MS));
            setup = writes.snapshot();
            appended = new Traffic(store, TOPIC, partitions, recordsPerBatch, recordBytes).appendBytes(inFlight, bytes);
            store.flush();
        }
        Phase write = new Phase(writes.snapshot().minus(setup), appended.batchBytes(), appended.seconds());

        // ---- cold catch-up reads from the first-level objects
        Phase readOne = partitions == 1 ? null : read(objects, config, new int[] {0}, readBytes, 1);
        Phase readAll = read(objects, config, Traffic.sample(partitions, partitions), readBytes, readThreads);
        if (readAll.bytes() != appended.batchBytes()) {
            throw new IllegalStateException("read back " + readAll.bytes() + " bytes of " + appended.batchBytes()
                    + " appended (" + kind + ", " + mode + ", " + partitions + " partitions)");
        }
        if (readOne == null) {
            readOne = readAll;
        }

        // ---- compaction: roll every partition's runs into per-partition segments
        CountingObjectStore rolls = new CountingObjectStore(objects.get());
        StoreConfig rollConfig = config.with(StoreConfig.COMPACTION_INTERVAL_MS, RequestCounts.ROLL_CHECK_MS);
        long t0 = System.nanoTime();
        Counts rollOpen;
        try (LogStore store = LogStore.builder().objectStore(rolls).wal(wal(mode)).config(rollConfig).open()) {
            rollOpen = rolls.snapshot();
            Thread.sleep(SEGMENT_MS);
            awaitRolled(rolls, partitions);
        }
        Phase compaction = new Phase(rolls.snapshot().minus(rollOpen), 0, (System.nanoTime() - t0) / 1e9);

        Phase readAfter = read(objects, config, Traffic.sample(partitions, partitions), readBytes, readThreads);
        if (readAfter.bytes() != appended.batchBytes()) {
            throw new IllegalStateException("after compaction, read back " + readAfter.bytes() + " bytes of "
                    + appended.batchBytes() + " appended (" + kind + ", " + mode + ", " + partitions + " partitions)");
        }
        return new Result(kind, mode, partitions, appended.batchBytes(), write, readOne, readAll, compaction, readAfter);
    }

    /** Reads {@code sample} whole from a fresh read-only store (empty caches); counts from after its open. */
    private static Phase read(Supplier<ObjectStore> objects, StoreConfig config, int[] sample, int readBytes, int threads)
            throws InterruptedException {
        CountingObjectStore reads = new CountingObjectStore(objects.get());
        try (LogStore reader = LogStore.builder().objectStore(reads).readOnly(true).config(config).open()) {
            Counts open = reads.snapshot();
            long t0 = System.nanoTime();
            long got = Traffic.read(reader, TOPIC, sample, readBytes, threads);
            double seconds = (System.nanoTime() - t0) / 1e9;
            return new Phase(reads.snapshot().minus(open), got, seconds);
        }
    }

    /**
     * Waits until compaction has rolled the partitions: a segment PUT per partition and then, for
     * three compaction intervals, no data PUT started and no byte fetched (a segment's PUT streams
     * its sources with GETs while it runs, so a long PUT in progress is not taken for the end).
     * Fails after 15 minutes.
     */
    private static void awaitRolled(CountingObjectStore rolls, int partitions) throws InterruptedException {
        long deadline = System.nanoTime() + 15L * 60 * 1_000_000_000L;
        long lastPuts = -1;
        long lastGot = -1;
        int quiet = 0;
        while (quiet < 3) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("compaction wrote " + rolls.snapshot().puts(Area.DATA)
                        + " data objects in 15 minutes; expected a segment for each of " + partitions + " partitions");
            }
            Thread.sleep(RequestCounts.ROLL_CHECK_MS);
            Counts now = rolls.snapshot();
            long puts = now.puts(Area.DATA);
            long got = now.bytesGot();
            quiet = puts >= partitions && puts == lastPuts && got == lastGot ? quiet + 1 : 0;
            lastPuts = puts;
            lastGot = got;
        }
    }

    // ------------------------------------------------------------------ report

    private static String gets(Phase p) {
        return Section.num(p.counts().calls(Op.GET) / (p.bytes() / GIB));
    }

    private static double getsPerGib(Phase p) {
        return p.counts().calls(Op.GET) / (p.bytes() / GIB);
    }

    private static double overFetch(Phase p) {
        return (double) p.counts().bytesGot() / p.bytes();
    }

    private static void report(Section out, List<Result> results, long bytes, int inFlight, int recordBytes,
            int recordsPerBatch, int readThreads, int readBytes, long uploadBytes, long dataUploadBytes, String s3Backend) {
        int batchBytes = ShaleBatches.batch(recordsPerBatch, recordBytes).remaining();
        out.paragraph(String.format(Locale.ROOT,
                "Per object store, mode and partition count, in one run: append %s of %d x %,d B record batches (%,d B"
                        + " each as stored) round-robin over the partitions, %,d appends in flight, through the object WAL"
                        + " (flush every 250 ms or 8 MiB), flush, close. Modes: **upload** (the default: WAL objects,"
                        + " then the uploader PUTs data objects of upload.bytes = %s) and **data-objects**"
                        + " (`dataObjects(true)`: the WAL objects are committed as the first-level data objects;"
                        + " upload.bytes = %s sets how much WAL data one manifest commit covers). Then, each from a fresh"
                        + " read-only store on the same objects (empty caches): read partition 0 from offset 0 to its"
                        + " high watermark (1 reader), and read every partition the same way (%d threads), %s per read."
                        + " Then a writable store runs compaction (every %,d ms; the topic has segment.ms = %,d ms) until"
                        + " every partition's runs are rolled into per-partition segments, and every partition is read"
                        + " again from the segments. Per GiB divides by the GiB (2^30 B) of record batches returned (reads)"
                        + " or appended (compaction). Counts are object-store SPI calls (CountingObjectStore), each"
                        + " attempt, every area (data/, wal/, manifest/).",
                Section.bytes(bytes), recordsPerBatch, recordBytes, batchBytes, inFlight, Section.bytes(uploadBytes),
                Section.bytes(dataUploadBytes), readThreads, Section.bytes(readBytes), RequestCounts.ROLL_CHECK_MS,
                SEGMENT_MS));

        Map<String, Double> reference = new HashMap<>();
        for (Result r : results) {
            if (r.partitions() == 1) {
                reference.put(r.store() + "/" + r.mode(), getsPerGib(r.readAll()));
            }
        }

        out.heading("Writes (for context)");
        List<String[]> rows = new ArrayList<>();
        for (Result r : results) {
            Counts w = r.write().counts();
            double gib = r.appended() / GIB;
            long firstLevel = r.mode().equals("upload") ? w.puts(Area.DATA) : w.puts(Area.WAL);
            long firstLevelBytes = r.mode().equals("upload") ? w.bytesPut(Area.DATA) : w.bytesPut(Area.WAL);
            rows.add(new String[] {label(r), Section.count(r.partitions()), r.mode(),
                Section.num(r.appended() / 1e6 / r.write().seconds()), Section.num(w.puts() / gib),
                Section.ratio(w.bytesPut(Area.DATA) + w.bytesPut(Area.WAL), r.appended()),
                Section.count(firstLevel), firstLevel == 0 ? null : Section.bytes((double) firstLevelBytes / firstLevel)});
        }
        out.table(new String[] {"store", "partitions", "mode", "ingest MB/s", "PUT per GiB", "bytes PUT ÷ appended",
            "first-level objects", "avg first-level object"}, "lrlrrrrr", rows);

        out.heading("Cold catch-up reads from the first-level objects");
        rows = new ArrayList<>();
        for (Result r : results) {
            Double one = reference.get(r.store() + "/" + r.mode());
            Phase a = r.readAll();
            Phase o = r.readOne();
            boolean multi = r.partitions() > 1;
            rows.add(new String[] {label(r), Section.count(r.partitions()), r.mode(),
                multi ? gets(o) : null, multi ? Section.ratio(o.counts().bytesGot(), o.bytes()) : null,
                multi ? Section.num(o.bytes() / 1e6 / o.seconds()) : null,
                gets(a), Section.ratio(a.counts().bytesGot(), a.bytes()), Section.num(a.bytes() / 1e6 / a.seconds()),
                one == null ? null : Section.ratio(getsPerGib(a), one),
                Section.verdict(true, overFetch(a) <= 1.1 && (!multi || overFetch(o) <= 1.1)),
                one == null ? null : Section.verdict(true, getsPerGib(a) <= 3 * one)});
        }
        out.table(new String[] {"store", "partitions", "mode", "one partition: GET per GiB", "fetched ÷ returned",
            "MB/s", "all partitions: GET per GiB", "fetched ÷ returned", "MB/s", "GET ÷ 1-partition store's",
            "over-fetch ≤ 1.1×", "GET ≤ 3× 1-partition"}, "lrlrrrrrrrll", rows);

        out.heading("Data-objects against upload, same workload");
        rows = new ArrayList<>();
        for (Result d : results) {
            if (!d.mode().equals("data-objects")) {
                continue;
            }
            Result u = results.stream().filter(r -> r.mode().equals("upload") && r.store().equals(d.store())
                    && r.partitions() == d.partitions()).findFirst().orElse(null);
            if (u == null) {
                continue;
            }
            rows.add(new String[] {label(d), Section.count(d.partitions()),
                d.partitions() > 1 ? Section.ratio(getsPerGib(d.readOne()), getsPerGib(u.readOne())) : null,
                d.partitions() > 1 ? Section.ratio(overFetch(d.readOne()), overFetch(u.readOne())) : null,
                Section.ratio(getsPerGib(d.readAll()), getsPerGib(u.readAll())),
                Section.ratio(overFetch(d.readAll()), overFetch(u.readAll())),
                Section.ratio(d.compaction().counts().bytesGot() + d.compaction().counts().bytesPut(Area.DATA),
                        u.compaction().counts().bytesGot() + u.compaction().counts().bytesPut(Area.DATA)),
                Section.ratio(d.compaction().counts().puts(), u.compaction().counts().puts())});
        }
        out.table(new String[] {"store", "partitions", "one partition: GET per GiB", "fetched ÷ returned",
            "all partitions: GET per GiB", "fetched ÷ returned", "compaction bytes read + written", "compaction PUTs"},
                "lrrrrrrr", rows);
        out.paragraph("Each cell is the data-objects figure divided by the upload figure (below 1: data-objects costs less).");

        out.heading("Compaction into per-partition segments");
        rows = new ArrayList<>();
        for (Result r : results) {
            Counts c = r.compaction().counts();
            double gib = r.appended() / GIB;
            rows.add(new String[] {label(r), Section.count(r.partitions()), r.mode(), Section.num(r.compaction().seconds()),
                Section.ratio(c.bytesGot(), r.appended()), Section.ratio(c.bytesPut(Area.DATA), r.appended()),
                Section.ratio(c.bytesGot() + c.bytesPut(Area.DATA), r.appended()),
                Section.count(c.puts(Area.DATA)), Section.count(c.puts(Area.MANIFEST)), Section.num(c.puts() / gib),
                Section.num(c.calls(Op.GET) / gib), Section.count(c.deletedKeys()), c.failuresText()});
        }
        out.table(new String[] {"store", "partitions", "mode", "s", "bytes read ÷ appended", "bytes written ÷ appended",
            "read + written ÷ appended", "data/ PUTs", "manifest/ PUTs", "PUT per GiB", "GET per GiB", "keys deleted",
            "failed calls (reason)"}, "lrlrrrrrrrrrl", rows);
        out.paragraph("From the compacting store's open to its close; \"bytes read\" is every GET's bytes (source objects,"
                + " their indexes, the manifest), \"bytes written\" the data/ PUTs (segments). Seconds include waiting"
                + " for three quiet compaction intervals.");

        out.heading("Cold reads after compaction (from the segments)");
        rows = new ArrayList<>();
        for (Result r : results) {
            Phase a = r.readAfter();
            rows.add(new String[] {label(r), Section.count(r.partitions()), r.mode(), gets(a),
                Section.ratio(a.counts().bytesGot(), a.bytes()), Section.num(a.bytes() / 1e6 / a.seconds())});
        }
        out.table(new String[] {"store", "partitions", "mode", "all partitions: GET per GiB", "fetched ÷ returned", "MB/s"},
                "lrlrrr", rows);

        out.note("Goals of issue 12, item 3 (cold reads), applied to both modes: fetched ÷ returned ≤ 1.1, and GETs per GiB"
                + " reading many partitions within 3× of the 1-partition store's figure (same mode).");
        if (s3Backend != null) {
            out.note("S3Proxy backend: " + s3Backend + " (in-process, localhost): throughput figures are those of this"
                    + " machine, the request and byte counts are what a real bucket would be asked for.");
        }
    }

    private static String label(Result r) {
        return r.store().equals(Backend.S3) ? "S3Proxy + object WAL" : "local directory + object WAL";
    }
}
