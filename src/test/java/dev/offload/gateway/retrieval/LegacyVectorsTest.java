package dev.offload.gateway.retrieval;

import dev.offload.gateway.retrieval.IndexRecords.PreparedDocument;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An index written before chunk vectors were also kept as doc values
 * ({@code src/test/resources/retrieval/legacy-index-v1}: 300 one-chunk documents of tenant t1,
 * {@link TestVectors}, written and committed by commit 3783240's {@code HybridIndex}) opens with
 * its vectors read from the stored field; with new chunks beside it (doc values) both kinds load,
 * and every chunk is found by its own vector.
 */
class LegacyVectorsTest {
    private static final Path LEGACY = Path.of("src/test/resources/retrieval/legacy-index-v1");
    private static final VectorIndexOptions OPTIONS = new VectorIndexOptions(16, 64, 1.2f, 1.2f, 2f, 64);

    @TempDir
    Path dir;

    private static String legacyText(int i) {
        return "legacy record " + i + " about pump " + (i % 17) + " and valve " + (i % 11) + " on line " + (i % 5);
    }

    private void copyLegacy() throws IOException {
        try (Stream<Path> files = Files.walk(LEGACY)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path target = dir.resolve(LEGACY.relativize(f).toString());
                Files.createDirectories(target.getParent());
                Files.copy(f, target);
            }
        }
    }

    private static void assertFoundByOwnVector(HybridIndex index, String id, String text) throws IOException {
        assertEquals(id, index.dense("t1", TestVectors.of(text), Map.of(), 1).get(0).documentId(), text);
    }

    @Test
    void anIndexFromBeforeTheVectorDocValuesOpensAndTakesNewChunksBesideItsOld() throws IOException {
        copyLegacy();
        try (HybridIndex index = HybridIndex.open(dir, TestVectors.DIM, OPTIONS)) {
            assertTrue(index.graphSource().startsWith("opened"), index.graphSource());
            assertEquals(300, index.stats("t1").documents());
            assertEquals(300, index.vectorIndex().size());
            for (int i = 0; i < 300; i += 7) {
                assertFoundByOwnVector(index, "legacy-" + i, legacyText(i));
            }
            List<PreparedDocument> fresh = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                String text = "new record " + i + " on compressor " + (i % 13) + " at site " + (i % 3);
                fresh.add(new PreparedDocument("new-" + i, "New " + i, text, Map.of(), List.of(text), List.of(TestVectors.of(text))));
            }
            index.upsert("t1", fresh);
        }
        // Old segment (stored field only) and new one (doc values) in one index, after a restart:
        // with a rebuilt graph every vector read at start is in play, so a wrong one would show.
        Files.walk(dir.resolve("graph")).filter(Files::isRegularFile).forEach(f -> f.toFile().delete());
        try (HybridIndex index = HybridIndex.open(dir, TestVectors.DIM, OPTIONS)) {
            assertTrue(index.graphSource().startsWith("rebuilt from 400"), index.graphSource());
            assertEquals(400, index.stats("t1").documents());
            for (int i = 0; i < 300; i += 7) {
                assertFoundByOwnVector(index, "legacy-" + i, legacyText(i));
            }
            for (int i = 0; i < 100; i += 3) {
                assertFoundByOwnVector(index, "new-" + i, "new record " + i + " on compressor " + (i % 13) + " at site " + (i % 3));
            }
        }
    }
}
