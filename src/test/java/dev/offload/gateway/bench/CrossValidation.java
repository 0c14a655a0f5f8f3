package dev.offload.gateway.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * K-fold cross-validation over queries for choosing retrieval settings from a grid.
 *
 * <p>{@link #folds} splits query ids into k disjoint test folds (sizes differ by at most one)
 * after sorting them and shuffling with a seeded {@link Random}, so a fold depends on the ids
 * and the seed only, not on the order they were read in. {@link #run} then, on each fold,
 * picks the setting with the best mean score over the training queries (ties: the earlier
 * setting in grid order) and scores that setting on the held-out queries alone.
 *
 * <p>The per-query scores are computed once for every setting on every query: a setting has no
 * parameters learned from data, so scoring it on a query does not depend on which queries were
 * used for the choice; only the choice is made on training queries. Plain Java, no state;
 * thread-safe.
 */
final class CrossValidation {
    private CrossValidation() {
    }

    /** One fold: the queries the choice is made on, and the disjoint queries it is scored on. */
    record Fold(List<String> train, List<String> test) {
        Fold {
            train = List.copyOf(train);
            test = List.copyOf(test);
        }
    }

    /** One fold's outcome: the setting chosen on its training queries and its mean on the test queries. */
    record FoldResult(String chosen, double trainMean, double testMean, int testQueries) {
    }

    /** All folds' outcomes; {@link #mean} weights folds by their number of test queries (the mean over all queries). */
    record Result(List<FoldResult> folds) {
        double mean() {
            double sum = 0;
            int n = 0;
            for (FoldResult f : folds) {
                sum += f.testMean() * f.testQueries();
                n += f.testQueries();
            }
            return n == 0 ? Double.NaN : sum / n;
        }
    }

    static List<Fold> folds(List<String> queryIds, int k, long seed) {
        if (k < 2) {
            throw new IllegalArgumentException("k must be >= 2, was " + k);
        }
        Set<String> unique = new HashSet<>(queryIds);
        if (unique.size() != queryIds.size()) {
            throw new IllegalArgumentException("query ids must be distinct");
        }
        if (queryIds.size() < k) {
            throw new IllegalArgumentException(k + " folds need at least " + k + " queries, got " + queryIds.size());
        }
        List<String> ids = new ArrayList<>(queryIds);
        Collections.sort(ids);
        Collections.shuffle(ids, new Random(seed));
        List<List<String>> tests = new ArrayList<>();
        for (int f = 0; f < k; f++) {
            tests.add(new ArrayList<>());
        }
        for (int i = 0; i < ids.size(); i++) {
            tests.get(i % k).add(ids.get(i));
        }
        List<Fold> out = new ArrayList<>(k);
        for (List<String> test : tests) {
            Set<String> held = new HashSet<>(test);
            List<String> train = ids.stream().filter(q -> !held.contains(q)).toList();
            out.add(new Fold(train, test));
        }
        return out;
    }

    /**
     * @param scores setting name → query id → score (higher is better), in grid order; every
     *               setting must score every query of every fold
     */
    static Result run(Map<String, Map<String, Double>> scores, List<Fold> folds) {
        if (scores.isEmpty()) {
            throw new IllegalArgumentException("no settings to choose from");
        }
        List<FoldResult> out = new ArrayList<>(folds.size());
        for (Fold fold : folds) {
            String best = choose(scores, fold.train());
            out.add(new FoldResult(best, mean(scores.get(best), fold.train()), mean(scores.get(best), fold.test()),
                    fold.test().size()));
        }
        return new Result(out);
    }

    /** The setting with the best mean over {@code queries}; the earlier one in grid order on a tie. */
    static String choose(Map<String, Map<String, Double>> scores, List<String> queries) {
        String best = null;
        double bestMean = Double.NEGATIVE_INFINITY;
        for (Map.Entry<String, Map<String, Double>> e : scores.entrySet()) {
            double m = mean(e.getValue(), queries);
            if (m > bestMean) {
                bestMean = m;
                best = e.getKey();
            }
        }
        return best;
    }

    static double mean(Map<String, Double> perQuery, List<String> queries) {
        double sum = 0;
        for (String q : queries) {
            Double v = perQuery.get(q);
            if (v == null) {
                throw new IllegalArgumentException("no score for query " + q);
            }
            sum += v;
        }
        return sum / queries.size();
    }

    /** A fixed setting (nothing chosen) scored fold by fold, for side-by-side rows. */
    static Result fixed(String name, Map<String, Double> perQuery, List<Fold> folds) {
        Map<String, Map<String, Double>> one = new LinkedHashMap<>();
        one.put(name, perQuery);
        return run(one, folds);
    }
}
