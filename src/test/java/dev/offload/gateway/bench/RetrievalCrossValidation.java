package dev.offload.gateway.bench;

import dev.offload.gateway.retrieval.EmbeddingModel;
import dev.offload.gateway.retrieval.Fusion;
import dev.offload.gateway.retrieval.HybridIndex;
import dev.offload.gateway.retrieval.HybridRetriever;
import dev.offload.gateway.retrieval.IndexRecords.ChunkHit;
import dev.offload.gateway.retrieval.OnnxEmbedder;
import dev.offload.gateway.retrieval.VectorIndexOptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Cross-validated choice of the hybrid retriever's settings (fusion rule, weights, RRF k,
 * feedback depth and weight) on a BEIR-format folder, for one or more embedding models.
 *
 * <p>Per model: the corpus is embedded once (or a kept index is reused, {@code --index-dir}),
 * the judged queries once; every setting of the grid then runs through the gateway's own
 * {@link HybridRetriever} on every judged query (no re-embedding: only the searches and the
 * fusion run again) and gets a per-query nDCG@10 (standard: gain 2^rel − 1). The queries are
 * split into k folds ({@link CrossValidation}, seeded); on each fold the setting with the best
 * mean over the training queries is scored on the held-out queries. Reported: per fold and
 * mean for dense, BM25, hybrid with the shipped defaults, hybrid with CV-chosen settings, the
 * per-query adaptive rule, and the cascade mode (shipped and CV-chosen fusion); the mean over
 * {@code --repeats} different seeds; the whole-set best of the grid (the optimistic figure a
 * sweep on the evaluation set gives); and paired differences with their standard errors.
 *
 * <pre>./mvnw -q test-compile exec:exec@retrieval-cv -Dbench.args="--models all-minilm-l6-v2-q,e5-small-v2-q"</pre>
 */
public final class RetrievalCrossValidation {
    private static final String TENANT = "eval";
    private static final String DEFAULT = "convex 0.3:0.7, m=5 β=1.0";
    private static final String ADAPTIVE = "adaptive 0.5:0.5, m=5 β=1.0";
    private static final String ALWAYS_FEEDBACK = "hybrid, CV-chosen among the grid without selective feedback";

    /** One point of the grid, as {@code gateway.search.*} would carry it. */
    record Setting(String name, Fusion fusion, int feedbackDepth, double feedbackWeight, double skipMargin) {
    }

    /** Selective feedback: skip margins of the first fusion's top-1 lead (+∞: feedback always runs). */
    private static final double[] SKIP = {Double.POSITIVE_INFINITY, 0.3, 0.2, 0.1, 0.05};

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = Args.parse(args);
        Path dataset = Path.of(opts.getOrDefault("dataset", "../shared/data/retrieval/msmarco-subset"));
        int k = Integer.parseInt(opts.getOrDefault("folds", "5"));
        long seed = Long.parseLong(opts.getOrDefault("seed", "20"));
        int repeats = Integer.parseInt(opts.getOrDefault("repeats", "10"));
        int candidates = Integer.parseInt(opts.getOrDefault("candidates", "100"));
        List<String> models = List.of(opts.getOrDefault("models", "all-minilm-l6-v2-q").split(","));

        BeirData data = BeirData.load(dataset);
        Map<String, Map<String, Integer>> qrels = BeirData.qrels(dataset);
        List<String> judged = data.queries.keySet().stream().filter(q -> qrels.containsKey(q)
                && qrels.get(q).values().stream().anyMatch(v -> v > 0)).toList();
        System.out.printf("# Retrieval settings chosen by %d-fold cross-validation: %s%n", k, dataset);
        System.out.printf("corpus %d passages, %d judged queries, folds seeded %d (%d repeats with seeds %d…%d), "
                        + "%d candidates per retriever, JDK %s, %d cores, %s%n", data.corpus.size(), judged.size(), seed,
                repeats, seed, seed + repeats - 1, candidates, System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(), Hardware.cpuModel());

        List<Setting> hybridGrid = hybridGrid();
        System.out.printf("hybrid grid: %d settings (%d fusions × (no feedback + %d feedback settings × %d skip margins)); "
                        + "cascade grid: %d fusions%n", hybridGrid.size(), fusions().size(), FEEDBACK.length - 1, SKIP.length,
                fusions().size());

        for (String m : models) {
            EmbeddingModel model = EmbeddingModel.byName(m.trim());
            boolean keep = opts.containsKey("index-dir");
            Path dir = keep ? Path.of(opts.get("index-dir")).resolve("idx-" + model.modelName())
                    : Files.createTempDirectory("cv-index");
            try (OnnxEmbedder embedder = new OnnxEmbedder(model, 0);
                 HybridIndex index = HybridIndex.open(dir, embedder.dimension(), VectorIndexOptions.defaults())) {
                long t0 = System.nanoTime();
                int chunks = data.ingestInto(index, TENANT, embedder);
                System.out.printf("%n## %s%n%s%n", model.modelName(), chunks < 0
                        ? "reused the index in " + dir
                        : String.format("embedded and indexed %d chunks in %.0f s", chunks, (System.nanoTime() - t0) / 1e9));
                evaluate(model, index, embedder, data, qrels, judged, candidates, k, seed, repeats, opts.containsKey("print-grid"));
            } finally {
                if (!keep) {
                    BeirEvaluation.deleteTree(dir);
                }
            }
        }
    }

    private static final double[][] FEEDBACK = {{0, 0}, {3, 0.5}, {3, 1.0}, {5, 0.5}, {5, 1.0}, {10, 1.0}};

    /** Fusion rules and weights (sparse : dense, summing to 1), in grid order: shipped default first. */
    static Map<String, Fusion> fusions() {
        Map<String, Fusion> out = new LinkedHashMap<>();
        out.put("convex 0.3:0.7", new Fusion(Fusion.Method.CONVEX, 60, 0.3, 0.7));
        for (double ws : new double[]{0.1, 0.2, 0.4, 0.5}) {
            out.put(String.format("convex %.1f:%.1f", ws, 1 - ws), new Fusion(Fusion.Method.CONVEX, 60, ws, 1 - ws));
        }
        for (int rrfK : new int[]{10, 60}) {
            for (double ws : new double[]{0.2, 0.3, 0.4, 0.5}) {
                out.put(String.format("RRF k=%d %.1f:%.1f", rrfK, ws, 1 - ws), new Fusion(Fusion.Method.RRF, rrfK, ws, 1 - ws));
            }
        }
        for (double ws : new double[]{0.2, 0.3, 0.4, 0.5}) {
            out.put(String.format("DBSF %.1f:%.1f", ws, 1 - ws), new Fusion(Fusion.Method.DBSF, 60, ws, 1 - ws));
        }
        for (double ws : new double[]{0.3, 0.5}) {
            out.put(String.format("adaptive %.1f:%.1f", ws, 1 - ws), new Fusion(Fusion.Method.ADAPTIVE, 60, ws, 1 - ws));
        }
        return out;
    }

    static List<Setting> hybridGrid() {
        List<Setting> out = new ArrayList<>();
        for (var f : fusions().entrySet()) {
            for (double[] fb : FEEDBACK) {
                for (double skip : SKIP) {
                    if (fb[0] == 0 && skip != Double.POSITIVE_INFINITY) continue;
                    String name = f.getKey() + (fb[0] == 0 ? ", no feedback" : String.format(", m=%d β=%.1f", (int) fb[0], fb[1]))
                            + (skip == Double.POSITIVE_INFINITY ? "" : String.format(" skip≥%.2f", skip));
                    out.add(new Setting(name, f.getValue(), (int) fb[0], fb[1], skip));
                }
            }
        }
        return out;
    }

    private static void evaluate(EmbeddingModel model, HybridIndex index, OnnxEmbedder embedder, BeirData data,
                                 Map<String, Map<String, Integer>> qrels, List<String> judged, int candidates,
                                 int k, long seed, int repeats, boolean printGrid) throws Exception {
        Map<String, float[]> qv = new HashMap<>();
        for (String q : judged) {
            qv.put(q, embedder.embed(data.queries.get(q)));
        }
        Map<String, Double> dense = new HashMap<>();
        Map<String, Double> sparse = new HashMap<>();
        double zSparse = 0, zDense = 0, adaptiveSparseWeight = 0;
        for (String q : judged) {
            List<ChunkHit> d = index.dense(TENANT, qv.get(q), Map.of(), candidates);
            List<ChunkHit> s = index.sparse(TENANT, data.queries.get(q), Map.of(), candidates);
            dense.put(q, ndcg(d, qrels.get(q)));
            sparse.put(q, ndcg(s, qrels.get(q)));
            double zs = topStandsOut(s), zd = topStandsOut(d);
            zSparse += zs;
            zDense += zd;
            adaptiveSparseWeight += zs + zd > 0 ? zs / (zs + zd) : 0.5;
        }
        System.out.printf("top score above its candidates' mean, in standard deviations (the adaptive rule's signal): "
                        + "BM25 %.2f, dense %.2f on average; the adaptive 1:1 rule's sparse weight averages %.2f%n",
                zSparse / judged.size(), zDense / judged.size(), adaptiveSparseWeight / judged.size());
        long t0 = System.nanoTime();
        Map<String, Map<String, Double>> hybrid = new LinkedHashMap<>();
        Map<String, Integer> skipped = new HashMap<>();
        for (Setting s : hybridGrid()) {
            HybridRetriever r = new HybridRetriever(index, s.fusion(), candidates, s.feedbackDepth(), s.feedbackWeight(), s.skipMargin());
            Map<String, Double> perQuery = new HashMap<>();
            for (String q : judged) {
                Map<String, Double> timings = new HashMap<>();
                perQuery.put(q, ndcg(r.search(TENANT, data.queries.get(q), qv.get(q), Map.of(), candidates, timings),
                        qrels.get(q)));
                if (s.feedbackDepth() > 0 && !timings.containsKey("feedbackMs")) skipped.merge(s.name(), 1, Integer::sum);
            }
            hybrid.put(s.name(), perQuery);
        }
        Map<String, Map<String, Double>> cascade = new LinkedHashMap<>();
        for (var f : fusions().entrySet()) {
            HybridRetriever r = new HybridRetriever(index, f.getValue(), candidates, 0, 0);
            Map<String, Double> perQuery = new HashMap<>();
            for (String q : judged) {
                perQuery.put(q, ndcg(r.cascade(TENANT, data.queries.get(q), qv.get(q), Map.of(), candidates, new HashMap<>()),
                        qrels.get(q)));
            }
            cascade.put("cascade " + f.getKey(), perQuery);
        }
        System.out.printf("grid scored in %.0f s (%d hybrid + %d cascade settings × %d queries)%n",
                (System.nanoTime() - t0) / 1e9, hybrid.size(), cascade.size(), judged.size());

        // The candidate sets the CV chooses from.
        Map<String, Map<String, Double>> fixedRules = new LinkedHashMap<>();
        hybrid.forEach((name, v) -> {
            if (!name.startsWith("adaptive")) fixedRules.put(name, v);
        });
        Map<String, Map<String, Double>> adaptiveFeedback = new LinkedHashMap<>();
        hybrid.forEach((name, v) -> {
            if (name.startsWith("adaptive 0.5:0.5")) adaptiveFeedback.put(name, v);
        });

        Map<String, Evaluated> rows = new LinkedHashMap<>();
        rows.put("BM25", Evaluated.fixed(sparse));
        rows.put("dense", Evaluated.fixed(dense));
        rows.put("hybrid, shipped defaults (" + DEFAULT + ")", Evaluated.fixed(hybrid.get(DEFAULT)));
        rows.put("hybrid, CV-chosen among RRF / convex / DBSF × weights × feedback", Evaluated.chosen(fixedRules));
        rows.put("hybrid, CV-chosen among the whole grid (adaptive included)", Evaluated.chosen(hybrid));
        Map<String, Map<String, Double>> alwaysFeedback = new LinkedHashMap<>();
        hybrid.forEach((name, v) -> {
            if (!name.contains("skip≥")) alwaysFeedback.put(name, v);
        });
        rows.put(ALWAYS_FEEDBACK, Evaluated.chosen(alwaysFeedback));
        rows.put("hybrid, adaptive 1:1, feedback CV-chosen", Evaluated.chosen(adaptiveFeedback));
        rows.put("hybrid, adaptive 1:1, m=5 β=1.0 (fixed)", Evaluated.fixed(hybrid.get(ADAPTIVE)));
        rows.put("hybrid, adaptive 1:1, no feedback (fixed)", Evaluated.fixed(hybrid.get("adaptive 0.5:0.5, no feedback")));
        rows.put("hybrid, DBSF 0.5:0.5, m=5 β=1.0 (fixed)", Evaluated.fixed(hybrid.get("DBSF 0.5:0.5, m=5 β=1.0")));
        rows.put("cascade, shipped fusion (convex 0.3:0.7)", Evaluated.fixed(cascade.get("cascade convex 0.3:0.7")));
        rows.put("cascade, fusion CV-chosen", Evaluated.chosen(cascade));

        List<List<CrossValidation.Fold>> splits = new ArrayList<>();
        for (int r = 0; r < repeats; r++) {
            splits.add(CrossValidation.folds(judged, k, seed + r));
        }
        StringBuilder header = new StringBuilder("| system |");
        StringBuilder rule = new StringBuilder("|---|");
        for (int f = 1; f <= k; f++) {
            header.append(" fold ").append(f).append(" |");
            rule.append("---|");
        }
        header.append(" CV mean (seed ").append(seed).append(") | CV mean of ").append(repeats).append(" seeds (min–max) |");
        rule.append("---|---|");
        System.out.printf("%nnDCG@10 standard on held-out queries (each fold ≈ %d queries)%n%s%n%s%n", judged.size() / k,
                header, rule);
        Map<String, Map<String, Double>> heldOut = new LinkedHashMap<>(); // row → query → its held-out score (first seed)
        for (var row : rows.entrySet()) {
            StringBuilder line = new StringBuilder("| " + row.getKey() + " |");
            CrossValidation.Result first = null;
            double sum = 0, min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
            for (List<CrossValidation.Fold> split : splits) {
                CrossValidation.Result r = row.getValue().run(split);
                if (first == null) first = r;
                sum += r.mean();
                min = Math.min(min, r.mean());
                max = Math.max(max, r.mean());
            }
            for (CrossValidation.FoldResult f : first.folds()) {
                line.append(String.format(" %.3f |", f.testMean()));
            }
            line.append(String.format(" %.3f | %.3f (%.3f–%.3f) |", first.mean(), sum / repeats, min, max));
            System.out.println(line);
            heldOut.put(row.getKey(), row.getValue().heldOutScores(splits.get(0)));
        }

        // Whole-set figures: what a sweep on the evaluation set reports (optimistic for the best row).
        String bestWhole = CrossValidation.choose(hybrid, judged);
        System.out.printf("%nwhole set (not cross-validated): dense %.3f, BM25 %.3f, shipped hybrid %.3f, "
                        + "best grid row %.3f (%s)%n", CrossValidation.mean(dense, judged), CrossValidation.mean(sparse, judged),
                CrossValidation.mean(hybrid.get(DEFAULT), judged), CrossValidation.mean(hybrid.get(bestWhole), judged), bestWhole);

        if (printGrid) {
            System.out.printf("%nwhole-set mean of every grid setting (--print-grid), and how many queries skipped feedback:%n");
            hybrid.forEach((name, v) -> System.out.printf("  %.4f  %s%s%n", CrossValidation.mean(v, judged), name,
                    skipped.containsKey(name) ? " (skipped " + skipped.get(name) + ")" : ""));
        }

        // What the CV chose, fold by fold (first seed) and how often over all seeds.
        for (String row : List.of("hybrid, CV-chosen among the whole grid (adaptive included)", "cascade, fusion CV-chosen")) {
            Map<String, Integer> counts = new TreeMap<>();
            for (List<CrossValidation.Fold> split : splits) {
                for (CrossValidation.FoldResult f : rows.get(row).run(split).folds()) {
                    counts.merge(f.chosen(), 1, Integer::sum);
                }
            }
            System.out.printf("%n%s — chosen on the folds of seed %d: %s%n  over all %d folds × seeds: %s%n", row, seed,
                    rows.get(row).run(splits.get(0)).folds().stream().map(CrossValidation.FoldResult::chosen).toList(),
                    k * repeats, top(counts, 6));
            counts.keySet().stream().filter(skipped::containsKey).forEach(name -> System.out.printf(
                    "  %s skips feedback on %d of %d queries%n", name, skipped.get(name), judged.size()));
        }

        // Paired differences over queries (held-out scores of the first seed), mean ± standard error.
        System.out.printf("%npaired differences over the %d queries (held-out, seed %d): mean ± standard error%n", judged.size(), seed);
        String[][] pairs = {
                {"hybrid, CV-chosen among the whole grid (adaptive included)", "dense"},
                {"hybrid, CV-chosen among the whole grid (adaptive included)", "hybrid, shipped defaults (" + DEFAULT + ")"},
                {"hybrid, CV-chosen among the whole grid (adaptive included)", ALWAYS_FEEDBACK},
                {ALWAYS_FEEDBACK, "dense"},
                {"hybrid, adaptive 1:1, m=5 β=1.0 (fixed)", "dense"},
                {"hybrid, adaptive 1:1, m=5 β=1.0 (fixed)", "hybrid, shipped defaults (" + DEFAULT + ")"},
                {"hybrid, shipped defaults (" + DEFAULT + ")", "dense"},
                {"cascade, fusion CV-chosen", "dense"}};
        for (String[] p : pairs) {
            double[] d = new double[judged.size()];
            for (int i = 0; i < judged.size(); i++) {
                d[i] = heldOut.get(p[0]).get(judged.get(i)) - heldOut.get(p[1]).get(judged.get(i));
            }
            double mean = 0;
            for (double x : d) mean += x;
            mean /= d.length;
            double var = 0;
            for (double x : d) var += (x - mean) * (x - mean);
            double se = Math.sqrt(var / (d.length - 1) / d.length);
            System.out.printf("  %s − %s: %+.3f ± %.3f%n", p[0], p[1], mean, se);
        }

        // The target: hybrid at least the better component on every fold, and ≥ 0.74.
        for (String row : List.of("hybrid, shipped defaults (" + DEFAULT + ")",
                "hybrid, CV-chosen among the whole grid (adaptive included)", ALWAYS_FEEDBACK,
                "hybrid, adaptive 1:1, m=5 β=1.0 (fixed)")) {
            int folds = 0, notBelow = 0;
            for (List<CrossValidation.Fold> split : splits) {
                List<CrossValidation.FoldResult> h = rows.get(row).run(split).folds();
                List<CrossValidation.FoldResult> dn = rows.get("dense").run(split).folds();
                List<CrossValidation.FoldResult> sp = rows.get("BM25").run(split).folds();
                for (int f = 0; f < h.size(); f++) {
                    folds++;
                    if (h.get(f).testMean() >= Math.max(dn.get(f).testMean(), sp.get(f).testMean()) - 1e-12) notBelow++;
                }
            }
            System.out.printf("%s: ≥ the better of dense and BM25 on %d of %d folds (all seeds)%n", row, notBelow, folds);
        }
    }

    private static String top(Map<String, Integer> counts, int n) {
        return counts.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(n)
                .map(e -> e.getKey() + " ×" + e.getValue()).toList().toString();
    }

    /** A row: either one fixed setting or a grid the CV chooses from. */
    private record Evaluated(Map<String, Map<String, Double>> grid) {
        static Evaluated fixed(Map<String, Double> perQuery) {
            Map<String, Map<String, Double>> one = new LinkedHashMap<>();
            one.put("fixed", perQuery);
            return new Evaluated(one);
        }

        static Evaluated chosen(Map<String, Map<String, Double>> grid) {
            return new Evaluated(grid);
        }

        CrossValidation.Result run(List<CrossValidation.Fold> folds) {
            return CrossValidation.run(grid, folds);
        }

        /** Each query's score under the setting chosen on the fold that held it out. */
        Map<String, Double> heldOutScores(List<CrossValidation.Fold> folds) {
            Map<String, Double> out = new HashMap<>();
            List<CrossValidation.FoldResult> r = run(folds).folds();
            for (int f = 0; f < folds.size(); f++) {
                for (String q : folds.get(f).test()) {
                    out.put(q, grid.get(r.get(f).chosen()).get(q));
                }
            }
            return out;
        }
    }

    /** (s₁ − μ) / σ over a candidate list, as {@link Fusion.Method#ADAPTIVE} computes it (0 for a flat list). */
    private static double topStandsOut(List<ChunkHit> hits) {
        if (hits.size() < 2) return 1;
        double sum = 0, top = Double.NEGATIVE_INFINITY;
        for (ChunkHit h : hits) {
            sum += h.score();
            top = Math.max(top, h.score());
        }
        double mean = sum / hits.size(), sq = 0;
        for (ChunkHit h : hits) sq += (h.score() - mean) * (h.score() - mean);
        double sd = Math.sqrt(sq / hits.size());
        return sd == 0 ? 0 : Math.max(0, (top - mean) / sd);
    }

    static double ndcg(List<ChunkHit> hits, Map<String, Integer> rels) {
        return BeirEvaluation.ndcgStandard(BeirEvaluation.documents(hits), rels, 10);
    }
}
