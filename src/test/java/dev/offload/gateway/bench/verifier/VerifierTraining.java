package dev.offload.gateway.bench.verifier;

import dev.offload.gateway.bench.Args;
import dev.offload.gateway.bench.Hardware;
import dev.offload.gateway.bench.verifier.CachePairs.Group;
import dev.offload.gateway.bench.verifier.CachePairs.Half;
import dev.offload.gateway.bench.verifier.NegativeQuestions.Negative;
import dev.offload.gateway.bench.verifier.VerifierTrainer.Params;
import dev.offload.gateway.bench.verifier.VerifierTrainer.Sample;
import dev.offload.gateway.cache.CacheHit;
import dev.offload.gateway.cache.CacheScope;
import dev.offload.gateway.cache.DuplicateVerifier;
import dev.offload.gateway.cache.PairFeatures;
import dev.offload.gateway.cache.SemanticCache;
import dev.offload.gateway.retrieval.EmbeddingModel;
import dev.offload.gateway.retrieval.OnnxEmbedder;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * Trains the cache's {@link DuplicateVerifier} on the training half of the GPTCache pairs
 * ({@link CachePairs}) and writes the gateway's resource. Nothing of the held-out half is read.
 *
 * <p>Samples (one per pair of texts; features from {@link PairFeatures} with MiniLM cosines):
 * <ul>
 *   <li>duplicates: every paraphrase with its own origin;</li>
 *   <li>hard negatives mined from the pairs: every paraphrase with the {@code --mined} (5) nearest
 *       origins of other groups, every origin with its 3 nearest other origins — exactly the
 *       candidates the cache's nearest-neighbour step puts before the verifier;</li>
 *   <li>the training part of the negatives set ({@link NegativeQuestions}): each opposite with the
 *       origin it was made from, each unrelated question with its nearest origin.</li>
 * </ul>
 *
 * <p>The acceptance threshold is chosen on the training half too, without in-sample optimism:
 * the samples are split by group into {@code --folds} (5) seeded folds; a question is judged by
 * the model trained without its fold. The cache (shipped settings, verifier off) holds the
 * training half's cached origins; each paraphrase, withheld paraphrase and training negative is
 * looked up, and the candidate it would be answered with is scored. The threshold (grid 0.05,
 * 0.075 … 0.95) maximises correct hits minus {@code --false-hit-cost} (5) × false hits (wrong
 * answers, hits on withheld questions and on negatives): one answer to the wrong question costs
 * as much as five misses. Then the final model is trained on all samples,
 * twice, to show that the seed fixes it, and written.
 *
 * <pre>./mvnw -q test-compile exec:exec@verifier -Dbench.args="--dataset ../shared/data/cache/gptcache-paraphrase-pairs.json"</pre>
 * Options: {@code --seed} 20, {@code --epochs} 30, {@code --lr} 0.1, {@code --no-write}, {@code --out} (the
 * resource), {@code --second-model} (bge-small-en-v1.5-q; {@code none}: text features and MiniLM only),
 * {@code --verified-candidates} (1: the candidates the tuning simulation verifies per lookup).
 */
public final class VerifierTraining {
    static final String TENANT = "train";
    static final Path OUT = Path.of("src/main/resources/dev/offload/gateway/cache/duplicate-verifier.properties");

    private record Keyed(int group, Sample sample) {
    }

    /** A question of the tuning simulation: what it is, and the group whose answer would be right (-1: none). */
    private record Question(String text, String kind, int expected, int foldGroup) {
    }

    private VerifierTraining() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args);
        Path dataset = Path.of(a.getOrDefault("dataset", "../shared/data/cache/gptcache-paraphrase-pairs.json"));
        long seed = Long.parseLong(a.getOrDefault("seed", "20"));
        int folds = Integer.parseInt(a.getOrDefault("folds", "5"));
        int mined = Integer.parseInt(a.getOrDefault("mined", "5"));
        double cost = Double.parseDouble(a.getOrDefault("false-hit-cost", "5"));
        // The opposites are few beside the mined negatives, and unlike them they are near copies: without
        // more weight the model learns "high cosine = duplicate" and lets them through.
        double opposites = Double.parseDouble(a.getOrDefault("opposite-weight", "10"));
        // The shipped verifier's second embedding (cache.md: chosen on the training half); "none" leaves it out.
        String second = a.getOrDefault("second-model", "bge-small-en-v1.5-q");
        EmbeddingModel secondModel = "none".equals(second) ? null : EmbeddingModel.byName(second);
        int verified = Integer.parseInt(a.getOrDefault("verified-candidates", Integer.toString(SHIPPED_VERIFIED_CANDIDATES)));
        Path out = Path.of(a.getOrDefault("out", OUT.toString()));
        // one_word_swapped (third round) unless --no-swap: the second round's feature set.
        boolean swap = !a.containsKey("no-swap");
        String[] features = java.util.Arrays.stream(PairFeatures.NAMES)
                .filter(n -> secondModel != null || !n.equals("second_cosine"))
                .filter(n -> swap || !n.equals("one_word_swapped")).toArray(String[]::new);
        String secondName = secondModel == null ? null : secondModel.modelName();
        Params params = new Params(Integer.parseInt(a.getOrDefault("epochs", "30")),
                Double.parseDouble(a.getOrDefault("lr", "0.1")), seed);

        CachePairs pairs = CachePairs.read(dataset);
        List<Group> train = pairs.half(Half.TRAIN);
        List<Negative> negatives = NegativeQuestions.load().stream().filter(n -> !n.heldOut()).toList();
        System.out.printf(Locale.ROOT, "# Duplicate verifier: training half of %s%n%s%n%n", dataset, Hardware.describe());
        System.out.printf(Locale.ROOT, "%d training groups (%d withheld), %d training negatives%n", train.size(),
                train.stream().filter(Group::withheld).count(), negatives.size());

        Set<String> texts = new LinkedHashSet<>();
        for (Group g : train) {
            texts.add(g.origin());
            texts.addAll(g.paraphrases());
        }
        negatives.forEach(n -> texts.add(n.question()));
        Map<String, float[]> vec = embed(new ArrayList<>(texts));
        Map<String, float[]> vec2 = secondModel == null ? Map.of() : new HashMap<>(embed(new ArrayList<>(texts), secondModel));
        SECOND.clear();
        SECOND.putAll(vec2);

        List<String> neutralTexts = new ArrayList<>();
        Map<String, Integer> groupOfOrigin = new HashMap<>();
        train.forEach(g -> groupOfOrigin.put(g.origin(), g.id()));
        List<Keyed> samples = new ArrayList<>();
        for (Group g : train) {
            for (String p : g.paraphrases()) {
                samples.add(new Keyed(g.id(), sample(p, g.origin(), vec, true)));
                for (Group other : nearest(p, train, g.id(), mined, vec)) {
                    samples.add(new Keyed(g.id(), sample(p, other.origin(), vec, false)));
                }
            }
            for (Group other : nearest(g.origin(), train, g.id(), 3, vec)) {
                samples.add(new Keyed(g.id(), sample(g.origin(), other.origin(), vec, false)));
            }
        }
        // Near copies that keep the meaning (a synonym, a contraction): without them every near copy
        // in the training data would be an opposite, and the model would learn "near copy = different".
        int neutral = 0;
        for (Group g : train) {
            for (String copy : neutralEdits(g.origin())) {
                neutralTexts.add(copy);
                neutral++;
            }
        }
        vec.putAll(embed(neutralTexts.stream().filter(t -> !vec.containsKey(t)).toList()));
        if (secondModel != null) {
            SECOND.putAll(embed(neutralTexts.stream().filter(t -> !SECOND.containsKey(t)).toList(), secondModel));
        }
        for (Group g : train) {
            for (String copy : neutralEdits(g.origin())) {
                samples.add(new Keyed(g.id(), sample(copy, g.origin(), vec, true, opposites)));
            }
        }
        for (Negative n : negatives) {
            if (n.origin() != null) {
                samples.add(new Keyed(groupOfOrigin.get(n.origin()), sample(n.question(), n.origin(), vec, false, opposites)));
            } else {
                int self = groupOfOrigin.get(n.question());
                for (Group other : nearest(n.question(), train, self, 1, vec)) {
                    samples.add(new Keyed(self, sample(n.question(), other.origin(), vec, false)));
                }
            }
        }
        long positives = samples.stream().filter(k -> k.sample().duplicate()).count();
        System.out.printf(Locale.ROOT, "%d samples: %d duplicates (%d of them meaning-keeping near copies), %d different "
                        + "(near copies weighted %.1f)%n%n", samples.size(), positives, neutral, samples.size() - positives, opposites);
        System.out.println("| feature | mean: duplicates | mined negatives | opposites |\n|---|---|---|---|");
        for (int f = 0; f < PairFeatures.count(); f++) {
            int ff = f;
            System.out.printf(Locale.ROOT, "| %s | %.3f | %.3f | %.3f |%n", PairFeatures.NAMES[f],
                    samples.stream().filter(k -> k.sample().duplicate()).mapToDouble(k -> k.sample().features()[ff]).average().orElse(0),
                    samples.stream().filter(k -> !k.sample().duplicate() && k.sample().weight() == 1).mapToDouble(k -> k.sample().features()[ff]).average().orElse(0),
                    samples.stream().filter(k -> !k.sample().duplicate() && k.sample().weight() != 1).mapToDouble(k -> k.sample().features()[ff]).average().orElse(0));
        }
        System.out.println();

        // Out-of-fold models: folds of whole groups.
        List<Integer> ids = new ArrayList<>(train.stream().map(Group::id).toList());
        Collections.shuffle(ids, new Random(seed));
        Map<Integer, Integer> foldOf = new HashMap<>();
        for (int i = 0; i < ids.size(); i++) {
            foldOf.put(ids.get(i), i % folds);
        }
        DuplicateVerifier[] oof = new DuplicateVerifier[folds];
        for (int f = 0; f < folds; f++) {
            int fold = f;
            oof[f] = VerifierTrainer.train(samples.stream().filter(k -> foldOf.get(k.group()) != fold).map(Keyed::sample)
                    .toList(), features, secondName, params, 0);
        }

        // The tuning simulation: the training half's cached origins, the cache's ranking settings; one cache per
        // fold whose verifier (that fold's model, threshold 0) picks the most probable of the `verified` best-ranked
        // candidates. At threshold t the lookup hits when that probability reaches t: the cache's own rule.
        List<Question> questions = new ArrayList<>();
        for (Group g : train) {
            if (g.withheld()) {
                questions.add(new Question(g.paraphrases().get(0), "withheld", -1, g.id()));
            } else {
                g.paraphrases().forEach(p -> questions.add(new Question(p, "paraphrase", g.id(), g.id())));
            }
        }
        for (Negative n : negatives) {
            int gid = groupOfOrigin.get(n.origin() != null ? n.origin() : n.question());
            questions.add(new Question(n.question(), "negative", -1, gid));
        }
        Map<String, String> ruleOf = new HashMap<>();
        negatives.forEach(n -> ruleOf.put(n.question(), n.rule()));
        int m = questions.size();
        // --sweep: the stage before the verifier too (similarity threshold, ambiguity margin, verified candidates),
        // each with its own best threshold; the best value wins, a tie keeps the earlier (stricter) setting.
        List<Stage> stages = new ArrayList<>();
        if (a.containsKey("sweep")) {
            for (double sim : new double[]{0.76, 0.72, 0.68, 0.64, 0.60}) {
                for (double margin : new double[]{0.02, 0.01, 0}) {
                    for (int k : new int[]{1, 3}) {
                        stages.add(new Stage(sim, margin, k));
                    }
                }
            }
        } else {
            stages.add(new Stage(Double.parseDouble(a.getOrDefault("similarity-threshold", Double.toString(SHIPPED.similarityThreshold()))),
                    Double.parseDouble(a.getOrDefault("ambiguity-margin", Double.toString(SHIPPED.ambiguityMargin()))), verified));
        }
        Stage chosenStage = null;
        double chosen = Double.NaN;
        double bestValue = Double.NEGATIVE_INFINITY;
        int[] winner = null;
        double[] prob = null;
        List<String> sweepRows = new ArrayList<>();
        for (Stage stage : stages) {
            SemanticCache[] caches = new SemanticCache[folds];
            for (int f = 0; f < folds; f++) {
                caches[f] = new SemanticCache(stage.settings(), new SemanticCache.Verification(oof[f].withThreshold(0),
                        secondModel == null ? null : SECOND::get, stage.verified()), System::nanoTime);
                for (Group g : train) {
                    if (!g.withheld()) {
                        caches[f].put(caches[f].ticket(), TENANT, CacheScope.NONE, g.origin(), vec.get(g.origin()), "g" + g.id(),
                                List.of());
                    }
                }
            }
            int[] w = new int[m];
            double[] pr = new double[m];
            int[] paraphraseMisses = new int[4]; // under the threshold or no candidate, ambiguous, identifiers, unverified (p = 0 never)
            for (int i = 0; i < m; i++) {
                Question q = questions.get(i);
                int fold = foldOf.get(q.foldGroup());
                var before = caches[fold].stats();
                Optional<CacheHit> hit = caches[fold].lookup(TENANT, CacheScope.NONE, q.text(), vec.get(q.text()));
                if (hit.isEmpty()) {
                    w[i] = Integer.MIN_VALUE;
                    var after = caches[fold].stats();
                    if (q.kind().equals("paraphrase")) {
                        paraphraseMisses[after.ambiguous() > before.ambiguous() ? 1
                                : after.identifierMismatches() > before.identifierMismatches() ? 2
                                : after.unverified() > before.unverified() ? 3 : 0]++;
                    }
                    continue;
                }
                w[i] = Integer.parseInt(hit.get().answer().substring(1));
                pr[i] = hit.get().exact() ? 1 : oof[fold].probability(features(q.text(), hit.get().cachedQuery(), vec));
            }
            boolean print = stages.size() == 1;
            if (print) {
                System.out.println("## Threshold on the training half (out-of-fold probabilities)\n");
                System.out.println("| threshold | correct hits | wrong hits | share of hits wrong | withheld: hits | negatives: hits |");
                System.out.println("|---|---|---|---|---|---|");
            }
            double[] best = bestThreshold(questions, w, pr, cost, print);
            String row = String.format(Locale.ROOT, "| %.2f | %.2f | %d | %.3f | %d / %d / %d / %d | %.0f | %d / %d / %d |", stage.similarity(),
                    stage.margin(), stage.verified(), best[0], (int) best[2], (int) best[3], (int) best[4], (int) best[5], best[1],
                    paraphraseMisses[0], paraphraseMisses[1], paraphraseMisses[2]);
            sweepRows.add(row);
            if (best[1] > bestValue) {
                bestValue = best[1];
                chosen = best[0];
                chosenStage = stage;
                winner = w;
                prob = pr;
            }
        }
        if (stages.size() > 1) {
            System.out.println("## The stage before the verifier, swept (training half, out of fold)\n");
            System.out.println("| similarity threshold | ambiguity margin | verified candidates | best threshold | correct / wrong / "
                    + "withheld hits / negatives hits | value | paraphrases refused before the verifier: similarity / ambiguous / identifiers |");
            System.out.println("|---|---|---|---|---|---|---|");
            sweepRows.forEach(System.out::println);
            System.out.printf(Locale.ROOT, "%n**chosen stage: similarity %.2f, margin %.2f, %d verified candidate(s)**%n%n",
                    chosenStage.similarity(), chosenStage.margin(), chosenStage.verified());
        }
        verified = chosenStage.verified();
        Map<String, int[]> byRule = new java.util.TreeMap<>();
        double shown = Double.parseDouble(a.getOrDefault("show-at", Double.toString(chosen)));
        for (int i = 0; i < m; i++) {
            Question q = questions.get(i);
            if (q.kind().equals("negative")) {
                int[] c = byRule.computeIfAbsent(ruleOf.get(q.text()), r -> new int[2]);
                c[1]++;
                if (winner[i] != Integer.MIN_VALUE && prob[i] >= shown) {
                    c[0]++;
                    if (a.containsKey("verbose")) {
                        System.out.printf(Locale.ROOT, "  hit %.2f [%s] %s%n", prob[i], ruleOf.get(q.text()), q.text());
                    }
                }
            }
        }
        System.out.println("\ntraining negatives hit at " + shown + ", by rule: " + byRule.entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue()[0] + "/" + e.getValue()[1]).toList());
        System.out.printf(Locale.ROOT, "%n**chosen threshold %.3f** (most correct hits minus %.0f × false hits: wrong, "
                + "withheld and negatives)%n%n", chosen, cost);

        List<Sample> all = samples.stream().map(Keyed::sample).toList();
        long t0 = System.nanoTime();
        DuplicateVerifier model = VerifierTrainer.train(all, features, secondName, params, chosen);
        double seconds = (System.nanoTime() - t0) / 1e9;
        DuplicateVerifier again = VerifierTrainer.train(all, features, secondName, params, chosen);
        String body = model.write("");
        System.out.printf(Locale.ROOT, "final model: %.2f s to train; same seed twice: %s; sha256 %s%n%s%n", seconds,
                model.equals(again) && body.equals(again.write("")) ? "identical" : "DIFFERENT",
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body.getBytes(StandardCharsets.UTF_8))),
                model);
        if (!a.containsKey("no-write")) {
            String header = "The semantic cache's duplicate verifier (cache.md), written by\n"
                    + "./mvnw -q test-compile exec:exec@verifier -Dbench.args=\"" + String.join(" ", args) + "\"\n"
                    + "Tribuo LinearSGDTrainer (log loss, AdaGrad " + params.learningRate() + " with parameter averaging, "
                    + params.epochs() + " epochs, seed " + seed + ") on " + all.size() + " pairs of the training half\n"
                    + "(" + positives + " duplicates); standardisation folded into the weights; threshold chosen out of fold\n"
                    + "with " + verified + " verified candidate(s) per lookup, similarity threshold " + chosenStage.similarity()
                    + ", ambiguity margin " + chosenStage.margin()
                    + (secondModel == null ? "" : "; second embedding " + secondName) + ".\n";
            Files.writeString(out, model.write(header));
            System.out.println("written " + out);
        }
    }

    private static final String[][] SYNONYMS = {{"use", "utilize"}, {"allows", "lets"}, {"allow", "let"}, {"create", "make"},
            {"build", "construct"}, {"tool", "utility"}, {"platform", "service"}, {"provides", "offers"}, {"provide", "offer"},
            {"method", "function"}, {"library", "package"}, {"need", "have"}, {"quickly", "rapidly"}, {"easily", "simply"},
            {"help", "assist"}, {"shows", "displays"}, {"show", "display"}, {"get", "obtain"}, {"find", "locate"},
            {"change", "modify"}, {"large", "big"}, {"start", "begin"}, {"select", "choose"}, {"contains", "includes"},
            {"files", "documents"}, {"data", "information"}, {"example", "instance"}, {"way", "manner"}, {"returns", "gives back"},
            {"specify", "indicate"}, {"automatically", "by itself"}, {"each", "every"}, {"also", "as well"}, {"various", "different"}};
    private static final String[][] CONTRACTIONS = {{"does not", "doesn't"}, {"do not", "don't"}, {"is not", "isn't"},
            {"are not", "aren't"}, {"cannot", "can't"}, {"will not", "won't"}, {"it is", "it's"}, {"you are", "you're"},
            {"there is", "there's"}};

    /**
     * Meaning-keeping edits of a cached question, for training only: the first word with a
     * synonym in {@link #SYNONYMS} replaced by it, and the first contraction in either direction.
     */
    static List<String> neutralEdits(String origin) {
        List<String> out = new ArrayList<>();
        for (String[] syn : SYNONYMS) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\b" + syn[0] + "\\b").matcher(origin);
            if (m.find()) {
                out.add(origin.substring(0, m.start()) + syn[1] + origin.substring(m.end()));
                break;
            }
        }
        for (String[] c : CONTRACTIONS) {
            for (int side = 0; side < 2; side++) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\b" + java.util.regex.Pattern.quote(c[side]) + "(?![\\w'])")
                        .matcher(origin);
                if (m.find()) {
                    out.add(origin.substring(0, m.start()) + c[1 - side] + origin.substring(m.end()));
                    return out;
                }
            }
        }
        return out;
    }

    /** The cache's shipped ranking settings with the verifier (SemanticCacheProducer's defaults). */
    static final SemanticCache.Settings SHIPPED = settings(0.72, 0.02);
    /** The shipped similarity threshold when nothing verifies the hits. */
    static final double UNVERIFIED_SIMILARITY = 0.76;

    static SemanticCache.Settings shippedSettings() {
        return SHIPPED;
    }

    /** The shipped ranking with another similarity threshold and ambiguity margin. */
    static SemanticCache.Settings settings(double similarityThreshold, double ambiguityMargin) {
        return new SemanticCache.Settings(true, similarityThreshold, 0, 0.3, ambiguityMargin, 5, Duration.ofDays(1), 1_000_000,
                Long.MAX_VALUE);
    }

    /** The stage before the verifier: similarity threshold, ambiguity margin, candidates verified. */
    record Stage(double similarity, double margin, int verified) {
        SemanticCache.Settings settings() {
            return VerifierTraining.settings(similarity, margin);
        }
    }

    /**
     * The threshold of the grid with the most correct hits minus {@code cost} × false hits;
     * returns {threshold, value, correct, wrong, withheld hits, negatives hits}. Prints the grid's rows when asked.
     */
    private static double[] bestThreshold(List<Question> questions, int[] winner, double[] prob, double cost, boolean print) {
        double[] best = {Double.NaN, Double.NEGATIVE_INFINITY, 0, 0, 0, 0};
        for (double t : grid()) {
            int correct = 0;
            int wrong = 0;
            int paraphrases = 0;
            int withheld = 0;
            int withheldHits = 0;
            int negs = 0;
            int negHits = 0;
            for (int i = 0; i < questions.size(); i++) {
                boolean hit = winner[i] != Integer.MIN_VALUE && prob[i] >= t;
                switch (questions.get(i).kind()) {
                    case "paraphrase" -> {
                        paraphrases++;
                        if (hit && winner[i] == questions.get(i).expected()) {
                            correct++;
                        } else if (hit) {
                            wrong++;
                        }
                    }
                    case "withheld" -> {
                        withheld++;
                        withheldHits += hit ? 1 : 0;
                    }
                    default -> {
                        negs++;
                        negHits += hit ? 1 : 0;
                    }
                }
            }
            double value = correct - cost * (wrong + withheldHits + negHits);
            if (value > best[1]) {
                best = new double[]{t, value, correct, wrong, withheldHits, negHits};
            }
            if (print) {
                double wrongShare = correct + wrong == 0 ? 0 : (double) wrong / (correct + wrong);
                System.out.printf(Locale.ROOT, "| %.3f | %d of %d (%.1f%%) | %d | %.2f%% | %d of %d (%.1f%%) | %d of %d (%.1f%%) |%n", t,
                        correct, paraphrases, 100.0 * correct / paraphrases, wrong, 100 * wrongShare, withheldHits, withheld,
                        100.0 * withheldHits / withheld, negHits, negs, 100.0 * negHits / negs);
            }
        }
        return best;
    }

    static double[] grid() {
        List<Double> g = new ArrayList<>();
        for (int t = 2; t <= 38; t++) {
            g.add(t / 40.0); // 0.05, 0.075 … 0.95
        }
        return g.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** Verified candidates per lookup the gateway ships ({@code gateway.cache.verified-candidates}'s default). */
    static final int SHIPPED_VERIFIED_CANDIDATES = 1;

    /** Vectors of the second embedding model of the run, by text (empty without one). */
    static final Map<String, float[]> SECOND = new java.util.concurrent.ConcurrentHashMap<>();

    /** Unit MiniLM vectors of the texts (the cache's embedding). */
    static Map<String, float[]> embed(List<String> texts) throws Exception {
        return embed(texts, EmbeddingModel.ALL_MINILM_L6_V2_Q);
    }

    /** The pair's features with the cosines of the run's embeddings ({@link #SECOND} for the second one). */
    static double[] features(String asked, String cached, Map<String, float[]> vec) {
        float[] a2 = SECOND.get(asked);
        float[] c2 = SECOND.get(cached);
        return PairFeatures.of(dot(vec.get(asked), vec.get(cached)), a2 == null || c2 == null ? Double.NaN : dot(a2, c2),
                PairFeatures.profile(asked), PairFeatures.profile(cached));
    }

    /** Unit vectors of the texts (the model's query prefix); cached in target/verifier-cache by model and texts' digest. */
    static Map<String, float[]> embed(List<String> texts, EmbeddingModel which) throws Exception {
        Map<String, float[]> out = new HashMap<>();
        if (texts.isEmpty()) {
            return out;
        }
        String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(String.join("\u0000", texts).getBytes(StandardCharsets.UTF_8))).substring(0, 16);
        Path file = Path.of("target/verifier-cache/" + (which == EmbeddingModel.ALL_MINILM_L6_V2_Q ? "minilm"
                : which.modelName()) + "-" + digest + ".bin");
        if (Files.exists(file)) {
            try (var in = new java.io.DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)))) {
                int dim = in.readInt();
                for (String t : texts) {
                    float[] v = new float[dim];
                    for (int j = 0; j < dim; j++) {
                        v[j] = in.readFloat();
                    }
                    out.put(t, v);
                }
            }
            System.out.println("embeddings of " + texts.size() + " texts from " + file + "\n");
            return out;
        }
        try (OnnxEmbedder embedder = new OnnxEmbedder(which, 0)) {
            long t0 = System.nanoTime();
            List<float[]> v = embedder.embedAll(texts);
            for (int i = 0; i < texts.size(); i++) {
                out.put(texts.get(i), unit(v.get(i)));
            }
            System.out.printf(Locale.ROOT, "embedded %d texts in %.1f s (%s, in process)%n%n",
                    texts.size(), (System.nanoTime() - t0) / 1e9, which.modelName());
        }
        Files.createDirectories(file.getParent());
        try (var o = new java.io.DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(file)))) {
            o.writeInt(out.get(texts.get(0)).length);
            for (String t : texts) {
                for (float x : out.get(t)) {
                    o.writeFloat(x);
                }
            }
        }
        return out;
    }

    private static Sample sample(String asked, String cached, Map<String, float[]> vec, boolean duplicate) {
        return sample(asked, cached, vec, duplicate, 1);
    }

    private static Sample sample(String asked, String cached, Map<String, float[]> vec, boolean duplicate, double weight) {
        return new Sample(features(asked, cached, vec), duplicate, weight);
    }

    /** The {@code k} origins of other groups nearest to {@code text} by cosine. */
    private static List<Group> nearest(String text, List<Group> groups, int except, int k, Map<String, float[]> vec) {
        float[] q = vec.get(text);
        return groups.stream().filter(g -> g.id() != except && !g.origin().equals(text))
                .sorted((x, y) -> Double.compare(dot(q, vec.get(y.origin())), dot(q, vec.get(x.origin()))))
                .limit(k).toList();
    }

    static float[] unit(float[] v) {
        double n = 0;
        for (float x : v) {
            n += (double) x * x;
        }
        float inv = (float) (1 / Math.sqrt(n));
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] * inv;
        }
        return out;
    }

    /** As the cache computes it: a float sum over unit vectors. */
    static double dot(float[] a, float[] b) {
        float s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
