package io.shale.broker;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;
import org.apache.kafka.common.errors.IllegalSaslStateException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.protocol.SendBuilder;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.SaslAuthenticateRequest;
import org.apache.kafka.common.requests.SaslHandshakeRequest;
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
 * <p>Bad input is answered, not dropped: every frame long enough to hold the fixed start of a
 * request header (API key, version, correlation id) gets a response with that correlation id, in
 * order, and the connection stays usable. A frame over the size limit (its bytes skipped as they
 * arrive, see {@link KafkaFrameDecoder}), a header or body that does not parse, or an API or
 * version this broker does not serve gets the API's own error response (kafka-clients'
 * {@code getErrorResponse}: {@code MESSAGE_TOO_LARGE} for an oversized produce, {@code INVALID_REQUEST}
 * for other oversized or malformed requests, {@code UNSUPPORTED_VERSION}); an API key or version
 * kafka-clients does not know gets Kafka's ApiVersions fallback: a version-0 ApiVersions response
 * with UNSUPPORTED_VERSION and the versions served. Only a frame too short for that header start,
 * or with a negative size, closes the connection; and, as in Kafka, a failed produce with acks=0
 * (the client expects no answer).
 *
 * <p>On a SASL listener ({@link ListenerSecurity}) a connection authenticates first, as with Kafka's
 * {@code SaslServerAuthenticator}: only ApiVersions, SaslHandshake and SaslAuthenticate are served
 * until authentication succeeds; any other request closes the connection (unanswered before the
 * handshake, with ILLEGAL_SASL_STATE after it), as do an unreadable or oversized frame and a frame
 * over 512 KiB (Kafka's {@code sasl.server.max.receive.size}).
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

    private final java.util.function.Supplier<KafkaApis> apis;
    private final Executor executor;
    private final int maxRequestBytes;
    private final ListenerSecurity security;
    /** False on a SASL listener until SaslAuthenticate succeeded (written on request threads, in request order). */
    private volatile boolean authenticated;
    /** The mechanism's server between SaslHandshake and the end of authentication. */
    private volatile SaslServer saslServer;
    /** After a SaslHandshake v0: the next frames are bare SASL tokens (no request header), until authenticated. */
    private volatile boolean rawSaslTokens;
    private final ArrayDeque<CompletableFuture<Outcome>> inFlight = new ArrayDeque<>(); // network thread only
    private ChannelHandlerContext ctx;
    private boolean closing;

    KafkaConnection(KafkaApis apis, Executor requestThreads, int maxRequestBytes, ListenerSecurity security) {
        this(() -> apis, requestThreads, maxRequestBytes, security);
    }

    /** With the APIs looked up per request (a cluster broker replaces them when its coordinators move). */
    KafkaConnection(java.util.function.Supplier<KafkaApis> apis, Executor requestThreads, int maxRequestBytes, ListenerSecurity security) {
        this.apis = apis;
        this.maxRequestBytes = maxRequestBytes;
        this.security = security;
        this.authenticated = !security.protocol.sasl;
        this.executor = new SerialExecutor(requestThreads);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (!authenticated) {
            KafkaFrameDecoder frames = ctx.pipeline().get(KafkaFrameDecoder.class);
            if (frames != null) {
                frames.requireAuthentication();
            }
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuffer frame;
        int oversizedBytes = -1;
        ByteBuf buf;
        if (msg instanceof KafkaFrameDecoder.Oversized) {
            KafkaFrameDecoder.Oversized o = (KafkaFrameDecoder.Oversized) msg;
            buf = o.prefix;
            oversizedBytes = o.size;
        } else {
            buf = (ByteBuf) msg;
        }
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
        if (rawSaslTokens) {
            if (oversizedBytes >= 0) {
                close("oversized SASL token");
            } else {
                rawToken(frame);
            }
            return;
        }
        if (frame.remaining() < KafkaFrameDecoder.MIN_FRAME_BYTES) {
            close("request frame of " + frame.remaining() + " bytes cannot hold a request header");
            return;
        }
        // the fixed start of every request header: enough to answer even when the rest does not parse
        short rawKey = frame.getShort(0);
        short rawVersion = frame.getShort(2);
        int correlationId = frame.getInt(4);
        RequestHeader parsed;
        String headerError = null;
        try {
            parsed = RequestHeader.parse(frame);
        } catch (RuntimeException e) {
            parsed = null;
            headerError = String.valueOf(e.getCause() != null ? e.getCause() : e.getMessage());
        }
        if (!authenticated && (parsed == null || oversizedBytes >= 0)) {
            // as Kafka's SASL authenticator: before authentication, a request that cannot be read closes the connection
            close((oversizedBytes >= 0 ? "oversized" : "malformed") + " request before SASL authentication");
            return;
        }
        RequestHeader header = parsed;
        String why = headerError;
        int oversized = oversizedBytes;
        CompletableFuture<Outcome> outcome = new CompletableFuture<>();
        inFlight.add(outcome);
        if (inFlight.size() >= MAX_IN_FLIGHT) {
            ctx.channel().config().setAutoRead(false);
        }
        Runnable task;
        if (oversized >= 0) {
            task = () -> outcome.complete(refuse(rawKey, rawVersion, correlationId, header, frame,
                    tooLarge(rawKey, oversized)));
        } else if (header == null) {
            task = () -> outcome.complete(refuse(rawKey, rawVersion, correlationId, null, frame,
                    new InvalidRequestException("the request header does not parse: " + why)));
        } else {
            task = () -> handle(header, frame, outcome);
        }
        try {
            executor.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    log.warn("request {} v{} (correlation id {}) failed", rawKey, rawVersion, correlationId, e);
                    outcome.complete(new Outcome(null, "failed to handle a request (" + e + ")"));
                }
            });
        } catch (RejectedExecutionException e) {
            outcome.complete(new Outcome(null, "broker is shutting down"));
        }
        outcome.whenComplete((o, e) -> ctx.executor().execute(this::drain));
    }

    private RuntimeException tooLarge(short rawKey, int size) {
        String message = "request of " + size + " bytes is larger than this broker accepts (socket.request.max.bytes = "
                + maxRequestBytes + ")";
        log.warn("{} from {}: answered with an error, its bytes skipped", message, ctx.channel().remoteAddress());
        return rawKey == ApiKeys.PRODUCE.id ? new RecordTooLargeException(message) : new InvalidRequestException(message);
    }

    /**
     * The answer to a request whose body is not at hand or does not parse (too large, malformed
     * header or body, an API key or version kafka-clients does not know), matched to it by its
     * correlation id: the API's own error response built by kafka-clients
     * ({@code AbstractRequest.getErrorResponse}) for a known API and version, else Kafka's
     * ApiVersions fallback (a version-0 ApiVersions response with UNSUPPORTED_VERSION and the APIs
     * served, which any client can read). A produce request that says acks=0 gets no answer: its
     * connection is closed, as Kafka does when an acks=0 produce fails.
     */
    private Outcome refuse(short rawKey, short rawVersion, int correlationId, RequestHeader header, ByteBuffer frame,
            RuntimeException error) {
        ApiKeys key = ApiKeys.hasId(rawKey) ? ApiKeys.forId(rawKey) : null;
        if (key == ApiKeys.PRODUCE && header != null && produceAcks(frame, rawVersion) == 0) {
            return new Outcome(null, "acks=0 produce refused: " + error.getMessage());
        }
        if (key != null && key != ApiKeys.API_VERSIONS && key.isVersionSupported(rawVersion)) {
            try {
                // a produce error names the partitions the request's first bytes name (acks=0 aside, every one gets it)
                ApiMessage empty = key != ApiKeys.PRODUCE ? key.messageType.newRequest()
                        : header != null ? producePartitions(frame, rawVersion) : new ProduceRequestData().setAcks((short) -1);
                ByteBuffer bytes = MessageUtil.toByteBufferAccessor(empty, rawVersion).buffer();
                AbstractRequest request = AbstractRequest.parseRequest(key, rawVersion, new ByteBufferAccessor(bytes)).request;
                return respond(correlationId, key, rawVersion, request.getErrorResponse(error).data());
            } catch (RuntimeException e) {
                log.debug("no error response of {} v{}; answering with ApiVersions", key, rawVersion, e);
            }
        }
        log.debug("request with API key {} version {} (correlation id {}) refused: {}", rawKey, rawVersion, correlationId,
                error.getMessage());
        return respond(correlationId, ApiKeys.API_VERSIONS, (short) 0, KafkaApis.apiVersions(
                key != null && key.isVersionSupported(rawVersion) ? Errors.forException(error) : Errors.UNSUPPORTED_VERSION));
    }

    /**
     * A produce request with no records naming the topics and partitions found in the first bytes
     * of {@code frame} (positioned after the header), as far as they can be read: enough for an error
     * response that kafka-clients' producer applies to its batches. Acks are -1 (an answer is due).
     */
    private static ProduceRequestData producePartitions(ByteBuffer frame, short version) {
        ProduceRequestData data = new ProduceRequestData().setAcks((short) -1);
        boolean flexible = version >= 9;
        ByteBufferAccessor a = new ByteBufferAccessor(frame.duplicate());
        try {
            skip(a, flexible ? a.readUnsignedVarint() - 1 : a.readShort()); // transactional id
            a.readShort(); // acks
            data.setTimeoutMs(a.readInt());
            int topics = flexible ? a.readUnsignedVarint() - 1 : a.readInt();
            for (int t = 0; t < topics; t++) {
                ProduceRequestData.TopicProduceData td = new ProduceRequestData.TopicProduceData();
                if (version >= 13) {
                    td.setTopicId(a.readUuid());
                } else {
                    int length = flexible ? a.readUnsignedVarint() - 1 : a.readShort();
                    if (length < 0 || length > a.buffer().remaining()) {
                        break; // a topic name cannot be null, nor longer than the bytes at hand
                    }
                    td.setName(a.readString(length));
                }
                data.topicData().add(td);
                int partitions = flexible ? a.readUnsignedVarint() - 1 : a.readInt();
                for (int p = 0; p < partitions; p++) {
                    td.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(a.readInt())
                            .setRecords(org.apache.kafka.common.record.internal.MemoryRecords.EMPTY));
                    skip(a, flexible ? a.readUnsignedVarint() - 1 : a.readInt()); // the records
                    skipTaggedFields(a, flexible);
                }
                skipTaggedFields(a, flexible);
            }
        } catch (RuntimeException e) {
            // the rest lies beyond the bytes at hand (or does not parse): answer for the partitions read
        }
        return data;
    }

    private static void skip(ByteBufferAccessor a, int length) {
        if (length > 0) {
            ByteBuffer b = a.buffer();
            if (length > b.remaining()) {
                throw new java.nio.BufferUnderflowException();
            }
            b.position(b.position() + length);
        }
    }

    private static void skipTaggedFields(ByteBufferAccessor a, boolean flexible) {
        if (flexible) {
            int n = a.readUnsignedVarint();
            for (int i = 0; i < n; i++) {
                a.readUnsignedVarint();
                skip(a, a.readUnsignedVarint());
            }
        }
    }

    /** The acks of a produce request whose header was read ({@code frame} positioned after it), or -2 if unreadable. */
    private static int produceAcks(ByteBuffer frame, short version) {
        try {
            ByteBufferAccessor a = new ByteBufferAccessor(frame.duplicate());
            skip(a, version >= 9 ? a.readUnsignedVarint() - 1 : a.readShort()); // transactional id
            return a.readShort();
        } catch (RuntimeException e) {
            return -2;
        }
    }

    /** On a request thread: parse the body, handle it, serialize the response. Completes {@code outcome} always. */
    private void handle(RequestHeader header, ByteBuffer body, CompletableFuture<Outcome> outcome) {
        ApiKeys key = header.apiKey();
        short version = header.apiVersion();
        int correlationId = header.correlationId();
        if (!authenticated && key != ApiKeys.API_VERSIONS && key != ApiKeys.SASL_HANDSHAKE
                && key != ApiKeys.SASL_AUTHENTICATE) {
            // Kafka: IllegalSaslStateException, the connection closed without an answer
            outcome.complete(new Outcome(null, "unexpected " + key + " request before SASL authentication"));
            return;
        }
        if (!KafkaApis.isSupported(key, version)) {
            if (key == ApiKeys.API_VERSIONS || !key.isVersionSupported(version)) {
                // Kafka's rule for ApiVersions: answer at version 0 (which every client can read) with the versions served
                outcome.complete(refuse(key.id, version, correlationId, header, body, new UnsupportedVersionException(
                        "this broker does not serve " + key + " version " + version)));
                return;
            }
            AbstractRequest request;
            try {
                request = AbstractRequest.parseRequest(key, version, new ByteBufferAccessor(body.duplicate())).request;
            } catch (RuntimeException e) {
                outcome.complete(refuse(key.id, version, correlationId, header, body, new UnsupportedVersionException(
                        "this broker does not serve " + key + " version " + version)));
                return;
            }
            outcome.complete(errorResponse(header, request, new UnsupportedVersionException(
                    "this broker does not serve " + key + " version " + version)));
            return;
        }
        if (log.isTraceEnabled()) {
            log.trace("{} v{} from {} (correlation id {})", key, version, header.clientId(), correlationId);
        }
        AbstractRequest request;
        try {
            request = AbstractRequest.parseRequest(key, version, new ByteBufferAccessor(body.duplicate())).request;
        } catch (RuntimeException e) {
            log.debug("malformed {} v{} request from {}", key, version, header.clientId(), e);
            outcome.complete(refuse(key.id, version, correlationId, header, body, new InvalidRequestException(
                    "malformed " + key + " v" + version + " request: " + e.getMessage())));
            return;
        }
        if (!authenticated) {
            outcome.complete(authenticate(header, request));
            return;
        }
        CompletableFuture<ApiMessage> handled;
        try {
            handled = apis.get().handle(header, request, clientHost());
        } catch (RuntimeException e) {
            handled = CompletableFuture.failedFuture(e);
        }
        handled.whenComplete((resp, err) -> {
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
                    outcome.complete(respond(correlationId, key, version, resp));
                } catch (RuntimeException e) {
                    log.warn("cannot serialize the {} v{} response", key, version, e);
                    outcome.complete(errorResponse(header, request, e));
                }
            }
        });
    }

    /**
     * One step of SASL authentication, as Kafka's {@code SaslServerAuthenticator}: ApiVersions before
     * the handshake; SaslHandshake naming an enabled mechanism (else UNSUPPORTED_SASL_MECHANISM and the
     * connection closed); then SaslAuthenticate tokens to kafka-clients' server for the mechanism until it
     * completes (a failure answers SASL_AUTHENTICATION_FAILED and closes). Any other request answers
     * ILLEGAL_SASL_STATE and closes. Runs on the connection's serial request executor.
     */
    private Outcome authenticate(RequestHeader header, AbstractRequest request) {
        ApiKeys key = header.apiKey();
        int correlationId = header.correlationId();
        short version = header.apiVersion();
        SaslServer server = saslServer;
        if (server == null && key == ApiKeys.API_VERSIONS) {
            ApiVersionsRequest av = (ApiVersionsRequest) request;
            return respond(correlationId, key, version, KafkaApis.apiVersions(av.isValid() ? Errors.NONE : Errors.INVALID_REQUEST));
        }
        if (server == null && key == ApiKeys.SASL_HANDSHAKE) {
            String mechanism = ((SaslHandshakeRequest) request).data().mechanism();
            SaslHandshakeResponseData resp = new SaslHandshakeResponseData().setMechanisms(security.mechanisms);
            if (!security.mechanisms.contains(mechanism)) {
                return new Outcome(responseBytes(correlationId, key, version,
                        resp.setErrorCode(Errors.UNSUPPORTED_SASL_MECHANISM.code())),
                        "SASL mechanism " + mechanism + " is not enabled (enabled: " + security.mechanisms + ")");
            }
            try {
                saslServer = security.saslServer(mechanism);
            } catch (SaslException e) {
                return new Outcome(null, "cannot start SASL " + mechanism + ": " + e.getMessage());
            }
            if (version == 0) {
                // version 0: the tokens follow as bare size-prefixed frames, not as SaslAuthenticate requests
                KafkaFrameDecoder frames = ctx.pipeline().get(KafkaFrameDecoder.class);
                if (frames != null) {
                    frames.acceptShortFrames();
                }
                rawSaslTokens = true;
            }
            return respond(correlationId, key, version, resp.setErrorCode(Errors.NONE.code()));
        }
        if (server != null && key == ApiKeys.SASL_AUTHENTICATE) {
            byte[] token = ((SaslAuthenticateRequest) request).data().authBytes();
            SaslAuthenticateResponseData resp = new SaslAuthenticateResponseData();
            String failure;
            try {
                byte[] challenge = server.evaluateResponse(token);
                resp.setAuthBytes(challenge != null ? challenge : new byte[0]);
                if (server.isComplete()) {
                    log.debug("{} authenticated as {} with {}", clientHost(), server.getAuthorizationID(),
                            server.getMechanismName());
                    dispose(server);
                    saslServer = null;
                    authenticated = true;
                    KafkaFrameDecoder frames = ctx.pipeline().get(KafkaFrameDecoder.class);
                    if (frames != null) {
                        frames.authenticated();
                    }
                }
                return respond(correlationId, key, version, resp.setErrorCode(Errors.NONE.code()));
            } catch (org.apache.kafka.common.errors.SaslAuthenticationException e) {
                failure = e.getMessage();
            } catch (SaslException | RuntimeException e) {
                failure = "Authentication failed during authentication due to invalid credentials with SASL mechanism "
                        + server.getMechanismName();
                log.debug("SASL {} from {} failed", server.getMechanismName(), clientHost(), e);
            }
            dispose(server);
            saslServer = null;
            log.info("failed authentication from {} with {}: {}", clientHost(), server.getMechanismName(), failure);
            return new Outcome(responseBytes(correlationId, key, version, resp.setAuthBytes(new byte[0])
                    .setErrorCode(Errors.SASL_AUTHENTICATION_FAILED.code()).setErrorMessage(failure)),
                    "SASL authentication failed");
        }
        String why = "Unexpected Kafka request of type " + key + " during SASL "
                + (server == null ? "handshake" : "authentication") + ".";
        ByteBuf error = null;
        try {
            error = responseBytes(correlationId, key, version,
                    request.getErrorResponse(new IllegalSaslStateException(why)).data());
        } catch (RuntimeException e) {
            // no error response for this request: close without one
        }
        return new Outcome(error, why);
    }

    /**
     * A bare SASL token after a SaslHandshake v0 (Kafka's first SASL framing): evaluated on the request
     * executor; the challenge goes back as a bare size-prefixed frame; a failure closes the connection
     * without an answer, as Kafka does for this framing.
     */
    private void rawToken(ByteBuffer frame) {
        CompletableFuture<Outcome> outcome = new CompletableFuture<>();
        inFlight.add(outcome);
        try {
            executor.execute(() -> {
                SaslServer server = saslServer;
                byte[] token = new byte[frame.remaining()];
                frame.get(token);
                try {
                    byte[] challenge = server.evaluateResponse(token);
                    if (server.isComplete()) {
                        dispose(server);
                        saslServer = null;
                        rawSaslTokens = false;
                        authenticated = true;
                        KafkaFrameDecoder frames = ctx.pipeline().get(KafkaFrameDecoder.class);
                        if (frames != null) {
                            frames.authenticated();
                        }
                    }
                    ByteBuf out = null;
                    if (challenge != null) {
                        out = ctx.alloc().buffer(4 + challenge.length);
                        out.writeInt(challenge.length).writeBytes(challenge);
                    }
                    outcome.complete(new Outcome(out, null));
                } catch (SaslException | RuntimeException e) {
                    dispose(server);
                    saslServer = null;
                    log.info("failed authentication from {} with {}: {}", clientHost(), server.getMechanismName(),
                            e.getMessage());
                    outcome.complete(new Outcome(null, "SASL authentication failed"));
                }
            });
        } catch (RejectedExecutionException e) {
            outcome.complete(new Outcome(null, "broker is shutting down"));
        }
        outcome.whenComplete((o, e) -> ctx.executor().execute(this::drain));
    }

    private static void dispose(SaslServer server) {
        try {
            server.dispose();
        } catch (SaslException e) {
            // nothing held that matters
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
            if (o.response != null) {
                ctx.write(o.response);
                wrote = true;
            }
            if (o.closeReason != null) {
                close(o.closeReason); // after the answer, if there is one (a failed SASL step)
                continue;
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
            // closes once what was written (an answer to send before closing) is flushed
            ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() instanceof javax.net.ssl.SSLException) {
            // TLS failed (a plaintext client on a TLS listener, a handshake refused): say why, briefly
            Throwable tls = cause.getCause();
            if (!closing) {
                closing = true;
                log.info("closing connection from {}: TLS failed ({})", ctx.channel().remoteAddress(),
                        tls instanceof io.netty.handler.ssl.NotSslRecordException
                                ? "not a TLS record: a plaintext client on a TLS listener?" : tls.getMessage());
                ctx.close();
            }
            return;
        }
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
