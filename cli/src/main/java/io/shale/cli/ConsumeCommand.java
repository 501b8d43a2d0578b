package io.shale.cli;

import io.shale.log.FetchResult;
import io.shale.log.LogStore;
import io.shale.log.TopicDescription;
import io.shale.log.TopicPartition;
import io.shale.log.record.Record;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code shale consume}: print records from an offset or the beginning, optionally following new ones. */
@Command(name = "consume", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Prints records of a topic (one partition or all), from the beginning (the log start, default) or"
                        + " from --offset, up to the high watermark; with --follow it keeps waiting for new records"
                        + " (long polls) until --max-records, --poll-timeout without a new record, or Ctrl-C.",
                "Opens the store read-only (never fences a writer): it sees records once the writer has uploaded"
                        + " them (every upload.interval.ms, 2 s by default).",
                "Values (and keys, with --print-key) print as UTF-8 when they are, otherwise as 0x-hex."})
final class ConsumeCommand implements Callable<Integer> {
    private static final int FETCH_BYTES = 1 << 20;

    @Mixin
    StoreOptions storeOptions;

    @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "The topic.")
    String topic;

    @Option(names = "--partition", paramLabel = "N", description = "Only this partition (default: all).")
    Integer partition;

    @Option(names = "--offset", paramLabel = "OFFSET", description = "Start at this offset (in each partition read).")
    Long offset;

    @Option(names = "--from-beginning", description = "Start at the log start offset (the default).")
    boolean fromBeginning;

    @Option(names = "--max-records", paramLabel = "N", description = "Stop after N records.")
    Long maxRecords;

    @Option(names = "--follow", description = "Keep waiting for new records after the high watermark.")
    boolean follow;

    @Option(names = "--poll-timeout", paramLabel = "DURATION",
            description = "With --follow: stop when no new record arrives for this long (e.g. 10s, 500ms, PT1M;"
                    + " default: wait until Ctrl-C).")
    String pollTimeout;

    @Option(names = "--print-key", description = "Print each record's key before its value (tab-separated).")
    boolean printKey;

    @Option(names = "--print-offset", description = "Print partition, offset and timestamp before each record.")
    boolean printOffset;

    @Spec
    CommandSpec spec;

    private PrintWriter out;
    private long printed;

    @Override
    public Integer call() throws InterruptedException {
        out = spec.commandLine().getOut();
        if (offset != null && fromBeginning) {
            throw new CliException("give --offset or --from-beginning, not both");
        }
        if (maxRecords != null && maxRecords < 1) {
            throw new CliException("--max-records must be at least 1");
        }
        Duration idle = pollTimeout == null ? null : parseDuration(pollTimeout);
        if (idle != null && !follow) {
            throw new CliException("--poll-timeout applies with --follow");
        }
        if (storeOptions.isLocal()) {
            storeOptions.requireLocalStore();
        }
        try (LogStore store = storeOptions.openReadOnly(Map.of())) {
            TopicDescription t = store.describeTopic(topic).orElseThrow(() -> new CliException("unknown topic '" + topic
                    + "' in " + storeOptions.describe() + " (topics: "
                    + (store.listTopics().isEmpty() ? "none" : String.join(", ", store.listTopics())) + ")"));
            List<TopicPartition> tps = new ArrayList<>();
            if (partition != null) {
                if (partition < 0 || partition >= t.partitionCount()) {
                    throw new CliException("topic '" + topic + "' has partitions 0.." + (t.partitionCount() - 1)
                            + ", not " + partition);
                }
                tps.add(TopicPartition.of(topic, partition));
            } else {
                for (int p = 0; p < t.partitionCount(); p++) {
                    tps.add(TopicPartition.of(topic, p));
                }
            }
            Map<TopicPartition, Long> positions = new LinkedHashMap<>();
            for (TopicPartition tp : tps) {
                long start = store.logStartOffset(tp);
                long hw = store.highWatermark(tp);
                if (offset != null && (offset < start || offset > hw)) {
                    throw new CliException("offset " + offset + " is outside " + tp + "'s range [" + start + ", " + hw
                            + "] (log start, high watermark)");
                }
                positions.put(tp, offset != null ? offset : start);
            }
            // up to the high watermark
            for (TopicPartition tp : tps) {
                long pos = positions.get(tp);
                while (!done() && pos < store.highWatermark(tp)) {
                    FetchResult f = store.read(tp, pos, FETCH_BYTES);
                    if (f.isEmpty()) {
                        break;
                    }
                    pos = print(tp, f, pos);
                }
                positions.put(tp, pos);
            }
            if (follow) {
                follow(store, positions, idle);
            }
        }
        out.flush();
        return ShaleCli.EXIT_OK;
    }

    private void follow(LogStore store, Map<TopicPartition, Long> positions, Duration idle) throws InterruptedException {
        Duration wait = idle == null ? Duration.ofSeconds(10) : idle;
        Map<TopicPartition, CompletableFuture<FetchResult>> polls = new LinkedHashMap<>();
        long idleSince = System.nanoTime();
        while (!done()) {
            for (Map.Entry<TopicPartition, Long> e : positions.entrySet()) {
                polls.computeIfAbsent(e.getKey(), tp -> store.poll(tp, e.getValue(), FETCH_BYTES, wait));
            }
            try {
                CompletableFuture.anyOf(polls.values().toArray(new CompletableFuture<?>[0])).get(wait.toMillis() + 5_000,
                        TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                // every poll completes after its wait; nothing arrived
            } catch (ExecutionException e) {
                // handled per future below
            }
            boolean got = false;
            for (TopicPartition tp : new ArrayList<>(polls.keySet())) {
                CompletableFuture<FetchResult> f = polls.get(tp);
                if (!f.isDone()) {
                    continue;
                }
                polls.remove(tp);
                FetchResult r = f.join(); // a failed poll fails the command with its error
                if (!r.isEmpty()) {
                    long before = printed;
                    positions.put(tp, print(tp, r, positions.get(tp)));
                    got |= printed > before;
                    if (done()) {
                        break;
                    }
                }
            }
            out.flush();
            if (got) {
                idleSince = System.nanoTime();
            } else if (idle != null && System.nanoTime() - idleSince >= idle.toNanos()) {
                return;
            }
        }
    }

    private boolean done() {
        return maxRecords != null && printed >= maxRecords;
    }

    /** Prints the records at or above {@code from}; returns the next position. */
    private long print(TopicPartition tp, FetchResult f, long from) {
        for (Record r : f.records()) {
            if (r.offset() < from) {
                continue;
            }
            if (done()) {
                return r.offset();
            }
            StringBuilder line = new StringBuilder();
            if (printOffset) {
                line.append(tp.partition()).append('\t').append(r.offset()).append('\t').append(Format.time(r.timestamp()))
                        .append('\t');
            }
            if (printKey) {
                line.append(Format.text(r.key())).append('\t');
            }
            line.append(Format.text(r.value()));
            out.println(line);
            printed++;
        }
        return Math.max(from, f.nextOffset());
    }

    static Duration parseDuration(String s) {
        String v = s.strip().toLowerCase(Locale.ROOT);
        try {
            if (v.startsWith("pt") || v.startsWith("p")) {
                return Duration.parse(v.toUpperCase(Locale.ROOT));
            }
            if (v.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
            }
            if (v.endsWith("s")) {
                return Duration.ofMillis(Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 1000));
            }
            if (v.endsWith("m")) {
                return Duration.ofSeconds(Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 60));
            }
        } catch (NumberFormatException | DateTimeParseException e) {
            // fall through
        }
        throw new CliException("--poll-timeout must be a duration like 10s, 500ms, 2m or PT1M, not '" + s + "'");
    }
}
