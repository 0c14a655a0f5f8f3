package dev.offload.gateway.security;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;


/**
 * Bounds what a slow client can hold, so it cannot take from other tenants: a REST request whose
 * body has not fully arrived {@code gateway.limits.request-body-timeout} after its headers is
 * answered 408 ({@code application/problem+json}) and its connection closed. Vert.x has no such
 * deadline of its own: its idle timeout is reset by every byte, so a body trickled a byte at a
 * time would hold the connection (and whatever the route buffered) for as long as the client
 * likes. (PING floods cannot reach the REST port, which speaks HTTP/1.1 only; the gRPC port's
 * keep-alive policy bounds them there: see application.properties.)
 *
 * <p>Runs on the event loop, before {@link HttpSecurityFilter} (so unauthenticated connections
 * are bounded too); does no blocking work.
 */
@Singleton
public class ConnectionGuard {
    static final int ORDER = HttpSecurityFilter.ORDER - 1;
    private static final String BODY_TIMED_OUT = "gateway.body-timed-out";

    @Inject
    LimitsConfig limits;
    @Inject
    Vertx vertx;

    void register(@Observes Router router) {
        router.route().order(ORDER).handler(this::handle).failureHandler(ctx -> {
            if (ctx.get(BODY_TIMED_OUT) != null) {
                // Answered 408 already; the route still reading the body fails on the closed
                // connection. Not an error worth a log line per abusive request.
                return;
            }
            ctx.next();
        });
    }

    void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        if (bodyPending(request)) {
            armBodyDeadline(ctx);
        }
        ctx.next();
    }

    /** Whether a body is still to come: HTTP/1 says so in its headers, HTTP/2 by not having ended the stream. */
    static boolean bodyPending(HttpServerRequest request) {
        if (request.isEnded()) {
            return false;
        }
        if (request.version() == HttpVersion.HTTP_2) {
            return true;
        }
        String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length != null) {
            return !length.strip().equals("0");
        }
        return request.headers().contains(HttpHeaders.TRANSFER_ENCODING, HttpHeaders.CHUNKED, true);
    }

    private void armBodyDeadline(RoutingContext ctx) {
        long timeoutMs = Math.max(1, limits.requestBodyTimeout().toMillis());
        long timer = vertx.setTimer(timeoutMs, id -> {
            HttpServerRequest request = ctx.request();
            HttpServerResponse response = ctx.response();
            if (request.isEnded() || response.headWritten() || response.ended() || response.closed()) {
                return;
            }
            SecurityMetrics.limitRejected("request_body_timeout", SecurityMetrics.HTTP);
            ctx.put(BODY_TIMED_OUT, Boolean.TRUE);
            boolean http1 = request.version() != HttpVersion.HTTP_2;
            if (http1) {
                // The rest of the body would be read as the next request: this connection is done.
                response.putHeader(HttpHeaders.CONNECTION, "close");
            }
            HttpSecurityFilter.problem(ctx, 408, "Request Timeout", "the request body did not arrive within "
                            + timeoutMs + " ms (gateway.limits.request-body-timeout)")
                    .onComplete(done -> {
                        if (http1) {
                            request.connection().close();
                        }
                    });
        });
        ctx.addEndHandler(done -> vertx.cancelTimer(timer));
    }
}
