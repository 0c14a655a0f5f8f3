package dev.offload.gateway.bench.fleet;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Reads the gateway's Prometheus text at {@code /q/metrics}: the edge tier's batch occupancy
 * ({@code gateway_backend_batch_occupancy}, mean over replicas), its admission queue length, and
 * the offload decisions counted so far. Asynchronous on the caller's {@link Vertx}; a failed
 * scrape yields NaN, never an exception.
 */
final class GatewayMetrics implements AutoCloseable {
    /**
     * One scrape: occupancy 0..1 and queue length of the edge tier (NaN when not exported), offload
     * decisions by target, and generated tokens by {@code tier/direction} ({@code edge/in}, …).
     */
    record Snapshot(double edgeOccupancy, double edgeQueue, Map<String, Double> decisions, Map<String, Double> tokens) {
    }

    private final HttpClient http;
    private final String host;
    private final int port;
    private final String path;
    private final String apiKey;

    GatewayMetrics(Vertx vertx, URI base, String apiKey) {
        this.http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setConnectTimeout(2_000));
        this.host = base.getHost();
        this.port = base.getPort() > 0 ? base.getPort() : 80;
        this.path = (base.getPath() == null ? "" : base.getPath().replaceAll("/$", "")) + "/q/metrics";
        this.apiKey = apiKey;
    }

    Future<Snapshot> scrape() {
        RequestOptions o = new RequestOptions().setMethod(HttpMethod.GET).setHost(host).setPort(port).setURI(path)
                .setIdleTimeout(5_000);
        if (apiKey != null) {
            o.putHeader("authorization", "Bearer " + apiKey);
        }
        return http.request(o).compose(r -> r.send()).compose(r -> r.body())
                .map(b -> parse(b.toString()))
                .otherwise(e -> new Snapshot(Double.NaN, Double.NaN, Map.of(), Map.of()));
    }

    static Snapshot parse(String text) {
        double occSum = 0;
        int occN = 0;
        double queue = Double.NaN;
        Map<String, Double> decisions = new LinkedHashMap<>();
        Map<String, Double> tokens = new LinkedHashMap<>();
        for (String raw : text.split("\n")) {
            if (raw.startsWith("#") || raw.isBlank()) {
                continue;
            }
            int exemplar = raw.indexOf(" # "); // OpenMetrics exemplar: its last field is a timestamp
            String line = exemplar < 0 ? raw : raw.substring(0, exemplar);
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            if (space < 0) {
                continue;
            }
            String name = brace >= 0 ? line.substring(0, brace) : line.substring(0, space);
            String labels = brace >= 0 ? line.substring(brace, line.lastIndexOf('}') + 1) : "";
            double value;
            try {
                value = Double.parseDouble(line.substring(space + 1));
            } catch (NumberFormatException e) {
                continue;
            }
            switch (name) {
                case "gateway_backend_batch_occupancy" -> {
                    if (labels.contains("tier=\"edge\"") && !Double.isNaN(value)) {
                        occSum += value;
                        occN++;
                    }
                }
                case "gateway_backend_queue_length" -> {
                    if (labels.contains("tier=\"edge\"")) {
                        queue = value;
                    }
                }
                case "gateway_offload_decisions_total" -> decisions.merge(label(labels, "target"), value, Double::sum);
                case "gateway_generation_tokens_total" -> tokens.merge(label(labels, "tier") + "/"
                        + label(labels, "direction"), value, Double::sum);
                default -> {
                    // not needed
                }
            }
        }
        return new Snapshot(occN == 0 ? Double.NaN : occSum / occN, queue, decisions, tokens);
    }

    private static String label(String labels, String key) {
        int i = labels.indexOf(key + "=\"");
        if (i < 0) {
            return "?";
        }
        int from = i + key.length() + 2;
        return labels.substring(from, labels.indexOf('"', from));
    }

    @Override
    public void close() {
        try {
            http.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // closing anyway
        }
    }
}
