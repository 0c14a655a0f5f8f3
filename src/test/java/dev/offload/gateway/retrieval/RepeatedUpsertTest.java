package dev.offload.gateway.retrieval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Re-ingesting the same document again and again leaves a chain of deleted copies of the same
 * vector in the graph; without the fresh set the newest copy became unreachable by the graph
 * search after about ten rounds (found by the query-path tests). It must stay findable before
 * and after compaction.
 */
class RepeatedUpsertTest {
    @TempDir
    Path dir;

    @Test
    void aDocumentReingestedManyTimesIsStillFound() throws Exception {
        try (HybridIndex index = HybridIndex.open(dir, TestVectors.DIM, new VectorIndexOptions(16, 64, 1.2f, 1.2f, 2f, 64))) {
            for (int i = 0; i < 20; i++) {
                index.upsert("t", List.of(HybridIndexTest.doc("filler" + i, Map.of(), "unrelated filler text number " + i)));
            }
            float[] query = TestVectors.of("pump seal change every 2000 hours");
            for (int round = 0; round < 100; round++) {
                index.upsert("t", List.of(
                        HybridIndexTest.doc("pump", Map.of(), "pump seal change every 2000 hours"),
                        HybridIndexTest.doc("vault", Map.of(), "vault code kept by the shift lead"),
                        HybridIndexTest.doc("okapi", Map.of(), "supplier contract for pump seals renews")));
                assertEquals("pump", index.sparse("t", "pump seal change", Map.of(), 3).get(0).documentId(), "round " + round);
                assertEquals("pump", index.dense("t", query, Map.of(), 3).get(0).documentId(), "round " + round);
                if (round % 10 == 9) {
                    index.compact();
                    assertEquals("pump", index.dense("t", query, Map.of(), 3).get(0).documentId(),
                            "after compaction, round " + round);
                }
            }
        }
    }
}
