package dev.offload.gateway.abuse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Misbehaving HTTP/1.1 clients on raw sockets, for the noisy-neighbour test and benchmark: each
 * method plays one abuser to the end and reports what the server did to it. Blocking; call each
 * from its own thread.
 */
public final class Http1Abuse {
    private Http1Abuse() {
    }

    /**
     * What the server did: the status of its answer (0 if none), the first bytes of its body,
     * whether it closed the connection, and how long after the abuser's last byte (or its first
     * byte of the response) that took.
     */
    public record Outcome(String kind, int status, String contentType, String body, boolean closed,
                          long millisToAnswer, long bytesSent) {
        public boolean bounded() {
            return status != 0 || closed;
        }
    }

    private static Socket connect(String host, int port) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress(host, port), 5000);
        return s;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Slowloris on the headers: sends a request line and then header bytes one at a time,
     * {@code interval} apart, for {@code trickleFor}; then stops sending and waits up to
     * {@code waitForClose} for the server to close (Vert.x's idle timeout).
     */
    public static Outcome trickledHeadersThenStall(String host, int port, Duration interval, Duration trickleFor,
                                                   Duration waitForClose) throws IOException, InterruptedException {
        try (Socket s = connect(host, port)) {
            OutputStream out = s.getOutputStream();
            byte[] head = ascii("POST /v1/query HTTP/1.1\r\nHost: gateway\r\nX-Slow: ");
            long sent = 0;
            long end = System.nanoTime() + trickleFor.toNanos();
            int i = 0;
            while (System.nanoTime() < end) {
                out.write(i < head.length ? head[i] : (byte) 'a');
                out.flush();
                sent++;
                i++;
                Thread.sleep(interval.toMillis());
            }
            long stalledAt = System.nanoTime();
            ReadResult r = readResponse(s, waitForClose);
            return new Outcome("trickled headers, then stall", r.status, r.contentType, r.body, r.closed,
                    r.millisSince(stalledAt), sent);
        }
    }

    /**
     * Header bytes trickled without end, in {@code chunk}-byte writes {@code interval} apart:
     * the server must cut it off when the headers outgrow {@code quarkus.http.limits.max-header-size}.
     */
    public static Outcome endlessHeaders(String host, int port, int chunk, Duration interval, Duration giveUp)
            throws IOException, InterruptedException {
        try (Socket s = connect(host, port)) {
            s.setSoTimeout(1);
            OutputStream out = s.getOutputStream();
            out.write(ascii("GET /v1/models HTTP/1.1\r\nHost: gateway\r\n"));
            long sent = 0;
            long t0 = System.nanoTime();
            long end = t0 + giveUp.toNanos();
            byte[] line = new byte[chunk];
            java.util.Arrays.fill(line, (byte) 'h');
            int n = 0;
            try {
                while (System.nanoTime() < end) {
                    // A fresh header every ~100 bytes: each line stays short, their sum grows.
                    out.write(ascii("X-Pad-" + (n++) + ": "));
                    out.write(line);
                    out.write(ascii("\r\n"));
                    out.flush();
                    sent += chunk + 12;
                    if (s.getInputStream().available() > 0) {
                        break;
                    }
                    Thread.sleep(interval.toMillis());
                }
            } catch (IOException closedWhileWriting) {
                // the server answered and closed: read what it said below
            }
            ReadResult r = readResponse(s, Duration.ofSeconds(5));
            return new Outcome("endless headers", r.status, r.contentType, r.body, r.closed,
                    r.millisSince(t0), sent);
        }
    }

    /**
     * Slowloris on the body: complete headers stating {@code length} bytes, then the body one
     * byte per {@code interval}, until the server answers or {@code giveUp} passes.
     */
    public static Outcome trickledBody(String host, int port, String key, String path, int length, Duration interval,
                                       Duration giveUp) throws IOException, InterruptedException {
        try (Socket s = connect(host, port)) {
            OutputStream out = s.getOutputStream();
            out.write(ascii("POST " + path + " HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer " + key
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + length + "\r\n\r\n"));
            out.flush();
            long t0 = System.nanoTime();
            long end = t0 + giveUp.toNanos();
            long sent = 0;
            try {
                while (sent < length - 1 && System.nanoTime() < end && s.getInputStream().available() == 0) {
                    out.write(sent == 0 ? '{' : ' ');
                    out.flush();
                    sent++;
                    Thread.sleep(interval.toMillis());
                }
            } catch (IOException closedWhileWriting) {
                // answered and closed
            }
            ReadResult r = readResponse(s, Duration.ofSeconds(10));
            return new Outcome("trickled body", r.status, r.contentType, r.body, r.closed,
                    r.millisSince(t0), sent);
        }
    }

    /**
     * An oversized body announced by {@code Content-Length}: sends only the headers and waits for
     * the answer, which must come before any body byte is needed.
     */
    public static Outcome oversizedDeclared(String host, int port, String key, String path, long length)
            throws IOException {
        try (Socket s = connect(host, port)) {
            OutputStream out = s.getOutputStream();
            long t0 = System.nanoTime();
            out.write(ascii("POST " + path + " HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer " + key
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + length + "\r\n\r\n"));
            out.flush();
            ReadResult r = readResponse(s, Duration.ofSeconds(10));
            return new Outcome("oversized, Content-Length " + length, r.status, r.contentType, r.body, r.closed,
                    r.millisSince(t0), 0);
        }
    }

    /**
     * An oversized body sent in full, chunked or with its length: writes up to {@code length}
     * bytes as fast as the server takes them and stops as soon as an answer arrives.
     */
    public static Outcome oversizedSent(String host, int port, String key, String path, int length, boolean chunked)
            throws IOException {
        try (Socket s = connect(host, port)) {
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            long t0 = System.nanoTime();
            out.write(ascii("POST " + path + " HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer " + key
                    + "\r\nContent-Type: application/json\r\n"
                    + (chunked ? "Transfer-Encoding: chunked\r\n\r\n" : "Content-Length: " + length + "\r\n\r\n")));
            byte[] block = new byte[16 * 1024];
            java.util.Arrays.fill(block, (byte) ' ');
            block[0] = '{';
            long sent = 0;
            try {
                while (sent < length && in.available() == 0) {
                    int n = (int) Math.min(block.length, length - sent);
                    if (chunked) {
                        out.write(ascii(Integer.toHexString(n) + "\r\n"));
                        out.write(block, 0, n);
                        out.write(ascii("\r\n"));
                    } else {
                        out.write(block, 0, n);
                    }
                    sent += n;
                    block[0] = ' ';
                }
                if (chunked && in.available() == 0) {
                    out.write(ascii("0\r\n\r\n"));
                }
                out.flush();
            } catch (IOException closedWhileWriting) {
                // answered and closed
            }
            ReadResult r = readResponse(s, Duration.ofSeconds(10));
            return new Outcome("oversized, " + (chunked ? "chunked " : "sent ") + length, r.status, r.contentType, r.body,
                    r.closed, r.millisSince(t0), sent);
        }
    }

    /**
     * A client that asks for a stream and never reads it: the request goes out on a socket with a
     * tiny receive buffer and nothing is read. {@link StalledReader#finish} later reads what is
     * there and reports whether the server has closed the connection.
     */
    public static StalledReader streamNeverRead(String host, int port, String key, String path, String json)
            throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(1024);
        s.connect(new InetSocketAddress(host, port), 5000);
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        s.getOutputStream().write(ascii("POST " + path + " HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer " + key
                + "\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: " + body.length
                + "\r\n\r\n"));
        s.getOutputStream().write(body);
        s.getOutputStream().flush();
        return new StalledReader(s);
    }

    /** A socket whose reading was put off; see {@link #streamNeverRead}. */
    public static final class StalledReader implements AutoCloseable {
        private final Socket socket;

        StalledReader(Socket socket) {
            this.socket = socket;
        }

        /** Reads everything now, waiting up to {@code wait} for the server to close: the outcome. */
        public Outcome finish(Duration wait) throws IOException {
            long t0 = System.nanoTime();
            ReadResult r = readAll(socket, wait);
            return new Outcome("stream never read", r.status, r.contentType, r.body, r.closed,
                    r.millisSince(t0), 0);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** {@code at}: when the first byte of the answer came, or else when the wait ended. */
    record ReadResult(int status, String contentType, String body, boolean closed, long at) {
        long millisSince(long t0) {
            return (at - t0) / 1_000_000;
        }
    }

    /** Reads the status line, headers and up to 4 KiB of the first response, then waits for EOF. */
    private static ReadResult readResponse(Socket s, Duration wait) throws IOException {
        return readAll(s, wait);
    }

    private static ReadResult readAll(Socket s, Duration wait) throws IOException {
        InputStream in = s.getInputStream();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        long end = System.nanoTime() + wait.toNanos();
        boolean closed = false;
        long firstByte = 0;
        byte[] buf = new byte[8192];
        while (System.nanoTime() < end) {
            s.setSoTimeout((int) Math.max(1, Math.min(200, (end - System.nanoTime()) / 1_000_000)));
            try {
                int n = in.read(buf);
                if (n < 0) {
                    closed = true;
                    break;
                }
                if (firstByte == 0) {
                    firstByte = System.nanoTime();
                }
                if (got.size() < 64 * 1024) {
                    got.write(buf, 0, n);
                }
            } catch (SocketTimeoutException e) {
                // keep waiting
            } catch (IOException reset) {
                closed = true;
                break;
            }
        }
        String text = got.toString(StandardCharsets.ISO_8859_1);
        int status = 0;
        String type = null;
        String body = "";
        if (text.startsWith("HTTP/1.")) {
            int sp = text.indexOf(' ');
            status = Integer.parseInt(text.substring(sp + 1, sp + 4));
            int headEnd = text.indexOf("\r\n\r\n");
            String head = headEnd < 0 ? text : text.substring(0, headEnd);
            for (String line : head.split("\r\n")) {
                if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-type:")) {
                    type = line.substring(13).strip();
                }
            }
            body = headEnd < 0 ? "" : text.substring(headEnd + 4, Math.min(text.length(), headEnd + 4 + 4096));
        }
        return new ReadResult(status, type, body, closed, firstByte != 0 ? firstByte : System.nanoTime());
    }
}
