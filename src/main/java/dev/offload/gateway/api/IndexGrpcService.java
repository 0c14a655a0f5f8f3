package dev.offload.gateway.api;

import dev.offload.gateway.api.grpc.Document;
import dev.offload.gateway.api.grpc.Hit;
import dev.offload.gateway.api.grpc.IndexService;
import dev.offload.gateway.api.grpc.IngestReply;
import dev.offload.gateway.api.grpc.SearchReply;
import dev.offload.gateway.api.grpc.SearchRequest;
import dev.offload.gateway.retrieval.HybridSearcher;
import dev.offload.gateway.retrieval.IndexNotReadyException;
import dev.offload.gateway.retrieval.IndexRecords.WriteResult;
import dev.offload.gateway.retrieval.IngestionService;
import dev.offload.gateway.retrieval.InvalidRequestException;
import dev.offload.gateway.retrieval.NewDocument;
import dev.offload.gateway.retrieval.RetrievalConfig;
import dev.offload.gateway.retrieval.SearchMode;
import dev.offload.gateway.security.AccessDeniedException;
import dev.offload.gateway.security.NotAuthenticatedException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** gRPC {@code offload.v1.IndexService}: the same core as the REST index endpoints. */
@GrpcService
public class IndexGrpcService implements IndexService {
    private static final Logger LOG = Logger.getLogger(IndexGrpcService.class);

    @Inject
    IngestionService ingestion;
    @Inject
    HybridSearcher searcher;
    @Inject
    RetrievalConfig config;

    @Override
    public Uni<IngestReply> ingest(Multi<Document> request) {
        int max = config.ingest().maxBatchDocuments();
        // Read now: the batch is written on a worker thread, outside the call's gRPC context.
        String tenant;
        try {
            tenant = Callers.tenant();
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(toStatus(e));
        }
        return request
                .onItem().transform(d -> new NewDocument(d.getId(), d.getTitle(), d.getText(), d.getMetadataMap()))
                // Collect one more than allowed, so an oversized stream is refused without buffering it all.
                .select().first(max + 1)
                .collect().asList()
                .emitOn(Infrastructure.getDefaultWorkerPool())
                .map(docs -> {
                    WriteResult r = ingestion.ingest(tenant, docs);
                    return IngestReply.newBuilder().setDocuments(r.documents()).setChunks(r.chunks())
                            .setReplaced(r.replaced()).setSequence(r.sequence()).build();
                })
                .onFailure().transform(IndexGrpcService::toStatus);
    }

    @Override
    @Blocking
    public Uni<SearchReply> search(SearchRequest request) {
        try {
            SearchMode mode = switch (request.getMode()) {
                case SEARCH_MODE_DENSE -> SearchMode.DENSE;
                case SEARCH_MODE_SPARSE -> SearchMode.SPARSE;
                default -> SearchMode.HYBRID;
            };
            int k = request.getK() == 0 ? SearchResource.DEFAULT_K : request.getK();
            HybridSearcher.Result r = searcher.search(Callers.tenant(), request.getQuery(), k, mode,
                    request.getFilterMap());
            SearchReply.Builder reply = SearchReply.newBuilder().putAllTimings(r.timings());
            for (var h : r.hits()) {
                reply.addHits(Hit.newBuilder().setDocumentId(h.documentId()).setChunkId(h.chunkId())
                        .setScore(h.score()).setTitle(h.title()).setText(h.text()).putAllMetadata(h.metadata()));
            }
            return Uni.createFrom().item(reply.build());
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(toStatus(e));
        }
    }

    static StatusRuntimeException toStatus(Throwable t) {
        if (t instanceof StatusRuntimeException s) {
            return s;
        }
        if (t instanceof NotAuthenticatedException) {
            return Status.UNAUTHENTICATED.withDescription(t.getMessage()).asRuntimeException();
        }
        if (t instanceof AccessDeniedException) {
            return Status.PERMISSION_DENIED.withDescription(t.getMessage()).asRuntimeException();
        }
        if (t instanceof InvalidRequestException e) {
            String detail = e.violations().stream().map(v -> v.field() + ": " + v.message())
                    .collect(Collectors.joining("; "));
            Status status = e.status() == 413 ? Status.RESOURCE_EXHAUSTED : Status.INVALID_ARGUMENT;
            return status.withDescription(detail).asRuntimeException();
        }
        if (t instanceof IndexNotReadyException) {
            return Status.UNAVAILABLE.withDescription(t.getMessage()).asRuntimeException();
        }
        LOG.error("gRPC call failed", t);
        return Status.INTERNAL.withDescription("the gateway could not complete the request").asRuntimeException();
    }
}
