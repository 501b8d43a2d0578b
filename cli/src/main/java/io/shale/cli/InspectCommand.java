package io.shale.cli;

import io.shale.log.internal.manifest.ManifestCodec;
import io.shale.log.internal.manifest.ManifestOp;
import io.shale.log.internal.manifest.ManifestState;
import io.shale.log.internal.manifest.ObjectMeta;
import io.shale.log.internal.manifest.PartitionMeta;
import io.shale.log.internal.manifest.RangeRef;
import io.shale.log.internal.manifest.TopicMeta;
import io.shale.log.spi.ObjectInfo;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code shale inspect}: topics, partitions, offsets, sizes, objects and the manifest chain. */
@Command(name = "inspect", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Shows a store: topics and their partitions (log start offset, high watermark, bytes, runs),"
                        + " the data objects, the manifest chain (latest snapshot and the deltas after it, with the"
                        + " writer epoch and time of each), fenced writer epochs and other objects (object WAL,"
                        + " data objects no manifest references).",
                "Opens the store read-only: lists and reads objects, writes nothing, never fences a writer.",
                "The high watermark shown is what the writer has committed to objects."})
final class InspectCommand implements Callable<Integer> {
    @Mixin
    StoreOptions storeOptions;

    @Option(names = "--topic", paramLabel = "TOPIC", description = "Only this topic (and no object list).")
    String topic;

    @Option(names = "--objects", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "List the data objects (default: yes; --no-objects to leave them out).")
    boolean listObjects;

    @Option(names = "--chain", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "List the manifest chain (default: yes; --no-chain to leave it out).")
    boolean listChain;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (StoreView view = StoreView.open(storeOptions)) {
            ManifestState s = view.loadManifest();
            Collection<TopicMeta> topics = topic == null ? s.topics().values() : List.of(view.requireTopic(topic));
            long referenced = 0;
            for (ObjectMeta o : s.objects().values()) {
                if (s.refCount(o.key()) > 0) {
                    referenced += o.size();
                }
            }
            out.printf(Locale.ROOT, "store %s (opened read-only)%n", view.description());
            out.printf(Locale.ROOT, "manifest version %d, writer epoch %d; %d topics, %d partitions; %d data objects"
                    + " (%s), %d awaiting deletion%n", s.version(), s.writerEpoch(), s.topics().size(),
                    s.partitions().size(), s.objects().size() - s.pendingDeletes().size(), Format.bytes(referenced),
                    s.pendingDeletes().size());

            for (TopicMeta t : topics) {
                printTopic(out, s, t);
            }
            if (topic == null && listObjects) {
                printObjects(out, view, s);
            }
            if (topic == null && listChain) {
                printChain(out, view);
            }
        }
        out.flush();
        return ShaleCli.EXIT_OK;
    }

    private static void printTopic(PrintWriter out, ManifestState s, TopicMeta t) {
        out.println();
        out.printf(Locale.ROOT, "topic %s  (id %s, %d partition%s%s)%n", t.name(), t.topicId(), t.partitionCount(),
                t.partitionCount() == 1 ? "" : "s",
                t.configs().isEmpty() ? "" : ", " + new TreeMap<>(t.configs()).toString().replaceAll("[{}]", ""));
        out.printf(Locale.ROOT, "  %-9s  %-14s  %-14s  %-10s  %-6s  %-7s  %s%n", "partition", "log-start",
                "high-watermark", "bytes", "runs", "objects", "newest-timestamp");
        for (int i = 0; i < t.partitionCount(); i++) {
            PartitionMeta p = s.partition(t.partitionId(i));
            RangeRef[] runs = p.ranges();
            TreeSet<String> objects = new TreeSet<>();
            long newest = -1;
            for (RangeRef r : runs) {
                objects.add(r.object().key());
                newest = Math.max(newest, r.maxTimestamp());
            }
            out.printf(Locale.ROOT, "  %-9d  %-14d  %-14d  %-10s  %-6d  %-7d  %s%n", i, p.logStartOffset(),
                    Math.max(p.endOffset(), p.logStartOffset()), Format.bytes(p.storedBytes()), runs.length,
                    objects.size(), Format.time(newest));
        }
    }

    private static void printObjects(PrintWriter out, StoreView view, ManifestState s) {
        Map<String, List<RangeRef>> runsByObject = new HashMap<>();
        for (PartitionMeta p : s.partitions()) {
            for (RangeRef r : p.ranges()) {
                runsByObject.computeIfAbsent(r.object().key(), k -> new ArrayList<>()).add(r);
            }
        }
        out.println();
        out.printf(Locale.ROOT, "data objects (%d)%n", s.objects().size());
        out.printf(Locale.ROOT, "  %-46s  %-7s  %-10s  %-24s  %s%n", "key", "kind", "size", "committed", "holds");
        for (ObjectMeta o : new TreeMap<>(s.objects()).values()) {
            List<RangeRef> runs = runsByObject.getOrDefault(o.key(), List.of());
            String holds;
            if (runs.isEmpty()) {
                Long since = s.pendingDeletes().get(o.key());
                holds = "unreferenced, awaiting deletion" + (since == null || since <= 0 ? "" : " since " + Format.time(since));
            } else {
                runs.sort((a, b) -> a.partitionId() != b.partitionId() ? Integer.compare(a.partitionId(), b.partitionId())
                        : Long.compare(a.baseOffset(), b.baseOffset()));
                StringBuilder sb = new StringBuilder();
                for (RangeRef r : runs) {
                    if (sb.length() > 0) {
                        sb.append(", ");
                    }
                    sb.append(view.partitionName(r.partitionId())).append(" [").append(r.baseOffset()).append(", ")
                            .append(r.nextOffset()).append(')');
                }
                holds = sb.toString();
            }
            out.printf(Locale.ROOT, "  %-46s  %-7s  %-10s  %-24s  %s%n", o.key(), o.isSegment() ? "segment" : "multi",
                    Format.bytes(o.size()), Format.time(o.createdAtMs()), holds);
        }
        List<ObjectInfo> data = view.listAll(StoreView.DATA);
        long orphanBytes = 0;
        int orphans = 0;
        for (ObjectInfo info : data) {
            if (!s.objects().containsKey(info.key())) {
                orphans++;
                orphanBytes += info.size();
            }
        }
        if (orphans > 0) {
            out.printf(Locale.ROOT, "  + %d data objects (%s) no manifest references: uploads in flight or not"
                    + " committed; the writer deletes them after orphan.scan.interval.ms%n", orphans, Format.bytes(orphanBytes));
        }
        List<ObjectInfo> other = new ArrayList<>();
        for (ObjectInfo info : view.listAll("")) {
            if (!info.key().startsWith(StoreView.DATA) && !info.key().startsWith("manifest/")) {
                other.add(info);
            }
        }
        if (!other.isEmpty()) {
            Map<String, long[]> byPrefix = new TreeMap<>();
            for (ObjectInfo info : other) {
                int slash = info.key().indexOf('/');
                String prefix = slash < 0 ? info.key() : info.key().substring(0, slash + 1);
                long[] c = byPrefix.computeIfAbsent(prefix, k -> new long[2]);
                c[0]++;
                c[1] += info.size();
            }
            out.println();
            out.println("other objects");
            for (Map.Entry<String, long[]> e : byPrefix.entrySet()) {
                out.printf(Locale.ROOT, "  %-20s %d objects, %s%s%n", e.getKey(), e.getValue()[0], Format.bytes(e.getValue()[1]),
                        e.getKey().equals("wal/") ? " (object WAL)" : "");
            }
        }
    }

    private static void printChain(PrintWriter out, StoreView view) {
        List<ObjectInfo> snapshots = view.listAll(StoreView.SNAPSHOTS);
        List<ObjectInfo> deltas = view.listAll(StoreView.DELTAS);
        List<ObjectInfo> fences = view.listAll(StoreView.FENCES);
        out.println();
        out.printf(Locale.ROOT, "manifest chain (%d snapshots, %d deltas kept)%n", snapshots.size(), deltas.size());
        long after = 0;
        if (!snapshots.isEmpty()) {
            for (ObjectInfo info : snapshots) {
                String line;
                try {
                    long[] h = ManifestCodec.peekHeader(info.key(), view.get(info.key()), ManifestCodec.KIND_SNAPSHOT);
                    line = String.format(Locale.ROOT, "version %d, writer epoch %d, written %s", h[0], h[1], Format.time(h[2]));
                    after = Math.max(after, h[0]);
                } catch (RuntimeException e) {
                    line = "unreadable: " + e.getMessage();
                }
                out.printf(Locale.ROOT, "  snapshot %-40s %-10s %s%n", info.key(), Format.bytes(info.size()), line);
            }
        }
        for (ObjectInfo info : deltas) {
            long n = number(info.key(), StoreView.DELTAS);
            if (n >= 0 && n <= after) {
                continue; // covered by the snapshot; kept for in-flight readers until collected
            }
            String line;
            try {
                ManifestCodec.Delta d = ManifestCodec.decodeDelta(info.key(), view.get(info.key()));
                line = String.format(Locale.ROOT, "epoch %d  %s  %s", d.writerEpoch(), Format.time(d.timestampMs()),
                        describe(d.ops(), view));
            } catch (RuntimeException e) {
                line = "unreadable: " + e.getMessage();
            }
            out.printf(Locale.ROOT, "  delta %-8s %s%n", n < 0 ? info.key() : Long.toString(n), line);
        }
        long covered = deltas.stream().filter(d -> {
            long n = number(d.key(), StoreView.DELTAS);
            return n >= 0 && n <= snapshotCutoff(snapshots);
        }).count();
        if (covered > 0) {
            out.printf(Locale.ROOT, "  (+ %d older deltas covered by a snapshot, kept until collected)%n", covered);
        }
        if (!fences.isEmpty()) {
            List<String> epochs = new ArrayList<>();
            for (ObjectInfo f : fences) {
                long e = number(f.key(), StoreView.FENCES);
                epochs.add(e < 0 ? f.key() : Long.toString(e));
            }
            out.printf(Locale.ROOT, "fenced writer epochs: %s%n", String.join(", ", epochs));
        }
    }

    private static long snapshotCutoff(List<ObjectInfo> snapshots) {
        long max = 0;
        for (ObjectInfo s : snapshots) {
            max = Math.max(max, number(s.key(), StoreView.SNAPSHOTS));
        }
        return max;
    }

    static long number(String key, String prefix) {
        try {
            return Long.parseLong(key.substring(prefix.length()));
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            return -1;
        }
    }

    /** One line per delta: what its ops did. */
    static String describe(List<ManifestOp> ops, StoreView view) {
        List<String> parts = new ArrayList<>();
        for (ManifestOp op : ops) {
            if (op instanceof ManifestOp.ClaimEpoch c) {
                parts.add("writer claimed epoch " + c.epoch());
            } else if (op instanceof ManifestOp.CreateTopic c) {
                parts.add("created topic " + c.name() + " (" + c.partitionIds().length + " partition"
                        + (c.partitionIds().length == 1 ? ")" : "s)"));
            } else if (op instanceof ManifestOp.AddPartitions a) {
                parts.add("added " + a.partitionIds().length + " partitions to " + a.name());
            } else if (op instanceof ManifestOp.AlterTopicConfig a) {
                parts.add("altered config of " + a.name() + " to " + new TreeMap<>(a.configs()));
            } else if (op instanceof ManifestOp.DeleteTopic d) {
                parts.add("deleted topic " + d.name());
            } else if (op instanceof ManifestOp.AddObject a) {
                parts.add("added " + (a.object().isSegment() ? "segment " : "object ") + a.object().key() + " ("
                        + Format.bytes(a.object().size()) + ", " + a.ranges().size() + (a.ranges().size() == 1 ? " run)" : " runs)"));
            } else if (op instanceof ManifestOp.RemoveRanges r) {
                parts.add("removed " + r.ranges().size() + " runs of " + view.partitionName(r.partitionId()));
            } else if (op instanceof ManifestOp.SetLogStart l) {
                parts.add("log start of " + view.partitionName(l.partitionId()) + " -> " + l.offset());
            } else if (op instanceof ManifestOp.SetCleanedOffset c) {
                parts.add("cleaned " + view.partitionName(c.partitionId()) + " up to " + c.offset());
            } else if (op instanceof ManifestOp.ObjectsDeleted d) {
                parts.add("deleted " + d.keys().size() + " unreferenced objects");
            } else if (op instanceof ManifestOp.UpdateProducers u) {
                parts.add("producer state of " + view.partitionName(u.partitionId()) + ": " + u.entries().size()
                        + " producer(s) updated" + (u.expired().isEmpty() ? "" : ", " + u.expired().size() + " expired"));
            } else if (op instanceof ManifestOp.AllocateProducerIds a) {
                parts.add("producer ids reserved below " + a.next());
            } else {
                parts.add(op.getClass().getSimpleName());
            }
        }
        return parts.isEmpty() ? "(no changes)" : String.join("; ", parts);
    }
}
