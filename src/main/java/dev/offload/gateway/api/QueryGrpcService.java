package dev.offload.gateway.api;

import dev.offload.gateway.api.grpc.DecideRequest;
import dev.offload.gateway.api.grpc.Estimates;
import dev.offload.gateway.api.grpc.Hint;
import dev.offload.gateway.api.grpc.QueryError;
import dev.offload.gateway.api.grpc.QueryEvent;
import dev.offload.gateway.api.grpc.QueryFinal;
import dev.offload.gateway.api.grpc.QueryRequest;
import dev.offload.gateway.api.grpc.QueryService;
import dev.offload.gateway.api.grpc.QuerySource;
import dev.offload.gateway.api.grpc.QuerySources;
import dev.offload.gateway.api.grpc.QueryToken;
import dev.offload.gateway.api.grpc.Reason;
import dev.offload.gateway.api.grpc.Target;
import dev.offload.gateway.api.grpc.Timings;
import dev.offload.gateway.api.grpc.Turn;
import dev.offload.gateway.offload.OffloadAdvisor;
import dev.offload.gateway.offload.OffloadConfig;
import dev.offload.gateway.offload.policy.OffloadHint;
import dev.offload.gateway.offload.policy.OffloadPolicy;
import dev.offload.gateway.pipeline.QueryFailedException;
import dev.offload.gateway.pipeline.QueryPipeline;
import dev.offload.gateway.retrieval.InvalidRequestException;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;

import java.util.ArrayList;
import java.util.List;

/**
 * gRPC {@code offload.v1.QueryService}: the same pipeline and policy as {@code /v1/query} and
 * {@code /v1/offload/decide}. The client's deadline becomes the query's latency budget (the
 * tighter of the two applies), so no backend call starts without time left to finish.
 */
@GrpcService
public class QueryGrpcService implements QueryService {
    @Inject
    dev.offload.gateway.offload.GatewayWatch gatewayWatch;
    @Inject
    QueryPipeline pipeline;
    @Inject
    OffloadAdvisor advisor;
    @Inject
    OffloadConfig config;
    /** The router weighs the question under the model it was trained on (the question model), remembered per tenant. */
    @Inject
    dev.offload.gateway.retrieval.QuestionVectors vectors;
    @Inject
    dev.offload.gateway.security.TenantGenerationLimiter tenantLimiter;
    @Inject
    RequestAccounting accounting;

    @Inject
    ReadYourWrites readYourWrites;

    @Inject
    GatewayOverhead overhead;

    @Override
    public Multi<QueryEvent> query(QueryRequest request) {
        long arrivalNanos = System.nanoTime();
        Long callerBudget = remainingMillis();
        String tenant;
        try {
            tenant = Callers.tenant();
        } catch (RuntimeException e) {
            return Multi.createFrom().failure(IndexGrpcService.toStatus(e));
        }
        long minSequence = GrpcReadYourWritesInterceptor.minSequence();
        if (minSequence < 0) {
            return query(request, callerBudget, tenant, arrivalNanos);
        }
        // Waits without a thread (read-your-writes), then runs the query on a worker, in this call's trace.
        Context trace = Context.current();
        return readYourWrites.await(minSequence)
                .emitOn(io.smallrye.mutiny.infrastructure.Infrastructure.getDefaultWorkerPool())
                .onItem().transformToMulti(v -> {
                    try (Scope ignored = trace.makeCurrent()) {
                        return query(request, callerBudget, tenant, arrivalNanos);
                    }
                })
                .onFailure().transform(IndexGrpcService::toStatus);
    }

    private Multi<QueryEvent> query(QueryRequest request, Long callerBudget, String tenant, long arrivalNanos) {
        try {
            QueryApi.QueryRequest r = new QueryApi.QueryRequest(request.getQuery(), turns(request.getHistoryList()),
                    request.getK() == 0 ? null : request.getK(), request.getFilterMap(), emptyToNull(request.getSensitivity()),
                    request.hasLatencyBudgetMs() ? request.getLatencyBudgetMs() : null,
                    request.hasDevice() ? device(request.getDevice()) : null, emptyToNull(request.getGenerate()),
                    request.getMaxTokens() == 0 ? null : request.getMaxTokens(),
                    request.hasTemperature() ? request.getTemperature() : null, emptyToNull(request.getPriority()));
            var query = QueryApi.toQuery(r);
            pipeline.validate(query);
            RequestAccounting.Ticket ticket = accounting.accept(RequestAccounting.QUERY, "grpc");
            var permit = tenantLimiter.tryAcquire(tenant);
            if (permit.isEmpty()) {
                ticket.end(RequestAccounting.Outcome.SHED);
                dev.offload.gateway.security.SecurityMetrics.limitRejected("tenant_generations", "grpc");
                return Multi.createFrom().failure(io.grpc.Status.RESOURCE_EXHAUSTED.withDescription("this tenant already has "
                        + tenantLimiter.maxPerTenant() + " queries and generations in flight; retry after "
                        + tenantLimiter.retryAfterSeconds() + " s").asRuntimeException());
            }
            Multi<dev.offload.gateway.pipeline.QueryEvent> events;
            try {
                events = pipeline.run(tenant, query, callerBudget);
            } catch (RuntimeException e) {
                permit.get().release();
                ticket.failed(e);
                throw e;
            }
            Span serverSpan = Span.current();
            long[] firstByteNanos = {0};
            return events
                    .onTermination().invoke(permit.get()::release)
                    .onItem().invoke(e -> {
                        if (e instanceof dev.offload.gateway.pipeline.QueryEvent.Token && firstByteNanos[0] == 0) {
                            firstByteNanos[0] = System.nanoTime();
                        } else if (e instanceof dev.offload.gateway.pipeline.QueryEvent.Final f) {
                            overhead.recordQuery(serverSpan, true, arrivalNanos, firstByteNanos[0], f); // a gRPC answer is a stream
                        }
                    })
                    .map(QueryGrpcService::event)
                    .onFailure(f -> f instanceof QueryFailedException).recoverWithItem(f -> {
                        ticket.failed(f);
                        return error((QueryFailedException) f);
                    })
                    .onItem().invoke(e -> {
                        if (e.hasFinal()) {
                            ticket.completed();
                        }
                    })
                    // The pipeline always ends with a final event or a failure; should it not,
                    // the device still gets an explicit end.
                    .onCompletion().switchTo(() -> {
                        if (ticket.isEnded()) {
                            return Multi.createFrom().empty();
                        }
                        ticket.unterminated();
                        QueryFailedException incomplete = new QueryFailedException("incomplete", 502, null, null, true,
                                "the answer ended without a final event", null);
                        ticket.failed(incomplete);
                        return Multi.createFrom().item(error(incomplete));
                    })
                    .onFailure().invoke(ticket::failed)
                    .onCancellation().invoke(ticket::cancelled)
                    .onFailure().transform(IndexGrpcService::toStatus);
        } catch (RuntimeException e) {
            return Multi.createFrom().failure(IndexGrpcService.toStatus(e));
        }
    }

    @Override
    public Uni<Hint> decide(DecideRequest request) {
        try {
            if (request.getText().isBlank()) {
                throw InvalidRequestException.of("text", "must not be empty");
            }
            if (request.getHistoryTokens() < 0) {
                throw InvalidRequestException.of("history_tokens", "must be >= 0");
            }
            Long budget = request.hasLatencyBudgetMs() ? request.getLatencyBudgetMs() : null;
            Long deadline = remainingMillis();
            if (deadline != null) {
                budget = budget == null ? deadline : Math.min(budget, deadline);
            }
            if (budget != null && budget < 1) {
                throw InvalidRequestException.of("latency_budget_ms", "must be >= 1");
            }
            Integer maxTokens = request.hasMaxTokens() ? request.getMaxTokens() : null;
            if (maxTokens != null && maxTokens < 1) {
                throw InvalidRequestException.of("max_tokens", "must be >= 1");
            }
            var sensitivity = QueryApi.sensitivity("sensitivity", emptyToNull(request.getSensitivity()));
            boolean cached = request.getHistoryTokens() == 0 && pipeline.cachedExactly(Callers.tenant(), request.getText(), sensitivity);
            var device = request.hasDevice() ? QueryApi.device(device(request.getDevice())) : null;
            Long finalBudget = budget;
            boolean estimate = !cached && sensitivity != dev.offload.gateway.privacy.Sensitivity.RESTRICTED
                    && config.localQualityEnabled();
            // The router needs the question's embedding: CPU work, so on a worker, as REST's decide.
            String tenant = Callers.tenant();
            return Uni.createFrom().item(() -> estimate ? advisor.localQuality(request.getText(), vectors.vector(tenant, request.getText())) : null)
                    .runSubscriptionOn(io.smallrye.mutiny.infrastructure.Infrastructure.getDefaultWorkerPool())
                    .map(quality -> hint(advisor.decide(new OffloadPolicy.Input(device, request.getText(),
                            request.getHistoryTokens(), config.contextTokensEstimate(), OffloadAdvisor.level(sensitivity), finalBudget,
                            advisor.view(cached), quality, maxTokens))))
                    .onFailure().transform(IndexGrpcService::toStatus);
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(IndexGrpcService.toStatus(e));
        }
    }

    /**
     * The gateway's state, pushed ({@link dev.offload.gateway.offload.GatewayWatch}): the current
     * snapshot at once, then on change and at the heartbeat. A slow reader gets the latest snapshot,
     * never a backlog; a cancelled call closes its watcher.
     */
    @Override
    public Multi<dev.offload.gateway.api.grpc.GatewayState> watch(dev.offload.gateway.api.grpc.WatchRequest request) {
        dev.offload.gateway.security.Caller caller;
        try {
            caller = dev.offload.gateway.security.CurrentCaller.get();
        } catch (RuntimeException e) {
            return Multi.createFrom().failure(IndexGrpcService.toStatus(e));
        }
        return Multi.createFrom().<dev.offload.gateway.api.grpc.GatewayState>emitter(em -> {
            dev.offload.gateway.offload.WatchFeed.Watcher w;
            try {
                w = gatewayWatch.open(caller.tenant(), caller.device(), dev.offload.gateway.offload.GatewayWatch.GRPC, p -> em.emit(p.encoded(WatchMessages.PROTO)));
            } catch (dev.offload.gateway.offload.WatchFeed.LimitExceeded e) {
                dev.offload.gateway.security.SecurityMetrics.limitRejected("watchers_" + e.limit(), "grpc");
                em.fail(io.grpc.Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException());
                return;
            }
            em.onTermination(w::close);
        }, io.smallrye.mutiny.subscription.BackPressureStrategy.LATEST);
    }

    private static Long remainingMillis() {
        return GrpcDeadlineInterceptor.remainingMillis();
    }

    private static List<QueryApi.Turn> turns(List<Turn> turns) {
        List<QueryApi.Turn> out = new ArrayList<>(turns.size());
        for (Turn t : turns) {
            out.add(new QueryApi.Turn(t.getRole(), t.getContent()));
        }
        return out;
    }

    private static QueryApi.Device device(dev.offload.gateway.api.grpc.Device d) {
        var n = d.hasNetwork() ? d.getNetwork() : null;
        var m = d.hasLocalModel() ? d.getLocalModel() : null;
        return new QueryApi.Device(d.hasCpuUtil() ? d.getCpuUtil() : null, d.hasNpuUtil() ? d.getNpuUtil() : null,
                d.hasMemAvailableMb() ? d.getMemAvailableMb() : null, d.hasBatteryPct() ? d.getBatteryPct() : null,
                d.hasCharging() ? d.getCharging() : null, emptyToNull(d.getThermal()),
                n == null ? null : new QueryApi.NetworkInfo(emptyToNull(n.getType()), n.hasRttMs() ? n.getRttMs() : null,
                        n.hasDownlinkKbps() ? n.getDownlinkKbps() : null, n.hasUplinkKbps() ? n.getUplinkKbps() : null),
                m == null ? null : new QueryApi.LocalModelInfo(m.getName(), m.hasTokensPerSec() ? m.getTokensPerSec() : null,
                        m.hasMaxContextTokens() ? m.getMaxContextTokens() : null,
                        m.hasPrefillTokensPerSec() ? m.getPrefillTokensPerSec() : null,
                        m.hasContextTokens() ? m.getContextTokens() : null));
    }

    private static QueryEvent event(dev.offload.gateway.pipeline.QueryEvent e) {
        if (e instanceof dev.offload.gateway.pipeline.QueryEvent.Token t) {
            return QueryEvent.newBuilder().setToken(QueryToken.newBuilder().setText(t.text())).build();
        }
        if (e instanceof dev.offload.gateway.pipeline.QueryEvent.Sources s) {
            QuerySources.Builder b = QuerySources.newBuilder();
            for (var r : s.sources()) {
                b.addSources(QuerySource.newBuilder().setDocumentId(r.documentId()).setChunkId(r.chunkId())
                        .setTitle(r.title() == null ? "" : r.title()).setScore(r.score()).setSnippet(r.snippet()));
            }
            return QueryEvent.newBuilder().setSources(b).build();
        }
        var f = (dev.offload.gateway.pipeline.QueryEvent.Final) e;
        Timings.Builder t = Timings.newBuilder().setRetrieveMs(f.timings().retrieveMs()).setTotalMs(f.timings().totalMs());
        if (f.timings().queueMs() != null) {
            t.setQueueMs(f.timings().queueMs());
        }
        if (f.timings().ttftMs() != null) {
            t.setTtftMs(f.timings().ttftMs());
        }
        QueryFinal.Builder b = QueryFinal.newBuilder().setServedBy(f.servedBy()).setHint(hint(f.hint())).setTimings(t);
        if (f.fallbackReason() != null) {
            b.setFallbackReason(f.fallbackReason());
        }
        if (f.cacheSimilarity() != null) {
            b.setCacheSimilarity(f.cacheSimilarity());
        }
        return QueryEvent.newBuilder().setFinal(b).build();
    }

    private static QueryEvent error(QueryFailedException q) {
        QueryError.Builder b = QueryError.newBuilder().setReason(q.reason())
                .setDetail(q.getMessage() == null ? "" : q.getMessage()).setHttpStatus(q.status());
        if (q.retryAfterMs() != null) {
            b.setRetryAfterMs(q.retryAfterMs());
        }
        if (q.hint() != null) {
            b.setHint(hint(q.hint()));
        }
        return QueryEvent.newBuilder().setError(b).build();
    }

    static Hint hint(OffloadHint h) {
        Hint.Builder b = Hint.newBuilder().setTarget(switch (h.target()) {
            case LOCAL -> Target.TARGET_LOCAL;
            case EDGE -> Target.TARGET_EDGE;
            case CLOUD -> Target.TARGET_CLOUD;
            case CACHE -> Target.TARGET_CACHE;
        }).setValidForMs(h.validForMs());
        for (OffloadHint.Reason r : h.reasons()) {
            b.addReasons(Reason.newBuilder().setCode(r.code()).setDetail(r.detail()));
        }
        Estimates.Builder e = Estimates.newBuilder();
        if (h.estimates().localMs() != null) {
            e.setLocalMs(h.estimates().localMs());
        }
        if (h.estimates().edgeMs() != null) {
            e.setEdgeMs(h.estimates().edgeMs());
        }
        if (h.estimates().cloudMs() != null) {
            e.setCloudMs(h.estimates().cloudMs());
        }
        if (h.estimates().localQuality() != null) {
            e.setLocalQuality(h.estimates().localQuality());
        }
        b.setEstimates(e);
        if (h.maxContextTokens() != null) {
            b.setMaxContextTokens(h.maxContextTokens());
        }
        if (h.retryAfterMs() != null) {
            b.setRetryAfterMs(h.retryAfterMs());
        }
        return b.build();
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
