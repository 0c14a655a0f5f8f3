package dev.offload.gateway.bench;

import dev.offload.gateway.retrieval.EmbeddingModel;
import dev.offload.gateway.retrieval.OnnxEmbedder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one question costs to embed with each in-process model, on the calling thread as the
 * gateway embeds a query: the question model's embedding (the cache lookup, the router) paid by
 * every query, and the index model's (the search) paid again by a query the cache does not answer
 * when the two models differ (the default: all-MiniLM-L6-v2 and bge-small-en-v1.5).
 *
 * <p>The questions are the MS MARCO subset's 50 queries and the first {@code --questions} GPTCache
 * paraphrases. One untimed warm-up round, then {@code --rounds} rounds; in each round every model
 * embeds every question one call at a time, the models' order rotating from round to round so
 * outside load falls on all alike. Reported: the median over rounds of each model's median
 * microseconds per question and p90, and the median per-round ratio to the first model.
 *
 * <pre>./mvnw -q test-compile exec:exec@query-embedding -Dbench.args="--rounds 7"</pre>
 */
public final class QueryEmbeddingLatency {
    private QueryEmbeddingLatency() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = Args.parse(args);
        int rounds = Integer.parseInt(opts.getOrDefault("rounds", "7"));
        int paraphrases = Integer.parseInt(opts.getOrDefault("questions", "150"));
        List<String> questions = new ArrayList<>(BeirData.load(BeirData.defaultDir()).queries.values());
        java.nio.file.Path pairs = java.nio.file.Path.of(opts.getOrDefault("pairs", "../shared/data/cache/gptcache-paraphrase-pairs.json"));
        com.fasterxml.jackson.databind.JsonNode p = new com.fasterxml.jackson.databind.ObjectMapper().readTree(pairs.toFile());
        for (int i = 0; i < Math.min(paraphrases, p.size()); i++) {
            questions.add(p.get(i).get("similar").asText());
        }
        String[] names = opts.getOrDefault("models", "all-minilm-l6-v2-q,bge-small-en-v1.5-q").split(",");
        System.out.printf("# Query embedding latency: %s%n", Hardware.describe());
        System.out.printf("load average at start: %s; %d questions, %d rounds%n", Hardware.loadAverage(), questions.size(), rounds);
        Map<String, OnnxEmbedder> models = new LinkedHashMap<>();
        for (String n : names) {
            models.put(n, new OnnxEmbedder(EmbeddingModel.byName(n), 1));
        }
        try {
            Map<String, List<long[]>> perRound = new LinkedHashMap<>();
            for (String n : names) {
                perRound.put(n, new ArrayList<>());
            }
            for (int r = -1; r < rounds; r++) {
                for (int k = 0; k < names.length; k++) {
                    String n = names[Math.floorMod(k + r, names.length)];
                    long[] micros = new long[questions.size()];
                    for (int i = 0; i < questions.size(); i++) {
                        long t0 = System.nanoTime();
                        models.get(n).embed(questions.get(i));
                        micros[i] = (System.nanoTime() - t0) / 1_000;
                    }
                    if (r >= 0) {
                        Arrays.sort(micros);
                        perRound.get(n).add(new long[] {micros[micros.length / 2], micros[micros.length * 9 / 10]});
                    }
                }
            }
            System.out.printf("load average at end: %s%n%n", Hardware.loadAverage());
            System.out.println("| model | median µs per question (rounds) | p90 µs | ratio to " + names[0] + " (median of rounds) |");
            System.out.println("|---|---|---|---|");
            for (String n : names) {
                List<long[]> rs = perRound.get(n);
                double[] ratios = new double[rs.size()];
                for (int i = 0; i < rs.size(); i++) {
                    ratios[i] = (double) rs.get(i)[0] / perRound.get(names[0]).get(i)[0];
                }
                Arrays.sort(ratios);
                System.out.printf("| %s | %d %s | %d | %.2f |%n", n, median(rs, 0), Arrays.toString(rs.stream().mapToLong(x -> x[0]).toArray()),
                        median(rs, 1), ratios[ratios.length / 2]);
            }
        } finally {
            models.values().forEach(OnnxEmbedder::close);
        }
    }

    private static long median(List<long[]> rounds, int field) {
        long[] v = rounds.stream().mapToLong(r -> r[field]).sorted().toArray();
        return v[v.length / 2];
    }
}
