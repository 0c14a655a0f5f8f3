package dev.offload.gateway.bench.fleet;

import dev.offload.gateway.bench.fleet.GatewayClient.DeviceReport;
import dev.offload.gateway.bench.fleet.GatewayClient.Hint;
import dev.offload.gateway.offload.policy.DeviceTelemetry;
import dev.offload.gateway.offload.policy.GatewaySnapshot;
import dev.offload.gateway.offload.policy.LocalAdvisor;
import dev.offload.gateway.offload.policy.OffloadHint;
import dev.offload.gateway.offload.policy.Sensitivity;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The fleet's subscription to the gateway's pushed state ({@code GET /v1/offload/watch}, SSE) and
 * the device-side decision with the gateway's own policy package
 * ({@code dev.offload.gateway.offload.policy.LocalAdvisor}): a simulated device that follows hints
 * with local decisions asks this instead of {@code /v1/offload/decide}.
 *
 * <p>One subscription for the fleet: the gateway admits a few watchers per device key and every
 * simulated device shares the driver's key, and every device would receive the same snapshot.
 * One {@link LocalAdvisor} holding it decides for every device with that device's own telemetry
 * and question, which is what each device's own advisor would do with the same snapshot. The
 * local-quality estimate needs the question's MiniLM embedding: the driver computes it once per
 * question text before the run ({@code embeddings}), as a device would on its own CPU.
 *
 * <p>{@link #decide} may be called from any thread (the advisor is thread-safe); SSE handlers run
 * on the client's event loop. Snapshot validity is timed on {@link System#currentTimeMillis()}.
 */
final class WatchStream implements AutoCloseable {
    private final HttpClient http;
    private final LocalAdvisor advisor = LocalAdvisor.withBundledRouter();
    private final Map<String, float[]> embeddings;
    private final CountDownLatch first = new CountDownLatch(1);
    private final AtomicLong snapshots = new AtomicLong();
    private final StringBuilder pending = new StringBuilder();

    WatchStream(Vertx vertx, URI base, String apiKey, Map<String, float[]> embeddings) {
        this.embeddings = embeddings;
        this.http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setConnectTimeout(5_000));
        RequestOptions o = new RequestOptions().setMethod(HttpMethod.GET).setHost(base.getHost())
                .setPort(base.getPort() > 0 ? base.getPort() : 80).setURI("/v1/offload/watch")
                .putHeader("accept", "text/event-stream");
        if (apiKey != null) {
            o.putHeader("authorization", "Bearer " + apiKey);
        }
        http.request(o).compose(r -> r.send()).onSuccess(resp -> {
            if (resp.statusCode() != 200) {
                System.err.println("[fleet] watch refused: " + resp.statusCode());
                return;
            }
            resp.handler(this::onChunk);
        }).onFailure(e -> System.err.println("[fleet] watch failed: " + e));
    }

    /** Waits for the first snapshot; false when none came in time. */
    boolean awaitFirst(long seconds) throws InterruptedException {
        return first.await(seconds, TimeUnit.SECONDS);
    }

    long snapshotsReceived() {
        return snapshots.get();
    }

    private void onChunk(Buffer b) {
        pending.append(b.toString(StandardCharsets.UTF_8));
        int from = 0;
        for (int end; (end = pending.indexOf("\n\n", from)) >= 0; from = end + 2) {
            String data = null;
            for (String line : pending.substring(from, end).split("\n")) {
                if (line.startsWith("data:")) {
                    data = line.substring(5).strip();
                }
            }
            if (data != null) {
                advisor.accept(GatewaySnapshot.fromJson(data), System.currentTimeMillis());
                snapshots.incrementAndGet();
                first.countDown();
            }
        }
        pending.delete(0, from);
    }

    /**
     * A decision from the held snapshot.
     *
     * @param probeCache ask the gateway's cache first ({@code generate: cache-only}), then answer locally on a miss
     */
    record Decision(Hint hint, boolean probeCache) {
    }

    /**
     * The hint the gateway's policy gives for this query from the held snapshot, and whether the
     * package's rule asks the cache first; empty when there is no snapshot.
     *
     * @param probing whether this device probes the cache at all (false: the ablation without it)
     */
    Optional<Decision> decide(String text, int historyTokens, String sensitivity, long budgetMs, int maxTokens, DeviceReport d,
                              boolean probing) {
        long now = System.currentTimeMillis();
        LocalAdvisor.Question q = new LocalAdvisor.Question(telemetry(d), text, embeddings.get(text), historyTokens,
                Sensitivity.parse(sensitivity), budgetMs, maxTokens);
        return advisor.decide(q, now).map(h -> new Decision(hint(h), probing && advisor.probesCache(q, h, now)));
    }

    static DeviceTelemetry telemetry(DeviceReport d) {
        DeviceTelemetry.NetworkType type = DeviceTelemetry.NetworkType.parse(d.network());
        DeviceTelemetry.Network net = d.network().equals("offline") ? new DeviceTelemetry.Network(type, null, null, null)
                : new DeviceTelemetry.Network(type, d.rttMs(), d.downlinkKbps(), d.uplinkKbps());
        return new DeviceTelemetry(d.cpuUtil(), d.npuUtil(), d.memAvailableMb(), d.batteryPct(), d.charging(),
                DeviceTelemetry.Thermal.parse(d.thermal()), net,
                new DeviceTelemetry.LocalModel("fleet-local-model", d.localTokensPerSec(), d.localMaxContextTokens(),
                        d.localPrefillTokensPerSec(), d.localContextTokens()));
    }

    static Hint hint(OffloadHint h) {
        List<String> reasons = h.reasons().stream().map(OffloadHint.Reason::code).toList();
        return new Hint(h.target().name(), h.validForMs(), h.retryAfterMs(), reasons,
                h.estimates() == null ? null : h.estimates().localQuality());
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
