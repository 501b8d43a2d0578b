package io.shale.cli;

import static io.shale.log.internal.util.StoreCalls.await;

import io.shale.log.internal.format.BlockInfo;
import io.shale.log.internal.format.DataObjectFormat;
import io.shale.log.internal.format.DataObjectIndex;
import io.shale.log.internal.manifest.ManifestState;
import io.shale.log.internal.manifest.ObjectStoreCatalog;
import io.shale.log.internal.manifest.PartitionMeta;
import io.shale.log.internal.manifest.TopicMeta;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;

/**
 * A read-only view of a store: its manifest as of one load, and raw reads of its objects. Loading
 * the manifest lists and reads manifest files only; it never writes, claims or fences.
 */
final class StoreView implements AutoCloseable {
    static final String SNAPSHOTS = "manifest/snapshots/";
    static final String DELTAS = "manifest/deltas/";
    static final String FENCES = "manifest/fence/";
    static final String DATA = "data/";
    /** Largest ranged GET when reading blocks. */
    static final long MAX_READ_BYTES = 8L << 20;

    private final ObjectStore store;
    private final String description;
    private ManifestState state;

    private StoreView(ObjectStore store, String description) {
        this.store = store;
        this.description = description;
    }

    /** Opens the store's objects read-only; the manifest is loaded by {@link #loadManifest()}. */
    static StoreView open(StoreOptions options) {
        String description = options.describe();
        return new StoreView(options.openObjectStore(), description);
    }

    ObjectStore store() {
        return store;
    }

    String description() {
        return description;
    }

    /** Loads the latest manifest (snapshot plus deltas): reads only. */
    ManifestState loadManifest() {
        if (!anyUnder("manifest/")) {
            throw new CliException("no Shale store at " + description + ": it holds no manifest"
                    + (description.startsWith("s3://") ? " (check --bucket and --prefix)" : ""));
        }
        ObjectStoreCatalog catalog = new ObjectStoreCatalog(store, Clock.systemUTC(), Integer.MAX_VALUE, Long.MAX_VALUE);
        catalog.load(new ManifestState.Listener() {
        });
        state = catalog.state();
        return state;
    }

    ManifestState state() {
        if (state == null) {
            loadManifest();
        }
        return state;
    }

    /** Whether any object exists under {@code prefix}. */
    boolean anyUnder(String prefix) {
        String after = null;
        while (true) {
            ListPage page = await(store.list(prefix, after, 1), "listing " + prefix + " in " + description);
            if (!page.objects().isEmpty()) {
                return true;
            }
            if (page.isLast()) {
                return false;
            }
            after = page.nextStartAfter();
        }
    }

    /** Every object under {@code prefix}, in key order. */
    List<ObjectInfo> listAll(String prefix) {
        List<ObjectInfo> out = new ArrayList<>();
        String after = null;
        while (true) {
            ListPage page = await(store.list(prefix, after, 1000), "listing " + prefix + " in " + description);
            out.addAll(page.objects());
            if (page.isLast()) {
                return out;
            }
            after = page.nextStartAfter();
        }
    }

    Optional<ObjectInfo> head(String key) {
        return await(store.head(key), "reading the metadata of " + key);
    }

    ByteBuffer get(String key) {
        return await(store.get(key), "reading " + key);
    }

    ByteBuffer get(String key, long offset, long length) {
        return await(store.get(key, offset, length), "reading " + key + " at " + offset + "+" + length);
    }

    /** Reads and decodes a data object's index (footer and index CRCs checked). */
    DataObjectIndex readIndex(String key, long size) {
        if (size < DataObjectFormat.FOOTER_SIZE) {
            throw new io.shale.log.internal.format.CorruptObjectException("data object '" + key + "': " + size
                    + " bytes is too short for a footer");
        }
        ByteBuffer footer = get(key, size - DataObjectFormat.FOOTER_SIZE, DataObjectFormat.FOOTER_SIZE);
        long[] f = DataObjectIndex.decodeFooter(key, footer, size);
        ByteBuffer indexAndFooter = get(key, f[0], size - f[0]);
        return DataObjectIndex.decode(key, indexAndFooter, size);
    }

    /**
     * Reads {@code blocks} (consecutive blocks of one object, in order) with ranged GETs of at most
     * 8 MiB (or one block, if larger) and hands each block's bytes to {@code action}, unverified.
     */
    void readBlocks(String key, List<BlockInfo> blocks, BiConsumer<BlockInfo, ByteBuffer> action) {
        int i = 0;
        while (i < blocks.size()) {
            int j = i;
            long start = blocks.get(i).position();
            long end = start;
            while (j < blocks.size() && (j == i || end + blocks.get(j).size() - start <= MAX_READ_BYTES)
                    && blocks.get(j).position() == end) {
                end += blocks.get(j).size();
                j++;
            }
            ByteBuffer bytes = get(key, start, end - start);
            for (int k = i; k < j; k++) {
                BlockInfo b = blocks.get(k);
                int from = (int) (b.position() - start);
                int to = Math.min(bytes.limit(), from + b.size());
                ByteBuffer slice = from <= to ? bytes.slice(from, to - from) : ByteBuffer.allocate(0);
                action.accept(b, slice);
            }
            i = j;
        }
    }

    /** "topic-index" of a store-wide partition id, or "partition id N" if the manifest has none. */
    String partitionName(int partitionId) {
        PartitionMeta p = state == null ? null : state.partition(partitionId);
        return p == null ? "partition id " + partitionId + " (no topic)" : p.topic() + "-" + p.index();
    }

    /** The topic, or a usage error naming the topics there are. */
    TopicMeta requireTopic(String topic) {
        TopicMeta t = state().topic(topic);
        if (t == null) {
            Map<String, TopicMeta> topics = state().topics();
            throw new CliException("unknown topic '" + topic + "' in " + description + " (topics: "
                    + (topics.isEmpty() ? "none" : String.join(", ", topics.keySet())) + ")");
        }
        return t;
    }

    /** The partition of a topic, or a usage error. */
    PartitionMeta requirePartition(TopicMeta t, int index) {
        if (index < 0 || index >= t.partitionCount()) {
            throw new CliException("topic '" + t.name() + "' has partitions 0.." + (t.partitionCount() - 1)
                    + ", not " + index);
        }
        return state().partition(t.partitionId(index));
    }

    @Override
    public void close() {
        store.close();
    }
}
