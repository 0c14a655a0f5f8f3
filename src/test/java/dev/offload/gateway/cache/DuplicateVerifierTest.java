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
    }

    @Test
    void theShippedModelRefusesOppositesThatItsFeaturesSeeAndAcceptsAParaphrase() {
        DuplicateVerifier v = DuplicateVerifier.bundled();
        String cached = "How do I turn on the heater in the control room?";
        // Cosines as MiniLM gives such pairs (≈ 0.9 and more); the verifier decides on the rest.
        assertTrue(v.accepts(PairFeatures.of(0.95, "How can I turn on the heater in the control room?", cached)));
        for (String opposite : List.of("How do I turn off the heater in the control room?",
                "How do I not turn on the heater in the control room?", "How do I turn on the heater in the control room 2?",
                "How do I turn on the G-7 heater in the control room?")) {
            assertFalse(v.accepts(PairFeatures.of(0.95, opposite, cached)), opposite + " " + v.probability(PairFeatures.of(0.95, opposite, cached)));
        }
        assertFalse(v.accepts(PairFeatures.of(0.5, "What is the torque for the flange bolts?", cached)), "far apart");
        double[] nan = PairFeatures.of(Double.NaN, cached, cached);
        assertFalse(v.accepts(nan), "an uncertain check is a miss");
    }

    /** The same vector for every text: the embedding cannot tell them apart, only the verifier can. */
    @Test
    void theCacheServesAParaphraseButNotItsOppositeWhenTheEmbeddingsAreTheSame() {
        SemanticCache cache = new SemanticCache(new SemanticCache.Settings(true, 0.76, 0, 0.3, 0.02, 5, Duration.ofMinutes(5),
                100, 1 << 20), DuplicateVerifier.bundled(), () -> 0L);
        float[] v = {1, 0, 0, 0};
        cache.put(cache.ticket(), "t", CacheScope.NONE, "How do I enable the cache on the gateway?", v, "enable it so", List.of());
        assertEquals("enable it so", cache.lookup("t", CacheScope.NONE, "How can I enable the cache on the gateway?", v)
                .orElseThrow().answer());
        assertTrue(cache.lookup("t", CacheScope.NONE, "How do I disable the cache on the gateway?", v).isEmpty());
        assertTrue(cache.lookup("t", CacheScope.NONE, "How do I not enable the cache on the gateway?", v).isEmpty());
        assertEquals(2, cache.stats().unverified());
        // Without a verifier the same cache answers the opposite with the original's answer: the bug it fixes.
        SemanticCache plain = new SemanticCache(cache.settings(), () -> 0L);
        plain.put(plain.ticket(), "t", CacheScope.NONE, "How do I enable the cache on the gateway?", v, "enable it so", List.of());
        assertTrue(plain.lookup("t", CacheScope.NONE, "How do I disable the cache on the gateway?", v).isPresent());
    }
}
