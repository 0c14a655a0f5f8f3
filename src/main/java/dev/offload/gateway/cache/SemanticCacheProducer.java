package dev.offload.gateway.cache;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

/** The one {@link SemanticCache} of the process, from {@link CacheConfig}, on the system's monotonic clock. */
@ApplicationScoped
public class SemanticCacheProducer {
    @Produces
    @ApplicationScoped
    SemanticCache semanticCache(CacheConfig config) {
        DuplicateVerifier verifier = null;
        if (config.verify()) {
            verifier = DuplicateVerifier.bundled();
            if (config.verifierThreshold().isPresent()) {
                verifier = verifier.withThreshold(config.verifierThreshold().getAsDouble());
            }
        }
        return new SemanticCache(settings(config), verifier, System::nanoTime);
    }

    static SemanticCache.Settings settings(CacheConfig c) {
        return new SemanticCache.Settings(c.enabled(), c.similarityThreshold(), c.lexicalWeight(), c.trigramWeight(),
                c.ambiguityMargin(), c.candidates(), c.ttl(), c.maxEntries(), c.maxBytes().asLongValue());
    }
}
