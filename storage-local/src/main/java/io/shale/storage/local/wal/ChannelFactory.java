package io.shale.storage.local.wal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/**
 * Opens the segment files' channels, and the WAL directory's (and its parents') for the fsync that
 * makes creations and deletions durable (opened with {@code READ} only). The default is
 * {@link FileChannel#open}; tests substitute channels that fail on demand to exercise the WAL's
 * I/O error handling, or that count directory syncs.
 */
@FunctionalInterface
interface ChannelFactory {
    ChannelFactory DEFAULT = FileChannel::open;

    FileChannel open(Path path, OpenOption... options) throws IOException;
}
