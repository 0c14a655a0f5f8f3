package dev.offload.gateway.retrieval;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fuses a sparse (BM25) and a dense (cosine) ranking of the same chunks.
 *
 * <ul>
 *   <li>{@link Method#RRF}: weighted reciprocal rank fusion, {@code score = Σ w_r / (k + rank_r)}
 *   (Cormack, Clarke and Büttcher, SIGIR 2009), with a weight per retriever because plain RRF
 *   lets a much weaker retriever drag the stronger one down.</li>
 *   <li>{@link Method#CONVEX}: convex combination of scores normalised per query
 *   (min-max over each retriever's candidates; Bruch et al., "An Analysis of Fusion Functions
 *   for Hybrid Retrieval", TOIS 2023), {@code score = w_s·ŝ + w_d·d̂}.</li>
 * </ul>
 * A chunk missing from one list contributes nothing from that retriever. Ties break on the
 * dense score, then on the key, so results are deterministic. Stateless and thread-safe.
 */
public final class Fusion {
    public enum Method { RRF, CONVEX }

    private final Method method;
    private final int rrfK;
    private final double sparseWeight;
    private final double denseWeight;

    public Fusion(Method method, int rrfK, double sparseWeight, double denseWeight) {
        if (rrfK < 0) throw new IllegalArgumentException("rrfK must be >= 0");
        if (sparseWeight < 0 || denseWeight < 0 || sparseWeight + denseWeight == 0) {
            throw new IllegalArgumentException("weights must be >= 0 and not both 0");
        }
        this.method = method;
        this.rrfK = rrfK;
        this.sparseWeight = sparseWeight;
        this.denseWeight = denseWeight;
    }

    /** A candidate from one retriever; lists are ordered best first. */
    public record Scored<K>(K key, double score) {
    }

    public <K> List<Scored<K>> fuse(List<Scored<K>> sparse, List<Scored<K>> dense, int k) {
        Map<K, Double> fused = new LinkedHashMap<>();
        Map<K, Double> denseScore = new HashMap<>();
        for (Scored<K> d : dense) {
            denseScore.put(d.key(), d.score());
        }
        if (method == Method.RRF) {
            addRanks(fused, sparse, sparseWeight);
            addRanks(fused, dense, denseWeight);
        } else {
            addNormalised(fused, sparse, sparseWeight);
            addNormalised(fused, dense, denseWeight);
        }
        List<Scored<K>> out = new ArrayList<>(fused.size());
        fused.forEach((key, score) -> out.add(new Scored<>(key, score)));
        out.sort(Comparator.<Scored<K>>comparingDouble(Scored::score).reversed()
                .thenComparing(s -> -denseScore.getOrDefault(s.key(), Double.NEGATIVE_INFINITY))
                .thenComparing(s -> String.valueOf(s.key())));
        return out.size() > k ? out.subList(0, k) : out;
    }

    /** Fuses chunk hits by ordinal; a fused hit's score is its fusion score. */
    public List<IndexRecords.ChunkHit> fuseHits(List<IndexRecords.ChunkHit> sparse, List<IndexRecords.ChunkHit> dense, int k) {
        Map<Integer, IndexRecords.ChunkHit> byOrdinal = new HashMap<>();
        List<Scored<Integer>> s = new ArrayList<>(sparse.size());
        for (IndexRecords.ChunkHit h : sparse) {
            byOrdinal.put(h.ordinal(), h);
            s.add(new Scored<>(h.ordinal(), h.score()));
        }
        List<Scored<Integer>> d = new ArrayList<>(dense.size());
        for (IndexRecords.ChunkHit h : dense) {
            byOrdinal.putIfAbsent(h.ordinal(), h);
            d.add(new Scored<>(h.ordinal(), h.score()));
        }
        List<IndexRecords.ChunkHit> out = new ArrayList<>(Math.min(k, byOrdinal.size()));
        for (Scored<Integer> f : fuse(s, d, k)) {
            out.add(byOrdinal.get(f.key()).withScore(f.score()));
        }
        return out;
    }

    private <K> void addRanks(Map<K, Double> fused, List<Scored<K>> list, double weight) {
        for (int i = 0; i < list.size(); i++) {
            fused.merge(list.get(i).key(), weight / (rrfK + i + 1), Double::sum);
        }
    }

    private <K> void addNormalised(Map<K, Double> fused, List<Scored<K>> list, double weight) {
        if (list.isEmpty()) {
            return;
        }
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (Scored<K> s : list) {
            min = Math.min(min, s.score());
            max = Math.max(max, s.score());
        }
        double range = max - min;
        for (Scored<K> s : list) {
            double norm = range > 0 ? (s.score() - min) / range : 1.0;
            fused.merge(s.key(), weight * norm, Double::sum);
        }
        // Keys only in the other list get 0 from this one: merge leaves them untouched.
    }
}
