package dev.offload.gateway.generation;

import dev.offload.gateway.metrics.MetricNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The meters of one tier, registered once when the tier is built: a request only increments
 * and records, never looks a meter up by name and tags (which costs a map lookup and
 * allocations per call on the request path).
 *
 * <p>Thread-safe.
 */
final class TierMeters {
    /** Failure reasons the generator reports; others are registered on first use. */
    static final String[] FAILURE_REASONS = {"ttft_timeout", "circuit_open", "backend_error",
            "mid_stream_backend_error", "mid_stream_idle_timeout"};
    /** Refusal reasons {@link Tier} gives. */
    static final String[] REJECTION_REASONS = {"no_backend", "queue_full", "deadline", "queue_wait"};

    final Timer queueTime;
    final Timer ttft;
    final Timer interToken;
    final Counter attempts;
    final Counter tokensIn;
    final Counter tokensOut;
    final Counter served;
    final Counter cancelled;
    private final String tier;
    private final MeterRegistry registry;
    private final Map<String, Counter> failures = new ConcurrentHashMap<>();
    private final Map<String, Counter> rejections = new ConcurrentHashMap<>();

    TierMeters(MeterRegistry registry, String tier) {
        this.registry = registry;
        this.tier = tier;
        queueTime = registry.timer(MetricNames.QUEUE_TIME, "tier", tier);
        ttft = registry.timer(MetricNames.TTFT, "tier", tier);
        interToken = registry.timer(MetricNames.ITL, "tier", tier);
        attempts = registry.counter(MetricNames.ATTEMPTS, "tier", tier);
        tokensIn = registry.counter(MetricNames.TOKENS, "tier", tier, "direction", "in");
        tokensOut = registry.counter(MetricNames.TOKENS, "tier", tier, "direction", "out");
        served = registry.counter(MetricNames.REQUESTS, "served_by", tier);
        cancelled = registry.counter(MetricNames.CANCELLED, "tier", tier);
        for (String reason : FAILURE_REASONS) {
            failure(reason);
        }
        for (String reason : REJECTION_REASONS) {
            rejection(reason);
        }
    }

    /** Failed attempts, tags {@code tier, reason}. */
    Counter failure(String reason) {
        Counter c = failures.get(reason);
        return c != null ? c : failures.computeIfAbsent(reason,
                r -> registry.counter(MetricNames.FAILURES, "tier", tier, "reason", r));
    }

    /** Refused admissions, tags {@code tier, reason}. */
    Counter rejection(String reason) {
        Counter c = rejections.get(reason);
        return c != null ? c : rejections.computeIfAbsent(reason,
                r -> registry.counter(MetricNames.REJECTIONS, "tier", tier, "reason", r));
    }
}
