package dev.offload.gateway.capacity;

import java.util.List;

/**
 * What-if model of an edge pool: from fleet, traffic and hardware to replicas, queue wait and
 * cost. Plain Java, no state; any thread.
 *
 * <p>The model: the gateway keeps at most {@code maxConcurrency} requests in flight per replica
 * (the batch size) and queues the rest in its own admission queue. Each batch slot is therefore
 * one server of an M/M/c queue (Poisson arrivals from a large fleet of independent devices,
 * exponential service times as an approximation), with {@code c = replicas · maxConcurrency}
 * servers. A slot of a full batch decodes at {@code tokensPerSecond / maxConcurrency}, so one
 * request holds its slot for {@code S = maxConcurrency · (outputTokens / tokensPerSecond +
 * promptTokens / prefillTokensPerSecond)}; with a batch that is not full each sequence runs
 * faster, so S is the pessimistic end. The wait follows Erlang's C formula (Kleinrock,
 * <i>Queueing Systems</i> Vol. 1, 1975, §3.5), computed through the Erlang B recurrence, which
 * stays finite for millions of servers where factorials overflow.
 */
public final class CapacityPlanner {
    /** Share of requests that may wait longer than the reported percentile. */
    private static final double P95_TAIL = 0.05;

    public Plan plan(PlanInputs in) {
        PlanInputs.Hardware hw = in.hardware();
        int b = hw.maxConcurrency();
        double lambda = in.fleetSize() * in.queriesPerDevicePerHour() / 3600.0;
        double serviceSeconds = b * (in.outputTokens() / hw.tokensPerSecond()
                + (hw.prefillTokensPerSecond() > 0 ? in.promptTokens() / hw.prefillTokensPerSecond() : 0));
        double offered = lambda * serviceSeconds;
        long replicas = Math.max(1, ceil(offered / (in.targetOccupancy() * b)));
        long slots = replicas * b;
        if (slots > PlanRequest.MAX_SLOTS) {
            throw new InvalidPlanException(List.of(new InvalidPlanException.Violation("fleetSize",
                    "needs " + replicas + " replicas (" + slots + " batch slots), more than this model plans for ("
                            + PlanRequest.MAX_SLOTS + " slots)")));
        }
        double occupancy = offered / slots;
        double pWait = erlangC(slots, offered);
        // Waiting time in M/M/c: P(Wq > t) = C · exp(-(c·μ − λ)·t), with μ = 1/S.
        double drain = (slots - offered) / serviceSeconds;
        double meanWait = pWait / drain;
        double p95Wait = pWait <= P95_TAIL ? 0 : Math.log(pWait / P95_TAIL) / drain;

        int tokensPerRequest = in.promptTokens() + in.outputTokens();
        double tokensPerHour = lambda * 3600 * tokensPerRequest;
        double edgePerHour = replicas * hw.pricePerHour();
        double edgePerMillion = edgePerHour * 1e6 / tokensPerHour;
        // Egress: every token sent to or received from the external tier crosses the site's uplink.
        double externalPerMillion = in.externalPricePerMillionTokens()
                + in.egressPricePerGb() * in.egressBytesPerToken() * 1e6 / 1e9;
        double externalPerHour = externalPerMillion * tokensPerHour / 1e6;
        double device = in.deviceCostPerMillionTokens();
        String cheapest = edgePerMillion <= externalPerMillion && edgePerMillion <= device ? "edge"
                : externalPerMillion <= device ? "external" : "device";

        double devicesPerReplica = in.targetOccupancy() * b * 3600 / (in.queriesPerDevicePerHour() * serviceSeconds);
        Double occVsDevice = breakEvenOccupancy(in, serviceSeconds, device);
        Double occVsExternal = breakEvenOccupancy(in, serviceSeconds, externalPerMillion);
        Plan.BreakEven breakEven = new Plan.BreakEven(devicesPerReplica, occVsDevice,
                breakEvenFleet(in, occVsDevice, device), occVsExternal, breakEvenFleet(in, occVsExternal, externalPerMillion));
        return new Plan(in, lambda, serviceSeconds, offered, replicas, slots, occupancy, pWait, meanWait, p95Wait,
                meanWait + serviceSeconds, lambda * in.promptTokens(), lambda * in.outputTokens(),
                new Plan.Costs(edgePerHour, edgePerMillion, externalPerMillion, externalPerHour, device, cheapest), breakEven);
    }

    /**
     * Occupancy at which one replica's price per hour, spread over the tokens it serves, equals
     * {@code alternativePerMillion}: price · 10⁶ · S / (3600 · b · tokensPerRequest · K). Null when
     * that occupancy is above the target (or the alternative is free): the edge never gets there.
     */
    private static Double breakEvenOccupancy(PlanInputs in, double serviceSeconds, double alternativePerMillion) {
        if (alternativePerMillion <= 0) {
            return null;
        }
        PlanInputs.Hardware hw = in.hardware();
        double occ = hw.pricePerHour() * 1e6 * serviceSeconds
                / (3600.0 * hw.maxConcurrency() * (in.promptTokens() + in.outputTokens()) * alternativePerMillion);
        return occ <= in.targetOccupancy() ? occ : null;
    }

    /**
     * The smallest fleet whose load brings one replica to the break-even occupancy:
     * N = price · 10⁶ / (K · queriesPerDevicePerHour · tokensPerRequest). The occupancy does
     * not depend on the replica count, so the first crossing is always on one replica.
     */
    private static Long breakEvenFleet(PlanInputs in, Double occupancy, double alternativePerMillion) {
        if (occupancy == null) {
            return null;
        }
        double n = in.hardware().pricePerHour() * 1e6
                / (alternativePerMillion * in.queriesPerDevicePerHour() * (in.promptTokens() + in.outputTokens()));
        return Math.max(1, ceil(n));
    }

    /** ceil that does not turn 2.0000000000000004 (rounding noise) into 3. */
    private static long ceil(double x) {
        return (long) Math.ceil(x - 1e-9);
    }

    /**
     * Erlang C: the probability that an arrival finds all {@code servers} busy, for offered load
     * {@code a = λ/μ} Erlangs, {@code a < servers}. Erlang B by recurrence,
     * B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)); then C = c·B / (c − a·(1 − B)).
     */
    static double erlangC(long servers, double offeredLoad) {
        if (servers < 1 || !(offeredLoad >= 0) || offeredLoad >= servers) {
            throw new IllegalArgumentException("need 0 <= load < servers, got load " + offeredLoad + " on " + servers);
        }
        if (offeredLoad == 0) {
            return 0;
        }
        double b = 1;
        for (long k = 1; k <= servers; k++) {
            b = offeredLoad * b / (k + offeredLoad * b);
        }
        return servers * b / (servers - offeredLoad * (1 - b));
    }
}
