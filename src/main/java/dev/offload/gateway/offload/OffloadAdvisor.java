package dev.offload.gateway.offload;

import dev.offload.gateway.generation.Tier;
import dev.offload.gateway.generation.TierRegistry;
import dev.offload.gateway.metrics.MetricNames;
import dev.offload.gateway.offload.policy.DeviceTelemetry;
import dev.offload.gateway.offload.policy.GatewayView;
import dev.offload.gateway.offload.policy.GatewayView.TierView;
import dev.offload.gateway.offload.policy.LocalQualityRouter;
import dev.offload.gateway.offload.policy.OffloadHint;
import dev.offload.gateway.offload.policy.OffloadPolicy;
import dev.offload.gateway.offload.policy.PolicySettings;
import dev.offload.gateway.offload.policy.TierState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The gateway's adapter to the device-independent policy package ({@code offload.policy}): turns
 * {@link OffloadConfig} into {@link PolicySettings} and live tier state into the
 * {@link GatewayView} the {@link OffloadPolicy} reads, runs it and counts the decisions. The
 * decision code itself is the policy package's, the same a device runs.
 * Cheap (no I/O, no blocking): call it from any thread, event loop included.
 */
@ApplicationScoped
public class OffloadAdvisor {
    @Inject
    OffloadConfig config;
    @Inject
    TierRegistry tiers;
    @Inject
    MeterRegistry registry;
    @Inject
    dev.offload.gateway.retrieval.RetrievalConfig retrieval;

    private volatile OffloadPolicy policy;
    /** The router trained on the configured embedding model's embeddings; empty when none ships for it. */
    private volatile java.util.Optional<LocalQualityRouter> router;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    OffloadPolicy policy() {
        OffloadPolicy p = policy;
        if (p == null) {
            p = policy = new OffloadPolicy(settingsOf(config));
        }
        return p;
    }

    /**
     * The router's probability that the device's model answers {@code text} as well as the
     * gateway's, from the question's embedding (the caller computes it, off the event loop, with
     * the gateway's {@code gateway.embedding.question-model}; the router is the one trained on that
     * model's embeddings); null when {@code gateway.offload.local-quality-enabled} is off or no router
     * ships for that model. One dot product: any thread.
     */
    public Double localQuality(String text, float[] embedding) {
        if (!config.localQualityEnabled()) {
            return null;
        }
        java.util.Optional<LocalQualityRouter> r = router;
        if (r == null) {
            r = router = LocalQualityRouter.bundled(
                    dev.offload.gateway.retrieval.EmbeddingModel.byName(retrieval.embedding().questionModel()).modelName());
        }
        return r.isPresent() ? r.get().estimate(text, embedding) : null;
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
        return new TierView(state(t.state()), c.maxContextTokens(), c.config().circuitDelay().toMillis());
    }

    /** The policy's copy of a tier's live state (the policy package knows nothing of {@code generation}). */
    public static TierState state(Tier.State s) {
        return new TierState(s.name(), s.external(), s.replicas(), s.healthyReplicas(), s.slots(), s.inFlight(),
                s.queueLength(), s.queueCapacity(), s.waitMillis(), s.ttftMillis(), s.tokensPerSecond(),
                s.serviceMillis(), s.maxQueueWaitMillis());
    }

    /** The policy's level for the gateway's (same four names). */
    public static dev.offload.gateway.offload.policy.Sensitivity level(dev.offload.gateway.privacy.Sensitivity s) {
        return s == null ? null : dev.offload.gateway.offload.policy.Sensitivity.valueOf(s.name());
    }

    /** The thresholds the policy decides with, and that {@code Watch} sends to devices. */
    public PolicySettings settings() {
        return policy().settings();
    }

    /** {@code gateway.offload.*} as the policy's plain settings record. */
    public static PolicySettings settingsOf(OffloadConfig c) {
        return new PolicySettings(c.saturationUtil(), c.loadSlowdownWeight(), c.thermalSeriousFactor(), c.lowBatteryPct(),
                c.minLocalMemoryMb(), c.localPrefillSpeedup(), c.defaultOutputTokens(), c.longOutputTokens(),
                c.contextTokensEstimate(), c.localMaxOutputTokens(), c.localBias(), c.minLocalQuality(), c.localPreferredQuality(),
                c.localQualityEnabled(), c.defaultRttMs(), c.priorTtftMs(), c.priorTokensPerSec(), c.slowNetworkShare(),
                c.validity().toMillis(), c.unstableValidity().toMillis());
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
