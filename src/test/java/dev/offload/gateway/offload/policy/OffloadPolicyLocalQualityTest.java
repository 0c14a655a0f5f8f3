package dev.offload.gateway.offload.policy;

import dev.offload.gateway.offload.policy.DeviceTelemetry.LocalModel;
import dev.offload.gateway.offload.policy.DeviceTelemetry.Thermal;
import dev.offload.gateway.offload.policy.OffloadHint.Target;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.offload.gateway.offload.policy.OffloadPolicyTest.BOTH;
import static dev.offload.gateway.offload.policy.OffloadPolicyTest.CONFIG;
import static dev.offload.gateway.offload.policy.OffloadPolicyTest.PHONE;
import static dev.offload.gateway.offload.policy.OffloadPolicyTest.POLICY;
import static dev.offload.gateway.offload.policy.OffloadPolicyTest.SIMPLE;
import static dev.offload.gateway.offload.policy.OffloadPolicyTest.device;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The rows of the policy that the local-quality estimate changes, each beside the same row without it. */
class OffloadPolicyLocalQualityTest {
    /** Fast enough that the device wins on time whenever it is as capable as the edge. */
    static final DeviceTelemetry FAST_PHONE = device(0.1, 4000, 80.0, true, Thermal.NOMINAL, PHONE.network(),
            new LocalModel("fast", 200.0, 8192));
    static final String COMPARE = "compare the two pumps and then pick one";

    record Row(String name, String query, Double localQuality, Target expected, List<String> reasons, List<String> absent) {
    }

    static final double LOW = CONFIG.minLocalQuality() - 0.2;
    /** Between the two thresholds: the small model suffices, but only speed keeps the query local. */
    static final double HIGH = (CONFIG.minLocalQuality() + CONFIG.localPreferredQuality()) / 2;
    static final double VERY_HIGH = Math.min(1, CONFIG.localPreferredQuality() + 0.05);

    static final List<Row> ROWS = List.of(
            new Row("simple, no estimate: local", SIMPLE, null, Target.LOCAL, List.of("LOCAL_PREFERRED"),
                    List.of("LOCAL_QUALITY_LOW", "LOCAL_QUALITY_OK")),
            new Row("simple, low estimate: the larger model", SIMPLE, LOW, Target.EDGE,
                    List.of("LOCAL_QUALITY_LOW", "MORE_CAPABLE"), List.of("LOCAL_PREFERRED")),
            new Row("simple, high estimate: local", SIMPLE, HIGH, Target.LOCAL, List.of("LOCAL_QUALITY_OK", "LOCAL_PREFERRED"),
                    List.of("LOCAL_QUALITY_LOW", "LOCAL_QUALITY_HIGH")),
            new Row("simple, estimate above local-preferred-quality: local to spare the GPU", SIMPLE, VERY_HIGH, Target.LOCAL,
                    List.of("LOCAL_QUALITY_OK", "LOCAL_QUALITY_HIGH"), List.of("LOCAL_QUALITY_LOW", "LOCAL_PREFERRED")),
            new Row("multi-hop cue, no estimate: the regular expression sends it to the edge", COMPARE, null, Target.EDGE,
                    List.of("MULTI_HOP", "MORE_CAPABLE"), List.of("LOCAL_QUALITY_OK")),
            new Row("multi-hop cue, high estimate: the estimate overrides the cue", COMPARE, HIGH, Target.LOCAL,
                    List.of("LOCAL_QUALITY_OK"), List.of("MULTI_HOP", "MORE_CAPABLE")),
            new Row("multi-hop cue, low estimate: edge, for the estimate's reason", COMPARE, LOW, Target.EDGE,
                    List.of("LOCAL_QUALITY_LOW"), List.of("MULTI_HOP")),
            new Row("estimate exactly at the threshold: the small model suffices", SIMPLE, CONFIG.minLocalQuality(), Target.LOCAL,
                    List.of("LOCAL_QUALITY_OK"), List.of("LOCAL_QUALITY_LOW")),
            new Row("long output stays beyond the local model whatever the estimate",
                    "write a detailed essay that explains the plant's safety plan", HIGH, Target.EDGE,
                    List.of("LONG_OUTPUT", "LOCAL_QUALITY_OK"), List.of()));

    @Test
    void rowsTheEstimateChanges() {
        for (Row r : ROWS) {
            OffloadHint h = POLICY.decide(new OffloadPolicy.Input(FAST_PHONE, r.query(), 0, 500, null, 60_000L, BOTH,
                    r.localQuality()));
            List<String> codes = h.reasons().stream().map(OffloadHint.Reason::code).toList();
            assertEquals(r.expected(), h.target(), r.name() + ": " + h);
            assertTrue(codes.containsAll(r.reasons()), r.name() + ": expected " + r.reasons() + " in " + codes);
            for (String a : r.absent()) {
                assertFalse(codes.contains(a), r.name() + ": unexpected " + a + " in " + codes);
            }
            assertEquals(r.localQuality(), h.estimates().localQuality(), r.name());
        }
    }

    @Test
    void theOldConstructorMeansNoEstimate() {
        OffloadPolicy.Input in = new OffloadPolicy.Input(FAST_PHONE, SIMPLE, 0, 500, null, null, BOTH);
        assertNull(in.localQuality());
        assertNull(POLICY.decide(in).estimates().localQuality());
    }

    @Test
    void hardRulesStillWinAndCarryTheEstimate() {
        OffloadHint h = POLICY.decide(new OffloadPolicy.Input(FAST_PHONE, SIMPLE, 0, 500, Sensitivity.RESTRICTED, null, BOTH, 0.1));
        assertEquals(Target.LOCAL, h.target());
        assertEquals(0.1, h.estimates().localQuality());
        OffloadHint refused = POLICY.refused(POLICY.decide(new OffloadPolicy.Input(FAST_PHONE, SIMPLE, 0, 500, null, null, BOTH, 0.1)),
                "GATEWAY_REFUSED", "queue_full", 2000, FAST_PHONE);
        assertEquals(0.1, refused.estimates().localQuality());
    }

    @Test
    void estimatesOutsideZeroToOneAreRejected() {
        for (double bad : new double[]{-0.01, 1.01, Double.NaN}) {
            assertThrows(IllegalArgumentException.class,
                    () -> new OffloadPolicy.Input(FAST_PHONE, SIMPLE, 0, 500, null, null, BOTH, bad), "localQuality " + bad);
        }
    }

    /** A phone far slower than the edge: only {@code local-preferred-quality} keeps it local. */
    static final DeviceTelemetry SLOW_PHONE = device(0.1, 4000, 80.0, true, Thermal.NOMINAL, PHONE.network(),
            new LocalModel("slow", 20.0, 8192));

    @Test
    void aHighEstimateKeepsASlowDeviceLocalWhenItFitsTheBudget() {
        PolicySettings d = PolicySettings.defaults();
        OffloadPolicy off = new OffloadPolicy(new PolicySettings(d.saturationUtil(), d.loadSlowdownWeight(),
                d.thermalSeriousFactor(), d.lowBatteryPct(), d.minLocalMemoryMb(), d.localPrefillSpeedup(),
                d.defaultOutputTokens(), d.longOutputTokens(), d.contextTokensEstimate(), d.localMaxOutputTokens(),
                d.localBias(), d.minLocalQuality(), 1.0, d.localQualityEnabled(), d.defaultRttMs(), d.priorTtftMs(),
                d.priorTokensPerSec(), d.slowNetworkShare(), d.validityMs(), d.unstableValidityMs()));
        OffloadPolicy sparing = POLICY; // the shipped threshold, 0.86
        OffloadPolicy.Input at95 = new OffloadPolicy.Input(SLOW_PHONE, SIMPLE, 0, 500, null, 60_000L, BOTH, 0.95);
        OffloadHint withoutTheRule = off.decide(at95);
        assertEquals(Target.EDGE, withoutTheRule.target(), "with the rule off (1.0) the far faster edge wins: " + withoutTheRule);
        OffloadHint spared = sparing.decide(at95);
        assertEquals(Target.LOCAL, spared.target(), spared.toString());
        assertTrue(spared.reasons().stream().anyMatch(r -> r.code().equals("LOCAL_QUALITY_HIGH")), spared.toString());
        long localMs = spared.estimates().localMs();

        OffloadHint below = sparing.decide(new OffloadPolicy.Input(SLOW_PHONE, SIMPLE, 0, 500, null, 60_000L, BOTH, 0.85));
        assertEquals(Target.EDGE, below.target(), "0.85 < 0.86: the edge, as before: " + below);
        OffloadHint tooSlow = sparing.decide(new OffloadPolicy.Input(SLOW_PHONE, SIMPLE, 0, 500, null, localMs - 1, BOTH, 0.95));
        assertEquals(Target.EDGE, tooSlow.target(), "a local answer that misses the budget is not preferred: " + tooSlow);
        OffloadHint longOut = sparing.decide(new OffloadPolicy.Input(SLOW_PHONE,
                "write a detailed essay that explains the plant's safety plan", 0, 500, null, 600_000L, BOTH, 0.99));
        assertEquals(Target.EDGE, longOut.target(), "a long answer stays beyond the local model: " + longOut);
    }

    @Test
    void theAnswerCapBoundsTheOutputEstimate() {
        String essay = "write a detailed essay that explains the plant's safety plan";
        OffloadHint guessed = POLICY.decide(new OffloadPolicy.Input(FAST_PHONE, essay, 0, 500, null, 60_000L, BOTH, HIGH));
        assertTrue(guessed.reasons().stream().anyMatch(r -> r.code().equals("LONG_OUTPUT")), guessed.toString());
        OffloadHint capped = POLICY.decide(new OffloadPolicy.Input(FAST_PHONE, essay, 0, 500, null, 60_000L, BOTH, HIGH, 200));
        assertFalse(capped.reasons().stream().anyMatch(r -> r.code().equals("LONG_OUTPUT")),
                "200 tokens at most is not a long answer: " + capped);
        assertEquals(Target.LOCAL, capped.target(), capped.toString());
        assertTrue(capped.estimates().localMs() < guessed.estimates().localMs(), capped + " vs " + guessed);

        OffloadHint plain = POLICY.decide(new OffloadPolicy.Input(SLOW_PHONE, SIMPLE, 0, 0, null, null, BOTH, HIGH));
        OffloadHint short64 = POLICY.decide(new OffloadPolicy.Input(SLOW_PHONE, SIMPLE, 0, 0, null, null, BOTH, HIGH, 64));
        OffloadHint big = POLICY.decide(new OffloadPolicy.Input(SLOW_PHONE, SIMPLE, 0, 0, null, null, BOTH, HIGH, 4096));
        assertTrue(short64.estimates().localMs() < plain.estimates().localMs(), short64 + " vs " + plain);
        assertEquals(plain.estimates().localMs(), big.estimates().localMs(), "a cap above the guess changes nothing");
        assertThrows(IllegalArgumentException.class,
                () -> new OffloadPolicy.Input(SLOW_PHONE, SIMPLE, 0, 0, null, null, BOTH, HIGH, 0));
    }

    @Test
    void aMeasuredPrefillSpeedAndTheDevicesOwnContextReplaceTheGuesses() {
        // 1,000 tokens of gateway context at the default 8× decode speed: 5 s of prefill on a 25 tokens/s phone.
        DeviceTelemetry guessed = device(0.0, 4000, 80.0, true, Thermal.NOMINAL, PHONE.network(), new LocalModel("p", 25.0, 8192));
        DeviceTelemetry told = device(0.0, 4000, 80.0, true, Thermal.NOMINAL, PHONE.network(),
                new LocalModel("p", 25.0, 8192, 400.0, 300));
        OffloadHint a = POLICY.decide(new OffloadPolicy.Input(guessed, SIMPLE, 0, 1000, null, null, BOTH, HIGH, 64));
        OffloadHint b = POLICY.decide(new OffloadPolicy.Input(told, SIMPLE, 0, 1000, null, null, BOTH, HIGH, 64));
        int q = QueryComplexity.tokens(SIMPLE);
        double slow = 1 - CONFIG.loadSlowdownWeight() * guessed.load();
        assertEquals(Math.round(((q + 1000) * 1000.0 / 200 + 64 * 1000.0 / 25) / slow), a.estimates().localMs(), a.toString());
        assertEquals(Math.round(((q + 300) * 1000.0 / 400 + 64 * 1000.0 / 25) / slow), b.estimates().localMs(), b.toString());
        // The device's window holds its own prompt: 300 tokens of its context fit 1,024 where the gateway's 1,000 would not.
        DeviceTelemetry smallWindow = device(0.0, 4000, 80.0, true, Thermal.NOMINAL, PHONE.network(),
                new LocalModel("p", 25.0, 1024, 400.0, 300));
        OffloadHint fits = POLICY.decide(new OffloadPolicy.Input(smallWindow, SIMPLE, 0, 1000, null, null, BOTH, HIGH, 64));
        assertFalse(fits.reasons().stream().anyMatch(r -> r.code().equals("CONTEXT_EXCEEDS_LOCAL")), fits.toString());
        assertThrows(IllegalArgumentException.class, () -> new LocalModel("p", 25.0, 8192, 0.0, null));
        assertThrows(IllegalArgumentException.class, () -> new LocalModel("p", 25.0, 8192, null, -1));
    }
}
