package dev.offload.gateway.bench;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The three selection rules of the joint cross-validation, on scores made up so that each picks another setting. */
class RetrievalJointCrossValidationTest {
    private static Map<String, Double> all(List<String> queries, double v) {
        Map<String, Double> m = new HashMap<>();
        queries.forEach(q -> m.put(q, v));
        return m;
    }

    @Test
    void eachRulePicksWhatItPromises() {
        List<String> a = List.of("a1", "a2", "a3", "a4");
        List<String> b = List.of("b1", "b2", "b3", "b4");
        // Set A: dense 0.70; "sharp" gains 0.10 there but loses 0.01 on B; "even" gains 0.01 on both;
        // "big-b" loses 0.02 on A and gains 0.20 on B (best macro mean).
        Map<String, Map<String, Double>> gridA = new LinkedHashMap<>();
        gridA.put("sharp", all(a, 0.80));
        gridA.put("even", all(a, 0.71));
        gridA.put("big-b", all(a, 0.68));
        Map<String, Map<String, Double>> gridB = new LinkedHashMap<>();
        gridB.put("sharp", all(b, 0.89));
        gridB.put("even", all(b, 0.91));
        gridB.put("big-b", all(b, 1.10));
        var setA = new RetrievalJointCrossValidation.SetScores("A", a, all(a, 0.70), all(a, 0.50), gridA, Map.of());
        var setB = new RetrievalJointCrossValidation.SetScores("B", b, all(b, 0.90), all(b, 0.60), gridB, Map.of());
        List<List<CrossValidation.Fold>> folds = List.of(CrossValidation.folds(a, 2, 1), CrossValidation.folds(b, 2, 1));
        List<RetrievalJointCrossValidation.SetScores> sets = List.of(setA, setB);

        assertEquals("sharp", RetrievalJointCrossValidation.choose("first set only", sets, folds, 0));
        assertEquals("big-b", RetrievalJointCrossValidation.choose("macro mean", sets, folds, 0));
        assertEquals("even", RetrievalJointCrossValidation.choose("worst-set gain", sets, folds, 0));
    }
}
