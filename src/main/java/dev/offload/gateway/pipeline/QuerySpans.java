package dev.offload.gateway.pipeline;

import dev.offload.gateway.cache.CacheHit;
import dev.offload.gateway.generation.GenerationEvent;
import dev.offload.gateway.generation.GenerationRejectedException;
import dev.offload.gateway.generation.StreamFailedException;
import dev.offload.gateway.offload.policy.OffloadHint;
import dev.offload.gateway.privacy.Sensitivity;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.smallrye.mutiny.Multi;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The stage spans of one {@code /v1/query} (kind INTERNAL), children of the request's server
 * span whichever thread a stage runs on: each names its parent explicitly, the trace context
 * {@link QueryContext#trace} captured where the query began, so the worker pool's hop needs no
 * context propagation. {@link #EMBED} → {@link #CACHE} → {@link #RETRIEVE} → {@link #DECIDE} →
 * {@link #GENERATE}; the GenAI client span of each backend call nests under {@link #GENERATE}
 * (the generator takes its parent from the context current when it is called, which is the
 * generation span's).
 *
 * <p>Attributes are outcomes and counts (cache result and similarity, hits, target and reason
 * codes, effective sensitivity, tier, fallback reason); never the question, the history, a
 * document's text, title or id, or a reason's free-text detail.
 *
 * <p>Thread-safe. With the SDK disabled (the default) the tracer is a no-op: a span costs a few
 * allocations and no attribute is computed ({@link Span#isRecording()} is false).
 */
final class QuerySpans {
    static final String EMBED = "query.embed";
    static final String CACHE = "query.cache";
    static final String RETRIEVE = "query.retrieve";
    static final String DECIDE = "query.decide";
    static final String GENERATE = "query.generate";

    static final AttributeKey<String> CACHE_RESULT = AttributeKey.stringKey("gateway.cache.result");
    static final AttributeKey<Double> CACHE_SIMILARITY = AttributeKey.doubleKey("gateway.cache.similarity");
    static final AttributeKey<Long> K = AttributeKey.longKey("gateway.retrieval.k");
    static final AttributeKey<Long> HITS = AttributeKey.longKey("gateway.retrieval.hits");
    static final AttributeKey<String> TARGET = AttributeKey.stringKey("gateway.offload.target");
    static final AttributeKey<List<String>> REASONS = AttributeKey.stringArrayKey("gateway.offload.reasons");
    static final AttributeKey<String> SENSITIVITY = AttributeKey.stringKey("gateway.sensitivity");
    static final AttributeKey<String> SERVED_BY = AttributeKey.stringKey("gateway.served_by");
    static final AttributeKey<String> FALLBACK_REASON = AttributeKey.stringKey("gateway.fallback_reason");
    static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey("gateway.attempts");
    static final AttributeKey<Boolean> COALESCED = AttributeKey.booleanKey("gateway.coalesced");
    static final AttributeKey<Boolean> CANCELLED = AttributeKey.booleanKey("gateway.cancelled");
    static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

    private final Tracer tracer;

    QuerySpans(OpenTelemetry openTelemetry) {
        this.tracer = (openTelemetry == null ? OpenTelemetry.noop() : openTelemetry).getTracer("dev.offload.gateway.pipeline");
    }

    /** Runs one synchronous stage inside its span; {@code outcome} adds the attributes once it has run. */
    void stage(String name, QueryContext ctx, Consumer<QueryContext> stage, Consumer<Span> outcome) {
        Span span = tracer.spanBuilder(name).setParent(ctx.trace).setSpanKind(SpanKind.INTERNAL).startSpan();
        try {
            stage.accept(ctx);
            if (span.isRecording()) {
                outcome.accept(span);
            }
        } catch (RuntimeException e) {
            failed(span, "internal", e);
            throw e;
        } finally {
            span.end();
        }
    }

    /** Runs one synchronous stage inside a span without attributes of its own. */
    void stage(String name, QueryContext ctx, Consumer<QueryContext> stage) {
        stage(name, ctx, stage, s -> {
        });
    }

    static void cacheLooked(Span span, QueryContext ctx) {
        CacheHit hit = ctx.cacheHit;
        span.setAttribute(CACHE_RESULT, ctx.asked == Sensitivity.RESTRICTED ? "skipped"
                : hit == null ? "miss" : hit.exact() ? "exact_hit" : "semantic_hit");
        if (hit != null) {
            span.setAttribute(CACHE_SIMILARITY, hit.similarity());
        }
    }

    static void retrieved(Span span, QueryContext ctx) {
        span.setAttribute(K, (long) ctx.k);
        span.setAttribute(HITS, (long) ctx.hits.size());
    }

    static void decided(Span span, QueryContext ctx) {
        OffloadHint hint = ctx.hint;
        span.setAttribute(TARGET, hint.target().name());
        List<String> codes = new ArrayList<>(hint.reasons().size());
        for (OffloadHint.Reason r : hint.reasons()) {
            codes.add(r.code()); // the code only: a reason's detail is prose
        }
        span.setAttribute(REASONS, codes);
        span.setAttribute(SENSITIVITY, (ctx.level != null ? ctx.level : ctx.asked).wireName());
    }

    /**
     * The generation stage: its span starts when the answer stream is subscribed and is current
     * while {@code generation} is called (so the backend calls' spans are its children); it ends
     * with the stream: served by which tier, after which fallback, or the failure's reason, or
     * cancelled when the device left.
     */
    Multi<GenerationEvent> generation(QueryContext ctx, Supplier<Multi<GenerationEvent>> generation) {
        Span span = tracer.spanBuilder(GENERATE).setParent(ctx.trace).setSpanKind(SpanKind.INTERNAL).startSpan();
        Multi<GenerationEvent> events;
        try (Scope ignored = ctx.trace.with(span).makeCurrent()) {
            events = generation.get();
        } catch (RuntimeException e) {
            failed(span, "internal", e);
            span.end();
            throw e;
        }
        if (!span.isRecording()) {
            return events;
        }
        return events.onItem().invoke(e -> {
            if (e instanceof GenerationEvent.Completed c) {
                span.setAttribute(SERVED_BY, c.servedBy());
                span.setAttribute(ATTEMPTS, (long) c.attempts());
                if (c.fallbackReason() != null) {
                    span.setAttribute(FALLBACK_REASON, c.fallbackReason());
                }
                if (c.coalesced()) {
                    span.setAttribute(COALESCED, true);
                }
            }
        }).onTermination().invoke((failure, cancelled) -> {
            if (failure != null) {
                failed(span, reason(failure), failure);
            } else if (cancelled) {
                span.setAttribute(CANCELLED, true);
            }
            span.end();
        });
    }

    /** The reason codes the device sees; the exception's class, never its message (it may quote a backend's body). */
    private static String reason(Throwable f) {
        if (f instanceof GenerationRejectedException r) {
            return r.reason();
        }
        if (f instanceof StreamFailedException s) {
            return "mid_stream_" + s.reason();
        }
        if (f instanceof dev.offload.gateway.generation.BackendRefusedException) {
            return "backend_refused";
        }
        if (f instanceof QueryFailedException q) {
            return q.reason();
        }
        return "internal";
    }

    private static void failed(Span span, String reason, Throwable cause) {
        if (span.isRecording()) {
            span.setAttribute(ERROR_TYPE, reason);
            span.setStatus(StatusCode.ERROR, reason + " (" + cause.getClass().getSimpleName() + ")");
        }
    }
}
