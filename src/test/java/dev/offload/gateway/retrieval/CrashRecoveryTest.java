package dev.offload.gateway.retrieval;

import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reliability item 9, crash during ingest: a child JVM writes small documents into one data
 * directory (committing every 7th, so kills also land inside commits and log truncation) and
 * prints each acknowledged id; the parent kills it with SIGKILL at a random point, 20 times
 * (seeded: {@code -Dcrash.seed}, {@code -Dcrash.kills}). After every restart the child first
 * checks, on the index it has just recovered, that every document acknowledged so far is in
 * both indexes: Lucene (stored document with all its chunks, each chunk found by BM25 on its
 * marker) and the JVector graph (each chunk found by a dense search with its own vector); and
 * that nothing is half-indexed (index-wide: chunks = documents × 3 and graph vectors = chunks).
 * The parent checks the same once more at the end.
 *
 * <p>Acknowledged here is the return of {@link HybridIndex#upsert}, which is what
 * {@code POST /v1/documents} waits for before its 2xx ({@code IngestionService}).
 */
@Tag("slow") // 20 child JVMs started and SIGKILLed: about a minute
class CrashRecoveryTest {
    @TempDir
    Path dir;

    static final int CHUNKS = 3;

    static String chunk(String id, int i) {
        return "document " + id + " chunk " + i + " marker" + id.replace("-", "") + "x" + i;
    }

    @Test
    void everyAcknowledgedDocumentSurvivesTwentySigkills() throws Exception {
        long seed = Long.getLong("crash.seed", 20_261_127L);
        int kills = Integer.getInteger("crash.kills", 20);
        Random random = new Random(seed);
        Path data = dir.resolve("data");
        Path ackFile = dir.resolve("acknowledged.txt");
        List<String> acknowledged = new ArrayList<>();
        int verifiedRestarts = 0;
        long[] startupNanos = new long[kills];
        long t0 = System.nanoTime();
        for (int round = 0; round < kills; round++) {
            Files.write(ackFile, acknowledged, StandardCharsets.UTF_8);
            // Kill after 0..24 acknowledgements, then 0..19 ms more: anywhere in the write cycle
            // (log append + fsync, Lucene and graph apply, commit, log truncation).
            int killAfter = random.nextInt(25);
            int extraMillis = random.nextInt(20);
            // The child's output goes to a file, not a pipe: SIGKILL closes the pipe, and ids
            // printed just before the kill are acknowledged too.
            Path log = dir.resolve("child-" + round + ".out");
            // Client compiler only and a serial collector: the child lives for a second or two,
            // and JVM start-up is most of this test's time.
            long started = System.nanoTime();
            Process child = new ProcessBuilder(javaBin(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
                    "-cp", System.getProperty("java.class.path"),
                    Writer.class.getName(), data.toString(), "r" + round, ackFile.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).redirectOutput(log.toFile()).start();
            try {
                // Polled every millisecond, in this thread: the kill point is part of the scenario.
                int r = round;
                try {
                    await("the child to verify and acknowledge " + killAfter + " documents (restart " + round + ", seed " + seed + ")")
                            .atMost(Duration.ofSeconds(60)).pollInSameThread().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1))
                            .until(() -> {
                                List<String> lines = completeLines(log);
                                if (lines.stream().anyMatch(l -> l.startsWith("LOST "))) {
                                    throw new AssertionError("after restart " + r + ": " + lines.stream()
                                            .filter(l -> l.startsWith("LOST ")).findFirst().orElseThrow() + "; seed " + seed);
                                }
                                boolean verified = lines.stream().anyMatch(l -> l.startsWith("VERIFIED "));
                                if (verified && startupNanos[r] == 0) {
                                    startupNanos[r] = System.nanoTime() - started;
                                }
                                long acks = lines.stream().filter(l -> l.startsWith("ACK ")).count();
                                if (verified && acks >= killAfter) {
                                    return true;
                                }
                                assertTrue(child.isAlive(), "the child exited early: " + lines + "; seed " + seed);
                                return false;
                            });
                } catch (ConditionTimeoutException e) {
                    throw new AssertionError("the child made no progress: " + completeLines(log) + "; seed " + seed, e);
                }
                Thread.sleep(extraMillis); // the kill lands 0..19 ms after that point: anywhere in a write
            } finally {
                child.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no commit
                assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            }
            for (String line : completeLines(log)) {
                if (line.startsWith("VERIFIED ")) {
                    assertEquals(acknowledged.size(), Integer.parseInt(line.substring(9).strip()), "seed " + seed);
                    verifiedRestarts++;
                } else if (line.startsWith("ACK ")) {
                    acknowledged.add(line.substring(4));
                }
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(kills, verifiedRestarts, "seed " + seed);
        try (HybridIndex index = HybridIndex.open(data, TestVectors.DIM, VectorIndexOptions.defaults())) {
            List<String> lost = check(index, acknowledged);
            assertTrue(lost.isEmpty(), lost + "; seed " + seed);
            System.out.printf("crash during ingest: %d SIGKILLs (seed %d), %d acknowledged documents, all in Lucene and "
                            + "the graph after every restart, none half-indexed; %d ms in all, restart to verified "
                            + "median %d ms%n", kills, seed, acknowledged.size(), ms,
                    java.util.Arrays.stream(startupNanos).sorted().toArray()[kills / 2] / 1_000_000);
        }
    }

    /** The lines of the file that end with a newline (the last one may still be being written). */
    private static List<String> completeLines(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        int end = text.lastIndexOf('\n');
        return end < 0 ? List.of() : List.of(text.substring(0, end).split("\n"));
    }

    /** What is wrong with the index for these acknowledged documents (empty: nothing). */
    static List<String> check(HybridIndex index, List<String> acknowledged) throws IOException {
        List<String> problems = new ArrayList<>();
        for (String id : acknowledged) {
            var stored = index.get("t", id);
            if (stored.isEmpty()) {
                problems.add(id + " missing from Lucene");
                continue;
            }
            if (stored.get().chunks() != CHUNKS) {
                problems.add(id + " has " + stored.get().chunks() + " chunks in Lucene");
            }
            for (int i = 0; i < CHUNKS; i++) {
                String chunkId = id + "#" + i;
                String marker = "marker" + id.replace("-", "") + "x" + i;
                if (!index.sparse("t", marker, Map.of(), 3).stream().map(IndexRecords.ChunkHit::chunkId).toList().contains(chunkId)) {
                    problems.add(chunkId + " not found by BM25");
                }
                // Top 5, not top 1: a different chunk may hash to the very same test vector.
                if (!index.dense("t", TestVectors.of(chunk(id, i)), Map.of(), 5).stream().map(IndexRecords.ChunkHit::chunkId)
                        .toList().contains(chunkId)) {
                    problems.add(chunkId + " not found in the graph");
                }
            }
        }
        // Nothing half-indexed, acknowledged or not: whole documents only, one graph vector per chunk.
        var all = index.stats(null);
        if (all.chunks() != all.documents() * CHUNKS) {
            problems.add("index-wide " + all.documents() + " documents but " + all.chunks() + " chunks");
        }
        if (all.vectors() != all.chunks()) {
            problems.add("index-wide " + all.chunks() + " chunks in Lucene but " + all.vectors() + " vectors in the graph");
        }
        return problems;
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * Child process: recovers the index, verifies what the parent says was acknowledged
     * ({@code VERIFIED n} or {@code LOST …}), then writes documents forever, committing every
     * 7th, printing {@code ACK id} after each returned upsert.
     */
    public static final class Writer {
        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            String prefix = args[1];
            List<String> acknowledged = Files.readAllLines(Path.of(args[2]), StandardCharsets.UTF_8).stream()
                    .filter(s -> !s.isBlank()).toList();
            try (HybridIndex index = HybridIndex.open(dir, TestVectors.DIM, VectorIndexOptions.defaults())) {
                List<String> problems = check(index, acknowledged);
                if (!problems.isEmpty()) {
                    System.out.println("LOST " + problems);
                    System.out.flush();
                    return;
                }
                System.out.println("VERIFIED " + acknowledged.size());
                System.out.flush();
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
