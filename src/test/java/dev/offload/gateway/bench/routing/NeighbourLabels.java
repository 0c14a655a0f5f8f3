package dev.offload.gateway.bench.routing;

import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Neighbour-label features for the router experiments (RouteLLM's similarity-weighted ranking
 * idea, Ong et al. 2024 §4.1, used here as inputs rather than as the router): for a question, the
 * similarity-weighted means of {@code weak_correct}, {@code strong_correct} and "weak as good"
 * over its k nearest labelled questions by embedding cosine, drawn only from folds the caller
 * allows. So that a training row never sees its own label (nor its own fold's, which on the
 * subject split would be its own subject's), the caller excludes the row's own fold and every
 * held-out fold: out of fold at every level of the nesting.
 *
 * <p>Built once per fold assignment: for every question and every fold, the {@code maxK} most
 * similar questions of that fold (brute force over unit vectors, so cosine = dot product). A
 * query with excluded folds merges the allowed folds' lists. Immutable after construction; any
 * thread.
 */
final class NeighbourLabels {
    static final String[] NAMES = {"knn_weak", "knn_strong", "knn_as_good"};

    private final int[] fold;
    private final int folds;
    private final int maxK;
    /** [row][fold][rank]: neighbour index and similarity, most similar first. */
    private final int[][][] index;
    private final float[][][] similarity;
    private final boolean[] weak;
    private final boolean[] strong;

    NeighbourLabels(List<float[]> embeddings, int[] fold, int folds, int maxK, boolean[] weak, boolean[] strong) {
        this.fold = fold;
        this.folds = folds;
        this.maxK = maxK;
        this.weak = weak;
        this.strong = strong;
        int n = embeddings.size();
        int dim = embeddings.get(0).length;
        if (dim % 4 != 0) {
            throw new IllegalArgumentException("dimension must be a multiple of 4");
        }
        float[] flat = new float[n * dim];
        for (int i = 0; i < n; i++) {
            System.arraycopy(embeddings.get(i), 0, flat, i * dim, dim);
        }
        index = new int[n][][];
        similarity = new float[n][][];
        IntStream.range(0, n).parallel().forEach(i -> {
            int[][] idx = new int[folds][maxK];
            float[][] sim = new float[folds][maxK];
            int[] size = new int[folds];
            for (float[] s : sim) {
                Arrays.fill(s, Float.NEGATIVE_INFINITY);
            }
            int a = i * dim;
            for (int j = 0; j < n; j++) {
                if (j == i) {
                    continue;
                }
                int b = j * dim;
                float d0 = 0, d1 = 0, d2 = 0, d3 = 0;
                for (int k = 0; k < dim; k += 4) {
                    d0 += flat[a + k] * flat[b + k];
                    d1 += flat[a + k + 1] * flat[b + k + 1];
                    d2 += flat[a + k + 2] * flat[b + k + 2];
                    d3 += flat[a + k + 3] * flat[b + k + 3];
                }
                float d = (d0 + d1) + (d2 + d3);
                int g = fold[j];
                float[] s = sim[g];
                if (size[g] < maxK || d > s[maxK - 1]) {
                    // insertion into the sorted top list (maxK is small)
                    int p = Math.min(size[g], maxK - 1);
                    while (p > 0 && s[p - 1] < d) {
                        s[p] = s[p - 1];
                        idx[g][p] = idx[g][p - 1];
                        p--;
                    }
                    s[p] = d;
                    idx[g][p] = j;
                    if (size[g] < maxK) {
                        size[g]++;
                    }
                }
            }
            index[i] = idx;
            similarity[i] = sim;
        });
    }

    /**
     * The three features of row {@code i} over its {@code k} nearest neighbours in the folds not in
     * {@code excluded} (a bit set over fold ids), each similarity-weighted and shrunk toward the
     * allowed rows' overall rates by {@code prior} pseudo-neighbours.
     */
    double[] features(int i, int excludedMask, int k, double prior, double[] overall) {
        if (k > maxK) {
            throw new IllegalArgumentException("k > " + maxK);
        }
        int[] pos = new int[folds];
        double w = prior;
        double sw = prior * overall[0];
        double ss = prior * overall[1];
        double sg = prior * overall[2];
        for (int taken = 0; taken < k; taken++) {
            int best = -1;
            float bestSim = Float.NEGATIVE_INFINITY;
            for (int g = 0; g < folds; g++) {
                if ((excludedMask & (1 << g)) != 0 || pos[g] >= maxK) {
                    continue;
                }
                float s = similarity[i][g][pos[g]];
                if (s > bestSim) {
                    bestSim = s;
                    best = g;
                }
            }
            if (best < 0 || bestSim == Float.NEGATIVE_INFINITY) {
                break;
            }
            int j = index[i][best][pos[best]++];
            double wt = Math.max(0, bestSim);
            w += wt;
            sw += wt * (weak[j] ? 1 : 0);
            ss += wt * (strong[j] ? 1 : 0);
            sg += wt * (weak[j] || !strong[j] ? 1 : 0);
        }
        return new double[]{sw / w, ss / w, sg / w};
    }

    /** Overall rates (weak, strong, as good) over the rows whose fold is not excluded. */
    double[] overall(int excludedMask) {
        double n = 0, a = 0, b = 0, c = 0;
        for (int j = 0; j < fold.length; j++) {
            if ((excludedMask & (1 << fold[j])) != 0) {
                continue;
            }
            n++;
            a += weak[j] ? 1 : 0;
            b += strong[j] ? 1 : 0;
            c += weak[j] || !strong[j] ? 1 : 0;
        }
        return new double[]{a / n, b / n, c / n};
    }

    int fold(int i) {
        return fold[i];
    }
}
