package dev.offload.gateway.retrieval;

/** A vector ordinal with its cosine similarity to the query. */
public record ScoredOrdinal(int ordinal, float score) {
}
