package io.shale.reliability.crash;

import io.shale.log.LogStore;
import io.shale.log.StoreConfig;
import io.shale.log.record.Record;
import io.shale.log.spi.WriteAheadLog;
import io.shale.log.wal.ObjectWriteAheadLog;
import io.shale.reliability.support.Payloads;
import io.shale.reliability.support.Stores;
import io.shale.storage.local.LocalStorage;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import io.shale.storage.local.wal.FileWriteAheadLog;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** What the crash child and the verifier share: the store's layout and settings, and the content hash. */
public final class CrashLog {
    public static final String TOPIC = "crash";

    private CrashLog() {
    }

    /**
     * The store in {@code dir}, laid out as {@link LocalStorage} lays it out ({@code wal/},
     * {@code objects/}), with 64 KiB WAL segments and settings that keep every background task busy.
     */
    public static LogStore openStore(Path dir) {
        return openStore(dir, Map.of());
    }

    public static LogStore openStore(Path dir, Map<String, ?> overrides) {
        return openStore(dir, "file", overrides);
    }

    /**
     * As {@link #openStore(Path)}, with the WAL named: {@code file} (the file WAL in {@code wal/}),
     * {@code object} (the object WAL, in the same bucket as the data) or {@code object-data} (the
     * object WAL writing data objects the store commits, RFC 0006).
     */
    public static LogStore openStore(Path dir, String walKind, Map<String, ?> overrides) {
        LocalDirectoryObjectStore objects = LocalDirectoryObjectStore.open(dir.resolve(LocalStorage.OBJECTS_DIR));
        WriteAheadLog wal = walKind.startsWith("object")
                ? ObjectWriteAheadLog.builder().flushInterval(Duration.ofMillis(5)).flushBytes(64 << 10)
                        .dataObjects(walKind.equals("object-data")).build()
                : FileWriteAheadLog.builder(dir.resolve(LocalStorage.WAL_DIR))
                        .segmentBytes(64 << 10)
                        .maxGroupBytes(64 << 10)
                        .spareSegments(1)
                        .build();
        return LogStore.builder().objectStore(objects).wal(wal)
                .config(StoreConfig.of(Stores.busy()).with(overrides))
                .open();
    }

    public static Map<String, Object> topicConfig() {
        return Stores.smallSegments();
    }

    /** FNV-1a over the key and value bytes of the records with these ids, in order. */
    public static long hash(long[] ids, int maxValue) {
        long h = 0xcbf29ce484222325L;
        for (long id : ids) {
            h = mix(h, Payloads.hash(Payloads.key(id), ByteBuffer.wrap(Payloads.value(id, maxValue))));
        }
        return h;
    }

    /** The same hash over records read back. */
    public static long hash(List<Record> records) {
        long h = 0xcbf29ce484222325L;
        for (Record r : records) {
            h = mix(h, Payloads.hash(r.key(), r.value()));
        }
        return h;
    }

    private static long mix(long h, long v) {
        for (int i = 0; i < 8; i++) {
            h ^= (v >>> (8 * i)) & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }
}
