package dev.offload.gateway.capacity;

import java.time.Instant;
import java.util.List;

/** The body of {@code GET /v1/capacity}: every configured tier, in routing order. */
public record CapacitySummary(Instant at, List<TierCapacity> tiers) {
}
