package io.shale.storage.local.objectstore;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import io.shale.log.spi.DeleteResult;
import io.shale.log.spi.ListPage;
import io.shale.log.spi.ObjectInfo;
import io.shale.log.spi.ObjectStore;
import io.shale.log.spi.ObjectStoreException;
import io.shale.log.spi.ObjectStoreException.Reason;
import io.shale.log.spi.Payload;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link ObjectStore} in a local directory: the embedded default "bucket".
 *
 * <p><b>Threading.</b> Thread-safe, and safe to share a directory between processes (each with
 * its own instance). Every operation runs on the calling thread and returns an already completed
 * future; callers that must not block on disk I/O run the calls on their own executor.
 *
 * <p><b>Durability.</b> {@code put} and {@code putIfAbsent} complete after the object's file, its
 * metadata and its directory entry are fsync'ed: the object survives an OS crash. {@code delete}
 * fsyncs the affected directories before completing.
 *
 * <p><b>Idempotency and atomicity.</b> As the SPI says: readers see a whole object or none, a
 * replaced object's old or new version, never a mix; exactly one of any number of concurrent
 * {@code putIfAbsent} calls for a key wins, across threads and processes.
 *
 * <p><b>Errors.</b> Futures fail with {@link ObjectStoreException}: {@code NOT_FOUND} for a
 * missing object, {@code PERMANENT} for permission problems, a read-only file system, a foreign
 * file or symbolic link in the way, or a payload that does not match its declared length,
 * {@code CORRUPT} for damaged object metadata, and {@code TRANSIENT} for other I/O errors (the
 * outcome of a failed write is then unknown, as the SPI allows). Messages name the root and key.
 * Invalid keys and tokens throw {@link IllegalArgumentException} before any I/O; any call after
 * {@link #close()} throws {@link IllegalStateException}.
 */
public final class LocalDirectoryObjectStore implements ObjectStore {
    /*
     * Design
     *
     * Layout: each object is one regular file whose bytes are exactly the object's bytes; its path
     * below the root is derived from the key by ObjectKeys (directories named "<segment>%2F", long
     * segments split into 80-byte "%+" directories, '%' and non-ASCII bytes percent-encoded). So a
     * key may also be a prefix of other keys ("a" and "a/b"), every valid key (up to 512-byte
     * segments) fits file-name limits, and a depth-first walk lists keys in UTF-8 order
     * (OrderedLister). The root holds a marker file (StoreLayout) fixing the layout version and
     * where metadata lives. Names starting with '%' and a lowercase letter are the store's own.
     *
     * Metadata (length, write time, token): the ObjectMetadata record, in the file's user extended
     * attribute "user.shale" where the file system supports them (ext4, xfs, btrfs, zfs, tmpfs on
     * Linux >= 6.6), otherwise in a 92-byte trailer after the content (chosen when the directory is
     * first opened, recorded in the marker). Either way it is written into the temp file before the
     * file is published, so the metadata is atomic with the content. With the attribute, head reads
     * one getxattr (one consistent record) and get never touches it. A regular file without the
     * attribute (copied in by other tools) is an object with a null token. head trusts the record:
     * a file changed in place behind the store's back keeps reporting its recorded size there.
     *
     * Writes: temp file "%tmp-<random>" in the object's directory, write, metadata, set mtime to the
     * recorded time, fsync, then
     *   put:         rename over the target (atomic replace)
     *   putIfAbsent: hard link to the target (link(2) fails if it exists), unlink the temp
     * then fsync the object's directory, and the parent of each directory on the path not yet known
     * (in this process, by path and inode) to be durable: a directory found on the way may have been
     * made a moment ago by another writer that has not fsync'ed its parent yet. A directory fsync
     * costs a device cache flush even when nothing is pending (about 1 ms on a virtio disk), so
     * steady-state writes pay for one, as the classic protocol does.
     * The link makes create-if-absent atomic across processes; it needs a file system with hard
     * links (every Linux local file system; not FAT). A losing putIfAbsent also fsyncs the
     * directory, so the winner it reports is durable.
     *
     * Deletes unlink, fsync each touched directory once, then remove directories that became empty
     * (rmdir fails on a non-empty directory, so a concurrent put is never undone; a put whose
     * directory disappears between creating it and creating its temp file starts over).
     *
     * Crash leftovers: a temp file is never an object (no key maps to its name). Temp files older
     * than a threshold (default 1 hour; a live write touches its temp file continuously) and empty
     * directories are removed when a store is opened, by a walk of the whole tree; so opening costs
     * one directory read per directory. Disable with Options.withStaleTempFileAge(null) and call
     * deleteStaleTempFiles yourself.
     *
     * Trust model: the root is a directory only this store's processes write to. Paths are built
     * from validated keys only, so no key names anything outside the root; symbolic links are never
     * followed below the root (every directory on an object's path is lstat'ed; objects are opened
     * with O_NOFOLLOW; the listing walk does not enter links): a link planted below the root makes
     * get/head report no object and put fail with PERMANENT. Java has no openat(2), so a process
     * that swaps a directory for a link between our check and our use could still redirect one
     * operation; defending against a hostile writer to the root is out of scope. The root itself may
     * be reached through links (resolved once, when opened).
     *
     * Portability: POSIX file systems (Linux, macOS). Case-insensitive or normalising file systems
     * (macOS default APFS) would merge keys that differ only in case or normalisation.
     */

    private static final Logger LOG = LoggerFactory.getLogger(LocalDirectoryObjectStore.class);

    /** Largest piece of a heap buffer handed to one FileChannel call (the JDK copies heap buffers through a cached direct buffer of that size). */
    private static final int IO_CHUNK = 1 << 20;
    /** Page size cap, as S3's. */
    static final int MAX_KEYS_PER_PAGE = 1_000;
    /** How often a write starts over when a concurrent delete removes its (empty) directory. */
    private static final int DIRECTORY_RACE_ATTEMPTS = 16;

    /** Where object metadata is kept in a new directory. An existing directory keeps what it has. */
    public enum MetadataPlacement {
        /** Extended attributes if the file system supports them, otherwise a trailer. */
        AUTO,
        /** User extended attribute: object files hold exactly the object's bytes. */
        EXTENDED_ATTRIBUTE,
        /** A 92-byte trailer after the object's bytes in its file. */
        TRAILER
    }

    /** Settings of a store; immutable. */
    public static final class Options {
        private static final Options DEFAULTS =
                new Options(Clock.systemUTC(), Duration.ofHours(1), MetadataPlacement.AUTO, true, false);

        private final Clock clock;
        private final Duration staleTempFileAge;
        private final MetadataPlacement metadataPlacement;
        private final boolean fsync;
        private final boolean readOnly;

        private Options(Clock clock, Duration staleTempFileAge, MetadataPlacement metadataPlacement, boolean fsync,
                boolean readOnly) {
            this.clock = clock;
            this.staleTempFileAge = staleTempFileAge;
            this.metadataPlacement = metadataPlacement;
            this.fsync = fsync;
            this.readOnly = readOnly;
        }

        /** System clock, temp files older than 1 hour swept on open, metadata placement AUTO, fsync on. */
        public static Options defaults() {
            return DEFAULTS;
        }

        /** The clock for objects' write times and for the age of temp files. */
        public Options withClock(Clock clock) {
            return new Options(Objects.requireNonNull(clock, "clock"), staleTempFileAge, metadataPlacement, fsync, readOnly);
        }

        /** Sweep temp files older than this when opening; {@code null} to not sweep on open. */
        public Options withStaleTempFileAge(Duration age) {
            if (age != null && age.isNegative()) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "stale temp file age must not be negative: " + age);
            }
            return new Options(clock, age, metadataPlacement, fsync, readOnly);
        }

        /** Where a new directory keeps object metadata. */
        public Options withMetadataPlacement(MetadataPlacement placement) {
            return new Options(clock, staleTempFileAge, Objects.requireNonNull(placement, "placement"), fsync, readOnly);
        }

        /**
         * Whether writes and deletes fsync before completing (default true). {@code false} is for
         * tests and scratch data only: objects still appear atomically and survive a crash of the
         * process, but an OS crash or power loss may lose recent writes or deletes, or leave an
         * object empty.
         */
        public Options withFsync(boolean fsync) {
            return new Options(clock, staleTempFileAge, metadataPlacement, fsync, readOnly);
        }

        /**
         * Whether the store only reads (default false). A read-only store writes nothing at all, not
         * even when it opens: the directory must already be a store (made by a writable open), no
         * temp files are swept, and put, putIfAbsent, delete and deleteStaleTempFiles fail with
         * {@code PERMANENT}.
         */
        public Options withReadOnly(boolean readOnly) {
            return new Options(clock, staleTempFileAge, metadataPlacement, fsync, readOnly);
        }
    }

    private final Path root;
    private final String description;
    private final StoreLayout.Metadata metadata;
    private final Clock clock;
    private final boolean fsync;
    private final boolean readOnly;
    private final AtomicBoolean closed = new AtomicBoolean();
    /**
     * Directories whose entry in their parent is known to be durable, with the file key (device,
     * inode) they had then: a directory removed and made again has a new key and is fsync'ed again.
     */
    private final ConcurrentHashMap<Path, Object> durableDirectories = new ConcurrentHashMap<>();

    private LocalDirectoryObjectStore(Path root, StoreLayout.Metadata metadata, Options options) {
        this.root = root;
        this.metadata = metadata;
        this.clock = options.clock;
        this.fsync = options.fsync;
        this.readOnly = options.readOnly;
        this.description = root.toUri().toString();
    }

    /** Opens (creating if needed) a store in {@code root} with default options. See {@link #open(Path, Options)}. */
    public static LocalDirectoryObjectStore open(Path root) {
        return open(root, Options.defaults());
    }

    /**
     * Opens a store in {@code root}, creating the directory and its layout marker if missing, and
     * sweeping stale temp files if the options say so (on this thread; a walk of the whole tree).
     * A read-only open ({@link Options#withReadOnly}) creates nothing: {@code root} must be an
     * existing store.
     *
     * @throws ShaleException naming the directory: {@code INVALID_ARGUMENT} if {@code root} exists
     *     and is not a directory or holds a layout that contradicts the options or that this code
     *     does not read; {@code STORAGE_ACCESS} if it cannot be created or read (permissions, a
     *     read-only file system), or, for a read-only open, if it does not exist or is not a store;
     *     {@code CORRUPT_STORAGE} if its layout marker is damaged; {@code UNAVAILABLE} for other
     *     I/O errors
     */
    public static LocalDirectoryObjectStore open(Path root, Options options) {
        Objects.requireNonNull(root, "root");
        Objects.requireNonNull(options, "options");
        Path real;
        StoreLayout layout;
        try {
            Path absolute = root.toAbsolutePath().normalize();
            if (Files.exists(absolute) && !Files.isDirectory(absolute)) {
                throw new ShaleException(ErrorKind.INVALID_ARGUMENT, "cannot open local object store at " + root
                        + ": not a directory");
            }
            if (options.readOnly) {
                if (!Files.isDirectory(absolute)) {
                    throw new ShaleException(ErrorKind.STORAGE_ACCESS, "cannot open local object store at " + root
                            + " read-only: the directory does not exist");
                }
                real = absolute.toRealPath();
                layout = StoreLayout.read(real);
                return new LocalDirectoryObjectStore(real, layout.metadata, options);
            }
            if (!Files.isDirectory(absolute)) {
                Files.createDirectories(absolute);
                if (absolute.getParent() != null) {
                    fsyncDirectory(absolute.getParent());
                }
            }
            real = absolute.toRealPath();
            StoreLayout.Metadata wanted = switch (options.metadataPlacement) {
                case AUTO -> null;
                case EXTENDED_ATTRIBUTE -> StoreLayout.Metadata.XATTR;
                case TRAILER -> StoreLayout.Metadata.TRAILER;
            };
            layout = StoreLayout.openOrCreate(real, wanted);
        } catch (IOException e) {
            Reason reason = reasonFor(e);
            ErrorKind kind = reason == Reason.PERMANENT ? ErrorKind.STORAGE_ACCESS
                    : reason == Reason.CORRUPT ? ErrorKind.CORRUPT_STORAGE : ErrorKind.UNAVAILABLE;
            throw new ShaleException(kind, "cannot open local object store at " + root + ": " + e, e);
        }
        LocalDirectoryObjectStore store = new LocalDirectoryObjectStore(real, layout.metadata, options);
        if (options.staleTempFileAge != null) {
            try {
                store.deleteStaleTempFiles(options.staleTempFileAge);
            } catch (ObjectStoreException e) {
                LOG.warn("Sweeping temp files in {} failed; continuing", store.description, e);
            } catch (RuntimeException e) {
                store.close();
                throw e;
            }
        }
        return store;
    }

    /** The root directory (real path). */
    public Path root() {
        return root;
    }

    @Override
    public String describe() {
        return description;
    }

    // ------------------------------------------------------------------ writes

    /** See {@link ObjectStore#put}. Durable (fsync'ed) when the future completes. */
    @Override
    public CompletableFuture<Void> put(String key, Payload payload, String token) {
        byte[] keyBytes = ObjectKeys.validateKey(key);
        ObjectKeys.validateToken(token, false);
        Objects.requireNonNull(payload, "payload");
        ensureOpen();
        if (readOnly) {
            return CompletableFuture.failedFuture(readOnlyFailure("put", key));
        }
        List<String> names = ObjectKeys.pathOf(keyBytes);
        try {
            TempFile tmp = writeTempFile(key, names, payload, token);
            Path target = tmp.dir.resolve(names.get(names.size() - 1));
            try {
                Files.move(tmp.path, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                Files.deleteIfExists(tmp.path);
                if (isDirectory(target)) {
                    throw foreign(key, target, "a directory");
                }
                throw e;
            }
            makeDurable(tmp.dir, tmp.directories);
            return CompletableFuture.completedFuture(null);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(failure("put", key, e));
        } catch (RuntimeException e) { // ObjectStoreException, or the payload's own failure
            return CompletableFuture.failedFuture(e);
        }
    }

    /** See {@link ObjectStore#putIfAbsent}. Durable (fsync'ed) when the future completes, whether created or not. */
    @Override
    public CompletableFuture<Boolean> putIfAbsent(String key, Payload payload, String token) {
        byte[] keyBytes = ObjectKeys.validateKey(key);
        ObjectKeys.validateToken(token, true);
        Objects.requireNonNull(payload, "payload");
        ensureOpen();
        if (readOnly) {
            return CompletableFuture.failedFuture(readOnlyFailure("putIfAbsent", key));
        }
        List<String> names = ObjectKeys.pathOf(keyBytes);
        try {
            // Cheap early answer for the common losing case; the link below is what decides.
            Path existing = locate(names);
            if (existing != null && isExistingObject(key, existing)) {
                List<DirectoryStep> steps = ensureDirectories(key, names);
                if (steps != null) {
                    makeDurable(existing.getParent(), steps); // the winner's object may not be durable yet
                    return CompletableFuture.completedFuture(false);
                }
            }
            TempFile tmp = writeTempFile(key, names, payload, token);
            Path target = tmp.dir.resolve(names.get(names.size() - 1));
            boolean created;
            try {
                Files.createLink(target, tmp.path);
                created = true;
            } catch (FileAlreadyExistsException e) {
                created = false;
            } finally {
                Files.deleteIfExists(tmp.path);
            }
            if (!created && !isExistingObject(key, target)) {
                throw foreign(key, target, "something that is not a regular file");
            }
            makeDurable(tmp.dir, tmp.directories);
            return CompletableFuture.completedFuture(created);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(failure("putIfAbsent", key, e));
        } catch (RuntimeException e) { // ObjectStoreException, or the payload's own failure
            return CompletableFuture.failedFuture(e);
        }
    }

    private record TempFile(Path dir, Path path, List<DirectoryStep> directories) {
    }

    /** A directory on an object's path and its file key (null if the file system has none). */
    private record DirectoryStep(Path path, Object fileKey) {
    }

    /** Creates the object's directories and a durable temp file holding the payload and metadata. */
    private TempFile writeTempFile(String key, List<String> names, Payload payload, String token) throws IOException {
        for (int attempt = 1; ; attempt++) {
            List<DirectoryStep> steps = ensureDirectories(key, names);
            Path dir = steps == null ? null : steps.isEmpty() ? root : steps.get(steps.size() - 1).path();
            FileChannel ch = null;
            Path tmp = null;
            if (dir != null) {
                tmp = dir.resolve(ObjectKeys.TEMP_PREFIX + Long.toHexString(ThreadLocalRandom.current().nextLong()));
                try {
                    ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                            LinkOption.NOFOLLOW_LINKS);
                } catch (NoSuchFileException | FileAlreadyExistsException e) {
                    // The directory was removed by a concurrent delete's cleanup, or a name collision.
                    ch = null;
                }
            }
            if (ch == null) {
                if (attempt >= DIRECTORY_RACE_ATTEMPTS) {
                    throw new ObjectStoreException(Reason.TRANSIENT, key, "put of '" + ObjectKeys.printable(key) + "' in "
                            + description + " kept losing its directory to concurrent deletes");
                }
                continue; // start over
            }
            try {
                long written = writePayload(ch, payload, key);
                long now = clock.millis();
                ObjectMetadata meta = new ObjectMetadata(written, now, token);
                if (metadata == StoreLayout.Metadata.TRAILER) {
                    writeFully(ch, meta.encodeTrailer());
                } else {
                    xattrView(tmp).write(ObjectMetadata.XATTR_NAME, meta.encode());
                }
                Files.setLastModifiedTime(tmp, FileTime.fromMillis(now));
                if (fsync) {
                    ch.force(true);
                }
                ch.close();
                return new TempFile(dir, tmp, steps);
            } catch (IOException | RuntimeException e) {
                closeQuietly(ch);
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
    }

    private long writePayload(FileChannel ch, Payload payload, String key) {
        long declared = payload.length();
        long written = 0;
        try {
            for (Iterator<ByteBuffer> it = payload.open(); it.hasNext(); ) {
                ByteBuffer src = it.next().duplicate(); // never move the caller's position
                written += src.remaining();
                if (written > declared) {
                    throw payloadMismatch(key, "more than its declared " + declared + " bytes");
                }
                writeFully(ch, src);
            }
        } catch (IOException e) {
            throw failure("put", key, e);
        }
        if (written != declared) {
            throw payloadMismatch(key, written + " bytes, declared " + declared);
        }
        return written;
    }

    private ObjectStoreException payloadMismatch(String key, String what) {
        return new ObjectStoreException(Reason.PERMANENT, key,
                "payload for '" + ObjectKeys.printable(key) + "' in " + description + " produced " + what);
    }

    private static void writeFully(FileChannel ch, ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            if (src.isDirect() || src.remaining() <= IO_CHUNK) {
                ch.write(src);
            } else {
                ByteBuffer piece = src.duplicate();
                piece.limit(piece.position() + IO_CHUNK);
                ch.write(piece);
                src.position(piece.position());
            }
        }
    }

    /**
     * Makes sure every directory on the object's path exists and is a real directory (not a
     * link), creating missing ones. Returns them from the root down (empty for an object at the
     * root), or null if a concurrent cleanup removed a directory on the way (the caller starts over).
     */
    private List<DirectoryStep> ensureDirectories(String key, List<String> names) throws IOException {
        List<DirectoryStep> steps = new ArrayList<>(names.size() - 1);
        Path p = root;
        for (int i = 0; i < names.size() - 1; i++) {
            p = p.resolve(names.get(i));
            BasicFileAttributes attrs = attributesOrNull(p);
            if (attrs == null) {
                try {
                    Files.createDirectory(p); // made durable by makeDurable once the object is in place
                } catch (FileAlreadyExistsException raced) {
                    // made by someone else meanwhile
                } catch (NoSuchFileException parentRemoved) {
                    return null;
                }
                attrs = attributesOrNull(p);
                if (attrs == null) {
                    return null;
                }
            }
            if (!attrs.isDirectory()) {
                throw foreign(key, p, describeType(attrs));
            }
            steps.add(new DirectoryStep(p, attrs.fileKey()));
        }
        return steps;
    }

    /**
     * fsyncs the object's directory, then the parent of each directory on its path whose entry is
     * not yet known to be durable: an entry is durable only once every directory on its path is,
     * and a directory found on the way may have been made a moment ago by another thread or
     * process that has not fsync'ed its parent yet. In steady state this is one directory fsync.
     */
    private void makeDurable(Path dir, List<DirectoryStep> steps) throws IOException {
        if (!fsync) {
            return;
        }
        try {
            fsyncDirectory(dir);
            int synced = steps.size();
            while (synced > 0) {
                DirectoryStep step = steps.get(synced - 1);
                if (step.fileKey() != null && step.fileKey().equals(durableDirectories.get(step.path()))) {
                    break; // durable, and so are the directories above it (they held it then and still do)
                }
                fsyncDirectory(step.path().getParent());
                synced--;
            }
            // Only now, with the whole chain durable, remember it.
            for (int i = synced; i < steps.size(); i++) {
                if (steps.get(i).fileKey() != null) {
                    durableDirectories.put(steps.get(i).path(), steps.get(i).fileKey());
                }
            }
        } catch (NoSuchFileException e) {
            // A concurrent delete removed our object and the directories it emptied.
        }
    }

    // ------------------------------------------------------------------ reads

    /** See {@link ObjectStore#get}. The buffer is a new heap buffer of exactly the range's size. */
    @Override
    public CompletableFuture<ByteBuffer> get(String key, long offset, long length) {
        byte[] keyBytes = ObjectKeys.validateKey(key);
        if (offset < 0 || length < -1) {
            throw new IllegalArgumentException("invalid range: offset " + offset + ", length " + length);
        }
        ensureOpen();
        try {
            Path file = locate(ObjectKeys.pathOf(keyBytes));
            BasicFileAttributes attrs = file == null ? null : attributesOrNull(file);
            if (attrs == null || !attrs.isRegularFile()) {
                return CompletableFuture.failedFuture(notFound(key));
            }
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
                long size = contentLength(ch, key);
                long from = Math.min(offset, size);
                long n = length < 0 ? size - from : Math.min(length, size - from);
                if (n > Integer.MAX_VALUE - 8) {
                    throw new ObjectStoreException(Reason.PERMANENT, key, "range of " + n + " bytes of '"
                            + ObjectKeys.printable(key) + "' in " + description + " does not fit in one buffer; read it in parts");
                }
                ByteBuffer out = ByteBuffer.allocate((int) n);
                readFully(ch, out, from, key);
                return CompletableFuture.completedFuture(out.flip());
            }
        } catch (NoSuchFileException e) {
            return CompletableFuture.failedFuture(notFound(key)); // deleted after we looked
        } catch (IOException e) {
            return CompletableFuture.failedFuture(failure("get", key, e));
        } catch (ObjectStoreException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The object's length, given its open file; for a trailer, checks the trailer. */
    private long contentLength(FileChannel ch, String key) throws IOException {
        if (metadata == StoreLayout.Metadata.XATTR) {
            return ch.size();
        }
        return readTrailer(ch, key).contentLength;
    }

    private ObjectMetadata readTrailer(FileChannel ch, String key) throws IOException {
        long fileSize = ch.size();
        if (fileSize < ObjectMetadata.TRAILER_BYTES) {
            throw new CorruptObjectException("file of " + fileSize + " bytes is shorter than a metadata trailer");
        }
        ByteBuffer trailer = ByteBuffer.allocate(ObjectMetadata.TRAILER_BYTES);
        readFully(ch, trailer, fileSize - ObjectMetadata.TRAILER_BYTES, key);
        ObjectMetadata meta = ObjectMetadata.decodeTrailer(trailer.flip());
        if (meta.contentLength != fileSize - ObjectMetadata.TRAILER_BYTES) {
            throw new CorruptObjectException("trailer says " + meta.contentLength + " bytes, file holds "
                    + (fileSize - ObjectMetadata.TRAILER_BYTES));
        }
        return meta;
    }

    private static void readFully(FileChannel ch, ByteBuffer dst, long position, String key) throws IOException {
        int end = dst.limit();
        long pos = position;
        while (dst.position() < end) {
            dst.limit(Math.min(end, dst.position() + IO_CHUNK));
            int n = ch.read(dst, pos);
            if (n < 0) {
                throw new CorruptObjectException("file ended at byte " + pos + " while reading '" + ObjectKeys.printable(key) + "'");
            }
            pos += n;
        }
        dst.limit(end);
    }

    /** See {@link ObjectStore#head}. Size, time and token come from one metadata record, so they belong to one version. */
    @Override
    public CompletableFuture<Optional<ObjectInfo>> head(String key) {
        byte[] keyBytes = ObjectKeys.validateKey(key);
        ensureOpen();
        try {
            Path file = locate(ObjectKeys.pathOf(keyBytes));
            BasicFileAttributes attrs = file == null ? null : attributesOrNull(file);
            if (attrs == null || !attrs.isRegularFile()) {
                return CompletableFuture.completedFuture(Optional.empty());
            }
            ObjectMetadata meta;
            if (metadata == StoreLayout.Metadata.TRAILER) {
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
                    meta = readTrailer(ch, key);
                }
            } else {
                meta = readAttribute(file);
                if (meta == null) { // a file not written by this store: describe it from the file itself
                    meta = new ObjectMetadata(attrs.size(), attrs.lastModifiedTime().toMillis(), null);
                }
            }
            return CompletableFuture.completedFuture(
                    Optional.of(new ObjectInfo(key, meta.contentLength, meta.lastModifiedMillis, meta.token)));
        } catch (NoSuchFileException e) {
            return CompletableFuture.completedFuture(Optional.empty()); // deleted after we looked
        } catch (IOException e) {
            return CompletableFuture.failedFuture(failure("head", key, e));
        }
    }

    /** The record in the file's extended attribute, or null if it has none. */
    private static ObjectMetadata readAttribute(Path file) throws IOException {
        UserDefinedFileAttributeView view = xattrView(file);
        ByteBuffer buf = ByteBuffer.allocate(1024);
        try {
            view.read(ObjectMetadata.XATTR_NAME, buf);
        } catch (NoSuchFileException e) {
            throw e;
        } catch (FileSystemException e) {
            if (!view.list().contains(ObjectMetadata.XATTR_NAME)) {
                return null;
            }
            throw e;
        }
        return ObjectMetadata.decode(buf.flip());
    }

    /**
     * See {@link ObjectStore#list}. Pages hold at most 1,000 objects; listings report no tokens.
     * Cost: see {@link OrderedLister}.
     */
    @Override
    public CompletableFuture<ListPage> list(String prefix, String startAfter, int maxKeys) {
        Objects.requireNonNull(prefix, "prefix");
        if (maxKeys < 1) {
            throw new IllegalArgumentException("maxKeys must be positive, was " + maxKeys);
        }
        byte[] after = null;
        if (startAfter != null) {
            after = ObjectKeys.strictUtf8(startAfter);
            if (after == null) {
                throw new IllegalArgumentException("startAfter is not encodable as UTF-8");
            }
        }
        ensureOpen();
        int pageSize = Math.min(maxKeys, MAX_KEYS_PER_PAGE);
        byte[] prefixBytes = ObjectKeys.strictUtf8(prefix);
        if (prefixBytes == null || prefixBytes.length > ObjectKeys.MAX_KEY_BYTES || hasForbiddenByte(prefixBytes)) {
            return CompletableFuture.completedFuture(new ListPage(List.of(), null)); // no key can match
        }
        try {
            // Start at the directory of the prefix's complete segments; nothing above it can match.
            int lastSlash = lastIndexOf(prefixBytes, (byte) '/');
            byte[] nodePrefix = Arrays.copyOf(prefixBytes, lastSlash + 1);
            List<String> dirs = ObjectKeys.directoriesOf(nodePrefix);
            Path start = dirs == null ? null : locateDirectory(dirs);
            if (start == null) {
                return CompletableFuture.completedFuture(new ListPage(List.of(), null));
            }
            List<OrderedLister.Found> found = new OrderedLister(prefixBytes, after, pageSize + 1).walk(start, nodePrefix);
            List<ObjectInfo> objects = new ArrayList<>(Math.min(found.size(), pageSize));
            for (OrderedLister.Found f : found.subList(0, Math.min(found.size(), pageSize))) {
                long size = f.attributes().size();
                if (metadata == StoreLayout.Metadata.TRAILER) {
                    size -= ObjectMetadata.TRAILER_BYTES;
                    if (size < 0) {
                        LOG.warn("Skipping {} in {}: too short to hold a metadata trailer", f.path(), description);
                        continue;
                    }
                }
                objects.add(new ObjectInfo(f.key(), size, f.attributes().lastModifiedTime().toMillis(), null));
            }
            String next = found.size() > pageSize ? found.get(pageSize - 1).key() : null;
            return CompletableFuture.completedFuture(new ListPage(objects, next));
        } catch (IOException e) {
            return CompletableFuture.failedFuture(new ObjectStoreException(reasonFor(e), null, "list of prefix '"
                    + ObjectKeys.printable(prefix) + "' in " + description + " failed: " + e, e));
        }
    }

    private static boolean hasForbiddenByte(byte[] utf8) {
        for (byte b : utf8) {
            if ((b >= 0 && b < 0x20) || b == 0x7F || b == '\\') {
                return true;
            }
        }
        return false;
    }

    private static int lastIndexOf(byte[] a, byte b) {
        for (int i = a.length - 1; i >= 0; i--) {
            if (a[i] == b) {
                return i;
            }
        }
        return -1;
    }

    // ------------------------------------------------------------------ deletes

    /**
     * See {@link ObjectStore#delete}. Every key is validated before anything is deleted. Durable
     * (directories fsync'ed) when the future completes; directories left empty are removed.
     */
    @Override
    public CompletableFuture<DeleteResult> delete(Collection<String> keys) {
        Objects.requireNonNull(keys, "keys");
        Map<String, byte[]> validated = new LinkedHashMap<>();
        for (String key : keys) {
            validated.put(key, ObjectKeys.validateKey(key));
        }
        ensureOpen();
        if (readOnly) {
            return CompletableFuture.failedFuture(readOnlyFailure("delete", null));
        }
        if (!Files.isDirectory(root)) {
            return CompletableFuture.failedFuture(new ObjectStoreException(Reason.NOT_FOUND, null,
                    "root directory of " + description + " does not exist"));
        }
        Map<String, String> failed = new LinkedHashMap<>();
        Map<Path, List<String>> touched = new LinkedHashMap<>();
        for (Map.Entry<String, byte[]> e : validated.entrySet()) {
            String key = e.getKey();
            try {
                Path file = locate(ObjectKeys.pathOf(e.getValue()));
                BasicFileAttributes attrs = file == null ? null : attributesOrNull(file);
                if (attrs == null || !attrs.isRegularFile()) {
                    continue; // no object: counts as deleted
                }
                Files.deleteIfExists(file);
                touched.computeIfAbsent(file.getParent(), d -> new ArrayList<>()).add(key);
            } catch (IOException ex) {
                failed.put(key, errorName(ex));
            }
        }
        for (Map.Entry<Path, List<String>> e : touched.entrySet()) {
            try {
                syncDirectory(e.getKey());
            } catch (NoSuchFileException gone) {
                // Removed by a concurrent cleanup: then it was empty, and its removal is what counts.
            } catch (IOException ex) {
                e.getValue().forEach(k -> failed.put(k, errorName(ex)));
            }
        }
        List<Path> dirs = new ArrayList<>(touched.keySet());
        dirs.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        for (Path dir : dirs) {
            removeEmptyDirectories(dir);
        }
        return CompletableFuture.completedFuture(failed.isEmpty() ? DeleteResult.ok() : new DeleteResult(failed));
    }

    /** Removes {@code dir} and then its parents while they are empty, up to (not including) the root. */
    private void removeEmptyDirectories(Path dir) {
        Path p = dir;
        while (p != null && !p.equals(root) && p.startsWith(root)) {
            try {
                durableDirectories.remove(p);
                Files.delete(p); // rmdir(2): fails on a non-empty directory, so never races a put
            } catch (DirectoryNotEmptyException | NoSuchFileException e) {
                return;
            } catch (IOException e) {
                LOG.debug("Could not remove empty directory {}", p, e);
                return;
            }
            p = p.getParent();
        }
    }

    private static String errorName(IOException e) {
        String kind = e instanceof AccessDeniedException ? "AccessDenied" : e.getClass().getSimpleName();
        return kind + ": " + e.getMessage();
    }

    // ------------------------------------------------------------------ maintenance

    /**
     * Deletes temp files left by crashed writers that are older than {@code olderThan}, and
     * directories that are empty. Safe while other instances write: their temp files are younger,
     * and a write whose directory is removed starts over. Walks the whole tree on this thread.
     *
     * @return how many temp files were deleted
     * @throws ObjectStoreException if the tree cannot be walked
     */
    public int deleteStaleTempFiles(Duration olderThan) {
        Objects.requireNonNull(olderThan, "olderThan");
        ensureOpen();
        if (readOnly) {
            throw readOnlyFailure("deleteStaleTempFiles", null);
        }
        long cutoff = clock.millis() - olderThan.toMillis();
        AtomicInteger deleted = new AtomicInteger();
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    String name = file.getFileName().toString();
                    if (name.startsWith(ObjectKeys.TEMP_PREFIX) && attrs.isRegularFile()
                            && attrs.lastModifiedTime().toMillis() < cutoff && Files.deleteIfExists(file)) {
                        deleted.incrementAndGet();
                        LOG.info("Deleted stale temp file {}", file);
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE; // deleted concurrently
                    }
                    throw e;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    if (e != null && !(e instanceof NoSuchFileException)) {
                        throw e;
                    }
                    if (!dir.equals(root)) {
                        try {
                            durableDirectories.remove(dir);
                            Files.delete(dir);
                        } catch (DirectoryNotEmptyException | NoSuchFileException ignored) {
                            // in use
                        }
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw failure("sweep of temp files", null, e);
        }
        return deleted.get();
    }

    /** Marks the store closed; later calls throw {@link IllegalStateException}. Idempotent. Holds no resources between calls. */
    @Override
    public void close() {
        closed.set(true);
    }

    // ------------------------------------------------------------------ paths and errors

    /**
     * The path of an object's file if every directory above it is a real directory (not a link);
     * null if one is missing or is something else, in which case there is no such object.
     */
    private Path locate(List<String> names) throws IOException {
        Path dir = locateDirectory(names.subList(0, names.size() - 1));
        return dir == null ? null : dir.resolve(names.get(names.size() - 1));
    }

    private Path locateDirectory(List<String> dirNames) throws IOException {
        Path p = root;
        for (String name : dirNames) {
            p = p.resolve(name);
            BasicFileAttributes attrs = attributesOrNull(p);
            if (attrs == null || !attrs.isDirectory()) {
                return null;
            }
        }
        return p;
    }

    private boolean isExistingObject(String key, Path file) throws IOException {
        BasicFileAttributes attrs = attributesOrNull(file);
        if (attrs == null) {
            return false;
        }
        if (!attrs.isRegularFile()) {
            throw foreign(key, file, describeType(attrs));
        }
        return true;
    }

    private static BasicFileAttributes attributesOrNull(Path p) throws IOException {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException | NotDirectoryException e) {
            return null;
        }
    }

    private static boolean isDirectory(Path p) {
        return Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
    }

    private static String describeType(BasicFileAttributes attrs) {
        return attrs.isSymbolicLink() ? "a symbolic link" : attrs.isDirectory() ? "a directory"
                : attrs.isRegularFile() ? "a regular file" : "a special file";
    }

    private static UserDefinedFileAttributeView xattrView(Path file) throws IOException {
        UserDefinedFileAttributeView view = Files.getFileAttributeView(file, UserDefinedFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS);
        if (view == null) {
            throw new FileSystemException(file.toString(), null, "user extended attributes are not supported");
        }
        return view;
    }

    private void syncDirectory(Path dir) throws IOException {
        if (fsync) {
            fsyncDirectory(dir);
        }
    }

    /** fsync(2) of a directory, making entries created, renamed or removed in it durable. */
    static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private ObjectStoreException foreign(String key, Path where, String what) {
        return new ObjectStoreException(Reason.PERMANENT, key, "cannot store '" + ObjectKeys.printable(key) + "' in "
                + description + ": " + where + " is " + what + " not created by this store");
    }

    private ObjectStoreException readOnlyFailure(String op, String key) {
        return new ObjectStoreException(Reason.PERMANENT, key, op + (key == null ? "" : " '" + ObjectKeys.printable(key) + "'")
                + " refused: local object store " + description + " was opened read-only");
    }

    private ObjectStoreException notFound(String key) {
        return new ObjectStoreException(Reason.NOT_FOUND, key,
                "no object '" + ObjectKeys.printable(key) + "' in " + description);
    }

    private ObjectStoreException failure(String operation, String key, IOException e) {
        String what = key == null ? operation : operation + " of '" + ObjectKeys.printable(key) + "'";
        return new ObjectStoreException(reasonFor(e), key, what + " in " + description + " failed: " + e, e);
    }

    static Reason reasonFor(IOException e) {
        if (e instanceof CorruptObjectException) {
            return Reason.CORRUPT;
        }
        if (e instanceof AccessDeniedException) {
            return Reason.PERMANENT;
        }
        if (e instanceof FileSystemException) {
            String reason = ((FileSystemException) e).getReason();
            if (reason != null && (reason.contains("Read-only file system") || reason.contains("Operation not permitted")
                    || reason.contains("not supported"))) {
                return Reason.PERMANENT;
            }
        }
        return Reason.TRANSIENT;
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("local object store " + description + " is closed");
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing after a failure; the failure is what gets reported
        }
    }
}
