package io.shale.storage.local;

import io.shale.log.ErrorKind;
import io.shale.log.LogStore;
import io.shale.log.LogStoreBuilder;
import io.shale.log.ShaleException;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import io.shale.storage.local.wal.FileWriteAheadLog;
import java.nio.file.Files;
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

    /**
     * A builder for a writable store in {@code dir} (created if needed), with the default fsync policy.
     *
     * @throws ShaleException naming the directory: {@code INVALID_ARGUMENT} if {@code dir} (or its
     *     {@code objects} subdirectory) is not a directory, {@code STORAGE_ACCESS} if it cannot be
     *     created or written, {@code CORRUPT_STORAGE} if it holds a damaged store
     */
    public static LogStoreBuilder builder(Path dir) {
        return builder(dir, FileWriteAheadLog.FsyncPolicy.EVERY_GROUP);
    }

    /** A builder for a writable store in {@code dir} with the given WAL fsync policy; errors as {@link #builder(Path)}. */
    public static LogStoreBuilder builder(Path dir, FileWriteAheadLog.FsyncPolicy fsyncPolicy) {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(fsyncPolicy, "fsyncPolicy");
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "cannot open a local store at " + dir
                    + ": it is not a directory");
        }
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

    /** Opens a writable store in {@code dir}; errors as {@link #builder(Path)} and {@link LogStoreBuilder#open()}. */
    public static LogStore open(Path dir) {
        return builder(dir).open();
    }

    /**
     * A builder for a read-only store over {@code dir}'s objects (another process may be writing).
     * A read-only store writes nothing at all, opening included: no directories, lock files, WAL
     * or temp files; it only needs read access to {@code dir}.
     *
     * @throws ShaleException {@code STORAGE_ACCESS} naming the path if {@code dir} does not exist or
     *     holds no store (a mistyped path is not taken for an empty store), {@code INVALID_ARGUMENT}
     *     if it is not a directory
     */
    public static LogStoreBuilder readOnly(Path dir) {
        Objects.requireNonNull(dir, "dir");
        if (!Files.exists(dir)) {
            throw new ShaleException(ErrorKind.STORAGE_ACCESS, "no Shale store at " + dir.toAbsolutePath()
                    + ": the directory does not exist");
        }
        if (!Files.isDirectory(dir)) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "cannot open a local store at " + dir.toAbsolutePath()
                    + ": it is not a directory");
        }
        Path objects = dir.resolve(OBJECTS_DIR);
        if (!Files.isDirectory(objects)) {
            throw new ShaleException(ErrorKind.STORAGE_ACCESS, "no Shale store at " + dir.toAbsolutePath() + ": it has no '"
                    + OBJECTS_DIR + "' directory (a store opened for writing with LocalStorage has one)");
        }
        LocalDirectoryObjectStore store = LocalDirectoryObjectStore.open(objects,
                LocalDirectoryObjectStore.Options.defaults().withReadOnly(true));
        return LogStore.builder().objectStore(store).readOnly(true);
    }
}
