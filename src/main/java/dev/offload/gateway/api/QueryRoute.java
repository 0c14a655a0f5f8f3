package dev.offload.gateway.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offload.gateway.api.QueryApi.HintedProblem;
import dev.offload.gateway.api.QueryApi.QueryResponse;
import dev.offload.gateway.pipeline.Query;
import dev.offload.gateway.pipeline.QueryEvent;
import dev.offload.gateway.pipeline.QueryFailedException;
import dev.offload.gateway.pipeline.QueryPipeline;
import dev.offload.gateway.retrieval.IndexNotReadyException;
import dev.offload.gateway.retrieval.InvalidRequestException;
import io.opentelemetry.api.trace.Span;
import io.smallrye.mutiny.subscription.Cancellable;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code POST /v1/query}: the device's RAG query. JSON answer by default; with
 * {@code Accept: text/event-stream} an SSE stream of {@code sources}, {@code token}…, then
 * {@code final} or {@code error}. A Vert.x route, like the chat endpoint, so a disconnect
 * cancels the backend call at once and the stream's framing is exact.
 *
 * <p>Status line and headers wait for the first token, the end, or a short grace after the
 * sources: a refusal that comes at once (full queue, open circuits) is still a real 429/503 with
 * {@code Retry-After}; a later failure is an {@code error} event. Either carries the hint.
 */
@ApplicationScoped
public class QueryRoute {
    private static final Logger LOG = Logger.getLogger(QueryRoute.class);
    /** How long the sources may wait for the generation's admission before the stream opens. */
    static final long HEADER_GRACE_MS = 50;

    @Inject
    QueryPipeline pipeline;
    @Inject
    ObjectMapper json;
    @Inject
    dev.offload.gateway.security.TenantGenerationLimiter tenantLimiter;
    @Inject
    dev.offload.gateway.offload.OffloadAdvisor advisor;
    @Inject
    RequestAccounting accounting;
    @Inject
    GatewayOverhead overhead;

    void register(@Observes Router router) {
        GatewayOverhead.stampArrival(router, "/v1/query");
        router.post("/v1/query")
                .handler(BodyHandler.create().setBodyLimit(1024 * 1024))
                .handler(this::handle)
                .failureHandler(ctx -> {
                    if (ctx.statusCode() == 413) { // the body handler's own limit: problem+json like every error
                        problem(ctx.response(), new Problem("about:blank", "Payload too large", 413,
                                "the request body is over 1 MiB", null, null), null);
                    } else {
                        ctx.next();
                    }
                });
    }

    private void handle(RoutingContext ctx) {
        Query query;
        try {
            Buffer body = ctx.body().buffer();
            QueryApi.QueryRequest req = body == null || body.length() == 0 ? null
                    : json.readValue(body.getBytes(), QueryApi.QueryRequest.class);
            query = QueryApi.toQuery(req);
            pipeline.validate(query);
        } catch (JsonProcessingException e) {
            problem(ctx.response(), ProblemMappers.jsonProblem(e), null);
            return;
        } catch (InvalidRequestException e) {
            invalid(ctx.response(), e);
            return;
        } catch (java.io.IOException e) {
            problem(ctx.response(), Problem.of(400, "Invalid request", "unreadable body"), null);
            return;
        }
        String tenant = Callers.tenant();
        RequestAccounting.Ticket ticket = accounting.accept(RequestAccounting.QUERY, "http");
        var permit = tenantLimiter.tryAcquire(tenant);
        if (permit.isEmpty()) {
            ticket.end(RequestAccounting.Outcome.SHED);
            dev.offload.gateway.security.SecurityMetrics.limitRejected("tenant_generations", "http");
            long retryMs = tenantLimiter.retryAfterSeconds() * 1000;
            var hint = advisor.forUnknownDevice(query.text(), retryMs, "tenant_generations");
            ctx.response().putHeader("X-Offload-Hint", hint.target().name());
            send(ctx.response(), 429, new HintedProblem("about:blank", "Too Many Requests", 429, "this tenant already has "
                    + tenantLimiter.maxPerTenant() + " queries and generations in flight", "tenant_generations", retryMs, hint), retryMs);
            return;
        }
        String accept = ctx.request().getHeader("Accept");
        boolean sse = accept != null && accept.contains("text/event-stream");
        new Exchange(ctx, sse, ticket).run(tenant, query, permit.get());
    }

    private final class Exchange {
        private final RoutingContext ctx;
        private final HttpServerResponse response;
        private final boolean sse;
        private final AtomicBoolean ended = new AtomicBoolean();
        private QueryEvent.Sources sources;
        private boolean headersSent;
        private long graceTimer = -1;
        private volatile Cancellable subscription;
        private final RequestAccounting.Ticket ticket;
        /** The server span of this request (Quarkus' HTTP instrumentation), to which the outcome is added. */
        private final Span serverSpan = Span.current();
        private final long arrivalNanos;
        /** When the first token went out on a stream (the overhead's end there); 0 before. */
        private long firstByteNanos;

        Exchange(RoutingContext ctx, boolean sse, RequestAccounting.Ticket ticket) {
            this.arrivalNanos = GatewayOverhead.arrival(ctx);
            this.ticket = ticket;
            this.ctx = ctx;
            this.response = ctx.response();
            this.sse = sse;
        }

        void run(String tenant, Query q, dev.offload.gateway.security.TenantGenerationLimiter.Permit permit) {
            response.closeHandler(v -> {
                if (ended.compareAndSet(false, true)) {
                    ticket.cancelled();
                    Cancellable s = subscription;
                    if (s != null) {
                        s.cancel(); // the device went away: stop retrieval's follow-up and the backend call
                    }
                }
            });
            try {
                subscription = pipeline.run(tenant, q, null)
                        .onTermination().invoke(permit::release) // also when the device goes away
                        .subscribe().with(this::onEvent, this::onFailure, this::onComplete);
            } catch (RuntimeException e) {
                permit.release();
                onFailure(e);
                return;
            }
            if (ended.get()) {
                subscription.cancel();
            }
        }

        private synchronized void onEvent(QueryEvent e) {
            if (ended.get()) {
                return;
            }
            if (e instanceof QueryEvent.Sources s) {
                sources = s;
                if (sse) {
                    graceTimer = ctx.vertx().setTimer(HEADER_GRACE_MS, id -> openStream());
                }
            } else if (e instanceof QueryEvent.Token t) {
                if (sse) {
                    openStream();
                    response.write(event("token", Map.of("text", t.text())));
                    if (firstByteNanos == 0) {
                        firstByteNanos = System.nanoTime();
                    }
                }
            } else if (e instanceof QueryEvent.Final f) {
                ended.set(true);
                ticket.completed();
                if (sse) {
                    openStream();
                    Map<String, Object> data = new LinkedHashMap<>();
                    data.put("servedBy", f.servedBy());
                    data.put("hint", f.hint());
                    data.put("timings", f.timings());
                    if (f.fallbackReason() != null) {
                        data.put("fallbackReason", f.fallbackReason());
                    }
                    if (f.cacheSimilarity() != null) {
                        data.put("cacheSimilarity", f.cacheSimilarity());
                    }
                    measured(f); // before the end: the server span ends with the response
                    response.end(event("final", data));
                } else {
                    QueryResponse r = new QueryResponse(f.answer(), sources == null ? List.of() : sources.sources(),
                            f.servedBy(), f.hint(), f.timings(), f.fallbackReason(), f.cacheSimilarity());
                    measured(f);
                    response.setStatusCode(200).putHeader("Content-Type", "application/json")
                            .putHeader("X-Offload-Served-By", f.servedBy())
                            .putHeader("X-Offload-Hint", f.hint().target().name())
                            .end(write(r));
                }
            }
        }

        /** The answer's outcome on the server span, and the gateway's own share of its time. */
        private void measured(QueryEvent.Final f) {
            overhead.recordQuery(serverSpan, sse, arrivalNanos, firstByteNanos, f);
        }

        /** Status, headers and the buffered sources go out once; later events stream behind them. */
        private synchronized void openStream() {
            // headWritten: a refusal sent as problem+json on another thread while the grace timer
            // was already queued behind this lock (cancelling it then is too late)
            if (headersSent || ended.get() && !sse || response.headWritten()) {
                return;
            }
            headersSent = true;
            if (graceTimer >= 0) {
                ctx.vertx().cancelTimer(graceTimer);
            }
            response.setStatusCode(200).putHeader("Content-Type", "text/event-stream")
                    .putHeader("Cache-Control", "no-cache").setChunked(true);
            if (sources != null) {
                response.write(event("sources", Map.of("sources", sources.sources())));
            }
        }

        /** The pipeline always ends with a final event or a failure; should it not, the device still gets an end. */
        private synchronized void onComplete() {
            if (!ended.get()) {
                ticket.unterminated();
                onFailure(new QueryFailedException("incomplete", 502, null, null, headersSent,
                        "the answer ended without a final event", null));
            }
        }

        private synchronized void onFailure(Throwable failure) {
            if (!ended.compareAndSet(false, true)) {
                return;
            }
            ticket.failed(failure);
            if (graceTimer >= 0) {
                ctx.vertx().cancelTimer(graceTimer);
            }
            if (failure instanceof InvalidRequestException e) {
                invalid(response, e);
                return;
            }
            if (failure instanceof IndexNotReadyException e) {
                var hint = advisor.forUnknownDevice("", 5000, "index_not_ready");
                response.putHeader("X-Offload-Hint", hint.target().name());
                send(response, 503, new HintedProblem("about:blank", "Index not ready", 503, e.getMessage(), "index_not_ready",
                        5000L, hint), 5000L);
                return;
            }
            QueryFailedException q = failure instanceof QueryFailedException x ? x
                    : new QueryFailedException("internal_error", 500, null, null, false, "the query failed", failure);
            if (q.getCause() instanceof dev.offload.gateway.generation.BackendRefusedException) {
                LOG.warnf("query failed: %s", q.getMessage()); // the backend's words say it all; no stack to read
            } else if (q.status() >= 500 && !(q.getCause() instanceof dev.offload.gateway.generation.GenerationRejectedException)
                    && !q.afterTokens()) {
                LOG.error("query failed", failure);
            }
            if (sse && headersSent) {
                Map<String, Object> data = new LinkedHashMap<>();
                data.put("reason", q.reason());
                data.put("detail", q.getMessage());
                data.put("status", q.status());
                if (q.retryAfterMs() != null) {
                    data.put("retryAfterMs", q.retryAfterMs());
                }
                data.put("hint", q.hint());
                response.end(event("error", data));
                return;
            }
            String title = switch (q.status()) {
                case 429 -> "Too Many Requests";
                case 503 -> "Service Unavailable";
                case 502 -> "Bad Gateway";
                default -> "Internal error";
            };
            if (q.hint() != null) {
                response.putHeader("X-Offload-Hint", q.hint().target().name());
            }
            send(response, q.status(), new HintedProblem("about:blank", title, q.status(), q.getMessage(), q.reason(),
                    q.retryAfterMs(), q.hint()), q.retryAfterMs());
        }
    }

    private Buffer event(String name, Object data) {
        return Buffer.buffer("event: " + name + "\ndata: " + write(data) + "\n\n");
    }

    private String write(Object o) {
        try {
            return json.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private void invalid(HttpServerResponse r, InvalidRequestException e) {
        List<Problem.FieldError> errors = e.violations().stream()
                .map(v -> new Problem.FieldError(v.field(), v.message())).toList();
        problem(r, new Problem("about:blank", e.status() == 413 ? "Payload too large" : "Invalid request", e.status(),
                e.getMessage(), null, errors), null);
    }

    private void problem(HttpServerResponse r, Problem p, Long retryAfterMs) {
        send(r, p.status(), p, retryAfterMs);
    }

    private void send(HttpServerResponse r, int status, Object body, Long retryAfterMs) {
        if (r.ended() || r.closed()) {
            return;
        }
        if (retryAfterMs != null) {
            r.putHeader("Retry-After", Long.toString(Math.max(1, (retryAfterMs + 999) / 1000)));
        }
        r.setStatusCode(status).putHeader("Content-Type", Problem.MEDIA_TYPE).end(write(body));
    }
}
