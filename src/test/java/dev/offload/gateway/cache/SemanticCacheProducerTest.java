package dev.offload.gateway.cache;

import io.quarkus.runtime.configuration.MemorySize;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.math.BigInteger;
import java.time.Duration;
import java.util.OptionalDouble;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The verifier's second embedding model is loaded only for a cache that looks anything up. */
class SemanticCacheProducerTest {
    @Test
    void aDisabledCacheDoesNotLoadTheSecondModelAnEnabledOneDoes() {
        SemanticCacheProducer off = new SemanticCacheProducer();
        SemanticCache disabled = off.semanticCache(config(false));
        assertFalse(disabled.settings().enabled());
        assertNull(off.secondEmbedder, "no ONNX session for a cache that is off");
        off.close();

        SemanticCacheProducer on = new SemanticCacheProducer();
        on.semanticCache(config(true));
        assertNotNull(on.secondEmbedder, "the shipped verifier weighs a second cosine, so an enabled cache loads its model");
        on.close();
    }

    /** The documented defaults, with the verifier on and the cache {@code enabled} or not. */
    private static CacheConfig config(boolean enabled) {
        return (CacheConfig) Proxy.newProxyInstance(CacheConfig.class.getClassLoader(), new Class<?>[]{CacheConfig.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "enabled" -> enabled;
                    case "verify" -> true;
                    case "similarityThreshold", "verifierThreshold" -> OptionalDouble.empty();
                    case "lexicalWeight" -> 0.0;
                    case "trigramWeight" -> 0.3;
                    case "ambiguityMargin" -> 0.02;
                    case "verifiedCandidates" -> 1;
                    case "candidates" -> 10;
                    case "ttl" -> Duration.ofHours(1);
                    case "maxEntries" -> 10_000;
                    case "maxBytes" -> new MemorySize(BigInteger.valueOf(64L * 1024 * 1024));
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }
}
