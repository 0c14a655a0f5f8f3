package dev.offload.gateway.retrieval;

import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.bgesmallenv15q.BgeSmallEnV15QuantizedEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.e5smallv2q.E5SmallV2QuantizedEmbeddingModel;

import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * The in-process embedding models the gateway can run (each ships its ONNX file inside its
 * Maven jar; nothing is downloaded), with the text conventions each was trained with.
 * LangChain4j's model classes add no prefix themselves (read from their bytecode), so the
 * prefixes live here:
 * <ul>
 *   <li>e5-small-v2: {@code "query: "} before queries, {@code "passage: "} before passages
 *   (Wang et al. 2022, the model card);</li>
 *   <li>bge-small-en-v1.5: the retrieval instruction before queries only, passages bare
 *   (BAAI's model card);</li>
 *   <li>all-MiniLM-L6-v2: symmetric, no prefix.</li>
 * </ul>
 * The name is what the index records ({@code gateway.embedding.model} takes it).
 */
public enum EmbeddingModel {
    ALL_MINILM_L6_V2_Q("all-minilm-l6-v2-q", 384, "", "", AllMiniLmL6V2QuantizedEmbeddingModel::new),
    BGE_SMALL_EN_V15_Q("bge-small-en-v1.5-q", 384, "Represent this sentence for searching relevant passages: ", "",
            BgeSmallEnV15QuantizedEmbeddingModel::new),
    E5_SMALL_V2_Q("e5-small-v2-q", 384, "query: ", "passage: ", E5SmallV2QuantizedEmbeddingModel::new);

    private final String modelName;
    private final int dimension;
    private final String queryPrefix;
    private final String passagePrefix;
    private final Function<Executor, dev.langchain4j.model.embedding.EmbeddingModel> factory;

    EmbeddingModel(String modelName, int dimension, String queryPrefix, String passagePrefix,
                   Function<Executor, dev.langchain4j.model.embedding.EmbeddingModel> factory) {
        this.modelName = modelName;
        this.dimension = dimension;
        this.queryPrefix = queryPrefix;
        this.passagePrefix = passagePrefix;
        this.factory = factory;
    }

    /** The name recorded with the index and accepted by {@code gateway.embedding.model}. */
    public String modelName() {
        return modelName;
    }

    public int dimension() {
        return dimension;
    }

    public String queryPrefix() {
        return queryPrefix;
    }

    public String passagePrefix() {
        return passagePrefix;
    }

    dev.langchain4j.model.embedding.EmbeddingModel create(Executor executor) {
        return factory.apply(executor);
    }

    /** By recorded name ({@code e5-small-v2-q}) or enum name ({@code E5_SMALL_V2_Q}), case-insensitive. */
    public static EmbeddingModel byName(String name) {
        for (EmbeddingModel m : values()) {
            if (m.modelName.equalsIgnoreCase(name) || m.name().equalsIgnoreCase(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown embedding model '" + name + "'; known: "
                + java.util.Arrays.stream(values()).map(EmbeddingModel::modelName).toList());
    }
}
