package dev.offload.gateway.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.gateway.cache.CacheHit;
import dev.offload.gateway.cache.CacheScope;
import dev.offload.gateway.cache.CachedSource;
import dev.offload.gateway.cache.SemanticCache;
import dev.offload.gateway.retrieval.OnnxEmbedder;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * The semantic cache on GPTCache's paraphrase pairs, with GPTCache's published protocol: every
 * {@code origin} is cached with its own answer, every {@code similar} is asked; a hit that returns
 * its own origin's answer is correct, another origin's answer is wrong. Origins that occur more
 * than once (35 texts in the file) are cached once, and a hit on that text counts as correct for
 * each of its pairs.
 *
 * <p>Runs the real {@link SemanticCache} with the in-process MiniLM embedder. For each ranking
 * setting (word-stem weight, character-trigram weight, ambiguity margin) one pass at threshold 0
 * records the cosine of every hit; the cache's threshold gates only the winner, so a hit at
 * threshold t is exactly a recorded hit with cosine ≥ t, and the threshold sweep needs no further
 * passes.
 *
 * <p>The data set has no unanswerable questions, so it rewards low thresholds. As a check the
 * run also asks every paraphrase once more with its own origin withheld (invalidated, then put
 * back): every hit then returns another origin's answer. Many origins in the file are near
 * duplicates of each other, so some of those hits are right in substance; the column is an upper
 * bound on wrong answers to questions the cache cannot answer, not a precise rate.
 *
 * <p>Choosing settings: the pairs are split at random in two halves; both weights, margin and
 * threshold are chosen on one half (most correct hits with at most {@code --max-wrong-share} of
 * hits wrong, default 1.5%, about one standard error under the 2% target) and measured on the
 * other, then the halves swap; {@code --splits} seeded splits (default 10) give 20 held-out
 * measurements. One half is ~500 questions, so a single split is noisy (±3 points); the mean
 * over splits is the figure to quote. The run reports the (weights, margin) chosen most often,
 * with the median of the thresholds chosen along with it (cache.md says which defaults follow). The previous default ranking (word
 * stems 0.3, margin 0.03, threshold 0.76) is measured beside it for comparison.
 *
 * <pre>./mvnw -q test-compile exec:exec@cache -Dbench.args="--dataset ../shared/data/cache/gptcache-paraphrase-pairs.json"</pre>
 */
public final class CacheEvaluation {
    private static final double[] LEXICAL_WEIGHTS = {0, 0.1, 0.2, 0.3};
    private static final double[] TRIGRAM_WEIGHTS = {0, 0.1, 0.2, 0.3, 0.4, 0.5};
    private static final double[] MARGINS = {0, 0.01, 0.02, 0.03, 0.04};
    /** The default before character trigrams: word stems 0.3, margin 0.03, threshold 0.76. */
    private static final double[] PREVIOUS = {0.3, 0, 0.03, 0.76};
    private static final String TENANT = "eval";

    /**
     * One ranking setting's outcome per pair: cosine of the hit or NaN, and whether it was right;
     * the origin-withheld pass is only run for the settings reported.
     */
    record Outcome(double weight, double trigramWeight, double margin, double[] similarity, boolean[] correct,
                   double[] withheldSimilarity) {
        String label() {
            return String.format("%.1f / %.1f / %.2f", weight, trigramWeight, margin);
        }
    }

    record Tally(int correct, int wrong, int misses) {
        double wrongShare() {
            return correct + wrong == 0 ? 0 : (double) wrong / (correct + wrong);
        }
    }

    record Choice(Outcome outcome, double threshold, Tally tune, Tally held) {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = Args.parse(args);
        Path dataset = Path.of(opts.getOrDefault("dataset", "../shared/data/cache/gptcache-paraphrase-pairs.json"));
        long seed = Long.parseLong(opts.getOrDefault("seed", "1"));
        int splits = Integer.parseInt(opts.getOrDefault("splits", "10"));
        double cap = Double.parseDouble(opts.getOrDefault("max-wrong-share", "0.015"));

        JsonNode pairs = new ObjectMapper().readTree(Files.readAllBytes(dataset));
        int n = pairs.size();
        String[] similar = new String[n];
        int[] originOf = new int[n];
        Map<String, Integer> originIds = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            String origin = pairs.get(i).get("origin").asText();
            similar[i] = pairs.get(i).get("similar").asText();
            originOf[i] = originIds.computeIfAbsent(origin, o -> originIds.size());
        }
        List<String> origins = new ArrayList<>(originIds.keySet());
        System.out.printf("# Semantic cache on %s%n", dataset);
        System.out.printf("%d pairs, %d distinct origins; %s%n", n, origins.size(), Hardware.describe());

        List<float[]> originVectors;
        List<float[]> similarVectors;
        dev.offload.gateway.retrieval.EmbeddingModel model =
                dev.offload.gateway.retrieval.EmbeddingModel.byName(opts.getOrDefault("model", "all-minilm-l6-v2-q"));
        try (OnnxEmbedder embedder = new OnnxEmbedder(model, 0)) {
            long t0 = System.nanoTime();
            originVectors = embedder.embedAll(origins);
            similarVectors = embedder.embedAll(List.of(similar));
            System.out.printf("embedded %d texts in %.1f s (" + model.modelName() + ", in process)%n%n",
                    origins.size() + n, (System.nanoTime() - t0) / 1e9);
        }

        List<Outcome> outcomes = new ArrayList<>();
        long grid = System.nanoTime();
        for (double w : LEXICAL_WEIGHTS) {
            for (double t : TRIGRAM_WEIGHTS) {
                for (double m : MARGINS) {
                    outcomes.add(run(w, t, m, origins, originVectors, similar, similarVectors, originOf, false));
                }
            }
        }
        System.out.printf("%d ranking settings run in %.0f s%n%n", outcomes.size(), (System.nanoTime() - grid) / 1e9);

        Map<String, List<Choice>> picks = new LinkedHashMap<>();
        double[] heldCorrect = new double[2 * splits];
        double[] heldWrong = new double[2 * splits];
        for (int split = 0; split < splits; split++) {
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                order.add(i);
            }
            Collections.shuffle(order, new Random(seed + split));
            boolean[] inA = new boolean[n];
            for (int i = 0; i < n / 2; i++) {
                inA[order.get(i)] = true;
            }
            boolean[] inB = new boolean[n];
            for (int i = 0; i < n; i++) {
                inB[i] = !inA[i];
            }
            for (int fold = 0; fold < 2; fold++) {
                Choice c = fold == 0 ? choose(outcomes, inA, inB, cap) : choose(outcomes, inB, inA, cap);
                int heldN = c.held().correct() + c.held().wrong() + c.held().misses();
                heldCorrect[2 * split + fold] = (double) c.held().correct() / heldN;
                heldWrong[2 * split + fold] = c.held().wrongShare();
                picks.computeIfAbsent(c.outcome().label(), k -> new ArrayList<>()).add(c);
            }
        }
        // Most frequent (weights, margin); ties go to the larger margin, then the larger weights (more cautious).
        List<Choice> chosen = picks.values().stream().max(java.util.Comparator.<List<Choice>>comparingInt(List::size)
                .thenComparingDouble(l -> l.get(0).outcome().margin())
                .thenComparingDouble(l -> l.get(0).outcome().trigramWeight())
                .thenComparingDouble(l -> l.get(0).outcome().weight())).orElseThrow();
        Outcome picked = chosen.get(0).outcome();
        double[] thresholds = chosen.stream().mapToDouble(Choice::threshold).sorted().toArray();
        double threshold = thresholds[(thresholds.length - 1) / 2];

        // The withheld pass for the settings in the sweep table.
        Outcome cosine = run(0, 0, 0, origins, originVectors, similar, similarVectors, originOf, true);
        Outcome previous = run(PREVIOUS[0], PREVIOUS[1], PREVIOUS[2], origins, originVectors, similar, similarVectors,
                originOf, true);
        Outcome best = run(picked.weight(), picked.trigramWeight(), picked.margin(), origins, originVectors, similar,
                similarVectors, originOf, true);
        System.out.printf("## Settings chosen on one half, measured on the other (%d seeded splits × 2, "
                + "at most %.1f%% of tuning hits wrong)%n%n", splits, 100 * cap);
        System.out.printf("held-out correct hits: mean %.1f%% (sd %.1f, min %.1f%%); share of hits wrong: mean %.2f%% "
                        + "(sd %.2f, max %.1f%%)%n", 100 * mean(heldCorrect), 100 * sd(heldCorrect), 100 * min(heldCorrect),
                100 * mean(heldWrong), 100 * sd(heldWrong), 100 * max(heldWrong));
        System.out.println("\n| word-stem weight / trigram weight / margin | times chosen | thresholds chosen |\n|---|---|---|");
        picks.entrySet().stream().sorted((x, y) -> y.getValue().size() - x.getValue().size()).forEach(e ->
                System.out.printf("| %s | %d | %s |%n", e.getKey(), e.getValue().size(),
                        e.getValue().stream().map(c -> String.format("%.2f", c.threshold())).sorted().toList()));
        System.out.printf("%n**chosen most often: word-stem weight %.1f, trigram weight %.1f, ambiguity margin %.2f; "
                + "median of its thresholds %.2f**%n%n", best.weight(), best.trigramWeight(), best.margin(), threshold);

        System.out.printf("## Threshold sweep, all %d pairs%n%n", n);
        System.out.printf("Cosine only; the previous default ranking (%s); the chosen one (%s), as word-stem weight / "
                + "trigram weight / margin.%n%n", previous.label(), best.label());
        System.out.println("| threshold | cosine only: correct | wrong | miss | share of hits wrong | origin withheld: hits "
                + "| previous: correct | wrong | share of hits wrong "
                + "| chosen: correct | wrong | miss | share of hits wrong | origin withheld: hits |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        boolean[] all = new boolean[n];
        Arrays.fill(all, true);
        for (int t = 70; t <= 98; t += 2) {
            double th = t / 100.0;
            Tally c = tally(cosine, th, all);
            Tally p = tally(previous, th, all);
            Tally b = tally(best, th, all);
            System.out.printf("| %.2f | %d | %d | %d | %.1f%% | %.1f%% | %d | %d | %.1f%% | %d | %d | %d | %.1f%% | %.1f%% |%n",
                    th, c.correct(), c.wrong(), c.misses(), 100 * c.wrongShare(), 100 * withheldHits(cosine, th, all),
                    p.correct(), p.wrong(), 100 * p.wrongShare(),
                    b.correct(), b.wrong(), b.misses(), 100 * b.wrongShare(), 100 * withheldHits(best, th, all));
        }

        System.out.printf("%nlookups/s, one thread, %d entries of 384 dimensions in the partition, embedding excluded "
                + "(median of 9 passes over the %d paraphrases, the two rankings alternating):%n%n| ranking | wall "
                + "| per second of the thread's CPU time | estimated bytes held |%n|---|---|---|---|%n", origins.size(), n);
        lookupRates(new String[]{"previous default, " + previous.label() + ", " + PREVIOUS[3],
                        "chosen, " + best.label() + String.format(", %.2f", threshold)},
                new SemanticCache[]{fill(PREVIOUS[0], PREVIOUS[1], PREVIOUS[2], PREVIOUS[3], origins, originVectors),
                        fill(best.weight(), best.trigramWeight(), best.margin(), threshold, origins, originVectors)},
                similar, similarVectors);
    }

    /**
     * Lookup cost: one thread, every paraphrase against all origins. The caches take turns pass by
     * pass, so that load from elsewhere and JIT warm-up fall on both alike.
     */
    private static void lookupRates(String[] names, SemanticCache[] caches, String[] similar,
                                    List<float[]> similarVectors) {
        int n = similar.length;
        int passes = 9;
        // Wall time suffers from other load on a shared machine; the thread's own CPU time does not.
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double[][] perSecond = new double[caches.length][passes];
        double[][] perCpuSecond = new double[caches.length][passes];
        for (int run = -2; run < passes; run++) {
            for (int c = 0; c < caches.length; c++) {
                long s = System.nanoTime();
                long cpu = threads.getCurrentThreadCpuTime();
                for (int i = 0; i < n; i++) {
                    caches[c].lookup(TENANT, CacheScope.NONE, similar[i], similarVectors.get(i));
                }
                if (run >= 0) {
                    perSecond[c][run] = n / ((System.nanoTime() - s) / 1e9);
                    perCpuSecond[c][run] = n / ((threads.getCurrentThreadCpuTime() - cpu) / 1e9);
                }
            }
        }
        for (int c = 0; c < caches.length; c++) {
            System.out.printf("| %s | %.0f | %.0f | %,d |%n", names[c], BeirEvaluation.median(perSecond[c]),
                    BeirEvaluation.median(perCpuSecond[c]), caches[c].stats().bytes());
        }
    }

    private static double mean(double[] v) {
        return Arrays.stream(v).average().orElse(Double.NaN);
    }

    private static double sd(double[] v) {
        double m = mean(v);
        return Math.sqrt(Arrays.stream(v).map(x -> (x - m) * (x - m)).sum() / Math.max(1, v.length - 1));
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElse(Double.NaN);
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElse(Double.NaN);
    }

    private static SemanticCache fill(double weight, double trigramWeight, double margin, double threshold,
                                      List<String> origins, List<float[]> vectors) {
        SemanticCache cache = new SemanticCache(new SemanticCache.Settings(true, threshold, weight, trigramWeight, margin, 5,
                Duration.ofDays(1), 100_000, Long.MAX_VALUE), System::nanoTime);
        for (int o = 0; o < origins.size(); o++) {
            cache.put(cache.ticket(), TENANT, CacheScope.NONE, origins.get(o), vectors.get(o), answer(o), source(o));
        }
        return cache;
    }

    private static Outcome run(double weight, double trigramWeight, double margin, List<String> origins,
                               List<float[]> originVectors, String[] similar, List<float[]> similarVectors, int[] originOf,
                               boolean withWithheld) {
        SemanticCache cache = fill(weight, trigramWeight, margin, 0, origins, originVectors);
        int n = similar.length;
        double[] sim = new double[n];
        boolean[] correct = new boolean[n];
        double[] withheld = new double[n];
        for (int i = 0; i < n; i++) {
            Optional<CacheHit> hit = cache.lookup(TENANT, CacheScope.NONE, similar[i], similarVectors.get(i));
            sim[i] = hit.map(CacheHit::similarity).orElse(Double.NaN);
            correct[i] = hit.isPresent() && hit.get().answer().equals(answer(originOf[i]));
        }
        for (int i = 0; i < n && withWithheld; i++) {
            int o = originOf[i];
            cache.invalidateDocument(TENANT, source(o).get(0).documentId());
            Optional<CacheHit> hit = cache.lookup(TENANT, CacheScope.NONE, similar[i], similarVectors.get(i));
            withheld[i] = hit.map(CacheHit::similarity).orElse(Double.NaN);
            cache.put(cache.ticket(), TENANT, CacheScope.NONE, origins.get(o), originVectors.get(o), answer(o), source(o));
        }
        return new Outcome(weight, trigramWeight, margin, sim, correct, withWithheld ? withheld : null);
    }

    private static String answer(int origin) {
        return "answer of origin " + origin;
    }

    private static List<CachedSource> source(int origin) {
        return List.of(new CachedSource("origin-" + origin, "0", null, 1, null));
    }

    static Tally tally(Outcome o, double threshold, boolean[] rows) {
        int c = 0;
        int w = 0;
        int m = 0;
        for (int i = 0; i < rows.length; i++) {
            if (!rows[i]) {
                continue;
            }
            if (!(o.similarity()[i] >= threshold)) {
                m++;
            } else if (o.correct()[i]) {
                c++;
            } else {
                w++;
            }
        }
        return new Tally(c, w, m);
    }

    private static double withheldHits(Outcome o, double threshold, boolean[] rows) {
        int hits = 0;
        int total = 0;
        for (int i = 0; i < rows.length; i++) {
            if (rows[i]) {
                total++;
                if (o.withheldSimilarity()[i] >= threshold) {
                    hits++;
                }
            }
        }
        return (double) hits / total;
    }

    private static Choice choose(List<Outcome> outcomes, boolean[] tune, boolean[] held, double cap) {
        Choice best = null;
        for (Outcome o : outcomes) {
            for (int t = 70; t <= 98; t += 2) {
                double th = t / 100.0;
                Tally tt = tally(o, th, tune);
                if (tt.wrongShare() <= cap && (best == null || tt.correct() >= best.tune().correct())) { // ties: the more conservative setting (later in the grid)
                    best = new Choice(o, th, tt, tally(o, th, held));
                }
            }
        }
        return best;
    }
}
