package io.shale.benchmarks.tools;

import io.shale.log.LogStore;
import io.shale.log.StoreConfig;
import io.shale.storage.local.LocalStorage;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Heap per idle partition. Target: at most 1 KiB of heap per idle partition at 100,000
 * partitions.
 *
 * <p>For each shape (topics x partitions per topic): open the embedded default store (local
 * directory + file WAL), measure the heap in use after garbage collection, create the topics,
 * measure again; then append one small batch to every partition, {@code flush()} (uploaded and
 * committed), and measure a third time. The figures are the differences divided by the number of
 * partitions. "Heap in use after GC" is {@link MemoryMXBean}'s used heap after {@code System.gc()}
 * repeated until it settles (full collections with G1), so it counts everything reachable: the
 * store's partition objects and its manifest state, not only one class.
 *
 * <pre>
 * java -Xmx2g -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/measure-lib/*' \
 *     io.shale.benchmarks.tools.IdlePartitionMemory [--shapes 1x100000,1000x100]
 * </pre>
 */
public final class IdlePartitionMemory extends Tool {
    private static final int SMALL_RECORD_BYTES = 100;

    public static void main(String[] args) {
        new IdlePartitionMemory().execute(args);
    }

    @Override
    String id() {
        return "memory";
    }

    @Override
    String title() {
        return "Heap per idle partition (IdlePartitionMemory)";
    }

    @Override
    Set<String> options() {
        return Set.of("shapes", "in-flight");
    }

    @Override
    String usage() {
        return """
                usage: IdlePartitionMemory [--smoke] [--shapes 1x100000,1000x100] [--in-flight 1024]
                                           [--out FILE|-] [--command TEXT]
                  --shapes  topics x partitions per topic, comma-separated (--smoke: 1x10000,100x100)""";
    }

    private record Shape(int topics, int partitionsPerTopic) {
        long partitions() {
            return (long) topics * partitionsPerTopic;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%,d × %,d", topics, partitionsPerTopic);
        }

        static Shape parse(String s) {
            String[] p = s.trim().toLowerCase(Locale.ROOT).split("x");
            try {
                if (p.length == 2) {
                    Shape shape = new Shape(Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()));
                    if (shape.topics() > 0 && shape.partitionsPerTopic() > 0) {
                        return shape;
                    }
                }
            } catch (NumberFormatException e) {
                // fall through
            }
            throw new IllegalArgumentException("--shapes needs TOPICSxPARTITIONS items such as 1x100000, got '" + s + "'");
        }
    }

    private record Result(Shape shape, long base, long created, long written, double createSeconds, double writeSeconds,
            int batchBytes) {
    }

    @Override
    void run(Args args, boolean smoke, Path dir, Section out) throws Exception {
        List<Shape> shapes = new ArrayList<>();
        for (String s : args.string("shapes", smoke ? "1x10000,100x100" : "1x100000,1000x100").split(",")) {
            shapes.add(Shape.parse(s));
        }
        int inFlight = args.integer("in-flight", 1024);
        List<Result> results = new ArrayList<>();
        for (Shape shape : shapes) {
            System.err.printf("== %s partitions%n", shape);
            Path d = dir.resolve("memory-" + shape.topics() + "x" + shape.partitionsPerTopic());
            try (LogStore store = LocalStorage.builder(d).open()) {
                long base = usedAfterGc();
                long t0 = System.nanoTime();
                for (int t = 0; t < shape.topics(); t++) {
                    store.createTopic(topic(t), shape.partitionsPerTopic());
                }
                double createSeconds = (System.nanoTime() - t0) / 1e9;
                long created = usedAfterGc();
                t0 = System.nanoTime();
                int batchBytes = 0;
                for (int t = 0; t < shape.topics(); t++) {
                    Traffic traffic = new Traffic(store, topic(t), shape.partitionsPerTopic(), 1, SMALL_RECORD_BYTES);
                    batchBytes = traffic.batchBytes();
                    traffic.appendBytes(inFlight, (long) shape.partitionsPerTopic() * batchBytes);
                }
                store.flush();
                double writeSeconds = (System.nanoTime() - t0) / 1e9;
                long written = usedAfterGc();
                results.add(new Result(shape, base, created, written, createSeconds, writeSeconds, batchBytes));
            }
            usedAfterGc(); // let the closed store go before the next shape
        }
        report(out, results);
    }

    private static String topic(int i) {
        return "idle-" + i;
    }

    /** Heap in use after full collections, repeated until two readings agree within 1 % (at most 10). */
    static long usedAfterGc() throws InterruptedException {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long previous = Long.MAX_VALUE;
        long used = 0;
        for (int i = 0; i < 10; i++) {
            System.gc();
            Thread.sleep(100);
            used = memory.getHeapMemoryUsage().getUsed();
            if (i >= 2 && Math.abs(used - previous) <= previous / 100) {
                break;
            }
            previous = used;
        }
        return used;
    }

    private static void report(Section out, List<Result> results) {
        out.paragraph("Heap in use after GC: after opening the embedded default store (local directory + file WAL, default"
                + " settings), after creating the topics, and after appending one batch of one " + SMALL_RECORD_BYTES
                + "-byte record to every partition and flush() (uploaded and committed). Per partition = difference ÷"
                + " partitions.");
        List<String[]> rows = new ArrayList<>();
        for (Result r : results) {
            double n = r.shape().partitions();
            double idle = (r.created() - r.base()) / n;
            double written = (r.written() - r.base()) / n;
            rows.add(new String[] {r.shape().toString(), Section.count(r.shape().partitions()), Section.bytes(r.base()),
                Section.bytes(r.created()), Section.num(idle), Section.verdict(true, idle <= 1024),
                Section.num(r.createSeconds()), Section.bytes(r.written()), Section.num(written),
                Section.num(r.writeSeconds())});
        }
        out.table(new String[] {"topics × partitions", "partitions", "heap after open", "after create",
            "B per idle partition", "≤ 1 KiB", "create s", "after 1 batch each + flush", "B per partition", "write s"},
                "lrrrrlrrrr", rows);
        int batch = results.isEmpty() ? 0 : results.get(0).batchBytes();
        out.note("Target: at most 1 KiB of heap per idle partition at 100,000 partitions; it applies to the"
                + " \"B per idle partition\" column (created, never written).");
        out.note("After writing, the log cache still holds each partition's " + batch + "-byte batch (uploaded data"
                + " stays cached until the space is needed), in chunks of up to "
                + Section.bytes(Math.min(4L << 20, StoreConfig.defaults().logCacheBytes() / 16))
                + ", so that column includes cached record data, not only per-partition state.");
        out.note("Store settings: the defaults (LocalStorage.builder(dir).open()).");
    }
}
