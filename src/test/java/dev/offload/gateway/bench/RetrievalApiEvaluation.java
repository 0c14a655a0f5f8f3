package dev.offload.gateway.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Retrieval quality as a device gets it: the packaged gateway is started on an empty data directory
 * with nothing but {@code gateway.embedding.model} set (every search setting its default), the BEIR
 * corpus is ingested through {@code POST /v1/documents}, and each judged query is asked through
 * {@code POST /v1/search} in the modes sparse, dense, hybrid and cascade; standard nDCG@10 per mode
 * ({@link BeirEvaluation#ndcgStandard}), one gateway per model. Run after {@code ./mvnw package}:
 *
 * <pre>./mvnw -q test-compile exec:exec@retrieval-api -Dbench.args="--models bge-small-en-v1.5-q,all-minilm-l6-v2-q"</pre>
 *
 * <p>{@code --pairs ../shared/data/cache/gptcache-paraphrase-pairs.json} evaluates instead on a
 * duplicate-question retrieval set built from the GPTCache pairs, as BEIR's Quora task is built: every
 * {@code origin} is a document, every {@code similar} a query whose one relevant document is its origin
 * (origins with the same text are all relevant). No search setting was chosen on it.
 *
 * <p>Besides the means it prints, per mode, on how many of 50 query folds (5 folds, seeds 1..10)
 * hybrid scores at least the better of sparse and dense.
 *
 * Options: {@code --dataset} (BEIR folder, default the MS MARCO subset), {@code --pairs}, {@code --models},
 * {@code --jar} (default {@code target/quarkus-app/quarkus-run.jar}), {@code --batch} (documents per
 * ingest request, 64). Quality figures do not depend on the machine's load.
 */
public final class RetrievalApiEvaluation {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String KEY = "retrieval-api-" + java.util.UUID.randomUUID();
    private static final String[] MODES = {"sparse", "dense", "hybrid", "cascade"};

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        Map<String, String[]> corpus;
        Map<String, String> queries;
        Map<String, Map<String, Integer>> qrels;
        String name;
        if (opts.containsKey("pairs")) {
            Path pairs = Path.of(opts.get("pairs"));
            BeirData data = BeirData.fromPairs(pairs);
            corpus = data.corpus;
            queries = data.queries;
            qrels = BeirData.pairsQrels(pairs);
            name = pairs + " (duplicate-question retrieval)";
        } else {
            Path dataset = Path.of(opts.getOrDefault("dataset", BeirData.defaultDir().toString()));
            BeirData data = BeirData.load(dataset);
            corpus = data.corpus;
            queries = data.queries;
            qrels = BeirData.qrels(dataset);
            name = dataset.toString();
        }
        Path jar = Path.of(opts.getOrDefault("jar", "target/quarkus-app/quarkus-run.jar"));
        int batch = Integer.parseInt(opts.getOrDefault("batch", "64"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path work = Files.createTempDirectory("retrieval-api");
        System.out.printf("%s: %d passages, %d judged queries%n", name, corpus.size(), qrels.size());
        System.out.printf("| model | %s | ingest s | folds with hybrid ≥ the better component | hybrid − better component, 95 %% CI |%n"
                        + "|---|---|---|---|---|---|---|---|%n",
                String.join(" | ", MODES));
        for (String model : opts.getOrDefault("models", "bge-small-en-v1.5-q").split(",")) {
            Path keys = Files.writeString(work.resolve("keys-" + model),
                    dev.offload.gateway.security.KeyRing.sha256Hex(KEY) + " eval admin\n");
            int port = ChildProcess.freePort();
            try (ChildProcess gw = GatewayLauncher.start(java, jar, "-Xmx3g", port, work, "retrieval-" + model,
                    Map.of("gateway.embedding.model", model, "gateway.auth.keys-file", keys.toString(),
                            "gateway.index.load-sample-corpus", "false"))) {
                HttpClient http = HttpClient.newHttpClient();
                String base = "http://127.0.0.1:" + port;
                long t0 = System.nanoTime();
                List<Map.Entry<String, String[]>> docs = new ArrayList<>(corpus.entrySet());
                for (int from = 0; from < docs.size(); from += batch) {
                    ObjectNode body = JSON.createObjectNode();
                    ArrayNode arr = body.putArray("documents");
                    for (Map.Entry<String, String[]> d : docs.subList(from, Math.min(docs.size(), from + batch))) {
                        ObjectNode n = arr.addObject().put("id", d.getKey()).put("text", d.getValue()[1]);
                        if (!d.getValue()[0].isBlank()) {
                            n.put("title", d.getValue()[0]);
                        }
                    }
                    HttpResponse<String> r = post(http, base + "/v1/documents", body.toString());
                    if (r.statusCode() != 200) {
                        throw new IllegalStateException("ingest refused (" + r.statusCode() + "): " + r.body());
                    }
                }
                double ingestS = (System.nanoTime() - t0) / 1e9;
                double[] sums = new double[MODES.length];
                List<double[]> perQuery = new ArrayList<>();
                int judged = 0;
                for (Map.Entry<String, String> q : queries.entrySet()) {
                    Map<String, Integer> rels = qrels.get(q.getKey());
                    if (rels == null) {
                        continue;
                    }
                    judged++;
                    double[] scores = new double[MODES.length];
                    perQuery.add(scores);
                    for (int m = 0; m < MODES.length; m++) {
                        ObjectNode body = JSON.createObjectNode().put("query", q.getValue()).put("k", 10).put("mode", MODES[m]);
                        HttpResponse<String> r = post(http, base + "/v1/search", body.toString());
                        if (r.statusCode() != 200) {
                            throw new IllegalStateException("search refused (" + r.statusCode() + "): " + r.body());
                        }
                        scores[m] = BeirEvaluation.ndcgStandard(rankedDocuments(JSON.readTree(r.body())), rels, 10);
                        sums[m] += scores[m];
                    }
                }
                StringBuilder row = new StringBuilder("| " + model + " |");
                for (double s : sums) {
                    row.append(String.format(" %.3f |", s / judged));
                }
                double[] ci = hybridMinusBetter(perQuery);
                System.out.println(row.append(String.format(" %.0f | %d of 50 | %+.4f [%+.4f, %+.4f] |", ingestS,
                        foldsWhereHybridHolds(perQuery), ci[0], ci[1], ci[2])));
            }
        }
    }

    /**
     * On how many of 50 folds (5 folds of the queries, {@link CrossValidation#folds} with seeds 1..10,
     * the splits the cross-validation uses) the mean hybrid score of the fold's held-out queries is at
     * least the better of their mean sparse and mean dense scores; columns as {@link #MODES}.
     */
    static int foldsWhereHybridHolds(List<double[]> perQuery) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < perQuery.size(); i++) {
            ids.add(Integer.toString(i));
        }
        int holds = 0;
        for (long seed = 1; seed <= 10; seed++) {
            for (CrossValidation.Fold fold : CrossValidation.folds(ids, 5, seed)) {
                double[] sum = new double[MODES.length];
                for (String id : fold.test()) {
                    double[] q = perQuery.get(Integer.parseInt(id));
                    for (int m = 0; m < MODES.length; m++) {
                        sum[m] += q[m];
                    }
                }
                if (sum[2] >= Math.max(sum[0], sum[1]) - 1e-9) {
                    holds++;
                }
            }
        }
        return holds;
    }

    /**
     * Hybrid's mean minus the better component's mean (the one with the higher mean over all queries),
     * with a 95 % paired bootstrap interval over the queries (2,000 resamples, seed 1): {mean, low, high}.
     */
    static double[] hybridMinusBetter(List<double[]> perQuery) {
        double sparse = 0;
        double dense = 0;
        for (double[] q : perQuery) {
            sparse += q[0];
            dense += q[1];
        }
        int better = dense >= sparse ? 1 : 0;
        double[] diff = perQuery.stream().mapToDouble(q -> q[2] - q[better]).toArray();
        double mean = java.util.Arrays.stream(diff).average().orElse(0);
        java.util.Random random = new java.util.Random(1);
        double[] means = new double[2000];
        for (int b = 0; b < means.length; b++) {
            double sum = 0;
            for (int i = 0; i < diff.length; i++) {
                sum += diff[random.nextInt(diff.length)];
            }
            means[b] = sum / diff.length;
        }
        java.util.Arrays.sort(means);
        return new double[] {mean, means[49], means[1949]};
    }

    /** The hits' document ids in rank order, each once (a document's best chunk ranks it). */
    static List<String> rankedDocuments(JsonNode searchResponse) {
        List<String> ids = new ArrayList<>();
        for (JsonNode h : searchResponse.path("hits")) {
            String id = h.path("documentId").asText();
            if (!ids.contains(id)) {
                ids.add(id);
            }
        }
        return ids;
    }

    private static HttpResponse<String> post(HttpClient http, String url, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + KEY)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
