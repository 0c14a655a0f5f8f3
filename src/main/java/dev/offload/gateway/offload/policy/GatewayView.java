package dev.offload.gateway.offload.policy;

import java.util.Objects;

/**
 * The gateway's own state as the policy sees it: one snapshot per decision.
 *
 * @param edge     the edge pool (the first tier inside the edge zone), null when not configured
 * @param cloud    the cloud tier (the first tier outside it), null when not configured
 * @param cacheHit the query would be answered from the semantic cache (a fact about one
 *                 question: a pushed {@link GatewaySnapshot} always says false)
 */
public record GatewayView(TierView edge, TierView cloud, boolean cacheHit) {

    /** The same tiers with another answer to "is this question cached?". */
    public GatewayView withCacheHit(boolean hit) {
        return hit == cacheHit ? this : new GatewayView(edge, cloud, hit);
    }

    /**
     * @param state            live tier state (queue, health, measured TTFT and tokens/s)
     * @param maxContextTokens the tier's model context window
     * @param circuitRetryMs   how long an open circuit stays open before it is probed again
     */
    public record TierView(TierState state, int maxContextTokens, long circuitRetryMs) {
        public TierView {
            Objects.requireNonNull(state, "state");
            if (maxContextTokens < 0 || circuitRetryMs < 0) {
                throw new IllegalArgumentException("tier " + state.name() + ": maxContextTokens and circuitRetryMs must be >= 0");
            }
        }
    }
}
