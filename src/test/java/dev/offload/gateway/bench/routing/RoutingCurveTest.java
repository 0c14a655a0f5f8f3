package dev.offload.gateway.bench.routing;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RoutingCurveTest {
    // weak right on 0,1; strong right on 0,1,2,3 → q_weak 0.5, q_strong 1.0
    private static final boolean[] WEAK = {true, true, false, false};
    private static final boolean[] STRONG = {true, true, true, true};

    @Test
    void endpointsAreTheTwoModels() {
        RoutingCurve c = RoutingCurve.of(new double[]{0.1, 0.2, 0.3, 0.4}, WEAK, STRONG);
        assertEquals(0.5, c.quality(0), 1e-12);
        assertEquals(1.0, c.quality(1), 1e-12);
        assertEquals(0, c.pgr(0), 1e-12);
        assertEquals(1, c.pgr(1), 1e-12);
    }

    @Test
    void aPerfectRankingRecoversTheGapWithHalfTheCalls() {
        // Questions 2 and 3 (weak wrong) get the lowest estimates.
        RoutingCurve c = RoutingCurve.of(new double[]{0.9, 0.8, 0.1, 0.2}, WEAK, STRONG);
        assertEquals(0.25, c.cpt(0.5), 1e-12); // PGR 0.5 after one call of four, 1.0 after two
        assertEquals(0.5, c.cpt(0.8), 1e-12);
        // PGR at k = 0..4: 0, .5, 1, 1, 1 → trapezoids (.25 + .75 + 1 + 1) / 4
        assertEquals(0.75, c.apgr(), 1e-12);
        assertEquals(c.apgr(), RoutingCurve.oracle(WEAK, STRONG).apgr(), 1e-12);
    }

    @Test
    void theWorstRankingSpendsTheCallsLast() {
        RoutingCurve c = RoutingCurve.of(new double[]{0.1, 0.2, 0.9, 0.8}, WEAK, STRONG);
        assertEquals(0.75, c.cpt(0.5), 1e-12);
        assertEquals(0.25, c.apgr(), 1e-12);
    }

    @Test
    void randomScoresGiveAboutHalf() {
        long seed = 7;
        Random rnd = new Random(seed);
        int n = 20_000;
        boolean[] w = new boolean[n];
        boolean[] s = new boolean[n];
        double[] score = new double[n];
        for (int i = 0; i < n; i++) {
            w[i] = rnd.nextDouble() < 0.68;
            s[i] = rnd.nextDouble() < 0.80;
            score[i] = rnd.nextDouble();
        }
        RoutingCurve c = RoutingCurve.of(score, w, s);
        assertEquals(0.5, c.apgr(), 0.03, "seed " + seed);
        assertEquals(0.5, c.cpt(0.5), 0.05, "seed " + seed);
        assertTrue(RoutingCurve.oracle(w, s).apgr() > 0.9);
    }
}
