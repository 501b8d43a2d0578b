package io.shale.cli;

import io.shale.log.AppendResult;
import io.shale.log.LogStore;
import io.shale.log.TopicDescription;
import io.shale.log.TopicPartition;
import io.shale.log.record.SimpleRecord;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code shale produce}: append lines from stdin (or generated records) for quick trials. */
@Command(name = "produce", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Appends records for quick trials: one per line of stdin (or of --input), or --generate N records.",
                "Opens the store FOR WRITING: a local store that another process has open fails with IN_USE and is"
                        + " not disturbed; on S3 the tool uses the object-storage WAL and takes over the writer role"
                        + " (a running writer is fenced). When done it uploads what it appended (flush) and closes, so"
                        + " inspect, dump and consume see the records at once.",
                "Records go to --partition, else by key hash (keyed records) or round-robin (keyless)."})
final class ProduceCommand implements Callable<Integer> {
    private static final int MAX_IN_FLIGHT = 1_000;

    @Mixin
    StoreOptions storeOptions;

    @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "The topic.")
    String topic;

    @Option(names = "--partition", paramLabel = "N", description = "Append every record to this partition.")
    Integer partition;

    @Option(names = "--create-partitions", paramLabel = "N",
            description = "Create the topic with N partitions if it does not exist.")
    Integer createPartitions;

    @Option(names = "--key-separator", paramLabel = "SEP",
            description = "Split each line at the first SEP into key and value (lines without it have no key).")
    String keySeparator;

    @Option(names = "--input", paramLabel = "FILE", description = "Read lines from FILE instead of stdin.")
    Path input;

    @Option(names = "--generate", paramLabel = "N", description = "Append N generated records (key-<i>, a value of"
            + " --value-size bytes) instead of reading lines.")
    Long generate;

    @Option(names = "--value-size", paramLabel = "BYTES", defaultValue = "100",
            description = "Size of generated values (default: ${DEFAULT-VALUE}).")
    int valueSize;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "100",
            description = "Records per append (one Kafka batch) and partition (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Spec
    CommandSpec spec;

    private final Map<Integer, long[]> offsets = new TreeMap<>();
    private final Deque<CompletableFuture<AppendResult>> inFlight = new ArrayDeque<>();
    private long roundRobin;

    @Override
    public Integer call() throws IOException {
        if (generate != null && input != null) {
            throw new CliException("give --generate or --input, not both");
        }
        if (batchSize < 1 || valueSize < 0 || (generate != null && generate < 0)
                || (createPartitions != null && createPartitions < 1)) {
            throw new CliException("--batch-size and --create-partitions must be at least 1; --value-size and"
                    + " --generate must not be negative");
        }
        if (input != null && !Files.isRegularFile(input)) {
            throw new CliException("no such file: " + input);
        }
        PrintWriter out = spec.commandLine().getOut();
        try (LogStore store = storeOptions.openWritable(Map.of())) {
            TopicDescription t = store.describeTopic(topic).orElse(null);
            if (t == null) {
                if (createPartitions == null) {
                    throw new CliException("unknown topic '" + topic + "' in " + storeOptions.describe()
                            + " (--create-partitions N creates it)");
                }
                t = store.createTopic(topic, createPartitions, Map.of());
                out.printf(Locale.ROOT, "created topic %s with %d partition%s%n", topic, t.partitionCount(),
                        t.partitionCount() == 1 ? "" : "s");
            }
            int partitions = t.partitionCount();
            if (partition != null && (partition < 0 || partition >= partitions)) {
                throw new CliException("topic '" + topic + "' has partitions 0.." + (partitions - 1) + ", not " + partition);
            }
            List<List<SimpleRecord>> pending = new ArrayList<>();
            for (int i = 0; i < partitions; i++) {
                pending.add(new ArrayList<>());
            }
            long count = 0;
            if (generate != null) {
                for (long i = 0; i < generate; i++) {
                    byte[] key = ("key-" + i).getBytes(StandardCharsets.UTF_8);
                    add(store, pending, record(key, generatedValue(i)));
                    count++;
                }
            } else {
                try (BufferedReader in = input != null ? Files.newBufferedReader(input, StandardCharsets.UTF_8)
                        : new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        byte[] key = null;
                        String value = line;
                        int at = keySeparator == null ? -1 : line.indexOf(keySeparator);
                        if (at >= 0) {
                            key = line.substring(0, at).getBytes(StandardCharsets.UTF_8);
                            value = line.substring(at + keySeparator.length());
                        }
                        add(store, pending, record(key, value.getBytes(StandardCharsets.UTF_8)));
                        count++;
                    }
                } catch (UncheckedIOException e) {
                    throw e.getCause();
                }
            }
            for (int p = 0; p < partitions; p++) {
                send(store, p, pending.get(p));
            }
            while (!inFlight.isEmpty()) {
                inFlight.poll().join();
            }
            store.flush(Duration.ofSeconds(60));
            out.printf(Locale.ROOT, "appended %d records to %s%n", count, topic);
            for (Map.Entry<Integer, long[]> e : offsets.entrySet()) {
                out.printf(Locale.ROOT, "  %s-%d: offsets %d..%d%n", topic, e.getKey(), e.getValue()[0], e.getValue()[1]);
            }
        }
        out.flush();
        return ShaleCli.EXIT_OK;
    }

    private static SimpleRecord record(byte[] key, byte[] value) {
        return new SimpleRecord(System.currentTimeMillis(), key == null ? null : ByteBuffer.wrap(key),
                ByteBuffer.wrap(value), List.of());
    }

    private byte[] generatedValue(long i) {
        byte[] v = new byte[valueSize];
        byte[] prefix = ("value-" + i + "-").getBytes(StandardCharsets.UTF_8);
        for (int k = 0; k < v.length; k++) {
            v[k] = k < prefix.length ? prefix[k] : (byte) ('a' + (k % 26));
        }
        return v;
    }

    private void add(LogStore store, List<List<SimpleRecord>> pending, SimpleRecord r) {
        int p;
        if (partition != null) {
            p = partition;
        } else if (r.key() != null) {
            byte[] k = new byte[r.key().remaining()];
            r.key().duplicate().get(k);
            p = Math.floorMod(Arrays.hashCode(k), pending.size());
        } else {
            p = (int) (roundRobin++ % pending.size());
        }
        List<SimpleRecord> batch = pending.get(p);
        batch.add(r);
        if (batch.size() >= batchSize) {
            send(store, p, batch);
        }
    }

    private void send(LogStore store, int p, List<SimpleRecord> batch) {
        if (batch.isEmpty()) {
            return;
        }
        List<SimpleRecord> records = List.copyOf(batch);
        batch.clear();
        CompletableFuture<AppendResult> f = store.append(TopicPartition.of(topic, p), records).whenComplete((r, e) -> {
            if (r != null) {
                synchronized (offsets) {
                    long[] range = offsets.computeIfAbsent(p, k -> new long[] {Long.MAX_VALUE, -1});
                    range[0] = Math.min(range[0], r.baseOffset());
                    range[1] = Math.max(range[1], r.lastOffset());
                }
            }
        });
        inFlight.add(f);
        while (inFlight.size() > MAX_IN_FLIGHT) {
            inFlight.poll().join();
        }
    }
}
