package io.shale.storage.local.wal;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lock of a WAL directory: an exclusive {@link FileChannel} lock on {@code wal.lock}, held
 * from {@code open} to {@code close}. The operating system releases it when the holding process
 * dies, however it dies, so a lock file left behind by a killed process never blocks.
 *
 * <p>Holder identity: right after it acquired the lock, the holder writes who it is into the
 * file (a few {@code key=value} lines: pid, host, user, the JVM's command and start time, when it
 * took the lock, the directory). An opener that cannot take the lock reads them back and names
 * the holder in its {@code IN_USE} error. The content is informational only: it may be empty (the
 * holder has just taken the lock), stale (a killed holder's, when the reader races with a new
 * holder) or damaged; the opener then says the holder is unknown, and a pid on this host that is
 * not running (or is another process that reused the number) is not named. The holder empties the
 * file before it releases the lock.
 *
 * <p>Same JVM: on Linux these are POSIX record locks, which belong to the process, and closing
 * <em>any</em> channel of the file drops all of the process's locks on it. A second opener in the
 * same JVM must therefore not even open the file while a WAL of this JVM holds it (its failed
 * attempt would close its channel and silently unlock the running WAL for other processes). The
 * locks held in this JVM are registered here by file key (device and inode, or the real path where
 * the platform has no key) and checked before the file is opened.
 */
final class DirectoryLock {
    private static final Logger LOG = LoggerFactory.getLogger(DirectoryLock.class);

    /** Name of the lock file in the WAL directory. */
    static final String FILE = "wal.lock";
    /** First line of the holder identity; the version of its format. */
    static final String MAGIC = "shale-wal-lock 1";
    /** The most bytes of the lock file an opener reads. */
    private static final int MAX_CONTENT = 4096;
    private static final int MAX_VALUE = 256;
    /** Start times of the same process, computed by two JVMs, agree within this. */
    private static final Duration START_TOLERANCE = Duration.ofSeconds(2);

    /** Identities of the locks held by WALs of this JVM, by lock-file key; guarded by itself. */
    private static final Map<Object, String> HELD = new HashMap<>();

    private final Path path;
    private final Object key;
    private final FileChannel channel;
    private final FileLock lock;
    private final String description;

    private DirectoryLock(Path path, Object key, FileChannel channel, FileLock lock, String description) {
        this.path = path;
        this.key = key;
        this.channel = channel;
        this.lock = lock;
        this.description = description;
    }

    /**
     * Locks {@code dir} (which must exist) and records this process as the holder.
     *
     * @throws ShaleException {@code IN_USE} naming the holder if a live WAL holds the lock (in this
     *     or another process); {@code UNAVAILABLE} if the lock file cannot be opened or locked
     */
    static DirectoryLock acquire(Path dir, String description) {
        Path path = dir.resolve(FILE);
        synchronized (HELD) {
            FileChannel ch = null;
            try {
                Object key = keyOf(path);
                String holder = key == null ? null : HELD.get(key);
                if (holder != null) {
                    throw inUse(dir, path, "a WAL of this process, " + describe(holder));
                }
                ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                        StandardOpenOption.WRITE);
                key = keyOf(path);
                FileLock l;
                try {
                    l = ch.tryLock();
                } catch (OverlappingFileLockException e) {
                    // Locked in this JVM, but not by a WAL (those are registered): nothing to read.
                    // Closing our channel below may drop that lock (see the class comment); nothing
                    // but a WAL should lock this file.
                    throw inUse(dir, path, "something else in this process (pid " + ProcessHandle.current().pid()
                            + ") that is not a WAL");
                }
                if (l == null) {
                    throw inUse(dir, path, describe(readContent(ch)));
                }
                String identity = identity(dir);
                writeIdentity(ch, path, identity, description);
                HELD.put(key, identity);
                return new DirectoryLock(path, key, ch, l, description);
            } catch (IOException e) {
                closeQuietly(ch);
                throw new ShaleException(ErrorKind.UNAVAILABLE, description + ": cannot lock WAL directory " + dir
                        + " (" + path + "): " + e, e);
            } catch (RuntimeException e) {
                closeQuietly(ch);
                throw e;
            }
        }
    }

    /** Empties the lock file (so that no one names a holder that has gone), then unlocks it. */
    void release() {
        synchronized (HELD) {
            try {
                channel.truncate(0);
            } catch (IOException e) {
                LOG.debug("{}: cannot empty {}: {}", description, path, e.toString());
            }
            // A channel closed by an interrupt has released its lock already.
            if (channel.isOpen()) {
                try {
                    lock.release();
                } catch (IOException e) {
                    LOG.warn("{}: releasing the directory lock failed: {}", description, e.toString());
                }
            }
            closeQuietly(channel);
            HELD.remove(key);
        }
    }

    private static ShaleException inUse(Path dir, Path path, String holder) {
        return new ShaleException(ErrorKind.IN_USE, "WAL directory " + dir + " is in use by another WAL, held by "
                + holder + ". Lock file: " + path + ". Close that store first or use another directory; the lock "
                + "is released when its holder closes or dies");
    }

    private static Object keyOf(Path path) throws IOException {
        if (!Files.exists(path)) {
            return null;
        }
        Object k = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
        return k != null ? k : path.toRealPath();
    }

    // ---- the identity in the file ----

    /** What this process writes into the lock file. */
    static String identity(Path dir) {
        ProcessHandle self = ProcessHandle.current();
        ProcessHandle.Info info = self.info();
        Map<String, String> f = new LinkedHashMap<>();
        f.put("pid", Long.toString(self.pid()));
        f.put("host", LocalHost.NAME);
        info.user().ifPresent(u -> f.put("user", u));
        info.command().ifPresent(c -> f.put("command", c));
        info.startInstant().ifPresent(t -> f.put("jvm-started", t.toString()));
        f.put("locked-at", Instant.now().toString());
        f.put("wal", dir.toString());
        StringBuilder b = new StringBuilder(MAGIC).append('\n');
        f.forEach((k, v) -> b.append(k).append('=').append(clean(v)).append('\n'));
        return b.toString();
    }

    private static void writeIdentity(FileChannel ch, Path path, String identity, String description)
            throws IOException {
        // Only informative: a WAL that cannot say who it is still holds the lock and runs.
        try {
            ch.truncate(0);
            ByteBuffer b = ByteBuffer.wrap(identity.getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                ch.write(b, b.position());
            }
        } catch (IOException e) {
            if (!ch.isOpen()) {
                // Closed under us (the opening thread was interrupted): the lock went with it.
                throw e;
            }
            LOG.warn("{}: cannot record this process as the holder in {}: {}", description, path, e.toString());
        }
    }

    private static String readContent(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(MAX_CONTENT);
        while (b.hasRemaining() && ch.read(b, b.position()) >= 0) {
            // until full or end of file
        }
        b.flip();
        return StandardCharsets.UTF_8.decode(b).toString();
    }

    /**
     * Names the holder that {@code content} (a lock file's text) describes, for an error message:
     * "pid 123 on host h (...)", or "an unknown holder (...)" when the content is empty, incomplete,
     * not recognised, or names a process of this host that is not running.
     */
    static String describe(String content) {
        if (content == null || content.isEmpty()) {
            return "an unknown holder (the lock file is empty: its holder may be starting and not have "
                    + "written its identity yet)";
        }
        Map<String, String> f = parse(content);
        // Complete means every line was written: the last field ("wal") and the final newline.
        String pidText = f == null || !f.containsKey("wal") || !content.endsWith("\n") ? null : f.get("pid");
        long pid;
        try {
            pid = pidText == null ? -1 : Long.parseLong(pidText);
        } catch (NumberFormatException e) {
            pid = -1;
        }
        if (pid <= 0 || !f.containsKey("host")) {
            return "an unknown holder (the lock file's content is incomplete or not recognised)";
        }
        String host = f.get("host");
        if (host.equals(LocalHost.NAME) && !runningHere(pid, f.get("jvm-started"))) {
            return "an unknown holder (the lock file names pid " + pid + " on this host, which is not running: "
                    + "that content is stale and the new holder may not have written its identity yet)";
        }
        StringBuilder b = new StringBuilder("pid ").append(pid).append(" on host ").append(host);
        StringBuilder details = new StringBuilder();
        appendDetail(details, "user", f.get("user"));
        appendDetail(details, "command", f.get("command"));
        appendDetail(details, "JVM started", f.get("jvm-started"));
        appendDetail(details, "locked at", f.get("locked-at"));
        if (details.length() > 0) {
            b.append(" (").append(details).append(')');
        }
        return b.toString();
    }

    private static void appendDetail(StringBuilder b, String name, String value) {
        if (value != null) {
            if (b.length() > 0) {
                b.append(", ");
            }
            b.append(name).append(' ').append(value);
        }
    }

    /** The fields of a recognised identity, or {@code null}. */
    private static Map<String, String> parse(String content) {
        String[] lines = content.split("\n", -1);
        if (!lines[0].equals(MAGIC)) {
            return null;
        }
        Map<String, String> f = new HashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int eq = lines[i].indexOf('=');
            if (eq > 0) {
                f.putIfAbsent(lines[i].substring(0, eq), clean(lines[i].substring(eq + 1)));
            }
        }
        return f;
    }

    private static boolean runningHere(long pid, String startedText) {
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        if (h.isEmpty() || !h.get().isAlive()) {
            return false;
        }
        if (startedText == null) {
            return true;
        }
        Optional<Instant> started = h.get().info().startInstant();
        try {
            Instant recorded = Instant.parse(startedText);
            // Another start time: the pid was reused by a process that is not the holder.
            return started.isEmpty()
                    || Duration.between(recorded, started.get()).abs().compareTo(START_TOLERANCE) <= 0;
        } catch (RuntimeException e) {
            return true;
        }
    }

    /** One line, printable, bounded: the file may hold anything. */
    private static String clean(String v) {
        StringBuilder b = new StringBuilder(Math.min(v.length(), MAX_VALUE));
        for (int i = 0; i < v.length() && b.length() < MAX_VALUE; i++) {
            char c = v.charAt(i);
            b.append(Character.isISOControl(c) ? '?' : c);
        }
        return b.toString();
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch == null) {
            return;
        }
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing more to do
        }
    }

    /** This host's name, looked up once (the kernel's name on Linux: no DNS lookup). */
    private static final class LocalHost {
        static final String NAME = lookUp();

        private static String lookUp() {
            try {
                Path kernel = Path.of("/proc/sys/kernel/hostname");
                if (Files.isReadable(kernel)) {
                    String n = Files.readString(kernel, StandardCharsets.US_ASCII).trim();
                    if (!n.isEmpty()) {
                        return clean(n);
                    }
                }
                return clean(InetAddress.getLocalHost().getHostName());
            } catch (IOException | RuntimeException e) {
                return "unknown-host";
            }
        }
    }
}
