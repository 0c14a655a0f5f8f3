package dev.offload.gateway.generation;

import dev.offload.gateway.metrics.MetricNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
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
    static final String[] FAILURE_REASONS = {"ttft_timeout", "circuit_open", "backend_error", "backend_refused",
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
    /** GenAI semantic conventions: {@code gen_ai.client.token.usage} by token type, {@code gen_ai.server.time_to_first_token}. */
    final GenAi chat;
    final GenAi textCompletion;

    /** The GenAI meters of one {@code gen_ai.operation.name}. */
    record GenAi(DistributionSummary inputTokens, DistributionSummary outputTokens, Timer ttft) {
    }
    /** The semantic conventions' bucket boundaries for token counts. */
    private static final double[] TOKEN_BUCKETS = {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536};
    private final String tier;
    private final MeterRegistry registry;
    private final Map<String, Counter> failures = new ConcurrentHashMap<>();
    private final Map<String, Counter> rejections = new ConcurrentHashMap<>();

    TierMeters(MeterRegistry registry, String tier) {
        this(registry, tier, "default");
    }

    /** @param model the model the tier serves: {@code gen_ai.request.model} */
    TierMeters(MeterRegistry registry, String tier, String model) {
        this.registry = registry;
        chat = genAi(registry, tier, model, "chat");
        textCompletion = genAi(registry, tier, model, "text_completion");
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

    private static GenAi genAi(MeterRegistry registry, String tier, String model, String operation) {
        // gen_ai.system: the tiers speak OpenAI's API (vLLM, TensorRT-LLM's server); the conventions list no value for them.
        Tags tags = Tags.of("gen_ai.system", "openai", "gen_ai.operation.name", operation, "gen_ai.request.model", model,
                "tier", tier);
        DistributionSummary.Builder tokens = DistributionSummary.builder(MetricNames.GEN_AI_TOKEN_USAGE)
                .description("Tokens per generation (OpenTelemetry GenAI semantic conventions)")
                .serviceLevelObjectives(TOKEN_BUCKETS).tags(tags);
        return new GenAi(tokens.tag("gen_ai.token.type", "input").register(registry),
                tokens.tag("gen_ai.token.type", "output").register(registry),
                Timer.builder(MetricNames.GEN_AI_TTFT).tags(tags)
                        .description("Time to first token, queue included (OpenTelemetry GenAI semantic conventions)")
                        .register(registry));
    }

    /** The GenAI meters of a request: chat, or a legacy completion. */
    GenAi genAi(GenerationRequest request) {
        return request.options().legacy() == null ? chat : textCompletion;
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
