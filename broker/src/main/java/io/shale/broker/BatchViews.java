package io.shale.broker;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.shale.log.FetchResult;
import io.shale.log.record.RecordBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.network.Send;
import org.apache.kafka.common.network.TransferableChannel;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.RecordsSend;

/**
 * Zero-copy plumbing between Shale's stored batches and Netty.
 *
 * <p>A fetch response's records section is a {@link Records} over the read-only views a
 * {@link FetchResult} returns (views of the log cache or of cached object blocks). kafka-clients'
 * {@code SendBuilder} serializes the response's fixed parts into one buffer and keeps record
 * sections as separate {@link Send}s; {@link #toByteBuf} drains that {@code Send} into a
 * composite Netty buffer whose components wrap those buffers as they are. No byte of a record
 * batch is copied by the broker or by kafka-clients.
 *
 * <p>Lifetime: the views keep their memory reachable until Netty has written and released the
 * response. The log cache never recycles a chunk once a reader has seen it (it marks the chunk
 * exposed and leaves it to the garbage collector), and cached object blocks are never reused, so
 * the bytes cannot change under a response waiting to be written.
 */
final class BatchViews {
    private BatchViews() {
    }

    /** The records of one partition of a fetch: the stored batches' views, in order. */
    static final class Records implements BaseRecords {
        private final List<ByteBuffer> views;
        private final int size;

        Records(FetchResult result) {
            List<ByteBuffer> v = new ArrayList<>(result.batches().size());
            long total = 0;
            for (RecordBatch b : result.batches()) {
                ByteBuffer view = b.buffer();
                v.add(view);
                total += view.remaining();
            }
            if (total > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("a fetch partition holds at most 2 GiB, not " + total + " bytes");
            }
            this.views = v;
            this.size = (int) total;
        }

        /** The views (read-only, shared with the store). */
        List<ByteBuffer> views() {
            return views;
        }

        @Override
        public int sizeInBytes() {
            return size;
        }

        @Override
        public RecordsSend<Records> toSend() {
            ByteBuffer[] pending = new ByteBuffer[views.size()];
            for (int i = 0; i < pending.length; i++) {
                pending[i] = views.get(i).duplicate(); // own positions: the views stay shareable
            }
            return new RecordsSend<>(this, size) {
                @Override
                protected int writeTo(TransferableChannel channel, int previouslyWritten, int remaining)
                        throws IOException {
                    return (int) channel.write(pending);
                }
            };
        }

        @Override
        public String toString() {
            return "BatchViews.Records(" + views.size() + " batches, " + size + " bytes)";
        }
    }

    /**
     * Writes a whole {@link Send} into a composite buffer whose components wrap the send's own
     * buffers (no copy). The send must be made of in-memory buffers (no file regions).
     */
    static ByteBuf toByteBuf(Send send) {
        Collector c = new Collector();
        try {
            while (!send.completed()) {
                long n = send.writeTo(c);
                if (n <= 0 && !send.completed()) {
                    throw new IllegalStateException("the response send made no progress");
                }
            }
        } catch (IOException | RuntimeException e) {
            c.out.release();
            throw new IllegalStateException("cannot collect the response buffers: " + e, e);
        }
        return c.out;
    }

    /** A gathering channel that keeps the buffers written to it, wrapped, instead of copying them. */
    private static final class Collector implements TransferableChannel {
        // never consolidate: consolidating would copy
        final CompositeByteBuf out = Unpooled.compositeBuffer(Integer.MAX_VALUE);

        @Override
        public int write(ByteBuffer src) {
            int n = src.remaining();
            if (n > 0) {
                out.addComponent(true, Unpooled.wrappedBuffer(src.slice()));
                src.position(src.limit());
            }
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            long n = 0;
            for (int i = offset; i < offset + length; i++) {
                n += write(srcs[i]);
            }
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs) {
            return write(srcs, 0, srcs.length);
        }

        @Override
        public boolean hasPendingWrites() {
            return false;
        }

        @Override
        public long transferFrom(FileChannel fileChannel, long position, long count) throws IOException {
            throw new IOException("file regions are not used by this broker");
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }
}
