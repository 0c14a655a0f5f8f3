package dev.offload.gateway.bench.routing;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FoldedCurvesTest {
    // Two folds of four; in each, weak right on the first two, strong right on all (q_weak .5, q_strong 1).
    // Fold 0's model ranks perfectly on a low scale, fold 1's perfectly on a high scale.
    private static final int[] FOLD = {0, 0, 0, 0, 1, 1, 1, 1};
    private static final boolean[] WEAK = {true, true, false, false, true, true, false, false};
    private static final boolean[] STRONG = {true, true, true, true, true, true, true, true};
    private static final double[] SCORE = {0.30, 0.20, 0.01, 0.02, 0.99, 0.98, 0.60, 0.70};

    @Test
    void perFoldCurvesUseEachFoldsOwnRanking() {
        FoldedCurves.Summary s = FoldedCurves.perFold(SCORE, FOLD, 2, WEAK, STRONG);
        // each fold: PGR at k = 0..4 is 0, .5, 1, 1, 1 → APGR (.25 + .75 + 1 + 1) / 4 = .75; CPT(50 %) 1/4, CPT(80 %) 2/4
        assertEquals(2, s.folds().size());
        assertEquals(0.75, s.apgr(), 1e-12);
        assertEquals(0.25, s.cpt50(), 1e-12);
        assertEquals(0.5, s.cpt80(), 1e-12);
    }

    @Test
    void poolingRawScoresMixesTheScales() {
        // pooled order (lowest first): 0.01,0.02 (fold 0 weak wrong), 0.20,0.30 (fold 0 weak right, no gain),
        // 0.60,0.70 (fold 1 weak wrong), 0.98,0.99. Gains per step of 8: +,+,0,0,+,+,0,0 (each 1/8 of q, 1/4 of the gap)
        // PGR at k = 0..8: 0,.25,.5,.5,.5,.75,1,1,1 → trapezoid sum .125+.375+.5+.5+.625+.875+1+1 = 5 → APGR 5/8
        assertEquals(0.625, FoldedCurves.pooled(SCORE, WEAK, STRONG).apgr(), 1e-12);
        // percentiles put both folds on one scale: the four weak-wrong rows come first → the oracle's 0.75
        double[] pct = FoldedCurves.withinFoldPercentiles(SCORE, FOLD, 2);
        assertEquals(0.75, FoldedCurves.pooled(pct, WEAK, STRONG).apgr(), 1e-12);
    }

    @Test
    void percentilesAreMidRanksWithinTheFold() {
        double[] pct = FoldedCurves.withinFoldPercentiles(new double[]{5, 1, 1, 9, 3, 4}, new int[]{0, 0, 0, 0, 1, 1}, 2);
        // fold 0 sorted 1,1,5,9: the tie shares ranks 0..1 → (0 + 2/2) / 4 = .25; 5 → (2 + .5) / 4; 9 → (3 + .5) / 4
        // fold 1: 3 → .5 / 2, 4 → 1.5 / 2
        assertArrayEquals(new double[]{0.625, 0.25, 0.25, 0.875, 0.25, 0.75}, pct, 1e-12);
    }

    @Test
    void badInputIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> FoldedCurves.withinFoldPercentiles(new double[]{1}, new int[]{2}, 2));
        assertThrows(IllegalArgumentException.class, () -> FoldedCurves.perFold(new double[]{1, 2}, new int[]{0}, 1,
                new boolean[2], new boolean[2]));
    }
}
