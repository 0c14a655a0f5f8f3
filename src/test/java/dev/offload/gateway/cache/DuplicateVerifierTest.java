package dev.offload.gateway.cache;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringReader;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shipped verifier's file, and the cache refusing what it refuses. */
class DuplicateVerifierTest {
    @Test
    void theShippedModelLoadsAndRoundTrips() throws IOException {
        DuplicateVerifier v = DuplicateVerifier.bundled();
        assertEquals(v, DuplicateVerifier.read(new StringReader(v.write("a header\nof two lines"))));
        assertTrue(v.threshold() > 0 && v.threshold() < 1, v.toString());
        assertThrows(IOException.class, () -> DuplicateVerifier.read(new StringReader(v.write("").replace("cosine,", "cos,"))),
                "a model for other features is refused");
        assertThrows(IllegalArgumentException.class, () -> new DuplicateVerifier(new double[3], 0, 0.5));
        assertEquals("bge-small-en-v1.5-q", v.secondModel().orElseThrow(), "the shipped model weighs bge's cosine");
        assertThrows(IOException.class, () -> DuplicateVerifier.read(new StringReader(v.write("")
                .replace("second-model=bge-small-en-v1.5-q\n", ""))), "second_cosine without its model is refused");
    }

    private static double[] pair(double cosine, String asked, String cached) {
        return PairFeatures.of(cosine, cosine, PairFeatures.profile(asked), PairFeatures.profile(cached));
    }

    @Test
    void theShippedModelRefusesOppositesThatItsFeaturesSeeAndAcceptsAParaphrase() {
        DuplicateVerifier v = DuplicateVerifier.bundled();
        String cached = "How do I turn on the heater in the control room?";
        // Cosines as MiniLM and bge give such pairs (≈ 0.9 and more); the verifier decides on the rest.
        assertTrue(v.accepts(pair(0.95, "How can I turn on the heater in the control room?", cached)));
        for (String opposite : List.of("How do I turn off the heater in the control room?",
                "How do I not turn on the heater in the control room?", "How do I turn on the heater in the control room 2?",
                "How do I turn on the G-7 heater in the control room?")) {
            assertFalse(v.accepts(pair(0.95, opposite, cached)), opposite + " " + v.probability(pair(0.95, opposite, cached)));
        }
        assertFalse(v.accepts(pair(0.5, "What is the torque for the flange bolts?", cached)), "far apart");
        assertFalse(v.accepts(PairFeatures.of(Double.NaN, cached, cached)), "an uncertain check is a miss");
        assertFalse(v.accepts(PairFeatures.of(1, cached, cached)), "no second cosine computed: a miss");
    }

    /** The same vector for every text, under both models: the embeddings cannot tell them apart, only the verifier can. */
    @Test
    void theCacheServesAParaphraseButNotItsOppositeWhenTheEmbeddingsAreTheSame() {
        float[] v = {1, 0, 0, 0};
        List<String> embedded = new java.util.ArrayList<>();
        SemanticCache cache = new SemanticCache(settings(), new SemanticCache.Verification(DuplicateVerifier.bundled(),
                t -> {
                    embedded.add(t);
                    return v;
                }, 1), () -> 0L);
        cache.put(cache.ticket(), "t", CacheScope.NONE, "How do I enable the cache on the gateway?", v, "enable it so", List.of());
        assertEquals(List.of(), embedded, "nothing on the answer's path: the second vector waits for a verification");
        assertEquals("enable it so", cache.lookup("t", CacheScope.NONE, "How can I enable the cache on the gateway?", v)
                .orElseThrow().answer());
        assertEquals(List.of("How can I enable the cache on the gateway?", "How do I enable the cache on the gateway?"), embedded,
                "the asked question's second vector, then the stored question's, once");
        assertTrue(cache.lookup("t", CacheScope.NONE, "How do I disable the cache on the gateway?", v).isEmpty());
        assertTrue(cache.lookup("t", CacheScope.NONE, "How do I not enable the cache on the gateway?", v).isEmpty());
        assertEquals(2, cache.stats().unverified());
        assertEquals(4, embedded.size(), "one second embedding per verified lookup (and the stored question's once)");
        cache.lookup("t", CacheScope.NONE, "How do I enable the cache on the gateway?", v);
        cache.lookup("t", CacheScope.NONE, "Where is the pump?", new float[]{0, 1, 0, 0});
        assertEquals(4, embedded.size(), "none for an exact hit or a candidate under the similarity threshold");
        // Without a verifier the same cache answers the opposite with the original's answer: the bug it fixes.
        SemanticCache plain = new SemanticCache(cache.settings(), () -> 0L);
        plain.put(plain.ticket(), "t", CacheScope.NONE, "How do I enable the cache on the gateway?", v, "enable it so", List.of());
        assertTrue(plain.lookup("t", CacheScope.NONE, "How do I disable the cache on the gateway?", v).isPresent());
    }

    @Test
    void aVerifierThatNeedsASecondEmbeddingMissesWithoutIt() {
        float[] v = {1, 0, 0, 0};
        SemanticCache cache = new SemanticCache(settings(), DuplicateVerifier.bundled(), () -> 0L);
        cache.put(cache.ticket(), "t", CacheScope.NONE, "How do I enable the cache on the gateway?", v, "enable it so", List.of());
        assertTrue(cache.lookup("t", CacheScope.NONE, "How can I enable the cache on the gateway?", v).isEmpty());
        assertEquals(1, cache.stats().unverified());
    }

    /** The nearest candidate fails the check, the second passes: one verified candidate misses, two serve the second. */
    @Test
    void verifyingMoreCandidatesServesTheBestVerifiedOne() {
        DuplicateVerifier text = DuplicateVerifier.bundled();
        String[] features = java.util.Arrays.copyOf(PairFeatures.NAMES, PairFeatures.TEXT_FEATURES);
        double[] w = new double[features.length];
        w[0] = 10; // cosine
        w[3] = -20; // negation mismatch
        DuplicateVerifier rule = new DuplicateVerifier(features, w, -8, 0.5, null);
        assertTrue(text.threshold() > 0);
        float[] near = {1, 0.05f, 0, 0};
        float[] lessNear = {1, 0.2f, 0, 0};
        for (int k = 1; k <= 2; k++) {
            SemanticCache cache = new SemanticCache(new SemanticCache.Settings(true, 0.76, 0, 0, 0, 5, Duration.ofMinutes(5),
                    100, 1 << 20), new SemanticCache.Verification(rule, null, k), () -> 0L);
            cache.put(cache.ticket(), "t", CacheScope.NONE, "Why is the valve not closing?", near, "not closing", List.of());
            cache.put(cache.ticket(), "t", CacheScope.NONE, "Why does the valve close?", lessNear, "closing", List.of());
            var hit = cache.lookup("t", CacheScope.NONE, "Why is the valve closing?", new float[]{1, 0.04f, 0, 0});
            if (k == 1) {
                assertTrue(hit.isEmpty(), "the nearest is negated");
            } else {
                assertEquals("closing", hit.orElseThrow().answer());
            }
        }
    }

    private static SemanticCache.Settings settings() {
        return new SemanticCache.Settings(true, 0.76, 0, 0.3, 0.02, 5, Duration.ofMinutes(5), 100, 1 << 20);
    }
}
