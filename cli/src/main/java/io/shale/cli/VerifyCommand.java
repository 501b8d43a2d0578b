package io.shale.cli;

import io.shale.log.ShaleException;
import io.shale.log.ErrorKind;
import io.shale.log.internal.format.BlockInfo;
import io.shale.log.internal.format.DataObjectIndex;
import io.shale.log.internal.manifest.ManifestCodec;
import io.shale.log.internal.manifest.ManifestState;
import io.shale.log.internal.manifest.ObjectMeta;
import io.shale.log.internal.manifest.PartitionMeta;
import io.shale.log.internal.manifest.RangeRef;
import io.shale.log.internal.manifest.TopicMeta;
import io.shale.log.internal.util.Crc32c;
import io.shale.log.internal.util.StoreCalls;
import io.shale.log.record.RecordBatch;
import io.shale.log.record.RecordBatches;
import io.shale.log.spi.ObjectInfo;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code shale verify}: every object's CRCs and the manifest's integrity. */
@Command(name = "verify", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Checks a store end to end and exits 1 on any problem:",
                "  - the manifest: the latest snapshot and every delta after it load and apply; every manifest"
                        + " file present passes its CRC;",
                "  - every partition: its runs are in offset order without overlaps, contiguous from the log start"
                        + " to the high watermark (gaps are allowed only in key-compacted partitions), and each run"
                        + " lies inside its object and matches the object's index;",
                "  - every data object the manifest references: it exists with the recorded size; its footer and"
                        + " index pass their CRCs; every block passes its CRC-32C and holds whole record batches, each"
                        + " passing its own CRC-32C, of the block's partition and offsets.",
                "Objects awaiting deletion and data objects no manifest references (uploads in flight) are counted,"
                        + " not checked. Opens the store read-only; safe beside a live writer (an object the writer"
                        + " deletes meanwhile is re-checked against a fresh manifest before it counts as missing)."})
final class VerifyCommand implements Callable<Integer> {
    @Mixin
    StoreOptions storeOptions;

    @Option(names = "--progress", description = "Draw a progress bar on stderr even when it is not a terminal.")
    boolean progress;

    @Spec
    CommandSpec spec;

    private PrintWriter out;
    private final List<String> problems = new ArrayList<>();

    @Override
    public Integer call() {
        out = spec.commandLine().getOut();
        try (StoreView view = StoreView.open(storeOptions)) {
            out.printf(Locale.ROOT, "verifying %s (opened read-only)%n", view.description());
            ManifestState s;
            try {
                s = view.loadManifest();
            } catch (ShaleException e) {
                if (e.kind() != ErrorKind.CORRUPT_STORAGE) {
                    throw e;
                }
                problem("manifest: " + e.getMessage());
                return finish();
            }
            verifyManifestFiles(view);
            Map<String, List<RangeRef>> runsByObject = verifyPartitions(s);
            verifyObjects(view, s, runsByObject);
        }
        return finish();
    }

    private int finish() {
        if (problems.isEmpty()) {
            out.println("OK: no problems found");
            out.flush();
            return ShaleCli.EXIT_OK;
        }
        out.printf(Locale.ROOT, "FAILED: %d problem%s found%n", problems.size(), problems.size() == 1 ? "" : "s");
        out.flush();
        return ShaleCli.EXIT_PROBLEMS;
    }

    private void problem(String what) {
        problems.add(what);
        out.println("PROBLEM: " + what);
    }

    // ------------------------------------------------------------------ manifest files

    private void verifyManifestFiles(StoreView view) {
        int files = 0;
        for (ObjectInfo info : view.listAll(StoreView.SNAPSHOTS)) {
            files += decodeManifestFile(view, info.key(), ManifestCodec.KIND_SNAPSHOT) ? 1 : 0;
        }
        for (ObjectInfo info : view.listAll(StoreView.DELTAS)) {
            files += decodeManifestFile(view, info.key(), ManifestCodec.KIND_DELTA) ? 1 : 0;
        }
        out.printf(Locale.ROOT, "manifest: version %d loads; %d manifest files pass their CRC%n", view.state().version(), files);
    }

    private boolean decodeManifestFile(StoreView view, String key, int kind) {
        ByteBuffer bytes;
        try {
            bytes = view.get(key);
        } catch (ShaleException e) {
            if (StoreCalls.isNotFound(e)) {
                return false; // collected by the writer after the listing: no longer part of the chain
            }
            throw e;
        }
        try {
            if (kind == ManifestCodec.KIND_DELTA) {
                ManifestCodec.decodeDelta(key, bytes);
            } else {
                ManifestCodec.decodeSnapshot(key, bytes);
            }
            return true;
        } catch (RuntimeException e) {
            problem("manifest file " + key + ": " + e.getMessage());
            return false;
        }
    }

    // ------------------------------------------------------------------ partitions

    /** Checks every partition's runs; returns the runs grouped by object. */
    private Map<String, List<RangeRef>> verifyPartitions(ManifestState s) {
        Map<String, List<RangeRef>> byObject = new TreeMap<>();
        int partitions = 0;
        for (TopicMeta t : s.topics().values()) {
            boolean compacted = t.configs().getOrDefault("cleanup.policy", "delete").contains("compact");
            for (int i = 0; i < t.partitionCount(); i++) {
                PartitionMeta p = s.partition(t.partitionId(i));
                String name = t.name() + "-" + i;
                if (p == null) {
                    problem(name + ": the manifest has no partition id " + t.partitionId(i));
                    continue;
                }
                partitions++;
                boolean gapsAllowed = compacted || p.cleanedOffset() > 0;
                RangeRef[] runs = p.ranges();
                for (int k = 0; k < runs.length; k++) {
                    RangeRef r = runs[k];
                    byObject.computeIfAbsent(r.object().key(), x -> new ArrayList<>()).add(r);
                    if (r.nextOffset() <= r.baseOffset()) {
                        problem(name + ": run " + describe(r) + " is empty or reversed");
                    }
                    if (!s.objects().containsKey(r.object().key())) {
                        problem(name + ": run " + describe(r) + " refers to an object the manifest does not list");
                    }
                    ObjectMeta o = r.object();
                    if (r.position() < 0 || r.length() <= 0 || r.position() + r.length() > o.indexPosition()
                            || o.indexPosition() > o.size()) {
                        problem(name + ": run " + describe(r) + " does not lie within the data section of " + o.key()
                                + " (" + o.indexPosition() + " bytes of data, " + o.size() + " in all)");
                    }
                    if (k > 0) {
                        RangeRef prev = runs[k - 1];
                        if (r.baseOffset() < prev.nextOffset()) {
                            problem(name + ": runs overlap: " + describe(prev) + " and " + describe(r));
                        } else if (r.baseOffset() > prev.nextOffset() && !gapsAllowed) {
                            problem(name + ": offsets " + prev.nextOffset() + ".." + (r.baseOffset() - 1)
                                    + " are missing between " + describe(prev) + " and " + describe(r));
                        }
                    }
                }
                if (runs.length > 0 && !gapsAllowed) {
                    if (runs[0].baseOffset() > p.logStartOffset()) {
                        problem(name + ": offsets " + p.logStartOffset() + ".." + (runs[0].baseOffset() - 1)
                                + " (from the log start) are in no run; the first is " + describe(runs[0]));
                    }
                    if (runs[runs.length - 1].nextOffset() != p.endOffset()) {
                        problem(name + ": the last run " + describe(runs[runs.length - 1]) + " does not end at the"
                                + " high watermark " + p.endOffset());
                    }
                } else if (runs.length == 0 && p.endOffset() > p.logStartOffset()) {
                    problem(name + ": offsets " + p.logStartOffset() + ".." + (p.endOffset() - 1)
                            + " are committed but in no run");
                }
            }
        }
        out.printf(Locale.ROOT, "partitions: %d checked (runs ordered, contiguous, within their objects)%n", partitions);
        return byObject;
    }

    private static String describe(RangeRef r) {
        return "[" + r.baseOffset() + ", " + r.nextOffset() + ") in " + r.object().key();
    }

    // ------------------------------------------------------------------ objects

    private void verifyObjects(StoreView view, ManifestState s, Map<String, List<RangeRef>> runsByObject) {
        long total = 0;
        for (String key : runsByObject.keySet()) {
            total += runsByObject.get(key).get(0).object().size();
        }
        Map<String, ObjectMeta> missing = new LinkedHashMap<>();
        long bytes = 0;
        int checked = 0;
        int blocks = 0;
        long batches = 0;
        try (Progress bar = new Progress(spec.commandLine().getErr(), Progress.wanted(progress), "verify", total)) {
            for (Map.Entry<String, List<RangeRef>> e : runsByObject.entrySet()) {
                ObjectMeta o = e.getValue().get(0).object();
                Optional<ObjectInfo> info = view.head(o.key());
                if (info.isEmpty()) {
                    missing.put(o.key(), o);
                    bar.advance(o.size());
                    continue;
                }
                long[] counts = verifyObject(view, o, info.get(), e.getValue());
                checked++;
                bytes += info.get().size();
                blocks += (int) counts[0];
                batches += counts[1];
                bar.advance(o.size());
            }
        }
        if (!missing.isEmpty()) {
            // A live writer may have replaced and deleted objects since the manifest was loaded (after
            // object.delete.grace.ms): only those a fresh manifest still references are missing.
            ManifestState fresh = view.loadManifest();
            for (ObjectMeta o : missing.values()) {
                boolean stillReferenced = fresh.refCount(o.key()) > 0;
                if (stillReferenced && view.head(o.key()).isEmpty()) {
                    List<String> holders = new ArrayList<>();
                    for (RangeRef r : runsByObject.get(o.key())) {
                        holders.add(view.partitionName(r.partitionId()) + " [" + r.baseOffset() + ", " + r.nextOffset() + ")");
                    }
                    problem("object " + o.key() + " is missing; the manifest references it for " + String.join(", ", holders));
                }
            }
        }
        int pending = s.pendingDeletes().size();
        int orphans = 0;
        for (ObjectInfo info : view.listAll(StoreView.DATA)) {
            if (!s.objects().containsKey(info.key())) {
                orphans++;
            }
        }
        out.printf(Locale.ROOT, "objects: %d referenced data objects checked (%s, %d blocks, %d batches; every CRC)%s%s%n",
                checked, Format.bytes(bytes), blocks, batches,
                pending == 0 ? "" : "; " + pending + " awaiting deletion not checked",
                orphans == 0 ? "" : "; " + orphans + " not in the manifest (in flight or orphaned) not checked");
    }

    /** Verifies one object; returns {blocks, batches} checked. */
    private long[] verifyObject(StoreView view, ObjectMeta o, ObjectInfo info, List<RangeRef> runs) {
        String key = o.key();
        if (info.size() != o.size()) {
            problem("object " + key + " has " + info.size() + " bytes; the manifest recorded " + o.size());
            return new long[2];
        }
        DataObjectIndex index;
        try {
            index = view.readIndex(key, info.size());
        } catch (ShaleException e) {
            if (e.kind() != ErrorKind.CORRUPT_STORAGE) {
                throw e;
            }
            problem("object " + key + ": " + e.getMessage());
            return new long[2];
        }
        if (index.indexPosition() != o.indexPosition()) {
            problem("object " + key + ": its index starts at " + index.indexPosition() + "; the manifest recorded "
                    + o.indexPosition());
        }
        List<BlockInfo> blocks = index.blocks();
        for (RangeRef r : runs) {
            checkRunAgainstIndex(r, blocks);
        }
        long[] batches = new long[1];
        try {
            view.readBlocks(key, blocks, (b, bytes) -> batches[0] += verifyBlock(key, b, bytes));
        } catch (ShaleException e) {
            if (e.kind() != ErrorKind.CORRUPT_STORAGE) {
                throw e;
            }
            problem("object " + key + ": " + e.getMessage());
        }
        return new long[] {blocks.size(), batches[0]};
    }

    private void checkRunAgainstIndex(RangeRef r, List<BlockInfo> blocks) {
        String what = "run of " + r.object().key() + " for partition id " + r.partitionId() + " [" + r.baseOffset() + ", "
                + r.nextOffset() + ")";
        if (r.firstBlock() < 0 || r.blockCount() < 1 || r.firstBlock() + r.blockCount() > blocks.size()) {
            problem(what + " names blocks " + r.firstBlock() + "+" + r.blockCount() + "; the object has " + blocks.size());
            return;
        }
        BlockInfo first = blocks.get(r.firstBlock());
        BlockInfo last = blocks.get(r.firstBlock() + r.blockCount() - 1);
        long length = 0;
        for (int i = r.firstBlock(); i < r.firstBlock() + r.blockCount(); i++) {
            BlockInfo b = blocks.get(i);
            length += b.size();
            if (b.partitionId() != r.partitionId()) {
                problem(what + ": its block " + i + " belongs to partition id " + b.partitionId());
            }
        }
        if (first.position() != r.position() || length != r.length()) {
            problem(what + " is recorded at " + r.position() + "+" + r.length() + " but its blocks span "
                    + first.position() + "+" + length);
        }
        if (first.baseOffset() != r.baseOffset() || last.nextOffset() != r.nextOffset()) {
            problem(what + ": its blocks cover [" + first.baseOffset() + ", " + last.nextOffset() + ")");
        }
        if (r.blockCount() == 1 && r.singleBlockCrc() != first.crc()) {
            problem(what + ": the manifest's block CRC 0x" + Integer.toHexString(r.singleBlockCrc())
                    + " differs from the index's 0x" + Integer.toHexString(first.crc()));
        }
    }

    /** Verifies one block's CRC and batches; returns the number of batches. */
    private int verifyBlock(String key, BlockInfo b, ByteBuffer bytes) {
        String where = "object " + key + ", block at " + b.position() + " (partition id " + b.partitionId() + ", offsets ["
                + b.baseOffset() + ", " + b.nextOffset() + "))";
        if (bytes.remaining() != b.size()) {
            problem(where + ": " + bytes.remaining() + " bytes read, " + b.size() + " expected");
            return 0;
        }
        int crc = Crc32c.compute(bytes);
        if (crc != b.crc()) {
            problem(where + ": CRC-32C mismatch (index 0x" + Integer.toHexString(b.crc()) + ", bytes 0x"
                    + Integer.toHexString(crc) + ")");
            return 0;
        }
        List<RecordBatch> batches;
        try {
            batches = RecordBatches.split(bytes);
        } catch (RuntimeException e) {
            problem(where + ": not whole record batches: " + e.getMessage());
            return 0;
        }
        long next = b.baseOffset();
        for (RecordBatch batch : batches) {
            if (!batch.isValid()) {
                problem(where + ": the batch at base offset " + batch.baseOffset() + " fails its CRC-32C");
            }
            if (batch.baseOffset() < next || batch.lastOffset() >= b.nextOffset()) {
                problem(where + ": the batch [" + batch.baseOffset() + ", " + batch.lastOffset()
                        + "] is out of order or outside the block's offsets");
            }
            next = batch.lastOffset() + 1;
        }
        return batches.size();
    }
}
