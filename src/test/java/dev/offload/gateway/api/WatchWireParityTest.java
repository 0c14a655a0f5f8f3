package dev.offload.gateway.api;

import dev.offload.gateway.api.grpc.GatewayState;
import dev.offload.gateway.offload.policy.DeviceTelemetry;
import dev.offload.gateway.offload.policy.DeviceTelemetry.LocalModel;
import dev.offload.gateway.offload.policy.DeviceTelemetry.Network;
import dev.offload.gateway.offload.policy.DeviceTelemetry.NetworkType;
import dev.offload.gateway.offload.policy.DeviceTelemetry.Thermal;
import dev.offload.gateway.offload.policy.GatewaySnapshot;
import dev.offload.gateway.offload.policy.GatewayView;
import dev.offload.gateway.offload.policy.GatewayView.TierView;
import dev.offload.gateway.offload.policy.LocalAdvisor;
import dev.offload.gateway.offload.policy.LocalQualityRouter;
import dev.offload.gateway.offload.policy.OffloadHint;
import dev.offload.gateway.offload.policy.OffloadPolicy;
import dev.offload.gateway.offload.policy.PolicySettings;
import dev.offload.gateway.offload.policy.Sensitivity;
import dev.offload.gateway.offload.policy.TierState;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the gateway pushes is what its policy reads: over many random gateway states and device
 * telemetry (seeded; the seed is in every message), a snapshot survives JSON (SSE) and protobuf
 * (gRPC) unchanged, and a device deciding from the received snapshot with {@link LocalAdvisor}
 * gets the hint the gateway's policy gives from its own view for the same input.
 */
class WatchWireParityTest {
    static final LocalQualityRouter ROUTER = LocalQualityRouter.bundled();
    static final String[] QUESTIONS = {"what is the torque for the P-7 housing bolts",
            "compare the failover of pump A with pump B and then recommend one",
            "explain step by step how to reset the line 3 controller after an emergency stop",
            "status of line 3?", "Which of the following is NOT a prime number? 7, 9, 11"};

    static TierView tier(Random r, String name, boolean external) {
        int replicas = 1 + r.nextInt(3);
        int healthy = r.nextInt(4) == 0 ? 0 : 1 + r.nextInt(replicas);
        int capacity = 1 + r.nextInt(128);
        double limit = r.nextInt(3) == 0 ? Double.POSITIVE_INFINITY : 500 + r.nextDouble() * 10_000;
        return new TierView(new TierState(name, external, replicas, healthy, healthy * (1 + r.nextInt(16)), r.nextInt(20),
                r.nextInt(capacity + 1), capacity, r.nextInt(3) == 0 ? 0 : r.nextDouble() * 8000,
                r.nextInt(4) == 0 ? 0 : 50 + r.nextDouble() * 900, r.nextInt(4) == 0 ? 0 : 5 + r.nextDouble() * 90,
                r.nextInt(4) == 0 ? 0 : r.nextDouble() * 5000, limit), 1024 + r.nextInt(32_000), r.nextInt(30_000));
    }

    static PolicySettings settings(Random r) {
        if (r.nextBoolean()) {
            return PolicySettings.defaults();
        }
        return new PolicySettings(0.5 + r.nextDouble() * 0.5, r.nextDouble(), 0.1 + r.nextDouble() * 0.9, r.nextDouble() * 50,
                r.nextInt(2048), 1 + r.nextDouble() * 10, 50 + r.nextInt(300), 200 + r.nextInt(600), r.nextInt(3000),
                r.nextInt(800), 1 + r.nextDouble(), r.nextDouble(), r.nextDouble(), r.nextBoolean(), r.nextDouble() * 200, 50 + r.nextDouble() * 900,
                1 + r.nextDouble() * 60, 0.1 + r.nextDouble(), 1000 + r.nextInt(60_000), 500 + r.nextInt(10_000));
    }

    static GatewaySnapshot snapshot(Random r) {
        return new GatewaySnapshot(r.nextLong() & Long.MAX_VALUE, r.nextInt(1_000_000), System.currentTimeMillis(),
                1 + r.nextInt(60_000), r.nextInt(8) == 0 ? null : tier(r, "edge", false),
                r.nextInt(8) == 0 ? null : tier(r, "cloud", true), new GatewaySnapshot.CacheState(r.nextBoolean()), settings(r));
    }

    static DeviceTelemetry device(Random r) {
        if (r.nextInt(10) == 0) {
            return null;
        }
        return new DeviceTelemetry(r.nextBoolean() ? null : r.nextDouble(), r.nextBoolean() ? null : r.nextDouble(),
                r.nextBoolean() ? null : r.nextInt(8000), r.nextBoolean() ? null : r.nextDouble() * 100,
                r.nextBoolean() ? null : r.nextBoolean(), r.nextBoolean() ? null : Thermal.values()[r.nextInt(4)],
                r.nextInt(5) == 0 ? null : new Network(NetworkType.values()[r.nextInt(5)], r.nextBoolean() ? null : r.nextDouble() * 400,
                        r.nextBoolean() ? null : r.nextDouble() * 50_000, r.nextBoolean() ? null : r.nextDouble() * 20_000),
                r.nextInt(4) == 0 ? null : new LocalModel("m", r.nextBoolean() ? null : r.nextDouble() * 60,
                        r.nextBoolean() ? null : 512 + r.nextInt(8000), r.nextBoolean() ? null : 50 + r.nextDouble() * 800,
                        r.nextBoolean() ? null : r.nextInt(2000)));
    }

    static float[] unit(Random r, int dim) {
        float[] v = new float[dim];
        double n = 0;
        for (int i = 0; i < dim; i++) {
            v[i] = (float) r.nextGaussian();
            n += v[i] * v[i];
        }
        for (int i = 0; i < dim; i++) {
            v[i] /= (float) Math.sqrt(n);
        }
        return v;
    }

    @Test
    void snapshotsSurviveJsonAndProtobufUnchanged() throws Exception {
        long seed = new Random().nextLong();
        Random r = new Random(seed);
        for (int i = 0; i < 2000; i++) {
            GatewaySnapshot s = snapshot(r);
            assertEquals(s, GatewaySnapshot.fromJson(s.toJson()), "seed " + seed + " #" + i + " JSON: " + s.toJson());
            GatewayState m = WatchMessages.toProto(s);
            assertEquals(s, WatchMessages.fromProto(GatewayState.parseFrom(m.toByteArray())), "seed " + seed + " #" + i + " proto");
            assertEquals(s.edge() != null && s.edge().state().healthyReplicas() == 0, m.getEdge().getCircuitOpen());
        }
    }

    @Test
    void aDeviceDecidingFromThePushedStateDecidesAsTheGatewayDoes() throws Exception {
        long seed = new Random().nextLong();
        Random r = new Random(seed);
        LocalAdvisor device = new LocalAdvisor(ROUTER);
        int local = 0;
        for (int i = 0; i < 5000; i++) {
            GatewaySnapshot gateway = snapshot(r);
            boolean viaGrpc = r.nextBoolean();
            GatewaySnapshot received = viaGrpc ? WatchMessages.fromProto(GatewayState.parseFrom(WatchMessages.toProto(gateway).toByteArray()))
                    : GatewaySnapshot.fromJson(new String(WatchMessages.SSE.apply(gateway), StandardCharsets.UTF_8)
                    .lines().filter(l -> l.startsWith("data: ")).findFirst().orElseThrow().substring(6));
            device.accept(received, i * 100_000L);
            String text = QUESTIONS[r.nextInt(QUESTIONS.length)];
            float[] embedding = r.nextInt(5) == 0 ? null : unit(r, ROUTER.dimension());
            Sensitivity level = r.nextInt(4) == 0 ? null : Sensitivity.values()[r.nextInt(4)];
            int history = r.nextInt(3) == 0 ? 0 : r.nextInt(3000);
            Long budget = r.nextInt(3) == 0 ? null : 200L + r.nextInt(20_000);
            DeviceTelemetry telemetry = device(r);

            // The gateway's side, as /v1/offload/decide builds it (OffloadResource): its own view and settings.
            PolicySettings p = gateway.settings();
            Double quality = embedding == null || !p.localQualityEnabled() || level == Sensitivity.RESTRICTED ? null
                    : ROUTER.estimate(text, embedding);
            OffloadHint expected = new OffloadPolicy(p).decide(new OffloadPolicy.Input(telemetry, text, history,
                    p.contextTokensEstimate(), level, budget, new GatewayView(gateway.edge(), gateway.cloud(), false), quality));

            OffloadHint actual = device.decide(new LocalAdvisor.Question(telemetry, text, embedding, history, level, budget),
                    i * 100_000L + 1).orElseThrow();
            assertEquals(expected, actual, "seed " + seed + " #" + i + (viaGrpc ? " gRPC" : " SSE"));
            if (actual.target() == OffloadHint.Target.LOCAL) {
                local++;
            }
        }
        assertTrue(local > 100 && local < 4900, "the cases cover both sides of the decision: " + local + " LOCAL of 5000");
    }

    @Test
    void malformedSnapshotsAreRefusedByName() {
        String good = snapshot(new Random(1)).toJson();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GatewaySnapshot.fromJson(good.replace("\"version\":", "\"version\":\"x\",\"v\":")));
        assertTrue(e.getMessage().contains("version"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GatewaySnapshot.fromJson(good.substring(0, good.length() - 1)));
        assertThrows(IllegalArgumentException.class, () -> GatewaySnapshot.fromJson("[]"));
        assertThrows(IllegalArgumentException.class, () -> GatewaySnapshot.fromJson("[".repeat(100)));
        assertThrows(IllegalArgumentException.class, () -> WatchMessages.fromProto(GatewayState.getDefaultInstance()));
        assertFalse(GatewaySnapshot.fromJson(good).toString().isEmpty());
    }
}
