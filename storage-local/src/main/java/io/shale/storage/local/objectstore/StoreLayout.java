package io.shale.storage.local.objectstore;

import io.shale.log.ErrorKind;
import io.shale.log.ShaleException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The layout marker, a small text file at the root that fixes how a directory is laid out, so that
 * every process opening it reads and writes objects the same way:
 *
 * <pre>
 * # Shale local object store: objects are files below this directory.
 * format=shale-local-objectstore
 * version=1
 * chunk-bytes=80
 * metadata=xattr            (or: trailer)
 * </pre>
 *
 * <p>It is created once, atomically (temp file + fsync + hard link, so concurrent first openers
 * agree on one), and never changed. Its name starts with '%' and a lowercase letter, so no key maps
 * to it.
 */
final class StoreLayout {
    static final String MARKER_NAME = "%shale-objectstore";
    static final String FORMAT = "shale-local-objectstore";
    static final int VERSION = 1;

    /** Where object metadata lives (see {@link ObjectMetadata}). */
    enum Metadata {
        XATTR("xattr"), TRAILER("trailer");

        final String text;

        Metadata(String text) {
            this.text = text;
        }
    }

    final Metadata metadata;

    private StoreLayout(Metadata metadata) {
        this.metadata = metadata;
    }

    /**
     * Reads the root's marker, or creates it if missing.
     *
     * @param wanted the metadata placement for a new directory, or null to choose (xattr if they work)
     * @throws ShaleException if the directory is laid out in a way this code cannot read
     *     ({@code INVALID_ARGUMENT}, {@code CORRUPT_STORAGE}) or that contradicts {@code wanted}
     *     ({@code INVALID_ARGUMENT}), or needs extended attributes the file system lacks
     *     ({@code STORAGE_ACCESS})
     */
    static StoreLayout openOrCreate(Path root, Metadata wanted) throws IOException {
        Path marker = root.resolve(MARKER_NAME);
        if (!Files.exists(marker, LinkOption.NOFOLLOW_LINKS)) {
            Metadata chosen = wanted != null ? wanted : (xattrsWork(root) ? Metadata.XATTR : Metadata.TRAILER);
            Path tmp = root.resolve(ObjectKeys.TEMP_PREFIX + "marker-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
            try {
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    ByteBuffer text = ByteBuffer.wrap(render(chosen).getBytes(StandardCharsets.UTF_8));
                    while (text.hasRemaining()) {
                        ch.write(text);
                    }
                    ch.force(true);
                }
                Files.createLink(marker, tmp);
                LocalDirectoryObjectStore.fsyncDirectory(root);
            } catch (FileAlreadyExistsException raced) {
                // Another opener created it first; read theirs below.
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
        StoreLayout layout = parse(Files.readString(marker, StandardCharsets.UTF_8), marker);
        if (wanted != null && wanted != layout.metadata) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, root + " keeps object metadata as " + layout.metadata.text
                    + " (see " + marker + "), not " + wanted.text);
        }
        if (layout.metadata == Metadata.XATTR && !xattrsWork(root)) {
            throw new ShaleException(ErrorKind.STORAGE_ACCESS, root + " keeps object metadata in extended attributes (see " + marker
                    + "), but this file system does not support user extended attributes");
        }
        return layout;
    }

    /**
     * Reads the root's marker without writing anything (a read-only open).
     *
     * @throws ShaleException {@code STORAGE_ACCESS} if there is no marker (the directory is not a
     *     store), otherwise as {@link #parse}; and {@code STORAGE_ACCESS} if the layout needs
     *     extended attributes that cannot be read here
     */
    static StoreLayout read(Path root) throws IOException {
        Path marker = root.resolve(MARKER_NAME);
        if (!Files.exists(marker, LinkOption.NOFOLLOW_LINKS)) {
            throw new ShaleException(ErrorKind.STORAGE_ACCESS, "cannot open " + root + " read-only: it is not a Shale"
                    + " local object store (no " + MARKER_NAME + " marker; a writable open creates one)");
        }
        StoreLayout layout = parse(Files.readString(marker, StandardCharsets.UTF_8), marker);
        if (layout.metadata == Metadata.XATTR && !xattrsReadable(marker)) {
            throw new ShaleException(ErrorKind.STORAGE_ACCESS, root + " keeps object metadata in extended attributes"
                    + " (see " + marker + "), but they cannot be read on this file system");
        }
        return layout;
    }

    /** Whether user extended attributes can be listed on {@code file} (reads only). */
    private static boolean xattrsReadable(Path file) {
        try {
            UserDefinedFileAttributeView view = Files.getFileAttributeView(file, UserDefinedFileAttributeView.class,
                    LinkOption.NOFOLLOW_LINKS);
            if (view == null) {
                return false;
            }
            view.list();
            return true;
        } catch (UnsupportedOperationException | IOException e) {
            return false;
        }
    }

    static String render(Metadata metadata) {
        return "# Shale local object store: objects are files below this directory.\n"
                + "format=" + FORMAT + "\n"
                + "version=" + VERSION + "\n"
                + "chunk-bytes=" + ObjectKeys.CHUNK_BYTES + "\n"
                + "metadata=" + metadata.text + "\n";
    }

    static StoreLayout parse(String text, Path where) {
        Map<String, String> props = new HashMap<>();
        for (String line : text.split("\n", -1)) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            int eq = l.indexOf('=');
            if (eq <= 0) {
                throw new ShaleException(ErrorKind.CORRUPT_STORAGE, "unreadable layout marker " + where + ": line '" + l + "'");
            }
            props.put(l.substring(0, eq).strip(), l.substring(eq + 1).strip());
        }
        if (!FORMAT.equals(props.get("format"))) {
            throw new ShaleException(ErrorKind.CORRUPT_STORAGE, where + " is not a Shale local object store marker (format=" + props.get("format") + ")");
        }
        if (!String.valueOf(VERSION).equals(props.get("version"))) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, where + " has layout version " + props.get("version")
                    + "; this code reads version " + VERSION);
        }
        if (!String.valueOf(ObjectKeys.CHUNK_BYTES).equals(props.get("chunk-bytes"))) {
            throw new ShaleException(ErrorKind.INVALID_ARGUMENT, where + " uses chunk-bytes=" + props.get("chunk-bytes")
                    + "; this code uses " + ObjectKeys.CHUNK_BYTES);
        }
        for (Metadata m : Metadata.values()) {
            if (m.text.equals(props.get("metadata"))) {
                return new StoreLayout(m);
            }
        }
        throw new ShaleException(ErrorKind.CORRUPT_STORAGE, where + " has unknown metadata=" + props.get("metadata"));
    }

    /** Whether user extended attributes can be written and read back in {@code dir}. */
    static boolean xattrsWork(Path dir) throws IOException {
        Path probe = dir.resolve(ObjectKeys.TEMP_PREFIX + "probe-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        Files.createFile(probe);
        try {
            UserDefinedFileAttributeView view = Files.getFileAttributeView(probe, UserDefinedFileAttributeView.class,
                    LinkOption.NOFOLLOW_LINKS);
            if (view == null) {
                return false;
            }
            byte[] value = {1, 2, 3};
            view.write(ObjectMetadata.XATTR_NAME, ByteBuffer.wrap(value));
            ByteBuffer back = ByteBuffer.allocate(16);
            view.read(ObjectMetadata.XATTR_NAME, back);
            return back.flip().equals(ByteBuffer.wrap(value));
        } catch (UnsupportedOperationException | FileSystemException e) {
            return false;
        } finally {
            Files.deleteIfExists(probe);
        }
    }
}
