package dev.offload.gateway.retrieval;

import dev.offload.gateway.retrieval.IndexRecords.ChunkHit;
import dev.offload.gateway.retrieval.IndexRecords.PreparedDocument;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HybridIndexTest {
    private static final String T = "t1";
    private static final VectorIndexOptions OPTIONS = new VectorIndexOptions(16, 64, 1.2f, 1.2f, 2f, 64);

    @TempDir
    Path dir;

    static PreparedDocument doc(String id, Map<String, String> meta, String... chunks) {
        List<float[]> vectors = new ArrayList<>();
        for (String c : chunks) {
            vectors.add(TestVectors.of(c));
        }
        return new PreparedDocument(id, "Title " + id, String.join(" ", chunks), meta, List.of(chunks), vectors);
    }

    private HybridIndex open() throws IOException {
        return HybridIndex.open(dir, TestVectors.DIM, OPTIONS);
    }

    private static List<String> ids(List<ChunkHit> hits) {
        return hits.stream().map(ChunkHit::documentId).distinct().toList();
    }

    @Test
    void writeThenFindInBothRetrievers() throws IOException {
        try (HybridIndex index = open()) {
            var r = index.upsert(T, List.of(doc("d1", Map.of("site", "a"), "thermal throttling of phones", "battery saver mode"),
                    doc("d2", Map.of(), "kubernetes deployment on k3s")));
            assertEquals(2, r.documents());
            assertEquals(3, r.chunks());
            assertEquals(List.of("d1"), ids(index.sparse(T, "thermal phones", Map.of(), 10)));
            assertEquals("d1", index.dense(T, TestVectors.of("thermal throttling of phones"), Map.of(), 1).get(0).documentId());
            var stored = index.get(T, "d1").orElseThrow();
            assertEquals("thermal throttling of phones battery saver mode", stored.text());
            assertEquals(Map.of("site", "a"), stored.metadata());
            assertEquals(2, stored.chunks());
        }
    }

    @Test
    void upsertReplacesEveryOldChunkInBothIndexes() throws IOException {
        try (HybridIndex index = open()) {
            index.upsert(T, List.of(doc("d1", Map.of(), "zebra crossing rules", "zebra stripes pattern")));
            var r = index.upsert(T, List.of(doc("d1", Map.of(), "giraffe necks are long")));
            assertEquals(1, r.replaced());
            assertTrue(index.sparse(T, "zebra", Map.of(), 10).isEmpty(), "old chunks gone from BM25");
            for (ChunkHit h : index.dense(T, TestVectors.of("zebra crossing rules"), Map.of(), 10)) {
                assertEquals("giraffe necks are long", h.text(), "old chunks gone from the graph");
            }
            assertEquals(1, index.stats(T).chunks());
            assertEquals(1, index.stats(T).vectors());
        }
    }

    @Test
    void deleteIsVisibleAtOnceAndCompacted() throws IOException {
        try (HybridIndex index = open()) {
            // Well-spread vectors (near-duplicates would make some nodes unreachable whatever compaction does).
            java.util.Random random = new java.util.Random(7);
            List<PreparedDocument> docs = new ArrayList<>();
            List<float[]> vectors = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                float[] v = new float[TestVectors.DIM];
                for (int j = 0; j < v.length; j++) {
                    v[j] = (float) random.nextGaussian();
                }
                vectors.add(v);
                docs.add(new PreparedDocument("d" + i, "", "common words document number " + i, Map.of(),
                        List.of("common words document number " + i), List.of(v)));
            }
            index.upsert(T, docs);
            assertTrue(index.delete(T, "d7"));
            assertFalse(index.delete(T, "d7"), "second delete finds nothing");
            assertTrue(index.get(T, "d7").isEmpty());
            assertFalse(ids(index.sparse(T, "common words", Map.of(), 100)).contains("d7"));
            assertFalse(ids(index.dense(T, vectors.get(7), Map.of(), 50)).contains("d7"));
            assertEquals(1, index.pendingVectorDeletes());
            assertEquals(1, index.compact());
            assertEquals(0, index.pendingVectorDeletes());
            List<String> after = ids(index.dense(T, vectors.get(8), Map.of(), 49));
            assertEquals(49, after.size(), "every live node still reachable after compaction");
            assertEquals("d8", after.get(0));
            assertFalse(after.contains("d7"));
            // inserts keep working after a compaction
            index.upsert(T, List.of(doc("new", Map.of(), "fresh unique capybara")));
            assertEquals("new", index.dense(T, TestVectors.of("fresh unique capybara"), Map.of(), 1).get(0).documentId());
        }
    }

    @Test
    void filtersApplyInsideBothSearchesNotAfterTopK() throws IOException {
        try (HybridIndex index = open()) {
            List<PreparedDocument> docs = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                docs.add(doc("a" + i, Map.of("site", "a"), "edge gateway queue metrics report " + i));
            }
            docs.add(doc("b0", Map.of("site", "b"), "unrelated words about gardening tomatoes"));
            index.upsert(T, docs);
            // Unfiltered, b0 is nowhere near the top 10 for this query in either retriever.
            assertFalse(ids(index.dense(T, TestVectors.of("edge gateway queue metrics"), Map.of(), 10)).contains("b0"));
            // Filtered, it is the only hit, at k=1, in both.
            assertEquals(List.of("b0"), ids(index.dense(T, TestVectors.of("edge gateway queue metrics"), Map.of("site", "b"), 1)));
            assertEquals(List.of(), ids(index.sparse(T, "edge gateway queue", Map.of("site", "b"), 5)));
            assertEquals(List.of("b0"), ids(index.sparse(T, "gardening edge gateway", Map.of("site", "b"), 5)));
            assertEquals(5, ids(index.sparse(T, "gateway", Map.of("site", "a"), 5)).size());
            assertEquals(List.of(), index.dense(T, TestVectors.of("gateway"), Map.of("site", "nowhere"), 5));
        }
    }

    @Test
    void tenantsDoNotSeeEachOther() throws IOException {
        try (HybridIndex index = open()) {
            index.upsert("t1", List.of(doc("same", Map.of(), "secret plans of tenant one")));
            index.upsert("t2", List.of(doc("same", Map.of(), "public notes of tenant two")));
            assertEquals("secret plans of tenant one", index.get("t1", "same").orElseThrow().text());
            assertEquals("public notes of tenant two", index.get("t2", "same").orElseThrow().text());
            assertTrue(index.sparse("t2", "secret plans", Map.of(), 10).isEmpty());
            for (ChunkHit h : index.dense("t2", TestVectors.of("secret plans of tenant one"), Map.of(), 10)) {
                assertFalse(h.text().contains("secret"));
            }
            assertTrue(index.delete("t2", "same"));
            assertTrue(index.get("t1", "same").isPresent(), "deleting in t2 leaves t1's document");
        }
    }

    @Test
    void recoversUncommittedWritesFromTheLogAfterACrash() throws IOException {
        HybridIndex index = open();
        index.upsert(T, List.of(doc("before", Map.of(), "committed alpha text")));
        index.commit();
        index.upsert(T, List.of(doc("after", Map.of(), "logged only bravo text")));
        index.upsert(T, List.of(doc("before", Map.of(), "replaced charlie text")));
        index.delete(T, "after");
        index.upsert(T, List.of(doc("last", Map.of(), "final delta text")));
        index.abandon(); // as kill -9 would leave it: nothing committed since the first commit

        try (HybridIndex reopened = open()) {
            assertEquals("replaced charlie text", reopened.get(T, "before").orElseThrow().text());
            assertTrue(reopened.get(T, "after").isEmpty());
            assertEquals(List.of("last"), ids(reopened.sparse(T, "delta", Map.of(), 5)));
            assertEquals("last", reopened.dense(T, TestVectors.of("final delta text"), Map.of(), 1).get(0).documentId());
            assertTrue(reopened.sparse(T, "alpha", Map.of(), 5).isEmpty(), "the replaced version stays replaced");
            assertEquals(2, reopened.stats(T).documents());
            assertEquals(2, reopened.stats(T).vectors());
        }
    }

    @Test
    void aTornLogTailIsCutOffAndEverythingBeforeItSurvives() throws IOException {
        HybridIndex index = open();
        index.upsert(T, List.of(doc("kept", Map.of(), "kept echo text")));
        index.abandon();
        Path wal;
        try (Stream<Path> files = Files.list(dir.resolve("wal"))) {
            wal = files.findFirst().orElseThrow();
        }
        Files.write(wal, new byte[]{0, 0, 1, 0, 7, 7, 7}, StandardOpenOption.APPEND);
        try (HybridIndex reopened = open()) {
            assertTrue(reopened.get(T, "kept").isPresent());
            reopened.upsert(T, List.of(doc("next", Map.of(), "next foxtrot text")));
        }
        try (HybridIndex again = open()) {
            assertTrue(again.get(T, "next").isPresent());
            assertTrue(again.get(T, "kept").isPresent());
        }
    }

    @Test
    void cleanRestartKeepsVectorsWithoutReembedding() throws IOException {
        float[] query = TestVectors.of("golf hotel india");
        List<ChunkHit> before;
        try (HybridIndex index = open()) {
            List<PreparedDocument> docs = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                docs.add(doc("d" + i, Map.of(), "golf " + i + " hotel words " + (i * 7)));
            }
            index.upsert(T, docs);
            before = index.dense(T, query, Map.of(), 10);
        }
        try (HybridIndex reopened = open()) {
            List<String> expected = before.stream().map(ChunkHit::chunkId).toList();
            List<String> exact = reopened.denseExact(T, query, Map.of(), 10).stream().map(ChunkHit::chunkId).toList();
            List<String> ann = reopened.dense(T, query, Map.of(), 10).stream().map(ChunkHit::chunkId).toList();
            assertEquals(expected.get(0), exact.get(0), "the stored vectors came back unchanged");
            long overlap = ann.stream().filter(expected::contains).count();
            assertTrue(overlap >= 9, "rebuilt graph finds the same neighbours: " + overlap + "/10");
            assertEquals(100, reopened.stats(T).vectors());
        }
    }

    @Test
    void snapshotCopiesTheCommittedIndex() throws IOException {
        try (HybridIndex index = open()) {
            index.upsert(T, List.of(doc("s1", Map.of(), "snapshot kilo text")));
            var snap = index.snapshot();
            assertEquals(1, snap.sequence());
            assertTrue(snap.files() > 0);
            assertTrue(Files.isDirectory(dir.resolve(snap.path()).resolve("lucene")));
        }
        // A gateway started on the snapshot alone finds the document (graph rebuilt from stored vectors).
        Path copy = Files.createTempDirectory("snapshot-copy");
        Path snapDir;
        try (Stream<Path> s = Files.list(dir.resolve("snapshots"))) {
            snapDir = s.findFirst().orElseThrow();
        }
        Files.createDirectories(copy.resolve("lucene"));
        try (Stream<Path> files = Files.list(snapDir.resolve("lucene"))) {
            for (Path f : files.toList()) {
                Files.copy(f, copy.resolve("lucene").resolve(f.getFileName()));
            }
        }
        try (HybridIndex restored = HybridIndex.open(copy, TestVectors.DIM, OPTIONS)) {
            assertEquals("s1", restored.dense(T, TestVectors.of("snapshot kilo text"), Map.of(), 1).get(0).documentId());
        }
    }
}
