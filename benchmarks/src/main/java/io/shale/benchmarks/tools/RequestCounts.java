package io.shale.benchmarks.tools;

import io.shale.benchmarks.shale.ShaleBatches;
import io.shale.benchmarks.tools.CountingObjectStore.Area;
import io.shale.benchmarks.tools.CountingObjectStore.Counts;
import io.shale.benchmarks.tools.CountingObjectStore.Op;
import io.shale.log.LogStore;
import io.shale.log.StoreConfig;
import io.shale.log.TopicConfig;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Object-store requests per GiB written and per GiB read back cold, at 1, 100 and 10,000
 * partitions, for the embedded default (local directory + file WAL) and for S3 (S3ObjectStore over
 * the in-process S3Proxy + the object WAL); plus the metadata share of stored bytes and PUTs per
 * GiB against the target (at most 1.1 x (1 GiB / upload.bytes)).
 *
 * <p>For each store and partition count, in one run: open a writable store whose object store is
 * wrapped in a {@link CountingObjectStore}, create one topic, append {@code --bytes} of 16 x 1 KiB
 * batches round-robin over the partitions ({@code --in-flight} appends in flight), flush and close;
 * list what is stored; then open a fresh read-only store on the same objects (empty caches) and read
 * every partition from its log start offset to its high watermark. Counts are SPI calls, i.e.
 * attempts under the engine's retry wrapper; for S3 the HTTP requests are counted as well.
 *
 * <pre>
 * java -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/measure-lib/*' \
 *     io.shale.benchmarks.tools.RequestCounts [--bytes 256m] [--partitions 1,100,10000] [--stores local,s3]
 * </pre>
 */
public final class RequestCounts extends Tool {
    static final String TOPIC = "counts";
    static final double GIB = 1L << 30;
    /** Compaction is left out of the counts: its rewrites depend on timing, not on the workload. */
    static final long COMPACTION_OFF_MS = 24L * 3600 * 1000;
    /** Compaction interval while rolling segments for {@code --roll-segment-ms}, and how often the tool checks on it. */
    static final long ROLL_CHECK_MS = 1000;

    public static void main(String[] args) {
        new RequestCounts().execute(args);
    }

    @Override
    String id() {
        return "requests";
    }

    @Override
    String title() {
        return "Object-store requests per GiB written and read (RequestCounts)";
    }

    @Override
    Set<String> options() {
        return Set.of("bytes", "partitions", "stores", "record-bytes", "records-per-batch", "in-flight", "read-threads",
                "read-bytes", "read-partitions", "s3-backend", "roll-segment-ms");
    }

    @Override
    String usage() {
        return """
                usage: RequestCounts [--smoke] [--bytes 256m] [--partitions 1,100,10000] [--stores local,s3]
                                     [--record-bytes 1024] [--records-per-batch 16] [--in-flight 1024]
                                     [--read-threads 4] [--read-bytes 1m] [--read-partitions 100]
                                     [--s3-backend filesystem|transient] [--out benchmarks/MEASUREMENTS.md|-]
                                     [--command TEXT] [--roll-segment-ms N]
                  --bytes            batch bytes appended per store and partition count (--smoke: 4m); counts are per GiB
                  --read-partitions  cold reads read at most this many partitions, evenly spaced (all of their data)
                  --roll-segment-ms  create the topic with this segment.ms, and between the writes and the cold read
                                     let compaction roll every partition's runs into per-partition segments (its
                                     requests are counted apart); default: no roll (reads from the upload objects)""";
    }

    /** Everything measured for one store and partition count. */
    private record Result(String store, String label, int partitions, Counts setup, Counts write, Counts readOpen,
            Counts read, Counts roll, double rollSeconds,
            Map<String, Long> httpWrite, Map<String, Long> httpRead, long appendedBytes, double appendSeconds,
            int partitionsRead, long readBytes, double readSeconds, long[] storedObjects, long[] storedBytes) {
    }

    @Override
    void run(Args args, boolean smoke, Path dir, Section out) throws Exception {
        long bytes = args.bytes("bytes", smoke ? 4L << 20 : 256L << 20);
        List<Integer> partitionCounts = args.integers("partitions", List.of(1, 100, 10_000));
        List<String> stores = args.words("stores", List.of(Backend.LOCAL, Backend.S3), Set.of(Backend.LOCAL, Backend.S3));
        int recordBytes = args.integer("record-bytes", 1024);
        int recordsPerBatch = args.integer("records-per-batch", 16);
        int inFlight = args.integer("in-flight", 1024);
        int readThreads = args.integer("read-threads", 4);
        int readBytes = (int) args.bytes("read-bytes", 1 << 20);
        int readPartitions = args.integer("read-partitions", 100);
        String s3Backend = args.string("s3-backend", "filesystem");
        long rollSegmentMs = args.integer("roll-segment-ms", -1);
        Map<String, Object> settings = Map.of(StoreConfig.COMPACTION_INTERVAL_MS, COMPACTION_OFF_MS);
        StoreConfig config = StoreConfig.of(settings);

        List<Result> results = new ArrayList<>();
        S3Env s3 = stores.contains(Backend.S3) ? S3Env.start(s3Backend) : null;
        try {
            for (String kind : stores) {
                for (int partitions : partitionCounts) {
                    String name = "requests-" + kind + "-" + partitions;
                    Backend backend = kind.equals(Backend.LOCAL) ? Backend.local(dir.resolve(name)) : Backend.s3(s3, name);
                    System.err.printf("== %s, %,d partitions: appending %,d bytes%n", backend.label(), partitions, bytes);
                    results.add(measure(backend, config, partitions, bytes, recordBytes, recordsPerBatch, inFlight,
                            readThreads, readBytes, readPartitions, rollSegmentMs));
                }
            }
        } finally {
            if (s3 != null) {
                s3.close();
            }
        }
        report(out, results, config, bytes, recordBytes, recordsPerBatch, inFlight, readThreads, readBytes, readPartitions,
                rollSegmentMs);
    }

    private static Result measure(Backend backend, StoreConfig config, int partitions, long bytes, int recordBytes,
            int recordsPerBatch, int inFlight, int readThreads, int readBytes, int readPartitions, long rollSegmentMs)
            throws InterruptedException {
        // ---- write
        CountingObjectStore writes = new CountingObjectStore(backend.newObjectStore());
        Counts setup;
        Traffic.Appended appended;
        Map<String, Long> http1;
        try (LogStore store = LogStore.builder().objectStore(writes).wal(backend.newWal()).config(config).open()) {
            if (rollSegmentMs >= 0) {
                store.createTopic(TOPIC, partitions, Map.of(TopicConfig.SEGMENT_MS, Math.max(1, rollSegmentMs)));
            } else {
                store.createTopic(TOPIC, partitions);
            }
            setup = writes.snapshot();
            http1 = http(backend);
            Traffic traffic = new Traffic(store, TOPIC, partitions, recordsPerBatch, recordBytes);
            appended = traffic.appendBytes(inFlight, bytes);
            store.flush();
        }
        Counts write = writes.snapshot().minus(setup);
        Map<String, Long> http2 = http(backend);

        // ---- roll: compaction rewrites every partition's runs into per-partition segments
        Counts roll = null;
        double rollSeconds = 0;
        if (rollSegmentMs >= 0) {
            CountingObjectStore rolls = new CountingObjectStore(backend.newObjectStore());
            StoreConfig rollConfig = config.with(StoreConfig.COMPACTION_INTERVAL_MS, ROLL_CHECK_MS);
            long t0 = System.nanoTime();
            try (LogStore store = LogStore.builder().objectStore(rolls).wal(backend.newWal()).config(rollConfig).open()) {
                Thread.sleep(Math.max(0, rollSegmentMs));
                awaitRolled(rolls, partitions);
            }
            rollSeconds = (System.nanoTime() - t0) / 1e9;
            roll = rolls.snapshot();
        }

        // ---- what is stored (the tool's own listing: not counted)
        long[] objects = new long[Area.values().length];
        long[] stored = new long[Area.values().length];
        try (ObjectStore raw = backend.newObjectStore()) {
            for (Area a : Area.values()) {
                if (a != Area.OTHER) {
                    listAll(raw, a.prefix, objects, stored, a.ordinal());
                }
            }
        }

        // ---- cold read: a fresh read-only instance has empty log and block caches
        Map<String, Long> http3;
        CountingObjectStore reads = new CountingObjectStore(backend.newObjectStore());
        int[] sample = Traffic.sample(partitions, readPartitions);
        long readTotal;
        double readSeconds;
        Counts readOpen;
        try (LogStore reader = LogStore.builder().objectStore(reads).readOnly(true).config(config).open()) {
            readOpen = reads.snapshot();
            http3 = http(backend);
            long t0 = System.nanoTime();
            readTotal = Traffic.read(reader, TOPIC, sample, readBytes, readThreads);
            readSeconds = (System.nanoTime() - t0) / 1e9;
        }
        Counts read = reads.snapshot().minus(readOpen);
        Map<String, Long> http4 = http(backend);
        if (sample.length == partitions && readTotal != appended.batchBytes()) {
            throw new IllegalStateException("read back " + readTotal + " bytes of " + appended.batchBytes() + " appended");
        }
        return new Result(backend.name(), backend.label(), partitions, setup, write, readOpen, read, roll, rollSeconds,
                S3RequestCounter.minus(http2, http1),
                S3RequestCounter.minus(http4, http3), appended.batchBytes(), appended.seconds(), sample.length, readTotal,
                readSeconds,
                objects, stored);
    }

    /**
     * Waits until compaction has rolled the partitions: a segment PUT per partition (each holds less
     * than segment.bytes) and then no data PUT for three compaction intervals (merges of what is
     * left done). Fails after 15 minutes.
     */
    private static void awaitRolled(CountingObjectStore rolls, int partitions) throws InterruptedException {
        long deadline = System.nanoTime() + 15L * 60 * 1_000_000_000L;
        long last = -1;
        int quiet = 0;
        while (quiet < 3) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("compaction wrote " + rolls.snapshot().puts(Area.DATA)
                        + " data objects in 15 minutes; expected a segment for each of " + partitions + " partitions");
            }
            Thread.sleep(ROLL_CHECK_MS);
            long puts = rolls.snapshot().puts(Area.DATA);
            quiet = puts >= partitions && puts == last ? quiet + 1 : 0;
            last = puts;
        }
    }

    private static Map<String, Long> http(Backend backend) {
        return backend.requests().map(S3RequestCounter::snapshot).orElse(Map.of());
    }

    private static void listAll(ObjectStore store, String prefix, long[] objects, long[] bytes, int slot) {
        String after = null;
        do {
            ListPage page = store.list(prefix, after, 1000).join();
            for (ObjectInfo o : page.objects()) {
                objects[slot]++;
                bytes[slot] += o.size();
            }
            after = page.nextStartAfter();
        } while (after != null);
    }

    // ------------------------------------------------------------------ report

    private static void report(Section out, List<Result> results, StoreConfig config, long bytes, int recordBytes,
            int recordsPerBatch, int inFlight, int readThreads, int readBytes, int readPartitions, long rollSegmentMs) {
        long uploadBytes = config.uploadBytes();
        double referencePuts = GIB / uploadBytes;
        double goal = 1.1 * referencePuts;
        int batchBytes = ShaleBatches.batch(recordsPerBatch, recordBytes).remaining();

        out.paragraph(String.format(Locale.ROOT,
                "Per store and partition count: append %s of %d x %,d B record batches (%,d B each as stored) round-robin over"
                        + " the partitions with %,d appends in flight, flush, close; then read partitions back from a fresh"
                        + " read-only store on the same objects (empty caches): all of them, or %,d evenly spaced ones when"
                        + " there are more, each from its log start offset to its high watermark, %d reader threads, %s per"
                        + " read. \"Per GiB\" divides"
                        + " by the GiB (2^30 B) of record batches appended, or read. Counts are object-store SPI calls made by"
                        + " the engine (each attempt under its retry wrapper), including the object WAL's.",
                Section.bytes(bytes), recordsPerBatch, recordBytes, batchBytes, inFlight, readPartitions, readThreads,
                Section.bytes(readBytes)));

        out.heading("Writes: requests per GiB appended");
        List<String[]> rows = new ArrayList<>();
        for (Result r : results) {
            double gib = r.appendedBytes() / GIB;
            Counts w = r.write();
            rows.add(new String[] {r.label(), Section.count(r.partitions()),
                Section.num(r.appendedBytes() / 1e6 / r.appendSeconds()),
                Section.num(w.puts() / gib), Section.num(w.puts(Area.DATA) / gib), Section.num(w.puts(Area.MANIFEST) / gib),
                Section.num(w.puts(Area.WAL) / gib), Section.num(w.calls(Op.GET) / gib), Section.num(w.calls(Op.LIST) / gib),
                Section.num(w.calls(Op.HEAD) / gib), Section.num(w.calls(Op.DELETE) / gib),
                Section.num(w.deletedKeys() / gib), w.failuresText()});
        }
        out.table(new String[] {"store", "partitions", "ingest MB/s (batches)", "PUT", "data/ PUT", "manifest/ PUT", "wal/ PUT", "GET",
            "LIST", "HEAD", "DELETE calls", "keys deleted", "failed calls (reason)"}, "lrrrrrrrrrrrr", rows);

        out.heading("PUTs per GiB against the target");
        rows = new ArrayList<>();
        for (Result r : results) {
            double gib = r.appendedBytes() / GIB;
            Counts w = r.write();
            double all = w.puts() / gib;
            double data = w.puts(Area.DATA) / gib;
            long dataPuts = w.puts(Area.DATA);
            rows.add(new String[] {r.label(), Section.count(r.partitions()),
                dataPuts == 0 ? null : Section.bytes((double) w.bytesPut(Area.DATA) / dataPuts),
                Section.num(data), Section.ratio(data, referencePuts), Section.num(all), Section.ratio(all, referencePuts),
                Section.verdict(true, data <= goal), Section.verdict(true, all <= goal)});
        }
        out.table(new String[] {"store", "partitions", "avg data object", "data/ PUTs per GiB", "÷ (1 GiB / upload.bytes)",
            "all PUTs per GiB", "÷ (1 GiB / upload.bytes)", "data/ ≤ 1.1×", "all ≤ 1.1×"}, "lrrrrrrll", rows);
        out.paragraph(String.format(Locale.ROOT,
                "Target: PUTs per GiB ingested at most 1.1 × (1 GiB / target object size) = %s with upload.bytes = %s,"
                        + " from 1 to 100,000 partitions. \"all\" also counts the manifest commit after each upload and the"
                        + " object WAL's PUTs; \"data/\" counts only data objects.",
                Section.num(goal), Section.bytes(uploadBytes)));

        if (rollSegmentMs >= 0) {
            out.heading("Segment rolls before the cold read: what rolling sooner costs");
            rows = new ArrayList<>();
            for (Result r : results) {
                double gib = r.appendedBytes() / GIB;
                Counts c = r.roll();
                rows.add(new String[] {r.label(), Section.count(r.partitions()), Section.num(r.rollSeconds()),
                    Section.num(c.puts(Area.DATA) / gib), Section.num(c.puts(Area.MANIFEST) / gib), Section.num(c.puts() / gib),
                    Section.ratio(c.bytesPut(Area.DATA), r.appendedBytes()), Section.num(c.calls(Op.GET, Area.DATA) / gib),
                    Section.ratio(c.bytesGot(Area.DATA), r.appendedBytes()), c.failuresText()});
            }
            out.table(new String[] {"store", "partitions", "roll s", "data/ PUT per GiB", "manifest/ PUT per GiB",
                "all PUT per GiB", "bytes rewritten ÷ appended", "data/ GET per GiB", "bytes read ÷ appended",
                "failed calls (reason)"}, "lrrrrrrrrl", rows);
            out.paragraph(String.format(Locale.ROOT, "The topic was created with segment.ms = %,d ms; after the writer"
                    + " closed, a writable store on the same objects ran compaction every %,d ms until every partition had"
                    + " a segment and no data PUT came for three intervals. Per GiB appended; the cold read below reads"
                    + " the segments.", Math.max(1, rollSegmentMs), ROLL_CHECK_MS));
        }

        out.heading("Cold reads: requests per GiB read back");
        rows = new ArrayList<>();
        Map<String, Double> onePartitionGets = new java.util.HashMap<>();
        for (Result r : results) {
            if (r.partitions() == 1) {
                onePartitionGets.put(r.label(), r.read().calls(Op.GET) / (r.readBytes() / GIB));
            }
        }
        for (Result r : results) {
            double gib = r.readBytes() / GIB;
            Counts c = r.read();
            long gets = c.calls(Op.GET);
            Double one = onePartitionGets.get(r.label());
            rows.add(new String[] {r.label(), Section.count(r.partitions()), Section.count(r.partitionsRead()),
                Section.num(r.readBytes() / 1e6 / r.readSeconds()),
                Section.num(gets / gib), Section.num(c.calls(Op.GET, Area.DATA) / gib),
                gets == 0 ? null : Section.bytes((double) c.bytesGot() / gets),
                Section.ratio(c.bytesGot(), r.readBytes()),
                one == null ? null : Section.ratio(gets / gib, one),
                Section.num(c.calls(Op.LIST) / gib), Section.num(c.calls(Op.HEAD) / gib), Section.count(c.puts()),
                c.failuresText()});
        }
        out.table(new String[] {"store", "partitions", "read", "read MB/s (batches)", "GET", "data/ GET", "avg GET",
            "fetched ÷ returned", "GET ÷ 1 partition's", "LIST", "HEAD", "PUT (total)", "failed calls (reason)"},
                "lrrrrrrrrrrrr", rows);
        out.paragraph("Read-phase counts run from the end of the read-only store's open to its close (its periodic"
                + " manifest refresh included); what the open itself took is in the setup table below.");

        out.heading("Stored bytes: metadata share");
        rows = new ArrayList<>();
        for (Result r : results) {
            long data = r.storedBytes()[Area.DATA.ordinal()];
            long manifest = r.storedBytes()[Area.MANIFEST.ordinal()];
            double share = data == 0 ? Double.NaN : (double) manifest / data;
            rows.add(new String[] {r.label(), Section.count(r.partitions()),
                Section.bytes(data) + " in " + Section.count(r.storedObjects()[Area.DATA.ordinal()]),
                Section.bytes(manifest) + " in " + Section.count(r.storedObjects()[Area.MANIFEST.ordinal()]),
                Section.percent(share), Section.verdict(!Double.isNaN(share), share <= 0.01),
                Section.bytes(r.storedBytes()[Area.WAL.ordinal()]) + " in " + Section.count(r.storedObjects()[Area.WAL.ordinal()])});
        }
        out.table(new String[] {"store", "partitions", "data/ (objects)", "manifest/ (objects)", "manifest ÷ data",
            "≤ 1 %", "wal/ left (objects)"}, "lrrrrll", rows);
        out.paragraph("Listed after the writer closed. Target: metadata at most 1 % of stored bytes.");

        out.heading("Setup: opening the writer and creating the topic; opening the reader");
        rows = new ArrayList<>();
        for (Result r : results) {
            Counts s = r.setup();
            Counts o = r.readOpen();
            rows.add(new String[] {r.label(), Section.count(r.partitions()), Section.count(s.puts()),
                Section.count(s.calls(Op.GET)), Section.count(s.calls(Op.LIST)), Section.count(s.calls(Op.HEAD)),
                Section.bytes(s.bytesPut(Area.MANIFEST)), Section.count(o.calls(Op.GET)), Section.count(o.calls(Op.LIST)),
                Section.bytes(o.bytesGot())});
        }
        out.table(new String[] {"store", "partitions", "writer PUT", "writer GET", "writer LIST", "writer HEAD",
            "manifest bytes written", "reader GET", "reader LIST", "reader bytes read"}, "lrrrrrrrrr", rows);
        out.paragraph("Not included in the per-GiB figures above.");

        List<Result> s3 = results.stream().filter(r -> r.store().equals(Backend.S3)).toList();
        if (!s3.isEmpty()) {
            out.heading("S3: HTTP requests per GiB");
            Set<String> ops = new TreeSet<>();
            for (Result r : s3) {
                ops.addAll(r.httpWrite().keySet());
                ops.addAll(r.httpRead().keySet());
            }
            List<String> header = new ArrayList<>(List.of("partitions", "phase"));
            header.addAll(ops);
            rows = new ArrayList<>();
            for (Result r : s3) {
                rows.add(httpRow(r.partitions(), "write", r.httpWrite(), ops, r.appendedBytes() / GIB));
                rows.add(httpRow(r.partitions(), "cold read", r.httpRead(), ops, r.readBytes() / GIB));
            }
            out.table(header.toArray(String[]::new), "ll" + "r".repeat(ops.size()), rows);
            out.paragraph("What S3 would bill: one SPI put larger than the S3 store's multipart threshold (64 MiB) is"
                    + " CreateMultipartUpload + UploadParts + CompleteMultipartUpload.");
        }

        out.note("Store settings: defaults (upload.bytes " + Section.bytes(config.uploadBytes()) + ", upload.interval.ms "
                + config.uploadIntervalMs() + ", log.cache.bytes " + Section.bytes(config.logCacheBytes())
                + ", readahead.max.bytes " + Section.bytes(config.readaheadMaxBytes())
                + ") except compaction.interval.ms = 24 h: compaction's rewrites are not in these counts. Object WAL"
                + " defaults: flush every 250 ms or 8 MiB.");
        out.note("Uploads are triggered by upload.bytes or every upload.interval.ms, whichever comes first: below "
                + Section.num(config.uploadBytes() / 1e6 / (config.uploadIntervalMs() / 1000.0))
                + " MB/s of ingest, objects are smaller than upload.bytes and PUTs per GiB rise (see \"avg data object\").");
        out.note("Cold reads: blocks hold one partition, objects hold many. A read fetches its partition's run of an"
                + " object, and more with the same GET: the runs other readers are positioned in (while the bytes between"
                + " stay under a tenth), or, when readers go through the object partition after partition (in several"
                + " threads, not in step), as many of the next partitions' bytes as were fetched before, the GETs"
                + " doubling; a walk that reaches an object's end starts the next object's walk at its last GET's size."
                + " Readers of a sparse sample of partitions (100 of 10,000 here, a run of a few KiB each per object,"
                + " about 99 unread runs apart) still need a GET per partition per object: reading the object whole would"
                + " fetch about 100 times what they use, and with one or two batches per partition even a per-partition"
                + " segment is one GET of a few tens of KiB. \"GET ÷ 1 partition's\""
                + " compares with the same store's 1-partition row; \"fetched ÷ returned\" counts every GET's bytes"
                + " (indexes and manifests included) against the batches returned.");
        out.note("The local directory store reads from the page cache here (its files were just written).");
    }

    private static String[] httpRow(int partitions, String phase, Map<String, Long> counts, Set<String> ops, double gib) {
        List<String> row = new ArrayList<>(List.of(Section.count(partitions), phase));
        for (String op : ops) {
            long n = counts.getOrDefault(op, 0L);
            row.add(n == 0 ? "0" : Section.num(n / gib));
        }
        return row.toArray(String[]::new);
    }
}
