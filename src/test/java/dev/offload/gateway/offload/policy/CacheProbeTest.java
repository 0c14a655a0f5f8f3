package dev.offload.gateway.offload.policy;

import dev.offload.gateway.offload.policy.DeviceTelemetry.LocalModel;
import dev.offload.gateway.offload.policy.DeviceTelemetry.Network;
import dev.offload.gateway.offload.policy.DeviceTelemetry.NetworkType;
import dev.offload.gateway.offload.policy.OffloadHint.Estimates;
import dev.offload.gateway.offload.policy.OffloadHint.Target;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link LocalAdvisor#probesCache}: which questions kept on the device ask the shared cache first. */
class CacheProbeTest {
    private static final TierState EDGE = new TierState("edge", false, 2, 2, 16, 3, 0, 256, 0, 180, 40, 2000, 5000);

    private static GatewaySnapshot snapshot(boolean cacheOn) {
        return new GatewaySnapshot(1, 1, 0, 30_000, new GatewayView.TierView(EDGE, 8192, 10_000), null,
                new GatewaySnapshot.CacheState(cacheOn), PolicySettings.defaults());
    }

    private static LocalAdvisor advisor(boolean cacheOn) {
        LocalAdvisor a = new LocalAdvisor(null);
        a.accept(snapshot(cacheOn), 0);
        return a;
    }

    private static DeviceTelemetry device(NetworkType type, Double rttMs) {
        return new DeviceTelemetry(0.2, 0.05, 3000, 80.0, true, DeviceTelemetry.Thermal.NOMINAL,
                new Network(type, rttMs, 50_000.0, 20_000.0), new LocalModel("m", 25.0, 4096));
    }

    private static LocalAdvisor.Question question(DeviceTelemetry d, Sensitivity s) {
        return new LocalAdvisor.Question(d, "how often is the gearbox oil changed", null, 0, s, 8000L);
    }

    private static OffloadHint hint(Target target, Long localMs) {
        return new OffloadHint(target, List.of(), new Estimates(localMs, 900L, null), 30_000, 4096, null);
    }

    @Test
    void aLocalAnswerOnWifiAsksTheCacheFirst() {
        assertTrue(advisor(true).probesCache(question(device(NetworkType.WIFI, 30.0), null), hint(Target.LOCAL, 6000L), 10));
        // Confidential data may reach the edge zone, where the cache is.
        assertTrue(advisor(true).probesCache(question(device(NetworkType.WIFI, 30.0), Sensitivity.CONFIDENTIAL),
                hint(Target.LOCAL, 6000L), 10));
        // No local estimate (no usable model described): the cache is the only fast answer.
        assertTrue(advisor(true).probesCache(question(device(NetworkType.WIFI, 30.0), null), hint(Target.LOCAL, null), 10));
        // No RTT reported: the policy's default (40 ms) against 6 s.
        assertTrue(advisor(true).probesCache(question(device(NetworkType.WIFI, null), null), hint(Target.LOCAL, 6000L), 10));
    }

    @Test
    void notWhenTheDataOrTheRadioOrTheClockSaysNo() {
        LocalAdvisor on = advisor(true);
        OffloadHint local = hint(Target.LOCAL, 6000L);
        assertFalse(on.probesCache(question(device(NetworkType.WIFI, 30.0), Sensitivity.RESTRICTED), local, 10),
                "restricted data never leaves the device");
        assertFalse(on.probesCache(question(device(NetworkType.OFFLINE, null), null), local, 10), "offline");
        for (NetworkType cellular : new NetworkType[]{NetworkType.LTE, NetworkType.FIVE_G, NetworkType.THREE_G}) {
            assertFalse(on.probesCache(question(device(cellular, 30.0), null), local, 10), "the radio tail on " + cellular);
        }
        assertFalse(on.probesCache(question(null, null), local, 10), "no network reported");
        assertFalse(on.probesCache(question(device(NetworkType.WIFI, 700.0), null), local, 10),
                "a round trip above a tenth of the local answer");
        assertFalse(on.probesCache(question(device(NetworkType.WIFI, 30.0), null), hint(Target.EDGE, 6000L), 10),
                "a remote hint goes to the gateway anyway");
        assertFalse(advisor(false).probesCache(question(device(NetworkType.WIFI, 30.0), null), local, 10), "cache off");
        assertFalse(on.probesCache(question(device(NetworkType.WIFI, 30.0), null), local, 30_001), "snapshot ran out");
        assertFalse(new LocalAdvisor(null).probesCache(question(device(NetworkType.WIFI, 30.0), null), local, 10),
                "no snapshot");
    }
}
