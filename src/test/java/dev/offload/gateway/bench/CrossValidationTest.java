package dev.offload.gateway.bench;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The query splitter and the per-fold choice of {@link CrossValidation}. */
class CrossValidationTest {
    private static List<String> ids(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add("q" + i);
        }
        return out;
    }

    @Test
    void foldsPartitionTheQueriesAndNoQueryIsInTrainAndTestOfAFold() {
        long seed = new Random().nextLong();
        for (int n : new int[]{5, 7, 43, 100}) {
            for (int k : new int[]{2, 5}) {
                List<CrossValidation.Fold> folds = CrossValidation.folds(ids(n), k, seed);
                assertEquals(k, folds.size());
                Set<String> seenInTest = new HashSet<>();
                for (CrossValidation.Fold f : folds) {
                    Set<String> train = new HashSet<>(f.train());
                    for (String q : f.test()) {
                        assertTrue(!train.contains(q), "seed " + seed + ": " + q + " in train and test");
                        assertTrue(seenInTest.add(q), "seed " + seed + ": " + q + " in two test folds");
                    }
                    assertEquals(n, f.train().size() + f.test().size(), "seed " + seed);
                    assertTrue(Math.abs(f.test().size() - n / (double) k) < 1, "seed " + seed + ": fold size " + f.test().size());
                }
                assertEquals(new HashSet<>(ids(n)), seenInTest, "seed " + seed + ": every query is tested once");
            }
        }
    }

    @Test
    void foldsDependOnSeedAndIdsNotOnInputOrder() {
        List<String> ids = ids(43);
        List<String> shuffled = new ArrayList<>(ids);
        Collections.shuffle(shuffled, new Random(1));
        assertEquals(CrossValidation.folds(ids, 5, 20), CrossValidation.folds(shuffled, 5, 20));
        assertEquals(CrossValidation.folds(ids, 5, 20), CrossValidation.folds(ids, 5, 20));
        assertNotEquals(CrossValidation.folds(ids, 5, 20), CrossValidation.folds(ids, 5, 21));
    }

    @Test
    void refusesSplitsThatCannotBeMade() {
        assertThrows(IllegalArgumentException.class, () -> CrossValidation.folds(ids(4), 5, 1));
        assertThrows(IllegalArgumentException.class, () -> CrossValidation.folds(ids(10), 1, 1));
        assertThrows(IllegalArgumentException.class, () -> CrossValidation.folds(List.of("a", "a", "b"), 2, 1));
    }

    @Test
    void choiceIsMadeOnTrainingQueriesOnlyAndScoredOnTestQueries() {
        List<CrossValidation.Fold> folds = CrossValidation.folds(ids(20), 4, 7);
        // "leaky" is perfect on fold 0's test queries and 0.55 elsewhere; "steady" is 0.6 everywhere.
        // Fold 0 trains without those queries: steady wins there (a choice that peeked at the
        // test queries would take leaky's 1.0). The other folds train on them: leaky's training
        // mean is 0.7 and it is chosen, and then scores its 0.55 on their test queries.
        CrossValidation.Fold first = folds.get(0);
        Map<String, Double> steady = new LinkedHashMap<>();
        Map<String, Double> leaky = new LinkedHashMap<>();
        for (String q : ids(20)) {
            steady.put(q, 0.6);
            leaky.put(q, first.test().contains(q) ? 1.0 : 0.55);
        }
        Map<String, Map<String, Double>> grid = new LinkedHashMap<>();
        grid.put("leaky", leaky);
        grid.put("steady", steady);
        CrossValidation.Result r = CrossValidation.run(grid, folds);
        assertEquals("steady", r.folds().get(0).chosen());
        assertEquals(0.6, r.folds().get(0).testMean(), 1e-12);
        assertEquals(0.6, r.folds().get(0).trainMean(), 1e-12);
        for (CrossValidation.FoldResult f : r.folds().subList(1, 4)) {
            assertEquals("leaky", f.chosen());
            assertEquals(0.7, f.trainMean(), 1e-12);
            assertEquals(0.55, f.testMean(), 1e-12);
        }
        assertEquals((0.6 * 5 + 0.55 * 15) / 20, r.mean(), 1e-12);
    }

    @Test
    void eachFoldChoosesItsOwnBestAndTiesGoToTheEarlierSetting() {
        List<CrossValidation.Fold> folds = CrossValidation.folds(ids(10), 2, 3);
        Set<String> a = new HashSet<>(folds.get(0).test());
        Map<String, Double> goodOnA = new LinkedHashMap<>();
        Map<String, Double> goodOnB = new LinkedHashMap<>();
        Map<String, Double> same = new LinkedHashMap<>();
        for (String q : ids(10)) {
            goodOnA.put(q, a.contains(q) ? 0.9 : 0.1);
            goodOnB.put(q, a.contains(q) ? 0.1 : 0.8);
            same.put(q, a.contains(q) ? 0.9 : 0.1);
        }
        Map<String, Map<String, Double>> grid = new LinkedHashMap<>();
        grid.put("goodOnA", goodOnA);
        grid.put("goodOnB", goodOnB);
        grid.put("sameAsA", same);
        CrossValidation.Result r = CrossValidation.run(grid, folds);
        // Fold 0 tests on A and trains on B: chooses goodOnB, which scores 0.1 on A.
        assertEquals("goodOnB", r.folds().get(0).chosen());
        assertEquals(0.1, r.folds().get(0).testMean(), 1e-12);
        // Fold 1 trains on A: goodOnA and sameAsA tie at 0.9, the earlier one wins; it scores 0.1 on B.
        assertEquals("goodOnA", r.folds().get(1).chosen());
        assertEquals(0.1, r.folds().get(1).testMean(), 1e-12);
        assertEquals(0.1, r.mean(), 1e-12);
    }

    @Test
    void aMissingScoreIsAnError() {
        List<CrossValidation.Fold> folds = CrossValidation.folds(ids(6), 2, 3);
        Map<String, Double> partial = new LinkedHashMap<>();
        partial.put("q0", 1.0);
        assertThrows(IllegalArgumentException.class, () -> CrossValidation.fixed("partial", partial, folds));
    }
}
