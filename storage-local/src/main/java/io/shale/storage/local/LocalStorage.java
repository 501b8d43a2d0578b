package io.shale.storage.local;

import io.shale.log.LogStore;
import io.shale.log.LogStoreBuilder;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import io.shale.storage.local.wal.FileWriteAheadLog;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The embedded default: a store in one local directory, no servers.
 *
 * <pre>
 * dir/
 *   wal/       the file write-ahead log (group commit, fdatasync per group)
 *   objects/   the "bucket": data objects and the manifest, as files
 * </pre>
 *
 * <p>{@code LocalStorage.builder(dir).open()} gives a writable store; the returned builder can take
 * settings ({@code .config(...)}) or a different WAL before opening. Data acknowledged by the file
 * WAL is as durable as this disk; the objects directory has the same layout as an S3 bucket and can
 * be copied to one.
 */
public final class LocalStorage {
    /** Subdirectory holding the file WAL. */
    public static final String WAL_DIR = "wal";
    /** Subdirectory holding the object store. */
    public static final String OBJECTS_DIR = "objects";

    private LocalStorage() {
    }

    /** A builder for a writable store in {@code dir} (created if needed), with the default fsync policy. */
    public static LogStoreBuilder builder(Path dir) {
        return builder(dir, FileWriteAheadLog.FsyncPolicy.EVERY_GROUP);
    }

    /** A builder for a writable store in {@code dir} with the given WAL fsync policy. */
    public static LogStoreBuilder builder(Path dir, FileWriteAheadLog.FsyncPolicy fsyncPolicy) {
        Objects.requireNonNull(dir, "dir");
        LocalDirectoryObjectStore objects = LocalDirectoryObjectStore.open(dir.resolve(OBJECTS_DIR));
        FileWriteAheadLog wal;
        try {
            wal = FileWriteAheadLog.builder(dir.resolve(WAL_DIR)).fsyncPolicy(fsyncPolicy).build();
        } catch (RuntimeException e) {
            objects.close();
            throw e;
        }
        return LogStore.builder().objectStore(objects).wal(wal);
    }

    /** Opens a writable store in {@code dir}. */
    public static LogStore open(Path dir) {
        return builder(dir).open();
    }

    /** A builder for a read-only store over {@code dir}'s objects (another process may be writing). */
    public static LogStoreBuilder readOnly(Path dir) {
        return LogStore.builder().objectStore(LocalDirectoryObjectStore.open(dir.resolve(OBJECTS_DIR))).readOnly(true);
    }
}
