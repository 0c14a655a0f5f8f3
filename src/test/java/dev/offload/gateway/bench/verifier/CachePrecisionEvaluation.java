package dev.offload.gateway.bench.verifier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.gateway.bench.Args;
import dev.offload.gateway.bench.ChildProcess;
import dev.offload.gateway.bench.GatewayLauncher;
import dev.offload.gateway.bench.Hardware;
import dev.offload.gateway.bench.verifier.CachePairs.Group;
import dev.offload.gateway.bench.verifier.CachePairs.Half;
import dev.offload.gateway.bench.verifier.NegativeQuestions.Negative;
import dev.offload.gateway.cache.CacheHit;
import dev.offload.gateway.cache.CacheScope;
import dev.offload.gateway.cache.DuplicateVerifier;
import dev.offload.gateway.cache.PairFeatures;
import dev.offload.gateway.cache.SemanticCache;
import dev.offload.gateway.cluster.ClusterCacheAskers;
import dev.offload.gateway.sim.EchoBackend;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Cache precision on the held-out half of the GPTCache pairs ({@link CachePairs}), asked the way
 * devices ask: one question after another, each miss answered by the backend and stored, each hit
 * served. The same protocol runs twice — in process (the real {@link SemanticCache} with the
 * shipped settings and verifier) and through the API ({@code POST /v1/query} against the packaged
 * gateway launched as a child process, with an {@link EchoBackend} as its edge tier) — so that
 * the two can be compared question by question.
 *
 * <p>The backend answers "ECHO: " and the question, so every answer names the question it was
 * generated for and a hit can be judged by its text: correct when that question is of the asker's
 * group (an origin and its paraphrases), false otherwise. Order (one tenant, one device):
 * <ol>
 *   <li>every cached origin of the held-out half (withheld ones not);</li>
 *   <li>their paraphrases: correct hits, wrong hits, misses;</li>
 *   <li>the first paraphrase of every withheld origin: its duplicate was never cached, every hit
 *       is false;</li>
 *   <li>the held-out negatives ({@link NegativeQuestions}: opposites of cached origins and
 *       unrelated questions): every hit on another question's answer is false.</li>
 * </ol>
 * Nothing here was used for training or tuning.
 *
 * <pre>./mvnw -q package -DskipTests
 * ./mvnw -q test-compile exec:exec@cache-api -Dbench.args="--dataset ../shared/data/cache/gptcache-paraphrase-pairs.json"</pre>
 * Options: {@code --via process|api|both|cluster} (both), {@code --jar} (target/quarkus-app/quarkus-run.jar),
 * {@code --no-verifier} (the cache as before, for comparison), {@code --half train} (the training half),
 * {@code --groups N} (only the half's first N groups and their negatives).
 *
 * <p>{@code --via cluster}: one gateway in the embedded mode, then a 3-node NATS JetStream cluster
 * with 3 gateways in cluster mode ({@link ClusterCacheAskers}), the same questions sent
 * round-robin over the replicas twice — paced (each stored entry has reached every replica
 * before the next question) and immediate (back to back) — each compared question by question
 * with the one gateway. None of these loads the sample corpus.
 */
public final class CachePrecisionEvaluation {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Asks one question; returns the answer and whether the cache served it. */
    public interface Asker extends AutoCloseable {
        Answer ask(String question) throws Exception;

        @Override
        default void close() throws Exception {
        }
    }

    public record Answer(String text, boolean fromCache) {
    }

    public record Asked(String question, String stage, int group, Answer answer) {
    }

    /** Tallies of one run. */
    public record Tally(int paraphrases, int correct, int wrong, int withheld, int withheldHits, int negatives, int negativeHits,
                 Map<String, int[]> negativesByRule, int originHits, List<Asked> log) {
        public double wrongShare() {
            return correct + wrong == 0 ? 0 : (double) wrong / (correct + wrong);
        }
    }

    private CachePrecisionEvaluation() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args);
        Path dataset = Path.of(a.getOrDefault("dataset", "../shared/data/cache/gptcache-paraphrase-pairs.json"));
        String via = a.getOrDefault("via", "both");
        boolean verify = !a.containsKey("no-verifier");
        Half half = "train".equals(a.get("half")) ? Half.TRAIN : Half.HELD_OUT;
        DuplicateVerifier model = a.containsKey("model")
                ? DuplicateVerifier.read(java.nio.file.Files.newBufferedReader(Path.of(a.get("model"))))
                : DuplicateVerifier.bundled();
        int verified = Integer.parseInt(a.getOrDefault("verified-candidates",
                Integer.toString(VerifierTraining.SHIPPED_VERIFIED_CANDIDATES)));
        // The stage before the verifier; defaults: the shipped ones (CacheConfig).
        double similarity = Double.parseDouble(a.getOrDefault("similarity-threshold",
                Double.toString(verify ? VerifierTraining.SHIPPED.similarityThreshold() : VerifierTraining.UNVERIFIED_SIMILARITY)));
        double margin = Double.parseDouble(a.getOrDefault("ambiguity-margin",
                Double.toString(VerifierTraining.SHIPPED.ambiguityMargin())));
        CachePairs pairs = CachePairs.read(dataset);
        List<Group> groups = pairs.half(half);
        int limit = Integer.parseInt(a.getOrDefault("groups", "0"));
        if (limit > 0) {
            groups = groups.subList(0, Math.min(limit, groups.size()));
        }
        List<Negative> negatives = negativesOf(groups, half);
        System.out.printf(Locale.ROOT, "# Cache precision, %s half of %s%s, verifier %s%n%s%nload average at start: %s%n%n", half,
                dataset, limit > 0 ? " (its first " + groups.size() + " groups)" : "",
                (verify ? "on (" + a.getOrDefault("model", "bundled") + ", " + verified + " verified candidates) " + model : "off")
                        + String.format(Locale.ROOT, ", similarity threshold %.2f, ambiguity margin %.2f", similarity, margin),
                Hardware.describe(), loadAverage());

        Map<String, Tally> results = new LinkedHashMap<>();
        if (via.equals("process") || via.equals("both")) {
            Set<String> texts = new LinkedHashSet<>();
            groups.forEach(g -> {
                texts.add(g.origin());
                texts.addAll(g.paraphrases());
            });
            negatives.forEach(n -> texts.add(n.question()));
            Map<String, float[]> vec = VerifierTraining.embed(new ArrayList<>(texts));
            VerifierTraining.SECOND.clear();
            if (verify && model.secondModel().isPresent()) {
                VerifierTraining.SECOND.putAll(VerifierTraining.embed(new ArrayList<>(texts),
                        dev.offload.gateway.retrieval.EmbeddingModel.byName(model.secondModel().get())));
            }
            SemanticCache cache = new SemanticCache(VerifierTraining.settings(similarity, margin), verify
                    ? new SemanticCache.Verification(model, model.secondModel().isPresent() ? VerifierTraining.SECOND::get : null,
                    verified) : SemanticCache.Verification.NONE, System::nanoTime);
            Asker inProcess = question -> {
                Optional<CacheHit> hit = cache.lookup("eval", CacheScope.NONE, question, vec.get(question));
                if (hit.isPresent()) {
                    return new Answer(hit.get().answer(), true);
                }
                String answer = "ECHO: " + question;
                cache.put(cache.ticket(), "eval", CacheScope.NONE, question, vec.get(question), answer, List.of());
                return new Answer(answer, false);
            };
            results.put("in process", run(groups, negatives, inProcess));
            verificationCost(groups, vec, model);
        }
        if (via.equals("api") || via.equals("both")) {
            try (Asker api = launch(Path.of(a.getOrDefault("jar", "target/quarkus-app/quarkus-run.jar")), verify, verified,
                    similarity, margin)) {
                results.put("through the API", run(groups, negatives, api));
            }
        }
        long[] lag = null;
        Map<String, Tally> adjacent = new LinkedHashMap<>();
        if (via.equals("cluster")) {
            // One embedded gateway, then the same questions round-robin over 3 cluster replicas (ClusterCacheAskers).
            try (ClusterCacheAskers cluster = new ClusterCacheAskers(Path.of("target/cache-cluster"), verify,
                    List.of("paced", "immediate", "single-adjacent", "immediate-adjacent"))) {
                System.out.println("load average with the 4 gateways and 3 NATS servers up: " + loadAverage());
                results.put("one gateway (embedded), through the API", run(groups, negatives, cluster.single()));
                results.put("3 replicas, round-robin, paced", run(groups, negatives, cluster.roundRobin("paced", true)));
                lag = cluster.replicationLag();
                results.put("3 replicas, round-robin, immediate", run(groups, negatives, cluster.roundRobin("immediate", false)));
                if (!a.containsKey("no-adjacent")) {
                    // Each origin's paraphrases right after it: one gateway, then 3 replicas without pacing.
                    adjacent.put("one gateway, adjacent order", run(groups, negatives, cluster.single("single-adjacent"), true));
                    adjacent.put("3 replicas, round-robin, immediate, adjacent order",
                            run(groups, negatives, cluster.roundRobin("immediate-adjacent", false), true));
                }
            }
        }
        for (Map.Entry<String, Tally> e : adjacent.entrySet()) {
            results.put(e.getKey(), e.getValue());
        }

        System.out.println("\n| path | correct hits | wrong hits | share of hits wrong | withheld: false hits | negatives: hits | origins served from the cache |");
        System.out.println("|---|---|---|---|---|---|---|");
        results.forEach((path, t) -> System.out.printf(Locale.ROOT,
                "| %s | %d of %d (%.1f%%) | %d | %.2f%% | %d of %d (%.1f%%) | %d of %d (%.1f%%) | %d |%n", path, t.correct(),
                t.paraphrases(), 100.0 * t.correct() / t.paraphrases(), t.wrong(), 100 * t.wrongShare(), t.withheldHits(),
                t.withheld(), 100.0 * t.withheldHits() / t.withheld(), t.negativeHits(), t.negatives(),
                100.0 * t.negativeHits() / t.negatives(), t.originHits()));
        System.out.println("\nnegatives hit, by rule:");
        results.forEach((path, t) -> System.out.println("  " + path + ": " + t.negativesByRule().entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue()[0] + "/" + e.getValue()[1]).toList()));
        if (results.size() >= 2) {
            List<String> paths = new ArrayList<>(results.keySet());
            paths.removeAll(adjacent.keySet());
            List<String[]> pairsToCompare = new ArrayList<>();
            for (String path : paths.subList(1, paths.size())) {
                pairsToCompare.add(new String[] {paths.get(0), path});
            }
            if (adjacent.size() == 2) {
                List<String> adj = new ArrayList<>(adjacent.keySet());
                pairsToCompare.add(new String[] {adj.get(0), adj.get(1)});
            }
            for (String[] pair : pairsToCompare) {
                Tally reference = results.get(pair[0]);
                String path = pair[1];
                List<String> differ = differences(reference, results.get(path), pair[0], path);
                differ.stream().limit(10).forEach(d -> System.out.println("  differs " + d));
                System.out.printf(Locale.ROOT, "%nquestions answered differently by \"%s\" and \"%s\": %d of %d%s%n%n",
                        pair[0], path, differ.size(), reference.log().size(), differ.isEmpty() ? "" : " " + kinds(reference, results.get(path)));
            }
        }
        if (lag != null) {
            System.out.printf(Locale.ROOT, "paced: a miss's entry was stored on all 3 replicas %d ms after its answer (median; "
                    + "p90 %d ms, max %d ms; polled from /q/metrics every few ms, so an upper bound)%n", lag[0], lag[1], lag[2]);
        }
        System.out.println("load average at the end: " + loadAverage());
        if (a.containsKey("verbose")) {
            results.forEach((path, t) -> t.log().stream().filter(q -> q.answer().fromCache() && !q.stage().equals("origin")
                            && !isCorrect(q, null))
                    .forEach(q -> System.out.printf("  %s false hit [%s] %s%n    ← %s%n", path, q.stage(), q.question(),
                            q.answer().text())));
        }
    }

    /**
     * The negatives of {@code half} that belong to {@code groups}: those made from one of their
     * origins, and the unrelated ones (a withheld origin of theirs asked as it is). All of them
     * for the whole half.
     */
    public static List<Negative> negativesOf(List<Group> groups, Half half) throws java.io.IOException {
        Set<String> origins = new java.util.HashSet<>();
        groups.forEach(g -> origins.add(g.origin()));
        return NegativeQuestions.load().stream().filter(n -> n.heldOut() == (half == Half.HELD_OUT))
                .filter(n -> origins.contains(n.origin() != null ? n.origin() : n.question())).toList();
    }

    /**
     * The questions {@code other} answered differently from {@code reference} (asked in the same
     * order): served from the cache on one and not the other, or served a different answer.
     */
    public static List<String> differences(Tally reference, Tally other, String referenceName, String otherName) {
        List<Asked> x = reference.log();
        List<Asked> y = other.log();
        if (x.size() != y.size()) {
            throw new IllegalArgumentException("the runs asked " + x.size() + " and " + y.size() + " questions");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < x.size(); i++) {
            Answer ax = x.get(i).answer();
            Answer ay = y.get(i).answer();
            if (ax.fromCache() != ay.fromCache() || !mangled(ax.text()).equals(mangled(ay.text()))) {
                out.add(String.format(Locale.ROOT, "#%d [%s] %s%n    %s: %s%n    %s: %s", i, x.get(i).stage(),
                        x.get(i).question(), referenceName, ax, otherName, ay));
            }
        }
        return out;
    }

    /** How the differences split: hits of the reference that missed, hits the reference did not have, other answers. */
    private static String kinds(Tally reference, Tally other) {
        int lost = 0;
        int gained = 0;
        int otherAnswer = 0;
        for (int i = 0; i < reference.log().size(); i++) {
            Answer ax = reference.log().get(i).answer();
            Answer ay = other.log().get(i).answer();
            if (ax.fromCache() && !ay.fromCache()) {
                lost++;
            } else if (!ax.fromCache() && ay.fromCache()) {
                gained++;
            } else if (!mangled(ax.text()).equals(mangled(ay.text()))) {
                otherAnswer++;
            }
        }
        return "(" + lost + " hits became misses, " + gained + " misses became hits, " + otherAnswer + " hits served another answer)";
    }

    static String loadAverage() {
        try {
            String[] f = java.nio.file.Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + ", " + f[1] + ", " + f[2];
        } catch (java.io.IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static final Map<String, Integer> GROUP_OF_TEXT = new HashMap<>();

    private static boolean isCorrect(Asked q, Void unused) {
        String text = q.answer().text();
        String source = text.startsWith("ECHO: ") ? text.substring(6) : text;
        Integer g = GROUP_OF_TEXT.get(source);
        if (g == null) {
            g = GROUP_OF_TEXT.get(mangled(source));
        }
        return g != null && g == q.group();
    }

    /**
     * The EchoBackend streams its answer in chunks of three UTF-16 units, so a character outside
     * the BMP (🤗, 36 texts here) can be split into two lone surrogates, which arrive as "??".
     * A test artefact, not the gateway's: the judge accepts that spelling too.
     */
    public static String mangled(String s) {
        return s.replaceAll("[\\x{10000}-\\x{10FFFF}]", "??");
    }

    public static Tally run(List<Group> groups, List<Negative> negatives, Asker asker) throws Exception {
        return run(groups, negatives, asker, false);
    }

    /**
     * The protocol above; {@code adjacent}: each cached origin's paraphrases are asked right after
     * it instead of after all origins (so, round-robin over replicas, a paraphrase reaches the next
     * replica one question after its origin's answer was stored on another: the order that
     * exposes an entry still in flight).
     */
    public static Tally run(List<Group> groups, List<Negative> negatives, Asker asker, boolean adjacent) throws Exception {
        List<Asked> log = new ArrayList<>();
        GROUP_OF_TEXT.clear();
        for (Group g : groups) {
            GROUP_OF_TEXT.put(g.origin(), g.id());
            g.paraphrases().forEach(p -> GROUP_OF_TEXT.putIfAbsent(p, g.id()));
        }
        for (Map.Entry<String, Integer> e : new ArrayList<>(GROUP_OF_TEXT.entrySet())) {
            GROUP_OF_TEXT.putIfAbsent(mangled(e.getKey()), e.getValue());
        }
        int next = -1;
        Map<String, Integer> negativeGroup = new HashMap<>();
        for (Negative n : negatives) {
            int gid = n.origin() == null ? GROUP_OF_TEXT.get(n.question()) : next--;
            negativeGroup.put(n.question(), gid);
            GROUP_OF_TEXT.putIfAbsent(n.question(), gid);
            GROUP_OF_TEXT.putIfAbsent(mangled(n.question()), gid);
        }
        long t0 = System.nanoTime();
        int originHits = 0;
        int paraphrases = 0;
        int correct = 0;
        int wrong = 0;
        for (int pass = adjacent ? 1 : 0; pass < 2; pass++) {
            for (Group g : groups) {
                if (!g.withheld() && pass == (adjacent ? 1 : 0)) {
                    Asked q = new Asked(g.origin(), "origin", g.id(), asker.ask(g.origin()));
                    log.add(q);
                    originHits += q.answer().fromCache() ? 1 : 0;
                }
                if (!g.withheld() && pass == 1) {
                    for (String p : g.paraphrases()) {
                        Asked q = new Asked(p, "paraphrase", g.id(), asker.ask(p));
                        log.add(q);
                        paraphrases++;
                        if (q.answer().fromCache()) {
                            if (isCorrect(q, null)) {
                                correct++;
                            } else {
                                wrong++;
                            }
                        }
                    }
                }
            }
        }
        int withheld = 0;
        int withheldHits = 0;
        for (Group g : groups) {
            if (g.withheld()) {
                Asked q = new Asked(g.paraphrases().get(0), "withheld", g.id(), asker.ask(g.paraphrases().get(0)));
                log.add(q);
                withheld++;
                withheldHits += q.answer().fromCache() ? 1 : 0; // its group was never cached: any hit is false
            }
        }
        int negHits = 0;
        Map<String, int[]> byRule = new TreeMap<>();
        for (Negative n : negatives) {
            Asked q = new Asked(n.question(), "negative " + n.rule(), negativeGroup.get(n.question()), asker.ask(n.question()));
            log.add(q);
            int[] c = byRule.computeIfAbsent(n.rule(), r -> new int[2]);
            c[1]++;
            if (q.answer().fromCache() && !isCorrect(q, null)) {
                negHits++;
                c[0]++;
            }
        }
        System.out.printf(Locale.ROOT, "asked %d questions in %.1f s%n", log.size(), (System.nanoTime() - t0) / 1e9);
        return new Tally(paraphrases, correct, wrong, withheld, withheldHits, negatives.size(), negHits, byRule, originHits, log);
    }

    /**
     * µs per verification (profile of the question + features + dot product), thread CPU time,
     * median of 9 passes; with a second embedding model also the wall time of embedding one
     * question with it (what a verified lookup adds), median over the paraphrases.
     */
    private static void verificationCost(List<Group> groups, Map<String, float[]> vec, DuplicateVerifier verifier)
            throws Exception {
        List<String[]> pairs = new ArrayList<>();
        for (Group g : groups) {
            for (String p : g.paraphrases()) {
                pairs.add(new String[]{p, g.origin()});
            }
        }
        List<PairFeatures.Profile> cached = pairs.stream().map(p -> PairFeatures.profile(p[1])).toList();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double[] us = new double[9];
        int accepted = 0;
        for (int pass = -3; pass < us.length; pass++) {
            long cpu = threads.getCurrentThreadCpuTime();
            for (int i = 0; i < pairs.size(); i++) {
                String[] p = pairs.get(i);
                double cos = VerifierTraining.dot(vec.get(p[0]), vec.get(p[1]));
                float[] a2 = VerifierTraining.SECOND.get(p[0]);
                float[] c2 = VerifierTraining.SECOND.get(p[1]);
                double second = a2 == null || c2 == null ? Double.NaN : VerifierTraining.dot(a2, c2);
                accepted += verifier.accepts(PairFeatures.of(cos, second, PairFeatures.profile(p[0]), cached.get(i))) ? 1 : 0;
            }
            if (pass >= 0) {
                us[pass] = (threads.getCurrentThreadCpuTime() - cpu) / 1e3 / pairs.size();
            }
        }
        java.util.Arrays.sort(us);
        System.out.printf(Locale.ROOT, "verification cost: %.1f µs of thread CPU time per check (median of 9 passes over %d "
                + "pairs; the cached side's profile is computed when the entry is stored)%s%n", us[4], pairs.size(),
                accepted < 0 ? "" : "");
        if (verifier.secondModel().isPresent()) {
            try (dev.offload.gateway.retrieval.OnnxEmbedder second = new dev.offload.gateway.retrieval.OnnxEmbedder(
                    dev.offload.gateway.retrieval.EmbeddingModel.byName(verifier.secondModel().get()), 1)) {
                int n = Math.min(200, pairs.size());
                double[] ms = new double[n];
                for (int i = -20; i < n; i++) {
                    String q = pairs.get(Math.floorMod(i, pairs.size()))[0];
                    long t0 = System.nanoTime();
                    second.embed(q);
                    if (i >= 0) {
                        ms[i] = (System.nanoTime() - t0) / 1e6;
                    }
                }
                java.util.Arrays.sort(ms);
                System.out.printf(Locale.ROOT, "second embedding (%s) of the asked question, once per verified lookup: "
                        + "median %.1f ms, p90 %.1f ms wall time (%d questions one by one, one thread)%n",
                        verifier.secondModel().get(), ms[n / 2], ms[n * 9 / 10], n);
            }
        }
    }

    /** The packaged gateway with an echoing edge tier, asked over HTTP/1.1 by one client. */
    private static Asker launch(Path jar, boolean verify, int verified, double similarity, double margin) throws Exception {
        EchoBackend echo = EchoBackend.start();
        int port = ChildProcess.freePort();
        Map<String, String> props = new LinkedHashMap<>();
        props.put("gateway.tiers.edge.base-urls", echo.baseUrl());
        props.put("gateway.cache.verify", Boolean.toString(verify));
        props.put("gateway.cache.verified-candidates", Integer.toString(verified));
        props.put("gateway.cache.similarity-threshold", Double.toString(similarity));
        props.put("gateway.cache.ambiguity-margin", Double.toString(margin));
        ChildProcess gateway;
        try {
            gateway = GatewayLauncher.start(GatewayLauncher.currentJava(), jar, "-Xmx1g", port, Path.of("target/cache-api"),
                    "cache-api", props);
        } catch (Exception e) {
            echo.close();
            throw e;
        }
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        URI uri = URI.create("http://127.0.0.1:" + port + "/v1/query");
        return new Asker() {
            @Override
            public Answer ask(String question) throws Exception {
                String body = JSON.writeValueAsString(Map.of("query", question, "k", 1));
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
                        .header("content-type", "application/json").header("authorization", "Bearer " + GatewayLauncher.BENCH_KEY)
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    throw new IllegalStateException("POST /v1/query answered " + r.statusCode() + ": " + r.body());
                }
                JsonNode j = JSON.readTree(r.body());
                return new Answer(j.path("answer").asText(), "cache".equals(j.path("servedBy").asText()));
            }

            @Override
            public void close() {
                gateway.close();
                echo.close();
            }
        };
    }
}
