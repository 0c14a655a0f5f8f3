package dev.offload.gateway.capacity;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CapacityPlannerTest {
    private static final double EPS = 1e-9;
    private final CapacityPlanner planner = new CapacityPlanner();

    private static PlanInputs inputs(long fleet) {
        return new PlanInputs(fleet, 6, 1000, 150, new PlanInputs.Hardware(400, 8000, 4, 2.40),
                0.50, 0.09, 4, 1.00, 0.6);
    }

    /**
     * The example of capacity.md, worked by hand.
     * <pre>
     * fleet 600 devices × 6 queries/h            λ = 600·6/3600           = 1 request/s
     * replica: 400 output tok/s, 8000 prefill tok/s with a batch of 4
     *   S = 4 · (150/400 + 1000/8000) = 4 · (0.375 + 0.125)             = 2 s per request per slot
     * a = λ·S                                                             = 2 Erlangs
     * target occupancy 0.6: n = ceil(2 / (0.6·4)) = ceil(0.833)           = 1 replica, c = 4 slots
     * ρ = 2/4                                                             = 0.5
     * Erlang C(4, 2): a^c/c! · c/(c−a) = (16/24)·(4/2) = 4/3
     *                 Σ_{k<4} a^k/k! = 1 + 2 + 2 + 8/6 = 19/3
     *                 C = (4/3) / (19/3 + 4/3)                            = 4/23 ≈ 0.1739
     * Wq = C / (c/S − λ) = (4/23) / (4/2 − 1)                             = 4/23 s ≈ 0.1739 s
     * p95 wait: C·e^(−1·t) = 0.05 → t = ln((4/23)/0.05) = ln(80/23)       ≈ 1.2465 s
     * tokens/h = 3600 · (1000+150)                                        = 4,140,000
     * edge: 2.40 $/h / 4.14 M tokens                                      ≈ 0.57971 $/M
     * external: 0.50 + 0.09 $/GB · 4 B · 10⁶ / 10⁹                      = 0.50036 $/M
     * device: 1.00 $/M            → cheapest: external
     * devices per replica at ρ 0.6: 0.6·4·3600 / (6·2)                    = 720
     * break-even vs device: ρ = 2.40·10⁶·2 / (3600·4·1150·1.00) = 4.8/16.56 ≈ 0.28986
     *                       N = 2.40·10⁶ / (1.00·6·1150) = 347.83 → 348 devices
     * break-even vs external: N = 2.40·10⁶ / (0.50036·6·1150) = 695.15 → 696 devices
     * </pre>
     */
    @Test
    void matchesTheHandWorkedExample() {
        Plan p = planner.plan(inputs(600));
        assertEquals(1.0, p.arrivalRatePerSecond(), EPS);
        assertEquals(2.0, p.serviceTimeSeconds(), EPS);
        assertEquals(2.0, p.offeredLoad(), EPS);
        assertEquals(1, p.replicasNeeded());
        assertEquals(4, p.slots());
        assertEquals(0.5, p.occupancy(), EPS);
        assertEquals(4.0 / 23, p.probabilityOfWaiting(), EPS);
        assertEquals(4.0 / 23, p.expectedQueueWaitSeconds(), EPS);
        assertEquals(Math.log(80.0 / 23), p.queueWaitP95Seconds(), EPS);
        assertEquals(2.0 + 4.0 / 23, p.expectedLatencySeconds(), EPS);
        assertEquals(1000.0, p.promptTokensPerSecond(), EPS);
        assertEquals(150.0, p.outputTokensPerSecond(), EPS);
        assertEquals(2.40, p.costs().edgePerHour(), EPS);
        assertEquals(2.40 / 4.14, p.costs().edgePerMillionTokens(), EPS);
        assertEquals(0.50036, p.costs().externalPerMillionTokens(), EPS);
        assertEquals(0.50036 * 4.14, p.costs().externalPerHour(), EPS);
        assertEquals(1.00, p.costs().devicePerMillionTokens(), EPS);
        assertEquals("external", p.costs().cheapest());
        assertEquals(720.0, p.breakEven().devicesPerReplica(), EPS);
        assertEquals(4.8 / 16.56, p.breakEven().occupancyVsDevice(), EPS);
        assertEquals(348L, p.breakEven().fleetSizeVsDevice());
        assertEquals(696L, p.breakEven().fleetSizeVsExternal());
    }

    /**
     * Twice the fleet needs a second replica.
     * <pre>
     * λ = 1200·6/3600 = 2/s, a = 4; n = ceil(4 / 2.4) = ceil(1.667) = 2, c = 8, ρ = 0.5
     * Erlang C(8, 4): Σ_{k<8} 4^k/k! = 1 + 4 + 8 + 10.6667 + 10.6667 + 8.5333 + 5.6889 + 3.2508 = 51.8063
     *                 4^8/8! · 8/4 = 1.6254 · 2 = 3.2508;  C = 3.2508 / 55.0571 ≈ 0.05904
     * Wq = C / (8/2 − 2) = 0.02952 s; p95: C·e^(−2t) = 0.05 → t = ln(0.05904/0.05)/2 = ln(1.1808)/2 ≈ 0.0831 s
     * edge: 4.80 $/h over 8.28 M tokens/h ≈ 0.57971 $/M (same occupancy, same price per token)
     * </pre>
     */
    @Test
    void matchesTheSecondHandWorkedExampleWithTwoReplicas() {
        Plan p = planner.plan(inputs(1200));
        assertEquals(4.0, p.offeredLoad(), EPS);
        assertEquals(2, p.replicasNeeded());
        assertEquals(8, p.slots());
        assertEquals(0.5, p.occupancy(), EPS);
        assertEquals(0.05904, p.probabilityOfWaiting(), 5e-5);
        assertEquals(0.02952, p.expectedQueueWaitSeconds(), 5e-5);
        assertEquals(0.0831, p.queueWaitP95Seconds(), 5e-4);
        assertEquals(4.80, p.costs().edgePerHour(), EPS);
        assertEquals(2.40 / 4.14, p.costs().edgePerMillionTokens(), EPS);
    }

    @Test
    void erlangCMatchesTheTextbookValues() {
        // C(1, a) = a (M/M/1: the chance to wait is the utilisation); C(2, 1) = 1/3.
        assertEquals(0.7, CapacityPlanner.erlangC(1, 0.7), EPS);
        assertEquals(1.0 / 3, CapacityPlanner.erlangC(2, 1.0), EPS);
        assertEquals(0.0, CapacityPlanner.erlangC(3, 0.0), EPS);
        assertThrows(IllegalArgumentException.class, () -> CapacityPlanner.erlangC(4, 4.0));
    }

    @Test
    void erlangCRecurrenceAgreesWithTheFactorialFormula() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int i = 0; i < 500; i++) {
            int c = 1 + random.nextInt(40);
            double a = random.nextDouble() * c * 0.999;
            double expected = factorialErlangC(c, a);
            double got = CapacityPlanner.erlangC(c, a);
            assertEquals(expected, got, 1e-9 * Math.max(1, expected), "seed " + seed + ": C(" + c + ", " + a + ")");
            if (c > 1) {
                assertTrue(CapacityPlanner.erlangC(c, a) <= CapacityPlanner.erlangC(c - 1, Math.min(a, c - 1.001)) + 1e-12
                        || a > c - 1.001, "seed " + seed + ": one more server never raises the chance to wait");
            }
        }
        // Large pools stay finite where factorials would overflow.
        double big = CapacityPlanner.erlangC(100_000, 99_000);
        assertTrue(big > 0 && big < 1, "C(100000, 99000) = " + big);
    }

    private static double factorialErlangC(int c, double a) {
        double sum = 0;
        double term = 1; // a^k / k!
        for (int k = 0; k < c; k++) {
            sum += term;
            term = term * a / (k + 1);
        }
        double top = term * c / (c - a); // a^c/c! · c/(c−a)
        return top / (sum + top);
    }

    @Test
    void replicasNeededIsTheFewestThatMeetTheTargetOccupancy() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int i = 0; i < 300; i++) {
            double target = 0.3 + random.nextDouble() * 0.65;
            int batch = 1 + random.nextInt(64);
            PlanInputs in = new PlanInputs(1 + random.nextInt(50_000), 0.5 + random.nextDouble() * 20,
                    random.nextInt(4000), 1 + random.nextInt(1000),
                    new PlanInputs.Hardware(100 + random.nextDouble() * 5000, random.nextBoolean() ? 0 : 20_000, batch, 3),
                    1, 0.1, 4, 2, target);
            Plan p = planner.plan(in);
            String at = "seed " + seed + ", case " + i;
            assertTrue(p.occupancy() <= target + 1e-9, at + ": occupancy " + p.occupancy() + " over " + target);
            if (p.replicasNeeded() > 1) {
                double oneFewer = p.offeredLoad() / ((p.replicasNeeded() - 1) * batch);
                assertTrue(oneFewer > target - 1e-9, at + ": one replica fewer would also do");
            }
            assertTrue(p.expectedQueueWaitSeconds() >= 0 && p.probabilityOfWaiting() < 1, at);
        }
    }

    @Test
    void prefillIsLeftOutWhenNoPrefillRateIsGiven() {
        PlanInputs in = new PlanInputs(600, 6, 1000, 150, new PlanInputs.Hardware(400, 0, 4, 2.40), 0.5, 0.09, 4, 1, 0.6);
        assertEquals(4 * 150 / 400.0, planner.plan(in).serviceTimeSeconds(), EPS);
    }

    @Test
    void anEdgeThatNeverGetsCheapEnoughHasNoBreakEven() {
        // 400 $/h per replica: break-even occupancy vs device 0.28986·(400/2.40) ≫ 0.6.
        PlanInputs in = new PlanInputs(600, 6, 1000, 150, new PlanInputs.Hardware(400, 8000, 4, 400), 0.5, 0.09, 4, 1, 0.6);
        Plan p = planner.plan(in);
        assertNull(p.breakEven().occupancyVsDevice());
        assertNull(p.breakEven().fleetSizeVsDevice());
        assertEquals("external", p.costs().cheapest());
        PlanInputs free = new PlanInputs(600, 6, 1000, 150, new PlanInputs.Hardware(400, 8000, 4, 2.4), 0.5, 0.09, 4, 0, 0.6);
        assertNull(planner.plan(free).breakEven().fleetSizeVsDevice(), "a free device is never undercut");
        assertEquals("device", planner.plan(free).costs().cheapest());
    }

    @Test
    void badInputsAreRejectedAllAtOnceWithTheirJsonPaths() {
        PlanRequest bad = new PlanRequest(0L, -1.0, null, 0,
                new PlanRequest.Hardware(0.0, -5.0, 0, Double.NaN, null), -0.1, null, 0.0, -2.0, 1.0);
        InvalidPlanException e = assertThrows(InvalidPlanException.class, () -> PlanInputs.from(bad));
        Set<String> fields = e.violations().stream().map(InvalidPlanException.Violation::field).collect(Collectors.toSet());
        assertEquals(Set.of("fleetSize", "queriesPerDevicePerHour", "promptTokens", "outputTokens", "hardware.tokensPerSecond",
                "hardware.prefillTokensPerSecond", "hardware.maxConcurrency", "hardware.pricePerHour",
                "externalPricePerMillionTokens", "egressPricePerGb", "egressBytesPerToken", "deviceCostPerMillionTokens",
                "targetOccupancy"), fields);
        assertThrows(InvalidPlanException.class, () -> new PlanInputs(10, 6, 100, 10,
                new PlanInputs.Hardware(400, 0, 4, 1), 1, 0, 4, 1, 0), "records reject bad values too");
        InvalidPlanException missing = assertThrows(InvalidPlanException.class, () -> PlanInputs.from(
                new PlanRequest(10L, 6.0, 100, 10, null, 1.0, 0.0, null, 1.0, null)));
        assertEquals(List.of("hardware"), missing.violations().stream().map(InvalidPlanException.Violation::field).toList());
    }

    @Test
    void defaultsApplyToOptionalFields() {
        PlanInputs in = PlanInputs.from(new PlanRequest(600L, 6.0, 1000, 150,
                new PlanRequest.Hardware(400.0, null, 4, 2.4, null), 0.5, 0.09, null, 1.0, null));
        assertEquals(0.75, in.targetOccupancy(), EPS);
        assertEquals(4.0, in.egressBytesPerToken(), EPS);
        assertEquals(0.0, in.hardware().prefillTokensPerSecond(), EPS);
    }

    @Test
    void aFleetBeyondTheModelsRangeIsRejectedNotComputedForever() {
        PlanInputs in = new PlanInputs(1_000_000_000L, 3600, 1000, 1000, new PlanInputs.Hardware(1, 0, 1, 1), 1, 0, 4, 1, 0.5);
        InvalidPlanException e = assertThrows(InvalidPlanException.class, () -> planner.plan(in));
        assertEquals("fleetSize", e.violations().get(0).field());
    }
}
