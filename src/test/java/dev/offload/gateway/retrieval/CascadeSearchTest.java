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
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Cascade mode: only BM25's candidates come back, re-ordered by the query vector. */
class CascadeSearchTest {
    private static final VectorIndexOptions OPTIONS = new VectorIndexOptions(16, 64, 1.2f, 1.2f, 2f, 64);

    @TempDir
    Path dir;

    @Test
    void onlyBm25CandidatesAreReturnedAndTheVectorReordersThem() throws IOException {
        try (HybridIndex index = HybridIndex.open(dir, TestVectors.DIM, OPTIONS)) {
            index.upsert("t", List.of(
                    HybridIndexTest.doc("a", Map.of(), "battery battery battery drain"),
                    HybridIndexTest.doc("b", Map.of(), "battery saver mode on phones"),
                    HybridIndexTest.doc("c", Map.of(), "kubernetes deployment on k3s")));
            // Dense-only fusion: the order is the vector's, the set is BM25's.
            HybridRetriever cascade = new HybridRetriever(index, new Fusion(Fusion.Method.CONVEX, 60, 0, 1), 10, 0, 0);
            Map<String, Double> timings = new HashMap<>();
            List<ChunkHit> hits = cascade.cascade("t", "battery", TestVectors.of("battery saver mode on phones"),
                    Map.of(), 10, timings);
            List<String> ids = hits.stream().map(ChunkHit::documentId).toList();
            assertEquals("b", ids.get(0));
            assertFalse(ids.contains("c"), "c has no BM25 match, so the cascade never sees it: " + ids);
            assertTrue(timings.containsKey("rescoreMs"));
            // The query vector points at c, but BM25 did not let it in.
            List<ChunkHit> none = cascade.cascade("t", "battery", TestVectors.of("kubernetes deployment on k3s"),
                    Map.of(), 10, new HashMap<>());
            assertFalse(none.stream().anyMatch(h -> h.documentId().equals("c")));
        }
    }
}
