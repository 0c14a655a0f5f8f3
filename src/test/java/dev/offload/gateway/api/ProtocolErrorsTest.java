package dev.offload.gateway.api;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What reaches the REST port that is not an HTTP/1.1 request a route can take: an HTTP/2
 * client's connection preface (the REST port speaks HTTP/1.1 only) and a request with a method
 * no endpoint has. Each gets problem+json that says what to do, never a stack trace.
 */
@QuarkusTest
class ProtocolErrorsTest {
    @TestHTTPResource("/")
    URL root;

    /**
     * The preface is refused at once and leaks nothing. With the management interface on its own
     * port, Vert.x answers it below the router with a bare {@code 501} (no body), so the
     * problem+json answer of {@link ProtocolErrors} only applies when the router sees it; either
     * answer is accepted here, a stack trace or a Java class name never.
     */
    @Test
    void anHttp2PrefaceIsRefusedAtOnceWithoutAStackTrace() throws Exception {
        String answer = exchange("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        // The codec echoes the request's version in the status line.
        assertTrue(answer.startsWith("HTTP/2.0 505 ") || answer.startsWith("HTTP/2.0 501 "), answer);
        if (answer.startsWith("HTTP/2.0 505 ")) {
            assertTrue(answer.toLowerCase().contains("content-type: application/problem+json"), answer);
            assertTrue(answer.contains("quarkus.grpc.server.port"), answer);
        }
        assertFalse(answer.contains("\"stack\""), answer);
        assertFalse(answer.contains("Exception"), answer);
    }

    @Test
    void anUnknownMethodIsProblemJson() throws Exception {
        String answer = exchange("BREW /v1/query HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        assertTrue(answer.startsWith("HTTP/1.1 4"), answer);
        assertTrue(answer.toLowerCase().contains("content-type: application/problem+json"), answer);
        assertFalse(answer.contains("\"stack\""), answer);
    }

    private String exchange(String request) throws Exception {
        try (Socket s = new Socket(root.getHost(), root.getPort())) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            int n;
            try {
                while ((n = in.read(buf)) > 0) {
                    got.write(buf, 0, n);
                    if (complete(got.toString(StandardCharsets.UTF_8))) {
                        break;
                    }
                }
            } catch (java.net.SocketTimeoutException e) {
                // what arrived is the answer
            }
            return got.toString(StandardCharsets.UTF_8);
        }
    }

    private static boolean complete(String r) {
        int head = r.indexOf("\r\n\r\n");
        if (head < 0) {
            return false;
        }
        var m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(r.substring(0, head));
        return m.find() && r.length() - head - 4 >= Integer.parseInt(m.group(1));
    }
}
