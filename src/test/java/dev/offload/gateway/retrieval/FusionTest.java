package dev.offload.gateway.retrieval;

import dev.offload.gateway.retrieval.Fusion.Scored;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FusionTest {
    private static List<Scored<String>> list(Object... keyScore) {
        List<Scored<String>> out = new java.util.ArrayList<>();
        for (int i = 0; i < keyScore.length; i += 2) {
            out.add(new Scored<>((String) keyScore[i], ((Number) keyScore[i + 1]).doubleValue()));
        }
        return out;
    }

    @Test
    void plainRrfMatchesHandComputedScores() {
        Fusion f = new Fusion(Fusion.Method.RRF, 60, 1, 1);
        List<Scored<String>> fused = f.fuse(list("a", 9, "b", 5), list("b", 0.9, "c", 0.8), 10);
        // b: 1/62 + 1/61, a: 1/61, c: 1/62
        assertEquals(List.of("b", "a", "c"), fused.stream().map(Scored::key).toList());
        assertEquals(1.0 / 62 + 1.0 / 61, fused.get(0).score(), 1e-12);
        assertEquals(1.0 / 61, fused.get(1).score(), 1e-12);
    }

    @Test
    void weightsShiftTheRanking() {
        List<Scored<String>> sparse = list("s1", 10, "s2", 9);
        List<Scored<String>> dense = list("d1", 0.9, "d2", 0.8);
        // Equal weights: rank 1 of either list ties, broken by the dense score (d1 has one, s1 none).
        assertEquals(List.of("d1", "s1", "d2", "s2"),
                new Fusion(Fusion.Method.RRF, 60, 1, 1).fuse(sparse, dense, 4).stream().map(Scored::key).toList());
        assertEquals(List.of("d1", "d2", "s1", "s2"),
                new Fusion(Fusion.Method.RRF, 60, 0.2, 0.8).fuse(sparse, dense, 4).stream().map(Scored::key).toList());
        assertEquals(List.of("s1", "s2", "d1", "d2"),
                new Fusion(Fusion.Method.RRF, 60, 0.8, 0.2).fuse(sparse, dense, 4).stream().map(Scored::key).toList());
    }

    @Test
    void convexNormalisesEachRetriever() {
        Fusion f = new Fusion(Fusion.Method.CONVEX, 60, 0.5, 0.5);
        // sparse normalised: a=1, b=0 ; dense normalised: b=1, c=0.5, a=0
        List<Scored<String>> fused = f.fuse(list("a", 20, "b", 10), list("b", 0.9, "c", 0.7, "a", 0.5), 3);
        assertEquals(0.5, fused.stream().filter(s -> s.key().equals("a")).findFirst().orElseThrow().score(), 1e-12);
        assertEquals(0.5, fused.stream().filter(s -> s.key().equals("b")).findFirst().orElseThrow().score(), 1e-12);
        assertEquals(0.25, fused.stream().filter(s -> s.key().equals("c")).findFirst().orElseThrow().score(), 1e-12);
        // tie between a and b breaks on the dense score: b (0.9) before a (0.5)
        assertEquals(List.of("b", "a", "c"), fused.stream().map(Scored::key).toList());
    }

    @Test
    void truncatesToK() {
        Fusion f = new Fusion(Fusion.Method.RRF, 60, 1, 1);
        assertEquals(2, f.fuse(list("a", 3, "b", 2, "c", 1), list(), 2).size());
    }

    @Test
    void emptyInputsGiveNothing() {
        assertEquals(List.of(), new Fusion(Fusion.Method.CONVEX, 60, 1, 1).fuse(List.<Scored<String>>of(), List.of(), 5));
    }

    @Test
    void rejectsBadSettings() {
        assertThrows(IllegalArgumentException.class, () -> new Fusion(Fusion.Method.RRF, -1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new Fusion(Fusion.Method.RRF, 60, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Fusion(Fusion.Method.RRF, 60, -1, 1));
    }

    private static double scoreOf(List<Scored<String>> fused, String key) {
        return fused.stream().filter(s -> s.key().equals(key)).findFirst().orElseThrow().score();
    }

    @Test
    void dbsfPlacesScoresOnTheirQuerysDistribution() {
        Fusion f = new Fusion(Fusion.Method.DBSF, 60, 0.5, 0.5);
        // sparse 3, 1: mean 2, σ 1 → (s − (2 − 3)) / 6: a = 4/6, b = 2/6
        // dense 0.9, 0.7, 0.5: mean 0.7, σ = √(0.08/3)
        double sd = Math.sqrt(0.08 / 3);
        double lo = 0.7 - 3 * sd;
        List<Scored<String>> fused = f.fuse(list("a", 3, "b", 1), list("b", 0.9, "c", 0.7, "a", 0.5), 3);
        assertEquals(0.5 * (4.0 / 6 + (0.5 - lo) / (6 * sd)), scoreOf(fused, "a"), 1e-12);
        assertEquals(0.5 * (2.0 / 6 + (0.9 - lo) / (6 * sd)), scoreOf(fused, "b"), 1e-12);
        assertEquals(0.5 * 0.5, scoreOf(fused, "c"), 1e-12);
        assertEquals(List.of("b", "a", "c"), fused.stream().map(Scored::key).toList());
    }

    @Test
    void dbsfClipsOutliersToOne() {
        Fusion f = new Fusion(Fusion.Method.DBSF, 60, 1, 0.000001);
        List<Scored<String>> sparse = new java.util.ArrayList<>(list("top", 100));
        for (int i = 0; i < 10; i++) {
            sparse.add(new Scored<>("s" + i, 1));
        }
        // mean ≈ 10, σ ≈ 28.5: the top lies 3.2 σ above the mean, beyond the window
        assertEquals(1.0, scoreOf(f.fuse(sparse, List.of(), 11), "top"), 1e-12);
    }

    @Test
    void adaptiveWeighsEachRetrieverByHowFarItsTopStandsOut() {
        Fusion f = new Fusion(Fusion.Method.ADAPTIVE, 60, 0.5, 0.5);
        // sparse 3, 1: top is 1 σ above the mean; dense 0.9, 0.7, 0.5: top is 0.2 / √(0.08/3) σ above
        double zs = 1;
        double zd = 0.2 / Math.sqrt(0.08 / 3);
        double ws = zs / (zs + zd);
        List<Scored<String>> fused = f.fuse(list("a", 3, "b", 1), list("b", 0.9, "c", 0.7, "a", 0.5), 3);
        // min-max: sparse a = 1, b = 0; dense b = 1, c = 0.5, a = 0
        assertEquals(ws, scoreOf(fused, "a"), 1e-12);
        assertEquals(1 - ws, scoreOf(fused, "b"), 1e-12);
        assertEquals(0.5 * (1 - ws), scoreOf(fused, "c"), 1e-12);
        assertEquals(List.of("b", "a", "c"), fused.stream().map(Scored::key).toList());
    }

    @Test
    void adaptiveIgnoresAFlatListAndFollowsTheOther() {
        Fusion f = new Fusion(Fusion.Method.ADAPTIVE, 60, 0.5, 0.5);
        List<Scored<String>> flat = list("x", 2, "y", 2, "z", 2);
        List<Scored<String>> peaked = list("z", 0.9, "y", 0.2, "x", 0.1);
        assertEquals(List.of("z", "y", "x"), f.fuse(flat, peaked, 3).stream().map(Scored::key).toList());
        assertEquals(0.0, scoreOf(f.fuse(flat, peaked, 3), "x"), 1e-12);
        // and the other way round: a flat dense list leaves the sparse order
        assertEquals(List.of("x", "y", "z"), f.fuse(list("x", 9, "y", 3, "z", 1), list("z", 0.5, "y", 0.5, "x", 0.5), 3)
                .stream().map(Scored::key).toList());
    }

    @Test
    void adaptiveWithOneEmptyListKeepsTheOthersOrder() {
        Fusion f = new Fusion(Fusion.Method.ADAPTIVE, 60, 0.3, 0.7);
        assertEquals(List.of("a", "b"), f.fuse(list("a", 5, "b", 1), List.of(), 2).stream().map(Scored::key).toList());
        assertEquals(List.of("d", "e"), f.fuse(List.of(), list("d", 0.9, "e", 0.1), 2).stream().map(Scored::key).toList());
    }
}
