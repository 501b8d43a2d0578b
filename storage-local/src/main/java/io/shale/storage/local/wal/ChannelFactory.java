package io.shale.storage.local.wal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/**
 * Opens the segment files' channels. The default is {@link FileChannel#open}; tests substitute
 * channels that fail on demand to exercise the WAL's I/O error handling.
 */
@FunctionalInterface
interface ChannelFactory {
    ChannelFactory DEFAULT = FileChannel::open;

    FileChannel open(Path path, OpenOption... options) throws IOException;
}
