package dev.offload.gateway.offload.policy;

import java.util.List;

/**
 * Where a device should run its next query, why, and how long the advice holds.
 *
 * @param estimates        end-to-end milliseconds per option (null where the option is unavailable),
 *                         and how likely the local model is to answer as well as the gateway's
 * @param validForMs       re-ask after this long (shorter while conditions are changing)
 * @param maxContextTokens the chosen target's context window; null for a cached answer
 * @param retryAfterMs     when the gateway itself is the reason to stay local: how long until it
 *                         expects to have room again; null otherwise
 */
public record OffloadHint(Target target, List<Reason> reasons, Estimates estimates, long validForMs,
                          Integer maxContextTokens, Long retryAfterMs) {
    public OffloadHint {
        reasons = List.copyOf(reasons);
    }

    public enum Target {
        LOCAL, EDGE, CLOUD, CACHE
    }

    /** A machine-readable code (see the offload docs for the list) and a human detail. */
    public record Reason(String code, String detail) {
    }

    /**
     * @param localQuality the local-quality router's probability (0..1) that the device's model
     *                     answers this question as well as the gateway's; null when the caller
     *                     had no embedding of the question
     */
    public record Estimates(Long localMs, Long edgeMs, Long cloudMs, Double localQuality) {
        public Estimates(Long localMs, Long edgeMs, Long cloudMs) {
            this(localMs, edgeMs, cloudMs, null);
        }
    }
}
