package dev.offload.gateway.generation;

import dev.offload.gateway.privacy.Sensitivity;

import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * What to generate, for whom, by when, and how sensitive it is.
 *
 * @param tenant          the caller's tenant (coalescing and fairness never cross tenants)
 * @param messages        the conversation as the device sent it, system prompt first if any;
 *                        the {@link EgressGate} makes what a tier outside the edge zone receives
 * @param maxTokens       output cap
 * @param temperature     sampling temperature, null for the backend default
 * @param priority        admission class
 * @param deadlineNanos   {@link System#nanoTime()} by which the answer must be complete
 * @param affinityKey     requests with the same key (e.g. the same retrieved context) prefer the
 *                        same replica, whose prefix cache may already hold it; null for none
 * @param tiers           tiers allowed for this request, in order of preference
 * @param fallbackSources called (on a worker thread) only if every tier fails, for the
 *                        extractive answer; null when there is nothing to quote
 * @param sensitivity     the highest sensitivity of anything in {@code messages}: decides which
 *                        tiers the request may reach at all
 * @param options         further sampling and output parameters, passed to the backend as asked
 */
public record GenerationRequest(String tenant, List<ChatTurn> messages, int maxTokens, Double temperature,
                                Priority priority, long deadlineNanos, String affinityKey, List<String> tiers,
                                Supplier<List<Source>> fallbackSources, Sensitivity sensitivity, SamplingOptions options) {
    /** A request with every further parameter at the backend's default. */
    public GenerationRequest(String tenant, List<ChatTurn> messages, int maxTokens, Double temperature, Priority priority,
                             long deadlineNanos, String affinityKey, List<String> tiers,
                             Supplier<List<Source>> fallbackSources, Sensitivity sensitivity) {
        this(tenant, messages, maxTokens, temperature, priority, deadlineNanos, affinityKey, tiers, fallbackSources,
                sensitivity, SamplingOptions.NONE);
    }

    public GenerationRequest {
        options = options == null ? SamplingOptions.NONE : options;
        Objects.requireNonNull(tenant);
        messages = List.copyOf(messages);
        if (messages.isEmpty()) throw new IllegalArgumentException("messages must not be empty");
        if (maxTokens < 1) throw new IllegalArgumentException("maxTokens must be >= 1");
        Objects.requireNonNull(priority);
        tiers = List.copyOf(tiers);
        Objects.requireNonNull(sensitivity, "sensitivity");
    }

    /** Prompt size estimate used for admission and metrics (≈ 4 characters per token). */
    public int promptTokenEstimate() {
        int chars = 0;
        for (ChatTurn t : messages) {
            chars += t.content().length();
            for (ToolCall c : t.toolCalls()) {
                chars += c.name().length() + c.arguments().length();
            }
        }
        return Math.max(1, chars / 4);
    }

    /** The same request with other messages and options (the gate's redacted copy). */
    GenerationRequest redacted(List<ChatTurn> otherMessages, SamplingOptions otherOptions) {
        return new GenerationRequest(tenant, otherMessages, maxTokens, temperature, priority, deadlineNanos, affinityKey,
                tiers, fallbackSources, sensitivity, otherOptions);
    }

    /** Key of identical requests for coalescing. */
    String coalescingKey() {
        return tenant + '\u0000' + sensitivity + '\u0000' + maxTokens + '\u0000' + temperature + '\u0000' + tiers
                + '\u0000' + options + '\u0000' + messages;
    }
}
