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
}
