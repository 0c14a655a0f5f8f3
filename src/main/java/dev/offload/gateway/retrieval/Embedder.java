package dev.offload.gateway.retrieval;

import java.util.List;

/**
 * Turns texts into unit-length vectors. Implementations are thread-safe and CPU-bound: never call
 * from an event loop. {@link #embed} and {@link #embedAll} embed query-side texts (search
 * queries, cached questions, {@code /v1/embeddings}); {@link #embedPassages} embeds indexed
 * chunks, which asymmetric models (e5, bge) prefix differently.
 */
public interface Embedder {
    int dimension();

    /** The model's name as the index records it. */
    default String modelName() {
        return "unnamed";
    }

    /** Embeds many texts, spreading the work over the embedder's threads; order is kept. */
    List<float[]> embedAll(List<String> texts);

    /** Embeds passages (index chunks) as the model expects them; order is kept. */
    default List<float[]> embedPassages(List<String> texts) {
        return embedAll(texts);
    }

    float[] embed(String text);
}
