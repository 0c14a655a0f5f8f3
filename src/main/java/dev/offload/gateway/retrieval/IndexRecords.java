package dev.offload.gateway.retrieval;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Value types that cross the index's boundary. */
public final class IndexRecords {
    private IndexRecords() {
    }

    /** A validated document with its chunks already embedded, ready to be logged and indexed. */
    public record PreparedDocument(String id, String title, String text, Map<String, String> metadata,
                                   List<String> chunks, List<float[]> vectors) {
        public PreparedDocument {
            if (chunks.size() != vectors.size()) {
                throw new IllegalArgumentException("one vector per chunk");
            }
            metadata = Map.copyOf(metadata);
            chunks = List.copyOf(chunks);
            vectors = List.copyOf(vectors);
        }
    }

    /** What one acknowledged write changed. */
    public record WriteResult(int documents, int chunks, int replaced, long sequence) {
    }

    /** A stored document as it was last written. */
    public record StoredDocument(String id, String title, String text, Map<String, String> metadata,
                                 int chunks, long version, Instant updatedAt) {
    }

    /** One chunk found by a retriever; {@code score} is that retriever's (BM25 or cosine). */
    public record ChunkHit(String documentId, String chunkId, int ordinal, double score, String title,
                           String text, Map<String, String> metadata) {
        public ChunkHit withScore(double s) {
            return new ChunkHit(documentId, chunkId, ordinal, s, title, text, metadata);
        }
    }

    /** Sizes and the last durable point of the index. */
    public record IndexStats(long documents, long chunks, long vectors, long deleted, long bytesOnDisk,
                             long lastCommitSequence, Instant lastCommitAt, long lastSequence) {
    }

    /** A consistent copy of the committed index. */
    public record SnapshotInfo(String path, long sequence, int files, long bytes, Instant createdAt) {
    }
}
