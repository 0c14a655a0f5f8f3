package dev.offload.gateway.retrieval;

/** Which retrievers a search uses. */
public enum SearchMode {
    /** BM25 and dense, fused. */
    HYBRID,
    /** Dense (cosine over MiniLM embeddings) only. */
    DENSE,
    /** BM25 only. */
    SPARSE
}
