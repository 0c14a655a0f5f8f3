package dev.offload.gateway.bench.fleet;

import dev.offload.gateway.bench.fleet.Workload.Arrival;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Arrivals follow the timeline's load factors and bursts, and are the same for the same seed. */
class WorkloadTest {
    private static FleetOptions options(String... extra) {
        Map<String, String> a = new HashMap<>();
        a.put("url", "http://127.0.0.1:1");
        a.put("devices", "50");
        a.put("rate", "20");
        a.put("timeline", "wifi:50,lte:50:3,offline:50:0");
        a.put("bursts", "");
        a.put("paraphrases", "none");
        for (int i = 0; i + 1 < extra.length; i += 2) {
            a.put(extra[i], extra[i + 1]);
        }
        return new FleetOptions(a);
    }

    private static long count(List<Arrival> w, double from, double to) {
        return w.stream().filter(x -> x.atS() >= from && x.atS() < to).count();
    }

    @Test
    void ratesFollowTheLoadFactorsAndTheSeed() {
        FleetOptions o = options();
        QuestionPool pool = QuestionPool.load(null, 0, 1);
        List<Arrival> w = Workload.generate(o, pool, 5);
        long base = count(w, 0, 50);
        long triple = count(w, 50, 100);
        assertTrue(base > 800 && base < 1200, "about 20/s × 50 s, seed 5 gave " + base);
        assertTrue(triple > 2.5 * base && triple < 3.5 * base, "×3 phase: " + triple + " vs " + base);
        assertEquals(0, count(w, 100, 150), "a load factor of 0 sends nothing");
        assertEquals(w, Workload.generate(o, pool, 5), "same seed, same workload");
        assertFalse(w.equals(Workload.generate(o, pool, 6)));
        for (int i = 1; i < w.size(); i++) {
            assertTrue(w.get(i).atS() >= w.get(i - 1).atS(), "arrivals are in time order");
        }
    }

    @Test
    void manyQuietDevicesStillMakeAPoissonFleetFromTheFirstSecond() {
        // 400 devices at 0.01 queries/s each: the fleet's first 10 s must hold about 40 arrivals,
        // not the handful that correlated per-device seeds once gave
        List<Arrival> w = Workload.generate(options("devices", "400", "rate", "4", "timeline", "wifi:100"),
                QuestionPool.load(null, 0, 1), 42);
        for (int from = 0; from < 100; from += 10) {
            long n = count(w, from, from + 10);
            assertTrue(n > 15 && n < 70, "arrivals in " + from + "–" + (from + 10) + " s: " + n);
        }
    }

    @Test
    void aBurstMultipliesTheRateOnlyWhileItLasts() {
        List<Arrival> w = Workload.generate(options("bursts", "10:10:4"), QuestionPool.load(null, 0, 1), 3);
        long burst = count(w, 10, 20);
        long before = count(w, 0, 10);
        assertTrue(burst > 2.5 * before, "burst ×4: " + burst + " vs " + before);
    }

    @Test
    void queriesMixKindsRepeatsAndParaphrasesWithTheirBudgets() {
        FleetOptions o = options("repeat-share", "0.2", "paraphrase-share", "0.2");
        List<Arrival> w = Workload.generate(o, QuestionPool.load(null, 0, 1), 9);
        assertTrue(w.stream().anyMatch(a -> a.origin().equals("own-repeat")));
        assertTrue(w.stream().anyMatch(a -> a.origin().equals("paraphrase")));
        assertTrue(w.stream().anyMatch(a -> !a.history().isEmpty()));
        for (Arrival a : w) {
            int k = a.kind().ordinal();
            assertEquals(o.outputTokens[k], a.outputTokens());
            assertEquals(o.budgetsMs[k], a.budgetMs());
        }
    }

    @Test
    void badOptionsFailBeforeAnythingRuns() {
        assertThrows(IllegalArgumentException.class, () -> options("no-such-option", "1"));
        assertThrows(IllegalArgumentException.class, () -> options("timeline", "wifi:10,moon:5"));
        assertThrows(IllegalArgumentException.class, () -> options("transport", "carrier-pigeon"));
        assertThrows(IllegalArgumentException.class, () -> options("budgets-ms", "1000,2000"));
        assertThrows(IllegalArgumentException.class, () -> new FleetOptions(Map.of("devices", "3")),
                "neither --url nor --start");
    }
}
