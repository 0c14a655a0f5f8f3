package dev.offload.gateway.api;

import dev.offload.gateway.api.IndexApi.DocumentBody;
import dev.offload.gateway.api.IndexApi.DocumentResponse;
import dev.offload.gateway.api.IndexApi.IngestRequest;
import dev.offload.gateway.api.IndexApi.IngestResponse;
import dev.offload.gateway.retrieval.IndexRecords.StoredDocument;
import dev.offload.gateway.retrieval.IndexRecords.WriteResult;
import dev.offload.gateway.retrieval.IngestionService;
import dev.offload.gateway.retrieval.InvalidRequestException;
import dev.offload.gateway.retrieval.NewDocument;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.ArrayList;
import java.util.List;

/** {@code /v1/documents}: ingest (upsert by id), read and delete. Blocking: runs on worker threads. */
@Path("/v1/documents")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Blocking
public class DocumentResource {
    @Inject
    IngestionService ingestion;

    @POST
    public IngestResponse ingest(IngestRequest request) {
        if (request == null || request.documents() == null) {
            throw InvalidRequestException.of("documents", "must be a non-empty array");
        }
        List<NewDocument> docs = new ArrayList<>(request.documents().size());
        for (DocumentBody d : request.documents()) {
            docs.add(d == null ? null : new NewDocument(d.id(), d.title(), d.text(), d.metadata()));
        }
        WriteResult r = ingestion.ingest(Callers.tenant(), docs);
        return new IngestResponse(r.documents(), r.chunks(), r.replaced(), r.sequence());
    }

    @GET
    @Path("/{id: .+}")
    public Response get(@PathParam("id") String id) {
        return ingestion.get(Callers.tenant(), id)
                .map(d -> Response.ok(toResponse(d)).build())
                .orElseGet(() -> notFound(id));
    }

    @DELETE
    @Path("/{id: .+}")
    public Response delete(@PathParam("id") String id) {
        return ingestion.delete(Callers.tenant(), id) ? Response.noContent().build() : notFound(id);
    }

    private static Response notFound(String id) {
        return ProblemMappers.problem(Problem.of(404, "Not Found", "no document with id '" + id + "'"));
    }

    private static DocumentResponse toResponse(StoredDocument d) {
        return new DocumentResponse(d.id(), d.title(), d.text(), d.metadata(), d.chunks(), d.version(), d.updatedAt());
    }
}
