package io.shale.reliability.support;

import io.shale.log.ErrorKind;
import io.shale.log.LogStore;
import io.shale.log.ShaleException;
import io.shale.log.StoreConfig;
import io.shale.log.TopicPartition;
import io.shale.log.internal.engine.StoreEngine;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.WriteAheadLog;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** Opening stores and retrying admin calls in tests where the object store fails on purpose. */
public final class Stores {
    private Stores() {
    }

    /**
     * Settings that make every background task run constantly: uploads every few milliseconds,
     * compaction and retention checks, snapshots every few deltas, deletion without grace.
     */
    public static Map<String, Object> busy() {
        return Map.ofEntries(
                Map.entry(StoreConfig.UPLOAD_INTERVAL_MS, 20),
                Map.entry(StoreConfig.UPLOAD_BYTES, 16 << 10),
                Map.entry(StoreConfig.OBJECT_BLOCK_BYTES, 4 << 10),
                Map.entry(StoreConfig.COMPACTION_INTERVAL_MS, 40),
                Map.entry(StoreConfig.COMPACTION_MAX_SMALL_OBJECTS, 4),
                Map.entry(StoreConfig.RETENTION_CHECK_INTERVAL_MS, 50),
                Map.entry(StoreConfig.OBJECT_DELETE_GRACE_MS, 0),
                Map.entry(StoreConfig.ORPHAN_SCAN_INTERVAL_MS, 100),
                Map.entry(StoreConfig.MANIFEST_SNAPSHOT_DELTAS, 4),
                Map.entry(StoreConfig.LOG_CACHE_BYTES, 8 << 20),
                Map.entry(StoreConfig.BLOCK_CACHE_BYTES, 1 << 20),
                Map.entry(StoreConfig.APPEND_MAX_BLOCK_MS, 20_000),
                Map.entry(StoreConfig.OBJECT_STORE_RETRY_DEADLINE_MS, 5_000));
    }

    /** Topic settings that roll small segments quickly. */
    public static Map<String, Object> smallSegments() {
        return Map.of("segment.bytes", 8 << 10, "segment.ms", 200);
    }

    /** Opens a store, repeating retriable failures (the object store may be failing) up to {@code attempts} times. */
    public static LogStore open(Supplier<ObjectStore> objectStore, Supplier<WriteAheadLog> wal, Clock clock,
            StoreConfig config, int attempts) {
        ShaleException last = null;
        for (int i = 0; i < attempts; i++) {
            try {
                return StoreEngine.open(objectStore.get(), wal.get(), clock, config);
            } catch (ShaleException e) {
                // STORAGE_ACCESS: an injected PERMANENT failure (fault-injecting stores fail requests
                // PERMANENT at random, so another attempt may succeed).
                if (!e.isRetriable() && e.kind() != ErrorKind.STORAGE_ACCESS) {
                    throw e;
                }
                last = e;
                sleep(20);
            }
        }
        throw new AssertionError("could not open the store in " + attempts + " attempts", last);
    }

    /**
     * Runs an admin call until it succeeds or fails with something other than UNAVAILABLE or
     * STORAGE_ACCESS (an injected PERMANENT failure: random, so another attempt may succeed).
     */
    public static <T> T retry(Supplier<T> call, int attempts) {
        ShaleException last = null;
        for (int i = 0; i < attempts; i++) {
            try {
                return call.get();
            } catch (ShaleException e) {
                if (e.kind() != ErrorKind.UNAVAILABLE && e.kind() != ErrorKind.STORAGE_ACCESS) {
                    throw e;
                }
                last = e;
                sleep(20);
            }
        }
        throw new AssertionError("still failing after " + attempts + " attempts", last);
    }

    /** Creates a topic, tolerating that an earlier attempt whose outcome was unknown created it. */
    public static void createTopic(LogStore store, String topic, int partitions, Map<String, ?> configs) {
        for (int i = 0; i < 200; i++) {
            try {
                store.createTopic(topic, partitions, configs);
                return;
            } catch (ShaleException e) {
                if (e.kind() == ErrorKind.TOPIC_ALREADY_EXISTS) {
                    return;
                }
                if (e.kind() != ErrorKind.UNAVAILABLE && e.kind() != ErrorKind.STORAGE_ACCESS) { // as in retry()
                    throw e;
                }
                sleep(20);
            }
        }
        throw new AssertionError("could not create topic " + topic);
    }

    public static List<TopicPartition> partitions(String topic, int count) {
        List<TopicPartition> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(new TopicPartition(topic, i));
        }
        return out;
    }

    public static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
