package io.shale.benchmarks;

import io.shale.log.LogStore;
import io.shale.log.StoreConfig;
import io.shale.log.TopicConfig;
import io.shale.storage.local.LocalStorage;
import java.nio.file.Path;
import java.util.Map;

/**
 * The one place where the benchmarks build a Shale store: a file WAL and a local-directory object
 * store (storage-local), both under one scratch directory, so that every Shale benchmark measures
 * the embedded default on the same disk as the raw limits and the peers.
 *
 * <p>run.sh asks {@link #main} first and leaves the Shale benchmarks out if no store can be opened.
 *
 * <p>The settings below keep long runs within the disk: they make uploads, compaction and
 * retention run often, and cap what each partition keeps.
 */
public final class ShaleStores {

    /** Store settings for benchmarks (on top of {@link StoreConfig#defaults()}). */
    public static final Map<String, Object> STORE_SETTINGS = Map.of(
            StoreConfig.RETENTION_CHECK_INTERVAL_MS, 1_000L,
            StoreConfig.OBJECT_DELETE_GRACE_MS, 1_000L,
            StoreConfig.COMPACTION_INTERVAL_MS, 1_000L);

    /** Topic settings for benchmarks: bounded size per partition, small segments so retention can act. */
    public static final Map<String, Object> TOPIC_SETTINGS = Map.of(
            TopicConfig.RETENTION_BYTES, 256L << 20,
            TopicConfig.SEGMENT_BYTES, 32 << 20);

    private ShaleStores() {
    }

    /**
     * Opens a writable store whose WAL and object-store directory live under {@code dir} (which
     * exists and is empty), with {@link #STORE_SETTINGS} and then {@code settings} applied. The
     * caller closes the store and then deletes {@code dir}.
     */
    public static LogStore open(Path dir, Map<String, ?> settings) {
        return LocalStorage.builder(dir).config(STORE_SETTINGS).config(settings).open();
    }

    /**
     * Probe used by run.sh: opens and closes a store in a scratch directory. Exits 0 and prints
     * "ok" when Shale can be benchmarked; otherwise prints the reason on one line and exits 3.
     */
    public static void main(String[] args) {
        Path dir = BenchDirs.create("shale-probe");
        try (LogStore store = open(dir, Map.of())) {
            store.listTopics();
            System.out.println("ok");
        } catch (RuntimeException e) {
            System.out.println(e.getClass().getSimpleName() + ": " + e.getMessage());
            BenchDirs.delete(dir);
            System.exit(3);
        }
        BenchDirs.delete(dir);
    }
}
