package dev.offload.gateway.offload.policy;

import dev.offload.gateway.offload.policy.DeviceTelemetry.LocalModel;
import dev.offload.gateway.offload.policy.DeviceTelemetry.Network;
import dev.offload.gateway.offload.policy.DeviceTelemetry.NetworkType;
import dev.offload.gateway.offload.policy.DeviceTelemetry.Thermal;
import dev.offload.gateway.offload.policy.GatewayView.TierView;
import dev.offload.gateway.offload.policy.OffloadHint.Target;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded random inputs (devices, queries, gateway states) against the policy's invariants:
 * restricted never leaves the device, offline never leaves the device, confidential never
 * goes to the cloud tier, and every hint is well formed.
 */
class OffloadPolicyPropertyTest {
    static final String[] QUERIES = {"what is the torque spec", "compare pump A and pump B and then pick one",
            "explain step by step how to reset the controller", "status?", "why did line 3 stop? and who fixed it?"};

    @Test
    void invariantsHoldOnRandomInputs() {
        long seed = Long.getLong("offload.seed", System.nanoTime());
        Random rnd = new Random(seed);
        int[] targets = new int[Target.values().length];
        for (int i = 0; i < 20_000; i++) {
            Sensitivity s = rnd.nextInt(5) == 0 ? null : Sensitivity.values()[rnd.nextInt(4)];
            DeviceTelemetry d = device(rnd);
            GatewayView g = new GatewayView(rnd.nextInt(6) == 0 ? null : tier(rnd, "edge", rnd.nextInt(8) == 0),
                    rnd.nextInt(3) == 0 ? null : tier(rnd, "cloud", rnd.nextInt(4) != 0), rnd.nextInt(10) == 0);
            Long budget = rnd.nextBoolean() ? null : (long) (1 + rnd.nextInt(30_000));
            OffloadHint h = OffloadPolicyTest.POLICY.decide(new OffloadPolicy.Input(d, QUERIES[rnd.nextInt(QUERIES.length)],
                    rnd.nextInt(3000), rnd.nextInt(3000), s, budget, g));
            String ctx = "seed " + seed + " case " + i + ": " + h;
            targets[h.target().ordinal()]++;
            if (s == Sensitivity.RESTRICTED) {
                assertEquals(Target.LOCAL, h.target(), ctx);
            }
            if (d.offline()) {
                assertEquals(Target.LOCAL, h.target(), ctx);
            }
            if (s == Sensitivity.CONFIDENTIAL) {
                assertNotEquals(Target.CLOUD, h.target(), ctx);
                if (h.target() == Target.EDGE) {
                    assertTrue(!g.edge().state().external(), ctx);
                }
            }
            if (h.target() == Target.EDGE) {
                assertNotNull(g.edge(), ctx);
                assertTrue(g.edge().state().healthyReplicas() > 0 && !g.edge().state().queueFull(), ctx);
            }
            if (h.target() == Target.CLOUD) {
                assertNotNull(g.cloud(), ctx);
            }
            assertTrue(h.validForMs() > 0, ctx);
            assertTrue(!h.reasons().isEmpty(), ctx);
        }
        for (Target t : Target.values()) {
            assertTrue(targets[t.ordinal()] > 0, "seed " + seed + ": the generator never produced " + t);
        }
    }

    private static DeviceTelemetry device(Random rnd) {
        NetworkType type = NetworkType.values()[rnd.nextInt(NetworkType.values().length)];
        Network n = rnd.nextInt(8) == 0 ? null : new Network(type, rnd.nextBoolean() ? null : rnd.nextDouble() * 800,
                rnd.nextBoolean() ? null : rnd.nextDouble() * 100_000, rnd.nextBoolean() ? null : rnd.nextDouble() * 50_000);
        LocalModel m = rnd.nextInt(5) == 0 ? null : new LocalModel("m", rnd.nextBoolean() ? rnd.nextDouble() * 80 : null,
                rnd.nextBoolean() ? 512 + rnd.nextInt(8000) : null);
        return new DeviceTelemetry(rnd.nextBoolean() ? rnd.nextDouble() : null, rnd.nextBoolean() ? rnd.nextDouble() : null,
                rnd.nextBoolean() ? rnd.nextInt(8000) : null, rnd.nextBoolean() ? rnd.nextDouble() * 100 : null,
                rnd.nextBoolean() ? rnd.nextBoolean() : null,
                rnd.nextBoolean() ? Thermal.values()[rnd.nextInt(4)] : null, n, m);
    }

    private static TierView tier(Random rnd, String name, boolean external) {
        int replicas = 1 + rnd.nextInt(4);
        int healthy = rnd.nextInt(5) == 0 ? 0 : 1 + rnd.nextInt(replicas);
        int capacity = 64;
        int queue = rnd.nextInt(4) == 0 ? capacity : rnd.nextInt(capacity);
        return new TierView(new TierState(name, external, replicas, healthy, healthy * 8, rnd.nextInt(16), queue, capacity,
                queue == 0 ? 0 : rnd.nextDouble() * 10_000, rnd.nextBoolean() ? 0 : rnd.nextDouble() * 2000,
                rnd.nextBoolean() ? 0 : 1 + rnd.nextDouble() * 100, 0), 4096, 10_000);
    }
}
