package dev.offload.gateway.retrieval;

import dev.offload.gateway.retrieval.IndexRecords.ChunkHit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Selective feedback: the feedback round runs unless the first fusion's top chunk leads by the skip margin. */
class SelectiveFeedbackTest {
    private static final VectorIndexOptions OPTIONS = new VectorIndexOptions(16, 64, 1.2f, 1.2f, 2f, 64);
    private static final Fusion CONVEX = new Fusion(Fusion.Method.CONVEX, 60, 0.3, 0.7);

    @TempDir
    Path dir;

    @Test
    void aConfidentFirstPassSkipsFeedbackAndAnUncertainOneRunsIt() throws IOException {
        try (HybridIndex index = HybridIndex.open(dir, TestVectors.DIM, OPTIONS)) {
            index.upsert("t", List.of(
                    HybridIndexTest.doc("a", Map.of(), "thermal throttling of the npu under sustained load"),
                    HybridIndexTest.doc("b", Map.of(), "battery saver mode on phones"),
                    HybridIndexTest.doc("c", Map.of(), "kubernetes deployment on k3s clusters")));
            String query = "thermal throttling of the npu under sustained load";
            float[] vector = TestVectors.of(query);

            // Where a is first in both lists, its fused score is 1 and the runner-up's well below it.
            List<ChunkHit> first = CONVEX.fuseHits(index.sparse("t", query, Map.of(), 10), index.dense("t", vector, Map.of(), 10), 2);
            double lead = first.get(0).score() - first.get(1).score();
            assertEquals("a", first.get(0).documentId());
            assertTrue(lead > 0.2, "lead " + lead);

            Map<String, Double> always = new HashMap<>();
            List<ChunkHit> withFeedback = new HybridRetriever(index, CONVEX, 10, 3, 1.0).search("t", query, vector, Map.of(), 10, always);
            assertTrue(always.containsKey("feedbackMs"), "no margin: feedback always runs " + always);

            Map<String, Double> confident = new HashMap<>();
            List<ChunkHit> skipped = new HybridRetriever(index, CONVEX, 10, 3, 1.0, lead / 2)
                    .search("t", query, vector, Map.of(), 10, confident);
            assertFalse(confident.containsKey("feedbackMs"), "the lead exceeds the margin: feedback skipped " + confident);
            assertEquals("a", skipped.get(0).documentId());
            // Skipping gives exactly the no-feedback ranking.
            List<ChunkHit> plain = new HybridRetriever(index, CONVEX, 10, 0, 0).search("t", query, vector, Map.of(), 10, new HashMap<>());
            assertEquals(plain.stream().map(ChunkHit::documentId).toList(), skipped.stream().map(ChunkHit::documentId).toList());

            Map<String, Double> uncertain = new HashMap<>();
            new HybridRetriever(index, CONVEX, 10, 3, 1.0, lead + 0.01).search("t", query, vector, Map.of(), 10, uncertain);
            assertTrue(uncertain.containsKey("feedbackMs"), "the lead is below the margin: feedback runs " + uncertain);
            assertEquals("a", withFeedback.get(0).documentId());
        }
    }

    @Test
    void aNegativeOrMissingMarginIsRefused() throws IOException {
        try (HybridIndex index = HybridIndex.open(dir, TestVectors.DIM, OPTIONS)) {
            assertThrows(IllegalArgumentException.class, () -> new HybridRetriever(index, CONVEX, 10, 3, 1.0, -0.1));
            assertThrows(IllegalArgumentException.class, () -> new HybridRetriever(index, CONVEX, 10, 3, 1.0, Double.NaN));
        }
    }
}
