package dev.offload.gateway.cache;

import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The configuration maps and the produced cache carries it. */
@QuarkusTest
class CacheWiringTest {
    @Inject
    SemanticCache cache;

    @Inject
    CacheConfig config;

    @Test
    void settingsComeFromConfiguration() {
        SemanticCache.Settings s = cache.settings();
        assertTrue(config.similarityThreshold().isEmpty(), "no profile sets it");
        assertEquals(0.72, s.similarityThreshold(), "the default with the verifier on");
        // The documented ranking defaults, each in its own place (distinct values catch a swapped argument).
        assertEquals(0.0, s.lexicalWeight());
        assertEquals(0.3, s.trigramWeight());
        assertEquals(0.02, s.ambiguityMargin());
        assertEquals(config.trigramWeight(), s.trigramWeight());
        assertEquals(Duration.ofHours(1), s.ttl());
        assertEquals(64L * 1024 * 1024, s.maxBytes());
        assertEquals(10_000, s.maxEntries());
        assertTrue(s.enabled());
        float[] v = {0.6f, 0.8f};
        assertTrue(cache.put(cache.ticket(), "wiring-test", CacheScope.NONE, "q", v, "a",
                List.of(new CachedSource("d", "d#0", "t", 1, "s"))));
        assertEquals("a", cache.lookup("wiring-test", CacheScope.NONE, "q", v).orElseThrow().answer());
        cache.invalidateTenant("wiring-test");
    }
}
