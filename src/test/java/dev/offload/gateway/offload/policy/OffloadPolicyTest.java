package dev.offload.gateway.offload.policy;

import dev.offload.gateway.offload.policy.DeviceTelemetry.LocalModel;
import dev.offload.gateway.offload.policy.DeviceTelemetry.Network;
import dev.offload.gateway.offload.policy.DeviceTelemetry.NetworkType;
import dev.offload.gateway.offload.policy.DeviceTelemetry.Thermal;
import dev.offload.gateway.offload.policy.GatewayView.TierView;
import dev.offload.gateway.offload.policy.OffloadHint.Target;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One table row per trigger of the policy, plus combinations. */
class OffloadPolicyTest {
    static final PolicySettings CONFIG = PolicySettings.defaults();
    static final OffloadPolicy POLICY = new OffloadPolicy(CONFIG);

    static final DeviceTelemetry PHONE = new DeviceTelemetry(0.2, 0.1, 4000, 80.0, false, Thermal.NOMINAL,
            new Network(NetworkType.WIFI, 20.0, 50_000.0, 20_000.0), new LocalModel("phi-mini", 15.0, 4096));

    static TierState tier(String name, boolean external, int healthy, int queue, double waitMs, double ttftMs, double tps) {
        return new TierState(name, external, 2, healthy, healthy * 8, 0, queue, 64, waitMs, ttftMs, tps, 0);
    }

    static final TierView EDGE = new TierView(tier("edge", false, 2, 0, 0, 150, 50), 8192, 10_000);
    static final TierView CLOUD = new TierView(tier("cloud", true, 2, 0, 0, 500, 80), 32768, 10_000);

    record Row(String name, DeviceTelemetry device, String query, int historyTokens, Sensitivity sensitivity,
               Long budget, GatewayView gateway, Target expected, String expectedReason) {
    }

    static DeviceTelemetry with(UnaryOperator<DeviceTelemetry> f) {
        return f.apply(PHONE);
    }

    static DeviceTelemetry device(Double cpu, Integer mem, Double battery, Boolean charging, Thermal thermal, Network n,
                                  LocalModel m) {
        return new DeviceTelemetry(cpu, 0.1, mem, battery, charging, thermal, n, m);
    }

    static final String SIMPLE = "what port does the gateway listen on";
    static final GatewayView BOTH = new GatewayView(EDGE, CLOUD, false);

    static Stream<Row> rows() {
        Network threeG = new Network(NetworkType.THREE_G, 2000.0, 20.0, 10.0);
        LocalModel fast = new LocalModel("fast", 60.0, 4096);
        return Stream.of(
                new Row("restricted stays local", PHONE, SIMPLE, 0, Sensitivity.RESTRICTED, null, BOTH, Target.LOCAL, "SENSITIVITY_RESTRICTED"),
                new Row("offline stays local", device(0.2, 4000, 80.0, false, Thermal.NOMINAL,
                        new Network(NetworkType.OFFLINE, null, null, null), PHONE.localModel()), SIMPLE, 0, null, null, BOTH,
                        Target.LOCAL, "NETWORK_OFFLINE"),
                new Row("cache hit", PHONE, SIMPLE, 0, null, null, new GatewayView(EDGE, CLOUD, true), Target.CACHE, "CACHE_HIT"),
                new Row("confidential never cloud", PHONE, "compare the two maintenance plans", 0, Sensitivity.CONFIDENTIAL, null,
                        new GatewayView(null, CLOUD, false), Target.LOCAL, "SENSITIVITY_CONFIDENTIAL"),
                new Row("critical thermal", device(0.2, 4000, 80.0, false, Thermal.CRITICAL, PHONE.network(), fast), SIMPLE, 0,
                        null, null, BOTH, Target.EDGE, "THERMAL_CRITICAL"),
                new Row("serious thermal slows the device", device(0.2, 4000, 80.0, false, Thermal.SERIOUS, PHONE.network(), PHONE.localModel()),
                        SIMPLE, 0, null, null, BOTH, Target.EDGE, "THERMAL_SERIOUS"),
                new Row("low battery, not charging", device(0.2, 4000, 9.0, false, Thermal.NOMINAL, PHONE.network(), fast), SIMPLE, 0,
                        null, null, BOTH, Target.EDGE, "BATTERY_LOW"),
                new Row("saturated device", device(0.95, 4000, 80.0, false, Thermal.NOMINAL, PHONE.network(), fast), SIMPLE, 0,
                        null, null, BOTH, Target.EDGE, "DEVICE_SATURATED"),
                new Row("no memory for the model", device(0.2, 100, 80.0, false, Thermal.NOMINAL, PHONE.network(), fast), SIMPLE, 0,
                        null, null, BOTH, Target.EDGE, "MEMORY_LOW"),
                new Row("context beyond the local window", device(0.2, 4000, 80.0, false, Thermal.NOMINAL, PHONE.network(), fast),
                        SIMPLE, 6000, null, null, BOTH, Target.EDGE, "CONTEXT_EXCEEDS_LOCAL"),
                new Row("multi-hop question", device(0.2, 4000, 80.0, false, Thermal.NOMINAL, PHONE.network(), fast),
                        "compare the failover of the edge tier with the cloud tier", 0, null, null, BOTH, Target.EDGE, "MULTI_HOP"),
                new Row("long output", device(0.2, 4000, 80.0, false, Thermal.NOMINAL, PHONE.network(), fast),
                        "explain step by step how to replace the pump seal", 0, null, null, BOTH, Target.EDGE, "LONG_OUTPUT"),
                new Row("fast local model on a simple question", device(0.2, 4000, 80.0, false, Thermal.NOMINAL, PHONE.network(), fast),
                        SIMPLE, 0, null, null, BOTH, Target.LOCAL, "LOCAL_PREFERRED"),
                new Row("slow network keeps a simple question local", device(0.2, 4000, 80.0, false, Thermal.NOMINAL, threeG, fast),
                        SIMPLE, 0, null, 20_000L, BOTH, Target.LOCAL, "NETWORK_SLOW"),
                new Row("every edge circuit open", PHONE, SIMPLE, 0, null, null,
                        new GatewayView(new TierView(tier("edge", false, 0, 0, 0, 150, 50), 8192, 7000), null, false),
                        Target.LOCAL, "CIRCUIT_OPEN"),
                new Row("edge queue full, cloud takes it", device(0.2, 4000, 80.0, false, Thermal.NOMINAL, PHONE.network(), null),
                        SIMPLE, 0, null, null, new GatewayView(new TierView(tier("edge", false, 2, 64, 9000, 150, 50), 8192, 10_000), CLOUD, false),
                        Target.CLOUD, "QUEUE_FULL"),
                new Row("edge queue wait breaks the budget, cloud fits", device(0.2, 4000, 80.0, false, Thermal.NOMINAL, PHONE.network(), null),
                        SIMPLE, 0, null, 6000L, new GatewayView(new TierView(tier("edge", false, 2, 20, 5000, 150, 50), 8192, 10_000), CLOUD, false),
                        Target.CLOUD, "QUEUE_WAIT"),
                new Row("edge wait over the gateway's limit: admission would refuse, cloud takes it",
                        device(0.2, 4000, 80.0, false, Thermal.NOMINAL, PHONE.network(), null), SIMPLE, 0, null, null,
                        new GatewayView(new TierView(new TierState("edge", false, 2, 2, 16, 16, 40, 256, 6000, 150, 50, 2400, 5000),
                                8192, 10_000), CLOUD, false), Target.CLOUD, "QUEUE_FULL"),
                new Row("edge wait plus a call breaks the budget: admission would refuse, the device answers",
                        device(0.2, 4000, 80.0, false, Thermal.NOMINAL, PHONE.network(), new LocalModel("slow", 5.0, 4096)),
                        SIMPLE, 0, null, 3000L,
                        new GatewayView(new TierView(new TierState("edge", false, 2, 2, 16, 16, 10, 256, 1500, 150, 50, 2400, 5000),
                                8192, 10_000), null, false), Target.LOCAL, "QUEUE_WAIT"),
                new Row("nothing fits the budget: the fastest (cloud decodes faster here)", PHONE,
                        "explain the whole maintenance procedure", 0, null, 50L, BOTH, Target.CLOUD, "BUDGET_UNREACHABLE"),
                new Row("no tier and no local model", device(0.2, 4000, 80.0, false, Thermal.NOMINAL, PHONE.network(), null), SIMPLE, 0,
                        null, null, new GatewayView(null, null, false), Target.LOCAL, "NO_HEALTHY_TIER"),
                new Row("no local model", device(0.2, 4000, 80.0, false, Thermal.NOMINAL, PHONE.network(), null), SIMPLE, 0,
                        null, null, BOTH, Target.EDGE, "LOCAL_MODEL_MISSING"),
                new Row("hot and drained: both local blocks are named", device(0.2, 4000, 5.0, false, Thermal.CRITICAL, PHONE.network(), fast),
                        SIMPLE, 0, null, null, BOTH, Target.EDGE, "BATTERY_LOW"),
                new Row("confidential and hot: edge, never cloud", device(0.2, 4000, 80.0, false, Thermal.CRITICAL, PHONE.network(), fast),
                        SIMPLE, 0, Sensitivity.CONFIDENTIAL, null, BOTH, Target.EDGE, "SENSITIVITY_CONFIDENTIAL"));
    }

    @Test
    void everyTriggerHasItsReason() {
        for (Row r : rows().toList()) {
            OffloadHint h = POLICY.decide(new OffloadPolicy.Input(r.device(), r.query(), r.historyTokens(), 500,
                    r.sensitivity(), r.budget(), r.gateway()));
            assertEquals(r.expected(), h.target(), r.name() + ": " + h);
            assertTrue(h.reasons().stream().anyMatch(x -> x.code().equals(r.expectedReason())),
                    r.name() + ": expected reason " + r.expectedReason() + " in " + h.reasons());
        }
    }

    @Test
    void remoteEstimatesFollowLiveMeasurements() {
        OffloadPolicy.Input fast = new OffloadPolicy.Input(PHONE, SIMPLE, 0, 500, null, null, BOTH);
        TierView slowEdge = new TierView(tier("edge", false, 2, 0, 0, 900, 12), 8192, 10_000);
        OffloadPolicy.Input slow = new OffloadPolicy.Input(PHONE, SIMPLE, 0, 500, null, null, new GatewayView(slowEdge, CLOUD, false));
        long a = POLICY.decide(fast).estimates().edgeMs();
        long b = POLICY.decide(slow).estimates().edgeMs();
        // 150 output tokens: 150/50 s + 150 ms TTFT vs 150/12 s + 900 ms, same transfer.
        assertEquals(150 / 12.0 * 1000 + 900 - (150 / 50.0 * 1000 + 150), b - a, 2.0);
        TierView queued = new TierView(tier("edge", false, 2, 10, 2500, 150, 50), 8192, 10_000);
        long c = POLICY.decide(new OffloadPolicy.Input(PHONE, SIMPLE, 0, 500, null, null, new GatewayView(queued, CLOUD, false)))
                .estimates().edgeMs();
        assertEquals(2500, c - a, 2.0);
    }

    @Test
    void transferTimeComesFromRttAndBandwidth() {
        DeviceTelemetry near = device(0.2, 4000, 80.0, false, Thermal.NOMINAL, new Network(NetworkType.WIFI, 10.0, 10_000.0, 10_000.0), null);
        DeviceTelemetry far = device(0.2, 4000, 80.0, false, Thermal.NOMINAL, new Network(NetworkType.LTE, 110.0, 1_000.0, 500.0), null);
        long a = POLICY.decide(new OffloadPolicy.Input(near, SIMPLE, 0, 1000, null, null, BOTH)).estimates().edgeMs();
        long b = POLICY.decide(new OffloadPolicy.Input(far, SIMPLE, 0, 1000, null, null, BOTH)).estimates().edgeMs();
        int prompt = QueryComplexity.tokens(SIMPLE) + 1000;
        double expected = 100 + prompt * 32 * (1 / 500.0 - 1 / 10_000.0) + 150 * 32 * (1 / 1000.0 - 1 / 10_000.0);
        assertEquals(expected, b - a, 2.0);
    }

    @Test
    void theMoreCapableOptionWinsWhenSeveralFit() {
        DeviceTelemetry fastPhone = device(0.1, 4000, 80.0, true, Thermal.NOMINAL, PHONE.network(), new LocalModel("fast", 200.0, 8192));
        OffloadHint h = POLICY.decide(new OffloadPolicy.Input(fastPhone, "compare the two pumps and then pick one", 0, 500,
                null, 60_000L, BOTH));
        assertEquals(Target.EDGE, h.target());
        assertTrue(h.estimates().localMs() < h.estimates().edgeMs(), "the device was faster: " + h.estimates());
        assertTrue(h.reasons().stream().anyMatch(r -> r.code().equals("MORE_CAPABLE")), h.reasons().toString());
    }

    @Test
    void theHintCarriesTheTargetsWindowAndAShortValidityWhileThingsChange() {
        OffloadHint edge = POLICY.decide(new OffloadPolicy.Input(device(0.2, 4000, 80.0, false, Thermal.NOMINAL, PHONE.network(), null),
                SIMPLE, 0, 500, null, null, BOTH));
        assertEquals(8192, edge.maxContextTokens());
        assertEquals(CONFIG.validityMs(), edge.validForMs());
        assertNull(edge.retryAfterMs());
        OffloadHint local = POLICY.decide(new OffloadPolicy.Input(PHONE, SIMPLE, 0, 500, null, null,
                new GatewayView(new TierView(tier("edge", false, 0, 0, 0, 150, 50), 8192, 7000), null, false)));
        assertEquals(4096, local.maxContextTokens());
        assertEquals(7000L, local.retryAfterMs());
        assertEquals(CONFIG.unstableValidityMs(), local.validForMs());
    }

    @Test
    void aRefusalTurnsAnyHintIntoStayLocalWithARetryTime() {
        OffloadHint edge = POLICY.decide(new OffloadPolicy.Input(PHONE, "compare a and b", 0, 500, null, null, BOTH));
        assertNotEquals(Target.LOCAL, edge.target());
        OffloadHint refused = POLICY.refused(edge, "GATEWAY_REFUSED", "queue_full", 3000, PHONE);
        assertEquals(Target.LOCAL, refused.target());
        assertEquals(3000L, refused.retryAfterMs());
        assertEquals("GATEWAY_REFUSED", refused.reasons().get(0).code());
        assertFalse(refused.reasons().stream().anyMatch(r -> r.code().equals("FITS_BUDGET")));
        assertEquals(4096, refused.maxContextTokens());
    }

    @Test
    void complexityCues() {
        assertTrue(QueryComplexity.multiHop("What is the difference between BM25 and dense retrieval?"));
        assertTrue(QueryComplexity.multiHop("Who wrote it? And when?"));
        assertFalse(QueryComplexity.multiHop("What is the boiling point of water?"));
        assertTrue(QueryComplexity.longOutput("Summarize the safety manual"));
        assertFalse(QueryComplexity.longOutput("Which valve is red?"));
    }
}
