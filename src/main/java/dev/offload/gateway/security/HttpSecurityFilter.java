package dev.offload.gateway.security;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;


/**
 * The HTTP side of device identity: a Vert.x route filter ordered before every other route, so
 * it covers Quarkus REST resources and plain Vert.x routes ({@code /v1/chat/completions}) alike.
 * For every path outside {@code /q/} (health, metrics) it authenticates the bearer key, applies
 * the device's rate limit and the body size limit, and binds the {@link Caller} for
 * {@link CurrentCaller}; otherwise it answers {@code application/problem+json} itself: 401 with
 * {@code WWW-Authenticate}, 429 with {@code Retry-After}, 413.
 *
 * <p>gRPC calls never reach the router (their own server and port): {@link GrpcSecurityInterceptor}
 * decides them, so refusals carry gRPC status codes. Anything that slips past both finds no
 * caller bound and {@link CurrentCaller} refuses it.
 *
 * <p>Runs on the event loop; does no blocking work.
 */
@Singleton
public class HttpSecurityFilter {
    /** Before Quarkus REST (and everything else registered with a default order). */
    static final int ORDER = -10_000;
    static final String PUBLIC_PREFIX = "/q/";
    private static final String REALM = "Bearer realm=\"offload-gateway\"";

    @Inject
    Authenticator authenticator;
    @Inject
    LimitsConfig limits;

    void register(@Observes Router router) {
        router.route().order(ORDER).handler(this::handle);
    }

    void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        String path = ctx.normalizedPath();
        // gRPC has its own server and port (GrpcSecurityInterceptor): nothing on the router skips this.
        if (path.startsWith(PUBLIC_PREFIX)) {
            ctx.next();
            return;
        }
        Authenticator.Decision decision = authenticator.authenticate(
                request.getHeader(HttpHeaders.AUTHORIZATION), SecurityMetrics.HTTP);
        if (decision instanceof Authenticator.Refused r) {
            refuse(ctx, r);
            return;
        }
        Caller caller = ((Authenticator.Admitted) decision).caller();
        String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length != null) {
            long max = limits.maxBodySize().asLongValue();
            long n;
            try {
                n = Long.parseLong(length.strip());
            } catch (NumberFormatException e) {
                problem(ctx, 400, "Invalid request", "Content-Length is not a number");
                return;
            }
            if (n > max) {
                SecurityMetrics.limitRejected("body_size", SecurityMetrics.HTTP);
                problem(ctx, 413, "Payload too large", "the body is " + n + " bytes; at most " + max
                        + " are accepted (gateway.limits.max-body-size)");
                return;
            }
        }
        CurrentCaller.bindToVertxContext(caller);
        ctx.next();
    }

    private static void refuse(RoutingContext ctx, Authenticator.Refused r) {
        switch (r.refusal()) {
            case MISSING_KEY -> {
                ctx.response().putHeader("WWW-Authenticate", REALM);
                problem(ctx, 401, "Unauthorized", r.detail());
            }
            case INVALID_KEY -> {
                ctx.response().putHeader("WWW-Authenticate", REALM + ", error=\"invalid_token\"");
                problem(ctx, 401, "Unauthorized", r.detail());
            }
            case RATE_LIMITED -> {
                ctx.response().putHeader(HttpHeaders.RETRY_AFTER, Long.toString(r.retryAfterSeconds()));
                // The offload hint every 429 carries, so the device stays local instead of retrying.
                // Built here without the policy: this filter runs before anything else, and the
                // answer does not depend on the gateway's state: the device itself is over its rate.
                long retryMs = r.retryAfterSeconds() * 1000;
                tagUnrouted(ctx);
                ctx.response().putHeader("X-Offload-Hint", "LOCAL");
                ctx.response().setStatusCode(429).putHeader(HttpHeaders.CONTENT_TYPE, "application/problem+json")
                        .end(new JsonObject().put("type", "about:blank").put("title", "Too Many Requests").put("status", 429)
                                .put("detail", r.detail()).put("reason", "device_rate").put("retryAfterMs", retryMs)
                                .put("hint", new JsonObject().put("target", "LOCAL")
                                        .put("reasons", new io.vertx.core.json.JsonArray().add(new JsonObject()
                                                .put("code", "GATEWAY_REFUSED").put("detail", "this device is over its request rate")))
                                        .put("validForMs", Math.max(1000, retryMs)).put("retryAfterMs", retryMs)).encode());
            }
        }
    }

    /**
     * The {@code uri} tag of {@code http.server.requests} for a request answered before routing.
     * Quarkus tags an answer with its route template, and with the raw path when there is none —
     * for a 4xx too — so a 401 on {@code /v1/documents/secret-doc-1} would put the document id
     * (and every path a scanner tries) into {@code /q/metrics}: a leak and a cardinality bomb.
     * Micrometer's own word for "no route" is used (Quarkus puts a slash in front of any template).
     */
    static final String UNROUTED_URI = "/UNKNOWN";
    /** The Vert.x context local Quarkus' HTTP metrics read the route template from (set by Quarkus REST). */
    private static final String URL_PATH_TEMPLATE = "UrlPathTemplate";

    /** Unless a route already named its template (a 408 mid-body, say): {@link #UNROUTED_URI}. */
    static void tagUnrouted(RoutingContext ctx) {
        if (ctx.request() instanceof io.vertx.core.http.impl.HttpServerRequestInternal r && r.context() != null
                && r.context().getLocal(URL_PATH_TEMPLATE) == null) {
            r.context().putLocal(URL_PATH_TEMPLATE, UNROUTED_URI);
        }
    }

    /** RFC 9457 problem details, the shape of every gateway error. */
    static io.vertx.core.Future<Void> problem(RoutingContext ctx, int status, String title, String detail) {
        tagUnrouted(ctx);
        return ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/problem+json")
                .end(new JsonObject().put("type", "about:blank").put("title", title).put("status", status)
                        .put("detail", detail).encode());
    }
}
