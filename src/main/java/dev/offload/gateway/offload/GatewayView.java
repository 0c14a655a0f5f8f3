package dev.offload.gateway.offload;

import dev.offload.gateway.generation.Tier;

/**
 * The gateway's own state as the policy sees it: one snapshot per decision.
 *
 * @param edge     the edge pool, null when not configured
 * @param cloud    the cloud tier, null when not configured
 * @param cacheHit the query would be answered from the semantic cache
 */
public record GatewayView(TierView edge, TierView cloud, boolean cacheHit) {

    /**
     * @param state            live tier state (queue, health, measured TTFT and tokens/s)
     * @param maxContextTokens the tier's model context window
     * @param circuitRetryMs   how long an open circuit stays open before it is probed again
     */
    public record TierView(Tier.State state, int maxContextTokens, long circuitRetryMs) {
    }
}
