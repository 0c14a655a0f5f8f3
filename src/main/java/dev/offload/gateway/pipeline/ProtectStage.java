package dev.offload.gateway.pipeline;

import dev.offload.gateway.generation.EgressGate;
import dev.offload.gateway.generation.Tier;
import dev.offload.gateway.metrics.MetricNames;
import dev.offload.gateway.privacy.Sensitivity;
import dev.offload.gateway.retrieval.IndexRecords.ChunkHit;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;

/**
 * Decides what the query may become: its effective sensitivity (the highest of what it
 * states and every retrieved chunk's label; an unreadable label counts as restricted), the tiers
 * in fallback order, the window of the tiers that level may reach, and the prompt packed into
 * that window (lowest-scored chunks dropped first, then the oldest turns). What leaves for a
 * tier is decided again, and redacted, by the generator's {@link EgressGate}.
 *
 * <p>Thread-safe.
 */
final class ProtectStage {
    /** The window when no tier is configured (the answer is extractive then). */
    static final int DEFAULT_WINDOW = 4096;

    private final Function<String, Sensitivity> tenantDefault;
    private final String labelKey;
    private final Supplier<List<Tier>> tiers;
    private final ToIntFunction<String> windowOf;
    private final PromptBuilder prompts;
    private final MeterRegistry registry;

    /**
     * @param tenantDefault the sensitivity of a chunk without a label, per tenant
     * @param labelKey      the metadata key of a chunk's label
     * @param windowOf      a tier's context window by name
     */
    ProtectStage(Function<String, Sensitivity> tenantDefault, String labelKey, Supplier<List<Tier>> tiers,
                 ToIntFunction<String> windowOf, PromptBuilder prompts, MeterRegistry registry) {
        this.tenantDefault = tenantDefault;
        this.labelKey = labelKey;
        this.tiers = tiers;
        this.windowOf = windowOf;
        this.prompts = prompts;
        this.registry = registry;
    }

    void apply(QueryContext ctx) {
        Sensitivity level = ctx.asked;
        for (ChunkHit h : ctx.hits) {
            level = Sensitivity.max(level, label(ctx.tenant, h));
        }
        ctx.level = level;
        List<String> order = new ArrayList<>();
        int window = Integer.MAX_VALUE;
        for (Tier t : tiers.get()) {
            order.add(t.name());
            if (EgressGate.allows(level, t)) {
                window = Math.min(window, windowOf.applyAsInt(t.name()));
            }
        }
        if (window == Integer.MAX_VALUE) {
            window = order.isEmpty() ? DEFAULT_WINDOW : windowOf.applyAsInt(order.get(0));
        }
        ctx.tierOrder = order;
        if (level == Sensitivity.RESTRICTED) {
            registry.counter(MetricNames.PRIVACY_REFUSALS, "sensitivity", level.wireName(), "reason", "restricted").increment();
        }
        List<PromptBuilder.Chunk> chunks = ctx.hits.stream()
                .map(h -> new PromptBuilder.Chunk(h.chunkId(), h.title(), h.text(), h.score())).toList();
        ctx.prompt = prompts.build(ctx.query.text(), ctx.query.history(), chunks, Math.max(0, window - ctx.maxTokens));
    }

    private Sensitivity label(String tenant, ChunkHit h) {
        String v = h.metadata() == null ? null : h.metadata().get(labelKey);
        try {
            return Sensitivity.parse(v, tenantDefault.apply(tenant));
        } catch (IllegalArgumentException e) {
            return Sensitivity.RESTRICTED; // an unreadable label protects the most
        }
    }
}
