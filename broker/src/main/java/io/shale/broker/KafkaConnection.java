package io.shale.broker;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.SendBuilder;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ResponseHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: parses each request frame's header on the network thread, handles the
 * request on the broker's request executor, and writes the responses back in request order (Kafka
 * clients match responses to requests by order as well as by correlation id). At most
 * {@link #MAX_IN_FLIGHT} requests of a connection are handled at once; beyond that the connection
 * stops reading until responses go out.
 *
 * <p>A frame whose header cannot be parsed, an unknown API key, a version of an API this broker
 * serves that kafka-clients cannot parse, or a body that fails to parse closes the connection (as
 * Kafka's broker does: no response can be matched to such a request). An ApiVersions request of a
 * version this broker does not serve gets Kafka's fallback: a version-0 response with
 * UNSUPPORTED_VERSION and the supported versions. Any other API or version that kafka-clients can
 * parse but this broker does not serve gets that API's error response with UNSUPPORTED_VERSION.
 *
 * <p>Responses are serialized as Kafka's broker serializes them (kafka-clients' {@code SendBuilder}):
 * fetched records are not copied into the response but written from the store's own buffers (see
 * {@link BatchViews}).
 */
final class KafkaConnection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(KafkaConnection.class);

    static final int MAX_IN_FLIGHT = 64;

    /** What a request came to: bytes to send (size prefix included), nothing, or closing the connection. */
    private static final class Outcome {
        static final Outcome NONE = new Outcome(null, null);
        final ByteBuf response;
        final String closeReason;

        Outcome(ByteBuf response, String closeReason) {
            this.response = response;
            this.closeReason = closeReason;
        }
    }

    private final KafkaApis apis;
    private final Executor executor;
    private final ArrayDeque<CompletableFuture<Outcome>> inFlight = new ArrayDeque<>(); // network thread only
    private ChannelHandlerContext ctx;
    private boolean closing;

    KafkaConnection(KafkaApis apis, Executor requestThreads) {
        this.apis = apis;
        this.executor = new SerialExecutor(requestThreads);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuffer frame;
        ByteBuf buf = (ByteBuf) msg;
        try {
            frame = ByteBuffer.allocate(buf.readableBytes());
            buf.readBytes(frame);
            frame.flip();
        } finally {
            buf.release();
        }
        if (closing) {
            return;
        }
        RequestHeader header;
        try {
            header = RequestHeader.parse(frame);
        } catch (RuntimeException e) {
            close("unparseable request header (" + e.getMessage() + ")");
            return;
        }
        CompletableFuture<Outcome> outcome = new CompletableFuture<>();
        inFlight.add(outcome);
        if (inFlight.size() >= MAX_IN_FLIGHT) {
            ctx.channel().config().setAutoRead(false);
        }
        try {
            executor.execute(() -> handle(header, frame, outcome));
        } catch (RejectedExecutionException e) {
            outcome.complete(new Outcome(null, "broker is shutting down"));
        }
        outcome.whenComplete((o, e) -> ctx.executor().execute(this::drain));
    }

    /** On a request thread: parse the body, handle it, serialize the response. Completes {@code outcome} always. */
    private void handle(RequestHeader header, ByteBuffer body, CompletableFuture<Outcome> outcome) {
        ApiKeys key = header.apiKey();
        short version = header.apiVersion();
        try {
            if (!KafkaApis.isSupported(key, version)) {
                if (key == ApiKeys.API_VERSIONS) {
                    // Kafka's rule: answer at version 0 (which every client can read) with the versions served
                    outcome.complete(respond(header.correlationId(), key, (short) 0,
                            KafkaApis.apiVersions(Errors.UNSUPPORTED_VERSION)));
                    return;
                }
                if (!key.isVersionSupported(version)) {
                    outcome.complete(new Outcome(null, key + " version " + version + " is unknown to this broker"));
                    return;
                }
                AbstractRequest request = AbstractRequest.parseRequest(key, version, new ByteBufferAccessor(body)).request;
                ApiMessage error = request.getErrorResponse(new UnsupportedVersionException(
                        "this broker does not serve " + key + " version " + version)).data();
                outcome.complete(respond(header.correlationId(), key, version, error));
                return;
            }
            AbstractRequest request;
            try {
                request = AbstractRequest.parseRequest(key, version, new ByteBufferAccessor(body)).request;
            } catch (RuntimeException e) {
                outcome.complete(new Outcome(null, "malformed " + key + " v" + version + " request (" + e.getMessage() + ")"));
                return;
            }
            apis.handle(header, request, clientHost()).whenComplete((resp, err) -> {
                if (err != null) {
                    Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                            ? err.getCause() : err;
                    if (cause instanceof KafkaApis.CloseConnection) {
                        outcome.complete(new Outcome(null, cause.getMessage()));
                    } else {
                        log.warn("{} v{} from {} failed", key, version, header.clientId(), cause);
                        outcome.complete(errorResponse(header, request, cause));
                    }
                } else if (resp == null) {
                    outcome.complete(Outcome.NONE);
                } else {
                    try {
                        outcome.complete(respond(header.correlationId(), key, version, resp));
                    } catch (RuntimeException e) {
                        log.warn("cannot serialize the {} v{} response", key, version, e);
                        outcome.complete(new Outcome(null, "cannot serialize the response (" + e.getMessage() + ")"));
                    }
                }
            });
        } catch (RuntimeException e) {
            log.warn("{} v{} from {} failed", key, version, header.clientId(), e);
            outcome.complete(new Outcome(null, "failed to handle " + key + " (" + e + ")"));
        }
    }

    private String clientHost() {
        java.net.SocketAddress a = ctx.channel().remoteAddress();
        return a instanceof java.net.InetSocketAddress ? "/" + ((java.net.InetSocketAddress) a).getAddress().getHostAddress()
                : String.valueOf(a);
    }

    private static Outcome errorResponse(RequestHeader header, AbstractRequest request, Throwable cause) {
        try {
            ApiMessage error = request.getErrorResponse(cause).data();
            return respond(header.correlationId(), header.apiKey(), header.apiVersion(), error);
        } catch (RuntimeException e) {
            return new Outcome(null, "failed to handle " + header.apiKey() + " (" + cause + ")");
        }
    }

    /**
     * Serializes a response as Kafka's broker does ({@code SendBuilder}): the header and fixed parts
     * in one buffer, record sections ({@link BatchViews.Records}) as the stored buffers themselves.
     * The result wraps those buffers without copying them (see {@link BatchViews}).
     */
    static ByteBuf responseBytes(int correlationId, ApiKeys key, short version, ApiMessage body) {
        ResponseHeader header = new ResponseHeader(correlationId, key.responseHeaderVersion(version));
        return BatchViews.toByteBuf(SendBuilder.buildResponseSend(header, body, version));
    }

    private static Outcome respond(int correlationId, ApiKeys key, short version, ApiMessage body) {
        return new Outcome(responseBytes(correlationId, key, version, body), null);
    }

    /** On the network thread: writes every finished response at the head of the queue, in order. */
    private void drain() {
        boolean wrote = false;
        while (!inFlight.isEmpty() && inFlight.peek().isDone()) {
            Outcome o = inFlight.poll().join();
            if (closing) {
                release(o);
                continue;
            }
            if (o.closeReason != null) {
                close(o.closeReason);
                continue;
            }
            if (o.response != null) {
                ctx.write(o.response);
                wrote = true;
            }
        }
        if (wrote) {
            ctx.flush();
        }
        if (!closing && inFlight.size() < MAX_IN_FLIGHT / 2 && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    private static void release(Outcome o) {
        if (o.response != null) {
            o.response.release();
        }
    }

    private void close(String reason) {
        if (!closing) {
            closing = true;
            log.warn("closing connection from {}: {}", ctx.channel().remoteAddress(), reason);
            ctx.flush();
            ctx.close();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof java.io.IOException && !closing) {
            // the client went away (reset, broken pipe): nothing to report
            log.debug("connection from {} failed", ctx.channel().remoteAddress(), cause);
            closing = true;
            ctx.close();
            return;
        }
        close("network error (" + cause + ")");
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closing = true;
        ctx.fireChannelInactive();
    }

}
