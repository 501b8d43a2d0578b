package io.shale.broker;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Splits a connection's bytes into Kafka request frames: a 4-byte big-endian size, then that many
 * bytes. Each frame goes on as a {@link ByteBuf}.
 *
 * <p>A frame larger than the broker's maximum request size ({@code socket.request.max.bytes}) is
 * never buffered whole: only its first bytes (up to {@link #PEEK_BYTES}, enough for any request
 * header) are kept, the rest is skipped as it arrives, and once the whole frame has arrived the
 * first bytes go on as an {@link Oversized}, so that the request is answered (not before: a client
 * such as kafka-clients fails if an answer comes while it is still sending the request); the
 * frames after it are read as usual. A size below
 * {@link #MIN_FRAME_BYTES} (too short for an API key, version and correlation id, so nothing can be
 * answered) or below zero (no way to find the next frame) closes the connection.
 */
final class KafkaFrameDecoder extends ByteToMessageDecoder {
    private static final Logger log = LoggerFactory.getLogger(KafkaFrameDecoder.class);

    /** The fixed start of every request header: API key (2), API version (2), correlation id (4). */
    static final int MIN_FRAME_BYTES = 8;
    /** How much of an oversized frame is kept to read its header: a client id (at most 32767 bytes) and tagged fields. */
    static final int PEEK_BYTES = 64 * 1024;

    /** The first bytes of a frame over the size limit (the rest is skipped), and its full size. */
    static final class Oversized {
        final ByteBuf prefix;
        final int size;

        Oversized(ByteBuf prefix, int size) {
            this.prefix = prefix;
            this.size = size;
        }
    }

    /** Kafka's {@code sasl.server.max.receive.size}: the largest frame read before SASL authentication. */
    static final int MAX_UNAUTHENTICATED_BYTES = 512 * 1024;

    private final int maxRequestBytes;
    /** Frames above this size close the connection (before SASL authentication), see {@link #authenticated()}. */
    private volatile int closeAboveBytes = Integer.MAX_VALUE;
    /** Smallest frame read: {@link #MIN_FRAME_BYTES}, or 0 while bare SASL tokens are read (SaslHandshake v0). */
    private volatile int minFrameBytes = MIN_FRAME_BYTES;
    private boolean closed;
    private long discardRemaining;
    private Oversized pending; // an oversized frame being skipped: passed on once all of it arrived

    KafkaFrameDecoder(int maxRequestBytes) {
        this.maxRequestBytes = maxRequestBytes;
    }

    /**
     * Until {@link #authenticated()}, a frame over {@link #MAX_UNAUTHENTICATED_BYTES} closes the
     * connection unread, as Kafka's SASL authenticator does (no buffering of large frames for clients
     * not yet known).
     */
    void requireAuthentication() {
        closeAboveBytes = MAX_UNAUTHENTICATED_BYTES;
    }

    /** The connection is authenticated: frames up to the maximum request size are read again. Any thread. */
    void authenticated() {
        closeAboveBytes = Integer.MAX_VALUE;
        minFrameBytes = MIN_FRAME_BYTES;
    }

    /** Bare SASL tokens follow (SaslHandshake v0): frames of any size from 0 are read until {@link #authenticated()}. */
    void acceptShortFrames() {
        minFrameBytes = 0;
    }

    /** Bytes held for frames not complete yet (an oversized frame is never held whole: tests check it). */
    int bufferedBytes() {
        return internalBuffer().readableBytes();
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        if (pending != null) {
            pending.prefix.release();
            pending = null;
        }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (closed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        while (true) {
            if (discardRemaining > 0) {
                int skip = (int) Math.min(discardRemaining, in.readableBytes());
                in.skipBytes(skip);
                discardRemaining -= skip;
                if (discardRemaining > 0) {
                    return;
                }
            }
            if (pending != null) {
                out.add(pending);
                pending = null;
            }
            if (in.readableBytes() < 4) {
                return;
            }
            int size = in.getInt(in.readerIndex());
            if (size < minFrameBytes) {
                closed = true;
                log.warn("closing connection from {}: request frame of {} bytes {}", ctx.channel().remoteAddress(), size,
                        size < 0 ? "is invalid" : "cannot hold a request header (api key, version, correlation id)");
                in.skipBytes(in.readableBytes());
                ctx.close();
                return;
            }
            if (size > closeAboveBytes) {
                closed = true;
                log.warn("closing connection from {}: request frame of {} bytes before SASL authentication (at most {})",
                        ctx.channel().remoteAddress(), size, closeAboveBytes);
                in.skipBytes(in.readableBytes());
                ctx.close();
                return;
            }
            if (size > maxRequestBytes) {
                int peek = Math.min(size, PEEK_BYTES);
                if (in.readableBytes() < 4 + peek) {
                    return;
                }
                in.skipBytes(4);
                // a copy: the cumulation buffer must not stay pinned by a slice while the rest streams past
                ByteBuf prefix = ctx.alloc().heapBuffer(peek);
                prefix.writeBytes(in, peek);
                pending = new Oversized(prefix, size);
                discardRemaining = (long) size - peek;
                continue;
            }
            if (in.readableBytes() < 4 + size) {
                return;
            }
            in.skipBytes(4);
            out.add(in.readRetainedSlice(size));
        }
    }
}
