package dev.offload.gateway.api;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Request and response bodies of the index endpoints. */
public final class IndexApi {
    private IndexApi() {
    }

    public record DocumentBody(String id, String title, String text, Map<String, String> metadata) {
    }

    public record IngestRequest(List<DocumentBody> documents) {
    }

    public record IngestResponse(int documents, int chunks, int replaced, long sequence) {
    }

    public record DocumentResponse(String id, String title, String text, Map<String, String> metadata, int chunks,
                                   long version, Instant updatedAt) {
    }

    public record SearchRequest(String query, Integer k, String mode, Map<String, String> filter) {
    }

    public record Hit(String documentId, String chunkId, double score, String title, String text,
                      Map<String, String> metadata) {
    }

    public record SearchResponse(List<Hit> hits, Map<String, Double> timings) {
    }

    /**
     * Counts for the caller's tenant ({@code tenant} set) or, for an admin asking with
     * {@code all=true}, over every tenant ({@code tenant} absent). The index-wide fields after
     * {@code vectors} are shown to admins only: they move with every tenant's writes.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record StatsResponse(String tenant, long documents, long chunks, long vectors, Long deleted,
                                Long bytesOnDisk, Instant lastCommit, Long lastCommitSequence, Long lastSequence,
                                long appliedSequence, Cluster cluster) {
    }

    /**
     * This replica in cluster mode (absent otherwise): its name, the index log's last sequence as it
     * last saw it, whether it has caught up since its start, whether writes are accepted now, the
     * live members as it last read them (heartbeats) and the limits' regime: {@code cluster}
     * (limits hold across the members) or {@code share} (NATS not heard: each limit cut to 1/N).
     */
    public record Cluster(String node, long streamLastSequence, boolean caughtUp, boolean writable,
                          java.util.List<String> members, String limits) {
    }

    public record SnapshotResponse(String path, long sequence, int files, long bytes, Instant createdAt) {
    }
}
