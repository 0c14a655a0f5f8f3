package dev.offload.gateway.offload;

import dev.offload.gateway.generation.Tier;
import dev.offload.gateway.generation.TierRegistry;
import dev.offload.gateway.metrics.MetricNames;
import dev.offload.gateway.offload.GatewayView.TierView;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Builds the gateway's view for the {@link OffloadPolicy} from live tier state, runs it and
 * counts the decisions. Cheap (no I/O, no blocking): call it from any thread, event loop included.
 */
@ApplicationScoped
public class OffloadAdvisor {
    @Inject
    OffloadConfig config;
    @Inject
    TierRegistry tiers;
    @Inject
    MeterRegistry registry;

    private volatile OffloadPolicy policy;
    private volatile LocalQualityRouter router;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    OffloadPolicy policy() {
        OffloadPolicy p = policy;
        if (p == null) {
            p = policy = new OffloadPolicy(config);
        }
        return p;
    }

    /**
     * The router's probability that the device's model answers {@code text} as well as the
     * gateway's, from the question's embedding (the caller computes it, off the event loop); null
     * when {@code gateway.offload.local-quality-enabled} is off. One dot product: any thread.
     */
    public Double localQuality(String text, float[] embedding) {
        if (!config.localQualityEnabled()) {
            return null;
        }
        LocalQualityRouter r = router;
        if (r == null) {
            r = router = LocalQualityRouter.bundled();
        }
        return r.estimate(text, embedding);
    }

    /**
     * The gateway as it is now; {@code cacheHit} comes from the caller's cache lookup. The hint's
     * EDGE is the first tier inside the edge zone, its CLOUD the first tier outside it.
     */
    public GatewayView view(boolean cacheHit) {
        return new GatewayView(tierView(tiers.first(true).orElse(null)), tierView(tiers.first(false).orElse(null)), cacheHit);
    }

    private TierView tierView(Tier t) {
        if (t == null) {
            return null;
        }
        TierRegistry.Settings c = tiers.settings(t.name());
        return new TierView(t.state(), c.maxContextTokens(), c.config().circuitDelay().toMillis());
    }

    public OffloadHint decide(OffloadPolicy.Input input) {
        return count(policy().decide(input));
    }

    /** The hint that rides on a refusal (429/503): stay local, retry after the gateway's estimate. */
    public OffloadHint refused(OffloadHint basis, String reason, long retryAfterMs, DeviceTelemetry device) {
        return count(policy().refused(basis, "GATEWAY_REFUSED", "the gateway refused the request (" + reason + ")",
                retryAfterMs, device));
    }

    /**
     * The hint for a caller the gateway knows nothing about (OpenAI-compatible clients), from
     * its own state alone.
     */
    public OffloadHint forUnknownDevice(String query, long retryAfterMs, String reason) {
        OffloadHint basis = policy().decide(new OffloadPolicy.Input(null, query, 0, 0, null, null, view(false)));
        return refused(basis, reason, retryAfterMs, null);
    }

    private OffloadHint count(OffloadHint hint) {
        String target = hint.target().name();
        counter(MetricNames.OFFLOAD_DECISIONS, target, null).increment();
        for (OffloadHint.Reason r : hint.reasons()) {
            counter(MetricNames.OFFLOAD_REASONS, target, r.code()).increment();
        }
        return hint;
    }

    private Counter counter(String name, String target, String reason) {
        String key = name + '|' + target + '|' + reason;
        return counters.computeIfAbsent(key, k -> reason == null
                ? Counter.builder(name).tag("target", target).register(registry)
                : Counter.builder(name).tag("target", target).tag("reason", reason).register(registry));
    }
}
