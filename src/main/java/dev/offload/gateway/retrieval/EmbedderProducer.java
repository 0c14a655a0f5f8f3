package dev.offload.gateway.retrieval;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;

/**
 * Creates the in-process embedding models once per process: the index's ({@code gateway.embedding.model})
 * and the questions' ({@code gateway.embedding.question-model}, {@link QuestionEmbedding}), one model
 * when both name the same. Each is metered ({@link MeteredEmbedder}) so every embedding shows in the metrics.
 */
@ApplicationScoped
public class EmbedderProducer {
    @Produces
    @ApplicationScoped
    Embedder embedder(RetrievalConfig config, MeterRegistry registry) {
        return new MeteredEmbedder(new OnnxEmbedder(EmbeddingModel.byName(config.embedding().model()),
                config.ingest().embeddingThreads()), registry);
    }

    @Produces
    @ApplicationScoped
    @QuestionEmbedding
    Embedder questionEmbedder(RetrievalConfig config, Embedder index, MeterRegistry registry) {
        return sameModel(config) ? index
                : new MeteredEmbedder(new OnnxEmbedder(EmbeddingModel.byName(config.embedding().questionModel()), 1), registry);
    }

    /** Whether the index and the questions use one model (then one embedding serves a query's cache lookup and search). */
    public static boolean sameModel(RetrievalConfig config) {
        return EmbeddingModel.byName(config.embedding().model()) == EmbeddingModel.byName(config.embedding().questionModel());
    }

    void close(@Disposes Embedder embedder) throws java.io.IOException {
        if (embedder instanceof MeteredEmbedder m) {
            m.close();
        }
    }

    void closeQuestion(@Disposes @QuestionEmbedding Embedder embedder, RetrievalConfig config) throws java.io.IOException {
        // The shared case returns the index's bean, which its own disposer closes.
        if (!sameModel(config) && embedder instanceof MeteredEmbedder m) {
            m.close();
        }
    }
}
