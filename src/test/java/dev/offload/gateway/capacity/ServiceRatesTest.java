package dev.offload.gateway.capacity;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServiceRatesTest {
    private static final long S = 1_000_000_000L;

    @Test
    void steadyTrafficConvergesToItsRates() {
        ServiceRates r = new ServiceRates(5 * S);
        // 4 completions/s, 100 prompt and 20 output tokens each, sampled every second for a minute.
        for (int t = 0; t <= 60; t++) {
            r.observe(t * S, 4.0 * t, 400.0 * t, 80.0 * t);
        }
        ServiceRates.Snapshot s = r.snapshot();
        assertEquals(4.0, s.completionsPerSecond(), 0.01);
        assertEquals(400.0, s.promptTokensPerSecond(), 1);
        assertEquals(80.0, s.outputTokensPerSecond(), 0.2);
        assertEquals(100.0, s.promptTokensPerRequest(), 1e-9);
        assertEquals(20.0, s.outputTokensPerRequest(), 1e-9);
    }

    @Test
    void aRateHalvesEveryHalfLifeOnceTrafficStops() {
        ServiceRates r = new ServiceRates(10 * S);
        r.observe(0, 0, 0, 0);
        r.observe(1000 * S, 2000, 0, 4000); // a long sample: the rate is fully 2/s
        assertEquals(2.0, r.snapshot().completionsPerSecond(), 1e-9);
        r.observe(1010 * S, 2000, 0, 4000); // ten quiet seconds = one half-life
        assertEquals(1.0, r.snapshot().completionsPerSecond(), 1e-9);
        r.observe(1020 * S, 2000, 0, 4000);
        assertEquals(0.5, r.snapshot().completionsPerSecond(), 1e-9);
        assertEquals(2.0, r.snapshot().outputTokensPerRequest(), 1e-9, "the shape of requests survives quiet periods");
    }

    @Test
    void perRequestAveragesWeighEachCompletionATenth() {
        ServiceRates r = new ServiceRates(S);
        r.observe(0, 0, 0, 0);
        r.observe(S, 1, 0, 100);
        assertEquals(100.0, r.snapshot().outputTokensPerRequest(), 1e-9);
        r.observe(2 * S, 2, 0, 300); // one request of 200: 100 + 0.1·(200 − 100)
        assertEquals(110.0, r.snapshot().outputTokensPerRequest(), 1e-9);
        r.observe(3 * S, 4, 0, 300 + 2 * 50); // two of 50: weight 1 − 0.9² = 0.19
        assertEquals(110.0 + 0.19 * (50 - 110), r.snapshot().outputTokensPerRequest(), 1e-9);
    }

    @Test
    void nothingIsMeasuredBeforeTheSecondSampleAndAResetCounterRestartsTheBaseline() {
        ServiceRates r = new ServiceRates(S);
        r.observe(0, 50, 500, 500);
        assertEquals(0.0, r.snapshot().completionsPerSecond());
        assertTrue(Double.isNaN(r.snapshot().outputTokensPerRequest()));
        r.observe(S, 10, 100, 100); // went down: new baseline, no negative rate
        assertEquals(0.0, r.snapshot().completionsPerSecond());
        r.observe(2 * S, 12, 120, 140);
        assertTrue(r.snapshot().completionsPerSecond() > 0);
        assertEquals(20.0, r.snapshot().outputTokensPerRequest(), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> new ServiceRates(0));
    }

    @Test
    void tierCapacityComesFromAvailableSlotsAndMeasuredServiceTime() {
        List<TierCapacity.ReplicaState> replicas = List.of(
                new TierCapacity.ReplicaState("http://a/v1", "closed", 3, 4, 8, 0.75, null, null, null),
                new TierCapacity.ReplicaState("http://b/v1", "open", 0, 2, 8, 0, null, null, null));
        // 2 s per request, 40 output tokens per request, 1 completion/s now.
        ServiceRates.Snapshot s = new ServiceRates.Snapshot(1.0, 50, 40, 50, 40);
        TierCapacity c = TierCapacity.of("edge", dev.offload.gateway.privacy.Zone.EDGE, replicas, 6, 2e9, s, null, null);
        assertEquals(2, c.replicas());
        assertEquals(1, c.replicasAvailable());
        assertEquals(3, c.inFlight());
        assertEquals(6, c.limit());
        assertEquals(0.5, c.occupancy(), 1e-9);
        assertEquals(3.0 / 16, c.batchOccupancy(), 1e-9);
        assertEquals(20.0, c.measured().tokensPerSecondPerSlot(), 1e-9);
        assertEquals(2.0, c.capacity().requestsPerSecond(), 1e-9, "4 available slots / 2 s");
        assertEquals(80.0, c.capacity().tokensPerSecond(), 1e-9);
        assertEquals(1.0, c.headroom().requestsPerSecond(), 1e-9);
        assertEquals(40.0, c.headroom().tokensPerSecond(), 1e-9);
        assertEquals(3.0, c.estimatedQueueWaitSeconds(), 1e-9, "6 queued · 2 s / 4 slots");
    }

    @Test
    void anUnmeasuredTierReportsUnknownNotZero() {
        List<TierCapacity.ReplicaState> replicas = List.of(
                new TierCapacity.ReplicaState("http://a/v1", "closed", 0, 4, 8, 0, null, null, null));
        TierCapacity c = TierCapacity.of("cloud", dev.offload.gateway.privacy.Zone.REGIONAL, replicas, 0, 0, ServiceRates.Snapshot.EMPTY, 0.5, 1.5);
        assertNull(c.capacity().requestsPerSecond());
        assertNull(c.headroom().tokensPerSecond());
        assertNull(c.measured().serviceTimeSeconds());
        assertEquals(0.0, c.estimatedQueueWaitSeconds());
        assertEquals("regional", c.zone());
        assertTrue(c.external());
        assertEquals(0.0, c.pricing().costPerHourNow(), "nothing served, nothing spent");
    }

    @Test
    void aPricedTierCostsWhatItsMeasuredTokenRatesCost() {
        TierCapacity.Pricing p = TierCapacity.Pricing.of(0.5, 1.5, 1000, 200);
        // (1000 × 0.5 + 200 × 1.5) $ per million tokens per second × 3600 s
        assertEquals((1000 * 0.5 + 200 * 1.5) * 3600 / 1e6, p.costPerHourNow(), 1e-12);
        assertNull(TierCapacity.Pricing.of(null, null, 1000, 200), "a tier without prices has no cost line");
    }
}
