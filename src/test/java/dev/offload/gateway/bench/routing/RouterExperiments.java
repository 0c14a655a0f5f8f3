package dev.offload.gateway.bench.routing;

import dev.offload.gateway.bench.FoldedLogistic;
import dev.offload.gateway.offload.policy.QueryFeatures;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Exploration only (issue #18 §1, not shipped): variants of the router scored out of fold on the
 * same folds as {@link RouterTraining}, with every choice (k, interaction set) made by inner
 * cross-validation on the training folds only (their own fold ids as the inner groups, so the
 * subject split keeps whole subjects together there too). Variants:
 * <ul>
 *   <li>{@code knn-alone}: the neighbour "weak as good" rate as the score (no training; k by inner CV);</li>
 *   <li>{@code shipped+knn}: the shipped inputs (embedding + 19 features) plus the three
 *       {@link NeighbourLabels} features, the shipped SGD settings;</li>
 *   <li>{@code features+knn}: the 19 features plus the neighbour features, no embedding;</li>
 *   <li>{@code shipped+interactions}: the shipped inputs with or without six products of the
 *       answer-option features with the length features (the choice by inner CV);</li>
 *   <li>{@code forward}: greedy forward selection over the 19 features (with
 *       {@code --forward-embedding} the embedding block is a candidate, with {@code --forward-k K}
 *       the neighbour block), at most {@code --max-steps}, by inner-CV APGR;</li>
 *   <li>{@code shipped}: the shipped inputs and settings in this harness (the baseline);</li>
 *   <li>{@code --disagreement-only}: any of them trained only on questions where exactly one model is right.</li>
 * </ul>
 * {@code ./mvnw -q test-compile exec:exec@router -Dbench.args="--no-write --experiments knn-alone,shipped+knn --splits subjects --ks 10,30,100"}
 * (results in offload.md, "What was tried"). Exploration code: one thread per fit, not thread-safe.
 */
final class RouterExperiments {
    private RouterExperiments() {
    }

    private static final String[][] INTERACTIONS = {{"option_overlap", "log_chars"}, {"option_overlap", "log_stem_chars"},
            {"option_overlap", "options"}, {"log_stem_chars", "log_option_chars"}, {"negation", "options"},
            {"option_spread", "log_option_chars"}};

    /** What goes into a row. */
    record Variant(boolean embedding, int featureMask, int k, boolean interactions) {
        static final int ALL = (1 << QueryFeatures.count()) - 1;

        Variant(boolean embedding, boolean features, int k, boolean interactions) {
            this(embedding, features ? ALL : 0, k, interactions);
        }

        String describe() {
            String f = featureMask == ALL ? "19f" : featureMask == 0 ? "" : "{" + String.join(",",
                    java.util.stream.IntStream.range(0, QueryFeatures.count()).filter(j -> (featureMask & (1 << j)) != 0)
                            .mapToObj(j -> QueryFeatures.NAMES[j]).toList()) + "}";
            return (embedding ? "emb+" : "") + f + (k > 0 ? "+knn" + k : "") + (interactions ? "+inter" : "");
        }
    }

    private static final double PRIOR = 1.0;
    /**
     * {@code --disagreement-only}: train only on the questions where exactly one model is right
     * (label: the weak one), so the score ranks by P(weak right | they differ) — the part of the
     * routing gain the "as good" label blurs with ties.
     */
    static boolean DISAGREEMENT_ONLY;
    /** {@code forest}: {trees, max depth} of a Tribuo random forest in place of the logistic fit; null: logistic. */
    static int[] FOREST;

    static void run(Map<String, String> a, List<RouterTraining.Question> qs, List<float[]> emb, boolean[] weak, boolean[] strong,
                    int[] randomFold, int[] subjectFold, int folds, long seed) {
        int[] ks = Arrays.stream(a.getOrDefault("ks", "10,30,100").split(",")).mapToInt(Integer::parseInt).toArray();
        DISAGREEMENT_ONLY = a.containsKey("disagreement-only");
        int maxK = Arrays.stream(ks).max().orElse(100);
        double[][] feats = new double[qs.size()][];
        for (int i = 0; i < feats.length; i++) {
            feats[i] = QueryFeatures.of(qs.get(i).prompt());
        }
        boolean[] asGood = new boolean[qs.size()];
        for (int i = 0; i < asGood.length; i++) {
            asGood[i] = weak[i] || !strong[i];
        }
        FoldedLogistic.Settings sgd = new FoldedLogistic.Settings(Integer.parseInt(a.getOrDefault("epochs", "3")),
                Double.parseDouble(a.getOrDefault("lr", "0.05")), seed);
        for (String split : a.getOrDefault("splits", "subjects,random").split(",")) {
            int[] fold = split.equals("random") ? randomFold : subjectFold;
            long t0 = System.nanoTime();
            String exps = a.getOrDefault("experiments", "knn-alone,shipped+knn");
            boolean needKnn = exps.contains("knn") || exps.contains("forest") || Integer.parseInt(a.getOrDefault("forward-k", "0")) > 0;
            NeighbourLabels nl = needKnn ? new NeighbourLabels(emb, fold, folds, maxK, weak, strong) : null;
            System.out.printf(Locale.ROOT, "%s: neighbour lists (%d per fold) in %.1f s%n", split, maxK, (System.nanoTime() - t0) / 1e9);
            Ctx c = new Ctx(emb, feats, nl, fold, folds, weak, strong, asGood, sgd);
            for (String ex : a.getOrDefault("experiments", "knn-alone,shipped+knn").split(",")) {
                t0 = System.nanoTime();
                double[] oof = switch (ex) {
                    case "knn-alone" -> c.nestedKnnAlone(ks);
                    case "shipped" -> c.outer(List.of(new Variant(true, true, 0, false)));
                    case "shipped+knn" -> c.outer(Arrays.stream(ks).mapToObj(k -> new Variant(true, true, k, false)).toList());
                    case "features+knn" -> c.outer(Arrays.stream(ks).mapToObj(k -> new Variant(false, true, k, false)).toList());
                    case "shipped+interactions" -> c.outer(List.of(new Variant(true, true, 0, false), new Variant(true, true, 0, true)));
                    case "forward" -> c.forward(Integer.parseInt(a.getOrDefault("max-steps", "6")), a.containsKey("forward-embedding"),
                            Integer.parseInt(a.getOrDefault("forward-k", "0")));
                    case "forest" -> {
                        FOREST = new int[]{Integer.parseInt(a.getOrDefault("trees", "50")), Integer.parseInt(a.getOrDefault("depth", "8"))};
                        yield c.outer(Arrays.stream(ks).mapToObj(k -> new Variant(false, true, k, false)).toList());
                    }
                    case "interactions-only" -> c.outer(List.of(new Variant(true, true, 0, true)));
                    default -> throw new IllegalArgumentException("unknown experiment " + ex);
                };
                RoutingCurve r = RoutingCurve.of(oof, weak, strong);
                System.out.printf(Locale.ROOT, "RESULT %s %s: APGR %.3f CPT50 %.1f %% CPT80 %.1f %% PGR@20 %.2f PGR@50 %.2f (%.0f s)%n",
                        split, ex, r.apgr(), 100 * r.cpt(0.5), 100 * r.cpt(0.8), r.pgr(0.2), r.pgr(0.5), (System.nanoTime() - t0) / 1e9);
                FoldedCurves.Summary pf = FoldedCurves.perFold(oof, fold, folds, weak, strong);
                RoutingCurve pr = FoldedCurves.pooled(FoldedCurves.withinFoldPercentiles(oof, fold, folds), weak, strong);
                System.out.printf(Locale.ROOT, "RESULT %s %s per-fold mean: APGR %.3f CPT50 %.1f %% CPT80 %.1f %% (folds %s)%n", split, ex,
                        pf.apgr(), 100 * pf.cpt50(), 100 * pf.cpt80(), pf.folds().stream()
                                .map(fc -> String.format(Locale.ROOT, "%.3f/%.1f%%", fc.apgr(), 100 * fc.cpt(0.5))).toList());
                System.out.printf(Locale.ROOT, "RESULT %s %s pooled percentiles: APGR %.3f CPT50 %.1f %% CPT80 %.1f %%%n", split, ex,
                        pr.apgr(), 100 * pr.cpt(0.5), 100 * pr.cpt(0.8));
            }
        }
    }

    private record Ctx(List<float[]> emb, double[][] feats, NeighbourLabels nl, int[] fold, int folds, boolean[] weak,
                       boolean[] strong, boolean[] asGood, FoldedLogistic.Settings sgd) {

        double[] row(int i, Variant v, int held, double[] overall) {
            int dim = v.embedding ? emb.get(i).length : 0;
            int nf = Integer.bitCount(v.featureMask);
            int nk = v.k > 0 ? NeighbourLabels.NAMES.length : 0;
            int ni = v.interactions ? INTERACTIONS.length : 0;
            double[] x = new double[dim + nf + nk + ni];
            for (int d = 0; d < dim; d++) {
                x[d] = emb.get(i)[d];
            }
            for (int j = 0, o = dim; j < feats[i].length; j++) {
                if ((v.featureMask & (1 << j)) != 0) {
                    x[o++] = feats[i][j];
                }
            }
            if (nk > 0) {
                System.arraycopy(nl.features(i, held | (1 << fold[i]), v.k, PRIOR, overall), 0, x, dim + nf, nk);
            }
            for (int t = 0; t < ni; t++) {
                x[dim + nf + nk + t] = feats[i][at(INTERACTIONS[t][0])] * feats[i][at(INTERACTIONS[t][1])];
            }
            return x;
        }

        static int at(String name) {
            return Arrays.asList(QueryFeatures.NAMES).indexOf(name);
        }

        /** Trains on rows whose fold is not in {@code held}; scores rows whose fold is {@code testFold}. */
        double[] fitScore(Variant v, int held, int trainMask, List<Integer> test) {
            List<double[]> rows = new ArrayList<>();
            List<Boolean> ys = new ArrayList<>();
            // the overall rates for the shrinkage: the training rows' own (their features' reference set varies by fold;
            // one prior per level keeps it simple and leak-free)
            double[] overall = nl == null ? null : nl.overall(held);
            for (int i = 0; i < fold.length; i++) {
                if ((trainMask & (1 << fold[i])) == 0 || (DISAGREEMENT_ONLY && weak[i] == strong[i])) {
                    continue;
                }
                rows.add(row(i, v, held, overall));
                ys.add(asGood[i]);
            }
            boolean[] y = new boolean[ys.size()];
            for (int r = 0; r < y.length; r++) {
                y[r] = ys.get(r);
            }
            String[] names = new String[rows.get(0).length];
            for (int d = 0; d < names.length; d++) {
                names[d] = String.format(Locale.ROOT, "x%03d", d);
            }
            if (FOREST != null) {
                return forestScore(names, rows, y, v, held, overall, test);
            }
            FoldedLogistic.Fit f = FoldedLogistic.fit("routellm-mmlu", names, rows, y, null, RouterTrainer.LOCAL,
                    RouterTrainer.GATEWAY, sgd);
            double[] out = new double[test.size()];
            for (int t = 0; t < out.length; t++) {
                double[] x = row(test.get(t), v, held, overall);
                double z = f.bias();
                for (int d = 0; d < x.length; d++) {
                    z += f.weights()[d] * x[d];
                }
                out[t] = 1 / (1 + Math.exp(-z));
            }
            return out;
        }

        /**
         * A random forest (Tribuo {@link org.tribuo.common.tree.RandomForestTrainer}: bootstrap samples,
         * CART trees on Gini impurity, half the features tried per split) whose members' leaf
         * distributions are averaged ({@link org.tribuo.classification.ensemble.FullyWeightedVotingCombiner});
         * the score is the averaged P(weak as good).
         */
        double[] forestScore(String[] names, List<double[]> rows, boolean[] y, Variant v, int held, double[] overall, List<Integer> test) {
            org.tribuo.classification.LabelFactory factory = new org.tribuo.classification.LabelFactory();
            org.tribuo.classification.Label pos = RouterTrainer.LOCAL;
            org.tribuo.classification.Label neg = RouterTrainer.GATEWAY;
            List<org.tribuo.Example<org.tribuo.classification.Label>> ex = new ArrayList<>(rows.size());
            for (int r = 0; r < rows.size(); r++) {
                ex.add(new org.tribuo.impl.ArrayExample<>(y[r] ? pos : neg, names, rows.get(r)));
            }
            org.tribuo.MutableDataset<org.tribuo.classification.Label> data = new org.tribuo.MutableDataset<>(
                    new org.tribuo.datasource.ListDataSource<>(ex, factory, new org.tribuo.provenance.SimpleDataSourceProvenance("routellm-mmlu", factory)));
            var cart = new org.tribuo.classification.dtree.CARTClassificationTrainer(FOREST[1], 0.5f, sgd.seed());
            var rf = new org.tribuo.common.tree.RandomForestTrainer<>(cart,
                    new org.tribuo.classification.ensemble.FullyWeightedVotingCombiner(), FOREST[0], sgd.seed());
            org.tribuo.Model<org.tribuo.classification.Label> m = rf.train(data);
            double[] out = new double[test.size()];
            for (int t = 0; t < out.length; t++) {
                var p = m.predict(new org.tribuo.impl.ArrayExample<>(pos, names, row(test.get(t), v, held, overall)));
                var sc = p.getOutputScores().get(RouterTrainer.LOCAL.getLabel());
                out[t] = sc == null ? 0 : sc.getScore();
            }
            return out;
        }

        int all() {
            return (1 << folds) - 1;
        }

        List<Integer> rowsOf(int mask) {
            List<Integer> r = new ArrayList<>();
            for (int i = 0; i < fold.length; i++) {
                if ((mask & (1 << fold[i])) != 0) {
                    r.add(i);
                }
            }
            return r;
        }

        double innerApgr(List<Integer> idx, double[] score) {
            boolean[] w = new boolean[idx.size()];
            boolean[] s = new boolean[idx.size()];
            for (int k = 0; k < w.length; k++) {
                w[k] = weak[idx.get(k)];
                s[k] = strong[idx.get(k)];
            }
            return RoutingCurve.of(score, w, s).apgr();
        }

        /** Outer folds; among several variants the one with the best inner APGR is refitted (one variant: plain). */
        double[] outer(List<Variant> grid) {
            double[] oof = new double[fold.length];
            for (int f = 0; f < folds; f++) {
                int held = 1 << f;
                Variant chosen = grid.get(0);
                if (grid.size() > 1) {
                    double best = Double.NEGATIVE_INFINITY;
                    for (Variant v : grid) {
                        double apgr = innerScore(f, v);
                        System.out.printf(Locale.ROOT, "    outer %d %s: inner APGR %.4f%n", f, v.describe(), apgr);
                        if (apgr > best) {
                            best = apgr;
                            chosen = v;
                        }
                    }
                }
                List<Integer> test = rowsOf(held);
                double[] p = fitScore(chosen, held, all() & ~held, test);
                for (int t = 0; t < p.length; t++) {
                    oof[test.get(t)] = p[t];
                }
                RoutingCurve fc = RoutingCurve.of(p, bools(test, weak), bools(test, strong));
                System.out.printf(Locale.ROOT, "  outer fold %d: %s (fold APGR %.3f)%n", f, chosen.describe(), fc.apgr());
            }
            return oof;
        }

        boolean[] bools(List<Integer> idx, boolean[] src) {
            boolean[] b = new boolean[idx.size()];
            for (int k = 0; k < b.length; k++) {
                b[k] = src[idx.get(k)];
            }
            return b;
        }

        /** Inner-CV APGR of one variant on the training folds of outer fold {@code f}. */
        double innerScore(int f, Variant v) {
            int held = 1 << f;
            List<Integer> idx = rowsOf(all() & ~held);
            double[] inner = new double[fold.length];
            for (int g = 0; g < folds; g++) {
                if (g == f) {
                    continue;
                }
                int h = held | (1 << g);
                List<Integer> test = rowsOf(1 << g);
                double[] p = fitScore(v, h, all() & ~h, test);
                for (int t = 0; t < p.length; t++) {
                    inner[test.get(t)] = p[t];
                }
            }
            return innerApgr(idx, idx.stream().mapToDouble(i -> inner[i]).toArray());
        }

        /**
         * Greedy forward selection per outer fold: start from nothing, add the candidate (one of the
         * 19 features; the embedding block and the neighbour block if allowed) that raises the
         * inner-CV APGR most, stop when none raises it by 0.001 or after {@code maxSteps}; refit the
         * chosen set on all training folds and score the outer fold.
         */
        double[] forward(int maxSteps, boolean allowEmbedding, int k) {
            double[] oof = new double[fold.length];
            int nf = QueryFeatures.count();
            for (int f = 0; f < folds; f++) {
                Variant cur = new Variant(false, 0, 0, false);
                double curScore = Double.NEGATIVE_INFINITY;
                for (int step = 0; step < maxSteps; step++) {
                    Variant bestV = null;
                    double best = Double.NEGATIVE_INFINITY;
                    List<Variant> cands = new ArrayList<>();
                    for (int j = 0; j < nf; j++) {
                        if ((cur.featureMask() & (1 << j)) == 0) {
                            cands.add(new Variant(cur.embedding(), cur.featureMask() | (1 << j), cur.k(), false));
                        }
                    }
                    if (allowEmbedding && !cur.embedding()) {
                        cands.add(new Variant(true, cur.featureMask(), cur.k(), false));
                    }
                    if (k > 0 && cur.k() == 0) {
                        cands.add(new Variant(cur.embedding(), cur.featureMask(), k, false));
                    }
                    for (Variant v : cands) {
                        if (v.featureMask() == 0 && !v.embedding() && v.k() == 0) {
                            continue;
                        }
                        double sc = innerScore(f, v);
                        if (sc > best) {
                            best = sc;
                            bestV = v;
                        }
                    }
                    if (bestV == null || best < curScore + 0.001) {
                        break;
                    }
                    cur = bestV;
                    curScore = best;
                    System.out.printf(Locale.ROOT, "    outer %d step %d: %s inner APGR %.4f%n", f, step, cur.describe(), curScore);
                }
                int held = 1 << f;
                List<Integer> test = rowsOf(held);
                double[] p = fitScore(cur, held, all() & ~held, test);
                for (int t = 0; t < p.length; t++) {
                    oof[test.get(t)] = p[t];
                }
                System.out.printf(Locale.ROOT, "  outer fold %d: %s (inner %.4f, fold APGR %.3f)%n", f, cur.describe(), curScore,
                        RoutingCurve.of(p, bools(test, weak), bools(test, strong)).apgr());
            }
            return oof;
        }

        /** The neighbours' "weak as good" rate as the score; k chosen by the inner folds' APGR. */
        double[] nestedKnnAlone(int[] ks) {
            double[] oof = new double[fold.length];
            for (int f = 0; f < folds; f++) {
                int held = 1 << f;
                List<Integer> idx = rowsOf(all() & ~held);
                int chosen = ks[0];
                double best = Double.NEGATIVE_INFINITY;
                for (int k : ks) {
                    double[] overall = nl.overall(held);
                    double[] s = new double[idx.size()];
                    for (int t = 0; t < s.length; t++) {
                        int i = idx.get(t);
                        // inner out of fold: neighbours outside the outer test fold and the row's own fold
                        s[t] = nl.features(i, held | (1 << fold[i]), k, PRIOR, overall)[2];
                    }
                    double apgr = innerApgr(idx, s);
                    System.out.printf(Locale.ROOT, "    outer %d k %d: inner APGR %.4f%n", f, k, apgr);
                    if (apgr > best) {
                        best = apgr;
                        chosen = k;
                    }
                }
                double[] overall = nl.overall(held);
                for (int i : rowsOf(held)) {
                    oof[i] = nl.features(i, held, chosen, PRIOR, overall)[2];
                }
                System.out.printf(Locale.ROOT, "  outer fold %d: k %d%n", f, chosen);
            }
            return oof;
        }
    }
}
