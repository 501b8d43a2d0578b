package io.shale.cli;

import io.shale.log.StoreConfig;
import io.shale.log.internal.manifest.ManifestCodec;
import io.shale.log.internal.manifest.ManifestOp;
import io.shale.log.internal.manifest.ManifestState;
import io.shale.log.internal.manifest.ObjectMeta;
import io.shale.log.spi.ObjectInfo;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code shale cost}: object-storage requests and bytes per GiB, and a monthly estimate. */
@Command(name = "cost", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Estimates what a store costs on object storage: requests and bytes per GiB appended, and a"
                        + " monthly bill for S3 Standard, S3 Express One Zone and Cloudflare R2 from a price table"
                        + " (bundled, with its date and sources; --prices FILE to use your own).",
                "Without a store the model uses the settings below (Shale's defaults unless given). With --dir or"
                        + " --bucket it also measures the store (opened read-only): the average size of its upload"
                        + " objects replaces upload.bytes, and its stored bytes give a second storage figure.",
                "",
                "Assumptions:",
                "  - writes arrive continuously: an upload happens when upload.bytes wait or every"
                        + " upload.interval.ms, whichever comes first, so a slow store still uploads every interval;",
                "  - one manifest delta (one PUT, then one HEAD of the writer's fence marker) per upload, a"
                        + " snapshot every manifest.snapshot.deltas deltas;",
                "  - with compaction (default) every byte is read back once and rewritten once into segments of"
                        + " segment.bytes (multipart above 64 MiB, 16 MiB parts), and the replaced objects are"
                        + " deleted (DeleteObjects, 1,000 keys per request);",
                "  - consumers at the tail read from the log cache (no requests); --remote-read-ratio adds"
                        + " catch-up reads from the object store in readahead-sized ranged GETs;",
                "  - file WAL: a HEAD of the fence marker every writer.lease.ms / 3; object WAL: one PUT every"
                        + " 250 ms or 8 MiB, whichever comes first;",
                "  - each read-only instance (--readers) checks for new commits every refresh.interval.ms (one"
                        + " LIST and one GET);",
                "  - storage = monthly ingest x retention days / 30.4; a month is 730 hours; data transfer out of"
                        + " the region, free tiers and taxes are not included."})
final class CostCommand implements Callable<Integer> {
    private static final double GIB = 1L << 30;
    private static final double MIB = 1L << 20;
    private static final double SECONDS_PER_MONTH = 730 * 3600.0;
    private static final double DAYS_PER_MONTH = 730 / 24.0;

    /** Optional: a store to measure (read-only). */
    @Mixin
    StoreOptions storeOptions;

    @Option(names = "--ingest-gib-per-month", paramLabel = "GIB", defaultValue = "1024",
            description = "GiB appended per month (default: ${DEFAULT-VALUE}).")
    double ingestGibPerMonth;

    @Option(names = "--retention-days", paramLabel = "DAYS", defaultValue = "7",
            description = "How long data is kept (default: ${DEFAULT-VALUE}, Kafka's retention.ms default).")
    double retentionDays;

    @Option(names = "--upload-bytes", paramLabel = "BYTES", description = "upload.bytes (default: 16 MiB).")
    Long uploadBytes;

    @Option(names = "--upload-interval-ms", paramLabel = "MS", description = "upload.interval.ms (default: 2000).")
    Long uploadIntervalMs;

    @Option(names = "--manifest-snapshot-deltas", paramLabel = "N", description = "manifest.snapshot.deltas (default: 64).")
    Integer snapshotDeltas;

    @Option(names = "--writer-lease-ms", paramLabel = "MS", description = "writer.lease.ms (default: 10000).")
    Long writerLeaseMs;

    @Option(names = "--refresh-interval-ms", paramLabel = "MS", description = "refresh.interval.ms of read-only instances (default: 1000).")
    Long refreshIntervalMs;

    @Option(names = "--readahead-bytes", paramLabel = "BYTES", description = "readahead.max.bytes (default: 16 MiB).")
    Long readaheadBytes;

    @Option(names = "--segment-bytes", paramLabel = "BYTES", defaultValue = "1073741824",
            description = "segment.bytes of compacted segments (default: 1 GiB).")
    long segmentBytes;

    @Option(names = "--compaction", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Count compaction's reads and rewrites (default: yes).")
    boolean compaction;

    @Option(names = "--wal", paramLabel = "file|object", defaultValue = "file",
            description = "The WAL: file (local disk, default) or object (the object-storage WAL).")
    String wal;

    @Option(names = "--readers", paramLabel = "N", defaultValue = "0",
            description = "Read-only instances tailing the store (default: ${DEFAULT-VALUE}).")
    int readers;

    @Option(names = "--remote-read-ratio", paramLabel = "X", defaultValue = "0",
            description = "GiB read back from the object store per GiB appended, by consumers not served from the"
                    + " log cache (default: ${DEFAULT-VALUE}).")
    double remoteReadRatio;

    @Option(names = "--prices", paramLabel = "FILE", description = "A price table in the format of the bundled one"
            + " (see the README: providers=..., <id>.storage-per-gb-month=..., ...).")
    Path pricesFile;

    @Spec
    CommandSpec spec;

    /** One line of the model: requests of each class and bytes moved, per GiB appended or per month. */
    record Item(String label, double write, double read, double delete, double bytesWritten, double bytesRead) {
        Item plus(Item o) {
            return new Item("total", write + o.write, read + o.read, delete + o.delete, bytesWritten + o.bytesWritten,
                    bytesRead + o.bytesRead);
        }

        Item times(double f) {
            return new Item(label, write * f, read * f, delete * f, bytesWritten * f, bytesRead * f);
        }

        Item withLabel(String l) {
            return new Item(l, write, read, delete, bytesWritten, bytesRead);
        }
    }

    @Override
    public Integer call() {
        validate();
        PrintWriter out = spec.commandLine().getOut();
        PriceTable prices = pricesFile == null ? PriceTable.bundled() : PriceTable.load(pricesFile);
        StoreConfig defaults = StoreConfig.defaults();
        double configuredObjectSize = uploadBytes != null ? uploadBytes : defaults.uploadBytes();

        out.printf(Locale.ROOT, "Cost model: %s appended per month, kept %s days, %s WAL, compaction %s, %d read-only"
                + " readers, remote read ratio %s%n", Format.count(ingestGibPerMonth) + " GiB", Format.count(retentionDays),
                wal, compaction ? "on" : "off", readers, Format.count(remoteReadRatio));
        out.printf(Locale.ROOT, "Prices: %s, as of %s%n", prices.source(), prices.asOf());

        report(out, prices, "configured (upload.bytes " + Format.bytes(configuredObjectSize) + ")", configuredObjectSize,
                ingestGibPerMonth * retentionDays / DAYS_PER_MONTH);

        if (storeOptions.given()) {
            try (StoreView view = StoreView.open(storeOptions)) {
                ManifestState s = view.loadManifest();
                double[] measured = measuredUploadSize(view, s);
                double stored = s.storedBytes() / GIB;
                out.println();
                out.printf(Locale.ROOT, "Measured in %s (read-only): %d data objects, %s stored; upload objects average"
                        + " %s (%d seen in the manifest and its recent deltas)%n", view.description(), s.objects().size(),
                        Format.bytes(s.storedBytes()), measured[1] == 0 ? "n/a" : Format.bytes(measured[0]), (long) measured[1]);
                if (measured[1] == 0) {
                    out.println("  (no upload objects to measure: the configured size above applies)");
                } else {
                    report(out, prices, "measured (objects of " + Format.bytes(measured[0]) + ", storage as stored now)",
                            measured[0], stored);
                }
            }
        }
        out.flush();
        return ShaleCli.EXIT_OK;
    }

    private void validate() {
        if (!(ingestGibPerMonth >= 0) || !(retentionDays >= 0) || !(remoteReadRatio >= 0) || readers < 0) {
            throw new CliException("--ingest-gib-per-month, --retention-days, --remote-read-ratio and --readers must not"
                    + " be negative");
        }
        if (!wal.equals("file") && !wal.equals("object")) {
            throw new CliException("--wal must be 'file' or 'object', not '" + wal + "'");
        }
        for (Long v : new Long[] {uploadBytes, uploadIntervalMs, writerLeaseMs, refreshIntervalMs, readaheadBytes}) {
            if (v != null && v <= 0) {
                throw new CliException("sizes and intervals must be positive (got " + v + ")");
            }
        }
        if (segmentBytes <= 0 || (snapshotDeltas != null && snapshotDeltas <= 0)) {
            throw new CliException("--segment-bytes and --manifest-snapshot-deltas must be positive");
        }
    }

    /** {average size, count} of upload objects (multi-partition, not compaction output) in the manifest and deltas. */
    private static double[] measuredUploadSize(StoreView view, ManifestState s) {
        Set<String> seen = new HashSet<>();
        double total = 0;
        for (ObjectMeta o : s.objects().values()) {
            if (isUpload(o) && seen.add(o.key())) {
                total += o.size();
            }
        }
        for (ObjectInfo info : view.listAll(StoreView.DELTAS)) {
            try {
                for (ManifestOp op : ManifestCodec.decodeDelta(info.key(), view.get(info.key())).ops()) {
                    if (op instanceof ManifestOp.AddObject a && isUpload(a.object()) && seen.add(a.object().key())) {
                        total += a.object().size();
                    }
                }
            } catch (RuntimeException e) {
                // collected meanwhile or unreadable: verify reports the latter
            }
        }
        return new double[] {seen.isEmpty() ? 0 : total / seen.size(), seen.size()};
    }

    private static boolean isUpload(ObjectMeta o) {
        // compaction's merges and segments are named data/<epoch>-c<n>
        return !o.isSegment() && !o.key().contains("-c");
    }

    private void report(PrintWriter out, PriceTable prices, String title, double objectSize, double storedGib) {
        StoreConfig d = StoreConfig.defaults();
        long interval = uploadIntervalMs != null ? uploadIntervalMs : d.uploadIntervalMs();
        int snapshots = snapshotDeltas != null ? snapshotDeltas : d.manifestSnapshotDeltas();
        long lease = writerLeaseMs != null ? writerLeaseMs : d.writerLeaseMs();
        long refresh = refreshIntervalMs != null ? refreshIntervalMs : d.refreshIntervalMs();
        double readahead = readaheadBytes != null ? readaheadBytes : d.readaheadMaxBytes();

        List<Item> perGib = new ArrayList<>();
        double uploads = GIB / objectSize;
        perGib.add(new Item("uploads (data objects)", uploads * putRequests(objectSize), 0, 0, GIB, 0));
        perGib.addAll(commits("manifest deltas for uploads", uploads, snapshots));
        if (compaction) {
            double segments = GIB / segmentBytes;
            perGib.add(new Item("compaction: read back", 0, Math.max(uploads, GIB / readahead), 0, 0, GIB));
            perGib.add(new Item("compaction: segments written", segments * putRequests(segmentBytes), 0, 0, GIB, 0));
            perGib.addAll(commits("manifest deltas for segments", segments, snapshots));
            perGib.add(new Item("compaction: replaced objects deleted", 0, 0, uploads / 1000, 0, 0));
            perGib.add(new Item("retention: segments deleted", 0, 0, segments / 1000, 0, 0));
        } else {
            perGib.add(new Item("retention: objects deleted", 0, 0, uploads / 1000, 0, 0));
        }
        if (wal.equals("object")) {
            double walObjects = GIB / (8 * MIB);
            perGib.add(new Item("object WAL: objects written and deleted", walObjects, 0, walObjects / 1000, GIB, 0));
        }
        if (remoteReadRatio > 0) {
            perGib.add(new Item("catch-up reads from the object store", 0, remoteReadRatio * GIB / readahead, 0, 0,
                    remoteReadRatio * GIB));
        }
        Item total = sum(perGib);

        List<Item> fixed = new ArrayList<>();
        double timeDrivenUploads = Math.max(0, SECONDS_PER_MONTH * 1000 / interval - uploads * ingestGibPerMonth);
        if (timeDrivenUploads > 0 && ingestGibPerMonth > 0) {
            // each: its PUT, its delta (PUT + HEAD), a share of a snapshot, compaction's GET of it, its deletion
            Item one = new Item("", 1 + 1 + 3.0 / snapshots, 1 + (compaction ? 1 : 0), (1 + 1.0 / snapshots) / 1000, 0, 0);
            fixed.add(one.times(timeDrivenUploads).withLabel("uploads forced by upload.interval.ms"));
        }
        if (wal.equals("file")) {
            fixed.add(new Item("writer lease checks (HEAD, at most)", 0, SECONDS_PER_MONTH * 1000 / Math.max(1, lease / 3), 0,
                    0, 0));
        } else {
            double timeDriven = Math.max(0, SECONDS_PER_MONTH / 0.25 - ingestGibPerMonth * GIB / (8 * MIB));
            fixed.add(new Item("object WAL: objects forced every 250 ms", timeDriven, 0,
                    timeDriven / 1000, 0, 0));
        }
        if (readers > 0) {
            double polls = readers * SECONDS_PER_MONTH * 1000 / refresh;
            fixed.add(new Item(readers + " read-only instances polling for commits", polls, polls, 0, 0, 0));
        }
        Item monthly = total.times(ingestGibPerMonth).plus(sum(fixed));

        out.println();
        out.printf(Locale.ROOT, "Per GiB appended, %s:%n", title);
        String fmt = "  %-44s %14s %14s %10s %10s %10s%n";
        out.printf(Locale.ROOT, fmt, "", "write req", "read req", "delete", "written", "read");
        for (Item i : perGib) {
            row(out, fmt, i);
        }
        row(out, fmt, total.withLabel("total per GiB"));
        out.printf(Locale.ROOT, "Per month (%s GiB appended, %s GiB stored):%n", Format.count(ingestGibPerMonth),
                String.format(Locale.ROOT, "%.1f", storedGib));
        row(out, fmt, total.times(ingestGibPerMonth).withLabel("size-driven (per GiB x GiB per month)"));
        for (Item i : fixed) {
            row(out, fmt, i);
        }
        row(out, fmt, monthly.withLabel("total per month"));
        String pfmt = "  %-36s %12s %12s %12s %12s%n";
        out.printf(Locale.ROOT, pfmt, "monthly estimate (USD)", "requests", "storage", "transfer", "total");
        for (PriceTable.Provider p : prices.providers()) {
            double requests = monthly.write() / 1000 * p.writePer1000() + monthly.read() / 1000 * p.readPer1000()
                    + monthly.delete() / 1000 * p.deletePer1000();
            double storage = storedGib * p.storagePerGbMonth();
            double transfer = monthly.bytesWritten() / GIB * p.uploadPerGb() + monthly.bytesRead() / GIB * p.retrievalPerGb();
            out.printf(Locale.ROOT, pfmt, p.name(), Format.money(requests), Format.money(storage), Format.money(transfer),
                    Format.money(requests + storage + transfer));
        }
    }

    private static void row(PrintWriter out, String fmt, Item i) {
        out.printf(Locale.ROOT, fmt, i.label(), requests(i.write()), requests(i.read()), requests(i.delete()),
                Format.bytes(i.bytesWritten()), Format.bytes(i.bytesRead()));
    }

    /** Request counts: whole numbers from 100 up, two decimals below. */
    static String requests(double n) {
        return n >= 100 ? Format.count(Math.round(n)) : Format.count(Math.round(n * 100) / 100.0);
    }

    private static Item sum(List<Item> items) {
        Item t = new Item("total", 0, 0, 0, 0, 0);
        for (Item i : items) {
            t = t.plus(i);
        }
        return t;
    }

    /** Manifest commits: one delta PUT and one fence-marker HEAD each, a snapshot (PUT, 2 LISTs, a delete) per N. */
    private static List<Item> commits(String label, double count, int snapshotDeltas) {
        return List.of(new Item(label, count + count * 3 / snapshotDeltas, count, count / snapshotDeltas / 1000, 0, 0));
    }

    /** Requests to write one object of {@code size}: one PUT, or a multipart upload above 64 MiB (16 MiB parts). */
    private static double putRequests(double size) {
        double threshold = 64 * MIB;
        double part = 16 * MIB;
        return size <= threshold ? 1 : Math.ceil(size / part) + 2;
    }
}
