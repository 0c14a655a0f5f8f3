package dev.offload.gateway.bench.routing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Three ways to read out-of-fold router estimates that came from one model per fold (issue #18 §1):
 * <ul>
 *   <li>{@link #pooled}: every fold's raw estimate in one ranking (what the harness printed so far;
 *       the five models' scales are mixed);</li>
 *   <li>{@link #perFold}: one curve per held-out fold from its own model's estimates, and their
 *       mean APGR / mean CPT — RouteLLM's "one router, one test set", five times;</li>
 *   <li>{@link #withinFoldPercentiles}: each fold's estimates replaced by their percentile among
 *       that fold's own estimates (no labels used), then pooled.</li>
 * </ul>
 * Static functions, any thread.
 */
final class FoldedCurves {
    private FoldedCurves() {
    }

    /** Mean of the per-fold figures. */
    record Summary(double apgr, double cpt50, double cpt80, List<RoutingCurve> folds) {
    }

    static RoutingCurve pooled(double[] score, boolean[] weak, boolean[] strong) {
        return RoutingCurve.of(score, weak, strong);
    }

    /** One curve per fold id in [0, folds) that has rows; the mean of their APGR, CPT(50 %), CPT(80 %). */
    static Summary perFold(double[] score, int[] fold, int folds, boolean[] weak, boolean[] strong) {
        check(score, fold, folds);
        List<RoutingCurve> curves = new ArrayList<>();
        for (int f = 0; f < folds; f++) {
            int ff = f;
            int[] idx = IntStream.range(0, fold.length).filter(i -> fold[i] == ff).toArray();
            if (idx.length == 0) {
                continue;
            }
            double[] s = new double[idx.length];
            boolean[] w = new boolean[idx.length];
            boolean[] g = new boolean[idx.length];
            for (int k = 0; k < idx.length; k++) {
                s[k] = score[idx[k]];
                w[k] = weak[idx[k]];
                g[k] = strong[idx[k]];
            }
            curves.add(RoutingCurve.of(s, w, g));
        }
        if (curves.isEmpty()) {
            throw new IllegalArgumentException("no rows");
        }
        return new Summary(curves.stream().mapToDouble(RoutingCurve::apgr).average().orElseThrow(),
                curves.stream().mapToDouble(c -> c.cpt(0.5)).average().orElseThrow(),
                curves.stream().mapToDouble(c -> c.cpt(0.8)).average().orElseThrow(), List.copyOf(curves));
    }

    /**
     * Each row's estimate replaced by its mid-rank percentile within its own fold, in (0, 1):
     * (number of the fold's rows with a lower estimate + half the number of ties counting itself) / fold size.
     */
    static double[] withinFoldPercentiles(double[] score, int[] fold, int folds) {
        check(score, fold, folds);
        double[] out = new double[score.length];
        for (int f = 0; f < folds; f++) {
            int ff = f;
            Integer[] idx = IntStream.range(0, fold.length).filter(i -> fold[i] == ff).boxed().toArray(Integer[]::new);
            Arrays.sort(idx, Comparator.comparingDouble(i -> score[i]));
            int n = idx.length;
            for (int a = 0; a < n; ) {
                int b = a;
                while (b + 1 < n && score[idx[b + 1]] == score[idx[a]]) {
                    b++;
                }
                double p = (a + (b - a + 1) / 2.0) / n;
                for (int t = a; t <= b; t++) {
                    out[idx[t]] = p;
                }
                a = b + 1;
            }
        }
        return out;
    }

    private static void check(double[] score, int[] fold, int folds) {
        if (score.length != fold.length) {
            throw new IllegalArgumentException("lengths differ");
        }
        for (int f : fold) {
            if (f < 0 || f >= folds) {
                throw new IllegalArgumentException("fold id " + f + " outside [0," + folds + ")");
            }
        }
    }
}
