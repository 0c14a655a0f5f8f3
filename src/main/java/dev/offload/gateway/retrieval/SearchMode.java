package dev.offload.gateway.retrieval;

/** Which retrievers a search uses. */
public enum SearchMode {
    /** BM25 and dense, fused. */
    HYBRID,
    /** Dense (cosine over the configured model's embeddings) only. */
    DENSE,
    /** BM25 only. */
    SPARSE,
    /** BM25 narrows to the fusion's candidate count, the query vector re-scores those, fused; no graph search. */
    CASCADE
}
