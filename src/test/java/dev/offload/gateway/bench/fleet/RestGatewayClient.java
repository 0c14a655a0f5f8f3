package dev.offload.gateway.bench.fleet;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * {@link GatewayClient} over REST: HTTP/1.1 keep-alive on the caller's {@link Vertx}, JSON
 * answers or server-sent events ({@code sources}, {@code token}…, {@code final} or
 * {@code error}). With an API key every request carries {@code Authorization: Bearer <key>}.
 * Callbacks run on the Vert.x event loop that owns the connection.
 */
final class RestGatewayClient implements GatewayClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http;
    private final String host;
    private final int port;
    private final String basePath;
    private final boolean sse;
    private final String apiKey;

    RestGatewayClient(Vertx vertx, URI base, boolean sse, String apiKey) {
        this.http = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_1_1)
                .setKeepAlive(true).setTcpNoDelay(true).setConnectTimeout(5_000), new PoolOptions().setHttp1MaxSize(1024));
        this.host = base.getHost();
        this.port = base.getPort() > 0 ? base.getPort() : 80;
        this.basePath = base.getPath() == null || base.getPath().equals("/") ? "" : base.getPath().replaceAll("/$", "");
        this.sse = sse;
        this.apiKey = apiKey;
    }

    @Override
    public void decide(Ask ask, Consumer<Decision> done) {
        Map<String, Object> query = new LinkedHashMap<>();
        query.put("text", ask.text());
        query.put("historyTokens", ask.historyTokens());
        query.put("sensitivity", ask.sensitivity());
        Map<String, Object> body = new LinkedHashMap<>();
        if (ask.device() != null) {
            body.put("device", device(ask.device()));
        }
        body.put("query", query);
        body.put("latencyBudgetMs", ask.budgetMs());
        body.put("maxTokens", ask.maxTokens());
        Buffer payload = Buffer.buffer(write(body));
        http.request(options("/v1/offload/decide", ask.timeoutMs(), false))
                .compose(req -> req.send(payload))
                .compose(resp -> resp.body().map(b -> {
                    Hint hint = resp.statusCode() == 200 ? hint(read(b)) : null;
                    return new Decision(resp.statusCode(), hint, payload.length(), b.length(),
                            resp.statusCode() == 200 ? null : "status " + resp.statusCode());
                }))
                .onComplete(ar -> done.accept(ar.succeeded() ? ar.result()
                        : new Decision(0, null, payload.length(), 0, String.valueOf(ar.cause()))));
    }

    @Override
    public void query(Ask ask, Consumer<Answer> done) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("query", ask.text());
        if (!ask.history().isEmpty()) {
            body.put("history", ask.history());
        }
        body.put("sensitivity", ask.sensitivity());
        body.put("latencyBudgetMs", ask.budgetMs());
        if (ask.device() != null) {
            body.put("device", device(ask.device()));
        }
        body.put("generate", ask.generate());
        body.put("maxTokens", ask.maxTokens());
        Buffer payload = Buffer.buffer(write(body));
        int sent = payload.length();
        http.request(options("/v1/query", ask.timeoutMs(), sse)).onFailure(e -> done.accept(failed(sent, 0, e)))
                .onSuccess(req -> req.send(payload).onFailure(e -> done.accept(failed(sent, 0, e)))
                        .onSuccess(resp -> {
                            if (resp.statusCode() != 200 || !sse) {
                                resp.body().onFailure(e -> done.accept(failed(sent, 0, e)))
                                        .onSuccess(b -> done.accept(whole(resp, b, sent)));
                            } else {
                                new SseReader(resp, sent, done).start();
                            }
                        }));
    }

    private RequestOptions options(String path, long timeoutMs, boolean stream) {
        RequestOptions o = new RequestOptions().setMethod(HttpMethod.POST).setHost(host).setPort(port)
                .setURI(basePath + path).putHeader("content-type", "application/json")
                .putHeader("accept", stream ? "text/event-stream" : "application/json").setIdleTimeout(timeoutMs);
        if (apiKey != null) {
            o.putHeader("authorization", "Bearer " + apiKey);
        }
        return o;
    }

    /** A JSON answer, or a refusal / error as problem+json. */
    private static Answer whole(HttpClientResponse resp, Buffer b, int sent) {
        long end = System.nanoTime();
        JsonNode n = read(b);
        int status = resp.statusCode();
        if (status == 200) {
            String answer = n.path("answer").asText("");
            String[] words = answer.isBlank() ? new String[0] : answer.strip().split("\\s+");
            return new Answer(200, n.path("servedBy").asText(null), hint(n.path("hint")), null, 0, end, words.length,
                    sent, 0, b.length(), null, words.length == 0 ? null : words[0]);
        }
        Long retry = n.hasNonNull("retryAfterMs") ? n.get("retryAfterMs").asLong() : null;
        return new Answer(status, null, hint(n.path("hint")), retry, 0, end, 0, sent, 0, b.length(),
                "status " + status + (n.hasNonNull("reason") ? " " + n.get("reason").asText() : ""), null);
    }

    private static Answer failed(int sent, int received, Throwable e) {
        return new Answer(0, null, null, null, 0, System.nanoTime(), 0, sent, 0, received, String.valueOf(e), null);
    }

    /** Reads one SSE response; every handler runs on the connection's event loop. */
    private static final class SseReader {
        private final HttpClientResponse resp;
        private final Consumer<Answer> done;
        private final StreamTally tally;
        private final StringBuilder pending = new StringBuilder();

        SseReader(HttpClientResponse resp, int sent, Consumer<Answer> done) {
            this.resp = resp;
            this.done = done;
            this.tally = new StreamTally(sent);
        }

        void start() {
            resp.handler(this::onChunk);
            resp.exceptionHandler(e -> finish(e.toString()));
            resp.endHandler(v -> finish(null));
        }

        private void onChunk(Buffer buf) {
            tally.bytes(buf.length());
            pending.append(buf.toString(StandardCharsets.UTF_8));
            int from = 0;
            for (int end; (end = pending.indexOf("\n\n", from)) >= 0; from = end + 2) {
                onEvent(pending.substring(from, end));
            }
            pending.delete(0, from);
        }

        private void onEvent(String block) {
            String name = null;
            String data = null;
            for (String line : block.split("\n")) {
                if (line.startsWith("event: ")) {
                    name = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    data = line.substring(6);
                }
            }
            if (name == null || data == null) {
                return;
            }
            switch (name) {
                case "token" -> tally.token(read(data).path("text").asText(null));
                case "final" -> {
                    JsonNode n = read(data);
                    tally.completed(n.path("servedBy").asText(null), hint(n.path("hint")));
                }
                case "error" -> {
                    JsonNode n = read(data);
                    tally.failed(n.path("status").asInt(502), n.path("reason").asText(""), hint(n.path("hint")),
                            n.hasNonNull("retryAfterMs") ? n.get("retryAfterMs").asLong() : null);
                }
                default -> {
                    // sources: nothing to keep
                }
            }
        }

        private void finish(String failure) {
            Answer a = tally.finish(failure, 0);
            if (a != null) {
                done.accept(a);
            }
        }
    }

    // ---------------------------------------------------------------- JSON

    static Map<String, Object> device(DeviceReport d) {
        Map<String, Object> net = new LinkedHashMap<>();
        net.put("type", d.network());
        if (!d.network().equals("offline")) {
            net.put("rttMs", round(d.rttMs()));
            net.put("downlinkKbps", round(d.downlinkKbps()));
            net.put("uplinkKbps", round(d.uplinkKbps()));
        }
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("name", "fleet-local-model");
        model.put("tokensPerSec", round(d.localTokensPerSec()));
        model.put("maxContextTokens", d.localMaxContextTokens());
        model.put("prefillTokensPerSec", round(d.localPrefillTokensPerSec()));
        model.put("contextTokens", d.localContextTokens());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpuUtil", round(d.cpuUtil()));
        m.put("npuUtil", round(d.npuUtil()));
        m.put("memAvailableMb", d.memAvailableMb());
        m.put("batteryPct", round(d.batteryPct()));
        m.put("charging", d.charging());
        m.put("thermal", d.thermal());
        m.put("network", net);
        m.put("localModel", model);
        return m;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    static Hint hint(JsonNode n) {
        if (n == null || n.isMissingNode() || n.isNull() || !n.hasNonNull("target")) {
            return null;
        }
        List<String> reasons = new ArrayList<>();
        n.path("reasons").forEach(r -> reasons.add(r.path("code").asText()));
        JsonNode q = n.path("estimates").path("localQuality");
        return new Hint(n.get("target").asText(), n.path("validForMs").asLong(0),
                n.hasNonNull("retryAfterMs") ? n.get("retryAfterMs").asLong() : null, reasons,
                q.isNumber() ? q.asDouble() : null);
    }

    private static JsonNode read(Buffer b) {
        return read(b.toString(StandardCharsets.UTF_8));
    }

    private static JsonNode read(String s) {
        try {
            return JSON.readTree(s);
        } catch (JsonProcessingException e) {
            return JSON.missingNode();
        }
    }

    private static String write(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        try {
            http.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // closing anyway
        }
    }
}
