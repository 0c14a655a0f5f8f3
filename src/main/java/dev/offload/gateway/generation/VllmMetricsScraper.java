package dev.offload.gateway.generation;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Scrapes each replica's Prometheus {@code /metrics} (vLLM exposes it beside {@code /v1}) for
 * {@code vllm:num_requests_running}, {@code vllm:num_requests_waiting} and
 * {@code vllm:kv_cache_usage_perc}; routing reads them from the {@link Replica}, and they are
 * re-exported per replica. A backend without these gauges (TensorRT-LLM's OpenAI server, a
 * proxy) is simply routed on the gateway's own counts. Asynchronous HTTP; one scheduler thread.
 */
@ApplicationScoped
public class VllmMetricsScraper {
    private static final Logger LOG = Logger.getLogger(VllmMetricsScraper.class);

    @Inject
    TierRegistry tiers;

    private ScheduledExecutorService scheduler;
    private HttpClient http;

    void onStart(@Observes StartupEvent e) {
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "vllm-metrics");
            t.setDaemon(true);
            return t;
        });
        for (Tier tier : tiers.tiers()) {
            Duration every = tiers.settings(tier.name()).config().metricsScrapeInterval();
            if (every.isZero() || every.isNegative()) {
                continue;
            }
            for (Replica r : tier.replicas()) {
                scheduler.scheduleWithFixedDelay(() -> scrape(r), every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
    }

    static URI metricsUri(String baseUrl) {
        String u = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        if (u.endsWith("/v1")) {
            u = u.substring(0, u.length() - 3);
        }
        return URI.create(u + "/metrics");
    }

    private void scrape(Replica r) {
        HttpRequest req = HttpRequest.newBuilder(metricsUri(r.url())).timeout(Duration.ofSeconds(2)).GET().build();
        http.sendAsync(req, HttpResponse.BodyHandlers.ofString()).whenComplete((resp, failure) -> {
            if (failure != null || resp.statusCode() != 200) {
                r.vllm(Replica.VllmGauges.UNKNOWN);
                return;
            }
            r.vllm(parse(resp.body()));
        });
    }

    /** Sums each gauge over its label sets (one per model name); NaN when absent. */
    static Replica.VllmGauges parse(String text) {
        double running = Double.NaN;
        double waiting = Double.NaN;
        double kv = Double.NaN;
        for (String line : text.split("\n")) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            if (space < 0) {
                continue;
            }
            String name = line.substring(0, line.indexOf('{') > 0 ? line.indexOf('{') : space).strip();
            double value;
            try {
                value = Double.parseDouble(line.substring(space + 1).strip());
            } catch (NumberFormatException e) {
                continue;
            }
            switch (name) {
                case "vllm:num_requests_running" -> running = (Double.isNaN(running) ? 0 : running) + value;
                case "vllm:num_requests_waiting" -> waiting = (Double.isNaN(waiting) ? 0 : waiting) + value;
                case "vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc" -> kv = Double.isNaN(kv) ? value : Math.max(kv, value);
                default -> {
                }
            }
        }
        return new Replica.VllmGauges(running, waiting, kv);
    }

    void onStop(@Observes ShutdownEvent e) {
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
        LOG.debug("vLLM metrics scraper stopped");
    }
}
