package dev.offload.gateway.api;

import dev.offload.gateway.api.grpc.DeleteDocumentReply;
import dev.offload.gateway.api.grpc.DeleteDocumentRequest;
import dev.offload.gateway.api.grpc.Document;
import dev.offload.gateway.api.grpc.GetDocumentRequest;
import dev.offload.gateway.api.grpc.StatsReply;
import dev.offload.gateway.api.grpc.StatsRequest;
import dev.offload.gateway.api.grpc.StoredDocument;
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
import dev.offload.gateway.retrieval.SharedIndex;
import dev.offload.gateway.security.AccessDeniedException;
import dev.offload.gateway.security.Caller;
import dev.offload.gateway.security.CurrentCaller;
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

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * gRPC {@code offload.v1.IndexService}: the same core as the REST index endpoints. The tenant
 * comes from {@link CurrentCaller}, bound by the security interceptor for the whole call.
 */
@GrpcService
public class IndexGrpcService implements IndexService {
    private static final Logger LOG = Logger.getLogger(IndexGrpcService.class);

    @Inject
    IngestionService ingestion;
    @Inject
    HybridSearcher searcher;
    @Inject
    RetrievalConfig config;
    @Inject
    SharedIndex index;
    @Inject
    ReadYourWrites readYourWrites;

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
            readYourWrites.awaitBlocking(GrpcReadYourWritesInterceptor.minSequence());
            SearchMode mode = switch (request.getMode()) {
                case SEARCH_MODE_DENSE -> SearchMode.DENSE;
                case SEARCH_MODE_SPARSE -> SearchMode.SPARSE;
                case SEARCH_MODE_CASCADE -> SearchMode.CASCADE;
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

    @Override
    @Blocking
    public Uni<StoredDocument> getDocument(GetDocumentRequest request) {
        try {
            readYourWrites.awaitBlocking(GrpcReadYourWritesInterceptor.minSequence());
            return ingestion.get(Callers.tenant(), request.getId())
                    .map(d -> Uni.createFrom().item(StoredDocument.newBuilder().setId(d.id()).setTitle(d.title())
                            .setText(d.text()).putAllMetadata(d.metadata()).setChunks(d.chunks()).setVersion(d.version())
                            .setUpdatedAtMillis(d.updatedAt().toEpochMilli()).build()))
                    .orElseGet(() -> Uni.createFrom().failure(notFound(request.getId())));
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(toStatus(e));
        }
    }

    @Override
    @Blocking
    public Uni<DeleteDocumentReply> deleteDocument(DeleteDocumentRequest request) {
        try {
            return ingestion.delete(Callers.tenant(), request.getId())
                    ? Uni.createFrom().item(DeleteDocumentReply.getDefaultInstance())
                    : Uni.createFrom().failure(notFound(request.getId()));
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(toStatus(e));
        }
    }

    @Override
    @Blocking
    public Uni<StatsReply> stats(StatsRequest request) {
        try {
            readYourWrites.awaitBlocking(GrpcReadYourWritesInterceptor.minSequence());
            Caller caller = request.getAll() ? CurrentCaller.requireAdmin() : CurrentCaller.get();
            IndexApi.StatsResponse s = IndexResource.stats(index, caller, request.getAll(), null);
            StatsReply.Builder reply = StatsReply.newBuilder().setTenant(s.tenant() == null ? "" : s.tenant())
                    .setDocuments(s.documents()).setChunks(s.chunks()).setVectors(s.vectors())
                    .setAppliedSequence(s.appliedSequence());
            if (s.lastSequence() != null) {
                reply.setDeleted(s.deleted()).setBytesOnDisk(s.bytesOnDisk())
                        .setLastCommitSequence(s.lastCommitSequence()).setLastSequence(s.lastSequence());
                if (s.lastCommit() != null) {
                    reply.setLastCommitMillis(s.lastCommit().toEpochMilli());
                }
            }
            return Uni.createFrom().item(reply.build());
        } catch (IOException e) {
            return Uni.createFrom().failure(toStatus(new java.io.UncheckedIOException(e)));
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(toStatus(e));
        }
    }

    /** The same answer whether another tenant has the id or nobody has: ids do not leak across tenants. */
    private static StatusRuntimeException notFound(String id) {
        return Status.NOT_FOUND.withDescription("no document with id '" + id + "'").asRuntimeException();
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
        if (t instanceof dev.offload.gateway.retrieval.WritesUnavailableException
                || t instanceof dev.offload.gateway.retrieval.SequenceNotReachedException) {
            return Status.UNAVAILABLE.withDescription(t.getMessage()).asRuntimeException();
        }
        if (t instanceof IndexNotReadyException) {
            return Status.UNAVAILABLE.withDescription(t.getMessage()).asRuntimeException();
        }
        LOG.error("gRPC call failed", t);
        return Status.INTERNAL.withDescription("the gateway could not complete the request").asRuntimeException();
    }
}
