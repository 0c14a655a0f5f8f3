package dev.offload.gateway.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.JsonMappingException;
import dev.offload.gateway.retrieval.IndexNotReadyException;
import dev.offload.gateway.retrieval.InvalidRequestException;
import dev.offload.gateway.security.AccessDeniedException;
import dev.offload.gateway.security.NotAuthenticatedException;
import jakarta.ws.rs.NotAcceptableException;
import jakarta.ws.rs.NotSupportedException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
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
    public Response writesUnavailable(dev.offload.gateway.retrieval.WritesUnavailableException e) {
        return Response.status(503).type(Problem.MEDIA_TYPE).header("Retry-After", Integer.toString(e.retryAfterSeconds()))
                .entity(Problem.of(503, "Writes unavailable", e.getMessage())).build();
    }

    @ServerExceptionMapper
    public Response sequenceNotReached(dev.offload.gateway.retrieval.SequenceNotReachedException e) {
        return Response.status(503).type(Problem.MEDIA_TYPE).header("Retry-After", "1")
                .entity(Problem.of(503, "Sequence not reached", e.getMessage())).build();
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
        return problem(jsonProblem(e));
    }

    /** More specific than Quarkus' own mapper for this type, which answers with an empty body. */
    @ServerExceptionMapper
    public Response mismatchedInput(MismatchedInputException e) {
        return malformedJson(e);
    }

    /**
     * A body Jackson refused, in the words of the API rather than of Java: the offending field as
     * a JSON path, and what it must be ("k must be a whole number"), never a Java type name. Also
     * used by the Vert.x routes ({@code /v1/query}) so every endpoint says it the same way.
     */
    public static Problem jsonProblem(JsonProcessingException e) {
        // Collection deserializers wrap a parser's refusal in a JsonMappingException with a path.
        Throwable parse = e instanceof JsonMappingException && e.getCause() instanceof StreamReadException c ? c : e;
        if (parse instanceof StreamReadException r && r.getOriginalMessage() != null
                && r.getOriginalMessage().startsWith("Duplicate field")) {
            String field = duplicatePath(r);
            return invalid("duplicate field '" + field + "': a field may appear only once in an object",
                    field, "appears more than once");
        }
        if (parse instanceof StreamReadException r) {
            return invalid("malformed JSON: " + r.getOriginalMessage(), null, null);
        }
        if (e instanceof UnrecognizedPropertyException u) {
            String field = jsonPath(u.getPath());
            List<String> known = u.getKnownPropertyIds() == null ? List.of()
                    : u.getKnownPropertyIds().stream().map(String::valueOf).sorted().toList();
            String message = "unknown field" + (known.isEmpty() ? "" : "; known fields here: " + String.join(", ", known));
            return invalid("unknown field '" + field + "'" + (known.isEmpty() ? "" : " (known fields here: "
                    + String.join(", ", known) + ")"), field, message);
        }
        if (e instanceof MismatchedInputException m) {
            String field = m.getPath().isEmpty() ? null : jsonPath(m.getPath());
            String kind = kind(m.getTargetType());
            if (field == null || field.isEmpty()) {
                return invalid("the body must be " + (kind == null ? "a JSON object" : kind), null, null);
            }
            String message = kind == null ? "has the wrong type or shape" : "must be " + kind;
            return invalid(field + " " + message, field, message);
        }
        if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
            String field = jsonPath(m.getPath());
            return invalid(field + " has the wrong type or shape", field, "has the wrong type or shape");
        }
        return invalid("malformed JSON: " + e.getOriginalMessage(), null, null);
    }

    private static Problem invalid(String detail, String field, String message) {
        List<Problem.FieldError> errors = field == null ? null : List.of(new Problem.FieldError(field, message));
        return new Problem("about:blank", "Invalid request", 400, detail, null, errors);
    }

    /** What a JSON value of this Java type looks like to a client; null when it has no plain name. */
    static String kind(Class<?> type) {
        if (type == null) {
            return null;
        }
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class
                || type == Short.class || type == short.class || type == java.math.BigInteger.class) {
            return "a whole number";
        }
        if (Number.class.isAssignableFrom(type) || type == double.class || type == float.class) {
            return "a number";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type == String.class || CharSequence.class.isAssignableFrom(type)) {
            return "a string";
        }
        if (type.isEnum()) {
            return "one of " + java.util.Arrays.stream(type.getEnumConstants())
                    .map(c -> "'" + c.toString().toLowerCase(java.util.Locale.ROOT) + "'")
                    .collect(Collectors.joining(", "));
        }
        if (type.isArray() || java.util.Collection.class.isAssignableFrom(type)) {
            return "an array";
        }
        if (java.util.Map.class.isAssignableFrom(type) || type.isRecord()) {
            return "an object";
        }
        return null;
    }

    /** The JSON path of a field seen twice: the parser's context at the moment it refused. */
    private static String duplicatePath(StreamReadException e) {
        JsonParser parser = e.getProcessor();
        JsonStreamContext context = parser == null ? null : parser.getParsingContext();
        java.util.ArrayDeque<String> parts = new java.util.ArrayDeque<>();
        for (JsonStreamContext c = context; c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inObject() && c.getCurrentName() != null) {
                parts.addFirst(c.getCurrentName());
            } else if (c.inArray()) {
                parts.addFirst("[" + Math.max(0, c.getCurrentIndex()) + "]");
            }
        }
        if (parts.isEmpty()) {
            String m = e.getOriginalMessage();
            int a = m.indexOf('\''), b = m.lastIndexOf('\'');
            return a >= 0 && b > a ? m.substring(a + 1, b) : "?";
        }
        StringBuilder b = new StringBuilder();
        for (String part : parts) {
            if (!b.isEmpty() && !part.startsWith("[")) {
                b.append('.');
            }
            b.append(part);
        }
        return b.toString();
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e, HttpHeaders headers, io.vertx.ext.web.RoutingContext routing) {
        int status = e.getResponse().getStatus();
        if (answered(routing)) {
            // Vert.x already answered (413 on a chunked body over the size limit; what Jackson then
            // read was a truncated body): a second answer would be a write on a finished response.
            return Response.status(status).build();
        }
        Throwable cause = e.getCause();
        if (cause instanceof JsonProcessingException j) {
            return malformedJson(j);
        }
        if (e instanceof NotSupportedException) {
            return problem(Problem.of(415, "Unsupported Media Type", unsupported(headers)));
        }
        if (e instanceof NotAcceptableException) {
            return problem(Problem.of(406, "Not Acceptable", notAcceptable(headers)));
        }
        String title = Response.Status.fromStatusCode(status) == null ? "Error"
                : Response.Status.fromStatusCode(status).getReasonPhrase();
        return problem(Problem.of(status, title, e.getMessage()));
    }

    private static String unsupported(HttpHeaders headers) {
        String sent = headers == null ? null : headers.getHeaderString(HttpHeaders.CONTENT_TYPE);
        return "the body must be JSON, sent with 'Content-Type: application/json'; this request "
                + (sent == null || sent.isBlank() ? "had no Content-Type" : "was sent as '" + sent + "'");
    }

    private static String notAcceptable(HttpHeaders headers) {
        String accept = headers == null ? null : headers.getHeaderString(HttpHeaders.ACCEPT);
        return "this endpoint answers in JSON ('application/json', errors 'application/problem+json'), but the request's"
                + " 'Accept: " + accept + "' allows neither; send 'Accept: application/json' or no Accept header";
    }

    /** Bytes the JSON reader cannot even decode (e.g. a body Jackson takes for UTF-32): the client's fault. */
    @ServerExceptionMapper
    public Response undecodable(java.io.CharConversionException e) {
        return problem(Problem.of(400, "Invalid request", "unreadable body: not JSON text in UTF-8, UTF-16 or UTF-32"));
    }

    /** Checked failures nothing above claims: still problem+json, never the server's plain-text page. */
    @ServerExceptionMapper
    public Response unexpectedChecked(Exception e, io.vertx.ext.web.RoutingContext routing) {
        if (e instanceof java.io.IOException && e.getMessage() != null && e.getMessage().contains("too large")) {
            // Vert.x stopped reading a chunked body over the size limit (and may have answered 413).
            if (answered(routing)) {
                return Response.status(413).build();
            }
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

    /** Whether the response is already out: then a mapper may set a status but write no entity. */
    private static boolean answered(io.vertx.ext.web.RoutingContext routing) {
        return routing != null && routing.response().ended();
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
