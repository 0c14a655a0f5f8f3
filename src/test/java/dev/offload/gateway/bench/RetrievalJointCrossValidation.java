package dev.offload.gateway.bench;

import dev.offload.gateway.retrieval.EmbeddingModel;
import dev.offload.gateway.retrieval.HybridIndex;
import dev.offload.gateway.retrieval.HybridRetriever;
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
import java.util.concurrent.ConcurrentHashMap;

/**
 * Cross-validation of the hybrid settings over two or more retrieval sets at once, so that a
 * setting is chosen for what holds on every set, not for the one it was tuned on.
 *
 * <p>Per set, the corpus is embedded once (kept under {@code --index-dir}), and every setting of
 * {@link RetrievalCrossValidation#hybridGrid()} gets a per-query nDCG@10 through the gateway's own
 * {@link HybridRetriever}, beside dense and BM25 alone. Each set's queries are split into k folds
 * ({@link CrossValidation#folds}, seeded); fold f of the joint split holds fold f of every set. Three
 * rules choose a setting on a fold's training queries, and each is scored on the held-out queries of
 * every set:
 * <ul>
 *   <li><b>first set only</b>: the best training mean on the first set (the rule the shipped defaults
 *   came from), the other sets never looked at;</li>
 *   <li><b>macro mean</b>: the best mean over sets of the training means;</li>
 *   <li><b>worst-set gain</b>: the best minimum over sets of (training mean − the better of dense and
 *   BM25 on the same training queries): the target "hybrid ≥ the better component on every
 *   evaluation" as the objective.</li>
 * </ul>
 * Ties go to the earlier setting in grid order. Reported per rule and set: the held-out mean (first
 * seed and the mean over seeds), on how many folds × seeds hybrid is at least the better component,
 * the held-out hybrid − better component with a 95 % paired bootstrap interval (first seed), and what
 * was chosen.
 *
 * <pre>./mvnw -q test-compile exec:exec@retrieval-joint-cv -Dbench.args="--index-dir /tmp/cvjoint"</pre>
 * Options: {@code --model} (default bge-small-en-v1.5-q), {@code --sets name=path,…} (a BEIR folder, or a
 * GPTCache pairs file ending in .json; default the MS MARCO subset and the duplicate-question set),
 * {@code --folds 5}, {@code --seed 20}, {@code --repeats 10}, {@code --candidates 100}.
 */
public final class RetrievalJointCrossValidation {
    private static final String TENANT = "eval";
    private static final String[] RULES = {"first set only", "macro mean", "worst-set gain"};

    /** One set's per-query scores: dense, BM25, and every grid setting in grid order. */
    record SetScores(String name, List<String> queries, Map<String, Double> dense, Map<String, Double> sparse,
                     Map<String, Map<String, Double>> grid, Map<String, Integer> skipped) {
        double better(List<String> q) {
            return Math.max(CrossValidation.mean(dense, q), CrossValidation.mean(sparse, q));
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = Args.parse(args);
        EmbeddingModel model = EmbeddingModel.byName(opts.getOrDefault("model", "bge-small-en-v1.5-q"));
        int k = Integer.parseInt(opts.getOrDefault("folds", "5"));
        long seed = Long.parseLong(opts.getOrDefault("seed", "20"));
        int repeats = Integer.parseInt(opts.getOrDefault("repeats", "10"));
        int candidates = Integer.parseInt(opts.getOrDefault("candidates", "100"));
        String sets = opts.getOrDefault("sets", "msmarco=../shared/data/retrieval/msmarco-subset,"
                + "duplicates=../shared/data/cache/gptcache-paraphrase-pairs.json");
        System.out.printf("# Hybrid settings cross-validated over several retrieval sets at once, model %s%n", model.modelName());
        System.out.printf("%d folds per set, seeds %d…%d, %d candidates per retriever, %d grid settings, JDK %s, %d cores, %s%n",
                k, seed, seed + repeats - 1, candidates, RetrievalCrossValidation.hybridGrid().size(),
                System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), Hardware.cpuModel());

        List<SetScores> scored = new ArrayList<>();
        try (OnnxEmbedder embedder = new OnnxEmbedder(model, 0)) {
            for (String spec : sets.split(",")) {
                String[] nv = spec.split("=", 2);
                scored.add(score(nv[0], Path.of(nv[1]), model, embedder, opts.get("index-dir"), candidates));
            }
        }

        List<List<List<CrossValidation.Fold>>> splits = new ArrayList<>(); // seed → set → folds
        for (int r = 0; r < repeats; r++) {
            List<List<CrossValidation.Fold>> perSet = new ArrayList<>();
            for (SetScores s : scored) {
                perSet.add(CrossValidation.folds(s.queries(), k, seed + r));
            }
            splits.add(perSet);
        }

        System.out.printf("%n| rule | set | BM25 | dense | hybrid, CV (seed %d) | mean of %d seeds (min–max) | folds hybrid ≥ better | "
                + "hybrid − better, 95 %% CI (seed %d) |%n|---|---|---|---|---|---|---|---|%n", seed, repeats, seed);
        for (String rule : RULES) {
            Map<String, Integer> chosen = new TreeMap<>();
            for (int d = 0; d < scored.size(); d++) {
                SetScores set = scored.get(d);
                double sum = 0, min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY, first = 0;
                int holds = 0, folds = 0;
                Map<String, Double> heldOut = new HashMap<>();
                for (int r = 0; r < repeats; r++) {
                    double total = 0;
                    for (int f = 0; f < k; f++) {
                        String setting = choose(rule, scored, splits.get(r), f);
                        if (d == 0) chosen.merge(setting, 1, Integer::sum);
                        List<String> test = splits.get(r).get(d).get(f).test();
                        double h = CrossValidation.mean(set.grid().get(setting), test);
                        total += h * test.size();
                        folds++;
                        if (h >= set.better(test) - 1e-12) holds++;
                        if (r == 0) test.forEach(q -> heldOut.put(q, set.grid().get(setting).get(q)));
                    }
                    double mean = total / set.queries().size();
                    if (r == 0) first = mean;
                    sum += mean;
                    min = Math.min(min, mean);
                    max = Math.max(max, mean);
                }
                List<double[]> perQuery = new ArrayList<>();
                for (String q : set.queries()) {
                    perQuery.add(new double[]{set.sparse().get(q), set.dense().get(q), heldOut.get(q)});
                }
                double[] ci = RetrievalApiEvaluation.hybridMinusBetter(perQuery);
                System.out.printf("| %s | %s | %.3f | %.3f | %.3f | %.3f (%.3f–%.3f) | %d of %d | %+.4f [%+.4f, %+.4f] |%n",
                        rule, set.name(), CrossValidation.mean(set.sparse(), set.queries()),
                        CrossValidation.mean(set.dense(), set.queries()), first, sum / repeats, min, max, holds, folds,
                        ci[0], ci[1], ci[2]);
            }
            System.out.printf("  %s chose, over %d folds × seeds: %s%n", rule, k * repeats, chosen.entrySet().stream()
                    .sorted((a, b) -> b.getValue() - a.getValue()).limit(6).map(e -> e.getKey() + " ×" + e.getValue()).toList());
            for (String setting : chosen.keySet()) {
                for (SetScores s : scored) {
                    if (s.skipped().containsKey(setting)) {
                        System.out.printf("    %s skips feedback on %d of %d %s queries%n", setting, s.skipped().get(setting),
                                s.queries().size(), s.name());
                    }
                }
            }
        }
    }

    /** The setting a rule picks on fold f's training queries (every set's). */
    static String choose(String rule, List<SetScores> sets, List<List<CrossValidation.Fold>> folds, int f) {
        String best = null;
        double bestValue = Double.NEGATIVE_INFINITY;
        for (String setting : sets.get(0).grid().keySet()) {
            double value = switch (rule) {
                case "first set only" -> CrossValidation.mean(sets.get(0).grid().get(setting), folds.get(0).get(f).train());
                case "macro mean" -> {
                    double sum = 0;
                    for (int d = 0; d < sets.size(); d++) {
                        sum += CrossValidation.mean(sets.get(d).grid().get(setting), folds.get(d).get(f).train());
                    }
                    yield sum / sets.size();
                }
                case "worst-set gain" -> {
                    double worst = Double.POSITIVE_INFINITY;
                    for (int d = 0; d < sets.size(); d++) {
                        List<String> train = folds.get(d).get(f).train();
                        worst = Math.min(worst, CrossValidation.mean(sets.get(d).grid().get(setting), train) - sets.get(d).better(train));
                    }
                    yield worst;
                }
                default -> throw new IllegalArgumentException(rule);
            };
            if (value > bestValue) {
                bestValue = value;
                best = setting;
            }
        }
        return best;
    }

    private static SetScores score(String name, Path path, EmbeddingModel model, OnnxEmbedder embedder, String indexDir,
                                   int candidates) throws Exception {
        boolean pairs = path.toString().endsWith(".json");
        BeirData data = pairs ? BeirData.fromPairs(path) : BeirData.load(path);
        Map<String, Map<String, Integer>> qrels = pairs ? BeirData.pairsQrels(path) : BeirData.qrels(path);
        List<String> judged = data.queries.keySet().stream().filter(q -> qrels.containsKey(q)
                && qrels.get(q).values().stream().anyMatch(v -> v > 0)).toList();
        Path dir = indexDir != null ? Path.of(indexDir).resolve("idx-" + model.modelName() + "-" + name)
                : Files.createTempDirectory("joint-cv");
        try (HybridIndex index = HybridIndex.open(dir, embedder.dimension(), VectorIndexOptions.defaults())) {
            long t0 = System.nanoTime();
            int chunks = data.ingestInto(index, TENANT, embedder);
            Map<String, float[]> qv = new HashMap<>();
            for (String q : judged) {
                qv.put(q, embedder.embed(data.queries.get(q)));
            }
            Map<String, Double> dense = new HashMap<>();
            Map<String, Double> sparse = new HashMap<>();
            for (String q : judged) {
                dense.put(q, RetrievalCrossValidation.ndcg(index.dense(TENANT, qv.get(q), Map.of(), candidates), qrels.get(q)));
                sparse.put(q, RetrievalCrossValidation.ndcg(index.sparse(TENANT, data.queries.get(q), Map.of(), candidates), qrels.get(q)));
            }
            long t1 = System.nanoTime();
            Map<String, Map<String, Double>> byName = new ConcurrentHashMap<>();
            Map<String, Integer> skipped = new ConcurrentHashMap<>();
            List<RetrievalCrossValidation.Setting> grid = RetrievalCrossValidation.hybridGrid();
            grid.parallelStream().forEach(s -> {
                HybridRetriever r = new HybridRetriever(index, s.fusion(), candidates, s.feedbackDepth(), s.feedbackWeight(),
                        s.skipMargin());
                Map<String, Double> perQuery = new HashMap<>();
                for (String q : judged) {
                    Map<String, Double> timings = new HashMap<>();
                    try {
                        perQuery.put(q, RetrievalCrossValidation.ndcg(
                                r.search(TENANT, data.queries.get(q), qv.get(q), Map.of(), candidates, timings), qrels.get(q)));
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    if (s.feedbackDepth() > 0 && !timings.containsKey("feedbackMs")) skipped.merge(s.name(), 1, Integer::sum);
                }
                byName.put(s.name(), perQuery);
            });
            Map<String, Map<String, Double>> ordered = new LinkedHashMap<>();
            grid.forEach(s -> ordered.put(s.name(), byName.get(s.name())));
            System.out.printf("%s: %d passages (%s), %d judged queries; grid scored in %.0f s%n", name, data.corpus.size(),
                    chunks < 0 ? "index reused from " + dir : String.format("embedded in %.0f s", (t1 - t0) / 1e9), judged.size(),
                    (System.nanoTime() - t1) / 1e9);
            return new SetScores(name, judged, dense, sparse, ordered, skipped);
        } finally {
            if (indexDir == null) {
                BeirEvaluation.deleteTree(dir);
            }
        }
    }
}
