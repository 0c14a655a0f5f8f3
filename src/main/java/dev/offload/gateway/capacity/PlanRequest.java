package dev.offload.gateway.capacity;

import dev.offload.gateway.capacity.InvalidPlanException.Violation;

import java.util.ArrayList;
import java.util.List;

/**
 * The body of {@code POST /v1/capacity/plan} as a client sends it: every field may be missing.
 * {@link PlanInputs#from(PlanRequest)} applies the defaults and rejects it with every problem at
 * once; the rules live in {@link #violations()}, which {@link PlanInputs} also uses, so there is
 * one set of them.
 *
 * @param fleetSize                    devices that send queries
 * @param queriesPerDevicePerHour      generation requests one device sends per hour
 * @param promptTokens                 tokens per request going in (prompt plus retrieved context)
 * @param outputTokens                 tokens per request coming out
 * @param hardware                     one edge replica (a GPU serving one model)
 * @param externalPricePerMillionTokens what the external (cloud) tier charges per million tokens, prompt and output together
 * @param egressPricePerGb             what a gigabyte sent to and from the external tier costs
 * @param egressBytesPerToken          bytes on the wire per token sent to the external tier (default 4)
 * @param deviceCostPerMillionTokens   what a million tokens cost when the device runs its own model
 *                                     (energy, battery wear, the work the device could not do meanwhile)
 * @param targetOccupancy              share of the batch slots the edge pool should be busy on average (default 0.75)
 */
public record PlanRequest(Long fleetSize, Double queriesPerDevicePerHour, Integer promptTokens, Integer outputTokens,
                          Hardware hardware, Double externalPricePerMillionTokens, Double egressPricePerGb,
                          Double egressBytesPerToken, Double deviceCostPerMillionTokens, Double targetOccupancy) {
    static final double DEFAULT_EGRESS_BYTES_PER_TOKEN = 4.0;
    static final double DEFAULT_TARGET_OCCUPANCY = 0.75;
    /** Beyond this the Erlang C recurrence would take too long to answer a request: not a fleet one gateway plans for. */
    static final long MAX_SLOTS = 10_000_000L;

    /**
     * One edge replica.
     *
     * @param tokensPerSecond        output tokens per second the replica produces with its batch full
     *                               (sum over the batch); or leave it out and name {@code measuredTier}
     * @param prefillTokensPerSecond prompt tokens per second the replica prefills with its batch full;
     *                               0 or absent: prefill is not modelled separately (it is then
     *                               assumed to be folded into {@code tokensPerSecond}, as it is when measured)
     * @param maxConcurrency         the batch size (vLLM {@code --max-num-seqs})
     * @param pricePerHour           what one replica costs per hour, all in
     * @param measuredTier           take {@code tokensPerSecond} (and, if absent, {@code maxConcurrency})
     *                               from what the gateway measured on this tier ({@code GET /v1/capacity})
     */
    public record Hardware(Double tokensPerSecond, Double prefillTokensPerSecond, Integer maxConcurrency,
                           Double pricePerHour, String measuredTier) {
    }

    /** Every problem with this request, as JSON paths; empty when it can be planned. */
    public List<Violation> violations() {
        List<Violation> v = new ArrayList<>();
        count(v, "fleetSize", fleetSize, 1, 1_000_000_000L);
        positive(v, "queriesPerDevicePerHour", queriesPerDevicePerHour, 3_600_000);
        count(v, "promptTokens", promptTokens == null ? null : promptTokens.longValue(), 0, 10_000_000);
        count(v, "outputTokens", outputTokens == null ? null : outputTokens.longValue(), 1, 10_000_000);
        if (hardware == null) {
            v.add(new Violation("hardware", "is required"));
        } else {
            positive(v, "hardware.tokensPerSecond", hardware.tokensPerSecond(), 1e9);
            if (hardware.prefillTokensPerSecond() != null) {
                nonNegative(v, "hardware.prefillTokensPerSecond", hardware.prefillTokensPerSecond());
            }
            count(v, "hardware.maxConcurrency", hardware.maxConcurrency() == null ? null
                    : hardware.maxConcurrency().longValue(), 1, 65_536);
            nonNegative(v, "hardware.pricePerHour", hardware.pricePerHour());
        }
        nonNegative(v, "externalPricePerMillionTokens", externalPricePerMillionTokens);
        nonNegative(v, "egressPricePerGb", egressPricePerGb);
        if (egressBytesPerToken != null) {
            positive(v, "egressBytesPerToken", egressBytesPerToken, 1e6);
        }
        nonNegative(v, "deviceCostPerMillionTokens", deviceCostPerMillionTokens);
        if (targetOccupancy != null && !(targetOccupancy > 0 && targetOccupancy < 1)) {
            v.add(new Violation("targetOccupancy", "must be above 0 and below 1 (a queue at occupancy 1 grows without bound)"));
        }
        return v;
    }

    private static void count(List<Violation> v, String field, Long value, long min, long max) {
        if (value == null) {
            v.add(new Violation(field, "is required"));
        } else if (value < min || value > max) {
            v.add(new Violation(field, "must be between " + min + " and " + max));
        }
    }

    private static void positive(List<Violation> v, String field, Double value, double max) {
        if (value == null) {
            v.add(new Violation(field, "is required"));
        } else if (!Double.isFinite(value) || value <= 0 || value > max) {
            v.add(new Violation(field, "must be above 0 and at most " + max));
        }
    }

    private static void nonNegative(List<Violation> v, String field, Double value) {
        if (value == null) {
            v.add(new Violation(field, "is required"));
        } else if (!Double.isFinite(value) || value < 0) {
            v.add(new Violation(field, "must be a number of at least 0"));
        }
    }
}
