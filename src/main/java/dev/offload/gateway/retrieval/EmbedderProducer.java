package dev.offload.gateway.retrieval;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;

/** Creates the in-process embedding model once per process. */
@ApplicationScoped
public class EmbedderProducer {
    @Produces
    @ApplicationScoped
    Embedder embedder(RetrievalConfig config) {
        return new OnnxEmbedder(EmbeddingModel.byName(config.embedding().model()), config.ingest().embeddingThreads());
    }

    void close(@Disposes Embedder embedder) {
        if (embedder instanceof OnnxEmbedder m) {
            m.close();
        }
    }
}
