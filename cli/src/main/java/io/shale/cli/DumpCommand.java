package io.shale.cli;

import io.shale.log.internal.format.BlockInfo;
import io.shale.log.internal.format.DataObjectIndex;
import io.shale.log.internal.manifest.ManifestState;
import io.shale.log.internal.manifest.PartitionMeta;
import io.shale.log.internal.manifest.RangeRef;
import io.shale.log.internal.manifest.TopicMeta;
import io.shale.log.internal.util.Crc32c;
import io.shale.log.record.Header;
import io.shale.log.record.Record;
import io.shale.log.record.RecordBatch;
import io.shale.log.record.RecordBatches;
import io.shale.log.spi.ObjectInfo;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code shale dump}: record batches as stored, like Kafka's kafka-dump-log. */
@Command(name = "dump", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Prints stored record batches like Kafka's kafka-dump-log: per batch its base and last offset,"
                        + " record count, timestamps, codec, size, position in the object and whether its CRC-32C"
                        + " is valid; with --print-data each record's offset, timestamp, key, value and headers.",
                "Dumps a topic-partition's offset range (or every partition of a topic, or of every topic), or"
                        + " every block of one data object (--object). Keys and values print as UTF-8 when they"
                        + " are, otherwise as 0x-hex.",
                "Opens the store read-only. Exit code 1 if a batch or block fails its CRC or cannot be parsed."})
final class DumpCommand implements Callable<Integer> {
    @Mixin
    StoreOptions storeOptions;

    @Option(names = "--topic", paramLabel = "TOPIC", description = "The topic (default: every topic).")
    String topic;

    @Option(names = "--partition", paramLabel = "N", description = "The partition (default: every partition of the topic).")
    Integer partition;

    @Option(names = "--from-offset", paramLabel = "OFFSET",
            description = "First offset to dump (default: the log start). Batches holding it or later are printed.")
    Long fromOffset;

    @Option(names = "--to-offset", paramLabel = "OFFSET",
            description = "Stop before this offset (exclusive; default: the high watermark).")
    Long toOffset;

    @Option(names = "--object", paramLabel = "KEY", description = "Dump one data object by key (e.g. data/00000000000000000001-00000000000000000001),"
            + " block by block, instead of a topic.")
    String object;

    @Option(names = "--print-data", description = "Print each record: offset, timestamp, key, value, headers.")
    boolean printData;

    @Option(names = "--progress", description = "Draw a progress bar on stderr even when it is not a terminal.")
    boolean progress;

    @Spec
    CommandSpec spec;

    private PrintWriter out;
    private int problems;

    @Override
    public Integer call() {
        out = spec.commandLine().getOut();
        if (object != null && (topic != null || partition != null || fromOffset != null || toOffset != null)) {
            throw new CliException("--object dumps a whole object; it does not combine with --topic, --partition,"
                    + " --from-offset or --to-offset");
        }
        if (partition != null && topic == null) {
            throw new CliException("--partition needs --topic");
        }
        if (fromOffset != null && toOffset != null && toOffset < fromOffset) {
            throw new CliException("--to-offset " + toOffset + " is below --from-offset " + fromOffset);
        }
        try (StoreView view = StoreView.open(storeOptions)) {
            if (object != null) {
                dumpObject(view);
            } else {
                dumpPartitions(view);
            }
        }
        out.flush();
        if (problems > 0) {
            spec.commandLine().getErr().printf(Locale.ROOT, "%d problems found (see CORRUPT lines)%n", problems);
            spec.commandLine().getErr().flush();
            return ShaleCli.EXIT_PROBLEMS;
        }
        return ShaleCli.EXIT_OK;
    }

    // ------------------------------------------------------------------ partitions

    private void dumpPartitions(StoreView view) {
        ManifestState s = view.loadManifest();
        List<PartitionMeta> parts = new ArrayList<>();
        List<TopicMeta> topics = topic == null ? new ArrayList<>(s.topics().values()) : List.of(view.requireTopic(topic));
        for (TopicMeta t : topics) {
            if (partition != null) {
                parts.add(view.requirePartition(t, partition));
            } else {
                for (int i = 0; i < t.partitionCount(); i++) {
                    parts.add(s.partition(t.partitionId(i)));
                }
            }
        }
        long total = 0;
        for (PartitionMeta p : parts) {
            for (RangeRef r : runsInRange(p)) {
                total += r.length();
            }
        }
        Map<String, DataObjectIndex> indexes = new HashMap<>();
        try (Progress bar = new Progress(spec.commandLine().getErr(), Progress.wanted(progress), "dump", total)) {
            for (PartitionMeta p : parts) {
                long from = from(p);
                long to = to(p);
                out.printf(Locale.ROOT, "Dumping %s-%d offsets [%d, %s) (log start %d, high watermark %d)%n",
                        p.topic(), p.index(), from, to == Long.MAX_VALUE ? "end" : Long.toString(to), p.logStartOffset(),
                        Math.max(p.endOffset(), p.logStartOffset()));
                for (RangeRef r : runsInRange(p)) {
                    out.printf(Locale.ROOT, "Run of offsets [%d, %d) in %s at position %d (%d bytes, %d blocks)%n",
                            r.baseOffset(), r.nextOffset(), r.object().key(), r.position(), r.length(), r.blockCount());
                    DataObjectIndex index;
                    try {
                        index = indexes.computeIfAbsent(r.object().key(), k -> view.readIndex(k, r.object().size()));
                    } catch (RuntimeException e) {
                        corrupt("cannot read the index of " + r.object().key() + ": " + e.getMessage());
                        bar.advance(r.length());
                        continue;
                    }
                    if (r.firstBlock() + r.blockCount() > index.blocks().size()) {
                        corrupt("the run names blocks " + r.firstBlock() + "+" + r.blockCount() + " but " + r.object().key()
                                + " has " + index.blocks().size());
                        bar.advance(r.length());
                        continue;
                    }
                    List<BlockInfo> blocks = new ArrayList<>();
                    for (BlockInfo b : index.blocks().subList(r.firstBlock(), r.firstBlock() + r.blockCount())) {
                        if (b.nextOffset() > from && b.baseOffset() < to) {
                            blocks.add(b);
                        } else {
                            bar.advance(b.size());
                        }
                    }
                    view.readBlocks(r.object().key(), blocks, (b, bytes) -> {
                        dumpBlock(r.object().key(), b, bytes, from, to, false, view);
                        bar.advance(b.size());
                    });
                }
            }
        }
    }

    private List<RangeRef> runsInRange(PartitionMeta p) {
        List<RangeRef> out = new ArrayList<>();
        long from = from(p);
        long to = to(p);
        for (RangeRef r : p.ranges()) {
            if (r.nextOffset() > from && r.baseOffset() < to) {
                out.add(r);
            }
        }
        return out;
    }

    private long from(PartitionMeta p) {
        return fromOffset != null ? fromOffset : p.logStartOffset();
    }

    private long to(PartitionMeta p) {
        return toOffset != null ? toOffset : Long.MAX_VALUE;
    }

    // ------------------------------------------------------------------ one object

    private void dumpObject(StoreView view) {
        Optional<ObjectInfo> info = view.head(object);
        if (info.isEmpty()) {
            throw new CliException("no object '" + object + "' in " + view.description()
                    + " (inspect lists the data objects)");
        }
        try {
            view.loadManifest(); // for partition names; the object is dumped without them if this fails
        } catch (RuntimeException e) {
            out.println("(manifest not readable, partitions shown by id: " + e.getMessage() + ")");
        }
        long size = info.get().size();
        DataObjectIndex index;
        try {
            index = view.readIndex(object, size);
        } catch (RuntimeException e) {
            corrupt("cannot read the index of " + object + ": " + e.getMessage());
            return;
        }
        out.printf(Locale.ROOT, "Dumping %s (%d bytes, %d blocks, index at %d)%n", object, size, index.blocks().size(),
                index.indexPosition());
        try (Progress bar = new Progress(spec.commandLine().getErr(), Progress.wanted(progress), "dump", index.indexPosition())) {
            view.readBlocks(object, index.blocks(), (b, bytes) -> {
                dumpBlock(object, b, bytes, Long.MIN_VALUE, Long.MAX_VALUE, true, view);
                bar.advance(b.size());
            });
        }
    }

    // ------------------------------------------------------------------ blocks and batches

    private void dumpBlock(String key, BlockInfo b, ByteBuffer bytes, long from, long to, boolean header, StoreView view) {
        boolean crcOk = bytes.remaining() == b.size() && Crc32c.compute(bytes) == b.crc();
        if (header) {
            out.printf(Locale.ROOT, "Block at position %d: %s offsets [%d, %d), %d bytes, block CRC %s%n", b.position(),
                    view.partitionName(b.partitionId()), b.baseOffset(), b.nextOffset(), b.size(),
                    crcOk ? "valid" : "INVALID");
        }
        if (!crcOk) {
            corrupt("block at position " + b.position() + " of " + key + " fails its CRC-32C (" + bytes.remaining()
                    + " of " + b.size() + " bytes read)");
        }
        List<RecordBatch> batches;
        try {
            batches = RecordBatches.split(bytes);
        } catch (RuntimeException e) {
            corrupt("block at position " + b.position() + " of " + key + " does not parse as record batches: "
                    + e.getMessage());
            return;
        }
        long position = b.position();
        for (RecordBatch batch : batches) {
            if (batch.lastOffset() >= from && batch.baseOffset() < to) {
                printBatch(batch, position);
            }
            position += batch.sizeInBytes();
        }
    }

    private void printBatch(RecordBatch batch, long position) {
        boolean valid = batch.isValid();
        out.printf(Locale.ROOT, "baseOffset: %d lastOffset: %d count: %d baseSequence: %d producerId: %d producerEpoch: %d"
                        + " partitionLeaderEpoch: %d isTransactional: %s isControl: %s position: %d %s: %d"
                        + " baseTimestamp: %d size: %d magic: %d compresscodec: %s crc: %d isvalid: %s%n",
                batch.baseOffset(), batch.lastOffset(), batch.recordCount(), batch.baseSequence(), batch.producerId(),
                batch.producerEpoch(), batch.partitionLeaderEpoch(), batch.isTransactional(), batch.isControlBatch(),
                position, batch.timestampType().kafkaName, batch.maxTimestamp(), batch.baseTimestamp(),
                batch.sizeInBytes(), batch.magic(), batch.compressionType().kafkaName, batch.checksum(), valid);
        if (!valid) {
            corrupt("batch at base offset " + batch.baseOffset() + " (position " + position + ") fails its CRC-32C");
            return;
        }
        if (!printData) {
            return;
        }
        try {
            for (Record r : batch) {
                StringBuilder h = new StringBuilder();
                for (Header header : r.headers()) {
                    if (h.length() > 0) {
                        h.append(',');
                    }
                    h.append(header.key()).append('=').append(Format.escaped(header.value()));
                }
                out.printf(Locale.ROOT, "| offset: %d %s: %d keySize: %d valueSize: %d headers: [%s] key: %s payload: %s%n",
                        r.offset(), batch.timestampType().kafkaName, r.timestamp(),
                        r.key() == null ? -1 : r.key().remaining(), r.value() == null ? -1 : r.value().remaining(), h,
                        Format.escaped(r.key()), Format.escaped(r.value()));
            }
        } catch (RuntimeException e) {
            corrupt("records of the batch at base offset " + batch.baseOffset() + " cannot be read: " + e.getMessage());
        }
    }

    private void corrupt(String what) {
        problems++;
        out.println("CORRUPT: " + what);
    }
}
