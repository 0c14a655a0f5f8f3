package dev.offload.gateway.offload;

import java.util.List;

/**
 * Where a device should run its next query, why, and how long the advice holds.
 *
 * @param estimates        end-to-end milliseconds per option; null where the option is unavailable
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

    public record Estimates(Long localMs, Long edgeMs, Long cloudMs) {
    }
}
