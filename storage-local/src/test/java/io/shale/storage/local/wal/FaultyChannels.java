package io.shale.storage.local.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link ChannelFactory} whose channels fail on demand, the way a full or failing disk does.
 * A failing write first writes half of what it was given (a torn write), then throws. Write and
 * sync failures are injected only into channels opened for both reading and writing, which only
 * the WAL's writer thread does (the background preparer opens for writing only), so a test knows
 * which group a failure hits.
 */
final class FaultyChannels implements ChannelFactory {
    /** Positional writes that will fail next. */
    final AtomicInteger failWrites = new AtomicInteger();
    /** {@code force} calls that will fail next (after the data was written). */
    final AtomicInteger failForces = new AtomicInteger();
    /** File creations ({@code CREATE_NEW} opens) that will fail next. */
    final AtomicInteger failCreates = new AtomicInteger();
    /** When set, every creation fails (a full disk). */
    volatile boolean diskFull;

    @Override
    public FileChannel open(Path path, OpenOption... options) throws IOException {
        if (Arrays.asList(options).contains(StandardOpenOption.CREATE_NEW)
                && (diskFull || takeOne(failCreates))) {
            throw new IOException("No space left on device (injected) creating " + path);
        }
        List<OpenOption> o = Arrays.asList(options);
        FileChannel ch = FileChannel.open(path, options);
        if (o.contains(StandardOpenOption.READ) && o.contains(StandardOpenOption.WRITE)) {
            return new Faulty(ch, path);
        }
        return ch;
    }

    private static boolean takeOne(AtomicInteger counter) {
        return counter.getAndUpdate(v -> v > 0 ? v - 1 : 0) > 0;
    }

    private final class Faulty extends FileChannel {
        private final FileChannel d;
        private final Path path;

        Faulty(FileChannel d, Path path) {
            this.d = d;
            this.path = path;
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            if (takeOne(failWrites)) {
                ByteBuffer half = src.duplicate();
                half.limit(half.position() + half.remaining() / 2);
                while (half.hasRemaining()) {
                    d.write(half, position + (half.position() - src.position()));
                }
                throw new IOException("No space left on device (injected) writing " + path);
            }
            return d.write(src, position);
        }

        @Override
        public void force(boolean metaData) throws IOException {
            if (takeOne(failForces)) {
                throw new IOException("Input/output error (injected) syncing " + path);
            }
            d.force(metaData);
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return d.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return d.read(dsts, offset, length);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return d.write(src);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            return d.write(srcs, offset, length);
        }

        @Override
        public long position() throws IOException {
            return d.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            d.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return d.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            d.truncate(size);
            return this;
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return d.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            return d.transferFrom(src, position, count);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return d.read(dst, position);
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            return d.map(mode, position, size);
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return d.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return d.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            d.close();
        }
    }
}
