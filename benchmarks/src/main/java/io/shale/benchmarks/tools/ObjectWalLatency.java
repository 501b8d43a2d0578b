package io.shale.benchmarks.tools;

import io.shale.benchmarks.shale.ShaleBatches;
import io.shale.benchmarks.tools.CountingObjectStore.Area;
import io.shale.benchmarks.tools.CountingObjectStore.Counts;
import io.shale.log.LogStore;
import io.shale.log.StoreConfig;
import io.shale.log.wal.ObjectWalMetrics;
import io.shale.log.wal.ObjectWriteAheadLog;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Durable-append latency and throughput with the object WAL ({@link ObjectWriteAheadLog}) over
 * {@code S3ObjectStore} against the in-process S3Proxy, with the store's PUT latency measured in
 * the same run, against the target: append p99 at most the flush interval plus 2 x the store's
 * PUT p99. Also PUTs per GiB in that mode, and, side by side in the same run, the object WAL
 * uploading its data again as data objects ({@code upload}, the default) against its objects
 * committed as the data objects ({@code data-objects}, {@link ObjectWriteAheadLog.Builder#dataObjects},
 * RFC 0006): PUTs per GiB, bytes PUT per byte appended, append p99.
 *
 * <p>For each {@code --in-flight} level: a fresh store (key prefix) with the object WAL, one topic
 * of {@code --partitions} partitions, appends of 16 x 1 KiB batches round-robin with that many
 * appends in flight for {@code --warmup-seconds}, then {@code --seconds} measured. Latency is from
 * the {@code appendBatch} call to its future's completion (durable: the WAL object's PUT succeeded
 * and the writer was checked not fenced), for every append started in the measured window. PUT
 * latency is each WAL-object PUT attempt from call to completion, timed by
 * {@link CountingObjectStore} under the engine's retry wrapper.
 *
 * <pre>
 * java -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/measure-lib/*' \
 *     io.shale.benchmarks.tools.ObjectWalLatency [--seconds 20] [--in-flight 64,512]
 * </pre>
 */
public final class ObjectWalLatency extends Tool {
    static final String TOPIC = "objectwal";
    static final double GIB = 1L << 30;

    public static void main(String[] args) {
        new ObjectWalLatency().execute(args);
    }

    @Override
    String id() {
        return "objectwal";
    }

    @Override
    String title() {
        return "Object-WAL append latency against S3 PUT latency (ObjectWalLatency)";
    }

    @Override
    Set<String> options() {
        return Set.of("seconds", "warmup-seconds", "in-flight", "partitions", "record-bytes", "records-per-batch",
                "flush-interval-ms", "flush-bytes", "max-in-flight-puts", "s3-backend", "modes", "upload-bytes",
                "data-upload-bytes");
    }

    @Override
    String usage() {
        return """
                usage: ObjectWalLatency [--smoke] [--seconds 20] [--warmup-seconds 5] [--in-flight 64,512]
                                        [--partitions 16] [--record-bytes 1024] [--records-per-batch 16]
                                        [--flush-interval-ms 250] [--flush-bytes 8m] [--max-in-flight-puts 4]
                                        [--s3-backend filesystem|transient] [--modes upload,data-objects]
                                        [--upload-bytes 16m] [--data-upload-bytes 64m] [--out FILE|-] [--command TEXT]
                  --modes: upload = the WAL's data is uploaded again as data objects (before RFC 0006);
                           data-objects = the WAL's objects are committed as the data objects
                  --upload-bytes / --data-upload-bytes: upload.bytes in each mode (with data objects it sets how
                           much WAL data one manifest commit covers)
                  --smoke: 3 s measured after 1 s warmup, in flight 16,64""";
    }

    private record Result(String mode, long uploadBytes, int inFlight, Latencies.Summary appends, Latencies.Summary walPuts, Latencies.Summary dataPuts,
            double windowSeconds, long windowBatchBytes, long recordedBatchBytes, Counts counts,
            Map<String, Long> http, long walObjects, long walBytes) {
    }

    @Override
    void run(Args args, boolean smoke, Path dir, Section out) throws Exception {
        int seconds = args.integer("seconds", smoke ? 3 : 20);
        int warmup = args.integer("warmup-seconds", smoke ? 1 : 5);
        List<Integer> levels = args.integers("in-flight", smoke ? List.of(16, 64) : List.of(64, 512));
        int partitions = args.integer("partitions", 16);
        int recordBytes = args.integer("record-bytes", 1024);
        int recordsPerBatch = args.integer("records-per-batch", 16);
        long flushIntervalMs = args.integer("flush-interval-ms", 250);
        long flushBytes = args.bytes("flush-bytes", 8L << 20);
        int maxPuts = args.integer("max-in-flight-puts", 4);
        String s3Backend = args.string("s3-backend", "filesystem");
        List<String> modes = List.of(args.string("modes", "upload,data-objects").split(","));
        for (String m : modes) {
            if (!m.equals("upload") && !m.equals("data-objects")) {
                throw new IllegalArgumentException("--modes: unknown mode '" + m + "' (upload, data-objects)");
            }
        }
        long uploadBytes = args.bytes("upload-bytes", 16L << 20);
        long dataUploadBytes = args.bytes("data-upload-bytes", 64L << 20);
        StoreConfig config = StoreConfig.of(Map.of(StoreConfig.COMPACTION_INTERVAL_MS, RequestCounts.COMPACTION_OFF_MS));

        List<Result> results = new ArrayList<>();
        int batchBytes = ShaleBatches.batch(recordsPerBatch, recordBytes).remaining();
        long payloadPerBatch = (long) recordBytes * recordsPerBatch;
        try (S3Env s3 = S3Env.start(s3Backend)) {
            for (int inFlight : levels) {
              for (String mode : modes) {
                boolean dataObjects = mode.equals("data-objects");
                long ub = dataObjects ? dataUploadBytes : uploadBytes;
                System.err.printf("== object WAL (%s, upload.bytes %s), %d appends in flight: %d s warmup + %d s%n", mode,
                        Section.bytes(ub), inFlight, warmup, seconds);
                S3RequestCounter requests = new S3RequestCounter();
                CountingObjectStore counting = new CountingObjectStore(s3.store("objectwal-" + mode + "-" + inFlight,
                        requests));
                ObjectWriteAheadLog wal = ObjectWriteAheadLog.builder()
                        .flushInterval(Duration.ofMillis(flushIntervalMs))
                        .flushBytes(flushBytes)
                        .maxInFlightPuts(maxPuts)
                        .dataObjects(dataObjects)
                        .build();
                StoreConfig modeConfig = config.with(StoreConfig.UPLOAD_BYTES, ub);
                try (LogStore store = LogStore.builder().objectStore(counting).wal(wal).config(modeConfig).open()) {
                    store.createTopic(TOPIC, partitions);
                    Traffic traffic = new Traffic(store, TOPIC, partitions, recordsPerBatch, recordBytes);
                    Latencies latencies = new Latencies();
                    AtomicReference<ObjectWalMetrics> atStart = new AtomicReference<>();
                    Traffic.Appended a = traffic.appendTimed(inFlight, warmup * 1_000_000_000L, seconds * 1_000_000_000L,
                            latencies, () -> {
                                counting.reset();
                                requests.reset();
                                atStart.set(wal.metrics());
                            });
                    ObjectWalMetrics end = wal.metrics();
                    if (atStart.get() == null) {
                        throw new IllegalStateException("the measured window never started");
                    }
                    results.add(new Result(mode, ub, inFlight, latencies.summary(), counting.putLatency(Area.WAL).summary(),
                            counting.putLatency(Area.DATA).summary(), a.windowSeconds(), a.windowBatchBytes(),
                            (long) latencies.count() * batchBytes, counting.snapshot(), requests.snapshot(),
                            end.objectsWritten() - atStart.get().objectsWritten(),
                            end.bytesWritten() - atStart.get().bytesWritten()));
                }
              }
            }
        }
        report(out, results, config, flushIntervalMs, flushBytes, maxPuts, partitions, recordsPerBatch, recordBytes,
                batchBytes, payloadPerBatch, warmup, seconds, s3Backend);
    }

    private static void report(Section out, List<Result> results, StoreConfig config, long flushIntervalMs,
            long flushBytes, int maxPuts, int partitions, int recordsPerBatch, int recordBytes, int batchBytes,
            long payloadPerBatch, int warmup, int seconds, String s3Backend) {
        out.paragraph(String.format(Locale.ROOT,
                "Object WAL (flush every %d ms or %s, %d PUTs in flight) over S3ObjectStore against the in-process S3Proxy"
                        + " (%s backend). %d x %,d B records per batch (%,d B as stored), round-robin over %d partitions;"
                        + " %d s warmup, then %d s measured per level. Latency: appendBatch call to durable completion,"
                        + " every append started in the measured window. MB/s: record values (10^6 B) completed in the"
                        + " window.",
                flushIntervalMs, Section.bytes(flushBytes), maxPuts, s3Backend, recordsPerBatch, recordBytes, batchBytes,
                partitions, warmup, seconds));

        out.heading("Append latency against the target");
        List<String[]> rows = new ArrayList<>();
        for (Result r : results) {
            double target = flushIntervalMs + 2 * r.walPuts().millis(0.99);
            double p99 = r.appends().millis(0.99);
            rows.add(new String[] {r.mode(), Section.count(r.inFlight()),
                Section.num(r.windowBatchBytes() / (double) batchBytes / r.windowSeconds()),
                Section.num(r.windowBatchBytes() * ((double) payloadPerBatch / batchBytes) / 1e6 / r.windowSeconds()),
                Section.num(r.appends().millis(0.5)), Section.num(p99), Section.num(r.appends().millis(0.999)),
                Section.num(r.appends().maxMillis()), Section.count(r.walPuts().count()),
                Section.num(r.walPuts().millis(0.5)), Section.num(r.walPuts().millis(0.99)), Section.num(target),
                Section.ratio(p99, target), Section.verdict(r.walPuts().count() > 0 && r.appends().count() > 0, p99 <= target)});
        }
        out.table(new String[] {"mode", "in flight", "appends/s", "MB/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms",
            "WAL PUTs", "PUT p50 ms", "PUT p99 ms", "target ms", "p99 ÷ target", "verdict"}, "lrrrrrrrrrrrrl", rows);
        out.paragraph("Target: append p99 at most the flush interval + 2 × the store's PUT p99, with the PUT p99"
                + " of the WAL's own object PUTs in the same window.");

        out.heading("PUTs per GiB appended in this mode");
        rows = new ArrayList<>();
        for (Result r : results) {
            double gib = r.recordedBatchBytes() / GIB;
            Counts c = r.counts();
            rows.add(new String[] {r.mode(), Section.count(r.inFlight()),
                r.walObjects() == 0 ? null : Section.bytes((double) r.walBytes() / r.walObjects()),
                Section.num(c.puts(Area.WAL) / gib), Section.num(c.puts(Area.DATA) / gib),
                Section.num(c.puts(Area.MANIFEST) / gib), Section.num(c.puts() / gib),
                Section.num(r.dataPuts().millis(0.99)), c.failuresText()});
        }
        out.table(new String[] {"mode", "in flight", "avg WAL object", "wal/ PUT", "data/ PUT", "manifest/ PUT", "all PUT",
            "data PUT p99 ms", "failed calls (reason)"}, "lrrrrrrrr", rows);
        out.paragraph(String.format(Locale.ROOT,
                "Per GiB (2^30 B) of batches whose append started in the measured window; PUTs from the window's start to"
                        + " the last completion. A WAL object is sealed at %s or after %d ms, whichever comes first: at"
                        + " %s per GiB the WAL would PUT %s times.",
                Section.bytes(flushBytes), flushIntervalMs, Section.bytes(flushBytes), Section.num(GIB / flushBytes)));

        out.heading("Each appended byte PUT once: WAL objects as data objects against uploading again");
        rows = new ArrayList<>();
        for (Result r : results) {
            double gib = r.recordedBatchBytes() / GIB;
            Counts c = r.counts();
            double avgWal = r.walObjects() == 0 ? flushBytes : (double) r.walBytes() / r.walObjects();
            double target = 1.25 * GIB / avgWal;
            double putsPerGib = c.puts() / gib;
            long bytesPut = c.bytesPut(Area.WAL) + c.bytesPut(Area.DATA) + c.bytesPut(Area.MANIFEST);
            double amplification = bytesPut / (double) r.recordedBatchBytes();
            double p99 = r.appends().millis(0.99);
            Result base = null;
            for (Result o : results) {
                if (o.mode().equals("upload") && o.inFlight() == r.inFlight()) {
                    base = o;
                }
            }
            String p99Ratio = base == null || base == r ? null : Section.ratio(p99, base.appends().millis(0.99));
            boolean measured = r.walObjects() > 0 && r.appends().count() > 0;
            rows.add(new String[] {r.mode(), Section.count(r.inFlight()), Section.bytes(r.uploadBytes()),
                Section.bytes(avgWal), Section.num(putsPerGib), Section.num(target), Section.ratio(putsPerGib, target / 1.25),
                Section.verdict(measured, putsPerGib <= target), Section.num(amplification) + "×",
                Section.verdict(measured, amplification <= 1.1), Section.num(p99), p99Ratio});
        }
        out.table(new String[] {"mode", "in flight", "upload.bytes", "avg WAL object", "all PUT per GiB",
            "target (1.25 × GiB ÷ avg WAL object)", "PUTs ÷ (GiB ÷ avg WAL object)", "PUTs ≤ target",
            "bytes PUT ÷ bytes appended", "≤ 1.1×", "append p99 ms", "p99 ÷ upload mode's"}, "lrrrrrrlrlrr", rows);
        out.paragraph("Goals (issue 12, item 2), before compaction: all PUTs per GiB at most 1.25 × (1 GiB ÷ WAL object"
                + " size), with the average WAL object of the run; bytes PUT (WAL, data and manifest objects) per byte"
                + " appended at most 1.1; append p99 unchanged or better than the upload mode's at the same level in"
                + " the same run. upload: the object WAL's data is uploaded again as data objects (the behaviour before"
                + " RFC 0006, still the default); data-objects: ObjectWriteAheadLog.Builder.dataObjects(true), the WAL"
                + " objects are committed as the data objects, upload.bytes then sets how much WAL data one manifest"
                + " commit covers.");

        Set<String> ops = new TreeSet<>();
        results.forEach(r -> ops.addAll(r.http().keySet()));
        if (!ops.isEmpty()) {
            out.heading("S3 HTTP requests per GiB appended");
            List<String> header = new ArrayList<>(List.of("mode", "in flight"));
            header.addAll(ops);
            rows = new ArrayList<>();
            for (Result r : results) {
                List<String> row = new ArrayList<>(List.of(r.mode(), Section.count(r.inFlight())));
                for (String op : ops) {
                    row.add(Section.num(r.http().getOrDefault(op, 0L) / (r.recordedBatchBytes() / GIB)));
                }
                rows.add(row.toArray(String[]::new));
            }
            out.table(header.toArray(String[]::new), "l" + "r".repeat(header.size() - 1), rows);
        }

        out.note("Store settings: defaults (upload.interval.ms " + config.uploadIntervalMs() + ") except"
                + " compaction.interval.ms = 24 h and upload.bytes as in the table above (upload mode "
                + Section.bytes(results.stream().filter(r -> r.mode().equals("upload")).mapToLong(Result::uploadBytes)
                        .findFirst().orElse(config.uploadBytes()))
                + ", data-objects mode " + Section.bytes(results.stream().filter(r -> r.mode().equals("data-objects"))
                        .mapToLong(Result::uploadBytes).findFirst().orElse(config.uploadBytes())) + ").");
        out.note("S3Proxy runs in this JVM on localhost and shares its CPUs with the writer: its PUT latency is this"
                + " machine's (the PUT columns), not S3's (PUT p99 of a few MiB is 200-400 ms there, so the 2 × PUT p99"
                + " term weighs more on S3).");
        out.note("Closed loop: each level keeps a fixed number of appends in flight, so throughput is in-flight bytes"
                + " ÷ latency; the WAL seals objects by time when fewer than flush-bytes are in flight.");
    }
}
