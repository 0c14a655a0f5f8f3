package dev.offload.gateway.abuse;

import org.HdrHistogram.Histogram;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The well-behaved tenant: {@code clients} closed-loop clients, each sending its next request
 * when the last is answered, alternating a short chat completion (generation through the
 * backends) and a search (embedding and index on the gateway's CPU). One {@link #round} is a
 * fixed time; its latencies and status codes are returned. Blocking; call from one thread.
 */
public final class VictimLoad implements AutoCloseable {
    private final String base;
    private final String key;
    private final int clients;
    private final HttpClient http;
    private final ExecutorService pool;
    private final AtomicLong seq = new AtomicLong();

    /** One round: every latency in microseconds, statuses counted, and requests that got no answer. */
    public record Round(Histogram latencyMicros, Map<Integer, Long> statuses, long failures) {
        public long requests() {
            return latencyMicros.getTotalCount() + failures;
        }

        public long ok() {
            return statuses.getOrDefault(200, 0L);
        }

        public double p99Millis() {
            return latencyMicros.getValueAtPercentile(99) / 1000.0;
        }

        public double p50Millis() {
            return latencyMicros.getValueAtPercentile(50) / 1000.0;
        }
    }

    public VictimLoad(String host, int port, String key, int clients) {
        this.base = "http://" + host + ":" + port;
        this.key = key;
        this.clients = clients;
        this.pool = Executors.newFixedThreadPool(clients, r -> {
            Thread t = new Thread(r, "victim");
            t.setDaemon(true);
            return t;
        });
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
                .executor(Executors.newFixedThreadPool(2, r -> {
                    Thread t = new Thread(r, "victim-http");
                    t.setDaemon(true);
                    return t;
                })).build();
    }

    private HttpRequest next() {
        long n = seq.incrementAndGet();
        String path;
        String body;
        if (n % 2 == 0) {
            path = "/v1/chat/completions";
            body = "{\"model\":\"auto\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"victim " + n + "\"}]}";
        } else {
            path = "/v1/search";
            body = "{\"query\":\"how are requests admitted when the backend is busy " + (n % 7) + "\",\"k\":5}";
        }
        return HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    public Round round(Duration length) throws Exception {
        Histogram h = new Histogram(60_000_000L, 3);
        Map<Integer, Long> statuses = new ConcurrentHashMap<>();
        AtomicLong failures = new AtomicLong();
        long end = System.nanoTime() + length.toNanos();
        List<Future<?>> running = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            running.add(pool.submit(() -> {
                while (System.nanoTime() < end) {
                    long t0 = System.nanoTime();
                    try {
                        HttpResponse<Void> r = http.send(next(), HttpResponse.BodyHandlers.discarding());
                        long us = (System.nanoTime() - t0) / 1000;
                        synchronized (h) {
                            h.recordValue(Math.min(us, h.getHighestTrackableValue()));
                        }
                        statuses.merge(r.statusCode(), 1L, Long::sum);
                    } catch (Exception e) {
                        failures.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : running) {
            f.get();
        }
        return new Round(h, Map.copyOf(statuses), failures.get());
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
