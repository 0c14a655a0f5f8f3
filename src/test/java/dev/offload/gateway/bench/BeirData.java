package dev.offload.gateway.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.gateway.retrieval.Chunker;
import dev.offload.gateway.retrieval.Embedder;
import dev.offload.gateway.retrieval.HybridIndex;
import dev.offload.gateway.retrieval.IndexRecords.PreparedDocument;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A BEIR-format folder (corpus.jsonl, queries.jsonl) for the micro-benchmarks, and the ingestion
 * of its passages into a {@link HybridIndex} the way {@link BeirEvaluation} does it (gateway
 * chunker 1000/150, in-process embedder, one upsert per 256 documents).
 *
 * <p>The folder is {@code -Dbench.dataset}, else the environment variable {@code BENCH_DATASET},
 * else {@code ../shared/data/retrieval/msmarco-subset} relative to the working directory (the
 * project directory under Maven).
 */
final class BeirData {
    /** Passage id → {title, text}, in file order. */
    final Map<String, String[]> corpus;
    /** Query id → text, in file order. */
    final Map<String, String> queries;
    final Path dir;

    private BeirData(Path dir, Map<String, String[]> corpus, Map<String, String> queries) {
        this.dir = dir;
        this.corpus = corpus;
        this.queries = queries;
    }

    static Path defaultDir() {
        String p = System.getProperty("bench.dataset");
        if (p == null || p.isBlank()) {
            p = System.getenv("BENCH_DATASET");
        }
        if (p == null || p.isBlank()) {
            p = "../shared/data/retrieval/msmarco-subset";
        }
        Path dir = Path.of(p);
        if (!Files.isRegularFile(dir.resolve("corpus.jsonl"))) {
            throw new IllegalStateException("no BEIR corpus at " + dir.toAbsolutePath()
                    + " (set -Dbench.dataset or BENCH_DATASET to the msmarco-subset folder)");
        }
        return dir;
    }

    static BeirData load(Path dir) {
        ObjectMapper json = new ObjectMapper();
        Map<String, String[]> corpus = new LinkedHashMap<>();
        Map<String, String> queries = new LinkedHashMap<>();
        try {
            try (BufferedReader r = Files.newBufferedReader(dir.resolve("corpus.jsonl"))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.isBlank()) continue;
                    JsonNode n = json.readTree(line);
                    corpus.put(n.get("_id").asText(), new String[]{n.path("title").asText(""), n.get("text").asText()});
                }
            }
            try (BufferedReader r = Files.newBufferedReader(dir.resolve("queries.jsonl"))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.isBlank()) continue;
                    JsonNode n = json.readTree(line);
                    queries.put(n.get("_id").asText(), n.get("text").asText());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new BeirData(dir, corpus, queries);
    }

    /**
     * A duplicate-question retrieval set built from the GPTCache pairs the way BEIR builds its Quora
     * task: every {@code origin} is a passage ({@code o<i>}), every {@code similar} a query
     * ({@code q<i>}); see {@link #pairsQrels}.
     */
    static BeirData fromPairs(Path pairsJson) {
        Map<String, String[]> corpus = new LinkedHashMap<>();
        Map<String, String> queries = new LinkedHashMap<>();
        JsonNode pairs = readPairs(pairsJson);
        for (int i = 0; i < pairs.size(); i++) {
            corpus.put("o" + i, new String[]{"", pairs.get(i).get("origin").asText()});
            queries.put("q" + i, pairs.get(i).get("similar").asText());
        }
        return new BeirData(pairsJson, corpus, queries);
    }

    /** Judgements of {@link #fromPairs}: a query's relevant passages are every origin with its pair's origin text (grade 1). */
    static Map<String, Map<String, Integer>> pairsQrels(Path pairsJson) {
        JsonNode pairs = readPairs(pairsJson);
        Map<String, List<String>> idsByText = new java.util.HashMap<>();
        for (int i = 0; i < pairs.size(); i++) {
            idsByText.computeIfAbsent(pairs.get(i).get("origin").asText(), t -> new ArrayList<>()).add("o" + i);
        }
        Map<String, Map<String, Integer>> out = new java.util.HashMap<>();
        for (int i = 0; i < pairs.size(); i++) {
            Map<String, Integer> rel = new java.util.HashMap<>();
            idsByText.get(pairs.get(i).get("origin").asText()).forEach(id -> rel.put(id, 1));
            out.put("q" + i, rel);
        }
        return out;
    }

    private static JsonNode readPairs(Path pairsJson) {
        try {
            return new ObjectMapper().readTree(pairsJson.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Judgements of {@code qrels/test.tsv}: query id → passage id → grade (header and blank
     * lines skipped).
     */
    static Map<String, Map<String, Integer>> qrels(Path dir) {
        Map<String, Map<String, Integer>> out = new java.util.HashMap<>();
        try {
            for (String line : Files.readAllLines(dir.resolve("qrels").resolve("test.tsv"))) {
                String[] f = line.split("\t");
                if (f.length < 3 || !f[2].trim().matches("-?\\d+")) continue;
                out.computeIfAbsent(f[0], k -> new java.util.HashMap<>()).put(f[1], Integer.parseInt(f[2].trim()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** Passage texts in file order (titles of MS MARCO are empty). */
    List<String> passages() {
        List<String> out = new ArrayList<>(corpus.size());
        corpus.values().forEach(d -> out.add(d[0].isEmpty() ? d[1] : d[0] + "\n" + d[1]));
        return out;
    }

    /**
     * Upserts the whole corpus into {@code tenant} unless it already holds that many documents
     * (a kept index is reused, so the embedding cost is paid once); commits.
     *
     * @return the number of chunks written, or -1 if the index was reused
     */
    int ingestInto(HybridIndex index, String tenant, Embedder embedder) throws IOException {
        if (index.stats(tenant).documents() == corpus.size()) {
            return -1;
        }
        Chunker chunker = new Chunker(1000, 150);
        List<String> ids = new ArrayList<>(corpus.keySet());
        int chunksTotal = 0;
        for (int i = 0; i < ids.size(); i += 256) {
            List<String> slice = ids.subList(i, Math.min(ids.size(), i + 256));
            List<List<String>> perDoc = new ArrayList<>();
            List<String> texts = new ArrayList<>();
            for (String id : slice) {
                String[] d = corpus.get(id);
                List<String> chunks = chunker.split(d[1]);
                perDoc.add(chunks);
                texts.addAll(d[0].isEmpty() ? chunks : chunks.stream().map(c -> d[0] + "\n" + c).toList());
            }
            List<float[]> vectors = embedder.embedPassages(texts);
            List<PreparedDocument> batch = new ArrayList<>(slice.size());
            int off = 0;
            for (int j = 0; j < slice.size(); j++) {
                String[] d = corpus.get(slice.get(j));
                List<String> chunks = perDoc.get(j);
                batch.add(new PreparedDocument(slice.get(j), d[0], d[1], Map.of(), chunks,
                        vectors.subList(off, off + chunks.size())));
                off += chunks.size();
            }
            chunksTotal += texts.size();
            index.upsert(tenant, batch);
        }
        index.commit();
        return chunksTotal;
    }
}
