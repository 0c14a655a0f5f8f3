package dev.offload.gateway.retrieval;

/**
 * The hybrid search settings in force: {@code gateway.search.*} where set, else the defaults of
 * the index's embedding model ({@link EmbeddingModel#fusing()}) for the weights, the feedback depth and
 * its skip margin.
 */
public record SearchSettings(Fusion.Method fusion, int rrfK, double sparseWeight, double denseWeight, int candidates,
                             int feedbackDepth, double feedbackWeight, double feedbackSkipMargin) {

    public static SearchSettings of(RetrievalConfig config) {
        RetrievalConfig.Search s = config.search();
        EmbeddingModel.Fusing model = EmbeddingModel.byName(config.embedding().model()).fusing();
        int depth = s.feedbackDepth().orElse(model.feedbackDepth());
        if (depth < 0) {
            throw new IllegalArgumentException("gateway.search.feedback-depth must be ≥ 0: " + depth);
        }
        double skip = s.feedbackSkipMargin().orElse(model.feedbackSkipMargin());
        if (!(skip >= 0)) {
            throw new IllegalArgumentException("gateway.search.feedback-skip-margin must be ≥ 0 (Infinity: never skip): " + skip);
        }
        return new SearchSettings(s.fusion(), s.rrfK(), s.sparseWeight().orElse(model.sparseWeight()),
                s.denseWeight().orElse(model.denseWeight()), s.candidates(), depth, s.feedbackWeight(), skip);
    }

    public Fusion fusionOf() {
        return new Fusion(fusion, rrfK, sparseWeight, denseWeight);
    }
}
