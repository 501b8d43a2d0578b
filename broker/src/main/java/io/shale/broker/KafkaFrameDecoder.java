package io.shale.broker;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Splits a connection's bytes into Kafka request frames: a 4-byte big-endian size, then that many
 * bytes. A size below zero or above the broker's maximum request size closes the connection (as
 * Kafka's own broker does with {@code socket.request.max.bytes}): the frame's bytes are never
 * buffered, and nothing more is read from that connection.
 */
final class KafkaFrameDecoder extends ByteToMessageDecoder {
    private static final Logger log = LoggerFactory.getLogger(KafkaFrameDecoder.class);

    private final int maxRequestBytes;
    private boolean discarding;

    KafkaFrameDecoder(int maxRequestBytes) {
        this.maxRequestBytes = maxRequestBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (discarding) {
            in.skipBytes(in.readableBytes());
            return;
        }
        while (in.readableBytes() >= 4) {
            int size = in.getInt(in.readerIndex());
            if (size < 0 || size > maxRequestBytes) {
                discarding = true;
                log.warn("closing connection from {}: request frame of {} bytes {} (socket.request.max.bytes = {})",
                        ctx.channel().remoteAddress(), size, size < 0 ? "is invalid" : "is larger than the maximum",
                        maxRequestBytes);
                in.skipBytes(in.readableBytes());
                ctx.close();
                return;
            }
            if (in.readableBytes() < 4 + size) {
                return;
            }
            in.skipBytes(4);
            out.add(in.readRetainedSlice(size));
        }
    }
}
