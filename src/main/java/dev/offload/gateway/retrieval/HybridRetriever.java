package dev.offload.gateway.retrieval;

import dev.offload.gateway.retrieval.IndexRecords.ChunkHit;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The hybrid retrieval algorithm, plain Java so the evaluation runs exactly what the gateway
 * runs:
 * <ol>
 *   <li>BM25 and dense top-n candidates (filters inside both searches);</li>
 *   <li>first fusion;</li>
 *   <li>optional pseudo-relevance feedback (Rocchio, 1971): the query vector moves toward the
 *   mean vector of the first fusion's top {@code feedbackDepth} chunks,
 *   {@code q' = q̂ + β·mean(d̂)}, and the dense search runs again with it; it recovers
 *   relevant passages phrased unlike the query (measured on MS MARCO: docs/benchmarks.md).
 *   Selective feedback (optional): when the first fusion's top chunk leads the second by at least
 *   {@code feedbackSkipMargin} the first pass is taken as confident and the feedback round is
 *   skipped, the rule of selective query expansion (Amati, Carpineto and Romano, ECIR 2004:
 *   expansion helps uncertain queries and hurts ones whose first pass already found the answer);</li>
 *   <li>final fusion of BM25 with the (feedback) dense list.</li>
 * </ol>
 * Thread-safe if the index and fusion are (they are).
 */
public final class HybridRetriever {
    private final HybridIndex index;
    private final Fusion fusion;
    private final int candidates;
    private final int feedbackDepth;
    private final double feedbackWeight;
    private final double feedbackSkipMargin;

    public HybridRetriever(HybridIndex index, Fusion fusion, int candidates, int feedbackDepth, double feedbackWeight) {
        this(index, fusion, candidates, feedbackDepth, feedbackWeight, Double.POSITIVE_INFINITY);
    }

    /**
     * @param feedbackSkipMargin skip the feedback round when the first fusion's top score exceeds the
     *                           second's by at least this much; {@code +∞} never skips
     */
    public HybridRetriever(HybridIndex index, Fusion fusion, int candidates, int feedbackDepth, double feedbackWeight,
                           double feedbackSkipMargin) {
        if (candidates < 1) throw new IllegalArgumentException("candidates must be >= 1");
        if (feedbackDepth < 0) throw new IllegalArgumentException("feedbackDepth must be >= 0");
        if (feedbackWeight < 0) throw new IllegalArgumentException("feedbackWeight must be >= 0");
        if (!(feedbackSkipMargin >= 0)) throw new IllegalArgumentException("feedbackSkipMargin must be >= 0");
        this.index = index;
        this.fusion = fusion;
        this.candidates = candidates;
        this.feedbackDepth = feedbackDepth;
        this.feedbackWeight = feedbackWeight;
        this.feedbackSkipMargin = feedbackSkipMargin;
    }

    /**
     * @param queryVector the embedded query
     * @param timings     receives sparseMs, denseMs, fuseMs, and feedbackMs when the feedback round ran
     */
    public List<ChunkHit> search(String tenant, String query, float[] queryVector, Map<String, String> filter, int k,
                                 Map<String, Double> timings) throws IOException {
        int n = Math.max(k, candidates);
        long t0 = System.nanoTime();
        List<ChunkHit> sparse = index.sparse(tenant, query, filter, n);
        long t1 = System.nanoTime();
        List<ChunkHit> dense = index.dense(tenant, queryVector, filter, n);
        long t2 = System.nanoTime();
        timings.put("sparseMs", (t1 - t0) / 1e6);
        timings.put("denseMs", (t2 - t1) / 1e6);
        if (feedbackDepth > 0 && feedbackWeight > 0 && !dense.isEmpty()) {
            List<ChunkHit> first = fusion.fuseHits(sparse, dense, Math.max(feedbackDepth, 2));
            if (!confident(first)) {
                float[] moved = rocchio(queryVector, first.subList(0, Math.min(feedbackDepth, first.size())));
                if (moved != null) {
                    dense = index.dense(tenant, moved, filter, n);
                }
                timings.put("feedbackMs", (System.nanoTime() - t2) / 1e6);
            }
        }
        long t3 = System.nanoTime();
        List<ChunkHit> fused = fusion.fuseHits(sparse, dense, k);
        timings.put("fuseMs", (System.nanoTime() - t3) / 1e6);
        return fused;
    }

    /**
     * Cascade: BM25 narrows the tenant's chunks to the top {@code candidates}, the query vector
     * re-scores exactly those (one dot product each against the stored vectors, no graph
     * search), and the two lists are fused as in hybrid mode. Cheaper than {@link #search} on
     * large corpora (no ANN search, no feedback round), but it cannot find a passage BM25 missed.
     *
     * @param timings receives sparseMs, rescoreMs, fuseMs
     */
    public List<ChunkHit> cascade(String tenant, String query, float[] queryVector, Map<String, String> filter, int k,
                                  Map<String, Double> timings) throws IOException {
        int n = Math.max(k, candidates);
        long t0 = System.nanoTime();
        List<ChunkHit> sparse = index.sparse(tenant, query, filter, n);
        long t1 = System.nanoTime();
        float[] q = VectorIndex.normalise(queryVector);
        List<ChunkHit> rescored = new ArrayList<>(sparse.size());
        for (ChunkHit h : sparse) {
            float[] v = index.vectorOf(h.ordinal());
            if (v != null) {
                double dot = 0;
                for (int i = 0; i < q.length; i++) {
                    dot += q[i] * v[i];
                }
                rescored.add(h.withScore((1 + dot) / 2)); // JVector's cosine scale
            }
        }
        rescored.sort(Comparator.comparingDouble(ChunkHit::score).reversed());
        long t2 = System.nanoTime();
        List<ChunkHit> fused = fusion.fuseHits(sparse, rescored, k);
        timings.put("sparseMs", (t1 - t0) / 1e6);
        timings.put("rescoreMs", (t2 - t1) / 1e6);
        timings.put("fuseMs", (System.nanoTime() - t2) / 1e6);
        return fused;
    }

    /** True when the first fusion's top chunk leads the second by at least the skip margin. */
    private boolean confident(List<ChunkHit> first) {
        return first.size() >= 2 && first.get(0).score() - first.get(1).score() >= feedbackSkipMargin;
    }

    /** q̂ + β·mean(feedback vectors), or null when no feedback vector is available. */
    private float[] rocchio(float[] query, List<ChunkHit> feedback) {
        float[] q = VectorIndex.normalise(query);
        float[] sum = new float[q.length];
        int n = 0;
        for (ChunkHit h : feedback) {
            float[] v = index.vectorOf(h.ordinal());
            if (v != null) {
                for (int i = 0; i < v.length; i++) {
                    sum[i] += v[i];
                }
                n++;
            }
        }
        if (n == 0) {
            return null;
        }
        for (int i = 0; i < q.length; i++) {
            q[i] += (float) (feedbackWeight * sum[i] / n);
        }
        return q;
    }
}
