package dev.offload.gateway.bench;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import org.HdrHistogram.Histogram;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Closed-loop HTTP throughput of {@code POST /v1/offload/decide} against a running gateway:
 * {@code --connections} keep-alive connections each send the next request as soon as the last
 * answer arrived, for {@code --seconds} after a warm-up; prints requests/s and latency percentiles.
 *
 * <pre>
 * java -jar target/quarkus-app/quarkus-run.jar &amp;   # the gateway on :8080, embedded defaults
 * ./mvnw -q test-compile exec:exec@decide -Dbench.args="--port 8080 --connections 16 --seconds 20 --key $KEY"
 * </pre>
 *
 * <p>{@code --unique true} makes every request's question one no earlier request asked (what a
 * first question costs: the gateway embeds it); by default one question repeats (what a device's
 * repeated question or its decide before the query costs once the gateway remembers the vector).
 * {@code --key} (or the environment's {@code OFFLOAD_KEY}) is the bearer key, the one the
 * gateway prints at its first start. Answers other than 200 are counted by status and printed;
 * a run with no 200 at all exits with status 1 rather than report 0 requests/s.
 */
public final class DecideThroughput {
    private static final String BODY = "{\"device\":{\"cpuUtil\":0.42,\"npuUtil\":0.1,\"memAvailableMb\":2500,"
            + "\"batteryPct\":54,\"charging\":false,\"thermal\":\"fair\",\"network\":{\"type\":\"lte\",\"rttMs\":48,"
            + "\"downlinkKbps\":12000,\"uplinkKbps\":3000},\"localModel\":{\"name\":\"phi-3-mini-q4\",\"tokensPerSec\":14,"
            + "\"maxContextTokens\":4096}},\"query\":{\"text\":\"how do I reset the line 3 controller after an emergency "
            + "stop\",\"historyTokens\":220,\"sensitivity\":\"internal\"},\"latencyBudgetMs\":4000}";

    public static void main(String[] argv) throws Exception {
        Map<String, String> a = Args.parse(argv);
        int port = Integer.parseInt(a.getOrDefault("port", "8080"));
        int connections = Integer.parseInt(a.getOrDefault("connections", "16"));
        int seconds = Integer.parseInt(a.getOrDefault("seconds", "20"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "5"));
        String key = a.getOrDefault("key", System.getenv("OFFLOAD_KEY"));
        Vertx vertx = Vertx.vertx();
        HttpClient client = vertx.createHttpClient(new HttpClientOptions().setMaxPoolSize(connections).setKeepAlive(true));
        boolean unique = Boolean.parseBoolean(a.getOrDefault("unique", "false"));
        AtomicLong serial = new AtomicLong();
        // --unique true: every request asks a question no earlier one asked, so the gateway's
        // question-vector memo never helps (the cost of a first question); else one question throughout
        Buffer fixed = Buffer.buffer(BODY);
        java.util.function.Supplier<Buffer> body = unique
                ? () -> Buffer.buffer(BODY.replace("emergency stop", "emergency stop (ticket " + serial.incrementAndGet() + ")"))
                : () -> fixed;
        System.out.println("questions: " + (unique ? "a new one per request" : "one, repeated"));
        System.out.println("hardware: " + Hardware.describe());
        run(client, body, port, connections, warmup, key);
        Result r = run(client, body, port, connections, seconds, key);
        Histogram h = r.latency;
        System.out.printf(Locale.ROOT, "decide: %d connections, %d s: %.0f requests/s, errors %d, latency p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms%n",
                connections, seconds, r.ok / (double) seconds, r.errors, h.getValueAtPercentile(50) / 1e3,
                h.getValueAtPercentile(99) / 1e3, h.getValueAtPercentile(99.9) / 1e3);
        if (!r.statuses.isEmpty()) {
            System.out.println("answers other than 200 (status or failure: count): " + r.statuses);
        }
        client.close();
        vertx.close();
        if (r.ok == 0) {
            System.err.println("no request succeeded" + (key == null ? "; pass --key <bearer key> or set OFFLOAD_KEY" : ""));
            System.exit(1);
        }
    }

    private record Result(long ok, long errors, Histogram latency, Map<String, Long> statuses) {
    }

    private static Result run(HttpClient client, java.util.function.Supplier<Buffer> body, int port, int connections, int seconds, String key)
            throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Histogram h = new Histogram(TimeUnit.SECONDS.toMicros(10), 3);
        AtomicLong ok = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        CountDownLatch done = new CountDownLatch(connections);
        RequestOptions opts = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port)
                .setURI("/v1/offload/decide").putHeader("Content-Type", "application/json");
        if (key != null) {
            opts.putHeader("Authorization", "Bearer " + key);
        }
        Map<String, Long> statuses = new java.util.concurrent.ConcurrentSkipListMap<>();
        for (int c = 0; c < connections; c++) {
            loop(client, opts, body, end, h, ok, errors, statuses, done);
        }
        done.await();
        return new Result(ok.get(), errors.get(), h, statuses);
    }

    /** One connection's loop; the histogram is touched only on the client's single event loop. */
    private static void loop(HttpClient client, RequestOptions opts, java.util.function.Supplier<Buffer> body, long end, Histogram h, AtomicLong ok,
                             AtomicLong errors, Map<String, Long> statuses, CountDownLatch done) {
        if (System.nanoTime() >= end) {
            done.countDown();
            return;
        }
        long start = System.nanoTime();
        Buffer payload = body.get();
        client.request(opts).compose(req -> req.send(payload)).compose(resp -> resp.body().map(b -> resp.statusCode()))
                .onComplete(ar -> {
                    if (ar.succeeded() && ar.result() == 200) {
                        synchronized (h) {
                            h.recordValue(Math.min((System.nanoTime() - start) / 1000, h.getHighestTrackableValue()));
                        }
                        ok.incrementAndGet();
                    } else {
                        errors.incrementAndGet();
                        statuses.merge(ar.succeeded() ? String.valueOf(ar.result()) : ar.cause().getClass().getSimpleName(), 1L, Long::sum);
                    }
                    loop(client, opts, body, end, h, ok, errors, statuses, done);
                });
    }
}
