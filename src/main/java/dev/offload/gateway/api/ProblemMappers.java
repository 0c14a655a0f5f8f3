package dev.offload.gateway.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.JsonMappingException;
import dev.offload.gateway.retrieval.IndexNotReadyException;
import dev.offload.gateway.retrieval.InvalidRequestException;
import dev.offload.gateway.security.AccessDeniedException;
import dev.offload.gateway.security.NotAuthenticatedException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.util.List;
import java.util.stream.Collectors;

/** Maps every failure of a REST call to {@code application/problem+json}. */
public class ProblemMappers {
    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

    static Response problem(Problem p) {
        return Response.status(p.status()).type(Problem.MEDIA_TYPE).entity(p).build();
    }

    @ServerExceptionMapper
    public Response invalid(InvalidRequestException e) {
        List<Problem.FieldError> errors = e.violations().stream()
                .map(v -> new Problem.FieldError(v.field(), v.message())).toList();
        String detail = e.violations().stream().map(v -> v.field() + ": " + v.message())
                .collect(Collectors.joining("; "));
        String title = e.status() == 413 ? "Payload too large" : "Invalid request";
        return problem(new Problem("about:blank", title, e.status(), detail, null, errors));
    }

    @ServerExceptionMapper
    public Response notReady(IndexNotReadyException e) {
        return Response.status(503).type(Problem.MEDIA_TYPE).header("Retry-After", "5")
                .entity(Problem.of(503, "Index not ready", e.getMessage())).build();
    }

    @ServerExceptionMapper
    public Response notAuthenticated(NotAuthenticatedException e) {
        return Response.status(401).type(Problem.MEDIA_TYPE).header("WWW-Authenticate", "Bearer realm=\"offload-gateway\"")
                .entity(Problem.of(401, "Unauthorized", e.getMessage())).build();
    }

    @ServerExceptionMapper
    public Response accessDenied(AccessDeniedException e) {
        return problem(Problem.of(403, "Forbidden", e.getMessage()));
    }

    @ServerExceptionMapper
    public Response malformedJson(JsonProcessingException e) {
        String field = null;
        if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
            field = jsonPath(m.getPath());
        }
        String detail = e instanceof MismatchedInputException || e instanceof InvalidFormatException
                ? "wrong type or shape" + (field == null ? "" : " at " + field)
                : "malformed JSON: " + e.getOriginalMessage();
        List<Problem.FieldError> errors = field == null ? null : List.of(new Problem.FieldError(field, "wrong type or shape"));
        return problem(new Problem("about:blank", "Invalid request", 400, detail, null, errors));
    }

    /** More specific than Quarkus' own mapper for this type, which answers with an empty body. */
    @ServerExceptionMapper
    public Response mismatchedInput(MismatchedInputException e) {
        return malformedJson(e);
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e) {
        int status = e.getResponse().getStatus();
        Throwable cause = e.getCause();
        if (cause instanceof JsonProcessingException j) {
            return malformedJson(j);
        }
        String title = Response.Status.fromStatusCode(status) == null ? "Error"
                : Response.Status.fromStatusCode(status).getReasonPhrase();
        return problem(Problem.of(status, title, e.getMessage()));
    }

    /** Bytes the JSON reader cannot even decode (e.g. a body Jackson takes for UTF-32): the client's fault. */
    @ServerExceptionMapper
    public Response undecodable(java.io.CharConversionException e) {
        return problem(Problem.of(400, "Invalid request", "unreadable body: not JSON text in UTF-8, UTF-16 or UTF-32"));
    }

    /** Checked failures nothing above claims: still problem+json, never the server's plain-text page. */
    @ServerExceptionMapper
    public Response unexpectedChecked(Exception e) {
        if (e instanceof java.io.IOException && e.getMessage() != null && e.getMessage().contains("too large")) {
            // Vert.x stopped reading a chunked body over the size limit (the response may already be out).
            return problem(Problem.of(413, "Payload too large", "the request body is over the size limit"));
        }
        if (clientGone(e)) {
            // The client closed the connection (or the gateway closed it: a body past its deadline)
            // while its body was read: nobody will see an answer, and an abuser must not fill the log.
            LOG.debugf("request body not read, connection closed: %s", e.getMessage());
            return problem(Problem.of(400, "Invalid request", "the connection closed before the body was read"));
        }
        LOG.error("request failed", e);
        return problem(Problem.of(500, "Internal error", "the gateway could not complete the request"));
    }

    private static boolean clientGone(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof io.vertx.core.http.HttpClosedException) {
                return true;
            }
        }
        return false;
    }

    @ServerExceptionMapper
    public Response unexpected(RuntimeException e) {
        LOG.error("request failed", e);
        return problem(Problem.of(500, "Internal error", "the gateway could not complete the request"));
    }

    private static String jsonPath(List<JsonMappingException.Reference> path) {
        StringBuilder b = new StringBuilder();
        for (JsonMappingException.Reference r : path) {
            if (r.getFieldName() != null) {
                if (!b.isEmpty()) {
                    b.append('.');
                }
                b.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                b.append('[').append(r.getIndex()).append(']');
            }
        }
        return b.toString();
    }
}
