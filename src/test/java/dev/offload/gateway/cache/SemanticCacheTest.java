package dev.offload.gateway.cache;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SemanticCacheTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);

    private SemanticCache cache(double threshold, int maxEntries, long maxBytes) {
        return new SemanticCache(new SemanticCache.Settings(true, threshold, 0, 0, 0, 5, Duration.ofMinutes(10), maxEntries,
                maxBytes), clock::get);
    }

    private SemanticCache cache() {
        return cache(0.9, 1000, 10_000_000);
    }

    /** A unit vector at {@code angle} radians from e1 in the (e1, e2) plane: cosine with e1 is cos(angle). */
    private static float[] at(double cosine) {
        return new float[]{(float) cosine, (float) Math.sqrt(1 - cosine * cosine), 0, 0};
    }

    private static final float[] E1 = {1, 0, 0, 0};
    private static final float[] E3 = {0, 0, 1, 0};

    private static List<CachedSource> from(String... docs) {
        List<CachedSource> out = new ArrayList<>();
        for (String d : docs) {
            out.add(new CachedSource(d, d + "#0", "Title " + d, 0.5, "snippet"));
        }
        return out;
    }

    private static boolean store(SemanticCache c, String tenant, CacheScope scope, String query, float[] v, String answer,
                                 String... docs) {
        return c.put(c.ticket(), tenant, scope, query, v, answer, from(docs));
    }

    @Test
    void exactFastPathNeedsNoEmbedding() {
        SemanticCache c = cache();
        store(c, "t1", CacheScope.NONE, "How do I  reset the Router?", E1, "Hold the button.", "d1");
        AtomicInteger embedded = new AtomicInteger();
        Optional<CacheHit> hit = c.lookup("t1", CacheScope.NONE, "how do i reset the router", () -> {
            embedded.incrementAndGet();
            return E3;
        });
        assertTrue(hit.isPresent());
        assertTrue(hit.get().exact());
        assertEquals(1.0, hit.get().similarity());
        assertEquals("Hold the button.", hit.get().answer());
        assertEquals("How do I  reset the Router?", hit.get().cachedQuery());
        assertEquals(List.of("d1"), hit.get().sources().stream().map(CachedSource::documentId).toList());
        assertEquals(0, embedded.get(), "the exact path must not embed");
    }

    @Test
    void semanticHitAtOrAboveTheThresholdOnly() {
        SemanticCache c = cache();
        store(c, "t1", CacheScope.NONE, "reset the router", E1, "Hold the button.", "d1");
        Optional<CacheHit> near = c.lookup("t1", CacheScope.NONE, "router reset?", at(0.95));
        assertTrue(near.isPresent());
        assertFalse(near.get().exact());
        assertEquals(0.95, near.get().similarity(), 1e-6);
        assertTrue(c.lookup("t1", CacheScope.NONE, "router reboot?", at(0.85)).isEmpty());
        assertEquals(new CacheStats(0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, c.stats().bytes()), c.stats());
    }

    @Test
    void vectorsAreNormalisedSoScaleDoesNotMatter() {
        SemanticCache c = cache();
        store(c, "t1", CacheScope.NONE, "q", new float[]{10, 0, 0, 0}, "a", "d1");
        float[] v = at(0.95);
        for (int i = 0; i < v.length; i++) {
            v[i] *= 7;
        }
        assertEquals(0.95, c.lookup("t1", CacheScope.NONE, "other words", v).orElseThrow().similarity(), 1e-6);
    }

    @Test
    void nearestEntryWins() {
        SemanticCache c = cache(0.5, 1000, 10_000_000);
        store(c, "t1", CacheScope.NONE, "far", at(0.6), "far answer", "d1");
        store(c, "t1", CacheScope.NONE, "near", at(0.99), "near answer", "d2");
        assertEquals("near answer", c.lookup("t1", CacheScope.NONE, "query", E1).orElseThrow().answer());
    }

    @Test
    void tenantsNeverSeeEachOthersAnswers() {
        SemanticCache c = cache();
        store(c, "tenant-a", CacheScope.NONE, "What is our VPN address?", E1, "vpn.a.example", "a1");
        assertTrue(c.lookup("tenant-b", CacheScope.NONE, "What is our VPN address?", E1).isEmpty());
        assertTrue(c.lookup("tenant-b", CacheScope.NONE, "vpn address", E1).isEmpty());
        store(c, "tenant-b", CacheScope.NONE, "What is our VPN address?", E1, "vpn.b.example", "b1");
        assertEquals("vpn.a.example", c.lookup("tenant-a", CacheScope.NONE, "What is our VPN address?", E1).orElseThrow().answer());
        assertEquals("vpn.b.example", c.lookup("tenant-b", CacheScope.NONE, "What is our VPN address?", E1).orElseThrow().answer());
        // Same document id in two tenants: invalidating one leaves the other.
        store(c, "tenant-a", CacheScope.NONE, "shared", E3, "a's", "doc");
        store(c, "tenant-b", CacheScope.NONE, "shared", E3, "b's", "doc");
        assertEquals(1, c.invalidateDocument("tenant-a", "doc"));
        assertEquals("b's", c.lookup("tenant-b", CacheScope.NONE, "shared", E3).orElseThrow().answer());
    }

    @Test
    void scopesSeparateAnswers() {
        SemanticCache c = cache();
        CacheScope plantA = new CacheScope(Map.of("site", "plant-a"), "internal", "edge", "");
        CacheScope plantB = new CacheScope(Map.of("site", "plant-b"), "internal", "edge", "");
        CacheScope confidential = new CacheScope(Map.of("site", "plant-a"), "confidential", "edge", "");
        CacheScope cloud = new CacheScope(Map.of("site", "plant-a"), "internal", "cloud", "");
        CacheScope followUp = new CacheScope(Map.of("site", "plant-a"), "internal", "edge",
                CacheScope.historyDigest(List.of("Which line stopped?", "Line 3.")));
        store(c, "t1", plantA, "shift schedule", E1, "A's schedule", "d1");
        for (CacheScope other : List.of(plantB, confidential, cloud, followUp, CacheScope.NONE)) {
            assertTrue(c.lookup("t1", other, "shift schedule", E1).isEmpty(), other.toString());
        }
        // Equal content is the same scope, whatever map built it.
        CacheScope same = new CacheScope(new java.util.HashMap<>(Map.of("site", "plant-a")), "internal", "edge", null);
        assertEquals("A's schedule", c.lookup("t1", same, "shift schedule", E1).orElseThrow().answer());
    }

    @Test
    void historyDigestDependsOnTurnsAndTheirBoundaries() {
        assertEquals("", CacheScope.historyDigest(List.of()));
        assertEquals(CacheScope.historyDigest(List.of("a", "b")), CacheScope.historyDigest(List.of("a", "b")));
        assertFalse(CacheScope.historyDigest(List.of("ab", "c")).equals(CacheScope.historyDigest(List.of("a", "bc"))));
        assertFalse(CacheScope.historyDigest(List.of("a", "b")).equals(CacheScope.historyDigest(List.of("b", "a"))));
    }

    @Test
    void entriesExpireAfterTheTtl() {
        SemanticCache c = cache();
        store(c, "t1", CacheScope.NONE, "q", E1, "a", "d1");
        clock.addAndGet(Duration.ofMinutes(10).toNanos() - 1);
        CacheHit hit = c.lookup("t1", CacheScope.NONE, "q", E1).orElseThrow();
        assertEquals(Duration.ofMinutes(10).minusNanos(1), hit.age());
        clock.addAndGet(1);
        assertTrue(c.lookup("t1", CacheScope.NONE, "q", E1).isEmpty(), "exact path");
        assertTrue(c.lookup("t1", CacheScope.NONE, "other", E1).isEmpty(), "vector path");
        assertEquals(1, c.stats().expirations());
        assertEquals(0, c.stats().entries());
        assertEquals(0, c.stats().bytes());
    }

    @Test
    void purgeDropsExpiredEntriesNobodyAskedFor() {
        SemanticCache c = cache();
        store(c, "t1", CacheScope.NONE, "old", E1, "a", "d1");
        clock.addAndGet(Duration.ofMinutes(5).toNanos());
        store(c, "t1", CacheScope.NONE, "new", E3, "b", "d2");
        clock.addAndGet(Duration.ofMinutes(5).toNanos());
        assertEquals(1, c.purgeExpired());
        assertEquals(1, c.stats().entries());
    }

    @Test
    void leastRecentlyUsedIsEvictedBeyondMaxEntries() {
        SemanticCache c = cache(0.9, 2, 10_000_000);
        store(c, "t1", CacheScope.NONE, "one", E1, "1", "d1");
        store(c, "t2", CacheScope.NONE, "two", E1, "2", "d2");
        assertTrue(c.lookup("t1", CacheScope.NONE, "one", E1).isPresent()); // "one" is now the most recent
        store(c, "t1", CacheScope.NONE, "three", E3, "3", "d3");
        assertTrue(c.lookup("t2", CacheScope.NONE, "two", E1).isEmpty(), "least recently used goes");
        assertTrue(c.lookup("t1", CacheScope.NONE, "one", E1).isPresent());
        assertTrue(c.lookup("t1", CacheScope.NONE, "three", E3).isPresent());
        assertEquals(1, c.stats().evictions());
        assertEquals(2, c.stats().entries());
    }

    @Test
    void peekChangesNeitherRecencyNorCounters() {
        SemanticCache c = cache(0.9, 2, 10_000_000);
        store(c, "t1", CacheScope.NONE, "one", E1, "1", "d1");
        store(c, "t1", CacheScope.NONE, "two", E3, "2", "d2");
        assertTrue(c.peek("t1", CacheScope.NONE, "one", () -> E1).isPresent());
        store(c, "t1", CacheScope.NONE, "three", at(0.0), "3", "d3");
        assertTrue(c.peek("t1", CacheScope.NONE, "one", () -> E1).isEmpty(), "peek did not make 'one' recent");
        assertEquals(0, c.stats().hits() + c.stats().misses());
    }

    @Test
    void bytesAreBoundedToo() {
        String answer = "x".repeat(5_000); // ~10 kB as UTF-16
        SemanticCache probe = cache(0.9, 100, Long.MAX_VALUE);
        store(probe, "t", CacheScope.NONE, "q0", E1, answer, "d");
        long one = probe.stats().bytes();
        assertTrue(one > 10_000 && one < 12_000, "estimate " + one);

        SemanticCache c = cache(0.9, 100, 3 * one + one / 2);
        for (int i = 0; i < 5; i++) {
            assertTrue(store(c, "t", CacheScope.NONE, "q" + i, i % 2 == 0 ? E1 : E3, answer, "d" + i));
        }
        assertEquals(3, c.stats().entries());
        assertTrue(c.stats().bytes() <= 3 * one + one / 2);
        assertEquals(2, c.stats().evictions());
        float[] unrelated = at(0.0); // orthogonal to every stored vector: only the exact path can answer
        assertTrue(c.lookup("t", CacheScope.NONE, "q0", unrelated).isEmpty(), "oldest evicted");
        assertTrue(c.lookup("t", CacheScope.NONE, "q4", unrelated).isPresent());
        // An entry larger than the whole budget is refused, and evicts nothing.
        assertFalse(store(c, "t", CacheScope.NONE, "huge", E1, "y".repeat(20_000), "d9"));
        assertEquals(3, c.stats().entries());
        assertEquals(1, c.stats().rejected());
    }

    @Test
    void invalidatingADocumentDropsEveryEntryBuiltFromIt() {
        SemanticCache c = cache();
        store(c, "t1", CacheScope.NONE, "q1", E1, "a1", "manual", "faq");
        store(c, "t1", new CacheScope(Map.of("k", "v"), "", "", ""), "q2", E3, "a2", "manual");
        store(c, "t1", CacheScope.NONE, "q3", E3, "a3", "faq");
        assertEquals(2, c.invalidateDocument("t1", "manual"));
        assertTrue(c.lookup("t1", CacheScope.NONE, "q1", E1).isEmpty());
        assertTrue(c.lookup("t1", new CacheScope(Map.of("k", "v"), "", "", ""), "q2", E3).isEmpty());
        assertEquals("a3", c.lookup("t1", CacheScope.NONE, "q3", E3).orElseThrow().answer());
        assertEquals(0, c.invalidateDocument("t1", "manual"));
        assertEquals(1, c.invalidateDocument("t1", "faq"));
        assertEquals(3, c.stats().invalidations());
        assertEquals(0, c.stats().entries());
        assertEquals(0, c.stats().bytes());
    }

    @Test
    void anAnswerBuiltBeforeItsDocumentChangedIsNotStored() {
        SemanticCache c = cache();
        long ticket = c.ticket(); // retrieval starts
        c.invalidateDocument("t1", "manual"); // the manual is updated during generation
        c.invalidateDocument("t2", "other"); // unrelated
        assertFalse(c.put(ticket, "t1", CacheScope.NONE, "q", E1, "stale answer", from("manual")));
        assertTrue(c.put(ticket, "t1", CacheScope.NONE, "q2", E1, "fresh answer", from("faq")));
        assertTrue(c.put(c.ticket(), "t1", CacheScope.NONE, "q", E1, "new answer", from("manual")));
        long older = c.ticket();
        c.invalidateTenant("t1");
        assertFalse(c.put(older, "t1", CacheScope.NONE, "q3", E3, "x", from("faq")));
        assertEquals(0, c.stats().entries());
        assertEquals(2, c.stats().rejected());
    }

    @Test
    void samePhrasingReplacesTheOldEntry() {
        SemanticCache c = cache();
        store(c, "t1", CacheScope.NONE, "Opening hours?", E1, "9-5", "d1");
        store(c, "t1", CacheScope.NONE, "opening hours", E1, "8-6", "d2");
        assertEquals(1, c.stats().entries());
        assertEquals("8-6", c.lookup("t1", CacheScope.NONE, "OPENING HOURS?", E1).orElseThrow().answer());
        assertEquals(0, c.invalidateDocument("t1", "d1"), "the replaced entry no longer counts for d1");
    }

    @Test
    void wordOverlapBreaksNearTiesAndAmbiguityMisses() {
        SemanticCache.Settings s = new SemanticCache.Settings(true, 0.8, 0.2, 0, 0.02, 5, Duration.ofMinutes(10), 100,
                10_000_000);
        SemanticCache c = new SemanticCache(s, clock::get);
        c.put(c.ticket(), "t", CacheScope.NONE, "What does the shape method return?", at(0.90), "rows and columns", from("d1"));
        c.put(c.ticket(), "t", CacheScope.NONE, "What does the nbytes property return?", at(0.91), "bytes", from("d2"));
        // Cosine alone prefers the nbytes entry; the shared words point at shape.
        assertEquals("rows and columns", c.lookup("t", CacheScope.NONE, "Which value does shape return?", E1)
                .orElseThrow().answer());
        // Two cached answers with the same words and nearly the same cosine: no guess.
        SemanticCache d = new SemanticCache(s, clock::get);
        d.put(d.ticket(), "t", CacheScope.NONE, "restart the pump", at(0.900), "answer one", from("d1"));
        d.put(d.ticket(), "t", CacheScope.NONE, "pump restart", at(0.905), "answer two", from("d2"));
        assertTrue(d.lookup("t", CacheScope.NONE, "how to restart pump", E1).isEmpty());
        assertEquals(1, d.stats().ambiguous());
        // ...unless they give the same answer.
        SemanticCache e = new SemanticCache(s, clock::get);
        e.put(e.ticket(), "t", CacheScope.NONE, "restart the pump", at(0.900), "same", from("d1"));
        e.put(e.ticket(), "t", CacheScope.NONE, "pump restart", at(0.905), "same", from("d2"));
        assertEquals("same", e.lookup("t", CacheScope.NONE, "how to restart pump", E1).orElseThrow().answer());
    }

    @Test
    void characterTrigramsTellApartWhatWordStemsCannot() {
        // "split" and "splits" share their five-letter stem, so word overlap sees two equal candidates
        // with nearly the same cosine and refuses; their character trigrams differ and pick "splits".
        String query = "How do I use the splits parameter?";
        SemanticCache words = new SemanticCache(new SemanticCache.Settings(true, 0.8, 0.2, 0, 0.02, 5,
                Duration.ofMinutes(10), 100, 10_000_000), clock::get);
        SemanticCache chars = new SemanticCache(new SemanticCache.Settings(true, 0.8, 0, 0.5, 0.02, 5,
                Duration.ofMinutes(10), 100, 10_000_000), clock::get);
        for (SemanticCache c : List.of(words, chars)) {
            c.put(c.ticket(), "t", CacheScope.NONE, "What does the split parameter do?", at(0.905), "split answer", from("d1"));
            c.put(c.ticket(), "t", CacheScope.NONE, "What does the splits parameter do?", at(0.900), "splits answer", from("d2"));
        }
        assertTrue(words.lookup("t", CacheScope.NONE, query, E1).isEmpty());
        assertEquals(1, words.stats().ambiguous());
        CacheHit hit = chars.lookup("t", CacheScope.NONE, query, E1).orElseThrow();
        assertEquals("splits answer", hit.answer());
        assertEquals(0.900, hit.similarity(), 1e-6, "the reported similarity stays the cosine");
        // The threshold still gates the cosine, not the re-ranked score.
        SemanticCache strict = new SemanticCache(new SemanticCache.Settings(true, 0.95, 0, 0.5, 0.02, 5,
                Duration.ofMinutes(10), 100, 10_000_000), clock::get);
        strict.put(strict.ticket(), "t", CacheScope.NONE, "What does the splits parameter do?", at(0.90), "splits answer",
                from("d2"));
        assertTrue(strict.lookup("t", CacheScope.NONE, query, E1).isEmpty());
    }

    @Test
    void entriesHoldOnlyTheOverlapTheRankingUses() {
        SemanticCache plain = new SemanticCache(new SemanticCache.Settings(true, 0.8, 0, 0, 0, 5,
                Duration.ofMinutes(10), 100, 10_000_000), clock::get);
        SemanticCache ranked = new SemanticCache(new SemanticCache.Settings(true, 0.8, 0.2, 0.3, 0, 5,
                Duration.ofMinutes(10), 100, 10_000_000), clock::get);
        String q = "What does the splits parameter of load_dataset do?";
        for (SemanticCache c : List.of(plain, ranked)) {
            c.put(c.ticket(), "t", CacheScope.NONE, q, E1, "a", from("d1"));
        }
        // Word stems (4 bytes each) and trigrams (8 bytes each) are only computed and held when weighted.
        String normalized = LexicalOverlap.normalize(q);
        long extra = 4L * LexicalOverlap.terms(normalized).length + 8L * LexicalOverlap.trigrams(normalized).length;
        assertTrue(extra > 0);
        assertEquals(plain.stats().bytes() + extra, ranked.stats().bytes());
    }

    @Test
    void disabledCacheNeitherStoresNorAnswers() {
        SemanticCache c = new SemanticCache(new SemanticCache.Settings(false, 0.9, 0, 0, 0, 5, Duration.ofMinutes(1), 10, 1_000_000),
                clock::get);
        assertFalse(store(c, "t", CacheScope.NONE, "q", E1, "a", "d"));
        assertTrue(c.lookup("t", CacheScope.NONE, "q", E1).isEmpty());
    }

    @Test
    void rejectsBadInput() {
        assertThrows(IllegalArgumentException.class, () -> cache(1.5, 10, 10));
        assertThrows(IllegalArgumentException.class, () -> cache(0.9, 0, 10));
        assertThrows(IllegalArgumentException.class, () -> new SemanticCache.Settings(true, 0.9, -1, 0, 0, 5,
                Duration.ofMinutes(1), 10, 10));
        assertThrows(IllegalArgumentException.class, () -> new SemanticCache.Settings(true, 0.9, 0, -0.1, 0, 5,
                Duration.ofMinutes(1), 10, 10));
        assertThrows(IllegalArgumentException.class, () -> new SemanticCache.Settings(true, 0.9, 0, Double.NaN, 0, 5,
                Duration.ofMinutes(1), 10, 10));
        assertThrows(IllegalArgumentException.class, () -> new SemanticCache.Settings(true, 0.9, 0, 0, 0, 5,
                Duration.ZERO, 10, 10));
        SemanticCache c = cache();
        assertThrows(IllegalArgumentException.class, () -> store(c, "t", CacheScope.NONE, "q", new float[4], "a", "d"));
        store(c, "t", CacheScope.NONE, "q", E1, "a", "d");
        assertThrows(IllegalArgumentException.class, () -> store(c, "t", CacheScope.NONE, "r", new float[]{1, 0}, "a", "d"));
        assertThrows(IllegalArgumentException.class, () -> c.lookup("t", CacheScope.NONE, "r", new float[]{1, 0}));
    }

    /**
     * Many threads put, look up and invalidate at once. Whatever the interleaving, a lookup never
     * returns another tenant's answer, the bounds hold, and the books balance afterwards.
     */
    @Test
    void concurrentUseKeepsTenantsApartAndBoundsIntact() throws Exception {
        SemanticCache c = cache(0.5, 200, 10_000_000);
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        AtomicInteger crossTenant = new AtomicInteger();
        AtomicInteger hits = new AtomicInteger();
        try {
            List<Callable<Void>> tasks = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String tenant = "tenant-" + (t % 4);
                int seed = t;
                tasks.add(() -> {
                    java.util.Random rnd = new java.util.Random(seed);
                    for (int i = 0; i < 2_000; i++) {
                        float[] v = {rnd.nextFloat() + 0.01f, rnd.nextFloat(), rnd.nextFloat(), rnd.nextFloat()};
                        switch (rnd.nextInt(4)) {
                            case 0 -> c.put(c.ticket(), tenant, CacheScope.NONE, "q" + rnd.nextInt(300), v,
                                    tenant + ":answer", from("doc-" + rnd.nextInt(20)));
                            case 1 -> c.invalidateDocument(tenant, "doc-" + rnd.nextInt(20));
                            default -> {
                                Optional<CacheHit> hit = c.lookup(tenant, CacheScope.NONE, "q" + rnd.nextInt(300), v);
                                if (hit.isPresent()) {
                                    hits.incrementAndGet();
                                    if (!hit.get().answer().equals(tenant + ":answer")) {
                                        crossTenant.incrementAndGet();
                                    }
                                }
                            }
                        }
                    }
                    return null;
                });
            }
            for (Future<Void> f : pool.invokeAll(tasks)) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        CacheStats s = c.stats();
        assertEquals(0, crossTenant.get());
        assertTrue(hits.get() > 0, "the run must exercise hits");
        assertTrue(s.entries() <= 200, "entries " + s.entries());
        assertEquals(s.stored(), s.entries() + s.evictions() + s.invalidations() + s.expirations() + s.replaced(),
                "every stored entry is held, evicted, invalidated, expired or replaced: " + s);
        // Dropping every document of every tenant empties the cache and its byte count.
        for (int t = 0; t < 4; t++) {
            for (int d = 0; d < 20; d++) {
                c.invalidateDocument("tenant-" + t, "doc-" + d);
            }
        }
        assertEquals(0, c.stats().entries());
        assertEquals(0, c.stats().bytes());
    }
}
