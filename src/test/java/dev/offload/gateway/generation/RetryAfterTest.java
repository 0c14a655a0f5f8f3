package dev.offload.gateway.generation;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Jittered Retry-After: never before the estimate, at most twice it, whole seconds, spread. */
class RetryAfterTest {
    @Test
    void spreadsOverWholeSecondsBetweenTheEstimateAndTwiceIt() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (long estimate : new long[]{0, 1, 999, 1000, 1001, 2500, 4000, 60_000}) {
            long seconds = Math.max(1, (estimate + 999) / 1000);
            Map<Long, Integer> counts = new TreeMap<>();
            int n = 2000;
            for (int i = 0; i < n; i++) {
                long ms = RetryAfter.jitteredMillis(estimate, random);
                assertEquals(0, ms % 1000, "whole seconds (seed " + seed + ")");
                assertTrue(ms >= seconds * 1000 && ms <= 2 * seconds * 1000,
                        ms + " ms outside [" + seconds + ", " + 2 * seconds + "] s (seed " + seed + ")");
                counts.merge(ms / 1000, 1, Integer::sum);
            }
            // Every value of the range appears, and none takes much more than its share: the
            // herd is split into seconds + 1 groups. (Binomial: 2000 draws over at most 61
            // values; 2.5x the mean share is far in the tail for every range tested here.)
            assertEquals(seconds + 1, counts.size(), "values " + counts + " (seed " + seed + ")");
            double share = (double) n / (seconds + 1);
            for (int c : counts.values()) {
                assertTrue(c < 2.5 * share, "uneven spread " + counts + " (seed " + seed + ")");
            }
        }
    }
}
