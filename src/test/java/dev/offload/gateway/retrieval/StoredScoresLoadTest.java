package dev.offload.gateway.retrieval;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A persisted graph is read with its stored edge scores only when they are the ones its vectors
 * give: the restored graph is then the same graph (same bytes written back, same answers), and
 * one altered score sends the load through the path that recomputes them.
 */
class StoredScoresLoadTest {
    private static final int DIM = 32;
    private static final int N = 1500;

    private static float[][] vectors(Random r) {
        float[][] v = new float[N][DIM];
        for (float[] x : v) {
            for (int i = 0; i < DIM; i++) {
                x[i] = (float) r.nextGaussian();
            }
        }
        return v;
    }

    private static byte[] graphOf(VectorIndex index) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            index.writeGraph(out);
        }
        return bytes.toByteArray();
    }

    /**
     * The graph of a file as a comparable value: per layer, each node with its neighbours and
     * scores, sorted by node (the order nodes of an upper layer are written in follows the hash
     * map holding them, which a load may fill in another order).
     */
    static java.util.List<String> canonical(byte[] file) {
        ByteBuffer in = ByteBuffer.wrap(file);
        java.util.List<String> out = new java.util.ArrayList<>();
        out.add("magic " + in.getInt() + " version " + in.getInt());
        int layers = in.getInt();
        StringBuilder degrees = new StringBuilder("degrees");
        for (int l = 0; l < layers; l++) {
            degrees.append(' ').append(in.getInt());
        }
        out.add(degrees.toString());
        out.add("entry " + in.getInt());
        for (int l = 0; l < layers; l++) {
            int size = in.getInt();
            java.util.TreeMap<Integer, String> nodes = new java.util.TreeMap<>();
            for (int i = 0; i < size; i++) {
                int node = in.getInt();
                int n = in.getInt();
                StringBuilder b = new StringBuilder();
                for (int j = 0; j < n; j++) {
                    b.append(in.getInt()).append(':').append(in.getFloat()).append(' ');
                }
                nodes.put(node, b.toString());
            }
            int level = l;
            nodes.forEach((node, edges) -> out.add(level + " " + node + " -> " + edges));
        }
        assertEquals(0, in.remaining());
        return out;
    }

    private static GraphFiles.Persisted persisted(byte[] graph) {
        return new GraphFiles.Persisted(1, Path.of("graph/1.graph"), graph, N, new int[0], new float[0][], new int[0]);
    }

    @Test
    void storedScoresAreUsedWhenTheyFitAndRecomputedWhenOneDoesNot() throws IOException {
        Random random = new Random(20261203);
        float[][] values = vectors(random);
        int[] ords = java.util.stream.IntStream.range(0, N).toArray();
        byte[] graph;
        float[] query = vectors(random)[0];
        java.util.List<ScoredOrdinal> expected;
        try (VectorIndex built = new VectorIndex(DIM, VectorIndexOptions.defaults())) {
            built.addAll(ords, values);
            graph = graphOf(built);
            expected = built.search(query, 10, null);
        }
        assertTrue(ByteBuffer.wrap(graph).getInt(8) > 1, "a hierarchy above the base layer at " + N + " nodes");

        try (VectorIndex restored = VectorIndex.restore(DIM, VectorIndexOptions.defaults(), ords, values, persisted(graph))) {
            assertTrue(restored.loadedWithStoredScores());
            assertEquals(canonical(graph), canonical(graphOf(restored)), "the same nodes, levels, edges and scores");
            assertEquals(expected, restored.search(query, 10, null));
            restored.add(N, vectors(random)[1]); // and it takes inserts
            assertEquals(N + 1, restored.graphNodeCount());
        }

        // One edge score of the first node of the base layer, a little off: the check finds it.
        byte[] altered = graph.clone();
        ByteBuffer b = ByteBuffer.wrap(altered);
        int layers = b.getInt(8);
        int at = 12 + 4 * layers + 4 + 4; // degrees, entry node, size of layer 0
        int neighbours = b.getInt(at + 4);
        assertTrue(neighbours > 0);
        int scoreAt = at + 8 + 4; // the first neighbour's score
        b.putFloat(scoreAt, b.getFloat(scoreAt) + 1e-3f);
        try (VectorIndex restored = VectorIndex.restore(DIM, VectorIndexOptions.defaults(), ords, values, persisted(altered))) {
            assertFalse(restored.storedScoresFit(altered, 1) && restored.loadedWithStoredScores());
            assertFalse(restored.loadedWithStoredScores(), "recomputed, not trusted");
            assertEquals(canonical(graph), canonical(graphOf(restored)), "recomputing gives the true scores back");
            assertEquals(expected, restored.search(query, 10, null));
        }
        // A truncated file fails the check too (the recomputing load then refuses it).
        try (VectorIndex probe = new VectorIndex(DIM, VectorIndexOptions.defaults())) {
            probe.addAll(ords, values);
            assertTrue(probe.storedScoresFit(graph, 1));
            assertFalse(probe.storedScoresFit(java.util.Arrays.copyOf(graph, graph.length / 2), 1));
        }
    }
}
