package dev.offload.gateway.generation;

import java.util.List;
import java.util.Objects;

/**
 * What to generate, for whom, by when.
 *
 * @param tenant          the caller's tenant (coalescing and fairness never cross tenants)
 * @param messages        the conversation, system prompt first if any
 * @param maxTokens       output cap
 * @param temperature     sampling temperature, null for the backend default
 * @param priority        admission class
 * @param deadlineNanos   {@link System#nanoTime()} by which the answer must be complete
 * @param affinityKey     requests with the same key (e.g. the same retrieved context) prefer the
 *                        same replica, whose prefix cache may already hold it; null for none
 * @param tiers           tiers allowed for this request, in order of preference
 * @param fallbackSources called (on a worker thread) only if every tier fails, for the
 *                        extractive answer; null when there is nothing to quote
 * @param externalMessages what a tier marked external receives instead of {@code messages}
 *                        (PII redacted); null when both are the same
 */
public record GenerationRequest(String tenant, List<ChatTurn> messages, int maxTokens, Double temperature,
                                Priority priority, long deadlineNanos, String affinityKey, List<String> tiers,
                                java.util.function.Supplier<List<Source>> fallbackSources,
                                List<ChatTurn> externalMessages) {
    public GenerationRequest(String tenant, List<ChatTurn> messages, int maxTokens, Double temperature, Priority priority,
                             long deadlineNanos, String affinityKey, List<String> tiers,
                             java.util.function.Supplier<List<Source>> fallbackSources) {
        this(tenant, messages, maxTokens, temperature, priority, deadlineNanos, affinityKey, tiers, fallbackSources, null);
    }

    public GenerationRequest {
        externalMessages = externalMessages == null ? null : List.copyOf(externalMessages);
        Objects.requireNonNull(tenant);
        messages = List.copyOf(messages);
        if (messages.isEmpty()) throw new IllegalArgumentException("messages must not be empty");
        if (maxTokens < 1) throw new IllegalArgumentException("maxTokens must be >= 1");
        Objects.requireNonNull(priority);
        tiers = List.copyOf(tiers);
    }

    /** Prompt size estimate used for admission and metrics (≈ 4 characters per token). */
    public int promptTokenEstimate() {
        int chars = 0;
        for (ChatTurn t : messages) {
            chars += t.content().length();
        }
        return Math.max(1, chars / 4);
    }

    /** The request as a tier outside the edge zone sees it. */
    GenerationRequest forExternalTier() {
        return externalMessages == null ? this : new GenerationRequest(tenant, externalMessages, maxTokens, temperature,
                priority, deadlineNanos, affinityKey, tiers, fallbackSources, null);
    }

    /** Key of identical requests for coalescing. */
    String coalescingKey() {
        return tenant + '\u0000' + maxTokens + '\u0000' + temperature + '\u0000' + tiers + '\u0000' + messages;
    }
}
