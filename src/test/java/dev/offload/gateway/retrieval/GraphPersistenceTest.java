package dev.offload.gateway.retrieval;

import dev.offload.gateway.retrieval.IndexRecords.ChunkHit;
import dev.offload.gateway.retrieval.IndexRecords.PreparedDocument;
import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fast start: the vector graph is persisted with each Lucene commit and opened at restart instead
 * of rebuilt; whatever is missing, damaged or out of step is rebuilt from the stored vectors, and
 * no acknowledged write is lost either way.
 */
class GraphPersistenceTest {
    private static final String T = "t1";
    private static final int DIM = 32;
    private static final VectorIndexOptions OPTIONS = new VectorIndexOptions(16, 64, 1.2f, 1.2f, 2f, 64);
    private static final long SEED = 20_261_202L;

    @TempDir
    Path dir;

    private final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            log.add(r instanceof ExtLogRecord e ? e.getFormattedMessage() : r.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void captureLog() {
        Logger.getLogger("dev.offload.gateway.retrieval").addHandler(capture);
    }

    @AfterEach
    void releaseLog() {
        Logger.getLogger("dev.offload.gateway.retrieval").removeHandler(capture);
    }

    private HybridIndex open() throws IOException {
        return HybridIndex.open(dir, DIM, OPTIONS);
    }

    /** Documents of two chunks with well-spread random vectors (seeded). */
    private static List<PreparedDocument> docs(Random random, String prefix, int n) {
        List<PreparedDocument> docs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            List<float[]> vectors = List.of(randomVector(random), randomVector(random));
            docs.add(new PreparedDocument(prefix + i, "Title " + prefix + i, "text " + prefix + i, Map.of("n", "" + (i % 3)),
                    List.of("chunk a of " + prefix + i, "chunk b of " + prefix + i), vectors));
        }
        return docs;
    }

    private static float[] randomVector(Random random) {
        float[] v = new float[DIM];
        for (int i = 0; i < DIM; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    /** Populated with upserts, re-upserts (fresh nodes) and deletes not yet compacted, then committed. */
    private List<float[]> populate(HybridIndex index, Random random) throws IOException {
        List<PreparedDocument> all = docs(random, "d", 600);
        for (int i = 0; i < all.size(); i += 100) {
            index.upsert(T, all.subList(i, i + 100));
        }
        index.upsert(T, docs(random, "d", 20)); // d0..d19 replaced: deleted nodes stay in the graph, fresh ones join
        for (int i = 100; i < 110; i++) {
            assertTrue(index.delete(T, "d" + i));
        }
        assertTrue(index.pendingVectorDeletes() > 0, "deletes are pending when the graph is persisted");
        index.commit();
        List<float[]> queries = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            queries.add(randomVector(random));
        }
        return queries;
    }

    private static List<List<String>> answers(HybridIndex index, List<float[]> queries) throws IOException {
        List<List<String>> out = new ArrayList<>();
        for (float[] q : queries) {
            out.add(index.dense(T, q, Map.of(), 10).stream().map(h -> h.chunkId() + "@" + h.score()).toList());
            out.add(index.dense(T, q, Map.of("n", "1"), 5).stream().map(h -> h.chunkId() + "@" + h.score()).toList());
        }
        return out;
    }

    private static byte[] graphBytes(HybridIndex index) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        index.vectorIndex().writeGraph(new DataOutputStream(bytes));
        return bytes.toByteArray();
    }

    private long lastCommit(HybridIndex index) throws IOException {
        return index.stats(null).lastCommitSequence();
    }

    private GraphFiles graphFiles() {
        return new GraphFiles(dir.resolve("graph"));
    }

    @Test
    void aRestartOpensTheSameGraphAndAnswersIdentically() throws IOException {
        Random random = new Random(SEED);
        List<float[]> queries;
        List<List<String>> before;
        byte[] graphBefore;
        long seq;
        try (HybridIndex index = open()) {
            queries = populate(index, random);
            before = answers(index, queries);
            graphBefore = graphBytes(index);
            seq = lastCommit(index);
        }
        assertTrue(Files.isRegularFile(graphFiles().graphFile(seq)), "graph persisted with commit " + seq);
        assertArrayEquals(graphBefore, Files.readAllBytes(graphFiles().graphFile(seq)), "the file is the graph as it stood");
        try (HybridIndex index = open()) {
            assertTrue(index.graphSource().startsWith("opened") && index.graphSource().endsWith("(stored scores)"),
                    index.graphSource());
            assertArrayEquals(graphBefore, graphBytes(index), "every node, level, edge and score as before");
            assertEquals(before, answers(index, queries), "the same hits with the same scores");
            assertEquals(600 - 10, index.stats(T).documents());
            assertEquals(2 * (600 - 10), index.vectorIndex().size());
            assertTrue(index.pendingVectorDeletes() > 0, "pending deletes survive the restart");
            assertTrue(index.compact() > 0, "and are compacted as before");
            for (int i = 0; i < 20; i++) { // the re-ingested (fresh) chunks are found by their own vector
                float[] v = index.vectorOf(ordinalOf(index, "d" + i));
                assertEquals(DocumentIds.chunkId("d" + i, 0), index.dense(T, v, Map.of(), 1).get(0).chunkId());
            }
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("graph opened from graph/")), log.toString());
    }

    private static int ordinalOf(HybridIndex index, String docId) {
        try {
            return index.sparse(T, "chunk a of " + docId, Map.of(), 50).stream()
                    .filter(h -> h.chunkId().equals(DocumentIds.chunkId(docId, 0))).findFirst().orElseThrow().ordinal();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void writesAfterTheCommitAreReplayedIntoTheOpenedGraph() throws IOException {
        Random random = new Random(SEED + 1);
        List<PreparedDocument> tail = docs(new Random(SEED + 2), "tail", 30);
        HybridIndex index = open();
        populate(index, random);
        index.upsert(T, tail);
        assertTrue(index.delete(T, "d200"));
        index.abandon(); // a crash: the tail is only in the write-ahead log
        try (HybridIndex reopened = open()) {
            assertTrue(reopened.graphSource().startsWith("opened"), reopened.graphSource());
            assertEquals(600 - 11 + 30, reopened.stats(T).documents());
            for (PreparedDocument d : tail) {
                ChunkHit top = reopened.dense(T, d.vectors().get(1), Map.of(), 1).get(0);
                assertEquals(DocumentIds.chunkId(d.id(), 1), top.chunkId());
            }
            assertTrue(reopened.dense(T, randomVector(random), Map.of(), 2000).stream()
                    .noneMatch(h -> h.documentId().equals("d200")), "the replayed delete holds in the graph");
        }
        // The replay was committed with its own graph: the next start opens that one.
        try (HybridIndex again = open()) {
            assertTrue(again.graphSource().startsWith("opened"), again.graphSource());
            assertEquals(600 - 11 + 30, again.stats(T).documents());
        }
    }

    @Test
    void aDamagedGraphFileIsRebuiltWithALogLine() throws IOException {
        Random random = new Random(SEED + 3);
        List<float[]> queries;
        List<List<String>> exactBefore = new ArrayList<>();
        long seq;
        try (HybridIndex index = open()) {
            queries = populate(index, random);
            for (float[] q : queries) {
                exactBefore.add(index.denseExact(T, q, Map.of(), 10).stream().map(ChunkHit::chunkId).toList());
            }
            seq = lastCommit(index);
        }
        Path graph = graphFiles().graphFile(seq);
        byte[] bytes = Files.readAllBytes(graph);
        bytes[bytes.length / 2] ^= 0x40;
        Files.write(graph, bytes);
        try (HybridIndex index = open()) {
            assertTrue(index.graphSource().startsWith("rebuilt"), index.graphSource());
            assertEquals(600 - 10, index.stats(T).documents());
            assertEquals(2 * (600 - 10), index.vectorIndex().size());
            assertEquals(0, index.pendingVectorDeletes(), "a rebuilt graph has only live nodes");
            List<List<String>> exactAfter = new ArrayList<>();
            for (float[] q : queries) {
                exactAfter.add(index.denseExact(T, q, Map.of(), 10).stream().map(ChunkHit::chunkId).toList());
            }
            assertEquals(exactBefore, exactAfter, "the same vectors, so the same exact neighbours");
            assertRecallAtLeast(index, queries, 0.9);
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("persisted vector graph for commit " + seq + " is damaged")), log.toString());
        try (HybridIndex index = open()) {
            assertTrue(index.graphSource().startsWith("opened"), "the rebuilt graph was persisted: " + index.graphSource());
        }
    }

    @Test
    void aMissingGraphFileIsRebuiltWithALogLine() throws IOException {
        long seq;
        try (HybridIndex index = open()) {
            populate(index, new Random(SEED + 4));
            seq = lastCommit(index);
        }
        Files.delete(graphFiles().graphFile(seq));
        try (HybridIndex index = open()) {
            assertTrue(index.graphSource().startsWith("rebuilt"), index.graphSource());
            assertEquals(2 * (600 - 10), index.vectorIndex().size());
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("persisted vector graph for commit " + seq + " is incomplete")), log.toString());
        log.clear();
        Path graphDir = dir.resolve("graph");
        try (var files = Files.list(graphDir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        try (HybridIndex index = open()) {
            assertTrue(index.graphSource().startsWith("rebuilt"), index.graphSource());
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("no persisted vector graph for commit " + seq)), log.toString());
    }

    @Test
    void aCrashAfterTheLuceneCommitBeforeItsGraphIsRecoveredByRebuilding() throws IOException {
        Random random = new Random(SEED + 5);
        HybridIndex index = open();
        populate(index, random);
        long first = lastCommit(index);
        List<PreparedDocument> more = docs(new Random(SEED + 6), "late", 25);
        index.upsert(T, more);
        index.skipGraphOnNextCommit();
        index.commit(); // Lucene has the late documents and the log is truncated; no graph has them
        long second = lastCommit(index);
        index.abandon();
        assertTrue(second > first);
        assertFalse(Files.exists(graphFiles().stateFile(second)));
        assertFalse(Files.exists(graphFiles().stateFile(first)), "the older graph went with the commit");
        try (HybridIndex reopened = open()) {
            assertTrue(reopened.graphSource().startsWith("rebuilt"), reopened.graphSource());
            assertEquals(600 - 10 + 25, reopened.stats(T).documents());
            assertEquals(2 * (600 - 10 + 25), reopened.vectorIndex().size());
            for (PreparedDocument d : more) {
                assertEquals(DocumentIds.chunkId(d.id(), 0), reopened.dense(T, d.vectors().get(0), Map.of(), 1).get(0).chunkId());
            }
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("no persisted vector graph for commit " + second)), log.toString());
    }

    @Test
    void aCrashAfterTheGraphWriteBeforeTheLuceneCommitOpensThePreviousGraph() throws IOException {
        Random random = new Random(SEED + 7);
        HybridIndex index = open();
        populate(index, random);
        long first = lastCommit(index);
        List<PreparedDocument> more = docs(new Random(SEED + 8), "late", 25);
        index.upsert(T, more);
        // The graph of the next commit is on disk, the Lucene commit never happened.
        graphFiles().write(first + 1, index.vectorIndex());
        index.abandon();
        try (HybridIndex reopened = open()) {
            assertEquals("opened from graph/" + graphFiles().graphFile(first).getFileName() + " (stored scores)", reopened.graphSource());
            assertEquals(600 - 10 + 25, reopened.stats(T).documents());
            for (PreparedDocument d : more) {
                assertEquals(DocumentIds.chunkId(d.id(), 1), reopened.dense(T, d.vectors().get(1), Map.of(), 1).get(0).chunkId());
            }
        }
    }

    @Test
    void aGraphThatDoesNotFitTheStoredVectorsIsRebuilt() throws IOException {
        // Another index's graph and state under this index's commit sequence: checksums hold, the fit does not.
        Path other = dir.resolve("other");
        long seq;
        try (HybridIndex index = open()) {
            populate(index, new Random(SEED + 9));
            seq = lastCommit(index);
        }
        try (HybridIndex small = HybridIndex.open(other, DIM, OPTIONS)) {
            for (int i = 0; i < seq; i++) { // the same number of commits' worth of sequences
                small.upsert(T, docs(new Random(i), "o" + i, 1));
            }
            small.commit();
            assertEquals(seq, small.stats(null).lastCommitSequence());
        }
        GraphFiles theirs = new GraphFiles(other.resolve("graph"));
        Files.copy(theirs.graphFile(seq), graphFiles().graphFile(seq), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(theirs.stateFile(seq), graphFiles().stateFile(seq), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try (HybridIndex index = open()) {
            assertTrue(index.graphSource().startsWith("rebuilt"), index.graphSource());
            assertEquals(2 * (600 - 10), index.vectorIndex().size());
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("does not fit the stored vectors")), log.toString());
    }

    @Test
    void aSnapshotCarriesTheGraphAndAGatewayStartedOnItOpensIt() throws IOException {
        String snapshot;
        try (HybridIndex index = open()) {
            populate(index, new Random(SEED + 10));
            snapshot = index.snapshot().path();
        }
        Path copy = dir.resolve("copy");
        Path src = dir.resolve(snapshot);
        try (var files = Files.walk(src)) {
            for (Path p : files.toList()) {
                Path dst = copy.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dst);
                } else {
                    Files.copy(p, dst);
                }
            }
        }
        try (HybridIndex index = HybridIndex.open(copy, DIM, OPTIONS)) {
            assertTrue(index.graphSource().startsWith("opened"), index.graphSource());
            assertEquals(600 - 10, index.stats(T).documents());
        }
    }

    private static void assertRecallAtLeast(HybridIndex index, List<float[]> queries, double min) throws IOException {
        int found = 0;
        int total = 0;
        for (float[] q : queries) {
            List<String> exact = index.denseExact(T, q, Map.of(), 10).stream().map(ChunkHit::chunkId).toList();
            List<String> ann = index.dense(T, q, Map.of(), 10).stream().map(ChunkHit::chunkId).toList();
            found += (int) exact.stream().filter(ann::contains).count();
            total += exact.size();
        }
        assertTrue(found >= min * total, "recall@10 " + found + "/" + total);
    }
}
