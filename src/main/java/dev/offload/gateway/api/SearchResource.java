package dev.offload.gateway.api;

import dev.offload.gateway.api.IndexApi.Hit;
import dev.offload.gateway.api.IndexApi.SearchRequest;
import dev.offload.gateway.api.IndexApi.SearchResponse;
import dev.offload.gateway.retrieval.HybridSearcher;
import dev.offload.gateway.retrieval.IndexRecords.ChunkHit;
import dev.offload.gateway.retrieval.InvalidRequestException;
import dev.offload.gateway.retrieval.SearchMode;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.util.List;
import java.util.Locale;

/** {@code POST /v1/search}: hybrid, dense or sparse search with metadata filters. */
@Path("/v1/search")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Blocking
public class SearchResource {
    static final int DEFAULT_K = 10;

    @Inject
    HybridSearcher searcher;

    @POST
    public SearchResponse search(SearchRequest request) {
        if (request == null) {
            throw InvalidRequestException.of("query", "must not be empty");
        }
        HybridSearcher.Result r = searcher.search(Callers.tenant(), request.query(),
                request.k() == null ? DEFAULT_K : request.k(), mode(request.mode()), request.filter());
        return new SearchResponse(hits(r.hits()), r.timings());
    }

    static SearchMode mode(String mode) {
        if (mode == null || mode.isBlank()) {
            return SearchMode.HYBRID;
        }
        try {
            return SearchMode.valueOf(mode.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw InvalidRequestException.of("mode", "must be one of hybrid, dense, sparse, cascade");
        }
    }

    static List<Hit> hits(List<ChunkHit> hits) {
        return hits.stream().map(h -> new Hit(h.documentId(), h.chunkId(), h.score(), h.title(), h.text(), h.metadata()))
                .toList();
    }
}
