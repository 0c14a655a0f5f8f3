package dev.offload.gateway.bench;

import dev.offload.gateway.retrieval.Chunker;
import dev.offload.gateway.retrieval.OnnxEmbedder;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Texts per second of the in-process all-MiniLM-L6-v2-q embedder ({@link OnnxEmbedder}),
 * one call per text against batched calls, on the same texts in the same run.
 *
 * <p>Variants (every one embeds the same N texts):
 * <ul>
 *   <li>{@code one by one}: {@code embed(text)} per text on the calling thread, as a query is
 *   embedded (a list of one takes the same path inside langchain4j);</li>
 *   <li>{@code batches of B, gateway pool}: {@code embedAll} of B texts at a time on the
 *   gateway's embedder (a pool of one thread per core), as ingestion embeds a request's chunks;</li>
 *   <li>{@code all N in one call, gateway pool}: one {@code embedAll} of every text;</li>
 *   <li>{@code batches of 32, pool of 1}: {@code embedAll} on an embedder with one thread,
 *   which separates what batching itself gives from what the parallelism gives.</li>
 * </ul>
 * Two text sets: MS MARCO passages (BEIR subset, file order) and chunks of up to 1,000
 * characters cut by the gateway's chunker (1000/150) from those passages joined into longer
 * documents. One untimed warm-up round, then {@code --rounds} rounds; within a round the variants
 * run back to back in an order rotated every round, so load from other processes falls on all
 * of them alike. Reported: median texts/s (wall clock) and the median per-round ratio to
 * one-by-one, plus process CPU milliseconds per text (all threads, including ONNX Runtime's own).
 *
 * <pre>./mvnw -q test-compile exec:exec@embedding -Dbench.args="--texts 128 --rounds 7"</pre>
 */
public final class EmbeddingThroughput {
    public static void main(String[] args) throws Exception {
        Map<String, String> opts = Args.parse(args);
        int n = Integer.parseInt(opts.getOrDefault("texts", "128"));
        int rounds = Integer.parseInt(opts.getOrDefault("rounds", "7"));
        BeirData data = BeirData.load(opts.containsKey("dataset")
                ? java.nio.file.Path.of(opts.get("dataset")) : BeirData.defaultDir());

        List<String> passages = data.passages();
        Map<String, List<String>> sets = new LinkedHashMap<>();
        sets.put("passages", passages.subList(0, Math.min(n, passages.size())));
        sets.put("1000-char chunks", chunks(passages, n));

        System.out.printf("# Embedding throughput: %s%n", Hardware.describe());
        System.out.printf("load average at start: %s%n", Hardware.loadAverage());
        dev.offload.gateway.retrieval.EmbeddingModel model =
                dev.offload.gateway.retrieval.EmbeddingModel.byName(opts.getOrDefault("model", "all-minilm-l6-v2-q"));
        System.out.printf("model %s%n", model.modelName());
        try (OnnxEmbedder pool = new OnnxEmbedder(model, 0); OnnxEmbedder single = new OnnxEmbedder(model, 1)) {
            int threads = Runtime.getRuntime().availableProcessors();
            for (var set : sets.entrySet()) {
                List<String> texts = set.getValue();
                double chars = texts.stream().mapToInt(String::length).average().orElse(0);
                Map<String, Consumer<List<String>>> variants = new LinkedHashMap<>();
                variants.put("one by one, calling thread", t -> t.forEach(pool::embed));
                variants.put("batches of 8, gateway pool (" + threads + " threads)", t -> batches(t, 8, pool));
                variants.put("batches of 32, gateway pool (" + threads + " threads)", t -> batches(t, 32, pool));
                variants.put("all " + texts.size() + " in one call, gateway pool (" + threads + " threads)",
                        t -> batches(t, t.size(), pool));
                variants.put("batches of 32, pool of 1 thread", t -> batches(t, 32, single));
                List<String> names = new ArrayList<>(variants.keySet());
                double[][] tps = new double[names.size()][rounds];
                double[][] cpu = new double[names.size()][rounds];
                for (int r = -1; r < rounds; r++) { // round -1 warms up
                    for (int j = 0; j < names.size(); j++) {
                        int v = Math.floorMod(j + r, names.size());
                        long c0 = processCpuNanos();
                        long t0 = System.nanoTime();
                        variants.get(names.get(v)).accept(texts);
                        long wall = System.nanoTime() - t0;
                        long c = processCpuNanos() - c0;
                        if (r >= 0) {
                            tps[v][r] = texts.size() / (wall / 1e9);
                            cpu[v][r] = c / 1e6 / texts.size();
                        }
                    }
                }
                System.out.printf("%n## %s: %d texts, mean %.0f characters; %d rounds, load average now %s%n%n",
                        set.getKey(), texts.size(), chars, rounds, Hardware.loadAverage());
                System.out.println("| variant | texts/s (median) | × one by one (median of per-round ratios) | range of ratios | CPU ms per text (median) |");
                System.out.println("|---|---|---|---|---|");
                for (int v = 0; v < names.size(); v++) {
                    double[] ratio = new double[rounds];
                    for (int r = 0; r < rounds; r++) {
                        ratio[r] = tps[v][r] / tps[0][r];
                    }
                    double[] sorted = ratio.clone();
                    Arrays.sort(sorted);
                    System.out.printf("| %s | %.0f | %.2f | %.2f–%.2f | %.2f |%n", names.get(v), median(tps[v]),
                            median(ratio), sorted[0], sorted[rounds - 1], median(cpu[v]));
                }
            }
        }
        System.out.printf("%nload average at end: %s%n", Hardware.loadAverage());
    }

    private static void batches(List<String> texts, int size, OnnxEmbedder embedder) {
        for (int i = 0; i < texts.size(); i += size) {
            embedder.embedAll(texts.subList(i, Math.min(texts.size(), i + size)));
        }
    }

    /** Passages joined into documents of about 4,000 characters, then cut as the gateway cuts them. */
    private static List<String> chunks(List<String> passages, int n) {
        Chunker chunker = new Chunker(1000, 150);
        List<String> out = new ArrayList<>();
        StringBuilder doc = new StringBuilder();
        for (String p : passages) {
            doc.append(p).append(' ');
            if (doc.length() >= 4000) {
                for (String c : chunker.split(doc.toString())) {
                    if (c.length() >= 800 && out.size() < n) { // full-size chunks only, not a document's tail
                        out.add(c);
                    }
                }
                doc.setLength(0);
                if (out.size() >= n) {
                    break;
                }
            }
        }
        return out;
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
