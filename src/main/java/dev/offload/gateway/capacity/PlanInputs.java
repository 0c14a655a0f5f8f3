package dev.offload.gateway.capacity;

/**
 * A validated capacity question: every field present and in range (see {@link PlanRequest} for
 * what each one means). Construction rejects bad values at once, listing all of them.
 */
public record PlanInputs(long fleetSize, double queriesPerDevicePerHour, int promptTokens, int outputTokens,
                         Hardware hardware, double externalPricePerMillionTokens, double egressPricePerGb,
                         double egressBytesPerToken, double deviceCostPerMillionTokens, double targetOccupancy) {

    /** One edge replica; {@code prefillTokensPerSecond} 0 means prefill is not modelled separately. */
    public record Hardware(double tokensPerSecond, double prefillTokensPerSecond, int maxConcurrency, double pricePerHour) {
    }

    public PlanInputs {
        InvalidPlanException.throwIfAny(asRequest(fleetSize, queriesPerDevicePerHour, promptTokens, outputTokens, hardware,
                externalPricePerMillionTokens, egressPricePerGb, egressBytesPerToken, deviceCostPerMillionTokens,
                targetOccupancy).violations());
    }

    /** Validates a client's request, fills the defaults, and returns the inputs; all problems at once otherwise. */
    public static PlanInputs from(PlanRequest r) {
        if (r == null) {
            throw new InvalidPlanException(java.util.List.of(new InvalidPlanException.Violation("", "a JSON object is required")));
        }
        InvalidPlanException.throwIfAny(r.violations());
        PlanRequest.Hardware h = r.hardware();
        return new PlanInputs(r.fleetSize(), r.queriesPerDevicePerHour(), r.promptTokens(), r.outputTokens(),
                new Hardware(h.tokensPerSecond(), h.prefillTokensPerSecond() == null ? 0 : h.prefillTokensPerSecond(),
                        h.maxConcurrency(), h.pricePerHour()),
                r.externalPricePerMillionTokens(), r.egressPricePerGb(),
                r.egressBytesPerToken() == null ? PlanRequest.DEFAULT_EGRESS_BYTES_PER_TOKEN : r.egressBytesPerToken(),
                r.deviceCostPerMillionTokens(),
                r.targetOccupancy() == null ? PlanRequest.DEFAULT_TARGET_OCCUPANCY : r.targetOccupancy());
    }

    private static PlanRequest asRequest(long fleetSize, double queriesPerDevicePerHour, int promptTokens, int outputTokens,
                                         Hardware hardware, double externalPricePerMillionTokens, double egressPricePerGb,
                                         double egressBytesPerToken, double deviceCostPerMillionTokens, double targetOccupancy) {
        PlanRequest.Hardware h = hardware == null ? null : new PlanRequest.Hardware(hardware.tokensPerSecond(),
                hardware.prefillTokensPerSecond(), hardware.maxConcurrency(), hardware.pricePerHour(), null);
        return new PlanRequest(fleetSize, queriesPerDevicePerHour, promptTokens, outputTokens, h,
                externalPricePerMillionTokens, egressPricePerGb, egressBytesPerToken, deviceCostPerMillionTokens,
                targetOccupancy);
    }
}
