package dev.offload.gateway.capacity;

import dev.offload.gateway.privacy.Zone;

import java.util.List;

/**
 * The live capacity of one tier as {@code GET /v1/capacity} reports it. Null numbers are not
 * measured yet (no request has completed on the tier since start).
 *
 * @param tier                      tier name (as configured: {@code gateway.tiers.<name>})
 * @param external                  outside the edge zone
 * @param zone                      where the tier runs ({@code device-adjacent}, {@code edge}, {@code regional}, {@code external})
 * @param replicas                  configured replicas
 * @param replicasAvailable         replicas whose circuit lets calls through
 * @param inFlight                  requests on the tier's replicas now
 * @param limit                     sum of the replicas' current adaptive in-flight limits
 * @param maxConcurrency            sum of the replicas' batch sizes
 * @param occupancy                 inFlight / limit: how much of what the gateway will admit is in use
 * @param batchOccupancy            inFlight / maxConcurrency: how full the backends' batches are
 * @param queueLength               requests waiting in the tier's admission queue
 * @param estimatedQueueWaitSeconds queueLength · serviceTime / available slots, the tier's own estimate
 * @param measured                  service rates measured from completed requests
 * @param capacity                  what the available replicas can complete at their current limits
 * @param headroom                  capacity minus what they complete now (never below zero)
 * @param replicaStates             one entry per replica
 * @param pricing                   what the tier charges, null for a tier without prices (hardware you own)
 */
public record TierCapacity(String tier, boolean external, String zone, int replicas, int replicasAvailable, int inFlight, int limit,
                           int maxConcurrency, double occupancy, double batchOccupancy, int queueLength,
                           Double estimatedQueueWaitSeconds, Measured measured, Rate capacity, Rate headroom,
                           List<ReplicaState> replicaStates, Pricing pricing) {

    /**
     * A priced tier's cost at its current rates.
     *
     * @param pricePerMillionInputTokens  configured ({@code gateway.tiers.<name>.price-per-million-input-tokens}), null if not
     * @param pricePerMillionOutputTokens configured ({@code ...price-per-million-output-tokens}), null if not
     * @param costPerHourNow              what the measured prompt and output token rates cost per hour
     */
    public record Pricing(Double pricePerMillionInputTokens, Double pricePerMillionOutputTokens, double costPerHourNow) {
        static Pricing of(Double in, Double out, double promptTokensPerSecond, double outputTokensPerSecond) {
            if (in == null && out == null) {
                return null;
            }
            double perSecond = (in == null ? 0 : in * promptTokensPerSecond) + (out == null ? 0 : out * outputTokensPerSecond);
            return new Pricing(in, out, perSecond * 3600 / 1e6);
        }
    }

    /**
     * Service rates measured from requests the tier completed.
     *
     * @param serviceTimeSeconds     mean time a completed request held its slot (backend call start to last token)
     * @param promptTokensPerRequest mean prompt tokens of a completed request
     * @param outputTokensPerRequest mean output tokens of a completed request
     * @param tokensPerSecondPerSlot outputTokensPerRequest / serviceTimeSeconds: what one batch slot decodes
     * @param completionsPerSecond   completed requests per second now
     * @param promptTokensPerSecond  prompt tokens per second now
     * @param outputTokensPerSecond  output tokens per second now
     */
    public record Measured(Double serviceTimeSeconds, Double promptTokensPerRequest, Double outputTokensPerRequest,
                           Double tokensPerSecondPerSlot, double completionsPerSecond, double promptTokensPerSecond,
                           double outputTokensPerSecond) {
    }

    /** A rate in requests/s and output tokens/s; null until measured. */
    public record Rate(Double requestsPerSecond, Double tokensPerSecond) {
    }

    /**
     * One replica now.
     *
     * @param circuit          {@code closed}, {@code half_open} or {@code open}
     * @param vllmRunning      vLLM's own running count, null when the backend does not expose it
     * @param vllmWaiting      vLLM's own waiting count
     * @param vllmKvCacheUsage vLLM's KV cache usage, 0..1
     */
    public record ReplicaState(String url, String circuit, int inFlight, int limit, int maxConcurrency, double occupancy,
                               Double vllmRunning, Double vllmWaiting, Double vllmKvCacheUsage) {
        boolean available() {
            return !circuit.equals("open");
        }
    }

    /**
     * Capacity from a tier's state. Slots are the current adaptive limits of the replicas that
     * take calls; a slot completes 1 / serviceTime requests per second.
     */
    static TierCapacity of(String tier, Zone zone, List<ReplicaState> replicas, int queueLength,
                           double serviceNanos, ServiceRates.Snapshot rates, Double pricePerMillionIn,
                           Double pricePerMillionOut) {
        int inFlight = 0;
        int limit = 0;
        int max = 0;
        int available = 0;
        int availableSlots = 0;
        for (ReplicaState r : replicas) {
            inFlight += r.inFlight();
            limit += r.limit();
            max += r.maxConcurrency();
            if (r.available()) {
                available++;
                availableSlots += r.limit();
            }
        }
        Double service = serviceNanos > 0 ? serviceNanos / 1e9 : null;
        Double outPerRequest = finite(rates.outputTokensPerRequest());
        Double perSlot = service != null && outPerRequest != null ? outPerRequest / service : null;
        Double capacityRps = service != null ? availableSlots / service : null;
        Double capacityTps = capacityRps != null && outPerRequest != null ? capacityRps * outPerRequest : null;
        Rate capacity = new Rate(capacityRps, capacityTps);
        Rate headroom = new Rate(capacityRps == null ? null : Math.max(0, capacityRps - rates.completionsPerSecond()),
                capacityTps == null ? null : Math.max(0, capacityTps - rates.outputTokensPerSecond()));
        Double wait = queueLength == 0 ? Double.valueOf(0) : service == null || availableSlots == 0 ? null
                : queueLength * service / availableSlots;
        Measured measured = new Measured(service, finite(rates.promptTokensPerRequest()), outPerRequest, perSlot,
                rates.completionsPerSecond(), rates.promptTokensPerSecond(), rates.outputTokensPerSecond());
        return new TierCapacity(tier, !zone.insideEdgeZone(), zone.wireName(), replicas.size(), available, inFlight, limit, max,
                limit == 0 ? 0 : (double) inFlight / limit, max == 0 ? 0 : (double) inFlight / max, queueLength, wait,
                measured, capacity, headroom, List.copyOf(replicas), Pricing.of(pricePerMillionIn, pricePerMillionOut,
                        rates.promptTokensPerSecond(), rates.outputTokensPerSecond()));
    }

    /** JSON has no NaN: unknown is null. */
    static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
