package dev.offload.gateway.bench.fleet;

import dev.offload.gateway.bench.fleet.GatewayClient.Hint;
import dev.offload.gateway.bench.fleet.SimulatedDevice.Conditions;
import dev.offload.gateway.bench.fleet.SimulatedDevice.LocalRun;
import dev.offload.gateway.bench.fleet.SimulatedDevice.Plan;
import dev.offload.gateway.bench.fleet.SimulatedDevice.Step;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device protocol and the local model, without I/O: time is passed in. */
class SimulatedDeviceTest {
    private static final Scenario WIFI_THEN_OFFLINE = Scenario.parse("wifi:100,offline:100", "");

    private static SimulatedDevice device() {
        return new SimulatedDevice(1, 99, 0, 0, 20, 200);
    }

    private static Hint hint(String target, long validForMs, Long retryAfterMs) {
        return new Hint(target, validForMs, retryAfterMs, List.of("TEST"));
    }

    private static final String KEY = SimulatedDevice.hintKey(QuestionPool.Kind.SHORT, "internal");

    private static Plan plan(SimulatedDevice d, Policy p, double s) {
        Conditions c = d.conditions(WIFI_THEN_OFFLINE, s);
        return d.plan(p, c, s, KEY, false);
    }

    @Test
    void withoutAHintTheDeviceAsksDecideThenReusesTheHintUntilItExpires() {
        SimulatedDevice d = device();
        assertEquals(Step.DECIDE, plan(d, Policy.HINTS, 10).step());
        d.onHint(hint("EDGE", 5_000, null), 10, KEY);
        Plan held = plan(d, Policy.HINTS, 14.9);
        assertEquals(Step.QUERY, held.step());
        assertEquals("unless-local", held.generate());
        assertEquals("held", held.hintSource());
        assertEquals(Step.DECIDE, plan(d, Policy.HINTS, 15.1).step(), "an expired hint is asked for again");
    }

    @Test
    void aWatchedLocalDecisionProbesTheCacheWhenThePackageSaysSo() {
        SimulatedDevice d = device();
        Conditions c = d.conditions(WIFI_THEN_OFFLINE, 1);
        Hint local = hint("LOCAL", 30_000, null);
        Plan probe = d.planWatched(c, 1, false, () -> java.util.Optional.of(new WatchStream.Decision(local, true)));
        assertEquals(Step.QUERY, probe.step());
        assertEquals("cache-only", probe.generate());
        assertEquals("watched", probe.hintSource());
        Plan plain = d.planWatched(c, 1, false, () -> java.util.Optional.of(new WatchStream.Decision(local, false)));
        assertEquals(Step.LOCAL, plain.step());
        Plan edge = d.planWatched(c, 1, false, () -> java.util.Optional.of(new WatchStream.Decision(hint("EDGE", 30_000, null), false)));
        assertEquals(Step.QUERY, edge.step());
        assertEquals("unless-local", edge.generate());
        assertEquals(Step.DECIDE, d.planWatched(c, 1, false, java.util.Optional::empty).step(), "no snapshot: ask decide");
        // The hard rules come first: restricted and offline never reach the advisor.
        assertEquals("restricted", d.planWatched(c, 1, true, () -> {
            throw new AssertionError("restricted data is not decided");
        }).why());
        Conditions offline = d.conditions(WIFI_THEN_OFFLINE, 150);
        assertEquals("offline", d.planWatched(offline, 150, false, () -> {
            throw new AssertionError("an offline device does not decide");
        }).why());
    }

    @Test
    void aHintIsReusedOnlyForTheSameKindOfQueryAndRestrictedDataNeverAsks() {
        SimulatedDevice d = device();
        d.onHint(hint("LOCAL", 30_000, null), 0, KEY);
        String longPublic = SimulatedDevice.hintKey(QuestionPool.Kind.LONG, "public");
        Conditions c = d.conditions(WIFI_THEN_OFFLINE, 1);
        assertEquals(Step.DECIDE, d.plan(Policy.HINTS, c, 1, longPublic, false).step());
        Plan restricted = d.plan(Policy.HINTS, c, 1, longPublic, true);
        assertEquals(Step.LOCAL, restricted.step());
        assertEquals("restricted", restricted.why());
        assertEquals(Step.QUERY, d.plan(Policy.OFFLOAD, c, 1, longPublic, true).step(), "always offload sends it anyway");
    }

    @Test
    void aHeldLocalHintKeepsTheQueryOnTheDevice() {
        SimulatedDevice d = device();
        d.onHint(hint("LOCAL", 30_000, null), 0, KEY);
        Plan p = plan(d, Policy.HINTS, 20);
        assertEquals(Step.LOCAL, p.step());
        assertEquals("hint", p.why());
    }

    @Test
    void retryAfterOutlastsANewerHintThatWouldOffload() {
        SimulatedDevice d = device();
        d.onHint(hint("LOCAL", 1_000, 8_000L), 0, KEY);
        d.onHint(hint("EDGE", 30_000, null), 2, KEY);
        assertEquals("retry-after", plan(d, Policy.HINTS, 7.9).why());
        assertEquals(Step.QUERY, plan(d, Policy.HINTS, 8.1).step());
        d.stayLocalFor(3_000, 9);
        assertEquals("retry-after", plan(d, Policy.HINTS, 11.9).why());
    }

    @Test
    void offlineAndTheFixedPoliciesIgnoreHints() {
        SimulatedDevice d = device();
        d.onHint(hint("EDGE", 1_000_000, null), 0, KEY);
        assertEquals("offline", plan(d, Policy.HINTS, 150).why());
        assertEquals("offline", plan(d, Policy.OFFLOAD, 150).why());
        assertEquals("policy", plan(d, Policy.LOCAL, 50).why());
        d.onHint(hint("LOCAL", 1_000_000, 60_000L), 0, KEY);
        Plan offload = plan(d, Policy.OFFLOAD, 50);
        assertEquals(Step.QUERY, offload.step());
        assertEquals("always", offload.generate());
    }

    @Test
    void theLocalModelRunsOneQueryAtATimeAndHeatsUp() {
        SimulatedDevice d = device();
        LocalRun first = d.runLocal(10, 400, 200);
        LocalRun second = d.runLocal(10.5, 400, 200);
        assertTrue(first.firstTokenS() > first.startS() && first.endS() > first.firstTokenS());
        assertEquals(first.endS(), second.startS(), 1e-9, "the second query waits for the model");
        for (int i = 0; i < 40; i++) {
            d.runLocal(second.endS() + i * 30, 400, 400);
        }
        LocalRun hot = d.runLocal(second.endS() + 1300, 400, 200);
        assertTrue(hot.thermal().equals("serious") || hot.thermal().equals("critical"),
                "long local inference must heat the device, was " + hot.thermal());
        assertTrue(hot.tokensPerSec() < first.tokensPerSec() * 0.7, "a hot device is throttled");
    }

    @Test
    void theNetworkFollowsTheTimelineWithJitterAroundTheProfile() {
        SimulatedDevice d = device();
        double sum = 0;
        for (int i = 0; i < 200; i++) {
            Conditions c = d.conditions(WIFI_THEN_OFFLINE, 1 + i * 0.1);
            assertEquals("wifi", c.profile().type());
            sum += c.rttMs();
        }
        double mean = sum / 200;
        assertTrue(mean > 12 * 0.7 && mean < 12 * 1.3, "mean RTT near the wifi profile's 12 ms, was " + mean);
        assertTrue(d.conditions(WIFI_THEN_OFFLINE, 150).offline());
        assertTrue(d.conditions(WIFI_THEN_OFFLINE, 1).downlinkMs(10_000) > d.conditions(WIFI_THEN_OFFLINE, 1).rttMs() / 2);
    }

    @Test
    void theOracleTakesWhicheverOptionIsCorrectAndInBudgetAndStaysLocalOnATie() {
        Conditions c = device().conditions(WIFI_THEN_OFFLINE, 10);
        // local: 3 s, correct; remote: 1 s, correct → a tie on both counts: local (spares the GPU)
        assertEquals(Step.LOCAL, SimulatedDevice.planOracle(new SimulatedDevice.Knowledge(true, 13, true, 1000, 6000, 10),
                c, false).step());
        // local wrong, remote right and in budget → remote
        assertEquals(Step.QUERY, SimulatedDevice.planOracle(new SimulatedDevice.Knowledge(false, 13, true, 1000, 6000, 10),
                c, false).step());
        // both right, local over budget, remote in it → remote
        assertEquals(Step.QUERY, SimulatedDevice.planOracle(new SimulatedDevice.Knowledge(true, 20, true, 1000, 6000, 10),
                c, false).step());
        // remote right but over budget, local wrong but in budget: correctness weighs more
        assertEquals(Step.QUERY, SimulatedDevice.planOracle(new SimulatedDevice.Knowledge(false, 12, true, 9000, 6000, 10),
                c, false).step());
        // restricted and offline stay local whatever it knows
        assertEquals(Step.LOCAL, SimulatedDevice.planOracle(new SimulatedDevice.Knowledge(false, 13, true, 1000, 6000, 10),
                c, true).step());
        Conditions off = device().conditions(WIFI_THEN_OFFLINE, 150);
        assertEquals("offline", SimulatedDevice.planOracle(new SimulatedDevice.Knowledge(false, 13, true, 1000, 6000, 150),
                off, false).why());
    }

    @Test
    void theQualityRouterOnlyDeviceComparesTheEstimateWithItsThreshold() {
        Hint high = new Hint("EDGE", 30_000, null, List.of("LOCAL_QUALITY_OK"), 0.9);
        Hint low = new Hint("LOCAL", 30_000, null, List.of("LOCAL_QUALITY_LOW"), 0.5);
        assertEquals(Step.LOCAL, SimulatedDevice.followQuality(high, 0.78).step(), "the gateway's target is ignored");
        Plan remote = SimulatedDevice.followQuality(low, 0.78);
        assertEquals(Step.QUERY, remote.step());
        assertEquals("always", remote.generate());
        assertEquals(Step.QUERY, SimulatedDevice.followQuality(hint("CACHE", 1000, null), 0.78).step(),
                "no estimate (a cached question): follow the hint");
    }

    @Test
    void theOraclesLocalEstimateIsWhatRunningLocallyThenTakes() {
        SimulatedDevice d = device();
        d.advanceTo(5);
        double predicted = d.localEndIfRun(5, 300, 40);
        LocalRun r = d.runLocal(5, 300, 40);
        assertEquals(r.endS(), predicted, 1e-9);
        assertTrue(d.localEndIfRun(5, 300, 40) > predicted, "a second query waits for the first");
    }
}
