package dev.offload.gateway.retrieval;

import java.util.List;

/** Turns texts into unit-length vectors. Implementations are thread-safe and CPU-bound: never call from an event loop. */
public interface Embedder {
    int dimension();

    /** Embeds many texts, spreading the work over the embedder's threads; order is kept. */
    List<float[]> embedAll(List<String> texts);

    float[] embed(String text);
}
