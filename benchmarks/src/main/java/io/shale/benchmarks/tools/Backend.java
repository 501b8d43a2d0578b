package io.shale.benchmarks.tools;

import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.WriteAheadLog;
import io.shale.log.wal.ObjectWriteAheadLog;
import io.shale.storage.local.LocalStorage;
import io.shale.storage.local.objectstore.LocalDirectoryObjectStore;
import io.shale.storage.local.wal.FileWriteAheadLog;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a measured store keeps its objects, and its default WAL: either the embedded default (a
 * local directory as the bucket and the file WAL, as {@code LocalStorage} builds it) or a key
 * prefix in a bucket of the in-process S3 server with the object WAL. Each call of
 * {@link #newObjectStore()} opens a new store instance over the same objects (so that a reader can
 * start with empty caches); the store built with it owns and closes it.
 *
 * <p>Not thread-safe: used by one tool's main thread.
 */
abstract class Backend {
    /** Names used on command lines and in tables. */
    static final String LOCAL = "local";
    static final String S3 = "s3";

    private Backend() {
    }

    /** "local" or "s3". */
    abstract String name();

    /** What the store is made of (object store and default WAL), for tables. */
    abstract String label();

    /** The object store alone, for tables of tools that do not use the default WAL. */
    abstract String storeLabel();

    /** A new object-store instance over this backend's objects. */
    abstract ObjectStore newObjectStore();

    /** A new, unopened instance of this backend's default WAL. */
    abstract WriteAheadLog newWal();

    /** A file WAL in {@code dir} (for tools that only need data in the store, not the WAL under test). */
    static WriteAheadLog fileWal(Path dir) {
        return FileWriteAheadLog.builder(dir).build();
    }

    /** The S3 request counter of this backend's stores, if it talks HTTP. */
    abstract Optional<S3RequestCounter> requests();

    /** The embedded default under {@code dir}: {@code dir/objects} and the file WAL in {@code dir/wal}. */
    static Backend local(Path dir) {
        return new Backend() {
            @Override
            String name() {
                return LOCAL;
            }

            @Override
            String label() {
                return "local directory + file WAL";
            }

            @Override
            String storeLabel() {
                return "local directory";
            }

            @Override
            ObjectStore newObjectStore() {
                return LocalDirectoryObjectStore.open(dir.resolve(LocalStorage.OBJECTS_DIR));
            }

            @Override
            WriteAheadLog newWal() {
                return fileWal(dir.resolve(LocalStorage.WAL_DIR));
            }

            @Override
            Optional<S3RequestCounter> requests() {
                return Optional.empty();
            }
        };
    }

    /**
     * A key prefix on the in-process S3 server, with the object WAL at its defaults (250 ms / 8 MiB).
     * Requests of every store made here are counted by one {@link S3RequestCounter}.
     */
    static Backend s3(S3Env env, String prefix) {
        S3RequestCounter counter = new S3RequestCounter();
        return new Backend() {
            @Override
            String name() {
                return S3;
            }

            @Override
            String label() {
                return "S3Proxy (" + env.backendName() + ") + object WAL";
            }

            @Override
            String storeLabel() {
                return "S3Proxy (" + env.backendName() + ")";
            }

            @Override
            ObjectStore newObjectStore() {
                return env.store(prefix, counter);
            }

            @Override
            WriteAheadLog newWal() {
                return ObjectWriteAheadLog.builder().build();
            }

            @Override
            Optional<S3RequestCounter> requests() {
                return Optional.of(counter);
            }
        };
    }
}
