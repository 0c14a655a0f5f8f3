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
    ALL_MINILM_L6_V2_Q("all-minilm-l6-v2-q", "all-MiniLM-L6-v2", 384, "", "", new Fusing(0.3, 0.7, 5), AllMiniLmL6V2QuantizedEmbeddingModel::new),
    BGE_SMALL_EN_V15_Q("bge-small-en-v1.5-q", "bge-small-en-v1.5", 384, "Represent this sentence for searching relevant passages: ", "",
            new Fusing(0.1, 0.9, 3), BgeSmallEnV15QuantizedEmbeddingModel::new),
    E5_SMALL_V2_Q("e5-small-v2-q", "e5-small-v2", 384, "query: ", "passage: ", new Fusing(0.3, 0.7, 5), E5SmallV2QuantizedEmbeddingModel::new);

    /**
     * The convex fusion weights and feedback depth that suit a model's dense scores, the defaults of
     * {@code gateway.search.sparse-weight}, {@code dense-weight} and {@code feedback-depth}: a stronger
     * dense model wants less BM25 weight. Chosen by 5-fold cross-validation over the MS MARCO subset's
     * queries (benchmarks.md, "Cross-validated settings"): bge's folds chose 0.1:0.9 with m=3 on 50 of
     * 50 folds; MiniLM's choice is indistinguishable from 0.3:0.7 m=5; e5's choices scattered, with no
     * gain over 0.3:0.7 m=5 beyond noise, so it keeps that.
     */
    public record Fusing(double sparseWeight, double denseWeight, int feedbackDepth, double feedbackSkipMargin) {
        /** Feedback on every query (no selective skip). */
        Fusing(double sparseWeight, double denseWeight, int feedbackDepth) {
            this(sparseWeight, denseWeight, feedbackDepth, Double.POSITIVE_INFINITY);
        }
    }

    private final String modelName;
    private final String publicName;
    private final int dimension;
    private final String queryPrefix;
    private final String passagePrefix;
    private final Fusing fusing;
    private final Function<Executor, dev.langchain4j.model.embedding.EmbeddingModel> factory;

    EmbeddingModel(String modelName, String publicName, int dimension, String queryPrefix, String passagePrefix, Fusing fusing,
                   Function<Executor, dev.langchain4j.model.embedding.EmbeddingModel> factory) {
        this.modelName = modelName;
        this.publicName = publicName;
        this.dimension = dimension;
        this.queryPrefix = queryPrefix;
        this.passagePrefix = passagePrefix;
        this.fusing = fusing;
        this.factory = factory;
    }

    /** The name recorded with the index and accepted by {@code gateway.embedding.model}. */
    public String modelName() {
        return modelName;
    }

    /** The model's published name (its model card's), which {@code /v1/embeddings} reports. */
    public String publicName() {
        return publicName;
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

    /** The fusion defaults for this model's dense scores. */
    public Fusing fusing() {
        return fusing;
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
