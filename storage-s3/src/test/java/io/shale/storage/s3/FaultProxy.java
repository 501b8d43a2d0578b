package io.shale.storage.s3;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A byte-level HTTP/1.1 relay in front of an S3 server that injects faults per request: error
 * answers (503 SlowDown storms, 500s, canned bodies), delays, connection resets, responses cut
 * short, and responses lost after the server executed the request. Requests are forwarded
 * unchanged (signatures stay valid: the Host header is the one the client signed).
 *
 * <p>One thread per client connection reads requests one at a time (S3 clients do not pipeline),
 * and one more pipes the upstream's responses back. Every request head is recorded.
 */
public final class FaultProxy implements AutoCloseable {

    /** A request head as the proxy saw it; header names lowercased. */
    public record Request(String method, String target, Map<String, String> headers) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        public boolean hasQueryParam(String name) {
            int q = target.indexOf('?');
            if (q < 0) {
                return false;
            }
            for (String p : target.substring(q + 1).split("&")) {
                if (p.equals(name) || p.startsWith(name + "=")) {
                    return true;
                }
            }
            return false;
        }
    }

    /** What to do with one request. */
    public static final class Fault {
        enum Kind { PASS, RESPOND, DELAY, RESET, CLOSE, TRUNCATE, DROP_RESPONSE }

        final Kind kind;
        final int status;
        final String body;
        final long amount;

        private Fault(Kind kind, int status, String body, long amount) {
            this.kind = kind;
            this.status = status;
            this.body = body;
            this.amount = amount;
        }

        /** Forward unchanged. */
        public static Fault pass() {
            return new Fault(Kind.PASS, 0, null, 0);
        }

        /** Answer with an S3 error document (e.g. 503 SlowDown) and close the connection. */
        public static Fault error(int status, String code) {
            return respond(status, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code
                    + "</Code><Message>injected by FaultProxy</Message><RequestId>FAULT</RequestId></Error>");
        }

        /** Answer with this status and XML body without forwarding, then close the connection. */
        public static Fault respond(int status, String xmlBody) {
            return new Fault(Kind.RESPOND, status, xmlBody, 0);
        }

        /** Forward after a pause. */
        public static Fault delay(long millis) {
            return new Fault(Kind.DELAY, 0, null, millis);
        }

        /** Reset the connection (TCP RST) without forwarding. */
        public static Fault reset() {
            return new Fault(Kind.RESET, 0, null, 0);
        }

        /**
         * Close the connection (TCP FIN) without forwarding or answering: what a client meets when
         * it sends on a pooled connection the server has just closed.
         */
        public static Fault close() {
            return new Fault(Kind.CLOSE, 0, null, 0);
        }

        /** Forward, but cut the response off after this many bytes (headers included) with a reset. */
        public static Fault truncateResponse(long bytes) {
            return new Fault(Kind.TRUNCATE, 0, null, bytes);
        }

        /** Forward (the server executes it), then lose the response: reset the client connection instead. */
        public static Fault dropResponse() {
            return new Fault(Kind.DROP_RESPONSE, 0, null, 0);
        }
    }

    /** Decides each request's fault; called on connection threads, so keep it thread-safe. */
    @FunctionalInterface
    public interface Plan {
        Fault decide(Request request);
    }

    private final URI upstream;
    private final ServerSocket server;
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = Collections.synchronizedList(new ArrayList<>());
    private volatile Plan plan;
    private volatile boolean closed;

    private FaultProxy(URI upstream, Plan plan) throws IOException {
        this.upstream = upstream;
        this.plan = plan;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread acceptor = new Thread(this::acceptLoop, "fault-proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Starts a proxy to {@code upstream} (http://host:port) on a random loopback port. */
    public static FaultProxy start(URI upstream, Plan plan) {
        try {
            return new FaultProxy(upstream, Objects.requireNonNull(plan, "plan"));
        } catch (IOException e) {
            throw new IllegalStateException("could not start fault proxy", e);
        }
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    public void plan(Plan plan) {
        this.plan = Objects.requireNonNull(plan, "plan");
    }

    /** Every request head seen so far, in arrival order. */
    public List<Request> requests() {
        return List.copyOf(requests);
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        synchronized (sockets) {
            for (Socket s : sockets) {
                closeQuietly(s);
            }
        }
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = server.accept();
                sockets.add(client);
                Thread t = new Thread(() -> serve(client), "fault-proxy-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    /** Per-connection state shared with the response pipe. */
    private static final class ResponseControl {
        volatile long truncateAfter = -1;
        volatile boolean drop;
    }

    private void serve(Socket client) {
        Socket up = null;
        ResponseControl control = new ResponseControl();
        try {
            client.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(client.getInputStream(), 64 * 1024);
            OutputStream upOut = null;
            while (!closed) {
                byte[] head = readHead(in);
                if (head == null) {
                    return;
                }
                Request req = parse(head);
                requests.add(req);
                Fault fault = plan.decide(req);
                long bodyLength = parseLong(req.header("content-length"));
                switch (fault.kind) {
                    case RESPOND -> {
                        if (!"100-continue".equalsIgnoreCase(req.header("expect"))) {
                            in.skipNBytes(bodyLength);
                        }
                        byte[] body = req.method().equals("HEAD") ? new byte[0] : fault.body.getBytes(StandardCharsets.UTF_8);
                        String resp = "HTTP/1.1 " + fault.status + " Injected\r\n"
                                + "Content-Type: application/xml\r\n"
                                + "Content-Length: " + fault.body.getBytes(StandardCharsets.UTF_8).length + "\r\n"
                                + "x-amz-request-id: FAULT\r\n"
                                + "Connection: close\r\n\r\n";
                        OutputStream out = client.getOutputStream();
                        out.write(resp.getBytes(StandardCharsets.US_ASCII));
                        out.write(body);
                        out.flush();
                        client.shutdownOutput();
                        return;
                    }
                    case RESET -> {
                        client.setSoLinger(true, 0);
                        client.close();
                        return;
                    }
                    case CLOSE -> {
                        client.close();
                        return;
                    }
                    case DELAY -> Thread.sleep(fault.amount);
                    case TRUNCATE -> control.truncateAfter = fault.amount;
                    case DROP_RESPONSE -> control.drop = true;
                    case PASS -> {
                    }
                    default -> throw new IllegalStateException(fault.kind.toString());
                }
                if (up == null) {
                    up = new Socket(upstream.getHost(), upstream.getPort());
                    up.setTcpNoDelay(true);
                    sockets.add(up);
                    upOut = up.getOutputStream();
                    Socket upstreamSocket = up;
                    Thread pipe = new Thread(() -> pipeResponses(upstreamSocket, client, control), "fault-proxy-pipe");
                    pipe.setDaemon(true);
                    pipe.start();
                }
                upOut.write(head);
                copy(in, upOut, bodyLength);
                upOut.flush();
            }
        } catch (IOException | InterruptedException e) {
            // the client or the upstream went away: end this connection
        } finally {
            closeQuietly(client);
            if (up != null) {
                closeQuietly(up);
            }
        }
    }

    private static void pipeResponses(Socket up, Socket client, ResponseControl control) {
        byte[] buf = new byte[64 * 1024];
        long relayed = 0;
        try {
            InputStream in = up.getInputStream();
            OutputStream out = client.getOutputStream();
            int n;
            while ((n = in.read(buf)) > 0) {
                if (control.drop) {
                    client.setSoLinger(true, 0);
                    client.close();
                    return;
                }
                long limit = control.truncateAfter;
                if (limit >= 0 && relayed + n >= limit) {
                    out.write(buf, 0, (int) Math.max(0, limit - relayed));
                    out.flush();
                    client.setSoLinger(true, 0);
                    client.close();
                    return;
                }
                out.write(buf, 0, n);
                out.flush();
                relayed += n;
            }
        } catch (IOException e) {
            // connection ended
        } finally {
            closeQuietly(client);
            closeQuietly(up);
        }
    }

    private static byte[] readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream(1024);
        int state = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            head.write(b);
            if (head.size() > 256 * 1024) {
                throw new IOException("request head too large");
            }
            state = switch (state) {
                case 0, 2 -> b == '\r' ? state + 1 : 0;
                case 1 -> b == '\n' ? 2 : 0;
                case 3 -> b == '\n' ? 4 : 0;
                default -> 0;
            };
            if (state == 4) {
                return head.toByteArray();
            }
        }
    }

    private static Request parse(byte[] head) {
        String[] lines = new String(head, StandardCharsets.ISO_8859_1).split("\r\n");
        String[] first = lines[0].split(" ");
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
            }
        }
        return new Request(first[0], first.length > 1 ? first[1] : "", Map.copyOf(headers));
    }

    private static long parseLong(String v) {
        return v == null ? 0 : Long.parseLong(v.trim());
    }

    private static void copy(InputStream in, OutputStream out, long n) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long left = n;
        while (left > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (r < 0) {
                throw new IOException("client closed mid-body");
            }
            out.write(buf, 0, r);
            left -= r;
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
