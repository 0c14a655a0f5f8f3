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
                "How do I not turn on the heater in the control room?")) {
            assertFalse(v.accepts(pair(0.95, opposite, cached)), opposite + " " + v.probability(pair(0.95, opposite, cached)));
        }
        // An identifier added (not swapped): since the third round the verifier alone weighs a number mismatch
        // little (cache.md, "what got worse"); the identifier check refuses such a candidate before it.
        float[] same = {1, 0, 0, 0};
        SemanticCache cache = new SemanticCache(settings(), new SemanticCache.Verification(v, t -> same, 1), () -> 0L);
        cache.put(cache.ticket(), "t", CacheScope.NONE, cached, same, "on", List.of());
        for (String added : List.of("How do I turn on the heater in the control room 2?",
                "How do I turn on the G-7 heater in the control room?")) {
            assertTrue(cache.lookup("t", CacheScope.NONE, added, same).isEmpty(), added);
        }
        assertEquals(2, cache.stats().identifierMismatches());
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

    /** Words no list of the features holds: the shipped model refuses the swap of one for another, not a rewording. */
    @Test
    void theShippedModelRefusesOneWordSwappedForAnotherThatNoListKnows() {
        DuplicateVerifier v = DuplicateVerifier.bundled();
        assertTrue(java.util.Arrays.asList(v.features()).contains("one_word_swapped"), v.toString());
        String cached = "How do I rinse the intake filter every week?";
        for (String swapped : List.of("How do I replace the intake filter every week?",
                "How do I rinse the exhaust filter every week?", "How do I rinse the intake filter every month?")) {
            assertFalse(v.accepts(pair(0.97, swapped, cached)), swapped + " " + v.probability(pair(0.97, swapped, cached)));
        }
        assertTrue(v.accepts(pair(0.95, "How can I rinse the intake filter every week?", cached)), "do / can: stopwords");
        assertTrue(v.accepts(pair(0.95, "How do I rinse the intake filters every week?", cached)), "an inflection");
    }

    /** A second-round file (format duplicate-verifier/1, no one_word_swapped) still reads, and ignores the new feature. */
    @Test
    void aModelFileWithoutTheNewFeatureStillReads() throws IOException {
        String secondRound = """
                format=duplicate-verifier/1
                features=cosine,trigram_jaccard,word_jaccard,negation_mismatch,number_mismatch,unit_mismatch,name_mismatch,question_type_mismatch,opposite_action,model_mismatch,length_ratio,second_cosine
                second-model=bge-small-en-v1.5-q
                weights=4.537609917709609,-0.0759082063491507,-0.47254345910950285,-4.751307848228538,-4.1567035431127906,-3.3118874403712057,-3.1973862370199244,0.5377066097615513,-5.959436233555499,-3.0087794330326942,3.2328458407073657,10.827721821994146
                bias=-15.49377385099776
                threshold=0.7
                """;
        DuplicateVerifier old = DuplicateVerifier.read(new StringReader(secondRound));
        assertFalse(java.util.Arrays.asList(old.features()).contains("one_word_swapped"));
        double[] f = pair(0.97, "How do I replace the intake filter every week?", "How do I rinse the intake filter every week?");
        assertEquals(1, f[PairFeatures.ONE_WORD_SWAPPED]);
        double p = old.probability(f);
        f[PairFeatures.ONE_WORD_SWAPPED] = 0;
        assertEquals(p, old.probability(f), 0, "the old model does not weigh it");
        assertTrue(old.accepts(f), "and so lets the swap through: what the third round fixes");
    }
}
