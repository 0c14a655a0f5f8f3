package dev.offload.gateway.bench.routing;

import dev.offload.gateway.bench.Args;
import dev.offload.gateway.bench.Hardware;
import dev.offload.gateway.bench.routing.RouterTrainer.Params;
import dev.offload.gateway.bench.routing.RouterTrainer.Sample;
import dev.offload.gateway.offload.policy.LocalQualityRouter;
import dev.offload.gateway.offload.policy.QueryComplexity;
import dev.offload.gateway.offload.policy.QueryFeatures;
import dev.offload.gateway.retrieval.EmbeddingModel;
import dev.offload.gateway.retrieval.OnnxEmbedder;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

/**
 * Retrains and re-evaluates the local-quality router on RouteLLM's MMLU labels, the way RouteLLM
 * judges routers: on questions the router was not trained on, by a seeded random k-fold split
 * and by k folds that leave whole subjects out (out-of-fold estimates pooled over the folds). It
 * prints quality against the share of strong calls, PGR, APGR, CPT(50 %), CPT(80 %) beside the
 * random router, the oracle and two untrained baselines (prompt length; the policy's regular
 * expressions), plots the curves, and writes the model trained on all questions as the
 * gateway's resource — after training it twice to prove the same seed gives the same model.
 *
 * <pre>./mvnw -q test-compile exec:exec@router</pre>
 * Options: {@code --dataset} (../shared/data/routing/routellm-mmlu.csv), {@code --seed} 42,
 * {@code --folds} 5, {@code --epochs} 3, {@code --lr} 0.05, {@code --out} (the resource in
 * src/main/resources), {@code --plot} (src/site/resources/images/router/curve.png),
 * {@code --no-write} (evaluate only), {@code --experiments a,b} (the nested comparisons of
 * {@link RouterExperiments}; evaluate only). Embeddings are cached in target/router-cache.
 */
public final class RouterTraining {
    private RouterTraining() {
    }

    /** One labelled MMLU question of the routing data. */
    public record Question(String subject, String prompt, boolean weak, boolean strong) {
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> a = Args.parse(argv);
        Path dataset = Path.of(a.getOrDefault("dataset", "../shared/data/routing/routellm-mmlu.csv"));
        long seed = Long.parseLong(a.getOrDefault("seed", "42"));
        int folds = Integer.parseInt(a.getOrDefault("folds", "5"));
        Params params = new Params(Integer.parseInt(a.getOrDefault("epochs", "3")),
                Double.parseDouble(a.getOrDefault("lr", "0.05")), seed);
        String trainer = a.getOrDefault("trainer", "sgd"); // the shipped router (liblinear: --trainer liblinear --cost --scale)
        LiblinearRouterTrainer.Params linear = new LiblinearRouterTrainer.Params(Double.parseDouble(a.getOrDefault("cost", "0.01")),
                Double.parseDouble(a.getOrDefault("scale", "1")), !a.containsKey("surface-only"));
        Path plot = Path.of(a.getOrDefault("plot", "src/site/resources/images/router/curve.png"));

        List<Question> qs = readCsv(dataset);
        System.out.printf(Locale.ROOT, "%s: %d questions, %d subjects; %s; params %s%n", dataset, qs.size(),
                qs.stream().map(Question::subject).distinct().count(), Hardware.describe(), params);
        EmbeddingModel model = EmbeddingModel.byName(a.getOrDefault("model", EmbeddingModel.ALL_MINILM_L6_V2_Q.modelName()));
        List<float[]> emb = embeddings(dataset, qs, model);
        if (a.containsKey("embed-only")) {
            return;
        }
        Path out = Path.of(a.getOrDefault("out", "src/main/resources" + LocalQualityRouter.resource(model.modelName())));
        List<Sample> samples = new ArrayList<>(qs.size());
        boolean[] weak = new boolean[qs.size()];
        boolean[] strong = new boolean[qs.size()];
        for (int i = 0; i < qs.size(); i++) {
            Question q = qs.get(i);
            samples.add(new Sample(q.prompt(), emb.get(i), q.weak() || !q.strong()));
            weak[i] = q.weak();
            strong[i] = q.strong();
        }

        int[] randomFold = randomFolds(qs.size(), folds, seed);
        int[] subjectFold = subjectFolds(qs, folds, seed);
        if (a.containsKey("experiments")) {
            RouterExperiments.run(a, qs, emb, weak, strong, randomFold, subjectFold, folds, seed);
            return;
        }
        if (a.containsKey("nested")) {
            // L2 logistic regression (LIBLINEAR): C and the embedding's scale chosen by inner CV
            // on the training folds only (their own fold ids as the inner groups).
            List<LiblinearRouterTrainer.Params> grid = new ArrayList<>();
            boolean options = !a.containsKey("surface-only");
            for (String c : a.getOrDefault("costs", "0.0003,0.003,0.03").split(",")) {
                for (String sc : a.getOrDefault("scales", "1,0.3,0.1").split(",")) {
                    grid.add(new LiblinearRouterTrainer.Params(Double.parseDouble(c), Double.parseDouble(sc), options));
                }
            }
            for (String split : a.getOrDefault("splits", "random,subjects").split(",")) {
                int[] fold = split.equals("random") ? randomFold : subjectFold;
                long t0 = System.nanoTime();
                double[][] oof = nestedOutOfFold(samples, fold, folds, grid, seed, weak, strong);
                RoutingCurve refit = RoutingCurve.of(oof[0], weak, strong);
                RoutingCurve bagged = RoutingCurve.of(oof[1], weak, strong);
                System.out.printf(Locale.ROOT, "nested %s %s%s: refit APGR %.3f CPT50 %.1f %% CPT80 %.1f %% | inner-fold average APGR %.3f CPT50 %.1f %% CPT80 %.1f %% (%.0f s)%n",
                        model.modelName(), split, options ? "" : " (surface features only)", refit.apgr(), 100 * refit.cpt(0.5),
                        100 * refit.cpt(0.8), bagged.apgr(), 100 * bagged.cpt(0.5), 100 * bagged.cpt(0.8), (System.nanoTime() - t0) / 1e9);
            }
            return;
        }
        if (a.containsKey("grid")) {
            // Exploration only: APGR and CPT(50 %) per setting "epochs:rate", both splits.
            List<Sample> input = new ArrayList<>();
            for (int i = 0; i < samples.size(); i++) {
                Sample x = samples.get(i);
                boolean label = "weak".equals(a.get("label")) ? weak[i] : x.localAsGood();
                input.add(new Sample(x.text(), a.containsKey("no-embedding") ? new float[x.embedding().length] : x.embedding(), label));
            }
            for (String g : a.get("grid").split(",")) {
                String[] er = g.split(":");
                Params p = new Params(Integer.parseInt(er[0]), Double.parseDouble(er[1]), seed);
                int factors = er.length > 2 ? Integer.parseInt(er[2]) : 0;
                RoutingCurve r = RoutingCurve.of(outOfFold(input, randomFold, folds, p, factors), weak, strong);
                RoutingCurve l = RoutingCurve.of(outOfFold(input, subjectFold, folds, p, factors), weak, strong);
                System.out.printf(Locale.ROOT, "grid %s%s: random APGR %.3f CPT50 %.1f %% | subjects APGR %.3f CPT50 %.1f %% CPT80 %.1f %%%n",
                        g, a.containsKey("no-embedding") ? " (no embedding)" : "" + a.getOrDefault("label", ""), r.apgr(), 100 * r.cpt(0.5), l.apgr(),
                        100 * l.cpt(0.5), 100 * l.cpt(0.8));
            }
            return;
        }
        Map<String, RoutingCurve> curves = new LinkedHashMap<>();
        boolean liblinear = "liblinear".equals(trainer);
        double[] oofRandom = liblinear ? outOfFold(samples, randomFold, folds, linear, seed) : outOfFold(samples, randomFold, folds, params);
        double[] oofSubjects = liblinear ? outOfFold(samples, subjectFold, folds, linear, seed) : outOfFold(samples, subjectFold, folds, params);
        curves.put("router, random " + folds + "-fold", RoutingCurve.of(oofRandom, weak, strong));
        curves.put("router, leave subjects out (" + folds + " folds)", RoutingCurve.of(oofSubjects, weak, strong));
        curves.put("random router (seeded scores)", RoutingCurve.of(new Random(seed).doubles(qs.size()).toArray(), weak, strong));
        curves.put("oracle", RoutingCurve.oracle(weak, strong));
        double[] length = new double[qs.size()];
        for (int i = 0; i < length.length; i++) {
            length[i] = -qs.get(i).prompt().length();
        }
        curves.put("prompt length alone (untrained)", RoutingCurve.of(length, weak, strong));
        double[] overlap = new double[qs.size()];
        int overlapAt = java.util.Arrays.asList(QueryFeatures.NAMES).indexOf("option_overlap");
        for (int i = 0; i < overlap.length; i++) {
            overlap[i] = -QueryFeatures.of(qs.get(i).prompt())[overlapAt];
        }
        curves.put("option overlap alone (untrained)", RoutingCurve.of(overlap, weak, strong));

        RoutingCurve any = curves.values().iterator().next();
        System.out.printf(Locale.ROOT, "weak %.1f %%, strong %.1f %%; PGR over all %d questions, out-of-fold%n",
                100 * any.weakQuality(), 100 * any.strongQuality(), any.size());
        System.out.println("| router | APGR | CPT(50 %) | CPT(80 %) | PGR at 20 % | PGR at 50 % | quality at 20 % / 50 % strong |");
        System.out.println("|---|---|---|---|---|---|---|");
        System.out.println("| random (analytic) | 0.500 | 50.0 % | 80.0 % | 0.20 | 0.50 | – |");
        for (var e : curves.entrySet()) {
            RoutingCurve c = e.getValue();
            System.out.printf(Locale.ROOT, "| %s | %.3f | %.1f %% | %.1f %% | %.2f | %.2f | %.1f %% / %.1f %% |%n", e.getKey(),
                    c.apgr(), 100 * c.cpt(0.5), 100 * c.cpt(0.8), c.pgr(0.2), c.pgr(0.5), 100 * c.quality(0.2),
                    100 * c.quality(0.5));
        }

        // The policy's regular expressions as a router: a single operating point each, compared
        // with the trained router at the same share of strong calls.
        System.out.println();
        System.out.println("| cue → strong model | share strong | quality | PGR | router (leave subjects out) PGR at that share | random |");
        System.out.println("|---|---|---|---|---|---|");
        regexRow("MULTI_HOP", qs, QueryComplexity::multiHop, weak, strong, curves);
        regexRow("LONG_OUTPUT", qs, QueryComplexity::longOutput, weak, strong, curves);
        regexRow("either", qs, t -> QueryComplexity.multiHop(t) || QueryComplexity.longOutput(t), weak, strong, curves);

        // Operating points of the leave-subjects-out router: the estimate's threshold per share.
        System.out.println();
        System.out.println("| share of strong calls | localQuality threshold (leave subjects out) | PGR |");
        System.out.println("|---|---|---|");
        double[] sorted = oofSubjects.clone();
        java.util.Arrays.sort(sorted);
        RoutingCurve lso = curves.get("router, leave subjects out (" + folds + " folds)");
        for (double c : new double[]{0.1, 0.2, 0.3, 0.4, 0.5}) {
            System.out.printf(Locale.ROOT, "| %.0f %% | %.3f | %.2f |%n", 100 * c, sorted[(int) Math.round(c * sorted.length)],
                    lso.pgr(c));
        }
        plot(plot, curves);
        System.out.println("plot: " + plot);

        // The shipped model: all questions, trained twice to show that the seed fixes the model.
        long t0 = System.nanoTime();
        RouterTrainer.Fit sgdFit = liblinear ? null : RouterTrainer.fit(samples, params);
        LiblinearRouterTrainer.Fit linearFit = liblinear ? LiblinearRouterTrainer.fit(samples, linear, seed) : null;
        record Shipped(LocalQualityRouter router, java.util.function.ToDoubleFunction<Sample> tribuo) {
        }
        Shipped fit = liblinear ? new Shipped(linearFit.router(), linearFit::tribuoEstimate)
                : new Shipped(sgdFit.router(), sgdFit::tribuoEstimate);
        double trainSeconds = (System.nanoTime() - t0) / 1e9;
        LocalQualityRouter again = liblinear ? LiblinearRouterTrainer.train(samples, linear, seed) : RouterTrainer.train(samples, params);
        String text = fit.router().write("");
        System.out.printf(Locale.ROOT, "final model: %.1f s to train; same seed twice: %s; sha256 %s%n", trainSeconds,
                again.equals(fit.router()) ? "identical" : "DIFFERENT", sha256(text));
        if (!again.equals(fit.router())) {
            throw new IllegalStateException("training is not deterministic");
        }
        double maxDiff = 0;
        for (int i = 0; i < samples.size(); i += 97) {
            Sample s = samples.get(i);
            maxDiff = Math.max(maxDiff, Math.abs(fit.tribuo().applyAsDouble(s) - fit.router().estimate(s.text(), s.embedding())));
        }
        System.out.printf(Locale.ROOT, "exported model vs Tribuo's prediction: max |difference| %.2e%n", maxDiff);
        if (maxDiff > 1e-4) {
            throw new IllegalStateException("the exported weights do not reproduce Tribuo's model");
        }
        if (!a.containsKey("no-write")) {
            String how = liblinear
                    ? "Tribuo " + org.tribuo.Tribuo.VERSION + " L2-regularised logistic regression (LIBLINEAR L2R_LR, " + linear + ")\n"
                    : "Tribuo " + org.tribuo.Tribuo.VERSION + " logistic regression (LinearSGDTrainer, LogMulticlass, AdaGrad "
                    + params.learningRate() + " with parameter averaging, " + params.epochs() + " epochs, seed " + seed + ")\n";
            String header = "Local-quality router: P(the device's small model answers as well as the gateway's).\n" + how
                    + "over " + model.modelName() + " embeddings (query prefix '" + model.queryPrefix() + "') + QueryFeatures, standardisation folded in.\n"
                    + "Trained on " + samples.size() + " RouteLLM MMLU questions (" + dataset.getFileName()
                    + "), label weak_correct >= strong_correct.\n"
                    + "Written by ./mvnw -q test-compile exec:exec@router; do not edit by hand.";
            String body = fit.router().write(header, model.modelName());
            LocalQualityRouter check = LocalQualityRouter.read(new StringReader(body));
            if (!check.equals(fit.router())) {
                throw new IllegalStateException("the written model does not read back");
            }
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, body);
            System.out.printf(Locale.ROOT, "wrote %s (%d bytes)%n", out, body.getBytes(StandardCharsets.UTF_8).length);
        }
    }

    private static void regexRow(String name, List<Question> qs, java.util.function.Predicate<String> cue, boolean[] weak,
                                 boolean[] strong, Map<String, RoutingCurve> curves) {
        double[] s = new double[qs.size()];
        int n = 0;
        for (int i = 0; i < s.length; i++) {
            if (cue.test(qs.get(i).prompt())) {
                s[i] = 0;
                n++;
            } else {
                s[i] = 1;
            }
        }
        double share = n / (double) s.length;
        RoutingCurve c = RoutingCurve.of(s, weak, strong);
        RoutingCurve lso = curves.entrySet().stream().filter(e -> e.getKey().contains("leave subjects")).findFirst()
                .orElseThrow().getValue();
        System.out.printf(Locale.ROOT, "| %s | %.1f %% | %.1f %% | %.2f | %.2f | %.2f |%n", name, 100 * share,
                100 * c.quality(share), c.pgr(share), lso.pgr(share), share);
    }

    static double[] outOfFold(List<Sample> samples, int[] fold, int folds, LiblinearRouterTrainer.Params p, long seed) {
        double[] oof = new double[samples.size()];
        for (int f = 0; f < folds; f++) {
            List<Sample> train = new ArrayList<>();
            for (int i = 0; i < samples.size(); i++) {
                if (fold[i] != f) {
                    train.add(samples.get(i));
                }
            }
            LocalQualityRouter r = LiblinearRouterTrainer.train(train, p, seed);
            for (int i = 0; i < samples.size(); i++) {
                if (fold[i] == f) {
                    oof[i] = r.estimate(samples.get(i).text(), samples.get(i).embedding());
                }
            }
        }
        return oof;
    }

    static double[] outOfFold(List<Sample> samples, int[] fold, int folds, Params params) {
        return outOfFold(samples, fold, folds, params, 0);
    }

    static double[] outOfFold(List<Sample> samples, int[] fold, int folds, Params params, int fmFactors) {
        double[] oof = new double[samples.size()];
        for (int f = 0; f < folds; f++) {
            List<Sample> train = new ArrayList<>();
            List<Sample> test = new ArrayList<>();
            List<Integer> testIdx = new ArrayList<>();
            for (int i = 0; i < samples.size(); i++) {
                if (fold[i] != f) {
                    train.add(samples.get(i));
                } else {
                    test.add(samples.get(i));
                    testIdx.add(i);
                }
            }
            if (fmFactors > 0) {
                double[] p = RouterTrainer.factorisationMachine(train, test, params, fmFactors);
                for (int k = 0; k < p.length; k++) {
                    oof[testIdx.get(k)] = p[k];
                }
                continue;
            }
            LocalQualityRouter r = RouterTrainer.train(train, params);
            for (int i = 0; i < samples.size(); i++) {
                if (fold[i] == f) {
                    oof[i] = r.estimate(samples.get(i).text(), samples.get(i).embedding());
                }
            }
        }
        return oof;
    }

    /**
     * Nested cross-validation: for each outer fold, every setting of {@code grid} is scored by the
     * APGR of its out-of-fold estimates over the other folds (their own fold ids as the inner
     * groups, so whole subjects stay together on the subject split); the best is refitted on all
     * training folds and scores the outer fold. Returns {refit, average of the inner-fold models}
     * (averaging the logits of linear models is the model with the averaged weight vector).
     */
    static boolean VERBOSE = Boolean.getBoolean("router.verbose");

    static double[][] nestedOutOfFold(List<Sample> samples, int[] fold, int folds, List<LiblinearRouterTrainer.Params> grid,
                                      long seed, boolean[] weak, boolean[] strong) {
        double[] refit = new double[samples.size()];
        double[] bagged = new double[samples.size()];
        for (int f = 0; f < folds; f++) {
            List<Integer> trainIdx = new ArrayList<>();
            for (int i = 0; i < samples.size(); i++) {
                if (fold[i] != f) {
                    trainIdx.add(i);
                }
            }
            double best = Double.NEGATIVE_INFINITY;
            LiblinearRouterTrainer.Params chosen = null;
            List<LocalQualityRouter> chosenInner = null;
            for (LiblinearRouterTrainer.Params p : grid) {
                double[] inner = new double[trainIdx.size()];
                boolean[] w = new boolean[trainIdx.size()];
                boolean[] s = new boolean[trainIdx.size()];
                List<LocalQualityRouter> models = new ArrayList<>();
                for (int g = 0; g < folds; g++) {
                    if (g == f) {
                        continue;
                    }
                    List<Sample> train = new ArrayList<>();
                    for (int i : trainIdx) {
                        if (fold[i] != g) {
                            train.add(samples.get(i));
                        }
                    }
                    LocalQualityRouter r = LiblinearRouterTrainer.train(train, p, seed);
                    models.add(r);
                    for (int k = 0; k < trainIdx.size(); k++) {
                        int i = trainIdx.get(k);
                        if (fold[i] == g) {
                            inner[k] = r.estimate(samples.get(i).text(), samples.get(i).embedding());
                        }
                    }
                }
                for (int k = 0; k < trainIdx.size(); k++) {
                    w[k] = weak[trainIdx.get(k)];
                    s[k] = strong[trainIdx.get(k)];
                }
                double apgr = RoutingCurve.of(inner, w, s).apgr();
                if (VERBOSE) {
                    System.out.printf(Locale.ROOT, "    fold %d %s: inner APGR %.3f%n", f, p, apgr);
                }
                if (apgr > best) {
                    best = apgr;
                    chosen = p;
                    chosenInner = models;
                }
            }
            List<Sample> train = trainIdx.stream().map(samples::get).toList();
            LocalQualityRouter r = LiblinearRouterTrainer.train(train, chosen, seed);
            for (int i = 0; i < samples.size(); i++) {
                if (fold[i] == f) {
                    Sample x = samples.get(i);
                    refit[i] = r.estimate(x.text(), x.embedding());
                    double z = 0;
                    for (LocalQualityRouter m : chosenInner) {
                        double q = m.estimate(x.text(), x.embedding());
                        z += Math.log(q / (1 - q));
                    }
                    bagged[i] = 1 / (1 + Math.exp(-z / chosenInner.size()));
                }
            }
            System.out.printf(Locale.ROOT, "  outer fold %d: chose %s (inner APGR %.3f)%n", f, chosen, best);
        }
        return new double[][]{refit, bagged};
    }

    static int[] randomFolds(int n, int folds, long seed) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            idx.add(i);
        }
        java.util.Collections.shuffle(idx, new Random(seed));
        int[] fold = new int[n];
        for (int k = 0; k < n; k++) {
            fold[idx.get(k)] = k % folds;
        }
        return fold;
    }

    /** Whole subjects per fold: the subjects shuffled by the seed, dealt round-robin. */
    static int[] subjectFolds(List<Question> qs, int folds, long seed) {
        List<String> subjects = new ArrayList<>(new TreeSet<>(qs.stream().map(Question::subject).toList()));
        java.util.Collections.shuffle(subjects, new Random(seed));
        Map<String, Integer> of = new java.util.HashMap<>();
        for (int k = 0; k < subjects.size(); k++) {
            of.put(subjects.get(k), k % folds);
        }
        return qs.stream().mapToInt(q -> of.get(q.subject())).toArray();
    }

    private static void plot(Path file, Map<String, RoutingCurve> curves) throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(560)
                .title("Local-quality router on RouteLLM MMLU (out-of-fold, 14,042 questions)")
                .xAxisTitle("share of questions sent to the strong (gateway) model").yAxisTitle("accuracy of the mix").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
        chart.getStyler().setXAxisMin(0.0);
        chart.getStyler().setXAxisMax(1.0);
        chart.getStyler().setMarkerSize(0);
        for (var e : curves.entrySet()) {
            RoutingCurve c = e.getValue();
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (int k = 0; k <= 200; k++) {
                xs.add(k / 200.0);
                ys.add(c.quality(k / 200.0));
            }
            XYSeries s = chart.addSeries(e.getKey(), xs, ys);
            s.setMarker(SeriesMarkers.NONE);
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    /** The MiniLM embedding of every prompt, cached in target/router-cache by the CSV's digest. */
    static List<float[]> embeddings(Path dataset, List<Question> qs, EmbeddingModel model) throws Exception {
        String digest = sha256(Files.readString(dataset)).substring(0, 16);
        Path cache = Path.of("target/router-cache/" + model.modelName() + "-" + digest + ".bin");
        if (Files.exists(cache)) {
            try (var in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(cache)))) {
                int n = in.readInt();
                int dim = in.readInt();
                if (n == qs.size()) {
                    List<float[]> out = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        float[] v = new float[dim];
                        for (int j = 0; j < dim; j++) {
                            v[j] = in.readFloat();
                        }
                        out.add(v);
                    }
                    System.out.println("embeddings from " + cache);
                    return out;
                }
            }
        }
        long t0 = System.nanoTime();
        List<float[]> out = new ArrayList<>(qs.size());
        try (OnnxEmbedder embedder = new OnnxEmbedder(model, 0)) { // embedAll adds the model's query prefix, as the gateway does
            for (int from = 0; from < qs.size(); from += 1000) {
                List<String> batch = qs.subList(from, Math.min(qs.size(), from + 1000)).stream().map(Question::prompt).toList();
                out.addAll(embedder.embedAll(batch));
                System.out.printf(Locale.ROOT, "embedded %d/%d (%.0f s)%n", out.size(), qs.size(), (System.nanoTime() - t0) / 1e9);
            }
        }
        Files.createDirectories(cache.getParent());
        try (var o = new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(cache)))) {
            o.writeInt(out.size());
            o.writeInt(out.get(0).length);
            for (float[] v : out) {
                for (float x : v) {
                    o.writeFloat(x);
                }
            }
        }
        return out;
    }

    /** RFC 4180: quoted fields may hold commas, line breaks and doubled quotes. */
    public static List<Question> readCsv(Path file) throws IOException {
        String s = Files.readString(file);
        List<List<String>> rows = new ArrayList<>();
        List<String> row = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < s.length() && s.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                row.add(field.toString());
                field.setLength(0);
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') {
                    i++;
                }
                row.add(field.toString());
                field.setLength(0);
                rows.add(row);
                row = new ArrayList<>();
            } else {
                field.append(c);
            }
        }
        if (field.length() > 0 || !row.isEmpty()) {
            row.add(field.toString());
            rows.add(row);
        }
        List<String> header = rows.get(0);
        if (!header.equals(List.of("subject", "prompt", "weak_correct", "strong_correct"))) {
            throw new IOException("unexpected columns " + header);
        }
        List<Question> out = new ArrayList<>();
        for (List<String> r : rows.subList(1, rows.size())) {
            if (r.size() != 4) {
                throw new IOException("row with " + r.size() + " fields: " + r);
            }
            out.add(new Question(r.get(0), r.get(1), bool(r.get(2)), bool(r.get(3))));
        }
        return out;
    }

    private static boolean bool(String v) throws IOException {
        return switch (v) {
            case "True" -> true;
            case "False" -> false;
            default -> throw new IOException("not True/False: " + v);
        };
    }

    static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }
}
