package dev.offload.gateway.bench.fleet;

import dev.offload.gateway.bench.fleet.DeviceEnergy.Exchange;
import dev.offload.gateway.bench.fleet.DeviceEnergy.Radio;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device energy model: local watts × seconds, the radio's promotion, connected time, bytes and tail. */
class DeviceEnergyTest {
    private static final Radio LTE = DeviceEnergy.RADIO.get("lte");
    private static final double EPS = 1e-9;

    @Test
    void localInferenceIsWattsTimesSeconds() {
        assertEquals(12.5, DeviceEnergy.localJoules(5, 2.5), EPS);
        assertEquals(0, DeviceEnergy.localJoules(5, 0), EPS);
    }

    @Test
    void oneExchangeOnAnIdleRadioPaysPromotionConnectedTimeBytesAndTheWholeTail() {
        double[] j = DeviceEnergy.radioJoules(List.of(new Exchange(0, 10, 12, 1_000, 125_000, "lte")), 1, 100);
        // promotion 0.2601 s × 1210.7 mW; β 1288.04 mW × 2 s; 8 kbit up × 438.39 mW/Mbps, 1 Mbit down × 51.97; tail 11.576 s × 1060 mW
        double expected = 0.2601 * 1.2107 + 2 * 1.28804 + (438.39 * 0.008 + 51.97 * 1.0) / 1000 + 11.576 * 1.060;
        assertEquals(expected, j[0], 1e-6);
    }

    @Test
    void aSecondExchangeInsideTheTailCutsItAndPaysNoPromotion() {
        List<Exchange> two = List.of(new Exchange(0, 0, 1, 0, 0, "lte"), new Exchange(1, 3, 4, 0, 0, "lte"));
        double[] j = DeviceEnergy.radioJoules(two, 2, 1000);
        assertEquals(LTE.promotionJ() + 1.28804 + 2 * 1.060, j[0], 1e-6, "first: promotion, 1 s connected, tail cut after 2 s");
        assertEquals(1.28804 + LTE.tailJ(1e9), j[1], 1e-6, "second: no promotion, 1 s connected, full tail");
    }

    @Test
    void aSecondExchangeAfterTheTailPaysAnotherPromotion() {
        List<Exchange> two = List.of(new Exchange(0, 0, 1, 0, 0, "wifi"), new Exchange(1, 5, 6, 0, 0, "wifi"));
        double[] j = DeviceEnergy.radioJoules(two, 2, 1000);
        Radio wifi = DeviceEnergy.RADIO.get("wifi");
        assertEquals(j[0], j[1], 1e-12, "identical, independent exchanges cost the same");
        assertEquals(wifi.promotionJ() + wifi.betaMw() / 1000 + wifi.tailJ(1e9), j[1], 1e-9);
    }

    @Test
    void overlappingExchangesPayTheConnectedTimeOnce() {
        List<Exchange> overlap = List.of(new Exchange(0, 0, 2, 0, 0, "lte"), new Exchange(1, 1, 3, 0, 0, "lte"));
        double[] j = DeviceEnergy.radioJoules(overlap, 2, 3);
        // 3 s connected in all (not 4), one promotion, no tail (the run ends at 3 s)
        assertEquals(LTE.promotionJ() + 3 * 1.28804, j[0] + j[1], 1e-6);
    }

    @Test
    void theOrderOfTheListDoesNotMatter() {
        List<Exchange> a = List.of(new Exchange(0, 0, 1, 500, 900, "3g"), new Exchange(1, 4, 5, 700, 100, "3g"),
                new Exchange(2, 30, 31, 1, 1, "3g"));
        List<Exchange> b = List.of(a.get(2), a.get(0), a.get(1));
        double[] x = DeviceEnergy.radioJoules(a, 3, 60);
        double[] y = DeviceEnergy.radioJoules(b, 3, 60);
        for (int i = 0; i < 3; i++) {
            assertEquals(x[i], y[i], EPS);
        }
    }

    @Test
    void lteCostsMoreThanWifiForTheSameExchange() {
        Map<String, Double> j = new java.util.HashMap<>();
        for (String n : List.of("wifi", "lte", "3g")) {
            j.put(n, DeviceEnergy.radioJoules(List.of(new Exchange(0, 0, 0.5, 2_000, 4_000, n)), 1, 100)[0]);
        }
        assertTrue(j.get("lte") > j.get("wifi") && j.get("3g") > j.get("wifi"), j.toString());
    }

    @Test
    void unknownNetworksAndBackwardExchangesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> DeviceEnergy.radio("offline"));
        assertThrows(IllegalArgumentException.class, () -> new Exchange(0, 2, 1, 0, 0, "lte"));
    }

    @Test
    void gpuSecondsAndCostFollowTheCapacityModel() {
        FleetOptions o = new FleetOptions(Map.of("url", "http://127.0.0.1:1", "paraphrases", "none",
                "questions-file", "none"));
        // defaults: max batch 16, step 8 ms + 0.5 ms × 16 → 1,000 tokens/s at full batch; prefill 20 µs/token → 50,000/s
        assertEquals(1000, o.gpuTokensPerSecond, 1e-9);
        assertEquals(50_000, o.gpuPrefillTokensPerSecond, 1e-9);
        assertEquals(100_000 / 50_000.0 + 2_000 / 1000.0, FleetReport.gpuSeconds(o, 100_000, 2_000), 1e-12);
        // 3,600 GPU-seconds at 2.40 $/h + 2 M cloud tokens at 0.50 $/M
        assertEquals(2.40 + 1.00, FleetReport.dollars(o, 3600, 2_000_000), 1e-12);
    }
}
