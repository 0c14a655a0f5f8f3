package dev.offload.gateway.retrieval;

import java.util.Locale;

/**
 * Deterministic stand-in embeddings for index tests: hashed bag of words, so texts that share
 * words are close. Not a model; only for tests that must not load one.
 */
final class TestVectors {
    static final int DIM = 64;

    private TestVectors() {
    }

    static float[] of(String text) {
        float[] v = new float[DIM];
        for (String w : text.toLowerCase(Locale.ROOT).split("[^a-z0-9]+")) {
            if (w.isEmpty()) {
                continue;
            }
            int h = w.hashCode();
            v[Math.floorMod(h, DIM)] += 1f;
            v[Math.floorMod(h >>> 7, DIM)] += 0.5f;
        }
        v[0] += 0.01f; // never the zero vector
        return v;
    }
}
