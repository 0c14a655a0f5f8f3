package dev.offload.gateway.retrieval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kill -9 right after acknowledgements: a child JVM writes documents and prints each
 * acknowledged id; the parent kills it with SIGKILL after a random number of
 * acknowledgements, reopens the index and checks every acknowledged document is present in
 * Lucene (get and BM25) and in the graph (dense search), with all its chunks.
 */
class CrashRecoveryTest {
    @TempDir
    Path dir;

    static final int CHUNKS = 3;

    static String chunk(String id, int i) {
        return "document " + id + " chunk " + i + " marker" + id.replace("-", "") + "x" + i;
    }

    @Test
    void everyAcknowledgedDocumentSurvivesSigkill() throws Exception {
        long seed = Long.getLong("crash.seed", System.nanoTime());
        Random random = new Random(seed);
        List<String> acknowledged = new ArrayList<>();
        int rounds = 3;
        for (int round = 0; round < rounds; round++) {
            int killAfter = 5 + random.nextInt(40);
            Process child = new ProcessBuilder(javaBin(), "-cp", System.getProperty("java.class.path"),
                    Writer.class.getName(), dir.toString(), "r" + round)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                int acks = 0;
                for (String line; acks < killAfter && (line = out.readLine()) != null; ) {
                    if (line.startsWith("ACK ")) {
                        acknowledged.add(line.substring(4));
                        acks++;
                    }
                }
                child.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no commit
                assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            }
        }
        assertTrue(acknowledged.size() >= rounds * 5, "seed " + seed);
        try (HybridIndex index = HybridIndex.open(dir, TestVectors.DIM, VectorIndexOptions.defaults())) {
            for (String id : acknowledged) {
                var stored = index.get("t", id);
                assertTrue(stored.isPresent(), "acknowledged " + id + " lost; seed " + seed);
                assertEquals(CHUNKS, stored.get().chunks(), "seed " + seed);
                String marker = "marker" + id.replace("-", "") + "x1";
                assertEquals(List.of(id + "#1"), index.sparse("t", marker, Map.of(), 5).stream()
                        .map(IndexRecords.ChunkHit::chunkId).toList(), "BM25 for " + id + "; seed " + seed);
                var dense = index.dense("t", TestVectors.of(chunk(id, 2)), Map.of(), 1);
                assertEquals(id + "#2", dense.get(0).chunkId(), "graph for " + id + "; seed " + seed);
            }
            // Nothing half-indexed: every document has exactly its chunks.
            assertEquals(index.stats("t").documents() * CHUNKS, index.stats("t").chunks(), "seed " + seed);
            assertEquals(index.stats("t").chunks(), index.stats("t").vectors(), "seed " + seed);
        }
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Child process: writes documents forever, committing now and then, printing each ack. */
    public static final class Writer {
        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            String prefix = args[1];
            try (HybridIndex index = HybridIndex.open(dir, TestVectors.DIM, VectorIndexOptions.defaults())) {
                for (int i = 0; ; i++) {
                    String id = prefix + "-" + i;
                    List<String> chunks = new ArrayList<>();
                    List<float[]> vectors = new ArrayList<>();
                    for (int c = 0; c < CHUNKS; c++) {
                        chunks.add(chunk(id, c));
                        vectors.add(TestVectors.of(chunk(id, c)));
                    }
                    index.upsert("t", List.of(new IndexRecords.PreparedDocument(id, id, String.join(" ", chunks),
                            Map.of(), chunks, vectors)));
                    System.out.println("ACK " + id);
                    System.out.flush();
                    if (i % 7 == 6) {
                        index.commit();
                    }
                }
            }
        }
    }
}
