package dev.offload.gateway.bench.routing;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * RouteLLM's measures of a router (Ong et al. 2024, section 5.1): sweep the threshold so that a
 * share c of the questions goes to the strong model, the ones the router trusts the weak model
 * least with first; quality(c) is the accuracy of the mix. PGR(c) = (quality(c) − q_weak) /
 * (q_strong − q_weak); APGR is the area under PGR over c ∈ [0, 1], computed exactly over all n+1
 * cut points (trapezoids); CPT(x) is the least c with PGR(c) ≥ x. Immutable, any thread.
 */
public final class RoutingCurve {
    private final double[] pgr;
    private final double[] quality;
    private final double weak;
    private final double strong;

    private RoutingCurve(double[] quality, double weak, double strong) {
        this.quality = quality;
        this.weak = weak;
        this.strong = strong;
        this.pgr = Arrays.stream(quality).map(q -> (q - weak) / (strong - weak)).toArray();
    }

    /**
     * @param localQuality per question, the router's P(weak is as good as strong); the lowest go
     *                     to the strong model first (ties in index order)
     */
    public static RoutingCurve of(double[] localQuality, boolean[] weakCorrect, boolean[] strongCorrect) {
        int n = localQuality.length;
        if (weakCorrect.length != n || strongCorrect.length != n || n == 0) {
            throw new IllegalArgumentException("lengths differ or empty");
        }
        Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> localQuality[i]).thenComparingInt(i -> i));
        int correct = 0;
        int strongTotal = 0;
        for (int i = 0; i < n; i++) {
            correct += weakCorrect[i] ? 1 : 0;
            strongTotal += strongCorrect[i] ? 1 : 0;
        }
        double[] q = new double[n + 1];
        q[0] = correct / (double) n;
        for (int k = 0; k < n; k++) {
            int i = order[k];
            correct += (strongCorrect[i] ? 1 : 0) - (weakCorrect[i] ? 1 : 0);
            q[k + 1] = correct / (double) n;
        }
        return new RoutingCurve(q, q[0], strongTotal / (double) n);
    }

    /** The oracle: only-strong-right questions first, only-weak-right ones last. */
    public static RoutingCurve oracle(boolean[] weakCorrect, boolean[] strongCorrect) {
        double[] s = new double[weakCorrect.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = weakCorrect[i] == strongCorrect[i] ? 0.5 : weakCorrect[i] ? 1 : 0;
        }
        return of(s, weakCorrect, strongCorrect);
    }

    public int size() {
        return quality.length - 1;
    }

    public double weakQuality() {
        return weak;
    }

    public double strongQuality() {
        return strong;
    }

    /** Quality when the share {@code c} of questions goes to the strong model (rounded to a whole question). */
    public double quality(double c) {
        return quality[index(c)];
    }

    public double pgr(double c) {
        return pgr[index(c)];
    }

    private int index(double c) {
        if (c < 0 || c > 1) {
            throw new IllegalArgumentException("share must be in [0,1]");
        }
        return (int) Math.round(c * size());
    }

    /** Mean PGR over c ∈ [0, 1] (trapezoids over every cut point). */
    public double apgr() {
        double sum = 0;
        for (int k = 0; k < size(); k++) {
            sum += (pgr[k] + pgr[k + 1]) / 2;
        }
        return sum / size();
    }

    /** Least share of strong calls whose PGR reaches {@code x}; NaN if it never does. */
    public double cpt(double x) {
        for (int k = 0; k <= size(); k++) {
            if (pgr[k] >= x - 1e-12) {
                return k / (double) size();
            }
        }
        return Double.NaN;
    }
}
