package dev.offload.gateway.abuse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * HTTP/1.1 with one connection per request ({@code Connection: close}): no client-side pool, so
 * once a request has ended neither side holds a socket for it, and a soak can count the
 * gateway's file descriptors without the client's idle connections in them. The body is returned
 * raw (chunk framing included), which is enough to look for a stream's last event.
 */
public final class OneShotHttp {
    private OneShotHttp() {
    }

    public record Response(int status, String body) {
    }

    /**
     * @param readTimeout the longest silence accepted; a {@link java.net.SocketTimeoutException}
     *                    after it means the request hung
     */
    public static Response send(String host, int port, String method, String path, String key, String json, String accept,
                                Duration readTimeout) throws IOException {
        try (Socket s = new Socket()) {
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(host, port), 5000);
            s.setSoTimeout((int) readTimeout.toMillis());
            byte[] body = json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8);
            StringBuilder head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: gateway\r\n")
                    .append("Connection: close\r\nAuthorization: Bearer ").append(key).append("\r\n");
            if (accept != null) {
                head.append("Accept: ").append(accept).append("\r\n");
            }
            if (json != null) {
                head.append("Content-Type: application/json\r\nContent-Length: ").append(body.length).append("\r\n");
            }
            head.append("\r\n");
            OutputStream out = s.getOutputStream();
            out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            in.transferTo(got);
            String text = got.toString(StandardCharsets.UTF_8);
            if (!text.startsWith("HTTP/1.")) {
                throw new IOException("connection closed without an answer (" + got.size() + " bytes)");
            }
            int status = Integer.parseInt(text.substring(9, 12));
            int start = text.indexOf("\r\n\r\n");
            return new Response(status, start < 0 ? "" : text.substring(start + 4));
        }
    }
}
