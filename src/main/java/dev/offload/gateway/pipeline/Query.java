package dev.offload.gateway.pipeline;

import dev.offload.gateway.generation.ChatTurn;
import dev.offload.gateway.generation.Priority;
import dev.offload.gateway.offload.policy.DeviceTelemetry;
import dev.offload.gateway.privacy.Sensitivity;

import java.util.List;
import java.util.Map;

/**
 * A device's RAG query, validated by the API layer's parsing and by {@link QueryPipeline}.
 *
 * @param k               chunks to retrieve; null for the configured default
 * @param sensitivity     what the device says its query is; null for the configured default
 * @param latencyBudgetMs time for the whole answer; null for the generation default
 * @param generate        whether to generate when the hint says LOCAL
 * @param maxTokens       answer cap; null for the generation default
 */
public record Query(String text, List<ChatTurn> history, Integer k, Map<String, String> filter,
                    Sensitivity sensitivity, Long latencyBudgetMs, DeviceTelemetry device, Generate generate,
                    Integer maxTokens, Double temperature, Priority priority) {
    public Query {
        history = history == null ? List.of() : List.copyOf(history);
        filter = dev.offload.gateway.retrieval.HybridSearcher.validFilter(filter);
        device = device == null ? DeviceTelemetry.UNKNOWN : device;
        generate = generate == null ? Generate.ALWAYS : generate;
        priority = priority == null ? Priority.INTERACTIVE : priority;
    }

    /** When the gateway generates an answer. */
    public enum Generate {
        /** Always answer (the device already sent its query). */
        ALWAYS,
        /** Answer unless the hint says LOCAL; then return sources and the hint only ({@code servedBy:"none"}). */
        UNLESS_LOCAL,
        /** Never generate: sources and the hint only. */
        NEVER,
        /**
         * The shared cache or nothing: a cached answer when the cache holds one, otherwise the hint
         * alone ({@code servedBy:"none"}, no sources): no retrieval, no generation. For a device
         * that keeps a question local but would rather take the fleet's answer to it if there is one.
         */
        CACHE_ONLY;

        /** Wire names: {@code always|unless-local|never|cache-only}. */
        public static Generate parse(String v) {
            if (v == null || v.isBlank()) {
                return null;
            }
            return switch (v.strip().toLowerCase(java.util.Locale.ROOT)) {
                case "always" -> ALWAYS;
                case "unless-local", "unless_local" -> UNLESS_LOCAL;
                case "never" -> NEVER;
                case "cache-only", "cache_only" -> CACHE_ONLY;
                default -> throw new IllegalArgumentException("generate must be one of always, unless-local, never, cache-only");
            };
        }
    }
}
