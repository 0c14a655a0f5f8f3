package dev.offload.gateway.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.gateway.retrieval.Chunker;
import dev.offload.gateway.retrieval.EmbeddingModel;
import dev.offload.gateway.retrieval.Fusion;
import dev.offload.gateway.retrieval.HybridIndex;
import dev.offload.gateway.retrieval.HybridRetriever;
import dev.offload.gateway.retrieval.IndexRecords.ChunkHit;
import dev.offload.gateway.retrieval.IndexRecords.PreparedDocument;
import dev.offload.gateway.retrieval.OnnxEmbedder;
import dev.offload.gateway.retrieval.VectorIndexOptions;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Retrieval quality and speed on any BEIR-format folder (corpus.jsonl, queries.jsonl,
 * qrels/test.tsv), through the gateway's own chunker, embedder, index and fusion.
 *
 * <p>Prints, for sparse, dense and hybrid (and a sweep of fusion settings): nDCG@10 standard
 * (BEIR/TREC: gain 2^rel − 1, log2 discount, ideal DCG from all judgements of the query),
 * nDCG@10 in the leaderboard variant (gain = rel, ideal DCG from the labels of the retrieved
 * top 10 only), recall@100 and queries/s (single thread, query embedding included). Averages
 * over judged queries only. Documents are ranked by their best chunk.
 *
 * <pre>./mvnw -q test-compile exec:exec@beir -Dbench.args="--dataset ../shared/data/retrieval/msmarco-subset"</pre>
 */
public final class BeirEvaluation {
    private static final int CANDIDATES = 200;

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = Args.parse(args);
        Path dataset = Path.of(opts.getOrDefault("dataset", "../shared/data/retrieval/msmarco-subset"));
        int runs = Integer.parseInt(opts.getOrDefault("runs", "3"));
        ObjectMapper json = new ObjectMapper();

        Map<String, String[]> corpus = new LinkedHashMap<>();
        try (BufferedReader r = Files.newBufferedReader(dataset.resolve("corpus.jsonl"))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank()) continue;
                JsonNode n = json.readTree(line);
                corpus.put(n.get("_id").asText(), new String[]{n.path("title").asText(""), n.get("text").asText()});
            }
        }
        Map<String, String> queries = new LinkedHashMap<>();
        try (BufferedReader r = Files.newBufferedReader(dataset.resolve("queries.jsonl"))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank()) continue;
                JsonNode n = json.readTree(line);
                queries.put(n.get("_id").asText(), n.get("text").asText());
            }
        }
        Map<String, Map<String, Integer>> qrels = new HashMap<>();
        for (String line : Files.readAllLines(dataset.resolve("qrels").resolve("test.tsv"))) {
            String[] f = line.split("\t");
            if (f.length < 3 || !f[2].trim().matches("-?\\d+")) continue; // header or blank
            qrels.computeIfAbsent(f[0], k -> new HashMap<>()).put(f[1], Integer.parseInt(f[2].trim()));
        }
        List<String> judged = queries.keySet().stream().filter(q -> qrels.containsKey(q)
                && qrels.get(q).values().stream().anyMatch(v -> v > 0)).toList();

        System.out.printf("# BEIR evaluation: %s%n", dataset);
        System.out.printf("corpus %d documents, %d queries (%d judged), JDK %s, %d cores, %s%n", corpus.size(),
                queries.size(), judged.size(), System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(), Hardware.cpuModel());

        boolean keep = opts.containsKey("index-dir");
        Path dir = keep ? Path.of(opts.get("index-dir")) : Files.createTempDirectory("beir-index");
        Chunker chunker = new Chunker(1000, 150);
        EmbeddingModel model = EmbeddingModel.byName(opts.getOrDefault("model", "all-minilm-l6-v2-q"));
        System.out.printf("embedding model %s%n", model.modelName());
        try (OnnxEmbedder embedder = new OnnxEmbedder(model, 0);
             HybridIndex index = HybridIndex.open(dir, embedder.dimension(), VectorIndexOptions.defaults())) {
            long t0 = System.nanoTime();
            List<String> ids = new ArrayList<>(corpus.keySet());
            int chunksTotal = 0;
            boolean reuse = index.stats("eval").documents() == corpus.size();
            if (reuse) {
                System.out.printf("reusing the index in %s (%d chunks)%n", dir, index.stats("eval").chunks());
            }
            for (int i = 0; !reuse && i < ids.size(); i += 256) {
                List<PreparedDocument> batch = new ArrayList<>();
                List<String> texts = new ArrayList<>();
                List<List<String>> perDoc = new ArrayList<>();
                for (String id : ids.subList(i, Math.min(ids.size(), i + 256))) {
                    String[] d = corpus.get(id);
                    List<String> chunks = chunker.split(d[1]);
                    perDoc.add(chunks);
                    texts.addAll(d[0].isEmpty() ? chunks : chunks.stream().map(c -> d[0] + "\n" + c).toList());
                }
                List<float[]> vectors = embedder.embedPassages(texts);
                int off = 0;
                int j = 0;
                for (String id : ids.subList(i, Math.min(ids.size(), i + 256))) {
                    List<String> chunks = perDoc.get(j++);
                    batch.add(new PreparedDocument(id, corpus.get(id)[0], corpus.get(id)[1], Map.of(), chunks,
                            vectors.subList(off, off + chunks.size())));
                    off += chunks.size();
                }
                chunksTotal += texts.size();
                index.upsert("eval", batch);
            }
            double ingestS = (System.nanoTime() - t0) / 1e9;
            if (!reuse) {
                System.out.printf("ingest: %d chunks in %.1f s (%.0f chunks/s, embedding included)%n%n", chunksTotal,
                        ingestS, chunksTotal / ingestS);
            }
            if (opts.containsKey("bm25")) {
                String[] kb = opts.get("bm25").split(",");
                index.setBm25(Float.parseFloat(kb[0]), Float.parseFloat(kb[1]));
                System.out.printf("BM25 k1=%s b=%s%n", kb[0], kb[1]);
            }

            // Retrieve once per query and retriever; fusion variants reuse the candidate lists.
            Map<String, List<ChunkHit>> sparse = new HashMap<>();
            Map<String, List<ChunkHit>> dense = new HashMap<>();
            Map<String, float[]> qv = new HashMap<>();
            for (String q : judged) {
                qv.put(q, embedder.embed(queries.get(q)));
                sparse.put(q, index.sparse("eval", queries.get(q), Map.of(), CANDIDATES));
                dense.put(q, index.dense("eval", qv.get(q), Map.of(), CANDIDATES));
            }

            Map<String, Function<String, List<ChunkHit>>> systems = new LinkedHashMap<>();
            systems.put("sparse (BM25)", sparse::get);
            systems.put("dense (" + model.modelName() + ", JVector)", dense::get);
            Map<String, Fusion> fusions = new LinkedHashMap<>();
            fusions.put("RRF k=60 1:1 (plain)", new Fusion(Fusion.Method.RRF, 60, 1, 1));
            fusions.put("RRF k=60 0.3:0.7", new Fusion(Fusion.Method.RRF, 60, 0.3, 0.7));
            fusions.put("convex 0.5:0.5", new Fusion(Fusion.Method.CONVEX, 60, 0.5, 0.5));
            fusions.put("convex 0.3:0.7", new Fusion(Fusion.Method.CONVEX, 60, 0.3, 0.7));
            fusions.put("convex 0.2:0.8", new Fusion(Fusion.Method.CONVEX, 60, 0.2, 0.8));
            int[][] feedback = {{0, 0}, {3, 10}, {5, 10}, {10, 10}, {5, 5}};
            for (var f : fusions.entrySet()) {
                for (int[] fb : feedback) {
                    if (fb[0] > 0 && !f.getKey().startsWith("convex 0.3")) continue; // feedback sweep on the default fusion
                    HybridRetriever retriever = new HybridRetriever(index, f.getValue(), CANDIDATES, fb[0], fb[1] / 10.0);
                    String name = "hybrid " + f.getKey() + (fb[0] == 0 ? "" : ", feedback m=" + fb[0] + " β=" + fb[1] / 10.0)
                            + (f.getKey().equals("convex 0.3:0.7") && fb[0] == 5 && fb[1] == 10 ? " **(default)**" : "");
                    Map<String, List<ChunkHit>> results = new HashMap<>();
                    for (String q : judged) {
                        results.put(q, retriever.search("eval", queries.get(q), qv.get(q), Map.of(), CANDIDATES, new HashMap<>()));
                    }
                    systems.put(name, results::get);
                }
            }

            HybridRetriever cascadeRetriever = new HybridRetriever(index, fusions.get("convex 0.3:0.7"), CANDIDATES, 0, 0);
            Map<String, List<ChunkHit>> cascaded = new HashMap<>();
            for (String q : judged) {
                cascaded.put(q, cascadeRetriever.cascade("eval", queries.get(q), qv.get(q), Map.of(), CANDIDATES, new HashMap<>()));
            }
            systems.put("cascade convex 0.3:0.7 (BM25 top " + CANDIDATES + ", re-scored)", cascaded::get);

            System.out.println("| system | nDCG@10 standard | nDCG@10 leaderboard variant | recall@100 |");
            System.out.println("|---|---|---|---|");
            for (var e : systems.entrySet()) {
                double ndcg = 0, lb = 0, recall = 0;
                for (String q : judged) {
                    List<String> ranked = documents(e.getValue().apply(q));
                    ndcg += ndcgStandard(ranked, qrels.get(q), 10);
                    lb += ndcgLeaderboard(ranked, qrels.get(q), 10);
                    recall += recall(ranked, qrels.get(q), 100);
                }
                System.out.printf("| %s | %.3f | %.3f | %.3f |%n", e.getKey(), ndcg / judged.size(), lb / judged.size(),
                        recall / judged.size());
            }

            // Throughput of the three modes as the gateway runs them (top 10, embedding included).
            HybridRetriever defaultHybrid = new HybridRetriever(index, fusions.get("convex 0.3:0.7"), 100, 5, 1.0);
            List<String> all = new ArrayList<>(queries.keySet());
            Map<String, double[]> qps = new LinkedHashMap<>();
            qps.put("sparse", new double[runs]);
            qps.put("dense", new double[runs]);
            qps.put("hybrid", new double[runs]);
            qps.put("cascade", new double[runs]);
            HybridRetriever defaultCascade = new HybridRetriever(index, fusions.get("convex 0.3:0.7"), 100, 0, 0);
            for (int run = -1; run < runs; run++) { // run -1 warms up
                for (String mode : qps.keySet()) {
                    long s = System.nanoTime();
                    for (String q : all) {
                        String text = queries.get(q);
                        switch (mode) {
                            case "sparse" -> index.sparse("eval", text, Map.of(), 10);
                            case "dense" -> index.dense("eval", embedder.embed(text), Map.of(), 10);
                            case "cascade" -> defaultCascade.cascade("eval", text, embedder.embed(text), Map.of(), 10, new HashMap<>());
                            default -> defaultHybrid.search("eval", text, embedder.embed(text), Map.of(), 10, new HashMap<>());
                        }
                    }
                    if (run >= 0) {
                        qps.get(mode)[run] = all.size() / ((System.nanoTime() - s) / 1e9);
                    }
                }
            }
            System.out.printf("%n| mode | queries/s (median of %d runs, 1 thread, top 10) |%n|---|---|%n", runs);
            qps.forEach((mode, v) -> System.out.printf("| %s | %.0f |%n", mode, median(v)));
        } finally {
            if (!keep) {
                deleteTree(dir);
            }
        }
    }

    static List<String> documents(List<ChunkHit> hits) {
        LinkedHashSet<String> ids = new LinkedHashSet<>();
        for (ChunkHit h : hits) {
            ids.add(h.documentId());
        }
        return new ArrayList<>(ids);
    }

    /** BEIR/TREC nDCG@k: gain 2^rel − 1, ideal DCG from all judged documents of the query. */
    static double ndcgStandard(List<String> ranked, Map<String, Integer> rels, int k) {
        double dcg = 0;
        for (int i = 0; i < Math.min(k, ranked.size()); i++) {
            int rel = rels.getOrDefault(ranked.get(i), 0);
            dcg += (Math.pow(2, rel) - 1) / log2(i + 2);
        }
        int[] ideal = rels.values().stream().mapToInt(Integer::intValue).filter(r -> r > 0)
                .boxed().sorted(Comparator.reverseOrder()).mapToInt(Integer::intValue).toArray();
        double idcg = 0;
        for (int i = 0; i < Math.min(k, ideal.length); i++) {
            idcg += (Math.pow(2, ideal[i]) - 1) / log2(i + 2);
        }
        return idcg == 0 ? 0 : dcg / idcg;
    }

    /** Leaderboard variant: gain = rel, ideal DCG from the labels of the retrieved top k only. */
    static double ndcgLeaderboard(List<String> ranked, Map<String, Integer> rels, int k) {
        int n = Math.min(k, ranked.size());
        int[] labels = new int[n];
        double dcg = 0;
        for (int i = 0; i < n; i++) {
            labels[i] = Math.max(0, rels.getOrDefault(ranked.get(i), 0));
            dcg += labels[i] / log2(i + 2);
        }
        int[] sorted = Arrays.stream(labels).boxed().sorted(Comparator.reverseOrder()).mapToInt(Integer::intValue).toArray();
        double idcg = 0;
        for (int i = 0; i < n; i++) {
            idcg += sorted[i] / log2(i + 2);
        }
        return idcg == 0 ? 0 : dcg / idcg;
    }

    static double recall(List<String> ranked, Map<String, Integer> rels, int k) {
        long relevant = rels.values().stream().filter(r -> r > 0).count();
        if (relevant == 0) {
            return 0;
        }
        long found = ranked.stream().limit(k).filter(id -> rels.getOrDefault(id, 0) > 0).count();
        return (double) found / relevant;
    }

    private static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static void deleteTree(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
