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
 * ./mvnw -q test-compile exec:exec@decide -Dbench.args="--port 8080 --connections 16 --seconds 20"
 * </pre>
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
        Vertx vertx = Vertx.vertx();
        HttpClient client = vertx.createHttpClient(new HttpClientOptions().setMaxPoolSize(connections).setKeepAlive(true));
        Buffer body = Buffer.buffer(BODY);
        System.out.println("hardware: " + Hardware.describe());
        run(client, body, port, connections, warmup, false);
        Result r = run(client, body, port, connections, seconds, true);
        Histogram h = r.latency;
        System.out.printf(Locale.ROOT, "decide: %d connections, %d s: %.0f requests/s, errors %d, latency p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms%n",
                connections, seconds, r.ok / (double) seconds, r.errors, h.getValueAtPercentile(50) / 1e3,
                h.getValueAtPercentile(99) / 1e3, h.getValueAtPercentile(99.9) / 1e3);
        client.close();
        vertx.close();
    }

    private record Result(long ok, long errors, Histogram latency) {
    }

    private static Result run(HttpClient client, Buffer body, int port, int connections, int seconds, boolean record)
            throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Histogram h = new Histogram(TimeUnit.SECONDS.toMicros(10), 3);
        AtomicLong ok = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        CountDownLatch done = new CountDownLatch(connections);
        RequestOptions opts = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port)
                .setURI("/v1/offload/decide").putHeader("Content-Type", "application/json");
        for (int c = 0; c < connections; c++) {
            loop(client, opts, body, end, h, ok, errors, done);
        }
        done.await();
        return new Result(ok.get(), errors.get(), h);
    }

    /** One connection's loop; the histogram is touched only on the client's single event loop. */
    private static void loop(HttpClient client, RequestOptions opts, Buffer body, long end, Histogram h, AtomicLong ok,
                             AtomicLong errors, CountDownLatch done) {
        if (System.nanoTime() >= end) {
            done.countDown();
            return;
        }
        long start = System.nanoTime();
        client.request(opts).compose(req -> req.send(body)).compose(resp -> resp.body().map(b -> resp.statusCode()))
                .onComplete(ar -> {
                    if (ar.succeeded() && ar.result() == 200) {
                        synchronized (h) {
                            h.recordValue(Math.min((System.nanoTime() - start) / 1000, h.getHighestTrackableValue()));
                        }
                        ok.incrementAndGet();
                    } else {
                        errors.incrementAndGet();
                    }
                    loop(client, opts, body, end, h, ok, errors, done);
                });
    }
}
