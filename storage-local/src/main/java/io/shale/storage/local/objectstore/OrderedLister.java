package io.shale.storage.local.objectstore;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Lists objects in exact UTF-8 key order by walking the directory tree depth-first.
 *
 * <p><b>Order.</b> Every entry of a directory stands for a contiguous range of keys: an object for
 * one key, a "%2F" directory for all keys starting with {@code label + '/'}, a "%+" continuation
 * directory for all keys starting with its 80-byte label and longer than it. These ranges do not
 * interleave (labels hold no '/', continuation labels are exactly 80 bytes and no object or
 * directory label of a sibling extends them, a directory's '/' decides against any longer label),
 * so visiting entries by {@link ObjectKeys.Entry#sortKey()} (object {@code label}, directory
 * {@code label + '/'}, continuation {@code label + 0x00}) and recursing yields ascending keys.
 *
 * <p><b>Cost.</b> A page reads every directory it passes through in full (a directory stream
 * cannot be read from the middle) but keeps only the {@code batch} smallest eligible entries of
 * each in memory, re-reading a directory when it needs more: O(entries of the directories on the
 * path x log batch) time and O(batch x depth) memory per page, whatever the size of the tree.
 * Paging through a flat directory of N objects with pages of M keys therefore reads N x N/M
 * directory entries in total; fine for the thousands of objects a local store holds per
 * directory, slow for millions. Subtrees entirely before {@code startAfter} or outside the
 * prefix are never opened. Only returned objects are stat'ed (one lstat each).
 *
 * <p>Not thread-confined state: one instance per listing call.
 */
final class OrderedLister {
    /** An object found by the walk. */
    record Found(String key, Path path, BasicFileAttributes attributes) {
    }

    private static final Comparator<ObjectKeys.Entry> BY_SORT_KEY =
            (a, b) -> ObjectKeys.compare(a.sortKey(), b.sortKey());

    private final byte[] prefix;
    private final byte[] startAfter;
    private final int limit;
    private final int batch;
    private final List<Found> found = new ArrayList<>();

    /**
     * @param prefix keys must start with these bytes
     * @param startAfter keys must be greater than these bytes, or null
     * @param limit stop after this many objects
     */
    OrderedLister(byte[] prefix, byte[] startAfter, int limit) {
        this.prefix = prefix;
        this.startAfter = startAfter;
        this.limit = limit;
        this.batch = Math.max(limit, 64);
    }

    /** Walks the directory {@code dir} standing for keys that start with {@code nodePrefix}. */
    List<Found> walk(Path dir, byte[] nodePrefix) throws IOException {
        visit(dir, nodePrefix);
        return found;
    }

    private void visit(Path dir, byte[] nodePrefix) throws IOException {
        byte[] after = null; // sort key of the last entry handled in this directory
        while (found.size() < limit) {
            List<ObjectKeys.Entry> entries = readBatch(dir, nodePrefix, after);
            for (ObjectKeys.Entry entry : entries) {
                if (found.size() >= limit) {
                    return;
                }
                byte[] fragment = entry.fragment(nodePrefix);
                Path child = dir.resolve(entry.name());
                BasicFileAttributes attrs = attributesOrNull(child);
                if (attrs == null) {
                    continue; // deleted since the directory was read
                }
                if (entry.kind() == ObjectKeys.Kind.OBJECT) {
                    if (attrs.isRegularFile()) {
                        String key = ObjectKeys.strictString(fragment);
                        if (key != null && ObjectKeys.problemWith(fragment) == null) {
                            found.add(new Found(key, child, attrs));
                        }
                    }
                } else if (attrs.isDirectory()) { // never through a symbolic link
                    visit(child, fragment);
                }
            }
            if (entries.size() < batch) {
                return;
            }
            after = entries.get(entries.size() - 1).sortKey();
        }
    }

    /** The {@code batch} smallest eligible entries of {@code dir} whose sort key is after {@code after}, sorted. */
    private List<ObjectKeys.Entry> readBatch(Path dir, byte[] nodePrefix, byte[] after) throws IOException {
        PriorityQueue<ObjectKeys.Entry> largestFirst = new PriorityQueue<>(BY_SORT_KEY.reversed());
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            for (Path p : stream) {
                ObjectKeys.Entry entry = ObjectKeys.decodeName(p.getFileName().toString());
                if (entry == null || (after != null && ObjectKeys.compare(entry.sortKey(), after) <= 0)
                        || !eligible(entry, entry.fragment(nodePrefix))) {
                    continue;
                }
                if (largestFirst.size() < batch) {
                    largestFirst.add(entry);
                } else if (BY_SORT_KEY.compare(entry, largestFirst.peek()) < 0) {
                    largestFirst.poll();
                    largestFirst.add(entry);
                }
            }
        } catch (NoSuchFileException | NotDirectoryException e) {
            return List.of(); // removed (empty directory cleanup) while we walked
        }
        List<ObjectKeys.Entry> sorted = new ArrayList<>(largestFirst);
        sorted.sort(BY_SORT_KEY);
        return sorted;
    }

    /** Whether an entry's key range can hold a key this listing returns. */
    private boolean eligible(ObjectKeys.Entry entry, byte[] fragment) {
        if (entry.kind() == ObjectKeys.Kind.OBJECT) {
            return ObjectKeys.startsWith(fragment, prefix)
                    && (startAfter == null || ObjectKeys.compare(fragment, startAfter) > 0);
        }
        // Every key below a directory starts with its fragment and is longer than it.
        boolean prefixOk = ObjectKeys.startsWith(fragment, prefix) || ObjectKeys.startsWith(prefix, fragment);
        boolean afterOk = startAfter == null || ObjectKeys.compare(fragment, startAfter) > 0
                || ObjectKeys.startsWith(startAfter, fragment);
        return prefixOk && afterOk;
    }

    private static BasicFileAttributes attributesOrNull(Path p) throws IOException {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
    }
}
