package io.shale.storage.local.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A {@link ChannelFactory} that lets the first {@code passCreations} file creations through and
 * then stalls the writes of newly created files, as a disk that stopped making progress: each
 * write returns 0 bytes written (which {@code FileChannel} allows) until {@link #release()}. The
 * segment pool's preallocation is then stuck half-way, with its file created, for as long as the
 * test wants, and exactly when {@link #stalled} is counted down.
 */
final class StallingChannels implements ChannelFactory {
    final CountDownLatch stalled = new CountDownLatch(1);
    /** The file whose writes stall (the first one after the creations let through). */
    volatile Path stalledFile;
    private final AtomicInteger creationsLeft;
    private volatile boolean stall = true;

    StallingChannels(int passCreations) {
        this.creationsLeft = new AtomicInteger(passCreations);
    }

    void release() {
        stall = false;
    }

    @Override
    public FileChannel open(Path path, OpenOption... options) throws IOException {
        FileChannel ch = FileChannel.open(path, options);
        if (!Arrays.asList(options).contains(StandardOpenOption.CREATE_NEW)
                || creationsLeft.getAndDecrement() > 0) {
            return ch;
        }
        return new DelegatingChannel(ch) {
            @Override
            public int write(ByteBuffer src, long position) throws IOException {
                if (stall) {
                    if (stalledFile == null) {
                        stalledFile = path;
                    }
                    stalled.countDown();
                    LockSupport.parkNanos(1_000_000);
                    return 0;
                }
                return super.write(src, position);
            }
        };
    }
}
