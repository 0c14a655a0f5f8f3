package dev.offload.gateway.abuse;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An HTTP/2 PING flood over cleartext HTTP/2 with prior knowledge (what gRPC clients speak to
 * the gateway's gRPC port), on a raw socket so every frame is under control (RFC 9113 framing,
 * HPACK literals without Huffman coding). Optionally it first makes one gRPC call
 * ({@code IndexService/Stats}), so the gateway has seen the connection; then it sends PING frames
 * in a loop, reading the acknowledgements or not, until the server closes the connection or
 * {@code maxDuration} passes. Blocking; one thread writes, one reads.
 */
public final class Http2PingFlood {
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int DATA = 0x0, HEADERS = 0x1, SETTINGS = 0x4, PING = 0x6, GOAWAY = 0x7;
    private static final int END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4;

    /** What happened: pings sent and acknowledged, whether the server sent GOAWAY (and its code) or closed. */
    public record Outcome(String kind, long pingsSent, long acksRead, long goAwayCode, boolean closed,
                          int callStatus, long millis) {
        public boolean goAway() {
            return goAwayCode >= 0;
        }

        public boolean bounded() {
            return closed || goAway();
        }
    }

    private Http2PingFlood() {
    }

    /**
     * @param key          the API key for the gRPC call; {@code null}: no call, PINGs only
     * @param readAcks     whether to read what the server sends (false: the acknowledgements pile up)
     * @param maxDuration  stop after this long if the server has not closed the connection
     */
    public static Outcome run(String host, int port, String key, boolean readAcks, Duration maxDuration)
            throws IOException, InterruptedException {
        try (Socket s = new Socket()) {
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(host, port), 5000);
            OutputStream out = s.getOutputStream();
            DataInputStream in = new DataInputStream(s.getInputStream());
            Object writeLock = new Object();
            AtomicLong acks = new AtomicLong();
            AtomicLong goAway = new AtomicLong(-1);
            AtomicBoolean closed = new AtomicBoolean();
            synchronized (writeLock) {
                out.write(PREFACE);
                frame(out, SETTINGS, 0, 0, new byte[0]);
                if (key != null) {
                    frame(out, HEADERS, END_HEADERS, 1, grpcHeaders(host + ":" + port, key));
                    // An empty StatsRequest: the gRPC length prefix alone.
                    frame(out, DATA, END_STREAM, 1, new byte[]{0, 0, 0, 0, 0});
                }
                out.flush();
            }
            long t0 = System.nanoTime();
            // Before the flood, in this thread: the server's SETTINGS (acknowledged) and, with a
            // key, the whole gRPC call; its trailers end stream 1.
            s.setSoTimeout(10_000);
            int callStatus = -1;
            boolean settingsSeen = false;
            while (key == null ? !settingsSeen : callStatus < 0) {
                int len = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
                int type = in.readUnsignedByte();
                int flags = in.readUnsignedByte();
                int stream = in.readInt() & 0x7fffffff;
                byte[] payload = new byte[len];
                in.readFully(payload);
                if (type == SETTINGS && (flags & ACK) == 0) {
                    settingsSeen = true;
                    frame(out, SETTINGS, ACK, 0, new byte[0]);
                    out.flush();
                } else if (type == HEADERS && stream == 1 && (flags & END_STREAM) != 0) {
                    callStatus = 0;
                } else if (type == GOAWAY) {
                    throw new IOException("GOAWAY before the flood");
                }
            }
            s.setSoTimeout(0);
            Thread reader = new Thread(() -> {
                try {
                    while (true) {
                        int len = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
                        int type = in.readUnsignedByte();
                        int flags = in.readUnsignedByte();
                        in.readInt();
                        byte[] payload = new byte[len];
                        in.readFully(payload);
                        if (type == PING && (flags & ACK) != 0) {
                            acks.incrementAndGet();
                        } else if (type == GOAWAY) {
                            goAway.set(((payload[4] & 0xffL) << 24) | ((payload[5] & 0xff) << 16) | ((payload[6] & 0xff) << 8)
                                    | (payload[7] & 0xff));
                        }
                    }
                } catch (IOException e) {
                    closed.set(true);
                }
            }, "ping-flood-reader");
            reader.setDaemon(true);
            if (readAcks) {
                reader.start();
            }
            // A blocking write has no timeout: if the server stopped reading, this closes the socket.
            AtomicBoolean watchdogFired = new AtomicBoolean();
            Thread watchdog = new Thread(() -> {
                try {
                    Thread.sleep(maxDuration.toMillis() + 5000);
                    watchdogFired.set(true);
                    s.close();
                } catch (InterruptedException | IOException done) {
                    // finished in time
                }
            }, "ping-flood-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
            long sent = 0;
            long end = t0 + maxDuration.toNanos();
            byte[] batch = pings(64);
            try {
                while (System.nanoTime() < end && !closed.get() && goAway.get() < 0) {
                    synchronized (writeLock) {
                        out.write(batch);
                        out.flush();
                    }
                    sent += 64;
                }
            } catch (IOException writeFailed) {
                closed.set(true); // the server closed (or reset) the connection
            }
            if (readAcks && !closed.get()) {
                reader.join(2000);
            }
            if (!readAcks) {
                // Look for the GOAWAY and EOF now, if the server left them readable.
                s.setSoTimeout(5000);
                try {
                    byte[] rest = in.readAllBytes();
                    goAway.compareAndSet(-1, findGoAway(rest));
                    closed.set(true);
                } catch (java.net.SocketTimeoutException stillOpen) {
                    // the server kept the connection
                } catch (IOException e) {
                    closed.set(true);
                }
            }
            watchdog.interrupt();
            if (watchdogFired.get()) {
                closed.set(false); // we closed it, not the server
            }
            String kind = (key == null ? "PINGs only" : "gRPC call, then PINGs") + (readAcks ? ", acks read" : ", acks never read");
            return new Outcome(kind, sent, acks.get(), goAway.get(), closed.get(), callStatus,
                    (System.nanoTime() - t0) / 1_000_000);
        }
    }

    private static long findGoAway(byte[] bytes) {
        // Frames may start mid-buffer after a partial read; scan frame by frame from the start.
        int i = 0;
        while (i + 9 <= bytes.length) {
            int len = ((bytes[i] & 0xff) << 16) | ((bytes[i + 1] & 0xff) << 8) | (bytes[i + 2] & 0xff);
            int type = bytes[i + 3] & 0xff;
            if (type == GOAWAY && i + 9 + 8 <= bytes.length) {
                int p = i + 9 + 4;
                return ((bytes[p] & 0xffL) << 24) | ((bytes[p + 1] & 0xff) << 16) | ((bytes[p + 2] & 0xff) << 8) | (bytes[p + 3] & 0xff);
            }
            i += 9 + len;
        }
        return -1;
    }

    private static byte[] pings(int n) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = 0; i < n; i++) {
            try {
                frame(b, PING, 0, 0, new byte[]{0, 0, 0, 0, 0, 0, 0, (byte) i});
            } catch (IOException impossible) {
                throw new IllegalStateException(impossible);
            }
        }
        return b.toByteArray();
    }

    private static void frame(OutputStream out, int type, int flags, int stream, byte[] payload) throws IOException {
        int len = payload.length;
        out.write(new byte[]{(byte) (len >>> 16), (byte) (len >>> 8), (byte) len, (byte) type, (byte) flags,
                (byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8), (byte) stream});
        out.write(payload);
    }

    /** HPACK: every field a literal without indexing, names and values as plain strings (RFC 7541 §6.2.2). */
    private static byte[] grpcHeaders(String authority, String key) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        String[][] fields = {{":method", "POST"}, {":scheme", "http"}, {":path", "/offload.v1.IndexService/Stats"},
                {":authority", authority}, {"content-type", "application/grpc"}, {"te", "trailers"},
                {"authorization", "Bearer " + key}};
        for (String[] f : fields) {
            b.write(0);
            literal(b, f[0]);
            literal(b, f[1]);
        }
        return b.toByteArray();
    }

    private static void literal(ByteArrayOutputStream b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.US_ASCII);
        if (bytes.length >= 127) {
            throw new IllegalArgumentException("header too long for this encoder: " + s.length());
        }
        b.write(bytes.length);
        b.write(bytes, 0, bytes.length);
    }
}
