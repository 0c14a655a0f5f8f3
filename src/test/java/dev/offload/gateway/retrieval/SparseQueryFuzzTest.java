package dev.offload.gateway.retrieval;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.offload.gateway.retrieval.IndexRecords.ChunkHit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the BM25 query path with arbitrary query text, filters and k: it must answer (possibly
 * nothing) and never throw, and never return another tenant's chunks. Without
 * {@code JAZZER_FUZZ=1} the seeds under {@code SparseQueryFuzzTestInputs/} replay as a
 * regression test; with it, Jazzer explores for {@code maxDuration}.
 */
class SparseQueryFuzzTest {
    private static final VectorIndexOptions OPTIONS = new VectorIndexOptions(16, 64, 1.2f, 1.2f, 2f, 64);
    private static Path dir;
    private static HybridIndex index;

    @BeforeAll
    static void open() throws IOException {
        dir = Files.createTempDirectory("sparse-fuzz");
        index = HybridIndex.open(dir, TestVectors.DIM, OPTIONS);
        index.upsert("t1", List.of(HybridIndexTest.doc("d1", Map.of("site", "a"), "thermal throttling of phones", "battery saver"),
                HybridIndexTest.doc("d2", Map.of("site", "b"), "kubernetes deployment on k3s at a cell site")));
        index.upsert("t2", List.of(HybridIndexTest.doc("other", Map.of(), "thermal kubernetes phones battery site")));
    }

    @AfterAll
    static void close() throws IOException {
        index.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @FuzzTest(maxDuration = "60s")
    void sparseSearchAnswersAnyQuery(FuzzedDataProvider data) throws IOException {
        int k = data.consumeInt(1, 100);
        Map<String, String> filter = data.consumeBoolean() ? Map.of(data.consumeString(20), data.consumeString(20)) : Map.of();
        String query = data.consumeRemainingAsString();
        if (query.length() > 4000) {
            query = query.substring(0, 4000); // the API's max-query-chars
        }
        List<ChunkHit> hits = index.sparse("t1", query, filter, k);
        assertTrue(hits.size() <= k);
        for (ChunkHit h : hits) {
            assertTrue(h.documentId().equals("d1") || h.documentId().equals("d2"), "another tenant's chunk: " + h.documentId());
        }
    }
}
