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
 *   <li>{@link Method#DBSF}: distribution-based score fusion: each retriever's scores are
 *   placed on its own query's distribution, {@code (s − (μ − 3σ)) / 6σ} clipped to [0, 1], so an
 *   outlying top score stays outlying instead of being stretched to 1 as min-max does;
 *   weighted sum as in convex.</li>
 *   <li>{@link Method#ADAPTIVE}: convex (min-max) with weights set per query: each
 *   retriever's configured weight is multiplied by how far its top score stands out of its
 *   own candidates, {@code c = max(0, (s₁ − μ) / σ)}, and the pair renormalised to sum 1. A
 *   retriever whose top hit is no better than the rest (a flat list: it found nothing
 *   particular) loses weight on that query; with weights 1:1 nothing is tuned.</li>
 * </ul>
 * A chunk missing from one list contributes nothing from that retriever. Ties break on the
 * dense score, then on the key, so results are deterministic. Stateless and thread-safe.
 */
public final class Fusion {
    public enum Method { RRF, CONVEX, DBSF, ADAPTIVE }

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
        switch (method) {
            case RRF -> {
                addRanks(fused, sparse, sparseWeight);
                addRanks(fused, dense, denseWeight);
            }
            case CONVEX -> {
                addNormalised(fused, sparse, sparseWeight);
                addNormalised(fused, dense, denseWeight);
            }
            case DBSF -> {
                addDistribution(fused, sparse, sparseWeight);
                addDistribution(fused, dense, denseWeight);
            }
            case ADAPTIVE -> {
                double cs = sparseWeight * topStandsOut(sparse);
                double cd = denseWeight * topStandsOut(dense);
                double sum = cs + cd;
                double ws = sum > 0 ? cs / sum : sparseWeight / (sparseWeight + denseWeight);
                addNormalised(fused, sparse, ws);
                addNormalised(fused, dense, 1 - ws);
            }
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

    private <K> void addDistribution(Map<K, Double> fused, List<Scored<K>> list, double weight) {
        if (list.isEmpty()) {
            return;
        }
        double[] ms = meanAndStd(list);
        double lo = ms[0] - 3 * ms[1];
        double width = 6 * ms[1];
        for (Scored<K> s : list) {
            double norm = width > 0 ? Math.min(1, Math.max(0, (s.score() - lo) / width)) : 1.0;
            fused.merge(s.key(), weight * norm, Double::sum);
        }
    }

    /** How many standard deviations the first score lies above the list's mean; 1 for lists too short to tell. */
    static <K> double topStandsOut(List<Scored<K>> list) {
        if (list.size() < 2) {
            return 1;
        }
        double[] ms = meanAndStd(list);
        if (ms[1] == 0) {
            return 0;
        }
        double top = Double.NEGATIVE_INFINITY;
        for (Scored<K> s : list) {
            top = Math.max(top, s.score());
        }
        return Math.max(0, (top - ms[0]) / ms[1]);
    }

    private static <K> double[] meanAndStd(List<Scored<K>> list) {
        double sum = 0;
        for (Scored<K> s : list) {
            sum += s.score();
        }
        double mean = sum / list.size();
        double sq = 0;
        for (Scored<K> s : list) {
            sq += (s.score() - mean) * (s.score() - mean);
        }
        return new double[]{mean, Math.sqrt(sq / list.size())};
    }
}
