package dev.offload.gateway.retrieval;

/**
 * The hybrid search settings in force: {@code gateway.search.*} where set, else the defaults of
 * the index's embedding model ({@link EmbeddingModel#fusing()}) for the weights and the feedback depth.
 */
public record SearchSettings(Fusion.Method fusion, int rrfK, double sparseWeight, double denseWeight, int candidates,
                             int feedbackDepth, double feedbackWeight) {

    public static SearchSettings of(RetrievalConfig config) {
        RetrievalConfig.Search s = config.search();
        EmbeddingModel.Fusing model = EmbeddingModel.byName(config.embedding().model()).fusing();
        int depth = s.feedbackDepth().orElse(model.feedbackDepth());
        if (depth < 0) {
            throw new IllegalArgumentException("gateway.search.feedback-depth must be ≥ 0: " + depth);
        }
        return new SearchSettings(s.fusion(), s.rrfK(), s.sparseWeight().orElse(model.sparseWeight()),
                s.denseWeight().orElse(model.denseWeight()), s.candidates(), depth, s.feedbackWeight());
    }

    public Fusion fusionOf() {
        return new Fusion(fusion, rrfK, sparseWeight, denseWeight);
    }
}
