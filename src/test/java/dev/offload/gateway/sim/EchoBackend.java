package dev.offload.gateway.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * An OpenAI-compatible backend on loopback that answers every chat completion with
 * {@code "ECHO: "} and the last user message it received, streamed in chunks of three
 * characters (so a placeholder such as {@code <EMAIL_1>} arrives split over several chunks), and
 * records every request body. What a tier received is then visible twice: in the recorded body
 * and in the answer. {@link #failing} makes it answer 500 to everything instead.
 */
public final class EchoBackend implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;
    private final List<String> bodies = new CopyOnWriteArrayList<>();
    private volatile boolean failing;
    private volatile int refusalStatus;
    private volatile String refusalBody;

    private EchoBackend(boolean failing) throws IOException {
        this.failing = failing;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/chat/completions", this::chat);
        server.setExecutor(Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "echo-backend");
            t.setDaemon(true);
            return t;
        }));
        server.start();
    }

    /** An echoing backend. */
    public static EchoBackend start() throws IOException {
        return new EchoBackend(false);
    }

    /** A backend that fails every request with 500 (and still records it). */
    public static EchoBackend startFailing() throws IOException {
        return new EchoBackend(true);
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    /** Every request body received, in order. */
    public List<String> receivedBodies() {
        return List.copyOf(bodies);
    }

    public void clear() {
        bodies.clear();
    }

    /** From now on every request is refused with this status and body, as a server refuses a request it finds invalid. */
    public void refuse(int status, String body) {
        refusalBody = body;
        refusalStatus = status;
    }

    /** Back to echoing. */
    public void accept() {
        refusalStatus = 0;
    }

    private void chat(HttpExchange ex) throws IOException {
        byte[] in = ex.getRequestBody().readAllBytes();
        String body = new String(in, StandardCharsets.UTF_8);
        bodies.add(body);
        if (failing) {
            ex.sendResponseHeaders(500, -1);
            ex.close();
            return;
        }
        int refusal = refusalStatus;
        if (refusal != 0) {
            byte[] out = refusalBody.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(refusal, out.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(out);
            }
            return;
        }
        JsonNode req = JSON.readTree(body);
        String last = "";
        for (JsonNode m : req.path("messages")) {
            if ("user".equals(m.path("role").asText())) {
                last = m.path("content").asText();
            }
        }
        String answer = "ECHO: " + last;
        ex.getResponseHeaders().add("Content-Type", "text/event-stream");
        ex.sendResponseHeaders(200, 0);
        try (OutputStream out = ex.getResponseBody()) {
            for (int i = 0; i < answer.length(); i += 3) {
                String piece = answer.substring(i, Math.min(answer.length(), i + 3));
                out.write(sse("{\"id\":\"e\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
                        + JSON.writeValueAsString(piece) + "},\"finish_reason\":null}]}"));
                out.flush();
            }
            out.write(sse("{\"id\":\"e\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},"
                    + "\"finish_reason\":\"stop\"}]}"));
            out.write(sse("[DONE]"));
        }
    }

    private static byte[] sse(String data) {
        return ("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
