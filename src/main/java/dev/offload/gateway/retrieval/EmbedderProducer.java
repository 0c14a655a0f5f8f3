package dev.offload.gateway.retrieval;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;

/**
 * Creates the in-process embedding models once per process: the index's ({@code gateway.embedding.model})
 * and the questions' ({@code gateway.embedding.question-model}, {@link QuestionEmbedding}), one model
 * when both name the same.
 */
@ApplicationScoped
public class EmbedderProducer {
    @Produces
    @ApplicationScoped
    Embedder embedder(RetrievalConfig config) {
        return new OnnxEmbedder(EmbeddingModel.byName(config.embedding().model()), config.ingest().embeddingThreads());
    }

    @Produces
    @ApplicationScoped
    @QuestionEmbedding
    Embedder questionEmbedder(RetrievalConfig config, Embedder index) {
        return sameModel(config) ? index : new OnnxEmbedder(EmbeddingModel.byName(config.embedding().questionModel()), 1);
    }

    /** Whether the index and the questions use one model (then one embedding serves a query's cache lookup and search). */
    public static boolean sameModel(RetrievalConfig config) {
        return EmbeddingModel.byName(config.embedding().model()) == EmbeddingModel.byName(config.embedding().questionModel());
    }

    void close(@Disposes Embedder embedder) {
        if (embedder instanceof OnnxEmbedder m) {
            m.close();
        }
    }

    void closeQuestion(@Disposes @QuestionEmbedding Embedder embedder) {
        // The shared case returns the index's bean (its client proxy), which its own disposer closes.
        if (embedder instanceof OnnxEmbedder m) {
            m.close();
        }
    }
}
