package io.shale.benchmarks.tools;

import io.shale.benchmarks.ShaleStores;
import io.shale.benchmarks.shale.ShaleBatches;
import io.shale.log.AppendResult;
import io.shale.log.LogStore;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import io.shale.storage.local.wal.FileWriteAheadLog;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes written to disk per byte appended in local mode (file WAL + local-directory object store),
 * and the WAL group size the durable-append workload forms. Target: at most 2.5 bytes written per
 * byte appended, counting the WAL (frames, segment headers and the zero-fill of preallocated
 * segments), the local objects and compaction.
 *
 * <p>Workload: as {@code ShaleAppendBenchmark.appendBatchPipelined}: {@code --producers} threads,
 * each on its own partition, {@code appendBatch} of a ready 16 x 1 KiB Kafka v2 batch keeping
 * {@code --in-flight} appends outstanding, for {@code --seconds}, then {@code close()} (which
 * uploads what is left). The store has the benchmarks' settings ({@link ShaleStores#STORE_SETTINGS}:
 * compaction every second, retention 256 MiB per partition) and, in a second run, compaction off
 * as the JMH benchmark has it. Both are repeated with one producer waiting for each append
 * ({@code appendBatchSingleProducer}'s workload and group size): four workloads, each on a fresh
 * store.
 *
 * <p>Bytes written are counted where Shale writes them: the WAL's counters ({@code fileBytesWritten}:
 * frames and segment headers; plus {@code segmentBytes} per segment file it zero-filled), and the
 * bytes PUT to the local-directory object store under {@code data/} (uploads and compaction) and
 * {@code manifest/}, counted by {@link CountingObjectStore}. File-system metadata and journal
 * writes are not included. The kernel's per-process {@code write_bytes} ({@code /proc/self/io})
 * was tried and rejected: on the CI VM it reports about 1 MiB per {@code fdatasync} of a small
 * write (64x the bytes of a 16 KiB write + fdatasync loop, 2x for 1 MiB writes), so it measures
 * the kernel's accounting, not Shale.
 *
 * <pre>
 * java -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/measure-lib/*' \
 *     io.shale.benchmarks.tools.DiskBytes [--seconds 20] [--producers 4] [--in-flight 32]
 * </pre>
 */
public final class DiskBytes extends Tool {
    private static final int RECORD_BYTES = 1024;
    private static final int RECORDS_PER_BATCH = 16;
    private static final long WAL_SEGMENT_BYTES = 64L << 20;   // FileWriteAheadLog's default

    public static void main(String[] args) {
        new DiskBytes().execute(args);
    }

    @Override
    String id() {
        return "diskbytes";
    }

    @Override
    String title() {
        return "Bytes written to disk per byte appended, local mode (DiskBytes)";
    }

    @Override
    Set<String> options() {
        return Set.of("seconds", "producers", "in-flight");
    }

    @Override
    String usage() {
        return """
                usage: DiskBytes [--smoke] [--seconds 20] [--producers 4] [--in-flight 32]
                                 [--out FILE|-] [--command TEXT]
                  --seconds    how long each workload appends (--smoke: 2)
                  --producers  producer threads of the pipelined workloads, one partition each
                  --in-flight  appends each pipelined producer keeps outstanding""";
    }

    /** What one workload measured. */
    record Run(String name, double seconds, long appendedBytes, long walBytes, long walZeroFill, long groups,
            long fsyncs, long dataPut, long manifestPut) {
        double perAppended() {
            return (walBytes + walZeroFill + dataPut + manifestPut) / (double) appendedBytes;
        }
    }

    @Override
    void run(Args args, boolean smoke, Path dir, Section out) throws Exception {
        int seconds = args.integer("seconds", smoke ? 2 : 20);
        int producers = args.integer("producers", 4);
        int inFlight = args.integer("in-flight", 32);
        if (seconds < 1 || producers < 1 || inFlight < 1) {
            throw new IllegalArgumentException("--seconds, --producers and --in-flight must be at least 1");
        }
        List<Run> runs = new ArrayList<>();
        runs.add(measure("pipelined, " + producers + " producers x " + inFlight + " in flight, compaction every 1 s",
                dir.resolve("a"), Map.of(), producers, inFlight, seconds));
        runs.add(measure("pipelined, " + producers + " producers x " + inFlight + " in flight, compaction off",
                dir.resolve("b"), Map.of(StoreConfig.COMPACTION_INTERVAL_MS, 3_600_000L), producers, inFlight,
                seconds));
        runs.add(measure("1 producer, waiting for each append, compaction every 1 s", dir.resolve("c"), Map.of(), 1,
                1, seconds));
        runs.add(measure("1 producer, waiting for each append, compaction off", dir.resolve("d"),
                Map.of(StoreConfig.COMPACTION_INTERVAL_MS, 3_600_000L), 1, 1, seconds));

        List<String[]> rows = new ArrayList<>();
        for (Run r : runs) {
            double a = r.appendedBytes;
            rows.add(new String[] {r.name, Section.num(a / r.seconds / 1e6),
                Section.bytes(r.walBytes / (double) Math.max(1, r.groups)),
                Section.num(r.fsyncs / (double) Math.max(1, r.groups)),
                Section.num(r.walBytes / a), Section.num(r.walZeroFill / a), Section.num(r.dataPut / a),
                Section.num(r.manifestPut / a),
                Section.num(r.perAppended()),
                Section.verdict(true, r.perAppended() <= 2.5)});
        }
        out.paragraph("Bytes appended = the Kafka v2 batches passed to `appendBatch` (16 x 1 KiB values plus "
                + "the batch's own 1-2 % of headers). Written = what Shale wrote, each ÷ bytes appended: WAL "
                + "frames and segment headers (`fileBytesWritten`); zero-fill of preallocated WAL segments "
                + "(64 MiB per segment file created; recycled segments cost none, and a fresh WAL preallocates "
                + "its first segments, which weighs on short runs); bytes PUT to the local object store under "
                + "`data/` (uploads and compaction) and `manifest/`. File-system metadata is not counted. "
                + "WAL group = average bytes of one write + fdatasync.");
        out.table(new String[] {"workload", "appended MB/s", "WAL group", "fdatasyncs per group", "WAL", "zero-fill", "data objects",
            "manifest", "written ÷ appended", "≤ 2.5×"}, "lrrrrrrrrl", rows);
    }

    private Run measure(String name, Path dir, Map<String, ?> settings, int producers, int inFlight, int seconds)
            throws Exception {
        Files.createDirectories(dir);
        Map<String, Object> config = new HashMap<>(ShaleStores.STORE_SETTINGS);
        config.putAll(settings);
        FileWriteAheadLog wal = FileWriteAheadLog.builder(dir.resolve("wal")).build();
        CountingObjectStore objects = new CountingObjectStore(LocalDirectoryObjectStore.open(dir.resolve("objects")));
        AtomicLong appended = new AtomicLong();
        long t0;
        long t1;
        try (LogStore store = LogStore.builder().objectStore(objects).wal(wal).config(config).open()) {
            store.createTopic("disk", producers, ShaleStores.TOPIC_SETTINGS);
            long deadline = System.nanoTime() + seconds * 1_000_000_000L;
            List<Thread> threads = new ArrayList<>();
            List<Throwable> errors = new ArrayList<>();
            t0 = System.nanoTime();
            for (int p = 0; p < producers; p++) {
                TopicPartition tp = TopicPartition.of("disk", p);
                Thread t = new Thread(() -> {
                    try {
                        produce(store, tp, inFlight, deadline, appended);
                    } catch (Throwable e) {
                        synchronized (errors) {
                            errors.add(e);
                        }
                    }
                }, "disk-producer-" + p);
                threads.add(t);
                t.start();
            }
            for (Thread t : threads) {
                t.join();
            }
            t1 = System.nanoTime();
            if (!errors.isEmpty()) {
                throw new IllegalStateException("a producer failed", errors.get(0));
            }
        }
        long created = wal.segmentsCreated() - wal.unpreallocatedSegments();
        CountingObjectStore.Counts counts = objects.snapshot();
        return new Run(name, (t1 - t0) / 1e9, appended.get(), wal.fileBytesWritten(), created * WAL_SEGMENT_BYTES,
                wal.groupsWritten(), wal.fsyncCount(), counts.bytesPut(CountingObjectStore.Area.DATA),
                counts.bytesPut(CountingObjectStore.Area.MANIFEST));
    }

    private static void produce(LogStore store, TopicPartition tp, int inFlight, long deadline, AtomicLong appended) {
        ByteBuffer batch = ShaleBatches.batch(RECORDS_PER_BATCH, RECORD_BYTES);
        int batchBytes = batch.remaining();
        @SuppressWarnings("unchecked")
        CompletableFuture<AppendResult>[] window = new CompletableFuture[inFlight];
        int next = 0;
        long n = 0;
        while (System.nanoTime() < deadline) {
            if (window[next] != null) {
                window[next].join();
            }
            window[next] = store.appendBatch(tp, batch.position(0));
            next = (next + 1) % inFlight;
            n++;
        }
        for (CompletableFuture<AppendResult> f : window) {
            if (f != null) {
                f.join();
            }
        }
        appended.addAndGet(n * batchBytes);
    }
}
