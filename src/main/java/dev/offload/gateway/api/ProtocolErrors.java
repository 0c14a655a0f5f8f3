package dev.offload.gateway.api;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Requests the REST port cannot take as HTTP/1.1: an HTTP/2 client's connection preface
 * ({@code PRI * HTTP/2.0}, which the HTTP/1.1 codec reads as a request without an authority) fails
 * in Vert.x before any route; Quarkus's default answer is a JSON object with a stack trace. This
 * answers problem+json instead and says where HTTP/2 is spoken (gRPC's own port), then closes the
 * connection. Every other failure goes on to the handlers that own it.
 */
@Singleton
public class ProtocolErrors {
    /** Before every other failure handler on the router. */
    static final int ORDER = Integer.MIN_VALUE + 100;

    @ConfigProperty(name = "quarkus.grpc.server.port", defaultValue = "9000")
    int grpcPort;

    void register(@Observes Router router) {
        // Depending on how far Vert.x gets with the preface, it reaches the routes (no route takes
        // the method PRI: Vert.x would answer a bare 501) or fails before them: both are caught.
        router.route().order(ORDER).handler(this::failed).failureHandler(this::failed);
    }

    void failed(RoutingContext ctx) {
        HttpVersion version = ctx.request().version();
        if (ctx.response().ended() || version == HttpVersion.HTTP_1_1 || version == HttpVersion.HTTP_1_0) {
            ctx.next();
            return;
        }
        String detail = "this port speaks HTTP/1.1 only (REST, SSE and the OpenAI-compatible API); HTTP/2 and gRPC"
                + " are served on port " + grpcPort + " (quarkus.grpc.server.port)";
        ctx.response().setStatusCode(505)
                .putHeader(HttpHeaders.CONTENT_TYPE, Problem.MEDIA_TYPE)
                .putHeader(HttpHeaders.CONNECTION, "close")
                .end(new JsonObject().put("type", "about:blank").put("title", "HTTP Version Not Supported")
                        .put("status", 505).put("detail", detail).encode());
    }
}
