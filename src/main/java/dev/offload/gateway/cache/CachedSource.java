package dev.offload.gateway.cache;

import java.util.Objects;

/**
 * A source an answer was built from, as the cache keeps it: enough for the device to show where
 * the answer came from, and the document id that drops the entry when the document changes.
 *
 * @param documentId the document; {@link SemanticCache#invalidateDocument} matches on it
 * @param chunkId    the chunk within the document (may be null)
 * @param title      the document's title (may be null)
 * @param score      retrieval score when the answer was built
 * @param snippet    a short excerpt shown with the answer (may be null)
 */
public record CachedSource(String documentId, String chunkId, String title, double score, String snippet) {
    public CachedSource {
        Objects.requireNonNull(documentId, "documentId");
    }
}
