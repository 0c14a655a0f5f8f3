package dev.offload.gateway.capacity;

/**
 * The answer of {@link CapacityPlanner}: how many replicas, how long requests wait, what a
 * million tokens cost on each path, and where the edge pool breaks even. Formulas:
 * {@code src/site/markdown/capacity.md}.
 *
 * @param inputs                   the inputs the plan was made from (measured values filled in)
 * @param arrivalRatePerSecond     λ: requests per second from the whole fleet
 * @param serviceTimeSeconds       S: how long one request holds one batch slot when the batch is full
 * @param offeredLoad              a = λ·S: batch slots busy on average (Erlangs)
 * @param replicasNeeded           n: the fewest replicas that keep occupancy at or below the target
 * @param slots                    c = n · maxConcurrency: servers of the M/M/c queue
 * @param occupancy                ρ = a / c
 * @param probabilityOfWaiting     Erlang C: share of requests that find every slot busy and queue
 * @param expectedQueueWaitSeconds mean wait in the gateway's admission queue, over all requests
 * @param queueWaitP95Seconds      95th percentile of that wait
 * @param expectedLatencySeconds   mean wait plus service time (the whole answer, last token)
 * @param promptTokensPerSecond    prompt tokens per second the fleet sends
 * @param outputTokensPerSecond    output tokens per second the fleet receives
 * @param costs                    what the fleet's tokens cost on each path
 * @param breakEven                where the edge pool becomes the cheaper path
 */
public record Plan(PlanInputs inputs, double arrivalRatePerSecond, double serviceTimeSeconds, double offeredLoad,
                   long replicasNeeded, long slots, double occupancy, double probabilityOfWaiting,
                   double expectedQueueWaitSeconds, double queueWaitP95Seconds, double expectedLatencySeconds,
                   double promptTokensPerSecond, double outputTokensPerSecond, Costs costs, BreakEven breakEven) {

    /**
     * Money per million tokens (prompt and output together) and per hour.
     *
     * @param edgePerHour              n · pricePerHour
     * @param edgePerMillionTokens     edge cost per hour over the fleet's tokens per hour
     * @param externalPerMillionTokens the external tier's price plus its egress
     * @param externalPerHour          what sending every request to the external tier costs per hour
     * @param devicePerMillionTokens   the configured on-device cost
     * @param cheapest                 {@code edge}, {@code external} or {@code device}
     */
    public record Costs(double edgePerHour, double edgePerMillionTokens, double externalPerMillionTokens,
                        double externalPerHour, double devicePerMillionTokens, String cheapest) {
    }

    /**
     * Where the edge pool costs as much per token as the alternative. Null where it never does
     * at or below the target occupancy.
     *
     * @param devicesPerReplica       devices one replica serves at the target occupancy
     * @param occupancyVsDevice       occupancy at which the edge costs what on-device execution costs
     * @param fleetSizeVsDevice       the smallest fleet at which the edge is no dearer than on-device execution
     * @param occupancyVsExternal     the same against the external tier
     * @param fleetSizeVsExternal     the same against the external tier
     */
    public record BreakEven(double devicesPerReplica, Double occupancyVsDevice, Long fleetSizeVsDevice,
                            Double occupancyVsExternal, Long fleetSizeVsExternal) {
    }
}
