package dev.offload.gateway.cache;

import dev.offload.gateway.retrieval.Embedder;
import dev.offload.gateway.retrieval.EmbeddingModel;
import dev.offload.gateway.retrieval.OnnxEmbedder;
import dev.offload.gateway.retrieval.RetrievalConfig;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

/** The one {@link SemanticCache} of the process, from {@link CacheConfig}, on the system's monotonic clock. */
@ApplicationScoped
public class SemanticCacheProducer {
    /** The similarity threshold without a verifier: the threshold and margin sweep of cache.md. */
    static final double UNVERIFIED_SIMILARITY_THRESHOLD = 0.76;
    /**
     * The similarity threshold before the shipped verifier: chosen with it on the training half (cache.md,
     * "Third round"); a verifier deciding, the nearest-neighbour gate can be looser.
     */
    static final double VERIFIED_SIMILARITY_THRESHOLD = 0.72;

    @Produces
    @ApplicationScoped
    SemanticCache semanticCache(CacheConfig config, RetrievalConfig retrieval, Embedder index,
            io.micrometer.core.instrument.MeterRegistry registry) {
        this.registry = registry;
        // The verifier's second model is the index's by default (bge-small): one ONNX session serves both.
        shared = EmbeddingModel.byName(retrieval.embedding().model());
        sharedEmbedder = index;
        return semanticCache(config);
    }

    /** The index's model and embedder, which the verifier uses when its second model is that one. */
    private EmbeddingModel shared;
    private Embedder sharedEmbedder;
    /** Where a verifier-only model's embeddings are counted (null in unit tests). */
    private io.micrometer.core.instrument.MeterRegistry registry;

    SemanticCache semanticCache(CacheConfig config) {
        if (!config.verify()) {
            return new SemanticCache(settings(config), SemanticCache.Verification.NONE, System::nanoTime);
        }
        DuplicateVerifier verifier = DuplicateVerifier.bundled();
        if (config.verifierThreshold().isPresent()) {
            verifier = verifier.withThreshold(config.verifierThreshold().getAsDouble());
        }
        java.util.function.Function<String, float[]> second = null;
        if (verifier.secondModel().isPresent() && config.enabled()) {
            // The verifier's second embedding model: one small ONNX session, run on the lookup's
            // worker thread when a candidate reaches verification (never on the answer's path).
            // A disabled cache looks nothing up, so it does not load the model at start.
            EmbeddingModel model = EmbeddingModel.byName(verifier.secondModel().get());
            if (model == shared) {
                second = sharedEmbedder::embed;
            } else {
                secondEmbedder = new OnnxEmbedder(model, 1);
                Embedder metered = registry == null ? secondEmbedder
                        : new dev.offload.gateway.retrieval.MeteredEmbedder(secondEmbedder, registry);
                second = metered::embed;
            }
        }
        return new SemanticCache(settings(config), new SemanticCache.Verification(verifier, second,
                config.verifiedCandidates()), System::nanoTime);
    }

    /** The verifier's second model, when one was loaded for it alone (package-private for a test). */
    OnnxEmbedder secondEmbedder;

    @PreDestroy
    void close() {
        if (secondEmbedder != null) {
            secondEmbedder.close();
        }
    }

    static SemanticCache.Settings settings(CacheConfig c) {
        double similarity = c.similarityThreshold().orElse(c.verify() ? VERIFIED_SIMILARITY_THRESHOLD
                : UNVERIFIED_SIMILARITY_THRESHOLD);
        return new SemanticCache.Settings(c.enabled(), similarity, c.lexicalWeight(), c.trigramWeight(),
                c.ambiguityMargin(), c.candidates(), c.ttl(), c.maxEntries(), c.maxBytes().asLongValue());
    }
}
